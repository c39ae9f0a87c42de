#!/bin/bash
# check_library.sh - the library as a program of its own uses it
# (docs/LIBRARY.md): the example engine/examples/claimed.c, as built here and
# as built against an installed copy through pkg-config, prints each
# province's area, claimed area and conflict area as 'stapel summary' gives
# them for the same job.
#
#     check_library.sh BUILD_DIR SOURCE_DIR STAPEL SCRATCH
set -euo pipefail
build=$1 src=$2 stapel=$3 scratch=$4
demo=$src/testdata/demo
rm -rf "$scratch"
mkdir -p "$scratch"
fail=0
layers=(nature="$demo/nature.shp" water="$demo/water.gpkg" wind="$demo/wind.geojson"
        housing="$demo/claims.gpkg|layername=housing")

# What the example prints, from the tool's summary of the same job.
"$stapel" stack -q -o "$scratch/demo.gpkg" --provinces "$demo/provinces.gpkg" \
    $(printf -- '--layer %s ' "${layers[@]}")
"$stapel" summary "$scratch/demo.gpkg" --format csv |
    awk -F, 'NR > 1 && $1 != "novex" {
        printf "%s %.3f %.3f %.3f %.3f\n", $2, $3 / 1e6, $4 / 1e6, $5, $9 / 1e6 }' \
    > "$scratch/want.txt"

check() { # name, example binary
    if ! "$2" "$demo/provinces.gpkg" "${layers[@]}" > "$scratch/$1.out" 2> "$scratch/$1.err"; then
        echo "FAIL $1: exit $?: $(cat "$scratch/$1.err")"
        fail=1
        return
    fi
    awk 'NR > 2 { print $1, $2, $3, $4, $5 }' "$scratch/$1.out" > "$scratch/$1.txt"
    if [ -s "$scratch/want.txt" ] && cmp -s "$scratch/want.txt" "$scratch/$1.txt"; then
        echo "ok   $1: $(wc -l < "$scratch/$1.txt") zones as the summary has them"
    else
        echo "FAIL $1: the example's zones differ from the summary's:"
        diff "$scratch/want.txt" "$scratch/$1.txt" || true
        fail=1
    fi
}

check built "$build/engine/claimed"

# Installed: the header, the static library, stapel.pc and the built-in
# rules as CSV (to start a rules file from), and nothing else of the source
# tree.
dest=$scratch/dest
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet > "$scratch/install.log" 2>&1 ||
    { echo "FAIL install: $(tail -5 "$scratch/install.log")"; exit 1; }
pc=$(find "$dest" -name stapel.pc | head -1)
if [ -z "$pc" ]; then
    echo "FAIL install: no stapel.pc under $dest"
    exit 1
fi
rules=$(find "$dest" -path '*/share/stapel/rules/novex-default.csv' | head -1)
if [ -z "$rules" ] || ! cmp -s "$rules" "$src/docs/rules/novex-default.csv"; then
    echo "FAIL install: no copy of docs/rules/novex-default.csv as share/stapel/rules/novex-default.csv under $dest"
    exit 1
fi
echo "ok   install: ${rules#"$dest"}"
# The format of a rules file, which the warning of unrated pairs points to.
doc=$(find "$dest" -path '*/share/doc/stapel/RULES.md' | head -1)
if [ -z "$doc" ] || ! cmp -s "$doc" "$src/docs/RULES.md"; then
    echo "FAIL install: no copy of docs/RULES.md as share/doc/stapel/RULES.md under $dest"
    exit 1
fi
echo "ok   install: ${doc#"$dest"}"
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs stapel)
cp "$src/engine/examples/claimed.c" "$scratch/claimed.c"
if ! cc -std=c11 -Wall -Wextra -Werror "$scratch/claimed.c" -o "$scratch/claimed" $flags \
        > "$scratch/cc.log" 2>&1; then
    echo "FAIL the example does not build against the installed library: $(cat "$scratch/cc.log")"
    exit 1
fi
check installed "$scratch/claimed"
exit $fail
