"""patho.py -- `make bench-patho`: stapel next to mapshaper on messy inputs.

The national scenario of `make bench` is well behaved: many small claims. Real
layers also hold a few monsters, and a tool that is fast on the first can
still take minutes on one of those. Each case here is made (seeded, in
EPSG:28992) to hit one known weak spot of an overlay:

  ring-1m      one claim, a ring of 1,000,000 vertices, over many tiles
  twists-800k  a ring of 800,000 vertices with 800 small twists (invalid:
               the repair must not renode the whole ring slowly)
  star-1001    a star ring of 1,001 edges that all cross near its centre
               (250,000 self-crossings to repair)
  copies-8000  8,000 identical copies of a 1,000-vertex polygon (one area
               delivered many times)
  strips-500   500 horizontal and 500 vertical strips (250,000 crossings,
               750,000 faces: the output itself is large)
  holes-50k    one polygon with 50,000 holes
  shells-300   one MultiPolygon of 300 overlapping squares over a ring of
               100,000 vertices whose polygon has a "hole" outside it
               (invalid: the repair must find the holes that touch their
               shell without going over every face once per shell)

Each tool runs once per case (these take seconds to minutes), with a time
limit (BENCH_PATHO_TIMEOUT, 300 s). The table goes to
docs/PERFORMANCE-PATHOLOGICAL.md and to stdout. Run it through bench/run
(BENCH_SUITE=patho, or make bench-patho), which prepares mapshaper and the
build. Nothing here is part of `make test`.
"""

import datetime
import json
import math
import os
import random
import sys

from osgeo import ogr, osr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (the run helpers and the machine description)

OUT = os.path.join(B.OUT, "patho")
DOC = os.path.join(B.ROOT, os.environ.get("BENCH_PATHO_OUT", "docs/PERFORMANCE-PATHOLOGICAL.md"))
TIMEOUT = float(os.environ.get("BENCH_PATHO_TIMEOUT", "300"))
CX, CY = 155000.0, 463000.0  # Amersfoort


def ring_wkt(pts):
    return "(" + ",".join("%.3f %.3f" % p for p in pts + [pts[0]]) + ")"


def circle(n, r, wobble=0.0, cx=CX, cy=CY):
    return [(cx + (r + wobble * math.sin(37 * 2 * math.pi * i / n)) * math.cos(2 * math.pi * i / n),
             cy + (r + wobble * math.sin(37 * 2 * math.pi * i / n)) * math.sin(2 * math.pi * i / n))
            for i in range(n)]


def case_ring_1m():
    return [["POLYGON(%s)" % ring_wkt(circle(1000000, 10000.0, 50.0))]]


def case_twists_800k():
    pts = circle(800000, 10000.0, 50.0)
    for i in range(5, len(pts) - 2, 1000):  # swap two neighbours: a small twist
        pts[i], pts[i + 1] = pts[i + 1], pts[i]
    return [["POLYGON(%s)" % ring_wkt(pts)]]


def case_star_1001():
    n = 1001
    pts = [(CX + 5000 * math.cos(2 * math.pi * ((i * (n // 2 - 1)) % n) / n),
            CY + 5000 * math.sin(2 * math.pi * ((i * (n // 2 - 1)) % n) / n)) for i in range(n)]
    return [["POLYGON(%s)" % ring_wkt(pts)]]


def case_copies_8000():
    wkt = "POLYGON(%s)" % ring_wkt(circle(1000, 2000.0, 20.0))
    return [[wkt] * 8000]


def case_strips_500():
    n, length = 500, 20000.0
    w = length / n
    h, v = [], []
    for i in range(n):
        a = i * w
        h.append("POLYGON(%s)" % ring_wkt([(CX, CY + a), (CX + length, CY + a),
                                           (CX + length, CY + a + w / 2), (CX, CY + a + w / 2)]))
        v.append("POLYGON(%s)" % ring_wkt([(CX + a, CY), (CX + a + w / 2, CY),
                                           (CX + a + w / 2, CY + length), (CX + a, CY + length)]))
    return [h, v]


def case_holes_50k():
    rnd = random.Random(1)
    side, k = 20000.0, 224  # a 224 x 224 lattice of small square holes, jittered
    holes = []
    step = side / k
    for i in range(k):
        for j in range(k):
            if len(holes) == 50000:
                break
            x = CX + i * step + rnd.uniform(0.2, 0.5) * step
            y = CY + j * step + rnd.uniform(0.2, 0.5) * step
            s = step * 0.3
            holes.append(ring_wkt([(x, y), (x, y + s), (x + s, y + s), (x + s, y)]))
    shell = ring_wkt([(CX, CY), (CX + side, CY), (CX + side, CY + side), (CX, CY + side)])
    return [["POLYGON(%s,%s)" % (shell, ",".join(holes))]]


def case_shells_300():
    ring = ring_wkt(circle(100000, 1000.0))
    stray = ring_wkt([(CX + 5000, CY), (CX + 5100, CY), (CX + 5100, CY + 100)])
    parts = ["(%s,%s)" % (ring, stray)]
    for i in range(300):
        d = 2000.0 + 0.01 * i
        parts.append("(%s)" % ring_wkt([(CX - d, CY - d), (CX + d, CY - d), (CX + d, CY + d),
                                        (CX - d, CY + d)]))
    return [["MULTIPOLYGON(%s)" % ",".join(parts)]]


CASES = [
    ("ring-1m", "one ring of 1,000,000 vertices (valid), over many tiles", case_ring_1m),
    ("twists-800k", "a ring of 800,000 vertices with 800 small twists (invalid: repaired)",
     case_twists_800k),
    ("star-1001", "a star ring of 1,001 edges crossing near its centre: 250,000 self-crossings "
     "(repaired)", case_star_1001),
    ("copies-8000", "8,000 identical copies of a polygon of 1,000 vertices", case_copies_8000),
    ("strips-500", "500 horizontal and 500 vertical strips: 250,000 crossings", case_strips_500),
    ("holes-50k", "one polygon with 50,000 holes", case_holes_50k),
    ("shells-300", "300 overlapping squares over a ring of 100,000 vertices with a \"hole\" "
     "outside it, as one MultiPolygon (invalid: repaired)", case_shells_300),
]


def write_case(name, layers):
    """The case as a GeoPackage (one layer per list, for stapel) and as one
    GeoJSON of all claims (for mapshaper); made once, kept in bench/out/patho."""
    gpkg = os.path.join(OUT, name + ".gpkg")
    geojson = os.path.join(OUT, name + ".json")
    if os.path.exists(gpkg) and os.path.exists(geojson):
        return gpkg, geojson, len(layers)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(28992)
    for p in (gpkg, geojson):
        if os.path.exists(p):
            os.unlink(p)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(gpkg[:-5] + ".tmp.gpkg")
    feats = []
    for k, wkts in enumerate(layers):
        multi = any(w.startswith("MULTI") for w in wkts)
        lyr = ds.CreateLayer("l%d" % k, srs, ogr.wkbMultiPolygon if multi else ogr.wkbPolygon)
        lyr.StartTransaction()
        for wkt in wkts:
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            lyr.CreateFeature(f)
            feats.append(wkt)
        lyr.CommitTransaction()
    ds = None
    with open(geojson + ".tmp", "w") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        for i, wkt in enumerate(feats):
            g = ogr.CreateGeometryFromWkt(wkt)
            fh.write(("," if i else "") + '{"type":"Feature","properties":{},"geometry":%s}\n'
                     % g.ExportToJson(["COORDINATE_PRECISION=3"]))
        fh.write("]}\n")
    os.rename(gpkg[:-5] + ".tmp.gpkg", gpkg)
    os.rename(geojson + ".tmp", geojson)
    return gpkg, geojson, len(layers)


def count_stapel(path):
    ds = ogr.Open(path)
    return ds.GetLayerByName("stack").GetFeatureCount()


def count_mapshaper(path):
    with open(path) as fh:
        data = json.load(fh)
    return sum(1 for f in data.get("features", []) if (f.get("properties") or {}).get("n", 0) >= 1)


def cell(r, faces):
    if not r.ok:
        return "failed: %s" % (r.reason or "?"), "", ""
    return B.fmt_s(r.wall), B.fmt_mb(r.rss_kb), "{:,}".format(faces) if faces is not None else "?"


def main():
    os.makedirs(OUT, exist_ok=True)
    machine = B.machine_info()
    stapel = machine.get("stapel_bin")
    ms = os.path.join(B.MS_DIR, "bin", "mapshaper")
    started = datetime.datetime.now()
    rows = []
    for name, what, make in CASES:
        B.log("patho: %s: making the input" % name)
        gpkg, geojson, n_layers = write_case(name, make())
        res = {}
        B.wait_quiet()
        out = os.path.join(OUT, name + "-stapel.gpkg")
        cmd = [stapel, "stack", "-q", "--overwrite", "-o", out]
        for k in range(n_layers):
            cmd += ["--layer", "t%d=%s|layername=l%d" % (k, gpkg, k)]
        B.log("patho: %s: stapel" % name)
        r = B.run_measured(cmd, timeout=TIMEOUT) if stapel else B.Run(False, None, None, "", "",
                                                                      "build/cli/stapel is missing")
        res["stapel"] = (r, count_stapel(out) if r.ok else None)
        B.wait_quiet()
        msout = os.path.join(OUT, name + "-mapshaper.json")
        B.log("patho: %s: mapshaper" % name)
        if os.path.exists(ms):
            r = B.run_measured(["node", ms, geojson, "-mosaic", "calc=n=count()", "-o", msout,
                                "format=geojson"], timeout=TIMEOUT)
        else:
            r = B.Run(False, None, None, "", "", "mapshaper is not installed")
        res["mapshaper"] = (r, count_mapshaper(msout) if r.ok else None)
        if os.path.exists(msout):
            os.unlink(msout)  # large, and of no further use
        rows.append((name, what, res))
    finished = datetime.datetime.now()

    lines = []
    w = lines.append
    w("# Performance on pathological inputs")
    w("")
    w("Generated by `make bench-patho` (bench/patho.py). Do not edit by hand. Not part of "
      "`make test`; the targets of issue 6 are judged on the national scenario "
      "(PERFORMANCE.md). Each case is made to hit one weak spot of an overlay; each tool "
      "runs once per case, with a limit of %g s." % TIMEOUT)
    w("")
    w("- Run: %s – %s" % (started.strftime("%Y-%m-%d %H:%M"), finished.strftime("%H:%M")))
    w("- Machine: %s @ %s MHz, %s cores, %.1f GiB RAM" % (
        machine["cpu"], "%.0f" % machine["mhz"] if machine.get("mhz") else "?", machine["cores"],
        machine.get("ram_gib") or 0))
    w("- Libraries: GDAL %s, GEOS %s, PROJ %s; mapshaper %s on node %s" % (
        machine["gdal"], machine["geos"], machine["proj"], machine["mapshaper"], machine["node"]))
    w("- stapel: git %s" % machine["stapel_git"])
    w("")
    w("| case | input | stapel (s) | stapel RSS (MB) | stapel faces | mapshaper (s) | "
      "mapshaper RSS (MB) | mapshaper faces | stapel / mapshaper (time) |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, what, res in rows:
        (rs, fs), (rm, fm) = res["stapel"], res["mapshaper"]
        s_cells, m_cells = cell(rs, fs), cell(rm, fm)
        ratio = B.fmt_ratio(rs.wall, rm.wall) if rs.ok and rm.ok else "—"
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % ((name, what) + s_cells + m_cells +
                                                              (ratio,)))
    w("")
    w("stapel's faces are maximal regions of one set of claims, with every claim counted; "
      "mapshaper's are its mosaic's tiles with n ≥ 1. Where a tool timed out or failed, the "
      "reason is shown. Inputs are in `bench/out/patho` (GeoPackage for stapel, one GeoJSON "
      "for mapshaper).")
    text = "\n".join(lines) + "\n"
    with open(DOC, "w") as fh:
        fh.write(text)
    sys.stdout.write(text)
    B.log("patho: wrote %s" % B.rel(DOC))


if __name__ == "__main__":
    main()
