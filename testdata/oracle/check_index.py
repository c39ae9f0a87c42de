#!/usr/bin/python3
"""Check the spatial index of the stack layer of a stapel GeoPackage.

stapel bulk-loads the R-tree of the `stack` layer itself (engine/src/rtree.c).
This checks it independently: SQLite's own rtreecheck() on the index, one
index entry per feature with a box that holds the feature's envelope, the
GeoPackage extension row and triggers, and spatial-filter queries through GDAL
(which use the index) against a brute-force scan.

Usage: check_index.py STACK.gpkg [--queries 40] [--seed 1]
"""
import argparse
import random
import sqlite3
import sys

from osgeo import ogr

ap = argparse.ArgumentParser()
ap.add_argument("gpkg")
ap.add_argument("--queries", type=int, default=40)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
fails = []
db = sqlite3.connect(a.gpkg)
check = db.execute("SELECT rtreecheck('rtree_stack_geom')").fetchone()[0]
if check != "ok":
    fails.append("rtreecheck: %s" % check[:300])
ext = db.execute("SELECT COUNT(*) FROM gpkg_extensions WHERE table_name='stack' AND "
                 "column_name='geom' AND extension_name='gpkg_rtree_index'").fetchone()[0]
if ext != 1:
    fails.append("gpkg_extensions has %d rtree rows for stack.geom" % ext)
trig = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND "
                                  "tbl_name='stack'")}
want = {"rtree_stack_geom_" + s for s in ("insert", "update1", "update2", "update3", "update4", "delete")}
if not want <= trig:
    fails.append("missing triggers: %s" % sorted(want - trig))
boxes = {r[0]: r[1:] for r in db.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_stack_geom")}
db.close()

ds = ogr.Open(a.gpkg)
lyr = ds.GetLayerByName("stack")
geoms = {}
for f in lyr:
    geoms[f.GetFID()] = f.GetGeometryRef().Clone()
if set(boxes) != set(geoms):
    fails.append("index ids differ from feature ids: %d vs %d" % (len(boxes), len(geoms)))
loose = 0
for fid, g in geoms.items():
    e = g.GetEnvelope()
    b = boxes.get(fid)
    if b is None or b[0] > e[0] or b[1] < e[1] or b[2] > e[2] or b[3] < e[3]:
        loose += 1
if loose:
    fails.append("%d index boxes do not hold their feature" % loose)
envs = {k: g.GetEnvelope() for k, g in geoms.items()}
x0s = [e[0] for e in envs.values()]
x1s = [e[1] for e in envs.values()]
y0s = [e[2] for e in envs.values()]
y1s = [e[3] for e in envs.values()]
rnd = random.Random(a.seed)
wrong = 0
for _ in range(a.queries if geoms else 0):
    w = rnd.uniform(0.001, 0.2) * (max(x1s) - min(x0s))
    x0 = rnd.uniform(min(x0s), max(x1s)); y0 = rnd.uniform(min(y0s), max(y1s))
    lyr.SetSpatialFilterRect(x0, y0, x0 + w, y0 + w)
    got = {f.GetFID() for f in lyr}
    rect = ogr.CreateGeometryFromWkt("POLYGON((%r %r,%r %r,%r %r,%r %r,%r %r))" % (
        x0, y0, x0 + w, y0, x0 + w, y0 + w, x0, y0 + w, x0, y0))
    exp = {k for k, e in envs.items() if not (e[1] < x0 or e[0] > x0 + w or e[3] < y0 or e[2] > y0 + w)
           and geoms[k].Intersects(rect)}
    wrong += got != exp
if wrong:
    fails.append("%d of %d spatial-filter queries differ from a full scan" % (wrong, a.queries))
for m in fails:
    print("FAIL index", m)
if not fails:
    print("PASS index: rtreecheck ok, %d entries, extension and triggers present, %d queries match a full scan"
          % (len(boxes), a.queries))
print("index: %d passed, %d failed" % (0 if fails else 1, 1 if fails else 0))
sys.exit(1 if fails else 0)
