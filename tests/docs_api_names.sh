#!/usr/bin/env bash
# docs_api_names.sh TOP: every pvt_/PVT_ name the documentation uses (README,
# docs/*.md, doc/libpvtime.3) is declared in a public header, so the docs cannot
# drift from the API unnoticed.
set -euo pipefail
top=$1
cd "$top"
if ! grep -Eq 'pvt_xen_vcpu_take[[:space:]]*\(' include/pvtime/xentimer.h; then
	echo "SKIP: include/pvtime/xentimer.h predates the engine API the docs describe"
	exit 77
fi
# roff escapes (\-) and the wildcard PVT_XEN_VCPUOP_* are not names.
names=$(cat README.md docs/*.md doc/libpvtime.3 | sed 's/\\-/-/g' |
	grep -oE '\b(pvt|PVT)_[A-Za-z0-9_]*[A-Za-z0-9]\b' | sort -u)
missing=
for n in $names; do
	grep -qw -- "$n" include/pvtime/*.h || missing="$missing $n"
done
if [ -n "$missing" ]; then
	echo "FAIL: the documentation names what no public header declares:$missing"
	exit 1
fi
echo "PASS: $(echo "$names" | wc -l) pvt_/PVT_ names in the docs, all declared in include/pvtime/"
