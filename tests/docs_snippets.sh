#!/usr/bin/env bash
# docs_snippets.sh TOP CC: every C snippet of docs/integration.md compiles
# against the public headers. A "<!-- snippet: top -->" line before a block
# puts it at file scope; "<!-- snippet: SIGNATURE { DECLS -->" wraps it in that
# function (closed with "return 0; }"). The VMM's own helpers are declared in
# tests/docs_snippets.h.
set -euo pipefail
top=$1 cc=$2
if ! grep -Eq 'pvt_xen_vcpu_take[[:space:]]*\(' "$top/include/pvtime/xentimer.h"; then
	echo "SKIP: include/pvtime/xentimer.h predates the engine API docs/integration.md uses"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
doc=$top/docs/integration.md
{
	echo "#include \"docs_snippets.h\""
	awk '/^<!-- snippet: / {
		ctx = $0; sub(/^<!-- snippet: /, "", ctx); sub(/ -->$/, "", ctx)
		want = 1; next
	     }
	     want && /^```c/ { code = 1; want = 0; if (ctx != "top") print ctx; next }
	     code && /^```/ { code = 0; if (ctx != "top") print "return 0; }"; n++; next }
	     code { print }
	     END { if (!n) exit 1 }' "$doc"
} >"$tmp/snippets.c" || { echo "FAIL: no marked snippets in docs/integration.md"; exit 1; }
blocks=$(grep -c '^```c' "$doc")
marked=$(grep -c '^<!-- snippet: ' "$doc")
[ "$blocks" = "$marked" ] ||
	{ echo "FAIL: $blocks C blocks in docs/integration.md but $marked snippet markers"; exit 1; }
if ! "$cc" -std=gnu11 -Wall -Wextra -Werror -Wno-unused-function -Wno-unused-variable \
	-Wno-unused-but-set-variable -fsyntax-only -I"$top/include" -I"$top/tests" \
	"$tmp/snippets.c" 2>"$tmp/cc.log"; then
	echo "FAIL: a snippet of docs/integration.md does not compile:"
	cat "$tmp/cc.log"
	exit 1
fi
echo "PASS: the $blocks C snippets of docs/integration.md compile against include/pvtime/"
