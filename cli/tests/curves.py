#!/usr/bin/python3
"""curves.py write DIR | curves.py check OUT.gpkg

write: DIR/curves.gpkg, a layer 'curves' (EPSG:28992) of curve polygons whose
areas are known by hand: 1, a circular segment of radius 10 km under a chord
of 2 km (a shallow arc, as a dike or a road bend has); 2, a circle of radius
500 m. And DIR/left.gpkg and DIR/right.gpkg, one curve polygon each, that
share one arc of radius 2 km, written in opposite directions, beside arcs of
other radii (a hole of radius 20 m in the left one, an arc of radius 50 km
in the right one).

check: the faces of OUT.gpkg's stack that name each claim of curves.gpkg add
up to its true area within 1 cm times the length of its arcs (USER_GUIDE:
each arc is linearised to within 1 cm of the true arc) and 1 mm times its
perimeter (the snap grid). Only the standard library: the stack is read
with sqlite3.
"""
import json
import math
import os
import sqlite3
import sys

R, HALF = 10000.0, 1000.0                    # the shallow arc
THETA = 2 * math.asin(HALF / R)              # its angle
SAG = R - math.sqrt(R * R - HALF * HALF)     # its height over the chord
CLAIMS = {
    # fid: (WKT, true area, length of its arcs, perimeter)
    1: ("CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(163000 450000,164000 %.9f,165000 450000),"
        "(165000 450000,163000 450000)))" % (450000 + SAG),
        R * R / 2 * (THETA - math.sin(THETA)), R * THETA, R * THETA + 2 * HALF),
    2: ("CURVEPOLYGON(CIRCULARSTRING(150000 450000,151000 450000,150000 450000))",
        math.pi * 500 ** 2, 2 * math.pi * 500, 2 * math.pi * 500),
}


def write(d):
    from osgeo import ogr, osr
    ogr.UseExceptions()
    rd = osr.SpatialReference()
    rd.ImportFromEPSG(28992)

    def layer(name, wkts):
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(os.path.join(d, name + ".gpkg"))
        lyr = ds.CreateLayer(name, rd, ogr.wkbCurvePolygon)
        for fid, wkt in wkts:
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetFID(fid)
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            lyr.CreateFeature(f)

    layer("curves", [(fid, c[0]) for fid, c in CLAIMS.items()])
    # The shared arc: from (170000 450000) to (172000 450000), bulging north
    # through its middle point on a circle of radius 2 km.
    mid = "171000 %.9f" % (450000 + 2000 - math.sqrt(2000 ** 2 - 1000 ** 2))
    layer("left", [(1, "CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(170000 450000,%s,172000 450000),"
                       "(172000 450000,172000 449000,170000 449000,170000 450000)),"
                       "CIRCULARSTRING(170980 449500,171020 449500,170980 449500))" % mid)])
    layer("right", [(1, "CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(172000 450000,%s,170000 450000),"
                        "(170000 450000,170000 451000),"
                        "CIRCULARSTRING(170000 451000,171000 451010.000001,172000 451000),"
                        "(172000 451000,172000 450000)))" % mid)])


def check_claims(path, claims, theme):
    """0 when every claim theme:fid of claims ({fid: (WKT, true area, length
    of its arcs, perimeter)}) has, summed over the faces of the stack at
    path, its true area within 1 cm times its arcs and 1 mm times its
    perimeter; 1 otherwise. Also used by arcs.py."""
    con = sqlite3.connect(path)
    got = {}
    for ids, area in con.execute("SELECT claim_ids, area_m2 FROM stack"):
        for cid in json.loads(ids):
            got[cid] = got.get(cid, 0.0) + area
    bad = 0
    for fid, (_, true, arcs, perimeter) in claims.items():
        a = got.get("%s:%d" % (theme, fid), 0.0)
        allowed = 0.01 * arcs + 0.001 * perimeter
        ok = abs(a - true) <= allowed
        bad += not ok
        print("claim %s:%d: area %.3f, true %.3f, off %.3f, allowed %.3f: %s"
              % (theme, fid, a, true, a - true, allowed, "ok" if ok else "WRONG"))
    return 1 if bad else 0


def check(path):
    return check_claims(path, CLAIMS, "x")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    else:
        sys.exit(__doc__)
