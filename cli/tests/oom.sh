#!/usr/bin/env bash
# Out of memory fails the run with a message and exit 1, under an
# address-space limit (ulimit -v, as some batch systems set it), and leaves
# no file: not a crash, not a partial output.
#
# The claim is a star ring of 4001 vertices, each edge crossing most others
# (some 8 million crossings). Its repair (the integer arrangement of its
# rings, validity.c) needs about 4 GB; the demo's nature layer, under the
# same limit, must still succeed, so the limit is not simply too low for the
# tool to start. (Until the repair was stapel's own, GEOS MakeValid ran out of
# memory here.) Last, that GEOS's operator new is libstdc++'s, so that GEOS
# gets std::bad_alloc instead of mimalloc's abort (see the end).
#
#   oom.sh STAPEL SCRATCH
set -uo pipefail
stapel=$(readlink -f "$1"); scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=/usr/bin/python3
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
rm -f "$scratch"/*.gpkg "$scratch"/.*.tmp.gpkg*

"$py" - "$scratch/star.gpkg" <<'PY' || exit 2
import math, sys
from osgeo import ogr, osr
ogr.UseExceptions()
n = 4001
ds = ogr.GetDriverByName('GPKG').CreateDataSource(sys.argv[1])
srs = osr.SpatialReference(); srs.ImportFromEPSG(28992)
lyr = ds.CreateLayer('claims', srs, ogr.wkbPolygon)
pts = []
for i in range(n + 1):
    a = 2 * math.pi * ((i * (n // 2 - 1)) % n) / n
    pts.append('%.3f %.3f' % (150000 + 5000 * math.cos(a), 450000 + 5000 * math.sin(a)))
f = ogr.Feature(lyr.GetLayerDefn())
f.SetGeometry(ogr.CreateGeometryFromWkt('POLYGON((' + ','.join(pts) + '))'))
lyr.CreateFeature(f)
ds = None
PY

limit=1500000 # KiB
fail=0
(ulimit -v $limit; "$stapel" stack -q --threads 1 -o "$scratch/demo.gpkg" \
  --layer "nature=$root/testdata/demo/nature.shp") 2>"$scratch/demo.err"
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: the demo under ulimit -v $limit: exit $rc"; cat "$scratch/demo.err"; fail=1
fi

(ulimit -v $limit; "$stapel" stack -q --threads 1 -o "$scratch/star-out.gpkg" \
  --layer "nature=$scratch/star.gpkg") 2>"$scratch/star.err"
rc=$?
if [ $rc -ne 1 ]; then
  echo "FAIL: the star under ulimit -v $limit: exit $rc, want 1"; fail=1
fi
if ! grep -q "^stapel: stack: .*star.gpkg: layer claims: feature 1: .*out of memory" "$scratch/star.err"; then
  echo "FAIL: no message naming the source and the lack of memory:"; cat "$scratch/star.err"; fail=1
fi
if ls -a "$scratch" | grep -q 'tmp\.gpkg\|star-out\.gpkg'; then
  echo "FAIL: output or temporary file left:"; ls -a "$scratch"; fail=1
fi
# And out of memory inside GEOS: its operator new must be libstdc++'s, which
# throws std::bad_alloc (GEOS turns it into an error, stapel into a message),
# not mimalloc's, which aborts (cli/oom.cc, the link order in cli/meson.build).
# No quick input makes GEOS itself run out of memory any more, so ask the
# dynamic linker where GEOS's calls of operator new go (every symbol bound
# at start with LD_BIND_NOW). With mimalloc first it says libmimalloc.
bind=$(LD_BIND_NOW=1 LD_DEBUG=bindings "$stapel" --version 2>&1 >/dev/null |
       grep "binding file [^ ]*libgeos[^ ]* .*normal symbol \`_Znwm'" | head -n 1)
case "$bind" in
  *"to "*libstdc++*) ;;
  *) echo "FAIL: GEOS's operator new is not libstdc++'s: ${bind:-no binding of _Znwm for libgeos}"
     fail=1 ;;
esac

[ $fail -eq 0 ] && echo "ok: out of memory is a failure with a message"
exit $fail
