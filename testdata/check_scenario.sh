#!/usr/bin/env bash
# Stack a scenario and check it with the independent oracle, and check that
# --threads 1 and --threads 2 give identical features, and that GDAL's
# GeoPackage validator finds nothing wrong with the output.
#
#   check_scenario.sh STAPEL SCRATCH demo
#   check_scenario.sh STAPEL SCRATCH national SCALE SEED
#   check_scenario.sh STAPEL SCRATCH adversarial   (reliability/make_adversarial.py)
set -euo pipefail
stapel=$(readlink -f "$1"); scratch=$2; kind=$3
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
mkdir -p "$scratch"
if [ "$kind" = demo ]; then
  manifest=$here/demo/scenario.json
  name=demo
elif [ "$kind" = adversarial ]; then
  name=adversarial
  rm -rf "$scratch/$name"
  "$py" "$here/reliability/make_adversarial.py" "$scratch/$name"
  manifest=$scratch/$name/scenario.json
else
  scale=$4; seed=$5; name=national-s$scale-seed$seed
  rm -rf "$scratch/$name"
  "$py" "$here/gen_national.py" --scale "$scale" --seed "$seed" --out "$scratch/$name"
  manifest=$scratch/$name/scenario.json
fi
mapfile -t args < <("$py" "$here/scenario_args.py" "$manifest")
out1=$scratch/$name-t1.gpkg; out2=$scratch/$name-t2.gpkg
"$stapel" stack -q --overwrite --threads 1 -o "$out1" "${args[@]}"
"$stapel" stack -q --overwrite --threads 2 -o "$out2" "${args[@]}"
dump() { ogr2ogr -f CSV /vsistdout/ "$1" stack -lco GEOMETRY=AS_WKT; }
if ! cmp -s <(dump "$out1") <(dump "$out2"); then
  echo "FAIL determinism: --threads 1 and --threads 2 differ for $name"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "PASS determinism: --threads 1 and --threads 2 give identical features ($name)"
"$py" "$here/oracle/check_stack.py" --manifest "$manifest" --stack "$out1" --points 2500 --seed "${seed:-7}"
"$py" "$here/oracle/check_summary.py" --manifest "$manifest" --stack "$out1"
"$py" "$here/oracle/check_index.py" "$out1"
# GDAL's GeoPackage validator (python3-gdal): the file follows the standard,
# every geometry blob included; warnings count as errors.
validate() {
  "$py" -m osgeo_utils.samples.validate_gpkg -k --extra --warning-as-error "$1" ||
    { echo "FAIL GeoPackage validation: $1"; exit 1; }
  echo "PASS GeoPackage validation: $(basename "$1")"
}
validate "$out1"
# Small tiles put many faces on seams: the merge across seams must keep every
# invariant too.
out3=$scratch/$name-small-tiles.gpkg
"$stapel" stack -q --overwrite --threads 2 --tile-vertices 1000 -o "$out3" "${args[@]}"
"$py" "$here/oracle/check_stack.py" --manifest "$manifest" --stack "$out3" --points 2500 --seed "${seed:-8}"
