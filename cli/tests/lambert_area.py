#!/usr/bin/python3
"""Areas of claims near Paris in Lambert zone II (EPSG:27572), computed apart.

    lambert_area.py make DIR   write DIR/paris.geojson: one claim, the
                               quadrangle LON0..LON1 east, LAT0..LAT1 north
                               (WGS 84) below, in the 1st arrondissement
    lambert_area.py check GPKG the stack's area (the sum of area_m2) must be
                               the claim's area on the WGS 84 ellipsoid times
                               Lambert II's areal scale factor k² at its
                               centre, within 1e-4

Both from closed formulas, without PROJ or GDAL: the area of a quadrangle
between two meridians and two parallels on an ellipsoid (through the
authalic latitude's q), and the scale factor k of a Lambert conformal conic
of one standard parallel (Snyder, Map Projections: A Working Manual, 15-13
and 15-1 to 15-9). Lambert II: latitude of origin 52 grads (46.8 degrees),
k0 0.99987742, on the Clarke 1880 (IGN) ellipsoid. At 48.845 N its k² is
1.00104: areas 0.1 % larger than on the ground, well within the 1 % stack
takes, and ten times the tolerance, so an area not in the plane of Lambert
II fails too. The datums (WGS 84, NTF) differ by less than 1e-5 in area.
"""
import json
import math
import os
import sqlite3
import sys

LON0, LON1, LAT0, LAT1 = 2.33, 2.35, 48.84, 48.85


def ellipsoid(a, b):
    return a, 1 - (b / a) ** 2


def quadrangle_area(a, e2, lon0, lon1, lat0, lat1):
    e = math.sqrt(e2)

    def q(lat):
        s = math.sin(lat)
        return s / (1 - e2 * s * s) - math.log((1 - e * s) / (1 + e * s)) / (2 * e)

    dlon = math.radians(lon1 - lon0)
    return a * a * (1 - e2) * dlon / 2 * (q(math.radians(lat1)) - q(math.radians(lat0)))


def lambert2_k(lat):
    a, e2 = ellipsoid(6378249.2, 6356515.0)
    e = math.sqrt(e2)

    def m(p):
        return math.cos(p) / math.sqrt(1 - e2 * math.sin(p) ** 2)

    def t(p):
        s = math.sin(p)
        return math.tan(math.pi / 4 - p / 2) / ((1 - e * s) / (1 + e * s)) ** (e / 2)

    p0, k0 = math.radians(46.8), 0.99987742
    n = math.sin(p0)
    p = math.radians(lat)
    return k0 * m(p0) * t(p) ** n / (m(p) * t(p0) ** n)


def make(d):
    ring = [[LON0, LAT0], [LON1, LAT0], [LON1, LAT1], [LON0, LAT1], [LON0, LAT0]]
    fc = {"type": "FeatureCollection",
          "features": [{"type": "Feature", "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    with open(os.path.join(d, "paris.geojson"), "w") as f:
        json.dump(fc, f)


def check(path):
    con = sqlite3.connect(path)
    (got,) = con.execute("SELECT SUM(area_m2) FROM stack").fetchone()
    con.close()
    a, e2 = ellipsoid(6378137.0, 6378137.0 * (1 - 1 / 298.257223563))
    ground = quadrangle_area(a, e2, LON0, LON1, LAT0, LAT1)
    k = lambert2_k((LAT0 + LAT1) / 2)
    want = ground * k * k
    print(f"ground {ground:.1f} m2, k2 {k * k:.6f}, want {want:.1f} m2, got {got:.1f} m2")
    return 0 if got is not None and abs(got / want - 1) < 1e-4 else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
