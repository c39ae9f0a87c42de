#!/usr/bin/python3
"""gen_national.py --scale S --seed N --out DIR -- a synthetic national stack-map scenario.

What it generates (deterministic: the same scale, seed and size exponent give the
same data, byte for byte on the same GDAL/PROJ build; everything comes from
random.Random(seed)):

  provinces.gpkg  layer provinces  12 provinces with the real names (field naam, code),
                                   EPSG:28992, over x 13000-278000, y 306000-620000.
                                   A hand-drawn layout with jittered borders; neighbours
                                   share every border vertex EXACTLY (one densified
                                   polyline per border, used forward by one province
                                   and reversed by the other). Friesland is named
                                   "Fryslân" (official spelling, UTF-8). All are
                                   MultiPolygons; Fryslân and Noord-Holland have
                                   Wadden islands as extra parts.
  novex.gpkg      layer novex      16 NOVEX areas (naam), EPSG:28992; several cross
                                   province borders, a few overlap each other.
  claims, 8 themes, scale 1 = 7000 claims (counts scale linearly, rounded):
    theme    source                         format      CRS         n@1  geometry
    nature   nature.shp                     Shapefile   EPSG:28992   900  blobs, holes, multi
    water    water.gpkg                     GPKG        EPSG:28992   600  corridors+blobs, all
                                                                          MultiPolygon, a few EMPTY
    housing  housing.gpkg                   GPKG        EPSG:4258    800  blobs + blocks of
                                                                          plots sharing edges
    wind     wind.geojson                   GeoJSON     EPSG:4326    250  elongated, multi
    solar    solar.fgb                      FlatGeobuf  EPSG:3035    700  small blobs, holes
    agri     claims.gpkg|layername=agri     GPKG        EPSG:28992  3100  jittered grid blocks
                                                                          of parcels sharing edges
    defence  claims.gpkg|layername=defence  GPKG        EPSG:28992   150  large, multi, holes;
                                                                          layer type Geometry
    infra    infra.shp                      Shapefile   EPSG:28992   500  road/rail corridors
  scenario.json   the manifest (paths relative to DIR) with, per layer, the facts a
                  test can check: features, invalid, empty, dirty_valid, multipart,
                  with_holes, epsg, format, geometry_type (as OGR reports the layer).
                  Claim fields: naam (text), programma (text, UTF-8), jaar, bron_id (int).

Claims: blobs are jittered ellipses (20-40 vertices, star-shaped, hence simple);
multipolygon parts are placed so they never overlap; holes sit well inside.
Claims cluster in the NOVEX areas and follow per-province theme weights, so they
overlap across and within themes: about 40% of the province area is claimed,
11% by 2+ themes, 2.5% by 3+ (up to 6), the same at every scale. Claims near the
edge may reach beyond the provinces (sea, Belgium, Germany). About 0.5% of the
claims of every theme are made INVALID on purpose (cycling: bowtie by swapped
vertices, self-touching ring (an inverted hole), spike); another ~0.3% get a
duplicated consecutive vertex (dirty, but valid for GEOS: counted as
dirty_valid, not invalid). Every geometry
is checked with IsValid() while generating, so the manifest counts are exact
(in the source CRS; rechecking after reprojection gives the same counts).

Sizes: at scale 1 the areas are realistic (hectares to tens of km2). With
--size-exp E (default 0.5) every length is multiplied by S**-E, so with the default
a larger scale is the same map at a finer grain: the claimed area per theme and
the stack depth stay about constant while the counts grow. --size-exp 0 keeps the
sizes, so the stack depth grows linearly with the scale.

Speed (measured on 2 cores): scale 1 ~1 s / 4.5 MB, scale 10 (70,000 claims) ~7 s /
39 MB, scale 100 (700,000 claims) ~75 s / 383 MB, under 150 MB of memory: themes are
streamed to disk. Writes use transactions where the driver has them. RD
coordinates are rounded to 1 mm before reprojection. Scales below 1 work too
(e.g. --scale 0.1 for a quick test; with the default size exponent the claims
then get larger).

Usage: /usr/bin/python3 testdata/gen_national.py --scale 1 --seed 1 --out testdata/generated/national-1
(testdata/generated/ is git-ignored.)
Only osgeo (ogr/osr) and the standard library are used.
"""

import argparse
import json
import math
import os
import random
import struct
import sys
import time

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()
gdal.SetConfigOption("OGR_CURRENT_DATE", "2024-01-01T00:00:00.000Z")

KM = 1000.0

# --------------------------------------------------------------------------
# Provinces: a planar graph drawn by hand (node coordinates in km, RD).

NODES = {
    "a": (13, 365), "b": (68, 362), "c": (80, 385), "T1": (72, 412), "e": (35, 422), "f": (15, 400),
    "g": (110, 372), "h": (150, 362), "i": (175, 370), "j": (185, 395), "k": (190, 420),
    "l": (150, 425), "m": (120, 428), "n": (95, 420),
    "o": (175, 340), "p": (180, 310), "q": (200, 306), "r": (205, 330), "s": (198, 360),
    "t": (205, 395), "u": (210, 420),
    "v": (128, 440), "w": (130, 458), "x": (122, 472), "y": (95, 476), "z": (65, 455), "aa": (45, 438),
    "bb": (165, 445), "cc": (168, 470), "dd": (150, 478), "ee": (135, 478),
    "ff": (140, 490), "gg": (146, 512), "hh": (152, 532), "ii": (138, 552), "jj": (115, 553),
    "kk": (103, 530), "ll": (98, 505),
    "mm": (170, 480), "nn": (188, 500), "oo": (192, 520), "pp": (190, 535), "qq": (170, 536),
    "rr": (212, 542), "ss": (215, 565), "tt": (210, 590), "uu": (185, 597), "vv": (158, 577),
    "ww": (152, 562),
    "xx": (240, 607), "yy": (275, 595), "zz": (278, 570), "aaa": (265, 545), "bbb": (240, 555),
    "ccc": (268, 525), "ddd": (240, 518), "eee": (200, 480), "fff": (230, 470), "ggg": (262, 462),
    "hhh": (272, 490), "iii": (232, 430), "jjj": (255, 445),
}

# name, code, ring of node names, islands (cx, cy, rx, ry, rot) in km
PROVINCES = [
    ("Groningen", "GR", "tt xx yy zz aaa bbb ss", []),
    ("Fryslân", "FR", "hh qq pp rr ss tt uu vv ww ii",
     [(128, 587, 7, 1.8, 30), (150, 597, 14, 2.2, 20), (178, 607, 11, 2, 5), (203, 612, 7, 1.8, 5)]),
    ("Drenthe", "DR", "rr ddd ccc aaa bbb ss", []),
    ("Overijssel", "OV", "nn eee fff ggg hhh ccc ddd rr pp oo", []),
    ("Flevoland", "FL", "ee dd mm nn oo pp qq hh gg ff", []),
    ("Gelderland", "GE", "m l k u iii jjj ggg fff eee nn mm dd cc bb v", []),
    ("Utrecht", "UT", "v bb cc dd ee x w", []),
    ("Noord-Holland", "NH", "y x ee ff gg hh ii jj kk ll", [(115, 571, 4.5, 10, -20)]),
    ("Zuid-Holland", "ZH", "e T1 n m v w x y z aa", []),
    ("Zeeland", "ZE", "a b c T1 e f", []),
    ("Noord-Brabant", "NB", "b g h i j k l m n T1 c", []),
    ("Limburg", "LI", "i o p q r s t u k j", []),
]

# naam, cx, cy, rx, ry (km), rotation (deg)
NOVEX = [
    ("Regio Schiphol", 110, 480, 12, 10, 0),
    ("Noordzeekanaalgebied", 108, 494, 14, 6, 10),
    ("Rotterdamse haven", 68, 437, 22, 6, 15),
    ("Zuidelijke Randstad", 88, 450, 14, 11, 30),
    ("Groene Hart", 117, 455, 15, 11, 0),
    ("Utrecht-Amersfoort", 148, 458, 13, 8, 20),
    ("Almere-Lelystad", 150, 490, 14, 9, 35),
    ("Foodvalley", 168, 452, 10, 9, 0),
    ("Arnhem-Nijmegen", 193, 437, 14, 10, 20),
    ("Brainport Eindhoven", 160, 383, 12, 10, 0),
    ("De Peel", 180, 390, 12, 11, 60),
    ("Zuid-Limburg en Chemelot", 190, 322, 12, 14, 75),
    ("North Sea Port", 45, 377, 16, 6, 10),
    ("Groningen", 240, 585, 18, 12, 10),
    ("Regio Zwolle", 200, 506, 12, 9, 0),
    ("Twente", 250, 480, 14, 11, 0),
]

# --------------------------------------------------------------------------
# Themes.

# theme, file, layer, driver, EPSG, declared layer type, claims at scale 1
THEMES = [
    ("nature", "nature.shp", "nature", "ESRI Shapefile", 28992, ogr.wkbPolygon, 900),
    ("water", "water.gpkg", "water", "GPKG", 28992, ogr.wkbMultiPolygon, 600),
    ("housing", "housing.gpkg", "housing", "GPKG", 4258, ogr.wkbPolygon, 800),
    ("wind", "wind.geojson", "wind", "GeoJSON", 4326, ogr.wkbUnknown, 250),
    ("solar", "solar.fgb", "solar", "FlatGeobuf", 3035, ogr.wkbPolygon, 700),
    ("agri", "claims.gpkg", "agri", "GPKG", 28992, ogr.wkbPolygon, 3100),
    ("defence", "claims.gpkg", "defence", "GPKG", 28992, ogr.wkbUnknown, 150),
    ("infra", "infra.shp", "infra", "ESRI Shapefile", 28992, ogr.wkbPolygon, 500),
]

# per theme: share of claims placed in NOVEX areas, province weights (default 1)
NOVEX_SHARE = {"nature": 0.35, "water": 0.45, "housing": 0.65, "wind": 0.45, "solar": 0.45,
               "agri": 0.35, "defence": 0.25, "infra": 0.55}
PROV_WEIGHT = {
    "nature": {"GE": 2.0, "DR": 1.5, "OV": 1.3, "FR": 1.2, "UT": 1.2},
    "water": {"ZE": 1.5, "ZH": 1.5, "GE": 1.5, "LI": 1.2, "FL": 1.2},
    "housing": {"ZH": 3, "NH": 3, "UT": 2.5, "NB": 1.5, "GE": 1.5, "FL": 1.5,
                "DR": 0.4, "ZE": 0.4, "FR": 0.5, "GR": 0.6},
    "wind": {"FL": 3, "GR": 2.5, "ZE": 2, "NH": 1.5, "FR": 1.5, "UT": 0.3, "LI": 0.5},
    "solar": {"DR": 2, "GR": 1.8, "FR": 1.2, "OV": 1.2, "NB": 1.2},
    "agri": {"FR": 2, "GR": 1.8, "DR": 1.8, "FL": 1.8, "ZE": 1.5, "NB": 1.5, "OV": 1.3,
             "GE": 1.3, "UT": 0.6, "ZH": 0.8, "NH": 0.8},
    "defence": {"GE": 3, "UT": 1.5, "DR": 1.5, "NB": 1.2, "FR": 1.0, "ZE": 0.3},
    "infra": {"ZH": 2, "NH": 2, "UT": 2, "NB": 1.5, "GE": 1.2},
}
LABEL = {"nature": "Natuur", "water": "Water", "housing": "Woningbouw", "wind": "Wind",
         "solar": "Zon", "agri": "Perceel", "defence": "Defensie", "infra": "Tracé"}
PROGRAMMA = {
    "nature": ["Natura 2000", "NNN", "NNN – verbindingszone", "Programma Natuur"],
    "water": ["KRW", "Ruimte voor de Rivier", "HWBP dijkversterking", "Waterberging"],
    "housing": ["Woondeal", "Grootschalige woningbouwlocatie", "Binnenstedelijk"],
    "wind": ["RES 1.0", "Zoekgebied wind", "Windpark op land"],
    "solar": ["RES 1.0", "Zonneladder – trede 2", "Zonneladder – trede 3"],
    "agri": ["NPLG", "Landbouwkern", "Veenweide – overgangsgebied"],
    "defence": ["Defensie – oefenterrein", "Defensie – schietterrein", "Defensie – kazerne"],
    "infra": ["MIRT", "Hoofdwegennet", "Hoofdspoorweg", "Hoogspanningsverbinding"],
}
YEARS = [2030, 2035, 2040, 2050]

INVALID_FRACTION = 0.005
DIRTY_FRACTION = 0.003
EMPTY_FRACTION = {"water": 0.001}  # at least one when listed

# --------------------------------------------------------------------------
# geometry helpers (rings are lists of (x, y) WITHOUT the closing point)


def ring_area(r):
    s = 0.0
    n = len(r)
    for i in range(n):
        x1, y1 = r[i]
        x2, y2 = r[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return s / 2.0


def orient(r, ccw):
    return r if (ring_area(r) > 0) == ccw else r[::-1]


_TABLES = {}


def _table(n):
    t = _TABLES.get(n)
    if t is None:
        t = []
        for i in range(n):
            a = 2 * math.pi * i / n
            t.append((math.cos(a), math.sin(a), math.cos(2 * a), math.sin(2 * a),
                      math.cos(3 * a), math.sin(3 * a), math.cos(4 * a), math.sin(4 * a)))
        _TABLES[n] = t
    return t


def blob_ring(rng, cx, cy, rx, ry, rot, n=None, amp=0.08):
    """Jittered ellipse, CCW, star-shaped around (cx, cy); radius factor in [0.72, 1.28]."""
    if n is None:
        n = rng.randint(20, 40)
    h = []
    for _ in range(3):
        a = rng.uniform(0, amp)
        ph = rng.uniform(0, 2 * math.pi)
        h.append((a * math.cos(ph), a * math.sin(ph)))
    (a2c, a2s), (a3c, a3s), (a4c, a4s) = h
    c, s = math.cos(rot), math.sin(rot)
    u = rng.uniform
    out = []
    for (c1, s1, c2, s2, c3, s3, c4, s4) in _table(n):
        f = 1.0 + u(-0.04, 0.04) + a2c * c2 - a2s * s2 + a3c * c3 - a3s * s3 + a4c * c4 - a4s * s4
        ex = rx * c1 * f
        ey = ry * s1 * f
        out.append((round(cx + ex * c - ey * s, 3), round(cy + ex * s + ey * c, 3)))
    return out


def blob_poly(rng, cx, cy, rx, ry, rot, hole=False):
    rings = [blob_ring(rng, cx, cy, rx, ry, rot)]
    if hole:
        m = min(rx, ry)
        d = rng.uniform(0, 0.12) * m
        a = rng.uniform(0, 2 * math.pi)
        hr = rng.uniform(0.15, 0.3) * m
        rings.append(blob_ring(rng, cx + d * math.cos(a), cy + d * math.sin(a), hr, hr * rng.uniform(0.6, 1.0),
                               rng.uniform(0, math.pi), n=rng.randint(12, 20))[::-1])
    return rings


def multi_blobs(rng, cx, cy, rx, ry, rot, parts, hole_p=0.0):
    """2+ non-overlapping blobs: part k sits beyond the reach (1.3 r) of all earlier ones."""
    polys = []
    placed = []
    for k in range(parts):
        f = 1.0 if k == 0 else rng.uniform(0.3, 0.8)
        prx, pry = rx * f, ry * f
        reach = 1.3 * max(prx, pry)
        if k == 0:
            px, py = cx, cy
        else:
            for _ in range(50):
                ang = rng.uniform(0, 2 * math.pi)
                dist = rng.uniform(1.2, 2.5) * (reach + placed[-1][2])
                bx, by = placed[rng.randrange(len(placed))][:2]
                px, py = bx + dist * math.cos(ang), by + dist * math.sin(ang)
                if all(math.hypot(px - qx, py - qy) > (reach + qr) * 1.05 for qx, qy, qr in placed):
                    break
            else:
                break
        placed.append((px, py, reach))
        polys.append(blob_poly(rng, px, py, prx, pry, rot + rng.uniform(-0.3, 0.3),
                               hole=rng.random() < hole_p))
    return polys


def corridor(rng, x, y, length, width, heading):
    """A band around a random walk whose heading stays within 60 degrees of the start
    heading and turns at most 15 degrees per step of at least 1.5 widths: the walk is
    monotone along the start heading and bends gently, so the band is simple."""
    seg = max(1.5 * width, length / rng.randint(8, 18))
    steps = max(2, int(length / seg))
    pts = [(x, y)]
    hd = heading
    for _ in range(steps):
        hd = max(heading - 1.05, min(heading + 1.05, hd + rng.uniform(-0.26, 0.26)))
        x += seg * math.cos(hd)
        y += seg * math.sin(hd)
        pts.append((x, y))
    half = width / 2.0
    left, right = [], []
    n = len(pts)
    for i in range(n):
        ax, ay = pts[max(i - 1, 0)]
        bx, by = pts[min(i + 1, n - 1)]
        dx, dy = bx - ax, by - ay
        ln = math.hypot(dx, dy)
        nx, ny = -dy / ln, dx / ln
        w = half * rng.uniform(0.9, 1.1)
        px, py = pts[i]
        left.append((round(px + nx * w, 3), round(py + ny * w, 3)))
        right.append((round(px - nx * w, 3), round(py - ny * w, 3)))
    return [orient(left + right[::-1], True)]


def parcel_grid(rng, x0, y0, cols, rows, dx, dy, rot):
    """cols x rows parcels sharing edges exactly (see make_demo.py); yields polygons."""
    c, s = math.cos(rot), math.sin(rot)
    node = {}
    for i in range(cols + 1):
        for j in range(rows + 1):
            ju = 0.0 if i in (0, cols) else rng.uniform(-0.12, 0.12) * dx
            jv = 0.0 if j in (0, rows) else rng.uniform(-0.12, 0.12) * dy
            u, v = i * dx + ju, j * dy + jv
            node[i, j] = (round(x0 + u * c - v * s, 3), round(y0 + u * s + v * c, 3))
    edge = {}

    def edge_pts(a, b):
        e = edge.get((b, a))
        if e is not None:
            return e[::-1]
        (xa, ya), (xb, yb) = node[a], node[b]
        k = rng.randint(0, 2)
        pts = []
        if k:
            ln = math.hypot(xb - xa, yb - ya)
            nx, ny = -(yb - ya) / ln, (xb - xa) / ln
            for t in sorted(rng.uniform(0.2, 0.8) for _ in range(k)):
                off = rng.uniform(-0.02, 0.02) * ln
                pts.append((round(xa + (xb - xa) * t + nx * off, 3), round(ya + (yb - ya) * t + ny * off, 3)))
        edge[a, b] = pts
        return pts

    for j in range(rows):
        for i in range(cols):
            corners = ((i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1))
            ring = []
            for q in range(4):
                a, b = corners[q], corners[(q + 1) % 4]
                ring.append(node[a])
                ring.extend(edge_pts(a, b))
            yield [orient(ring, True)]


# --- WKB, built directly (much faster than AddPoint from Python)

def _ring_wkb(r):
    n = len(r) + 1
    flat = []
    for x, y in r:
        flat.append(x)
        flat.append(y)
    flat.append(r[0][0])
    flat.append(r[0][1])
    return struct.pack("<I%dd" % (2 * n), n, *flat)


def poly_wkb(rings):
    return struct.pack("<BII", 1, 3, len(rings)) + b"".join(_ring_wkb(r) for r in rings)


def multi_wkb(polys):
    return struct.pack("<BII", 1, 6, len(polys)) + b"".join(poly_wkb(p) for p in polys)


EMPTY_MULTI_WKB = struct.pack("<BII", 1, 6, 0)

# --- deliberate damage


def damage(rng, ring, kind):
    """Return a copy of ring made invalid ('bowtie', 'selftouch', 'spike') or
    dirty-but-valid ('dup')."""
    n = len(ring)
    r = list(ring)
    i = rng.randrange(n)
    cx = sum(p[0] for p in r) / n
    cy = sum(p[1] for p in r) / n
    vx, vy = r[i]
    if kind == "bowtie":
        j = (i + 1) % n
        r[i], r[j] = r[j], r[i]
    elif kind == "bowtie2":
        # reverse half the ring: chords r[0]-r[n/2] and r[1]-r[n/2+1] cross
        r = [r[0]] + r[1:n // 2 + 1][::-1] + r[n // 2 + 1:]
    elif kind == "bowtie3":
        # last resort: a plain bowtie over the ring's bounding box
        xs = [p[0] for p in r]
        ys = [p[1] for p in r]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        r = [(x0, y0), (x1, y1), (x1, y0 + 0.3 * (y1 - y0)), (x0, y1)]
    elif kind == "selftouch":
        # an inverted hole: a small loop from vertex i into the interior and back
        dx, dy = cx - vx, cy - vy
        a = (round(vx + 0.15 * dx - 0.05 * dy, 3), round(vy + 0.15 * dy + 0.05 * dx, 3))
        b = (round(vx + 0.15 * dx + 0.05 * dy, 3), round(vy + 0.15 * dy - 0.05 * dx, 3))
        r[i + 1:i + 1] = [a, b, (vx, vy)]
    elif kind == "spike":
        sp = (round(vx + 0.25 * (vx - cx), 3), round(vy + 0.25 * (vy - cy), 3))
        r[i + 1:i + 1] = [sp, (vx, vy)]
    elif kind == "dup":
        r[i + 1:i + 1] = [(vx, vy)]
    return r


# --------------------------------------------------------------------------


def pip(x, y, ring):
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


class World:
    def __init__(self, rng):
        self.rng = rng
        self.build_provinces()
        self.build_novex()

    def build_provinces(self):
        for attempt in range(8):
            amp = 0.1 * (0.7 ** attempt)
            rng = random.Random(self.rng.random())
            edges = {}

            def border(p, q):
                key = (p, q) if p < q else (q, p)
                if key not in edges:
                    a = tuple(v * KM for v in NODES[key[0]])
                    b = tuple(v * KM for v in NODES[key[1]])
                    mid = []

                    def rec(a, b):
                        ln = math.hypot(b[0] - a[0], b[1] - a[1])
                        if ln <= 1500.0:
                            return
                        d = rng.uniform(-amp, amp) * ln
                        m = ((a[0] + b[0]) / 2 - (b[1] - a[1]) / ln * d, (a[1] + b[1]) / 2 + (b[0] - a[0]) / ln * d)
                        rec(a, m)
                        mid.append((round(m[0], 3), round(m[1], 3)))
                        rec(m, b)
                    rec(a, b)
                    edges[key] = mid
                pts = edges[key]
                return pts if key == (p, q) else pts[::-1]

            provs = []
            for naam, code, ring_s, islands in PROVINCES:
                names = ring_s.split()
                ring = []
                for k, p in enumerate(names):
                    q = names[(k + 1) % len(names)]
                    ring.append(tuple(float(v * KM) for v in NODES[p]))
                    ring.extend(border(p, q))
                polys = [[orient(ring, True)]]
                for cx, cy, rx, ry, rot in islands:
                    polys.append([blob_ring(rng, cx * KM, cy * KM, rx * KM, ry * KM, math.radians(rot), n=40)])
                coarse = [tuple(v * KM for v in NODES[p]) for p in names]
                provs.append(dict(naam=naam, code=code, polys=polys, coarse=coarse))
            if self.check_partition(provs):
                self.provinces = provs
                for p in provs:
                    p["area"] = abs(ring_area(p["coarse"]))
                return
        raise SystemExit("gen_national: could not build a valid province partition")

    @staticmethod
    def check_partition(provs):
        geoms = []
        for p in provs:
            wkb = multi_wkb(p["polys"]) if len(p["polys"]) > 1 else poly_wkb(p["polys"][0])
            if not is_valid(wkb):
                return False  # jitter crossed a neighbouring border: retry smaller
            geoms.append(ogr.CreateGeometryFromWkb(wkb))
        total = sum(g.GetArea() for g in geoms)
        u = geoms[0]
        for g in geoms[1:]:
            u = u.Union(g)
        return abs(u.GetArea() - total) <= 1e-9 * total

    def build_novex(self):
        self.novex = []
        for naam, cx, cy, rx, ry, rot in NOVEX:
            ring = blob_ring(self.rng, cx * KM, cy * KM, rx * KM, ry * KM, math.radians(rot),
                             n=self.rng.randint(48, 64), amp=0.06)
            self.novex.append(dict(naam=naam, cx=cx * KM, cy=cy * KM, rx=rx * KM, ry=ry * KM,
                                   rot=math.radians(rot), ring=ring, area=math.pi * rx * ry))

    def sample(self, theme):
        """A point for a claim of this theme, and the name of the zone it was drawn in."""
        rng = self.rng
        if rng.random() < NOVEX_SHARE[theme]:
            z = rng.choices(self.novex, weights=[z["area"] for z in self.novex])[0]
            r = math.sqrt(rng.random()) * 0.9
            a = rng.uniform(0, 2 * math.pi)
            ex, ey = z["rx"] * r * math.cos(a), z["ry"] * r * math.sin(a)
            c, s = math.cos(z["rot"]), math.sin(z["rot"])
            return z["cx"] + ex * c - ey * s, z["cy"] + ex * s + ey * c, z["naam"]
        w = PROV_WEIGHT[theme]
        p = rng.choices(self.provinces, weights=[p["area"] * w.get(p["code"], 1.0) for p in self.provinces])[0]
        xs = [q[0] for q in p["coarse"]]
        ys = [q[1] for q in p["coarse"]]
        while True:
            x, y = rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys))
            if pip(x, y, p["coarse"]):
                return x, y, p["naam"]


def loguniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def ellipse_radii(rng, area, aspect_lo, aspect_hi):
    asp = rng.uniform(aspect_lo, aspect_hi)
    rx = math.sqrt(area * asp / math.pi)
    return rx, rx / asp


# --------------------------------------------------------------------------
# claim generators: each yields (zone name, ('P', rings) | ('M', polys) | ('E', None))


def gen_blobs(world, theme, f, n, a_lo, a_hi, asp, hole_p, multi_p, parts=(2, 4)):
    rng = world.rng
    for _ in range(n):
        x, y, zone = world.sample(theme)
        rx, ry = ellipse_radii(rng, loguniform(rng, a_lo, a_hi) * f * f, *asp)
        rot = rng.uniform(0, math.pi)
        if rng.random() < multi_p:
            yield zone, ("M", multi_blobs(rng, x, y, rx, ry, rot, rng.randint(*parts), hole_p))
        else:
            yield zone, ("P", blob_poly(rng, x, y, rx, ry, rot, hole=rng.random() < hole_p))


def gen_corridors(world, theme, f, n, w_lo, w_hi, l_lo, l_hi):
    rng = world.rng
    for _ in range(n):
        x, y, zone = world.sample(theme)
        length = loguniform(rng, l_lo, l_hi) * f
        width = rng.uniform(w_lo, w_hi) * f
        hd = rng.uniform(0, 2 * math.pi)
        x -= 0.5 * length * math.cos(hd)
        y -= 0.5 * length * math.sin(hd)
        yield zone, ("P", corridor(rng, x, y, length, width, hd))


def gen_blocks(world, theme, f, n, cols, rows, dx, dy):
    """Blocks of adjacent parcels; stops after exactly n parcels."""
    rng = world.rng
    made = 0
    while made < n:
        x, y, zone = world.sample(theme)
        nc, nr = rng.randint(*cols), rng.randint(*rows)
        pdx, pdy = rng.uniform(*dx) * f, rng.uniform(*dy) * f
        rot = rng.uniform(-0.6, 0.6) + (math.pi / 2 if rng.random() < 0.3 else 0.0)
        x -= nc * pdx / 2
        y -= nr * pdy / 2
        for poly in parcel_grid(rng, x, y, nc, nr, pdx, pdy, rot):
            if made == n:
                break
            made += 1
            yield zone, ("P", poly)


def gen_mixed(world, theme, f, n, share, gens):
    """Two generators in turn: the first makes share of the n claims, the second the rest."""
    n1 = int(round(n * share))
    yield from gens[0](n1)
    yield from gens[1](n - n1)


def claims_for(world, theme, n, f):
    if theme == "nature":
        return gen_blobs(world, theme, f, n, 2e5, 6e7, (1.0, 2.5), 0.12, 0.10)
    if theme == "water":
        return gen_mixed(world, theme, f, n, 0.4, (
            lambda k: gen_corridors(world, theme, f, k, 400, 2000, 5000, 50000),
            lambda k: gen_blobs(world, theme, f, k, 1e5, 2e7, (1.0, 3.0), 0.05, 0.08)))
    if theme == "housing":
        return gen_mixed(world, theme, f, n, 0.4, (
            lambda k: gen_blocks(world, theme, f, k, (2, 4), (2, 3), (200, 500), (200, 500)),
            lambda k: gen_blobs(world, theme, f, k, 1e5, 8e6, (1.0, 2.0), 0.05, 0.0)))
    if theme == "wind":
        return gen_blobs(world, theme, f, n, 2e6, 3e7, (2.0, 6.0), 0.0, 0.10, parts=(2, 3))
    if theme == "solar":
        return gen_blobs(world, theme, f, n, 5e4, 3e6, (1.0, 2.0), 0.08, 0.0)
    if theme == "agri":
        return gen_blocks(world, theme, f, n, (3, 7), (2, 5), (300, 900), (200, 600))
    if theme == "defence":
        return gen_blobs(world, theme, f, n, 2e6, 4e7, (1.0, 2.0), 0.10, 0.30)
    if theme == "infra":
        return gen_corridors(world, theme, f, n, 80, 400, 3000, 40000)
    raise KeyError(theme)


# --------------------------------------------------------------------------
# writing


def srs_of(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def open_out(path, driver):
    drv = ogr.GetDriverByName(driver)
    if os.path.exists(path):
        drv.DeleteDataSource(path)
    return drv.CreateDataSource(path)


def layer_options(driver):
    if driver == "ESRI Shapefile":
        return ["ENCODING=UTF-8", "DBF_DATE_LAST_UPDATE=2024-01-01"]
    if driver == "GeoJSON":
        return ["RFC7946=NO", "WRITE_NAME=NO", "COORDINATE_PRECISION=9"]
    return []


class Writer:
    """Writes features to one layer, in transactions of `batch` features."""

    def __init__(self, ds, lyr, transform, batch=20000):
        self.ds, self.lyr, self.ct = ds, lyr, transform
        self.defn = lyr.GetLayerDefn()
        self.tx = ds.TestCapability(ogr.ODsCTransactions)
        self.batch, self.pending = batch, 0
        if self.tx:
            ds.StartTransaction()

    def add(self, attrs, wkb):
        feat = ogr.Feature(self.defn)
        for k, v in attrs:
            feat.SetField(k, v)
        g = ogr.CreateGeometryFromWkb(wkb)
        if self.ct is not None and not g.IsEmpty():
            g.Transform(self.ct)
        feat.SetGeometryDirectly(g)
        self.lyr.CreateFeature(feat)
        self.pending += 1
        if self.tx and self.pending >= self.batch:
            self.ds.CommitTransaction()
            self.ds.StartTransaction()
            self.pending = 0

    def close(self):
        if self.tx:
            self.ds.CommitTransaction()


def write_zones(out, world):
    rd = srs_of(28992)
    ds = open_out(os.path.join(out, "provinces.gpkg"), "GPKG")
    lyr = ds.CreateLayer("provinces", rd, ogr.wkbMultiPolygon)
    lyr.CreateField(ogr.FieldDefn("naam", ogr.OFTString))
    lyr.CreateField(ogr.FieldDefn("code", ogr.OFTString))
    w = Writer(ds, lyr, None)
    for p in world.provinces:
        w.add((("naam", p["naam"]), ("code", p["code"])), multi_wkb(p["polys"]))
    w.close()
    ds = None
    ds = open_out(os.path.join(out, "novex.gpkg"), "GPKG")
    lyr = ds.CreateLayer("novex", rd, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("naam", ogr.OFTString))
    lyr.CreateField(ogr.FieldDefn("nr", ogr.OFTInteger))
    w = Writer(ds, lyr, None)
    for k, z in enumerate(world.novex, start=1):
        w.add((("naam", z["naam"]), ("nr", k)), poly_wkb([z["ring"]]))
    w.close()
    ds = None


DAMAGE_KINDS = ["bowtie", "selftouch", "spike"]


def is_valid(wkb):
    g = ogr.CreateGeometryFromWkb(wkb)
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        return g.IsValid()
    finally:
        gdal.PopErrorHandler()


def write_theme(out, world, spec, n, f, datasets):
    theme, fname, lname, driver, epsg, gtype, _ = spec
    rng = world.rng
    path = os.path.join(out, fname)
    if fname not in datasets:
        datasets[fname] = open_out(path, driver)
    ds = datasets[fname]
    lyr = ds.CreateLayer(lname, srs_of(epsg), gtype, layer_options(driver))
    for fn, ft in (("naam", ogr.OFTString), ("programma", ogr.OFTString),
                   ("jaar", ogr.OFTInteger), ("bron_id", ogr.OFTInteger)):
        fd = ogr.FieldDefn(fn, ft)
        if ft == ogr.OFTString and driver == "ESRI Shapefile":
            fd.SetWidth(80)
        lyr.CreateField(fd)
    ct = None if epsg == 28992 else osr.CoordinateTransformation(srs_of(28992), srs_of(epsg))
    w = Writer(ds, lyr, ct)

    n_bad = int(round(n * INVALID_FRACTION))
    n_dirty = int(round(n * DIRTY_FRACTION))
    n_empty = max(1, int(round(n * EMPTY_FRACTION[theme]))) if theme in EMPTY_FRACTION else 0
    picks = rng.sample(range(n), min(n, n_bad + n_dirty + n_empty))
    bad = {k: DAMAGE_KINDS[m % len(DAMAGE_KINDS)] for m, k in enumerate(picks[:n_bad])}
    dirty = set(picks[n_bad:n_bad + n_dirty])
    empty = set(picks[n_bad + n_dirty:])
    force_multi = gtype == ogr.wkbMultiPolygon
    counts = dict(features=0, invalid=0, empty=0, dirty_valid=0, multipart=0, with_holes=0)
    label, progs = LABEL[theme], PROGRAMMA[theme]
    for k, (zone, (kind, g)) in enumerate(claims_for(world, theme, n, f)):
        attrs = (("naam", "%s %s %05d" % (label, zone, k + 1)), ("programma", progs[k % len(progs)]),
                 ("jaar", YEARS[(k * 7) % len(YEARS)]), ("bron_id", k + 1))
        polys = [g] if kind == "P" else g
        if k in empty:
            wkb = EMPTY_MULTI_WKB
            counts["empty"] += 1
        else:
            how = bad.get(k, "dup" if k in dirty else None)
            if how is not None:
                orig = polys
                polys = [[damage(rng, orig[0][0], how)] + orig[0][1:]] + orig[1:]
                for fallback in ("bowtie2", "bowtie3"):
                    if how != "bowtie" or not is_valid(poly_wkb(polys[0])):
                        break
                    # swapping two neighbouring vertices can leave a ring simple
                    # (nearly collinear points); cross it harder
                    polys = [[damage(rng, orig[0][0], fallback)] + orig[0][1:]] + orig[1:]
            if len(polys) == 1 and not force_multi:
                wkb = poly_wkb(polys[0])
            else:
                wkb = multi_wkb(polys)
            if not is_valid(wkb):
                counts["invalid"] += 1
                if how is None or how == "dup":
                    print("gen_national: note: %s claim %d came out invalid" % (theme, k + 1), file=sys.stderr)
            elif how == "dup":
                counts["dirty_valid"] += 1
            elif how is not None:
                print("gen_national: note: %s claim %d stayed valid after %s" % (theme, k + 1, how), file=sys.stderr)
            counts["multipart"] += len(polys) > 1
            counts["with_holes"] += any(len(p) > 1 for p in polys)
        w.add(attrs, wkb)
        counts["features"] += 1
    w.close()
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-exp", type=float, default=0.5,
                    help="lengths are multiplied by scale**-E (default 0.5: constant claimed area)")
    args = ap.parse_args()
    if args.scale <= 0:
        ap.error("--scale must be > 0")
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    world = World(rng)
    write_zones(args.out, world)
    f = args.scale ** -args.size_exp
    manifest = {
        "crs": "EPSG:28992",
        "generator": "testdata/gen_national.py",
        "scale": args.scale, "seed": args.seed, "size_exp": args.size_exp,
        "layers": [],
        "provinces": {"source": "provinces.gpkg", "field": "naam", "features": len(world.provinces)},
        "novex": {"source": "novex.gpkg", "field": "naam", "features": len(world.novex)},
    }
    datasets = {}
    total = dict(features=0, invalid=0, empty=0, dirty_valid=0)
    for spec in THEMES:
        theme, fname, lname, driver, epsg, gtype, n1 = spec
        n = max(1, int(round(n1 * args.scale)))
        c = write_theme(args.out, world, spec, n, f, datasets)
        source = fname if fname != "claims.gpkg" else "%s|layername=%s" % (fname, lname)
        manifest["layers"].append(dict(theme=theme, source=source, format=driver, epsg=epsg, **c))
        for k in total:
            total[k] += c[k]
    for ds in datasets.values():
        ds.FlushCache()
    datasets.clear()
    for entry in manifest["layers"]:
        # the layer type as OGR reports it when reading (GeoJSON infers it from the features)
        path, _, lname = entry["source"].partition("|layername=")
        ds = ogr.Open(os.path.join(args.out, path))
        lyr = ds.GetLayerByName(lname) if lname else ds.GetLayer(0)
        entry["geometry_type"] = ogr.GeometryTypeToName(lyr.GetGeomType())
        ds = None
    with open(os.path.join(args.out, "scenario.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("gen_national: scale %g seed %d: %d claims in %d themes (%d invalid, %d dirty, %d empty), "
          "12 provinces, 16 NOVEX areas -> %s in %.1f s" % (
              args.scale, args.seed, total["features"], len(THEMES), total["invalid"],
              total["dirty_valid"], total["empty"], args.out, time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
