#!/usr/bin/python3
"""Write degenerate.gpkg into DIR: layer `degenerate` (EPSG:28992) with three
polygons (FIDs 1-3, offsets from 150000, 450000):

1. a 100 m square at (0, 0): 10,000 m²;
2. a polygon whose one ring has two points, (200, 0) and (250, 50): OGR reads
   it as a polygon that is not empty, yet it encloses no area;
3. a triangle 0.2 mm across at (300, 0): valid as stored, but its corners
   all fall on one point of the 1 mm snap grid.

    make_degenerate.py DIR
"""
import os
import sys

from osgeo import ogr, osr

ogr.UseExceptions()
X, Y = 150000, 450000
WKT = [
    "POLYGON((%d %d,%d %d,%d %d,%d %d,%d %d))"
    % (X, Y, X + 100, Y, X + 100, Y + 100, X, Y + 100, X, Y),
    "POLYGON((%d %d,%d %d))" % (X + 200, Y, X + 250, Y + 50),
    "POLYGON((%d %d,%.4f %d,%d %.4f,%d %d))"
    % (X + 300, Y, X + 300.0002, Y, X + 300, Y + 0.0002, X + 300, Y),
]

out = os.path.join(sys.argv[1], "degenerate.gpkg")
srs = osr.SpatialReference()
srs.ImportFromEPSG(28992)
ds = ogr.GetDriverByName("GPKG").CreateDataSource(out)
layer = ds.CreateLayer("degenerate", srs, ogr.wkbPolygon)
for wkt in WKT:
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
    layer.CreateFeature(f)
ds = None
