#!/usr/bin/python3
"""make_demo.py OUTDIR -- write the small Flevoland demo puzzle for stapel.

What it generates (deterministic: a fixed random seed and hand-placed shapes;
running it twice gives the same data):

  provinces.gpkg   layer provinces  1 Polygon, naam="Flevoland" (30 vertices)
  novex.gpkg       layer novex      3 NOVEX areas (naam); two overlap each other,
                                    one ("Noordoostpolder Urk") sticks out of the province
  nature.shp       ESRI Shapefile   nature claims; holes, a multipolygon, overlaps,
                                    and exactly ONE invalid polygon (a bowtie, "Knarbos")
  water.gpkg       layer water      MultiPolygon layer; corridors, a hole, a 2-part claim,
                                    overlaps, and ONE feature with an EMPTY geometry
  claims.gpkg      layers agri, housing, infra  (a multi-layer source: use
                                    'claims.gpkg|layername=agri' etc.)
                                    agri: two blocks of parcels sharing edges exactly;
                                    housing: a 3x2 block of adjacent plots, a hole, overlaps
  wind.geojson     GeoJSON in EPSG:4326 (lon/lat); a multipolygon and overlaps
  solar.shp        ESRI Shapefile   a hole, a multipolygon, overlaps
  scenario.json    manifest (paths relative to this directory)
  README.md        what is in each file and the facts a test can check

Everything except wind.geojson is in EPSG:28992 (RD New); all coordinates are
constructed in RD and rounded to the millimetre; wind is transformed to WGS 84
with OSR (traditional GIS order, so x=lon, y=lat).

Usage: /usr/bin/python3 testdata/make_demo.py testdata/demo
Only osgeo (ogr/osr) and the standard library are used.
"""

import json
import math
import os
import random
import sys

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()
# Fixed timestamps in the GeoPackage metadata, so re-runs give identical files.
gdal.SetConfigOption("OGR_CURRENT_DATE", "2024-01-01T00:00:00.000Z")
# Small SQLite pages keep the demo GeoPackages small (about 35 KB instead of 100 KB).
gdal.SetConfigOption("OGR_SQLITE_PRAGMA", "page_size=1024")

SEED = 28992

# --------------------------------------------------------------------------
# geometry helpers; a ring is a closed list of (x, y), a polygon a list of
# rings (outer first), a multipolygon a list of polygons.


def rnd(v):
    return round(v, 3)


def ring_area(ring):
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        s += x1 * y2 - x2 * y1
    return s / 2.0


def orient(ring, ccw):
    if (ring_area(ring) > 0) != ccw:
        ring = ring[::-1]
    return ring


def close(pts):
    pts = [(rnd(x), rnd(y)) for x, y in pts]
    return pts + [pts[0]]


def blob_ring(rng, cx, cy, rx, ry, rot_deg=0.0, n=None, amp=0.08):
    """A jittered ellipse. Star-shaped around (cx, cy), hence always simple."""
    if n is None:
        n = rng.randint(24, 36)
    harm = [(rng.uniform(0, amp), rng.uniform(0, 2 * math.pi)) for _ in range(3)]
    rot = math.radians(rot_deg)
    c, s = math.cos(rot), math.sin(rot)
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        f = 1.0 + rng.uniform(-0.04, 0.04)
        for k, (a, ph) in enumerate(harm, start=2):
            f += a * math.cos(k * t + ph)
        ex, ey = rx * math.cos(t) * f, ry * math.sin(t) * f
        pts.append((cx + ex * c - ey * s, cy + ex * s + ey * c))
    return orient(close(pts), True)


def blob(rng, cx, cy, rx, ry, rot=0.0, hole=None):
    """Polygon; hole=(dx, dy, hr) puts a hole of radius ~hr at offset (dx, dy)."""
    rings = [blob_ring(rng, cx, cy, rx, ry, rot)]
    if hole:
        dx, dy, hr = hole
        assert math.hypot(dx, dy) + 1.3 * hr < 0.7 * min(rx, ry)
        rings.append(orient(blob_ring(rng, cx + dx, cy + dy, hr, hr * 0.8, rot), False))
    return rings


def corridor(rng, line, width):
    """A band of the given width around a polyline (mitred joints, gentle bends)."""
    dense = []
    for (x1, y1), (x2, y2) in zip(line, line[1:]):
        k = rng.randint(2, 4)
        for j in range(k):
            dense.append((x1 + (x2 - x1) * j / k, y1 + (y2 - y1) * j / k))
    dense.append(line[-1])
    h = width / 2.0
    left, right = [], []
    for i, (x, y) in enumerate(dense):
        a = dense[max(i - 1, 0)]
        b = dense[min(i + 1, len(dense) - 1)]
        dx, dy = b[0] - a[0], b[1] - a[1]
        ln = math.hypot(dx, dy)
        nx, ny = -dy / ln, dx / ln
        w = h * rng.uniform(0.85, 1.15)
        left.append((x + nx * w, y + ny * w))
        right.append((x - nx * w, y - ny * w))
    return [orient(close(left + right[::-1]), True)]


def parcel_grid(rng, x0, y0, cols, rows, dx, dy, rot_deg):
    """cols x rows parcels whose shared edges are the very same vertex sequences.

    Grid nodes are jittered; each grid edge gets 0-2 jittered interior vertices,
    computed once and used (forward or reversed) by both parcels beside it.
    Returns a list of ((col, row), polygon)."""
    rot = math.radians(rot_deg)
    c, s = math.cos(rot), math.sin(rot)

    def place(u, v):
        return (rnd(x0 + u * c - v * s), rnd(y0 + u * s + v * c))

    node = {}
    for i in range(cols + 1):
        for j in range(rows + 1):
            ju = 0 if i in (0, cols) else rng.uniform(-0.12, 0.12) * dx
            jv = 0 if j in (0, rows) else rng.uniform(-0.12, 0.12) * dy
            node[i, j] = (i * dx + ju, j * dy + jv)
    edge = {}

    def edge_pts(a, b):
        # interior points from node a to node b, shared by both neighbours
        if (b, a) in edge:
            return edge[b, a][::-1]
        if (a, b) not in edge:
            (ua, va), (ub, vb) = node[a], node[b]
            k = rng.randint(0, 2)
            ln = math.hypot(ub - ua, vb - va)
            nu, nv = -(vb - va) / ln, (ub - ua) / ln
            ts = sorted(rng.uniform(0.2, 0.8) for _ in range(k))
            pts = []
            for t in ts:
                off = rng.uniform(-0.02, 0.02) * ln
                pts.append((ua + (ub - ua) * t + nu * off, va + (vb - va) * t + nv * off))
            edge[a, b] = pts
        return edge[a, b]

    out = []
    for j in range(rows):
        for i in range(cols):
            corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            uv = []
            for a, b in zip(corners, corners[1:] + corners[:1]):
                uv.append(node[a])
                uv.extend(edge_pts(a, b))
            ring = [place(u, v) for u, v in uv]
            out.append(((i, j), [orient(ring + [ring[0]], True)]))
    return out


def poly_wkt(poly):
    return "(" + ",".join("(" + ",".join("%r %r" % p for p in r) + ")" for r in poly) + ")"


def to_ogr(geom):
    """geom: ('Polygon', poly) | ('MultiPolygon', [poly...]) | ('Empty', type)."""
    kind, g = geom
    if kind == "Polygon":
        return ogr.CreateGeometryFromWkt("POLYGON " + poly_wkt(g))
    if kind == "MultiPolygon":
        return ogr.CreateGeometryFromWkt("MULTIPOLYGON (" + ",".join(poly_wkt(p) for p in g) + ")")
    return ogr.Geometry(g)  # empty geometry of type g


def polys_of(geom):
    kind, g = geom
    return [g] if kind == "Polygon" else (g if kind == "MultiPolygon" else [])


def shoelace(geom):
    return sum(abs(ring_area(p[0])) - sum(abs(ring_area(h)) for h in p[1:]) for p in polys_of(geom))


# --------------------------------------------------------------------------
# the puzzle

FLEVOLAND = [
    (137000, 480500), (141000, 477500), (147000, 476000), (153000, 477000),
    (158000, 478500), (163000, 477500), (167000, 479500), (171000, 483500),
    (175000, 487500), (179000, 492000), (183000, 496500), (186000, 500000),
    (187500, 505000), (190000, 510000), (189000, 516000), (190000, 522000),
    (187000, 528000), (181000, 530000), (175000, 529000), (170500, 524500),
    (169500, 518000), (172000, 512000), (166000, 508500), (160000, 506000),
    (157000, 502500), (155500, 497500), (152000, 493500), (147000, 491500),
    (142000, 489500), (138500, 486000),
]


def P(g):
    return ("Polygon", g)


def M(*polys):
    return ("MultiPolygon", list(polys))


def build(rng):
    """Returns dict name -> layer spec (features: list of (attrs, geom))."""
    L = {}
    prov_ring = orient([(float(x), float(y)) for x, y in FLEVOLAND] + [FLEVOLAND[0]], True)
    L["provinces"] = dict(
        fields=[("naam", ogr.OFTString)],
        features=[({"naam": "Flevoland"}, P([prov_ring]))])

    L["novex"] = dict(
        fields=[("naam", ogr.OFTString), ("nr", ogr.OFTInteger)],
        features=[
            ({"naam": "Almere Oosterwold", "nr": 1}, P(blob(rng, 153000, 485000, 4500, 3500, 20))),
            ({"naam": "Lelystad Airport en omgeving", "nr": 2},
             P(blob(rng, 161000, 492500, 7000, 5500, 35))),
            ({"naam": "Noordoostpolder Urk", "nr": 3}, P(blob(rng, 179000, 522000, 10000, 7000, 5))),
        ])

    def claim(naam, omschr, jaar, geom):
        return ({"naam": naam, "omschr": omschr, "jaar": jaar}, geom)

    bowtie = [(168000.0, 497000.0), (169800.0, 498400.0), (169800.0, 497300.0),
              (168000.0, 498000.0), (168000.0, 497000.0)]
    L["nature"] = dict(features=[
        claim("Oostvaardersplassen – kern", "Natura 2000; moeras en grasland, kern met broedeiland",
              2030, P(blob(rng, 149500, 489800, 3800, 1700, 22, hole=(300, 100, 450)))),
        claim("Oostvaardersplassen – ruigte", "overgangszone, overlapt de kern", 2030,
              P(blob(rng, 152500, 490000, 2500, 1500, 25))),
        claim("Horsterwold", "loofbos; uitbreiding NNN", 2040, P(blob(rng, 163500, 481500, 2800, 1400, 15))),
        claim("Kuinderbos", "bos op de provinciegrens", 2040, P(blob(rng, 187000, 527500, 1800, 1200, -10))),
        claim("Waterloopbos", "rijksmonument én natuur", 2030, P(blob(rng, 180500, 521500, 900, 700, 30))),
        claim("Lepelaarplassen", "vogelgebied", 2030, P(blob(rng, 145000, 488000, 1000, 700, 10))),
        claim("Natuurpark Lelystad", "natuurpark met wisenten", 2035, P(blob(rng, 159000, 499000, 1500, 1100, 0))),
        claim("Roggebotzand", "bos aan het Drontermeer", 2040, P(blob(rng, 181500, 500000, 2000, 1200, 40))),
        claim("Knarbos", "zelfdoorsnijdende ring (vlinderdas): opzettelijk ongeldig", 2035, P([bowtie])),
        claim("Markermeer-oevers", "drie losse oeverdelen (multipolygoon)", 2050,
              M(blob(rng, 156000, 500000, 700, 400, 70), blob(rng, 157800, 503500, 600, 350, 50),
                blob(rng, 161000, 506300, 800, 400, 20))),
        claim("Schokland en omgeving", "werelderfgoed en natuur op landbouwgrond", 2040,
              P(blob(rng, 181500, 515200, 1600, 500, 15))),
        claim("Urkerbos", "bos bij Urk", 2030, P(blob(rng, 172500, 522500, 700, 500, 0))),
        claim("Reve-Abbertbos", "bos aan het Ketelmeer", 2040, P(blob(rng, 172500, 507500, 1300, 800, 15))),
        claim("Eemmeer-oever", "oeverzone langs het Eemmeer", 2050, P(blob(rng, 154500, 479500, 2200, 800, 0))),
    ])

    L["water"] = dict(features=[
        claim("Veluwerandmeren oeverzone", "klimaatbuffer langs de randmeren", 2050,
              M(corridor(rng, [(148000, 476300), (155000, 477700), (161000, 478200), (166500, 479200),
                               (171500, 483600), (176000, 488300), (181000, 493800), (185500, 499200)],
                         1200))),
        claim("Hoge Vaart", "hoofdvaart met bergingszone", 2040,
              M(corridor(rng, [(143000, 485000), (150000, 487000), (157000, 490500), (163000, 494000),
                               (170000, 497500), (176000, 500500)], 300))),
        claim("Waterberging Lage Vaart", "piekberging", 2035, M(blob(rng, 166000, 492500, 1800, 1100, -20))),
        claim("Zuidlob piekberging", "overlapt Waterberging Lage Vaart", 2035,
              M(blob(rng, 168300, 491800, 1300, 900, 10))),
        claim("Lage Vaart", "vaart met natte ecologische zone", 2040,
              M(corridor(rng, [(163000, 490000), (170000, 494000), (176000, 497500), (182000, 501000)], 250))),
        claim("Markermeer-kustzone", "kustversterking Markermeerdijk", 2050,
              M(corridor(rng, [(138500, 486000), (142000, 489500), (147000, 491500), (152000, 493500),
                               (155500, 497500), (157000, 502500), (160000, 506000)], 1500))),
        claim("Waterberging Noordoostpolder", "twee bergingsvakken (multipolygoon)", 2040,
              M(blob(rng, 183000, 518000, 900, 600, 0), blob(rng, 186500, 514000, 800, 500, 30))),
        claim("Ketelmeer oeverzone", "met een eiland (gat)", 2040,
              M(blob(rng, 178500, 508500, 2500, 1200, 20, hole=(300, 100, 400)))),
        claim("Retentiegebied (nog niet begrensd)", "lege geometrie: nog geen begrenzing", 2050,
              ("Empty", ogr.wkbMultiPolygon)),
    ])

    housing = [claim("Almere Pampus", "nieuwe stadswijk aan het Markermeer", 2040,
                     P(blob(rng, 140500, 489500, 1800, 1100, 35)))]
    for (i, j), poly in parcel_grid(rng, 150000, 482000, 3, 2, 2000, 1500, 8):
        k = j * 3 + i + 1
        housing.append(claim("Almere Oosterwold – deelgebied %d" % k,
                             "aaneengesloten kavel (deelt randen met de buren)", 2030 + 5 * j, P(poly)))
    housing += [
        claim("Almere Centrum Weerwater", "woningbouw rond het Weerwater (gat)", 2035,
              P(blob(rng, 145500, 485500, 1500, 1100, 0, hole=(0, -100, 500)))),
        claim("Lelystad Warande", "uitleglocatie", 2040, P(blob(rng, 157500, 503000, 1400, 900, 30))),
        claim("Lelystad Centrum-Oost", "overlapt Warande", 2035, P(blob(rng, 159000, 502000, 1200, 800, 0))),
        claim("Biddinghuizen Oost", "uitbreiding op landbouwgrond", 2040,
              P(blob(rng, 174500, 492000, 700, 500, 0))),
        claim("Dronten Noord", "uitbreiding", 2035, P(blob(rng, 177500, 502000, 1000, 700, 10))),
        claim("Emmeloord Oost", "uitbreiding", 2035, P(blob(rng, 187500, 523500, 1100, 800, 0))),
        claim("Zeewolde Polderwijk", "uitbreiding", 2030, P(blob(rng, 162800, 480500, 1000, 700, 0))),
    ]
    L["housing"] = dict(features=housing)

    agri = []
    crops = ["akkerbouw – pootaardappelen", "akkerbouw – tulpenbollen", "grasland", "akkerbouw – uien"]
    for blk, args in (("A", (169000, 489500, 5, 4, 1200, 900, 12)),
                      ("B", (179500, 512500, 4, 3, 1300, 1000, -8))):
        for (i, j), poly in parcel_grid(rng, *args):
            k = j * args[2] + i + 1
            agri.append(claim("Kavel %s-%02d" % (blk, k), crops[(i + j) % len(crops)], 2030, P(poly)))
    L["agri"] = dict(features=agri)

    L["infra"] = dict(features=[
        claim("Lelystad Airport – uitbreiding", "start- en landingsbaan", 2030,
              P(blob(rng, 165500, 494500, 1600, 700, 45))),
        claim("A6 verbreding Almere–Lelystad", "rijksweg", 2030,
              P(corridor(rng, [(141000, 484000), (146000, 486500), (152000, 489000), (157000, 494000),
                               (160000, 499000), (163000, 503000)], 150))),
        claim("Hanzelijn corridor", "spoor", 2040,
              P(corridor(rng, [(158000, 500000), (165000, 499000), (172000, 501500), (178000, 503000),
                               (186000, 505500)], 120))),
        claim("N23 Flevopolder", "provinciale weg", 2035,
              P(corridor(rng, [(155000, 481000), (162000, 486000), (168000, 490000), (176000, 494500)], 100))),
    ])

    L["solar"] = dict(features=[
        claim("Zonnepark Dronten", "op landbouwgrond", 2030, P(blob(rng, 172200, 491000, 700, 450, 10))),
        claim("Zonneveld Lelystad Airport", "naast de baan", 2030, P(blob(rng, 166800, 495500, 600, 400, 45))),
        claim("Zonnepark Stichtse Kant", "bij de Stichtse brug", 2035, P(blob(rng, 152000, 479500, 800, 500, 0))),
        claim("Zonneweide Emmeloord", "op landbouwgrond", 2035, P(blob(rng, 181500, 513500, 900, 500, -8))),
        claim("Zon op dijk Ketelmeer", "twee dijkvakken (multipolygoon)", 2040,
              M(blob(rng, 173500, 511000, 500, 200, 30), blob(rng, 176500, 509300, 500, 200, 30))),
        claim("Zon op daken Oosterwold", "op woonkavels", 2035, P(blob(rng, 152500, 483500, 500, 400, 0))),
        claim("Zonnepark Zeewolde", "met een gat (bosje)", 2030,
              P(blob(rng, 161500, 487000, 900, 700, 0, hole=(50, 0, 200)))),
        claim("Zonnepark Zeewolde-Noord", "overlapt Zonnepark Zeewolde", 2035,
              P(blob(rng, 162300, 487600, 700, 500, 20))),
    ])

    L["wind"] = dict(features=[
        claim("Windplan Blauw", "lijnopstelling langs de dijk", 2030, P(blob(rng, 170500, 509500, 4000, 700, 30))),
        claim("Windplan Groen", "zoekgebied", 2030, P(blob(rng, 176000, 497000, 3500, 1800, 45))),
        claim("Windpark Zeewolde", "bestaand, opschalen", 2030, P(blob(rng, 161500, 487500, 3000, 1500, 10))),
        claim("Windpark Noordoostpolder", "deels in het IJsselmeer", 2030,
              P(blob(rng, 174000, 527500, 3500, 500, 20))),
        claim("Zoekgebied wind Lelystad-Zuid", "overlapt Windplan Groen", 2040,
              P(blob(rng, 173500, 494500, 2000, 1200, 0))),
        claim("Zoekgebied wind Almere", "twee deelgebieden (multipolygoon)", 2040,
              M(blob(rng, 145500, 484000, 1500, 800, 0), blob(rng, 156500, 479500, 1000, 500, 10))),
    ])
    return L


CLAIM_FIELDS = [("naam", ogr.OFTString), ("omschr", ogr.OFTString), ("jaar", ogr.OFTInteger)]

# theme -> (file, layer name, driver, layer geometry type, EPSG of the stored data)
OUTPUTS = [
    ("provinces", "provinces.gpkg", "provinces", "GPKG", ogr.wkbPolygon, 28992),
    ("novex", "novex.gpkg", "novex", "GPKG", ogr.wkbPolygon, 28992),
    ("nature", "nature.shp", "nature", "ESRI Shapefile", ogr.wkbPolygon, 28992),
    ("water", "water.gpkg", "water", "GPKG", ogr.wkbMultiPolygon, 28992),
    ("agri", "claims.gpkg", "agri", "GPKG", ogr.wkbPolygon, 28992),
    ("housing", "claims.gpkg", "housing", "GPKG", ogr.wkbPolygon, 28992),
    ("infra", "claims.gpkg", "infra", "GPKG", ogr.wkbPolygon, 28992),
    ("wind", "wind.geojson", "wind", "GeoJSON", ogr.wkbUnknown, 4326),
    ("solar", "solar.shp", "solar", "ESRI Shapefile", ogr.wkbPolygon, 28992),
]


def srs_of(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def write(outdir, layers):
    rd = srs_of(28992)
    datasets = {}
    for name, fname, lname, drv, gtype, epsg in OUTPUTS:
        path = os.path.join(outdir, fname)
        if fname not in datasets:
            if os.path.exists(path):
                ogr.GetDriverByName(drv).DeleteDataSource(path)
            datasets[fname] = ogr.GetDriverByName(drv).CreateDataSource(path)
        ds = datasets[fname]
        opts = []
        if drv == "ESRI Shapefile":
            opts = ["ENCODING=UTF-8", "DBF_DATE_LAST_UPDATE=2024-01-01"]
        elif drv == "GeoJSON":
            opts = ["RFC7946=NO", "WRITE_NAME=NO"]
        lyr = ds.CreateLayer(lname, srs_of(epsg), gtype, opts)
        spec = layers[name]
        for fn, ft in spec.get("fields", CLAIM_FIELDS):
            lyr.CreateField(ogr.FieldDefn(fn, ft))
        ct = osr.CoordinateTransformation(rd, srs_of(epsg)) if epsg != 28992 else None
        lyr.StartTransaction()
        for attrs, geom in spec["features"]:
            f = ogr.Feature(lyr.GetLayerDefn())
            for k, v in attrs.items():
                f.SetField(k, v)
            g = to_ogr(geom)
            if ct is not None and not g.IsEmpty():
                g.Transform(ct)
            f.SetGeometry(g)
            lyr.CreateFeature(f)
        lyr.CommitTransaction()
    for ds in datasets.values():
        ds.FlushCache()
    datasets.clear()


def facts(layers):
    """Per-layer facts known by construction."""
    out = {}
    for name, fname, lname, drv, gtype, epsg in OUTPUTS:
        feats = layers[name]["features"]
        invalid = sum(1 for a, g in feats if a.get("naam") == "Knarbos")
        empty = sum(1 for a, g in feats if g[0] == "Empty")
        multi = sum(1 for a, g in feats if g[0] == "MultiPolygon" and len(g[1]) > 1)
        holes = sum(1 for a, g in feats if any(len(p) > 1 for p in polys_of(g)))
        if drv == "ESRI Shapefile":
            otype = "Polygon"
        elif gtype == ogr.wkbUnknown:
            otype = "Unknown (any)"
        else:
            otype = ogr.GeometryTypeToName(gtype)
        valid_area = sum(shoelace(g) for a, g in feats if a.get("naam") != "Knarbos")
        source = fname if fname != "claims.gpkg" else "%s|layername=%s" % (fname, lname)
        out[name] = dict(source=source, layer=lname, format=drv, features=len(feats),
                         geometry_type=otype, epsg=epsg, invalid=invalid, empty=empty,
                         multipart=multi, with_holes=holes, area_valid_m2=round(valid_area, 1))
    return out


README_HEAD = """\
# Demo puzzle: Flevoland

A small, hand-placed stack-map puzzle in the style of the Flevoland *Stapelkaart*.
Generated by `testdata/make_demo.py` (deterministic; re-run it with
`/usr/bin/python3 testdata/make_demo.py testdata/demo` after changing it, this file
included). The shapes are made up: plausible places and names, not real boundaries.

All files are in EPSG:28992 (RD New) except `wind.geojson`, which is EPSG:4326 with
lon/lat coordinate order (as GeoJSON requires). RD coordinates are rounded to 1 mm.

| file | layer(s) | holds |
|---|---|---|
| `provinces.gpkg` | `provinces` | one province, `naam` = `Flevoland`: a 30-vertex polygon, x 137000-190000, y 476000-530000 |
| `novex.gpkg` | `novex` | three NOVEX areas (`naam`, `nr`): *Almere Oosterwold* and *Lelystad Airport en omgeving* overlap each other; *Noordoostpolder Urk* extends beyond the province border (into the IJsselmeer and Friesland/Overijssel) |
| `nature.shp` (+ .shx .dbf .prj .cpg) | `nature` | nature claims. *Oostvaardersplassen – kern* has a hole and overlaps *– ruigte* and *Lepelaarplassen*; *Markermeer-oevers* is a 3-part multipolygon; *Knarbos* is a bowtie (self-intersecting ring), the ONE invalid geometry of the demo; *Kuinderbos* crosses the province border |
| `water.gpkg` | `water` | MultiPolygon layer: corridors along the Veluwerandmeren, Hoge Vaart and Markermeer coast (partly outside the province), *Ketelmeer oeverzone* with a hole, a 2-part claim, two overlapping storage areas crossed by the *Lage Vaart* corridor, and *Retentiegebied (nog niet begrensd)* whose geometry is EMPTY |
| `claims.gpkg` | `agri`, `housing`, `infra` | a multi-layer source: address it as `claims.gpkg\\|layername=agri` etc. `agri`: two blocks of parcels (A: 5x4, B: 4x3) on jittered, rotated grids whose shared edges are the very same vertex sequences (reversed); `housing`: *Almere Oosterwold – deelgebied 1..6* is a 3x2 block of plots sharing edges exactly, *Almere Centrum Weerwater* has a hole, *Lelystad Centrum-Oost* overlaps *Lelystad Warande*; `infra`: an airport extension and three road/rail corridors |
| `wind.geojson` | `wind` | wind areas in EPSG:4326; *Zoekgebied wind Almere* is a 2-part multipolygon, *Zoekgebied wind Lelystad-Zuid* overlaps *Windplan Groen*, *Windpark Noordoostpolder* lies partly in the IJsselmeer |
| `solar.shp` (+ .shx .dbf .prj .cpg) | `solar` | solar parks; *Zonnepark Zeewolde* has a hole and is overlapped by *Zonnepark Zeewolde-Noord*; *Zon op dijk Ketelmeer* is a 2-part multipolygon |
| `scenario.json` | | the manifest: themes, sources, zone layers (paths relative to this directory), plus the facts below per layer |

Claim layers have the fields `naam` (text, UTF-8, e.g. `Oostvaardersplassen – kern`),
`omschr` (text) and `jaar` (integer). Claims of different themes overlap a lot on
purpose (e.g. around Zeewolde: wind, solar, nature, housing, infra and water).

CLI call:

    stapel stack -o out.gpkg \\
      --layer nature=testdata/demo/nature.shp \\
      --layer water=testdata/demo/water.gpkg \\
      --layer agri='testdata/demo/claims.gpkg|layername=agri' \\
      --layer housing='testdata/demo/claims.gpkg|layername=housing' \\
      --layer infra='testdata/demo/claims.gpkg|layername=infra' \\
      --layer wind=testdata/demo/wind.geojson \\
      --layer solar=testdata/demo/solar.shp \\
      --provinces testdata/demo/provinces.gpkg --novex testdata/demo/novex.gpkg

or `mapfile -t args < <(/usr/bin/python3 testdata/scenario_args.py testdata/demo/scenario.json)`.

## Facts per layer (by construction)

`features` counts every feature, including the empty one. `geometry type` is the
layer type as `ogrinfo -so` reports it (a shapefile says `Polygon` even though
multi-part features read as MultiPolygon). `invalid` is the number of features for
which OGR/GEOS `IsValid()` is false (the empty geometry counts as valid, not as
invalid). `multipart` counts features with 2+ polygons, `holes` features with at
least one interior ring. `area (valid) m²` is the sum over valid features of their
shoelace area in RD, computed from the constructed coordinates (overlaps counted
twice); for `wind` it is the area before the transformation to EPSG:4326.

| theme / layer | source | features | geometry type | EPSG | invalid | empty | multipart | holes | area (valid) m² |
|---|---|---|---|---|---|---|---|---|---|
"""

README_TAIL = """
Shared edges, by construction:
- `agri`: block A (parcels `Kavel A-01`..`A-20`, 5 columns x 4 rows) has 31 interior
  shared edges, block B (`Kavel B-01`..`B-12`, 4x3) has 17. The two blocks do not
  touch. Sum of parcel areas = area of the union of the layer (no overlaps inside `agri`).
- `housing`: the 6 *Almere Oosterwold* plots (3x2) share 7 edges.
- A shared edge is stored as the same vertex sequence in both polygons (reversed).

Overlaps, by construction:
- within a layer: `nature` (*Oostvaardersplassen – kern* with *– ruigte* and with
  *Lepelaarplassen*), `water` (*Waterberging Lage Vaart*, *Zuidlob piekberging* and the
  *Lage Vaart* corridor, pairwise), `housing` (*Lelystad Warande* / *Lelystad
  Centrum-Oost*), `infra` (the A6 and Hanzelijn corridors cross), `wind` (*Windplan
  Groen* / *Zoekgebied wind Lelystad-Zuid*), `solar` (*Zonnepark Zeewolde* /
  *Zonnepark Zeewolde-Noord*). `agri` has none.
- NOVEX: *Almere Oosterwold* overlaps *Lelystad Airport en omgeving*;
  *Noordoostpolder Urk* reaches outside the province (about 10.7 km² of it).
- outside the province (faces there get no province): parts of *Kuinderbos* and
  *Markermeer-oevers* (nature), *Veluwerandmeren oeverzone* and *Markermeer-kustzone*
  (water), *Windpark Noordoostpolder* (wind), *Almere Pampus* and *Lelystad Warande*
  (housing). All other claims lie inside Flevoland.
- across themes: every one of the 21 theme pairs overlaps somewhere (e.g. *Zonnepark
  Dronten* and *Biddinghuizen Oost* on agri block A, *Schokland en omgeving* on agri
  block B, *Zon op daken Oosterwold* on the Oosterwold plots, the N23 corridor across
  agri block A). The bowtie *Knarbos* is crossed by the *Hoge Vaart* corridor (water).

The bowtie *Knarbos*, in RD: `POLYGON ((168000 497000,169800 498400,169800 497300,168000 498000,168000 497000))`.
Its two triangles meet at (168857.143, 497666.667); GEOS MakeValid turns it into two triangles of
428571.4 m² and 518571.4 m² (947142.9 m² in all).
"""


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_demo.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(SEED)
    layers = build(rng)
    write(outdir, layers)
    fx = facts(layers)

    manifest = {
        "crs": "EPSG:28992",
        "layers": [],
        "provinces": {"source": "provinces.gpkg", "field": "naam"},
        "novex": {"source": "novex.gpkg", "field": "naam"},
    }
    rows = []
    for name, *_ in OUTPUTS:
        f = fx[name]
        if name not in ("provinces", "novex"):
            manifest["layers"].append(dict(
                theme=name, source=f["source"], features=f["features"],
                geometry_type=f["geometry_type"], epsg=f["epsg"], invalid=f["invalid"], empty=f["empty"]))
        rows.append("| %s | `%s` | %d | %s | %d | %d | %d | %d | %d | %.1f |" % (
            name, f["source"].replace("|", "\\|"), f["features"], f["geometry_type"], f["epsg"], f["invalid"],
            f["empty"], f["multipart"], f["with_holes"], f["area_valid_m2"]))
    with open(os.path.join(outdir, "scenario.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    with open(os.path.join(outdir, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(README_HEAD + "\n".join(rows) + "\n" + README_TAIL)
    print("make_demo: wrote %s (%d claim layers)" % (outdir, len(manifest["layers"])), file=sys.stderr)


if __name__ == "__main__":
    main()
