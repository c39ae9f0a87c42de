#!/usr/bin/env bash
# A run split into 4 shards and merged gives the same stack as one run: the
# same faces per class and per zone, the same zone summaries, the same
# run_info rows (but for the merged row), and the merged output passes the
# independent oracle (no overlaps, area conservation, point-in-polygon labels).
#
#   check_shards.sh STAPEL SCRATCH SCALE SEED
set -euo pipefail
stapel=$(readlink -f "$1"); scratch=$2; scale=$3; seed=$4
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
dir=$scratch/shards-s$scale-seed$seed
rm -rf "$dir"; mkdir -p "$dir"
"$py" "$here/gen_national.py" --scale "$scale" --seed "$seed" --out "$dir/in" 2>/dev/null
mapfile -t args < <("$py" "$here/scenario_args.py" "$dir/in/scenario.json")
# Small tiles, so that many faces cross shard borders.
"$stapel" stack -q --tile-vertices 3000 -o "$dir/whole.gpkg" "${args[@]}"
for i in 1 2 3 4; do
  "$stapel" stack -q --tile-vertices 3000 --shard "$i/4" -o "$dir/part$i.gpkg" "${args[@]}"
done
"$stapel" merge -q -o "$dir/merged.gpkg" "$dir"/part4.gpkg "$dir"/part2.gpkg "$dir"/part1.gpkg "$dir"/part3.gpkg
"$py" - "$dir/whole.gpkg" "$dir/merged.gpkg" <<'PY'
import sys
from osgeo import ogr
def tables(path):
    ds = ogr.Open(path)
    per_class, per_zone = {}, {}
    faces = 0
    for f in ds.GetLayerByName("stack"):
        faces += 1
        per_class[f["n_themes"]] = per_class.get(f["n_themes"], 0) + f["area_m2"]
        key = (f["province"], f["novex"])
        per_zone[key] = per_zone.get(key, 0) + f["area_m2"]
    summ = {(f["zone_type"], f["zone"]): [f[k] for k in ("area_m2", "claimed_m2", "stacked2_m2",
            "stacked3_m2", "conflict_m2", "kans_m2", "max_themes")] for f in ds.GetLayerByName("zone_summary")}
    conf = {}
    for f in ds.GetLayerByName("conflicts"):
        k = (f["province"], f["novex"], f["theme_a"], f["theme_b"])
        conf[k] = conf.get(k, 0) + f["area_m2"]
    return faces, per_class, per_zone, summ, conf
def run_info(path):
    ds = ogr.Open(path)
    return [(f["key"], f["value"]) for f in ds.GetLayerByName("run_info") if f["key"] != "merged"]
a, b = tables(sys.argv[1]), tables(sys.argv[2])
bad = []
if run_info(sys.argv[1]) != run_info(sys.argv[2]):
    bad.append("run_info %s vs %s" % (run_info(sys.argv[1]), run_info(sys.argv[2])))
def close(x, y):
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y)) + 1e-6
if a[0] != b[0]:
    bad.append("faces %d vs %d" % (a[0], b[0]))
for name, i in (("class", 1), ("zone", 2), ("conflicts", 4)):
    if set(a[i]) != set(b[i]):
        bad.append("%s keys differ: %s" % (name, set(a[i]) ^ set(b[i])))
    for k in set(a[i]) & set(b[i]):
        if not close(a[i][k], b[i][k]):
            bad.append("%s %s: %.6f vs %.6f" % (name, k, a[i][k], b[i][k]))
for k in set(a[3]) | set(b[3]):
    if k not in a[3] or k not in b[3] or not all(close(x, y) for x, y in zip(a[3][k], b[3][k])):
        bad.append("zone_summary %s: %s vs %s" % (k, a[3].get(k), b[3].get(k)))
if bad:
    print("FAIL shards: merged output differs from the whole run:")
    for m in bad[:10]:
        print("  -", m)
    sys.exit(1)
print("PASS shards: %d faces, %d classes, %d zone combinations, %d summary rows, %d conflict groups equal"
      % (a[0], len(a[1]), len(a[2]), len(a[3]), len(a[4])))
PY
"$py" "$here/oracle/check_stack.py" --manifest "$dir/in/scenario.json" --stack "$dir/merged.gpkg" --points 2000 --seed "$seed"
# GDAL's GeoPackage validator (python3-gdal) on a part and on the merge.
for f in "$dir/part1.gpkg" "$dir/merged.gpkg"; do
  "$py" -m osgeo_utils.samples.validate_gpkg -k --extra --warning-as-error "$f" ||
    { echo "FAIL GeoPackage validation: $f"; exit 1; }
  echo "PASS GeoPackage validation: $(basename "$f")"
done
