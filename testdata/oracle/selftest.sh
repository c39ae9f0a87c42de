#!/usr/bin/env bash
# selftest.sh - test the stack oracle (check_stack.py) itself; stapel is not needed.
#
# Builds tiny claim/zone inputs and a correct stack GeoPackage BY HAND (coordinates
# and labels typed below, areas computed on paper), checks that the oracle passes
# it, then corrupts copies and checks that the oracle fails each one on the right
# check. Exit 0 when the oracle behaves, 1 otherwise.
#
#   testdata/oracle/selftest.sh [-v]
set -euo pipefail

PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORACLE="$HERE/check_stack.py"
VERBOSE=0
[ "${1:-}" = "-v" ] && VERBOSE=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oracle-selftest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Relative coordinates (metres) are offset by (100000, 400000) in EPSG:28992.
#
#  claims                                      zones
#   nature:0  A = [0,200]x[0,200]  (shapefile)  province Utrecht    x <= 200
#   nature:1  null geometry: skipped            province Gelderland x >= 200
#   wind:1    B = [100,300]x[100,300] (gpkg)     novex De Peel    [-50,350]x[100,350]
#   wind:2    C = [200,300]x[100,300]            novex Foodvalley = B
#   housing:1 bow-tie (400,0)(500,100)(500,0)(400,100): invalid, repairs to two
#             triangles of 2500 m2 each (they touch at (450,50))
#   housing:2 POLYGON EMPTY: skipped
#
#  faces (the stack a correct overlay must produce)
#   F1 [0,200]x[0,100]    nature:0               Utrecht    -                   20000
#   F2 [0,100]x[100,200]  nature:0               Utrecht    De Peel             10000
#   F3 [100,200]x[100,200] nature:0,wind:1       Utrecht    De Peel;Foodvalley  10000
#   F4 [100,200]x[200,300] wind:1                Utrecht    De Peel;Foodvalley  10000
#   F5 [200,300]x[100,300] wind:1,wind:2         Gelderland De Peel;Foodvalley  20000
#   F6 both triangles      housing:1             Gelderland -                    5000
#  sum of face areas 75000 = union of claims (40000 + 40000 - 10000 + 5000)
#  sum(area x n_claims) 105000 = 40000 + 40000 + 20000 + 5000
"$PY" - "$WORK" <<'EOF'
import json, os, sys
from osgeo import ogr, osr
ogr.UseExceptions()
W = sys.argv[1]
RD = osr.SpatialReference(); RD.ImportFromEPSG(28992)
X0, Y0 = 100000, 400000

def geom(wkt_rel):
    """WKT in relative coordinates -> geometry in RD New."""
    g = ogr.CreateGeometryFromWkt(wkt_rel)
    def shift(h):
        for i in range(h.GetGeometryCount()):
            shift(h.GetGeometryRef(i))
        for i in range(h.GetPointCount()):
            x, y = h.GetPoint_2D(i)
            h.SetPoint_2D(i, x + X0, y + Y0)
    shift(g)
    return g

def box(x0, y0, x1, y1):
    return "POLYGON((%d %d,%d %d,%d %d,%d %d,%d %d))" % (x0, y0, x0, y1, x1, y1, x1, y0, x0, y0)

def layer(path, name, gtype, fields, rows, driver="GPKG"):
    drv = ogr.GetDriverByName(driver)
    ds = drv.Open(path, 1) if os.path.exists(path) else drv.CreateDataSource(path)
    lyr = ds.CreateLayer(name, RD, gtype)
    for fname, ftype in fields:
        lyr.CreateField(ogr.FieldDefn(fname, ftype))
    for attrs, wkt in rows:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in attrs.items():
            if v is not None:
                f.SetField(k, v)
        if wkt is not None:
            f.SetGeometry(geom(wkt) if isinstance(wkt, str) else wkt)
        lyr.CreateFeature(f)

S = ogr.OFTString
layer(W + "/nature.shp", "nature", ogr.wkbPolygon, [("naam", S)], [
    ({"naam": "A"}, box(0, 0, 200, 200)),                 # fid 0
    ({"naam": "null"}, None)], driver="ESRI Shapefile")   # fid 1: no geometry
layer(W + "/wind.gpkg", "wind", ogr.wkbPolygon, [("naam", S)], [
    ({"naam": "B"}, box(100, 100, 300, 300)),             # fid 1
    ({"naam": "C"}, box(200, 100, 300, 300))])            # fid 2
layer(W + "/claims.gpkg", "housing", ogr.wkbPolygon, [("naam", S)], [
    ({"naam": "bowtie"}, "POLYGON((400 0,500 100,500 0,400 100,400 0))"),  # fid 1
    ({"naam": "empty"}, "POLYGON EMPTY")])                                 # fid 2
layer(W + "/claims.gpkg", "other", ogr.wkbPolygon, [], [])  # makes claims.gpkg multi-layer
layer(W + "/provinces.gpkg", "provinces", ogr.wkbPolygon, [("naam", S)], [
    ({"naam": "Utrecht"}, box(-1000, -1000, 200, 1000)),
    ({"naam": "Gelderland"}, box(200, -1000, 1000, 1000))])
layer(W + "/novex.gpkg", "novex", ogr.wkbPolygon, [("naam", S)], [
    ({"naam": "De Peel"}, box(-50, 100, 350, 350)),
    ({"naam": "Foodvalley"}, box(100, 100, 300, 300))])
with open(W + "/scenario.json", "w") as fh:
    json.dump({"crs": "EPSG:28992",
               "layers": [{"theme": "nature", "source": "nature.shp"},
                          {"theme": "wind", "source": "wind.gpkg"},
                          {"theme": "housing", "source": "claims.gpkg|layername=housing"}],
               "provinces": {"source": "provinces.gpkg", "field": "naam"},
               "novex": {"source": "novex.gpkg", "field": "naam"}}, fh, indent=1)

DP, DPF = "De Peel", "De Peel;Foodvalley"
faces = [  # n_claims, n_themes, themes, claim_ids, province, novex, area_m2, geometry
    (1, 1, "nature", ["nature:0"], "Utrecht", None, 20000, box(0, 0, 200, 100)),
    (1, 1, "nature", ["nature:0"], "Utrecht", DP, 10000, box(0, 100, 100, 200)),
    (2, 2, "nature+wind", ["nature:0", "wind:1"], "Utrecht", DPF, 10000, box(100, 100, 200, 200)),
    (1, 1, "wind", ["wind:1"], "Utrecht", DPF, 10000, box(100, 200, 200, 300)),
    (2, 1, "wind", ["wind:1", "wind:2"], "Gelderland", DPF, 20000, box(200, 100, 300, 300)),
    (1, 1, "housing", ["housing:1"], "Gelderland", None, 5000,
     "MULTIPOLYGON(((400 0,400 100,450 50,400 0)),((450 50,500 100,500 0,450 50)))"),
]
rows = []
for nc, nt, th, ids, pr, nv, area, wkt in faces:
    g = ogr.ForceToMultiPolygon(geom(wkt))
    assert abs(g.GetArea() - area) < 1e-9, (wkt, g.GetArea(), area)
    rows.append(({"n_claims": nc, "n_themes": nt, "themes": th, "claim_ids": json.dumps(ids),
                  "province": pr, "novex": nv, "area_m2": float(area)},
                 g))
I, R = ogr.OFTInteger, ogr.OFTReal
layer(W + "/good.gpkg", "stack", ogr.wkbMultiPolygon,
      [("n_claims", I), ("n_themes", I), ("themes", S), ("claim_ids", S),
       ("province", S), ("novex", S), ("verdict", S), ("conflict_pairs", S), ("area_m2", R)],
      rows)
EOF

fails=0
run() {  # run NAME EXPECTED_RC [FAILING-CHECK ...] -- ORACLE-ARGS...
    # passes when the exit status is EXPECTED_RC and exactly the named checks FAIL
    local name=$1 want=$2; shift 2
    local checks=()
    while [ "$1" != "--" ]; do checks+=("$1"); shift; done
    shift
    local out rc=0
    out=$("$PY" "$ORACLE" "$@" 2>"$WORK/stderr") || rc=$?
    local got want_set ok=1
    got=$(sed -n 's/^FAIL \([^ ]*\) .*/\1/p' <<<"$out" | sort | tr '\n' ' ')
    want_set=$(printf '%s\n' "${checks[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
    [ "$rc" = "$want" ] || ok=0
    [ "$got" = "$want_set" ] || ok=0
    if [ "$want" != 2 ]; then
        grep -q "^oracle: [0-9]* passed, ${#checks[@]} failed$" <<<"$out" || ok=0
    fi
    if [ $ok = 1 ]; then
        echo "ok   $name (exit $rc${checks[*]:+; fails: ${checks[*]}})"
    else
        echo "BAD  $name: exit $rc (want $want); FAIL lines: ${got:-none} (want: ${want_set:-none})"
        fails=$((fails + 1))
    fi
    if [ $ok = 0 ] || [ $VERBOSE = 1 ]; then
        # shellcheck disable=SC2001
        sed 's/^/       | /' <<<"$out"
        sed 's/^/       ! /' "$WORK/stderr"
    fi
}

M=(--manifest "$WORK/scenario.json" --points 400 --seed 7)

# 1. the hand-made stack is correct
run "correct stack (manifest)" 0 -- "${M[@]}" --stack "$WORK/good.gpkg"
run "correct stack (--layer flags)" 0 -- --stack "$WORK/good.gpkg" --points 400 \
    --layer nature="$WORK/nature.shp" --layer wind="$WORK/wind.gpkg" \
    --layer "housing=$WORK/claims.gpkg|layername=housing" \
    --provinces "$WORK/provinces.gpkg" --novex "$WORK/novex.gpkg" \
    --province-field naam --novex-field naam

# 2. corrupted copies: each must fail, on the named checks
corrupt() {  # corrupt NAME SQL...
    local name=$1; shift
    cp "$WORK/good.gpkg" "$WORK/$name.gpkg"
    for sql in "$@"; do
        ogrinfo -q "$WORK/$name.gpkg" -sql "$sql" >/dev/null
    done
}
corrupt wrong_n_claims "UPDATE stack SET n_claims = 3 WHERE fid = 5"
run "wrong n_claims on one face" 1 5-attributes 3-multiplicity 4-points 4-face-labels -- \
    "${M[@]}" --stack "$WORK/wrong_n_claims.gpkg"

corrupt missing_face "DELETE FROM stack WHERE fid = 4"
run "missing face" 1 2-coverage 2-outline 3-multiplicity 3-per-claim 4-points -- \
    "${M[@]}" --stack "$WORK/missing_face.gpkg"

corrupt duplicate_face "INSERT INTO stack (geom, n_claims, n_themes, themes, claim_ids,
    province, novex, area_m2) SELECT geom, n_claims, n_themes, themes, claim_ids, province,
    novex, area_m2 FROM stack WHERE fid = 3"
run "overlapping duplicate face" 1 2-coverage 2-overlap 3-multiplicity 3-per-claim \
    4-points -- \
    "${M[@]}" --stack "$WORK/duplicate_face.gpkg"

# a consistent but wrong label: only the point check can see it
corrupt wrong_claim "UPDATE stack SET claim_ids = '[\"wind:2\"]' WHERE fid = 4"
run "wrong claim id, consistent counts" 1 3-per-claim 4-points 4-face-labels -- "${M[@]}" --stack "$WORK/wrong_claim.gpkg"

corrupt wrong_novex "UPDATE stack SET novex = 'De Peel' WHERE fid = 5"
run "wrong novex tag" 1 4-points 4-face-labels -- "${M[@]}" --stack "$WORK/wrong_novex.gpkg"

corrupt wrong_province "UPDATE stack SET province = NULL WHERE fid = 6"
run "missing province tag" 1 4-points 4-face-labels -- "${M[@]}" --stack "$WORK/wrong_province.gpkg"

corrupt wrong_themes "UPDATE stack SET themes = 'wind+nature' WHERE fid = 3"
run "themes not sorted" 1 5-attributes 4-points 4-face-labels -- "${M[@]}" --stack "$WORK/wrong_themes.gpkg"

corrupt wrong_area "UPDATE stack SET area_m2 = 20001 WHERE fid = 1"
run "area_m2 off by 1 m2" 1 1-geometry -- "${M[@]}" --stack "$WORK/wrong_area.gpkg"

# a face grown by a shifted copy of another: overlap and false positives
corrupt shifted_face "UPDATE stack SET geom = (SELECT geom FROM stack WHERE fid = 6) WHERE fid = 1" \
    "UPDATE stack SET area_m2 = 5000 WHERE fid = 1"
run "face replaced by a copy of another" 1 2-coverage 2-outline 2-overlap 3-multiplicity \
    3-per-claim 4-points 4-face-labels -- \
    "${M[@]}" --stack "$WORK/shifted_face.gpkg"

# a face split in two with equal labels: a valid partition, but not dissolved
cp "$WORK/good.gpkg" "$WORK/split_face.gpkg"
"$PY" - "$WORK/split_face.gpkg" <<'EOF2'
import sys
from osgeo import ogr
ogr.UseExceptions()
ds = ogr.Open(sys.argv[1], 1)
lyr = ds.GetLayer("stack")
f = lyr.GetFeature(5)  # F5 [200,300]x[100,300] -> two 100x100 halves
south = ogr.CreateGeometryFromWkt(
    "MULTIPOLYGON(((100200 400100,100200 400200,100300 400200,100300 400100,100200 400100)))")
north = ogr.CreateGeometryFromWkt(
    "MULTIPOLYGON(((100200 400200,100200 400300,100300 400300,100300 400200,100200 400200)))")
g = f.Clone()
f.SetGeometry(south); f.SetField("area_m2", 10000.0); lyr.SetFeature(f)
g.SetFID(-1); g.SetGeometry(north); g.SetField("area_m2", 10000.0); lyr.CreateFeature(g)
ds = None
EOF2
run "face split in two, without --dissolved" 0 -- "${M[@]}" --stack "$WORK/split_face.gpkg"
run "face split in two, with --dissolved" 1 6-dissolved -- "${M[@]}" --dissolved \
    --stack "$WORK/split_face.gpkg"
run "correct stack, with --dissolved" 0 -- "${M[@]}" --dissolved --stack "$WORK/good.gpkg"

# a vertex 1 mm off. F3's right edge (x = 200, along F5) gets vertices at
# y = 160, 150 and 140, and the one at 150 moves 1 mm: into F5, the faces
# overlap by a triangle of 0.5 x 0.001 x 20 = 0.01 m2; away from F5, they
# leave a hole of 0.01 m2 between them, 40 m inside claim B. Either is far
# below the 1e-6 of the area sums (0.075 m2 of 75000), which miss it.
reshape() {  # reshape NAME FID WKT: face FID gets geometry WKT (relative metres)
    cp "$WORK/good.gpkg" "$WORK/$1.gpkg"
    "$PY" - "$WORK/$1.gpkg" "$2" "$3" <<'EOF2'
import sys
from osgeo import ogr
ogr.UseExceptions()
ds = ogr.Open(sys.argv[1], 1)
lyr = ds.GetLayer("stack")
f = lyr.GetFeature(int(sys.argv[2]))
g = ogr.CreateGeometryFromWkt(sys.argv[3])
ring = g.GetGeometryRef(0)
for i in range(ring.GetPointCount()):
    x, y = ring.GetPoint_2D(i)
    ring.SetPoint_2D(i, x + 100000, y + 400000)
g = ogr.ForceToMultiPolygon(g)
assert g.IsValid()
f.SetGeometry(g)
f.SetField("area_m2", g.GetArea())
lyr.SetFeature(f)
ds = None
EOF2
}
sliver() {  # sliver NAME X: F3 [100,200]x[100,200] with its vertex (200, 150) at (X, 150)
    reshape "$1" 3 "POLYGON((100 100,100 200,200 200,200 160,$2 150,200 140,200 100,100 100))"
}
sliver sliver_overlap 200.001
run "a vertex 1 mm into the neighbour face" 1 2-overlap -- "${M[@]}" \
    --stack "$WORK/sliver_overlap.gpkg"
sliver sliver_gap 199.999
run "a vertex 1 mm away from the neighbour face" 1 2-gaps 2-outline -- "${M[@]}" \
    --stack "$WORK/sliver_gap.gpkg"

# Gaps open to the outside of the claims: the union of the faces has no hole,
# so 2-gaps passes them, and they are too small for the area sums (a 0.075 m2
# limit on 75000 m2; 3-per-claim allows 0.84 m2 for nature:0) and too thin for
# the points (skipped within 1 cm of a boundary). Only 2-outline sees them.
# F2 [0,100]x[100,200] loses [0,1]x[100,100.001]: a sliver 1 mm wide and 1 m
# long between F1 and F2, open to the claims' outer edge at x = 0.
reshape open_sliver 2 "POLYGON((0 100.001,0 200,100 200,100 100,1 100,1 100.001,0 100.001))"
run "a sliver 1 mm x 1 m between faces, open to the outside" 1 2-outline -- "${M[@]}" \
    --stack "$WORK/open_sliver.gpkg"
# F1 [0,200]x[0,100] pulls its edge along the claims' outer edge y = 0 back
# by 4 mm over 10 m (0.04 m2), beyond the 3 mm snap rounding may move it ...
reshape pulled_back 1 "POLYGON((0 0,0 100,200 100,200 0,105 0,105 0.004,95 0.004,95 0,0 0))"
run "a face edge pulled back 4 mm from the claims' edge" 1 2-outline -- "${M[@]}" \
    --stack "$WORK/pulled_back.gpkg"
# ... but 1 mm is what snap rounding does (up to 2.62 x the 1 mm grid)
reshape pulled_back_1mm 1 "POLYGON((0 0,0 100,200 100,200 0,110 0,110 0.001,90 0.001,90 0,0 0))"
run "a face edge pulled back 1 mm, within snap rounding" 0 -- "${M[@]}" \
    --stack "$WORK/pulled_back_1mm.gpkg"

# A sliver that runs into a hole of the claims: claim x:1 = [0,100]x[0,100]
# with the hole [40,60]x[40,60] (9600 m2), cut by x = 50 into two faces of
# 4800 m2 (equal labels: a valid stack, not dissolved). The right face then
# leaves [50,50.001]x[60,61] open, 1 mm x 1 m, into the hole: the hole of the
# union of the faces is the claims' own hole, so 2-gaps passes it.
"$PY" - "$WORK" <<'EOF2'
import json, sys
from osgeo import ogr, osr
ogr.UseExceptions()
W = sys.argv[1]
RD = osr.SpatialReference(); RD.ImportFromEPSG(28992)

def geom(wkt):  # relative metres -> RD New
    g = ogr.CreateGeometryFromWkt(wkt)
    for k in range(g.GetGeometryCount()):
        r = g.GetGeometryRef(k)
        for i in range(r.GetPointCount()):
            x, y = r.GetPoint_2D(i)
            r.SetPoint_2D(i, x + 100000, y + 400000)
    return g

def write(path, name, fields, rows):
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    lyr = ds.CreateLayer(name, RD, ogr.wkbMultiPolygon)
    for fname, ftype in fields:
        lyr.CreateField(ogr.FieldDefn(fname, ftype))
    for attrs, wkt in rows:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in attrs.items():
            f.SetField(k, v)
        g = ogr.ForceToMultiPolygon(geom(wkt))
        assert g.IsValid() or path.endswith(("/cut_w.gpkg", "/flat_z.gpkg", "/spiked_tri.gpkg"))
        if "area_m2" in attrs:  # typed: checked against the geometry
            assert abs(g.GetArea() - attrs["area_m2"]) < 1e-6, (wkt, g.GetArea())
        elif "n_claims" in attrs:  # a face whose area is not round
            f.SetField("area_m2", g.GetArea())
        f.SetGeometry(g)
        lyr.CreateFeature(f)

write(W + "/holed.gpkg", "x", [], [
    ({}, "POLYGON((0 0,100 0,100 100,0 100,0 0),(40 40,40 60,60 60,60 40,40 40))")])
S, I, R = ogr.OFTString, ogr.OFTInteger, ogr.OFTReal
fields = [("n_claims", I), ("n_themes", I), ("themes", S), ("claim_ids", S),
          ("province", S), ("novex", S), ("verdict", S), ("conflict_pairs", S), ("area_m2", R)]
left = "POLYGON((0 0,50 0,50 40,40 40,40 60,50 60,50 100,0 100,0 0))"
right = "POLYGON((50 0,100 0,100 100,50 100,50 60,60 60,60 40,50 40,50 0))"
right_sliver = ("POLYGON((50 0,100 0,100 100,50 100,50 61,50.001 61,50.001 60,60 60,60 40,"
                "50 40,50 0))")
for name, rwkt, rarea in (("holed_good", right, 4800.0),
                          ("holed_sliver", right_sliver, 4800.0 - 0.001)):
    a = {"n_claims": 1, "n_themes": 1, "themes": "x", "claim_ids": json.dumps(["x:1"])}
    write(W + "/" + name + ".gpkg", "stack", fields,
          [(dict(a, area_m2=4800.0), left), (dict(a, area_m2=rarea), rwkt)])

# Snap rounding at a thin wedge: claim a:1 lies below y = 10 + 0.01 (x - 50)
# and b:1 above y = 10 - 0.01 (x - 50), x in [0,100]: they cross at (50,10),
# at 0.02 rad, leaving a wedge open to the left unclaimed. Moving a's edge
# 0.7 mm down and b's 0.7 mm up, as snap rounding may, moves the crossing
# 70 mm right, to (50.07,10): the faces' outline there is 70 mm from the
# claims' outline, but within 0.7 mm of both claim edges. The areas move by
# about 0.14 m2 of 2000 (--rel-tol 1e-4). And claim n:1, a needle 0.4 mm
# wide and 10 m long, is closed: it has no face (its 0.004 m2 is within
# 3-per-claim's 1 mm x perimeter).
D = 0.0007
write(W + "/wedge_a.gpkg", "a", [], [({}, "POLYGON((0 0,100 0,100 10.5,0 9.5,0 0))")])
write(W + "/wedge_b.gpkg", "b", [], [({}, "POLYGON((0 10.5,100 9.5,100 20,0 20,0 10.5))")])
write(W + "/wedge_n.gpkg", "n", [], [({}, "POLYGON((110 5,120 5,120 5.0004,110 5.0004,110 5))")])
tip = "50.07 10"
write(W + "/wedge_good.gpkg", "stack", fields, [
    ({"n_claims": 1, "n_themes": 1, "themes": "a", "claim_ids": json.dumps(["a:1"])},
     "POLYGON((0 0,100 0,100 %r,%s,0 %r,0 0))" % (9.5 + D, tip, 9.5 - D)),
    ({"n_claims": 2, "n_themes": 2, "themes": "a+b", "claim_ids": json.dumps(["a:1", "b:1"])},
     "POLYGON((%s,100 %r,100 %r,%s))" % (tip, 9.5 + D, 10.5 - D, tip)),
    ({"n_claims": 1, "n_themes": 1, "themes": "b", "claim_ids": json.dumps(["b:1"])},
     "POLYGON((0 %r,%s,100 %r,100 20,0 20,0 %r))" % (10.5 + D, tip, 10.5 - D, 10.5 + D))])

# A long straight edge rounded to the grid: claim t:1 has few vertices, one
# of them 0.49 mm off the grid, (2000, 0.00049); rounded to (2000, 0), its
# edge from (0, 0) sweeps 2000 x 0.00049 / 2 = 0.49 m2, 2.45e-5 of its
# 19999.51 m2, over the relative 1e-6 alone of the area sums (which failed
# such a stack, while 3-per-claim passed it) but within the grid x outline
# snap rounding allows (4.02 m2).
write(W + "/long_edge.gpkg", "t", [],
      [({}, "POLYGON((0 0,2000 0.00049,2000 10,0 10,0 0))")])
write(W + "/long_edge_stack.gpkg", "stack", fields, [
    ({"n_claims": 1, "n_themes": 1, "themes": "t", "claim_ids": json.dumps(["t:1"]),
      "area_m2": 20000.0}, "POLYGON((0 0,2000 0,2000 10,0 10,0 0))")])

# Snap rounding opens a hole where claims overlap by less than it moves
# their edges. Claims d [0,20]x[-10,0], c [0,20]x[20,30], b [10,20]x[0,20]
# and a, whose right edge runs from (10.0004, 0) to (10.0001, 20): a overlaps
# b by 0.1 to 0.4 mm. Rounding a's vertices to (10, 0) and (9.999, 20) (the
# second 1.1 mm: read and overlay may move it up to 2.62 mm) leaves the
# triangle (10 0, 10 20, 9.999 20) of 0.01 m2 between the faces, a hole of
# their union 10 m inside the claims, within 1 mm of a's edge and b's edge,
# which are not on one line. With a's edge on x = 10, on b's, the same
# faces leave a real gap: rounding keeps collinear edges together.
for name, right in (("overlap", "10.0004 0,10.0001 20"), ("shared", "10 0,10 20")):
    write(W + "/ov_%s_a.gpkg" % name, "a", [], [({}, "POLYGON((0 0,%s,0 20,0 0))" % right)])
write(W + "/ov_b.gpkg", "b", [], [({}, "POLYGON((10 0,20 0,20 20,10 20,10 0))")])
write(W + "/ov_c.gpkg", "c", [], [({}, "POLYGON((0 20,20 20,20 30,0 30,0 20))")])
write(W + "/ov_d.gpkg", "d", [], [({}, "POLYGON((0 -10,20 -10,20 0,0 0,0 -10))")])
one = lambda t: {"n_claims": 1, "n_themes": 1, "themes": t,
                 "claim_ids": json.dumps(["%s:1" % t])}
write(W + "/ov_stack.gpkg", "stack", fields, [
    (one("d"), "POLYGON((0 -10,20 -10,20 0,0 0,0 -10))"),
    (one("a"), "POLYGON((0 0,10 0,9.999 20,0 20,0 0))"),
    (one("b"), "POLYGON((10 0,20 0,20 20,10 20,10 0))"),
    (one("c"), "POLYGON((0 20,20 20,20 30,0 30,0 20))")])

# Snap rounding moves the corner where an invalid claim's hole crosses its
# shell: claim w:1 is the shell [0,100]x[0,10] with the "hole" (0 -1, 100 1,
# 100 20, 0 20) across its bottom edge, repaired (as the oracle does it) to
# the triangle (50 0, 100 0, 100 1), whose tip is the crossing of the shell's
# edge y = 0 with the hole's y = 0.02 x - 1, at 0.02 rad. The hole's edge
# moved 0.7 mm up moves the tip 35 mm left, to (49.965, 0), beyond the
# repaired claim but along the edges it was cut from.
write(W + "/cut_w.gpkg", "w", [],
      [({}, "POLYGON((0 0,100 0,100 10,0 10,0 0),(0 -1,100 1,100 20,0 20,0 -1))")])
write(W + "/cut_stack.gpkg", "stack", fields, [
    (one("w"), "POLYGON((49.965 0,100 0,100 1.0007,49.965 0))")])

# A claim without area whose corners, rounded, enclose some: z:1 runs out
# along y = x / 2 to (10, 5) and back to (2 + 5/8192, 1 + 5/16384) on the
# same line (exact in binary), which rounds to (2.001, 1.000), 0.5 mm below
# it: the triangle (0 0, 10 5, 2.001 1) of 0.0025 m2, within 1 mm x the
# 22.4 m of its ring. stapel keeps such a claim; the oracle has no area for
# it, but must accept its id. A face of 5 m2 naming it is too much.
write(W + "/flat_z.gpkg", "z", [],
      [({}, "POLYGON((0 0,10 5,2.0006103515625 1.00030517578125,0 0))")])
# A T-junction: claims p (below) and q (above) share the edge (0 0.0014) -
# (10 1.0014), and q has one more vertex on it, computed in floating point
# (so off the line by float noise, not exactly on it). Rounded, the vertex
# goes to (2.772, 0.279), 0.3 mm above the rounded edge (0 0.001) - (10
# 1.001): hand-made faces that leave that triangle (0.004 m2) uncovered
# between p and q must fail, as the edges lie on one line.
from fractions import Fraction
P, Q = (100000.0, 400000.0014), (100010.0, 400001.0014)
t = 0.2771649
V = (P[0] + t * (Q[0] - P[0]), P[1] + t * (Q[1] - P[1]))
fr = [tuple(map(Fraction, c)) for c in (P, Q, V)]
assert ((fr[1][0] - fr[0][0]) * (fr[2][1] - fr[0][1])
        != (fr[1][1] - fr[0][1]) * (fr[2][0] - fr[0][0])), "V exactly on the line"
V = (V[0] - 100000, V[1] - 400000)
write(W + "/tj_p.gpkg", "p", [], [({}, "POLYGON((0 -5,10 -5,10 1.0014,0 0.0014,0 -5))")])
write(W + "/tj_q.gpkg", "q", [],
      [({}, "POLYGON((0 0.0014,%r %r,10 1.0014,10 5,0 5,0 0.0014))" % V)])
write(W + "/tj_stack.gpkg", "stack", fields, [
    (one("p"), "POLYGON((0 -5,10 -5,10 1.001,0 0.001,0 -5))"),
    (one("q"), "POLYGON((0 0.001,2.772 0.279,10 1.001,10 5,0 5,0 0.001))")])

# A thin triangle (0.0968 m2) whose ring runs out and back along its own
# line first (random scenarios, seed 1267): GEOS's MakeValid at RD's
# coordinates returned 2e-12 m2 of it, near the origin the triangle. The
# oracle repairs near the origin: stapel's face of the triangle passes.
T = [(6.524873188662585, 4.619898550930067), (6.756611464635898, 4.8052891717087185),
     (6.8980296989751535, 4.918423759180122), (6.882017550150961, 4.905614040120768),
     (6.1317808867257035, 4.305424709380563), (3.3774699486330517, 2.594367487158263)]
T = [(50000 + x, 50000 + y) for x, y in T]
write(W + "/spiked_tri.gpkg", "s", [], [({}, "POLYGON((%s))" % ",".join(
    "%r %r" % p for p in T + T[:1]))])
write(W + "/spiked_tri_stack.gpkg", "stack", fields, [
    (one("s"), "POLYGON((50006.525 50004.62,50003.377 50002.594,50006.132 50004.305,"
     "50006.525 50004.62))")])

write(W + "/flat_y.gpkg", "y", [], [({}, "POLYGON((20 0,30 0,30 10,20 10,20 0))")])
write(W + "/flat_stack.gpkg", "stack", fields, [
    (one("z"), "POLYGON((0 0,10 5,2.001 1,0 0))"),
    (one("y"), "POLYGON((20 0,30 0,30 10,20 10,20 0))")])
write(W + "/flat_big_stack.gpkg", "stack", fields, [
    (one("z"), "POLYGON((0 0,10 5,2 2,0 0))"),
    (one("y"), "POLYGON((20 0,30 0,30 10,20 10,20 0))")])
EOF2
H=(--layer x="$WORK/holed.gpkg" --points 400 --seed 7)
run "a claim with a hole, in two faces" 0 -- "${H[@]}" --stack "$WORK/holed_good.gpkg"
run "a sliver 1 mm x 1 m between faces, open to a hole of the claims" 1 2-outline -- \
    "${H[@]}" --stack "$WORK/holed_sliver.gpkg"
run "snap rounding: a crossing moved 70 mm along a wedge, a needle closed" 0 -- \
    --layer a="$WORK/wedge_a.gpkg" --layer b="$WORK/wedge_b.gpkg" \
    --layer n="$WORK/wedge_n.gpkg" --rel-tol 1e-4 --points 400 --seed 7 \
    --stack "$WORK/wedge_good.gpkg"
run "snap rounding: a long straight edge rounded to the grid, 0.49 m2 over 2 km" 0 -- \
    --layer t="$WORK/long_edge.gpkg" --points 400 --seed 7 --stack "$WORK/long_edge_stack.gpkg"

run "snap rounding: claims overlapping by 0.1-0.4 mm opened into a hole between faces" 0 -- \
    --layer a="$WORK/ov_overlap_a.gpkg" --layer b="$WORK/ov_b.gpkg" --layer c="$WORK/ov_c.gpkg" \
    --layer d="$WORK/ov_d.gpkg" --points 400 --seed 7 --stack "$WORK/ov_stack.gpkg"
run "the same hole between claims that share an edge" 1 2-gaps 2-outline -- \
    --layer a="$WORK/ov_shared_a.gpkg" --layer b="$WORK/ov_b.gpkg" --layer c="$WORK/ov_c.gpkg" \
    --layer d="$WORK/ov_d.gpkg" --points 400 --seed 7 --stack "$WORK/ov_stack.gpkg"
run "snap rounding: a repaired claim's corner moved 35 mm along the edges it was cut from" 0 -- \
    --layer w="$WORK/cut_w.gpkg" --points 400 --seed 7 --stack "$WORK/cut_stack.gpkg"

run "a T-junction vertex rounded off the shared edge, a 0.004 m2 gap" 1 2-outline -- \
    --layer p="$WORK/tj_p.gpkg" --layer q="$WORK/tj_q.gpkg" --points 400 --seed 7 \
    --stack "$WORK/tj_stack.gpkg"
run "a thin triangle behind a spike, repaired near the origin" 0 -- \
    --layer s="$WORK/spiked_tri.gpkg" --points 400 --seed 7 --stack "$WORK/spiked_tri_stack.gpkg"
run "a claim without area whose corners, rounded, enclose 0.0025 m2" 0 -- \
    --layer z="$WORK/flat_z.gpkg" --layer y="$WORK/flat_y.gpkg" --points 400 --seed 7 \
    --stack "$WORK/flat_stack.gpkg"
run "a claim without area and a face of 5 m2 naming it" 1 2-coverage 2-outline \
    3-multiplicity 3-per-claim 4-face-labels 4-points -- \
    --layer z="$WORK/flat_z.gpkg" --layer y="$WORK/flat_y.gpkg" --points 400 --seed 7 \
    --stack "$WORK/flat_big_stack.gpkg"

# 3. usage errors: exit 2
run "no claim layers" 2 -- --stack "$WORK/good.gpkg"
run "bad manifest path" 2 -- --manifest "$WORK/nope.json" --stack "$WORK/good.gpkg"
run "multi-layer source without layername" 2 -- --stack "$WORK/good.gpkg" \
    --layer housing="$WORK/claims.gpkg"

if [ $fails = 0 ]; then
    echo "selftest: all passed"
else
    echo "selftest: $fails failed"
    exit 1
fi
