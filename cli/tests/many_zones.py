#!/usr/bin/python3
"""A claim in many overlapping NOVEX areas with long names, for the merge.

    many_zones.py make DIR     write DIR/nov.geojson (40 nested NOVEX areas,
                               names of 110 bytes: a face in all of them has
                               a novex field of 4,439 bytes) and
                               DIR/nat.geojson (20 strips of nature across
                               them, of 42 vertices each, so that a run
                               with --tile-vertices 100 has several tiles)
    many_zones.py check GPKG   the NOVEX rows of zone_summary and the faces
                               of the stack, against areas computed here

NOVEX area i (0..39) is the rectangle [10i, 1000 - 10i] x [0, 1000] (metres,
from X0, Y0); strip k (0..19) is [50k, 50k + 30] x [400, 600]. The area of
area i is (1000 - 20i) * 1000; its claimed area is the length of the strips
within [10i, 1000 - 10i], times 200.
"""
import json
import os
import sqlite3
import sys

X0, Y0 = 150000, 450000
CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}
N_AREAS, N_STRIPS = 40, 20


def name(i):
    return ("NOVEX-gebied %02d " % i).ljust(110, "x")


def rect(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[X0 + x0, Y0 + y0], [X0 + x1, Y0 + y0],
                                                [X0 + x1, Y0 + y1], [X0 + x0, Y0 + y1],
                                                [X0 + x0, Y0 + y0]]]}


def strip(k):
    """Strip k, its long sides cut in 20 pieces so that the run has tiles."""
    x0, x1 = 50 * k, 50 * k + 30
    ring = [[X0 + x0, Y0 + 400 + 10 * j] for j in range(21)] + \
        [[X0 + x1, Y0 + 600 - 10 * j] for j in range(21)] + [[X0 + x0, Y0 + 400]]
    # counter-clockwise from the lower left: up the left side is clockwise,
    # which GeoJSON readers take either way
    return {"type": "Polygon", "coordinates": [ring[::-1]]}


def write(path, feats):
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "crs": CRS, "features": feats}, f)


def make(d):
    write(os.path.join(d, "nov.geojson"),
          [{"type": "Feature", "properties": {"naam": name(i)},
            "geometry": rect(10 * i, 0, 1000 - 10 * i, 1000)} for i in range(N_AREAS)])
    write(os.path.join(d, "nat.geojson"),
          [{"type": "Feature", "properties": {},
            "geometry": strip(k)} for k in range(N_STRIPS)])


def claimed(i):
    lo, hi = 10 * i, 1000 - 10 * i
    return 200 * sum(max(0, min(hi, 50 * k + 30) - max(lo, 50 * k)) for k in range(N_STRIPS))


def check(path):
    con = sqlite3.connect(path)
    rows = {z: (a, c) for z, a, c in con.execute(
        "SELECT zone, area_m2, claimed_m2 FROM zone_summary WHERE zone_type = 'novex'")}
    bad = []
    for i in range(N_AREAS):
        a, c = rows.get(name(i), (None, None))
        if a is None or abs(a - (1000 - 20 * i) * 1000) > 1e-3 or abs(c - claimed(i)) > 1e-3:
            bad.append("%s: area %s claimed %s, expected %d and %d"
                       % (name(i)[:15], a, c, (1000 - 20 * i) * 1000, claimed(i)))
    if len(rows) != N_AREAS:
        bad.append("%d NOVEX rows, expected %d" % (len(rows), N_AREAS))
    # The middle of strip k, x = 50k + 15, lies in the areas i with
    # 10i < 50k + 15 < 1000 - 10i.
    for k in range(N_STRIPS):
        x = 50 * k + 15
        want = sum(1 for i in range(N_AREAS) if 10 * i < x < 1000 - 10 * i)
        # the faces over the middle of strip k
        got = [n.count(";") + 1 if n else 0 for (n,) in con.execute(
            "SELECT s.novex FROM stack s JOIN rtree_stack_geom r ON r.id = s.fid "
            "WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?",
            (X0 + 50 * k + 15, X0 + 50 * k + 15, Y0 + 500, Y0 + 500))]
        if want not in got:
            bad.append("strip %d: faces in %s NOVEX areas, expected one in %d" % (k, got, want))
    for b in bad[:8]:
        print(b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
