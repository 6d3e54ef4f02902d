#!/usr/bin/env bash
# docs_self_contained.sh TOP: the repository stands alone. No tracked file may
# point at the team's notes outside it (the design file or the shared folder);
# the upstream patch is cited by its title and commit id; the design text and
# the integration guide it points to exist.
set -euo pipefail
top=$1
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files)
else
	# A release tarball has no .git: every file but build trees.
	files=$(find . -type f -not -path './build*' -not -path './.git/*' | sed 's|^\./||')
fi
# Built from pieces so this script does not match itself.
design='DESIGN''\.md'
outside='\.\./''shared|shared/''seed|shared/''DESIGN'
bad=$(printf '%s\n' "$files" | while read -r f; do
	[ -f "$f" ] || continue
	grep -IHnE "$design|$outside" -- "$f" || true
done)
if [ -n "$bad" ]; then
	echo "FAIL: files point outside the repository (say the fact, or cite docs/):"
	echo "$bad"
	exit 1
fi
for f in docs/design.md docs/integration.md doc/libpvtime.3; do
	[ -s "$f" ] || { echo "FAIL: $f missing"; exit 1; }
done
grep -q '451a707813ae' README.md || { echo "FAIL: README does not cite the upstream commit 451a707813ae"; exit 1; }
grep -q 'improve accuracy of Xen timers' README.md ||
	{ echo "FAIL: README does not cite the upstream patch by its title"; exit 1; }
# Relative links in the Markdown docs must resolve inside the repository.
for md in README.md docs/*.md; do
	dir=$(dirname "$md")
	{ grep -oE '\]\([^)#]+' "$md" || true; } | sed 's/^](//' | while read -r link; do
		case $link in http://*|https://*|mailto:*) continue ;; esac
		[ -e "$dir/$link" ] || { echo "FAIL: $md links to $link, which does not exist"; exit 1; }
		real=$(cd "$dir" && realpath -m "$link")
		case $real in "$(realpath "$top")"/*) ;; *) echo "FAIL: $md links outside: $link"; exit 1 ;; esac
	done
done
echo "PASS: no file points outside the repository; docs present; upstream patch cited"
