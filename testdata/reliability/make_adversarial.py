#!/usr/bin/python3
"""Write the adversarial scenario of issue 7 ("no topology exceptions") and its
manifest for testdata/oracle/check_stack.py. All in EPSG:28992, near
(150000, 450000); each theme is one layer of adversarial.gpkg:

  near       squares whose edges lie 0.1 mm apart (gaps and overlaps far below
             the 1 mm grid), and a square shifted by 0.1 mm onto another
  touch      squares and triangles touching at a single vertex; a vertex
             lying on another polygon's edge (T-junction)
  collinear  rectangles in a staircase whose edges overlap collinearly in
             part, and the same rectangle twice
  holes      a 20 km square with 1,600 square holes, and a second one shifted
             by half a hole, so that holes and shells cross everywhere
  inside     claims inside holes, on hole borders and straddling them
  thin       needles and slivers a few mm wide, edges crossing at tiny angles,
             a polygon of 20,000 vertices on a circle, and squares smaller
             than the grid
plus provinces (two, their border collinear with claim edges) and NOVEX
areas (overlapping each other and the holes).

Usage: make_adversarial.py OUTDIR   (writes OUTDIR/adversarial.gpkg,
OUTDIR/zones.gpkg and OUTDIR/scenario.json)
"""
import json
import math
import os
import sys

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
X0, Y0 = 150000.0, 450000.0


def ring(pts):
    r = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in list(pts) + [pts[0]]:
        r.AddPoint_2D(X0 + x, Y0 + y)
    return r


def poly(shell, *holes):
    p = ogr.Geometry(ogr.wkbPolygon)
    p.AddGeometry(ring(shell))
    for h in holes:
        p.AddGeometry(ring(h))
    return p


def rect(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def near():
    e = 0.0001  # 0.1 mm
    out = [rect(0, 0, 100, 100), rect(100 + e, 0, 200, 100), rect(200 - e, 0, 300, 100),
           rect(0, 100 + e, 100, 200), rect(e, e, 100 + e, 100 + e),
           rect(100, 100 - e, 200, 200)]
    return [poly(r) for r in out]


def touch():
    out = [rect(400, 0, 500, 100), rect(500, 100, 600, 200),  # corner to corner
           [(400, 200), (450, 300), (350, 300)], [(450, 300), (550, 300), (500, 400)],
           rect(600, 0, 700, 100),
           [(650, 100), (700, 150), (600, 150)]]  # vertex on the edge y = 100 of the last
    return [poly(r) for r in out]


def collinear():
    out = []
    for i in range(8):
        out.append(rect(800 + 40 * i, 10 * i, 900 + 40 * i, 50 + 10 * i))
    out.append(rect(800, 200, 1000, 300))
    out.append(rect(800, 200, 1000, 300))  # the same rectangle twice
    out.append(rect(900, 200, 1100, 250))  # an edge on the middle of another
    return [poly(r) for r in out]


def holes(shift):
    size, n, hole = 20000.0, 40, 200.0
    step = size / n
    hs = []
    for i in range(n):
        for j in range(n):
            x = 2000 + shift + i * step + (step - hole) / 2
            y = -22000 + shift + j * step + (step - hole) / 2
            hs.append(list(reversed(rect(x, y, x + hole, y + hole))))
    return [poly(rect(2000 + shift, -22000 + shift, 2000 + shift + size, -2000 + shift), *hs)]


def inside():
    out = []
    step, hole = 500.0, 200.0
    for i in range(0, 40, 3):
        for j in range(0, 40, 3):
            x = 2000 + i * step + (step - hole) / 2
            y = -22000 + j * step + (step - hole) / 2
            k = (i + j) % 3
            if k == 0:
                out.append(rect(x + 50, y + 50, x + 150, y + 150))  # inside the hole
            elif k == 1:
                out.append(rect(x, y, x + hole, y + hole))  # exactly the hole
            else:
                out.append(rect(x - 50, y + 50, x + 100, y + 150))  # straddling its border
    return [poly(r) for r in out]


def thin():
    out = [[(0, -100), (300, -100.003), (300, -99.998)],  # a 5 mm needle
           [(0, -200), (300, -200), (300, -199.996), (0, -199.998)],  # a sliver
           [(0, -300), (300, -299.9), (300, -299.8), (0, -300.1)],  # crossing at a tiny angle
           [(0, -299.95), (300, -300.05), (300, -299.9), (0, -299.85)]]
    c = [(150 + 80 * math.cos(2 * math.pi * k / 20000),
          -600 + 80 * math.sin(2 * math.pi * k / 20000)) for k in range(20000)]
    out.append(c)
    out.append(rect(400, -400, 400.0004, -399.9996))  # smaller than the grid
    out.append(rect(400, -500, 400.0015, -499.9985))  # about one grid cell
    return [poly(r) for r in out]


def write_layers(path, layers, srs):
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    for name, geoms, field, names in layers:
        lyr = ds.CreateLayer(name, srs, ogr.wkbPolygon)
        if field:
            lyr.CreateField(ogr.FieldDefn(field, ogr.OFTString))
        lyr.StartTransaction()
        for i, g in enumerate(geoms):
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetGeometry(g)
            if field:
                f.SetField(field, names[i])
            lyr.CreateFeature(f)
        lyr.CommitTransaction()
    ds = None


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(28992)
    claims = os.path.join(out, "adversarial.gpkg")
    zones = os.path.join(out, "zones.gpkg")
    for p in (claims, zones):
        if os.path.exists(p):
            os.unlink(p)
    themes = {"near": near(), "touch": touch(), "collinear": collinear(),
              "holes": holes(0) + holes(250), "inside": inside(), "thin": thin()}
    write_layers(claims, [(t, g, None, None) for t, g in themes.items()], srs)
    # Province border on x = 100 (collinear with claim edges) and down the holes.
    provinces = [poly(rect(-1000, -23000, 100, 1000)), poly(rect(100, -23000, 23000, 1000))]
    novex = [poly(rect(-50, -700, 650, 250)), poly(rect(500, -15000, 12000, 150)),
             poly(rect(8000, -21000, 15000, -9000))]
    write_layers(zones, [("provinces", provinces, "naam", ["West", "Oost"]),
                         ("novex", novex, "naam", ["Rand", "Gaten", "Midden"])], srs)
    manifest = {
        "crs": "EPSG:28992",
        "layers": [{"theme": t, "source": "adversarial.gpkg|layername=" + t} for t in themes],
        "provinces": {"source": "zones.gpkg|layername=provinces", "field": "naam"},
        "novex": {"source": "zones.gpkg|layername=novex", "field": "naam"},
    }
    with open(os.path.join(out, "scenario.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
