#!/usr/bin/python3
"""arcs.py write DIR | arcs.py check OUT.gpkg LAYER THEME

write: GeoPackages (EPSG:28992) of curve polygons whose areas are known by
hand, in DIR:

- near.gpkg, layer 'near': curved rings whose ends miss by a whisker of
  float noise (1e-9 m), so that both fall on one point of the 1 mm grid:
  1, a circle of radius 50 m written as one arc whose end lies 1e-9 m north
  of its start; 2, the same with its end 1e-9 m north-east of its start (the
  circle through the three points would have a radius of 70.7 m: the arc is
  the full circle through its start and middle point); 3, a half disc of
  radius 50 m whose straight closing segment ends 1e-9 m off the start.
- open.gpkg, layer 'open': a circle whose end lies 2 mm from its start, two
  cells of the grid: not closed.

check: the faces of OUT.gpkg's stack that name each claim THEME:FID of the
layer LAYER add up to its true area within 1 cm times the length of its
arcs (USER_GUIDE: each arc is linearised to within 1 cm of the true arc)
and 1 mm times its perimeter (the snap grid). Only the standard library:
the stack is read with sqlite3.
"""
import json
import math
import os
import sqlite3
import sys

CIRCLE = math.pi * 50 ** 2
LAYERS = {
    # layer: {fid: (WKT, true area, length of its arcs, perimeter)}
    "near": {
        1: ("CURVEPOLYGON(CIRCULARSTRING(150000 450000,150100 450000,150000 450000.000000001))",
            CIRCLE, 100 * math.pi, 100 * math.pi),
        2: ("CURVEPOLYGON(CIRCULARSTRING(150200 450000,150300 450000,"
            "150200.000000001 450000.000000001))", CIRCLE, 100 * math.pi, 100 * math.pi),
        3: ("CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(150400 450000,150450 450050,"
            "150500 450000),(150500 450000,150400 450000.000000001)))",
            CIRCLE / 2, 50 * math.pi, 50 * math.pi + 100),
    },
    "open": {
        1: ("CURVEPOLYGON(CIRCULARSTRING(150000 450000,150100 450000,150000 450000.002))",
            CIRCLE, 100 * math.pi, 100 * math.pi),
    },
}


def write(d):
    from osgeo import gdal, ogr, osr
    ogr.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # 'Non closed ring detected'
    rd = osr.SpatialReference()
    rd.ImportFromEPSG(28992)
    for name, claims in LAYERS.items():
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(os.path.join(d, name + ".gpkg"))
        lyr = ds.CreateLayer(name, rd, ogr.wkbCurvePolygon)
        for fid, (wkt, _, _, _) in claims.items():
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetFID(fid)
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            lyr.CreateFeature(f)
        ds = None


def check(path, layer, theme):
    con = sqlite3.connect(path)
    got = {}
    for ids, area in con.execute("SELECT claim_ids, area_m2 FROM stack"):
        for cid in json.loads(ids):
            got[cid] = got.get(cid, 0.0) + area
    bad = 0
    for fid, (_, true, arcs, perimeter) in LAYERS[layer].items():
        a = got.get("%s:%d" % (theme, fid), 0.0)
        allowed = 0.01 * arcs + 0.001 * perimeter
        ok = abs(a - true) <= allowed
        bad += not ok
        print("claim %s:%d: area %.3f, true %.3f, off %.3f, allowed %.3f: %s"
              % (theme, fid, a, true, a - true, allowed, "ok" if ok else "WRONG"))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
