# Sourced by the CLI tests: svg_check FILE fails the test (through its fail())
# unless FILE is well-formed XML whose root is an SVG element (xmllint,
# from libxml2-utils: scripts/deps.sh installs it).
svg_check() {
	local f=$1 root
	if ! command -v xmllint >/dev/null; then
		fail "xmllint not installed (libxml2-utils, scripts/deps.sh): cannot check $f"
		return
	fi
	if ! xmllint --noout "$f" 2>"$f.xmllint"; then
		fail "$f is not well-formed XML: $(head -3 "$f.xmllint")"
		return
	fi
	root=$(xmllint --xpath 'name(/*)' "$f" 2>/dev/null)
	[ "$root" = svg ] || fail "$f: root element is '$root', not svg"
}
