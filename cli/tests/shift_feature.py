#!/usr/bin/python3
"""shift_feature.py GPKG FID DX DY -- move one feature of a GeoPackage's (first)
layer by DX, DY in its CRS units, as an edit of the source between two shard
jobs would."""
import sys
from osgeo import ogr

path, fid, dx, dy = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
ds = ogr.Open(path, 1)
layer = ds.GetLayer(0)
f = layer.GetFeature(fid)
if f is None:
    sys.exit("shift_feature.py: %s: no feature %d" % (path, fid))
g = f.GetGeometryRef()


def shift(g):
    for i in range(g.GetGeometryCount()):
        shift(g.GetGeometryRef(i))
    for i in range(g.GetPointCount()):
        g.SetPoint_2D(i, g.GetX(i) + dx, g.GetY(i) + dy)


shift(g)
f.SetGeometry(g)
if layer.SetFeature(f) != 0:
    sys.exit("shift_feature.py: %s: cannot write feature %d" % (path, fid))
ds = None
