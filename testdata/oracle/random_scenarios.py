#!/usr/bin/python3
"""random_scenarios.py - randomised differential testing of `stapel stack`.

Makes tiny random scenarios in EPSG:28992 (3-15 claims over 2-4 themes, a
provinces layer and sometimes a NOVEX layer) built to stress snap rounding
and topology: vertices on a coarse grid, so that edges coincide and overlap
collinearly; copies shifted by sub-millimetre amounts (below and around the
1 mm snap grid); T-junctions; shared edges with other vertex sets (extra
collinear vertices, some moved by a fraction of a millimetre); spikes and
bow-ties (invalid, repaired); holes touching their shell; polygons touching
at a point; slivers a few tenths of a millimetre to a centimetre wide; edges
densified so that small `--tile-vertices` cut the claims into many tiles;
and now and then coordinates near 1e6 instead of near RD's 1.5e5.

For each seed it runs `stapel stack` and checks the output with
check_stack.py (with --dissolved); it runs the scenario with --threads 1
and --threads 2 and requires identical features; every few seeds it runs
it in shards and joins them with `stapel merge`, and requires the same area
per class (n_claims, n_themes), per zone and per conflict group (zones and
theme pair) as the single run, and that the
merged output passes check_stack.py too. With --summary, check_summary.py
checks the conflicts and zone tables of both.

    random_scenarios.py STAPEL SCRATCH --quick            fixed seeds, < 60 s (meson test)
    random_scenarios.py STAPEL SCRATCH --seeds 1-500      a range of seeds
    random_scenarios.py STAPEL SCRATCH --time 3000        as many seeds as fit
    random_scenarios.py STAPEL SCRATCH --write SEED       only write scenario SEED
    random_scenarios.py STAPEL SCRATCH --spec FILE.json   run one saved scenario
    random_scenarios.py STAPEL SCRATCH --minimise SEED|FILE.json
    add --summary to any of them to run check_summary.py as well (the
    rules' themes are used, so that faces get verdicts and conflicts)

A failing seed keeps its directory SCRATCH/seed-N (scenario.json, spec.json,
the outputs and the oracle's report); other seeds' directories are removed.
spec.json holds the scenario as coordinate lists, so it can be cut down by
hand or by --minimise SEED, which drops claims, zones, parts and vertices
while the failure stays and writes SCRATCH/min-N/spec.json.

Only Debian's Python with osgeo (GDAL's bindings) and the standard library.
Exit status: 0 every seed passed, 1 a seed failed, 2 usage or setup error.
"""

import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_STACK = os.path.join(HERE, "check_stack.py")
CHECK_SUMMARY = os.path.join(HERE, "check_summary.py")
PY = sys.executable or "/usr/bin/python3"
QUICK_SEEDS = list(range(1, 13))

# ---------------------------------------------------------------- generator
# A polygon is a list of rings, a ring a list of (x, y) without the closing
# point, in metres from the scenario's origin. A claim is a list of polygons.


def rect(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def shift(poly, dx, dy):
    return [[(x + dx, y + dy) for x, y in r] for r in poly]


def densify(ring, rnd, step, jitter, most=40):
    """Extra vertices on the edges, some moved by up to `jitter` off the line."""
    out = []
    n = len(ring)
    for i in range(n):
        a, b = ring[i], ring[(i + 1) % n]
        out.append(a)
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        k = int(length / step)
        if k < 2:
            continue
        cuts = sorted(rnd.uniform(0, 1) for _ in range(rnd.randint(1, min(k, most))))
        for t in cuts:
            x, y = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
            if jitter and rnd.random() < 0.5:
                x += rnd.uniform(-jitter, jitter)
                y += rnd.uniform(-jitter, jitter)
            out.append((x, y))
    return out


class Gen:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        r = self.rnd
        self.cell = r.choice([0.5, 1.0, 1.0, 2.0, 5.0, 10.0])
        self.n = r.randint(6, 16)  # grid of n x n cells
        self.size = self.cell * self.n
        self.claims = []  # (theme index, polygons)

    def gp(self):
        r = self.rnd
        return (r.randint(0, self.n) * self.cell, r.randint(0, self.n) * self.cell)

    def grid_rect(self):
        r = self.rnd
        x0, x1 = sorted(r.sample(range(self.n + 1), 2))
        y0, y1 = sorted(r.sample(range(self.n + 1), 2))
        c = self.cell
        return rect(x0 * c, y0 * c, x1 * c, y1 * c)

    def tiny(self):
        r = self.rnd
        return r.choice([0.0001, 0.0003, 0.0004999, 0.0005, 0.0005001, 0.0007, 0.001,
                         0.0015, 0.002, 0.003]) * r.choice([-1, 1])

    def existing(self):
        if not self.claims:
            return None
        return self.rnd.choice(self.claims)[1]

    def shape(self):
        r = self.rnd
        kind = r.choices(
            ["rect", "poly", "tri", "bowtie", "spike", "hole_touch", "point_touch",
             "sliver", "copy_shift", "shared_edge", "tjunction", "multi", "needle",
             "hole", "copy", "collapse", "nested", "overlap_parts", "long_needle",
             "self_touch"],
            [10, 6, 5, 3, 3, 3, 3, 4, 7, 6, 4, 2, 2, 3, 3, 2, 2, 2, 2, 2])[0]
        c = self.cell
        if kind == "rect":
            return [[self.grid_rect()]], kind
        if kind == "poly":
            pts = [self.gp() for _ in range(r.randint(4, 8))]
            cx = sum(p[0] for p in pts) / len(pts)
            cy = sum(p[1] for p in pts) / len(pts)
            if r.random() < 0.7:  # star-shaped order: mostly valid
                pts.sort(key=lambda p: math.atan2(p[1] - cy, p[0] - cx))
            return [[pts]], kind
        if kind == "tri":
            return [[[self.gp(), self.gp(), self.gp()]]], kind
        if kind == "bowtie":
            x0, y0, x1, y1 = self.grid_rect()[0] + self.grid_rect()[2]
            return [[[(x0, y0), (x1, y1), (x1, y0), (x0, y1)]]], kind
        if kind == "spike":
            x0, y0 = self.gp()
            w = r.randint(2, 5) * c
            sx = x0 + r.randint(1, int(w / c) - 1) * c if w > c else x0 + w / 2
            ring = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + w), (sx, y0 + w),
                    (sx + r.choice([0, self.tiny()]), y0 + w + r.randint(1, 4) * c),
                    (sx, y0 + w), (x0, y0 + w)]
            if r.random() < 0.5:  # an inward spike
                ring[4] = (sx, y0 + w - r.randint(1, 2) * c * 0.5)
            return [[ring]], kind
        if kind in ("hole_touch", "hole"):
            x0, y0 = self.gp()
            w = r.randint(3, 6) * c
            shell = rect(x0, y0, x0 + w, y0 + w)
            if kind == "hole_touch":
                # a triangle hole with one corner on the shell's edge (valid) or
                # on its corner, or an edge along it (invalid)
                k = r.randint(0, 2)
                if k == 0:
                    hole = [(x0, y0 + w / 2), (x0 + w / 2, y0 + c), (x0 + w / 2, y0 + w - c)]
                elif k == 1:
                    hole = [(x0, y0), (x0 + w - c, y0 + c), (x0 + c, y0 + w - c)]
                else:
                    hole = [(x0, y0 + c), (x0 + w / 2, y0 + w / 2), (x0, y0 + w - c)]
            else:
                e = r.choice([c, c / 2, 0.001, 0.0004])
                hole = rect(x0 + e, y0 + e, x0 + w - e, y0 + w - e)
            if r.random() < 0.3:
                hole = [(x + self.tiny(), y + self.tiny()) for x, y in hole]
            return [[shell, hole]], kind
        if kind == "point_touch":
            x0, y0 = self.gp()
            a, b = r.randint(1, 3) * c, r.randint(1, 3) * c
            p1 = [rect(x0 - a, y0 - a, x0, y0)]
            p2 = [rect(x0, y0, x0 + b, y0 + b)]
            if r.random() < 0.3:
                p2 = shift(p2, self.tiny(), self.tiny())
            return [p1, p2], kind  # a multipolygon touching at a point
        if kind == "sliver":
            x0, y0 = self.gp()
            length = r.randint(2, self.n) * c
            w = r.choice([0.0002, 0.0005, 0.0009, 0.0011, 0.002, 0.005, 0.01])
            if r.random() < 0.5:
                ring = rect(x0, y0, x0 + length, y0 + w)
            else:
                ring = rect(x0, y0, x0 + w, y0 + length)
            if r.random() < 0.3:  # a slanted sliver
                ring = [(x0, y0), (x0 + length, y0 + length * r.choice([0.1, 0.5, 1])),
                        (x0 + length, y0 + length * r.choice([0.1, 0.5, 1]) + w),
                        (x0, y0 + w)]
            return [[ring]], kind
        if kind == "copy_shift":
            src = self.existing()
            if src is None:
                return [[self.grid_rect()]], "rect"
            return [shift(p, self.tiny() if r.random() < 0.8 else 0,
                          self.tiny() if r.random() < 0.8 else 0) for p in src], kind
        if kind == "shared_edge":
            # a rectangle sharing part of an edge with an earlier claim's ring,
            # with more vertices on that edge
            src = self.existing()
            if src is None:
                return [[self.grid_rect()]], "rect"
            ring = r.choice(src)[0]
            i = r.randrange(len(ring))
            a, b = ring[i], ring[(i + 1) % len(ring)]
            dx, dy = b[0] - a[0], b[1] - a[1]
            ln = math.hypot(dx, dy)
            if ln < 1e-6:
                return [[self.grid_rect()]], "rect"
            d = r.randint(1, 4) * c
            nx, ny = dy / ln * d, -dx / ln * d  # to the right of a->b
            if r.random() < 0.5:
                nx, ny = -nx, -ny
            t0, t1 = sorted([r.choice([0, 0.25, 0.5]), r.choice([0.5, 0.75, 1.0, 1.25])])
            pa = (a[0] + t0 * dx, a[1] + t0 * dy)
            pb = (a[0] + t1 * dx, a[1] + t1 * dy)
            mids = [(a[0] + t * dx, a[1] + t * dy)
                    for t in sorted(r.uniform(t0, t1) for _ in range(r.randint(0, 4)))]
            return [[[pa] + mids + [pb, (pb[0] + nx, pb[1] + ny), (pa[0] + nx, pa[1] + ny)]]], kind
        if kind == "tjunction":
            src = self.existing()
            if src is None:
                return [[[self.gp(), self.gp(), self.gp()]]], "tri"
            ring = r.choice(src)[0]
            i = r.randrange(len(ring))
            a, b = ring[i], ring[(i + 1) % len(ring)]
            t = r.choice([0.5, 1 / 3.0, r.random()])
            p = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
            if r.random() < 0.3:
                p = (p[0] + self.tiny(), p[1] + self.tiny())
            return [[[p, self.gp(), self.gp()]]], kind
        if kind == "multi":
            return [[self.grid_rect()] for _ in range(r.randint(2, 3))], kind
        if kind == "needle":
            x0, y0 = self.gp()
            x1, y1 = self.gp()
            w = r.choice([0.0003, 0.001, 0.004])
            return [[[(x0, y0), (x1, y1), (x1 + w, y1 + w * 0.5)]]], kind
        if kind == "copy":  # the same claim again (stapel links such copies)
            src = self.existing()
            if src is None:
                return [[self.grid_rect()]], "rect"
            return [[list(ring) for ring in p] for p in src], kind
        if kind == "collapse":
            # a polygon under a grid cell across, or whose corners round to
            # one line: nothing or a sliver after rounding
            x0, y0 = self.gp()
            e = r.choice([0.0002, 0.0004, 0.0006, 0.0009])
            if r.random() < 0.5:
                return [[[(x0, y0), (x0 + e, y0 + e / 3), (x0 + e / 2, y0 + e)]]], kind
            x1, y1 = self.gp()
            return [[[(x0, y0), (x1, y1), ((x0 + x1) / 2 + e, (y0 + y1) / 2 - e)]]], kind
        if kind == "nested":
            # a shell with a hole, and a second part inside the hole (valid),
            # touching it at a corner or along an edge, or overlapping it
            x0, y0 = self.gp()
            w = r.randint(4, 6) * c
            k = r.randint(0, 2)
            inner = [(x0 + c, y0 + c), (x0 + w - c, y0 + c), (x0 + w - c, y0 + w - c),
                     (x0 + c, y0 + w - c)]
            island = rect(x0 + 2 * c, y0 + 2 * c, x0 + w - 2 * c, y0 + w - 2 * c)
            if k == 1:
                island = rect(x0 + c, y0 + c, x0 + w - 2 * c, y0 + w - 2 * c)
            elif k == 2:
                island = rect(x0 + c / 2, y0 + c / 2, x0 + w - 2 * c, y0 + w - 2 * c)
            return [[rect(x0, y0, x0 + w, y0 + w), inner], [island]], kind
        if kind == "overlap_parts":  # a multipolygon whose parts overlap
            a = self.grid_rect()
            return [[a], [[(x + c / 2, y + c / 2) for x, y in a]]], kind
        if kind == "long_needle":  # across the whole extent, through many tiles
            w = r.choice([0.0005, 0.001, 0.002, 0.005])
            s = self.size
            y0, y1 = r.uniform(0, s), r.uniform(0, s)
            return [[[(0.0, y0), (s, y1), (s, y1 + w), (0.0, y0 + w * r.choice([1, 0.5]))]]], kind
        if kind == "self_touch":
            # a ring touching itself at a vertex, or an edge running back
            # along itself (a zero-width bridge)
            x0, y0 = self.gp()
            w = r.randint(2, 4) * c
            if r.random() < 0.5:
                return [[[(x0, y0), (x0 + w, y0), (x0 + w, y0 + w), (x0 + w / 2, y0),
                          (x0, y0 + w)]]], kind
            return [[[(x0, y0), (x0 + w, y0), (x0 + w, y0 + w), (x0 + 2 * w, y0 + w),
                      (x0 + 2 * w, y0 + 2 * w), (x0 + w, y0 + 2 * w), (x0 + w, y0 + w),
                      (x0, y0 + w)]]], kind
        raise AssertionError(kind)

    def zones(self):
        r = self.rnd
        c = self.cell
        s = self.size
        provinces = []
        k = r.randint(1, 3)
        cuts = sorted(r.sample(range(1, self.n), min(k - 1, self.n - 1))) if k > 1 else []
        edges = [-r.randint(0, 2) * c] + [x * c for x in cuts] + [s + r.randint(0, 2) * c]
        names = ["Fryslân", "Zeeland", "Utrecht"]
        for i in range(len(edges) - 1):
            x0, x1 = edges[i], edges[i + 1]
            if r.random() < 0.2:
                x1 += r.choice([c, self.tiny()])  # overlapping provinces
            y0 = -r.randint(0, 2) * c
            y1 = s + r.randint(-2, 2) * c
            ring = rect(x0, y0, x1, y1)
            if r.random() < 0.4:
                ring = densify(ring, r, c, 0.0004 if r.random() < 0.5 else 0)
            provinces.append((names[i], [[ring]]))
        if r.random() < 0.2 and len(provinces) > 1:  # one province in two features
            provinces.append((provinces[0][0], [[self.grid_rect()]]))
        novex = []
        if r.random() < 0.5:
            for i in range(r.randint(1, 3)):
                poly = [self.grid_rect()]
                if r.random() < 0.3:
                    poly = shift(poly, self.tiny(), self.tiny())
                novex.append(("NOVEX %d" % (i % 2), [poly]))
        return provinces, novex

    def make(self):
        r = self.rnd
        nthemes = r.randint(2, 4)
        nclaims = r.randint(3, 15)
        # Small tiles (--tile-vertices is at least 100) need claims of many
        # vertices: then most claims get extra vertices on their edges.
        tile = r.choice([None, None, None, 100, 100, 120, 150, 200, 300])
        kinds = []
        for i in range(nclaims):
            polys, kind = self.shape()
            if i == 0:  # at least one claim of some area, for the oracle's points
                x0, y0 = self.rnd.randint(0, self.n - 2), self.rnd.randint(0, self.n - 2)
                x1, y1 = self.rnd.randint(x0 + 2, self.n), self.rnd.randint(y0 + 2, self.n)
                c = self.cell
                polys, kind = [[rect(x0 * c, y0 * c, x1 * c, y1 * c)]], "rect"
            if r.random() < (0.8 if tile else 0.3):
                jitter = r.choice([0, 0, 0.0003, 0.0006])
                step = self.cell / (4 if tile else 1)
                polys = [[densify(ring, r, step, jitter) for ring in p] for p in polys]
            self.claims.append((r.randrange(nthemes), polys))
            kinds.append(kind)
        provinces, novex = self.zones()
        origin = r.choice([(150000.0, 450000.0)] * 6 + [(12345.678, 312345.125),
                                                         (3950000.0, 3200000.0),
                                                         (289999.9995, 620000.0005)])
        # RD New refuses coordinates near 1e6 (far outside its area, its
        # square metre is off by more than 1 %): large coordinates come in
        # ETRS89-LAEA (EPSG:3035), whose coordinates in the Netherlands are
        # near 4e6 and 3.2e6.
        crs = "EPSG:3035" if origin[0] > 1e6 else "EPSG:28992"
        # Themes of the default rules (docs/rules/novex-default.csv), so
        # that faces get verdicts and the conflicts layer has rows.
        themes = r.sample(["agri", "defence", "economy", "heritage", "housing", "infra",
                           "nature", "solar", "water", "wind"], nthemes)
        return {
            "crs": crs,
            "origin": list(origin),
            "themes": themes,
            "claims": [{"theme": themes[t], "geom": [[[list(p) for p in ring] for ring in poly]
                                                     for poly in polys]}
                       for t, polys in self.claims],
            "kinds": kinds,
            "provinces": [{"name": n, "geom": g} for n, g in provinces],
            "novex": [{"name": n, "geom": g} for n, g in novex],
            "tile_vertices": tile,
            "shards": r.choice([2, 3, 4]),
        }


def generate(seed):
    return Gen(seed).make()


# ------------------------------------------------------------------- writer


def ogr_geom(polys, origin):
    mp = ogr.Geometry(ogr.wkbMultiPolygon)
    for poly in polys:
        p = ogr.Geometry(ogr.wkbPolygon)
        for ring in poly:
            rg = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in list(ring) + [ring[0]]:
                rg.AddPoint_2D(origin[0] + x, origin[1] + y)
            p.AddGeometry(rg)
        mp.AddGeometry(p)
    return mp


def write(spec, out):
    os.makedirs(out, exist_ok=True)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(int(spec.get("crs", "EPSG:28992").split(":")[1]))
    drv = ogr.GetDriverByName("GPKG")
    origin = spec["origin"]
    path = os.path.join(out, "claims.gpkg")
    if os.path.exists(path):
        os.remove(path)
    ds = drv.CreateDataSource(path)
    layers = {}
    for t in spec["themes"]:
        layers[t] = ds.CreateLayer(t, srs, ogr.wkbMultiPolygon)
    for c in spec["claims"]:
        lyr = layers[c["theme"]]
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometryDirectly(ogr_geom(c["geom"], origin))
        lyr.CreateFeature(f)
    ds = None
    manifest = {"crs": spec.get("crs", "EPSG:28992"),
                "layers": [{"theme": t, "source": "claims.gpkg|layername=%s" % t}
                           for t in spec["themes"]]}
    for key in ("provinces", "novex"):
        if not spec[key]:
            continue
        path = os.path.join(out, key + ".gpkg")
        if os.path.exists(path):
            os.remove(path)
        ds = drv.CreateDataSource(path)
        lyr = ds.CreateLayer(key, srs, ogr.wkbMultiPolygon)
        lyr.CreateField(ogr.FieldDefn("naam", ogr.OFTString))
        for z in spec[key]:
            f = ogr.Feature(lyr.GetLayerDefn())
            f["naam"] = z["name"]
            f.SetGeometryDirectly(ogr_geom(z["geom"], origin))
            lyr.CreateFeature(f)
        ds = None
        manifest[key] = {"source": key + ".gpkg", "field": "naam"}
    with open(os.path.join(out, "scenario.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1)
    with open(os.path.join(out, "spec.json"), "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    return os.path.join(out, "scenario.json")


# ------------------------------------------------------------------- checks


def stack_args(spec, out):
    args = []
    for t in spec["themes"]:
        args += ["--layer", "%s=%s|layername=%s" % (t, os.path.join(out, "claims.gpkg"), t)]
    if spec["provinces"]:
        args += ["--provinces", os.path.join(out, "provinces.gpkg")]
    if spec["novex"]:
        args += ["--novex", os.path.join(out, "novex.gpkg")]
    if spec.get("crs", "EPSG:28992") != "EPSG:28992":
        args += ["--t_srs", spec["crs"]]
    if spec.get("tile_vertices"):
        args += ["--tile-vertices", str(spec["tile_vertices"])]
    return args


def run(cmd, log):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.append("$ " + " ".join(cmd) + "\n" + p.stdout)
    return p.returncode, p.stdout


def features(path):
    ds = ogr.Open(path)
    lyr = ds.GetLayerByName("stack")
    out = []
    for f in lyr:
        g = f.GetGeometryRef()
        out.append((g.ExportToIsoWkt() if g else None,
                    tuple(f.GetField(i) for i in range(f.GetFieldCount()))))
    return out


def tables(path):
    ds = ogr.Open(path)
    per_class, per_zone, conflicts = {}, {}, {}
    for f in ds.GetLayerByName("stack"):
        k = (f["n_claims"], f["n_themes"], f["themes"])
        per_class[k] = per_class.get(k, 0) + f["area_m2"]
        z = (f["province"], f["novex"])
        per_zone[z] = per_zone.get(z, 0) + f["area_m2"]
    for f in ds.GetLayerByName("conflicts"):
        k = (f["province"], f["novex"], f["theme_a"], f["theme_b"])
        conflicts[k] = conflicts.get(k, 0) + f["area_m2"]
    return per_class, per_zone, conflicts


def compare_tables(a, b, tol):
    bad = []
    for name, x, y in (("class", a[0], b[0]), ("zone", a[1], b[1]), ("conflicts", a[2], b[2])):
        for k in sorted(set(x) | set(y), key=repr):
            vx, vy = x.get(k, 0.0), y.get(k, 0.0)
            if abs(vx - vy) > tol:
                bad.append("%s %s: whole %.6f, merged %.6f" % (name, k, vx, vy))
    return bad


SUMMARY = False  # --summary: check_summary.py too


def check_seed(stapel, spec, out, shards=False, oracle_points=400, threads2=True):
    """Returns a list of failure strings (empty: passed) and the log."""
    log = []
    fails = []
    manifest = write(spec, out)
    args = stack_args(spec, out)
    o1 = os.path.join(out, "t1.gpkg")
    o2 = os.path.join(out, "t2.gpkg")
    rc, text = run([stapel, "stack", "-q", "--overwrite", "--threads", "1", "-o", o1] + args, log)
    if rc != 0:
        return ["stack exit %d: %s" % (rc, text.strip()[:300])], log
    rc, text = run([PY, CHECK_STACK, "--manifest", manifest, "--stack", o1, "--dissolved",
                    "--points", str(oracle_points), "--seed", "1"], log)
    if rc != 0:
        fails.append("oracle (threads 1) exit %d: %s" % (
            rc, " | ".join(l for l in text.splitlines() if l.startswith(("FAIL", "  ", "Trace",
                                                                          "oracle")))[:1500]))
    rc, text = (run([PY, CHECK_SUMMARY, "--manifest", manifest, "--stack", o1], log)
                if SUMMARY else (0, ""))
    if rc != 0:
        fails.append("oracle-summary (threads 1) exit %d: %s" % (
            rc, " | ".join(l for l in text.splitlines() if l.startswith(("FAIL", "  ", "Trace",
                                                                          "oracle")))[:1500]))
    if threads2:
        rc, text = run([stapel, "stack", "-q", "--overwrite", "--threads", "2", "-o", o2] + args,
                       log)
        if rc != 0:
            fails.append("stack --threads 2 exit %d: %s" % (rc, text.strip()[:300]))
        elif features(o1) != features(o2):
            fails.append("determinism: --threads 1 and --threads 2 differ")
    if shards:
        n = spec.get("shards", 2)
        parts = []
        for i in range(1, n + 1):
            p = os.path.join(out, "part%d.gpkg" % i)
            rc, text = run([stapel, "stack", "-q", "--overwrite", "--threads", "1",
                            "--shard", "%d/%d" % (i, n), "-o", p] + args, log)
            if rc != 0:
                fails.append("stack --shard %d/%d exit %d: %s" % (i, n, rc, text.strip()[:300]))
                return fails, log
            parts.append(p)
        m = os.path.join(out, "merged.gpkg")
        rc, text = run([stapel, "merge", "-q", "--overwrite", "-o", m] + parts[::-1], log)
        if rc != 0:
            fails.append("merge exit %d: %s" % (rc, text.strip()[:300]))
            return fails, log
        bad = compare_tables(tables(o1), tables(m), 1e-6)
        if bad:
            fails.append("shards: merged differs from whole: " + "; ".join(bad[:6]))
        rc, text = run([PY, CHECK_STACK, "--manifest", manifest, "--stack", m, "--dissolved",
                        "--points", str(oracle_points), "--seed", "2"], log)
        if rc != 0:
            fails.append("oracle (merged) exit %d: %s" % (
                rc, " | ".join(l for l in text.splitlines()
                               if l.startswith(("FAIL", "  ", "Trace", "oracle")))[:1500]))
        rc, text = (run([PY, CHECK_SUMMARY, "--manifest", manifest, "--stack", m], log)
                    if SUMMARY else (0, ""))
        if rc != 0:
            fails.append("oracle-summary (merged) exit %d: %s" % (
                rc, " | ".join(l for l in text.splitlines()
                               if l.startswith(("FAIL", "  ", "Trace", "oracle")))[:1500]))
    return fails, log


def one(stapel, scratch, seed, spec=None, keep=False, want=None):
    if spec is None:
        spec = generate(seed)
    out = os.path.join(scratch, "seed-%s" % seed)
    shutil.rmtree(out, ignore_errors=True)
    shards = (isinstance(seed, int) and seed % 5 == 0) or spec.get("force_shards", False)
    threads2 = True
    if want is not None:  # minimising: run only what the failure needs
        shards = any(w.startswith(("stack --shard", "merge", "shards")) for w in want)
        threads2 = any(w.startswith(("stack --threads", "determinism")) for w in want)
    fails, log = check_seed(stapel, spec, out, shards=shards, threads2=threads2)
    with open(os.path.join(out, "log.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(log))
    if not fails and not keep:
        shutil.rmtree(out, ignore_errors=True)
    return fails


# ----------------------------------------------------------------- minimise


def signature(fails):
    """The kind of a failure, to keep while minimising."""
    out = set()
    for f in fails:
        if f.startswith("oracle"):
            out.update(re.findall(r"FAIL (\S+)", f))
            if "Trace" in f:
                out.add("traceback")
        else:
            out.add(f.split(":")[0].split(" exit")[0])
    return out


def minimise(stapel, scratch, seed, spec=None):
    spec = spec or generate(seed)
    # a seed's shard runs (every fifth); a saved spec: always
    spec["force_shards"] = not isinstance(seed, int) or seed % 5 == 0
    want = signature(one(stapel, scratch, "min-try", spec))
    if not want:
        print("seed %s passes: nothing to minimise" % seed)
        return 1
    print("minimising for", sorted(want))

    def still(s):
        got = signature(one(stapel, scratch, "min-try", s, want=want))
        return bool(got & want)

    def candidates(s):
        # drop half the claims, then claims, zones, tiling, polygons, rings,
        # vertices
        n = len(s["claims"])
        if n >= 4:
            for lo, hi in ((0, n // 2), (n // 2, n), (0, n // 4), (n // 4, n // 2),
                           (n // 2, 3 * n // 4), (3 * n // 4, n)):
                t = json.loads(json.dumps(s))
                del t["claims"][lo:hi]
                yield t
        for key in ("claims", "provinces", "novex"):
            for i in range(len(s[key])):
                t = json.loads(json.dumps(s))
                del t[key][i]
                if key == "claims" and not t["claims"]:
                    continue
                yield t
        if s.get("tile_vertices"):
            t = json.loads(json.dumps(s))
            t["tile_vertices"] = None
            yield t
        for key in ("claims", "provinces", "novex"):
            for i, c in enumerate(s[key]):
                for j in range(len(c["geom"])):
                    if len(c["geom"]) > 1:
                        t = json.loads(json.dumps(s))
                        del t[key][i]["geom"][j]
                        yield t
                    for k in range(1, len(c["geom"][j])):
                        t = json.loads(json.dumps(s))
                        del t[key][i]["geom"][j][k]
                        yield t
                    for k in range(len(c["geom"][j])):
                        ring = c["geom"][j][k]
                        for v in range(len(ring)):
                            if len(ring) <= 3:
                                break
                            t = json.loads(json.dumps(s))
                            del t[key][i]["geom"][j][k][v]
                            yield t
        used = sorted(set(c["theme"] for c in s["claims"]))
        if used != s["themes"]:
            t = json.loads(json.dumps(s))
            t["themes"] = used
            yield t

    changed = True
    while changed:
        changed = False
        for t in candidates(spec):
            if still(t):
                spec = t
                changed = True
                print("  %d claims, %d vertices" % (
                    len(spec["claims"]),
                    sum(len(r) for c in spec["claims"] for p in c["geom"] for r in p)))
                break
    out = os.path.join(scratch, "min-%s" % seed)
    shutil.rmtree(out, ignore_errors=True)
    write(spec, out)
    fails = one(stapel, scratch, "min-%s" % seed, spec, keep=True)
    print("minimal scenario in", out,
          "(outputs in %s)" % os.path.join(scratch, "seed-min-%s" % seed))
    for f in fails:
        print("  ", f)
    return 0


# --------------------------------------------------------------------- main


def parse_seeds(text):
    out = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    stapel = os.path.abspath(argv[1])
    scratch = os.path.abspath(argv[2])
    opts = argv[3:]
    global SUMMARY
    if "--summary" in opts:
        SUMMARY = True
        opts.remove("--summary")
    os.makedirs(scratch, exist_ok=True)
    seeds = QUICK_SEEDS
    deadline = None
    if opts[:1] == ["--write"]:
        print(write(generate(int(opts[1])), os.path.join(scratch, "seed-%s" % opts[1])))
        return 0
    if opts[:1] == ["--minimise"]:
        if opts[1].endswith(".json"):  # a saved spec.json
            with open(opts[1], encoding="utf-8") as fh:
                spec = json.load(fh)
            name = os.path.basename(os.path.dirname(os.path.abspath(opts[1])))
            return minimise(stapel, scratch, name, spec)
        return minimise(stapel, scratch, int(opts[1]))
    if opts[:1] == ["--spec"]:
        with open(opts[1], encoding="utf-8") as fh:
            spec = json.load(fh)
        fails = one(stapel, scratch, "spec", spec, keep=True)
        for f in fails:
            print("FAIL", f)
        return 1 if fails else 0
    if opts[:1] == ["--seeds"]:
        seeds = parse_seeds(opts[1])
    elif opts[:1] == ["--time"]:
        deadline = time.time() + float(opts[1])
        start = int(opts[2]) if len(opts) > 2 else 1
        seeds = range(start, 10 ** 9)
    elif opts and opts[0] != "--quick":
        print("unknown option %s" % opts[0], file=sys.stderr)
        return 2
    failed = []
    ran = 0
    t0 = time.time()
    for seed in seeds:
        if deadline and time.time() > deadline:
            break
        fails = one(stapel, scratch, seed)
        ran += 1
        if fails:
            failed.append(seed)
            print("FAIL seed %d (%s):" % (seed, os.path.join(scratch, "seed-%d" % seed)))
            for f in fails:
                print("   ", f)
            sys.stdout.flush()
    print("random scenarios: %d seeds (%s..%s) in %.0f s, %d failed%s" % (
        ran, seeds[0] if ran else "-", seed if ran else "-", time.time() - t0, len(failed),
        (": " + " ".join(map(str, failed))) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
