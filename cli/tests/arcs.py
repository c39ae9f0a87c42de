#!/usr/bin/python3
"""arcs.py write DIR | arcs.py check OUT.gpkg LAYER THEME | arcs.py faces OUT.gpkg

write: GeoPackages (EPSG:28992) of curve polygons whose areas are known by
hand, in DIR:

- near.gpkg, layer 'near': curved rings whose ends miss by a whisker of
  float noise (1e-9 m), so that both fall on one point of the 1 mm grid:
  1, a circle of radius 50 m written as one arc whose end lies 1e-9 m north
  of its start; 2, the same with its end 1e-9 m north-east of its start (the
  circle through the three points would have a radius of 70.7 m: the arc is
  the full circle through its start and middle point); 3, a half disc of
  radius 50 m whose straight closing segment ends 1e-9 m off the start; 4,
  a circle whose end lies 2e-7 m north of its start, but across the edge
  between two cells of the grid (y 450000.0004999 and 450000.0005001 round
  to two points a cell apart).
- open.gpkg, layer 'open': a circle whose end lies 2 mm from its start, two
  cells of the grid: not closed.

- circle.gpkg, half.gpkg and quarters.gpkg, layers 'circle', 'half' and
  'quarters', all on the circle of radius 500 m around (150000, 450000): a
  full circle, written from the point at 1 radian (57.3 degrees) from east
  back to it; the half disc north of its centre; the two quarter discs of
  that half, the north-east one with its arc counterclockwise, the
  north-west one clockwise. Stacked, they must make three faces: the south
  half (circle), the north-east and the north-west quarter (circle, half
  and a quarter), and no sliver.

check: the faces of OUT.gpkg's stack that name each claim THEME:FID of the
layer LAYER add up to its true area within 1 cm times the length of its
arcs (USER_GUIDE: each arc is linearised to within 1 cm of the true arc)
and 1 mm times its perimeter (the snap grid). Only the standard library:
the stack is read with sqlite3.

faces OUT.gpkg: the stack of circle, half and quarters (themes c, h, q) has
exactly the three faces above, each of the area of the polygon inscribed in
the circle by the rule of USER_GUIDE (vertices at the angles k 360 / n
degrees from east, n the fewest sides, a multiple of 8 and at least 96,
whose chords stay within 1 cm of the circle, and at the arcs' own ends,
but for a circle that is a ring by itself), worked out here as fans of
triangles from the centre, within 1 mm times the face's perimeter (the snap
grid); and within 1 cm times the length of its arc of the true area.
"""
import json
import math
import os
import sqlite3
import sys

import curves  # check_claims, beside this file

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
        4: ("CURVEPOLYGON(CIRCULARSTRING(150600 450000.0004999,150700 450000.0004999,"
            "150600 450000.0005001))", CIRCLE, 100 * math.pi, 100 * math.pi),
    },
    "circle": {
        1: ("CURVEPOLYGON(CIRCULARSTRING(%r %r,%r %r,%r %r))"
            % (150000 + 500 * math.cos(1), 450000 + 500 * math.sin(1),
               150000 - 500 * math.cos(1), 450000 - 500 * math.sin(1),
               150000 + 500 * math.cos(1), 450000 + 500 * math.sin(1)),
            math.pi * 500 ** 2, 1000 * math.pi, 1000 * math.pi),
    },
    "half": {
        1: ("CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(149500 450000,150000 450500,"
            "150500 450000),(150500 450000,149500 450000)))",
            math.pi * 500 ** 2 / 2, 500 * math.pi, 500 * math.pi + 1000),
    },
    "quarters": {
        1: ("CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(150500 450000,%r %r,150000 450500),"
            "(150000 450500,150000 450000,150500 450000)))"
            % (150000 + 500 * math.cos(math.pi / 4), 450000 + 500 * math.sin(math.pi / 4)),
            math.pi * 500 ** 2 / 4, 250 * math.pi, 250 * math.pi + 1000),
        2: ("CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(149500 450000,%r %r,150000 450500),"
            "(150000 450500,150000 450000,149500 450000)))"
            % (150000 + 500 * math.cos(3 * math.pi / 4), 450000 + 500 * math.sin(3 * math.pi / 4)),
            math.pi * 500 ** 2 / 4, 250 * math.pi, 250 * math.pi + 1000),
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
    return curves.check_claims(path, LAYERS[layer], theme)


def sides(r):
    """The fewest sides, a multiple of 8 and at least 96, of a polygon
    inscribed in a circle of radius r whose chords stay within 1 cm of it."""
    n = 96
    while r * (1 - math.cos(math.pi / n)) > 0.01:
        n += 8
    return n


def fan(r, a0, a1):
    """The area between the centre and the chords of the circle of radius r
    from angle a0 to a1 (radians, counterclockwise), through the corners of
    the inscribed polygon of sides(r) sides with a corner at angle 0."""
    n = sides(r)
    step = 2 * math.pi / n
    angles = [a0] + [k * step for k in range(n + 1) if a0 < k * step < a1] + [a1]
    return sum(r * r / 2 * math.sin(b - a) for a, b in zip(angles, angles[1:]))


def faces(path):
    r, pi = 500.0, math.pi
    quarter = (pi * r * r / 4, pi * r / 2, pi * r / 2 + 2 * r)
    want = {  # claim ids: (inscribed area, true area, arc length, perimeter)
        '["c:1"]': (fan(r, pi, 2 * pi), pi * r * r / 2, pi * r, pi * r + 2 * r),
        '["c:1", "h:1", "q:1"]': (fan(r, 0, pi / 2),) + quarter,
        '["c:1", "h:1", "q:2"]': (fan(r, pi / 2, pi),) + quarter,
    }
    con = sqlite3.connect(path)
    rows = con.execute("SELECT claim_ids, area_m2 FROM stack ORDER BY claim_ids").fetchall()
    bad = 0
    if sorted(json.dumps(json.loads(ids)) for ids, _ in rows) != sorted(want):
        print("faces %s, want one each of %s" % ([ids for ids, _ in rows], sorted(want)))
        bad += 1
    for ids, area in rows:
        key = json.dumps(json.loads(ids))
        if key not in want:
            continue
        inscribed, true, arc, perimeter = want[key]
        ok = abs(area - inscribed) <= 0.001 * perimeter and abs(area - true) <= 0.01 * arc
        bad += not ok
        print("face %s: area %.4f, inscribed polygon %.4f, true %.4f: %s"
              % (key, area, inscribed, true, "ok" if ok else "WRONG"))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    elif len(sys.argv) == 3 and sys.argv[1] == "faces":
        sys.exit(faces(sys.argv[2]))
    else:
        sys.exit(__doc__)
