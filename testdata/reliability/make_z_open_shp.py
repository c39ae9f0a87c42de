#!/usr/bin/python3
"""Write z_open.shp (.shx, .dbf, .prj) into DIR: three PolygonZ records in RD
(EPSG:28992) whose rings all close in x and y, as some CAD programs write
them, but two of them not in height: the last point of the first record's
ring has z 5 where its first has 0, and so has the hole of the third (z 7).

    record 0: 100 m square, 150000 450000 - 150100 450100: 10000 m²
    record 1: triangle of half a 100 m square, closed in z too: 5000 m²
    record 2: 100 m square with a triangular hole of half a 20 m square:
              10000 - 200 = 9800 m²

GDAL's writer is given closed rings (so that it orients them as the format
wants: GDAL 3.6 turns a hole open in z into an outer ring) and the heights
are patched in the bytes after, after the ESRI shapefile technical
description.

    make_z_open_shp.py DIR
"""
import os
import struct
import sys

from osgeo import ogr, osr

out = os.path.join(sys.argv[1], "z_open.shp")
srs = osr.SpatialReference()
srs.ImportFromEPSG(28992)
ds = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(out)
layer = ds.CreateLayer("z_open", srs, ogr.wkbPolygon25D)
for wkt in [
    "POLYGON Z ((150000 450000 0,150100 450000 0,150100 450100 0,150000 450100 0,"
    "150000 450000 0))",
    "POLYGON Z ((150200 450000 1,150300 450000 1,150300 450100 1,150200 450000 1))",
    "POLYGON Z ((150400 450000 0,150500 450000 0,150500 450100 0,150400 450100 0,"
    "150400 450000 0),(150420 450020 0,150440 450020 0,150440 450040 0,150420 450020 0))",
]:
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
    layer.CreateFeature(f)
ds = None

# (record number, ring, z of its last point)
patches = [(1, 0, 5.0), (3, 1, 7.0)]
data = bytearray(open(out, "rb").read())
pos, number = 100, 0
while pos < len(data):
    length = struct.unpack(">i", data[pos + 4:pos + 8])[0]
    rec = pos + 8
    pos = rec + 2 * length
    number += 1
    # PolygonZ: type, box, part and point counts, part starts, points,
    # z range, z values.
    n_parts, n_points = struct.unpack("<2i", data[rec + 36:rec + 44])
    starts = list(struct.unpack("<%di" % n_parts, data[rec + 44:rec + 44 + 4 * n_parts]))
    ends = starts[1:] + [n_points]
    z_at = rec + 44 + 4 * n_parts + 16 * n_points + 16
    for rn, ring, z in patches:
        if rn == number:
            struct.pack_into("<d", data, z_at + 8 * (ends[ring] - 1), z)
open(out, "wb").write(data)
