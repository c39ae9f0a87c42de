#!/usr/bin/python3
"""check_rects.py - stapel's summaries against exact answers on hand-made fixtures.

Every claim and zone of these fixtures is a union of axis-parallel rectangles
with corners on whole metres (holes included). So every 1 m x 1 m cell is
either wholly inside or wholly outside each of them, and counting cells gives
every area exactly: no GEOS, no tolerance. The answers follow from FORMAT.md
and RULES.md alone; nothing of stapel's output is used to make them.

    /usr/bin/python3 testdata/oracle/check_rects.py STAPEL SCRATCH

For each fixture it runs `stapel stack` (whole, and as 3 shards joined by
`stapel merge`) and checks, in both outputs:
  - zone_summary: the rows (provinces, NOVEX areas, total; each sorted by
    name) and all their numbers;
  - zone_theme: one row per zone and theme, area_m2, share, overlap_m2;
  - conflicts: one row per (province tag, NOVEX tag, pair) with verdict
    conflict or conditional, its area_m2 and the area of its geometry;
  - stack: in every cell, the face's themes, n_claims, verdict, province,
    novex and conflict_pairs (and that no cell is in two faces);
and `stapel summary` in csv, csv-nl (with and without --themes) and json
against the same answers (csv to its 3 or 6 decimals).

The fixtures hold what a province team runs into: a province with a hole, one
in two parts (and one whose second part fills the hole of the first), an
empty province, names that differ only in case, a name stored with a
precomposed and with a combining accent (one zone), a name with ';' and one
without a name, overlapping provinces, overlapping NOVEX areas (a face in two
counts in both), a NOVEX area of two overlapping features, one theme in two
layers, two overlapping claims of one theme (one theme, two claims), a theme
without rules (unrated), a theme in one zone only, claims outside every
province, and a run without provinces (the total row is all claimed land).

The last line is `check_rects: N passed, M failed`; exit 0 when all pass.
"""

import csv
import io
import itertools
import json
import os
import subprocess
import sys
import unicodedata

from osgeo import ogr, osr

ogr.UseExceptions()

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = os.path.join(HERE, "..", "..", "docs", "rules", "novex-default.csv")
OX, OY = 150000, 450000  # in RD New, so that the CRS suits the data
NFC_NAME = "Frysl\u00e2n"
NFD_NAME = "Frysla\u0302n"

# A zone or claim: (name or theme, (x0, y0, x1, y1), [holes as rectangles]).
FIXTURES = {
    "mixed": {
        "provinces": [
            ("Alpha", (0, 0, 100, 100), [(40, 40, 60, 60)]),
            ("Beta", (100, 0, 200, 100), []),
            ("Beta", (300, 0, 350, 50), []),
            ("Gamma", (0, 200, 100, 300), []),  # no claims
            ("gamma", (100, 200, 200, 300), []),
            (NFC_NAME, (200, 200, 300, 300), []),
            (NFD_NAME, (200, 300, 300, 310), []),  # the same zone as the one above
            ("Fryslan", (300, 200, 400, 300), []),
        ],
        "novex": [
            ("N1", (50, 0, 150, 100), []),
            ("N2", (80, 50, 180, 100), []),
            ("N3", (0, 0, 30, 30), []),
            ("N3", (20, 0, 40, 30), []),
            (NFC_NAME, (250, 250, 260, 260), []),
        ],
        "layers": [
            ("nature", [((10, 10, 90, 90), [])]),
            ("nature", [((60, 20, 130, 80), [])]),
            ("housing", [((70, 30, 150, 70), [])]),
            ("water", [((0, 60, 250, 70), [])]),
            ("wind", [((120, 10, 180, 40), []), ((150, 20, 190, 50), [])]),
            ("mystery", [((310, 10, 340, 40), [])]),
            ("solar", [((320, 0, 350, 30), []), ((205, 205, 215, 215), [])]),
            ("agri", [((150, 210, 290, 290), [])]),
        ],
    },
    "overlapping": {
        "provinces": [
            ("P", (0, 0, 100, 100), []),
            ("Q", (80, 0, 180, 100), []),
            ("R", (0, 100, 60, 160), []),
            ("R", (40, 100, 100, 160), []),
            ("Y;Z", (100, 100, 150, 150), []),
            ("", (150, 100, 200, 150), []),
            ("S", (200, 0, 250, 50), [(210, 10, 220, 20)]),
            ("S", (210, 10, 220, 20), []),
        ],
        "novex": [
            ("A", (10, 10, 190, 90), [(50, 40, 60, 50)]),
            ("B", (90, 0, 95, 200), []),
            ("C", (500, 500, 510, 510), []),
        ],
        "layers": [
            ("nature", [((20, 20, 120, 80), []), ((50, 30, 70, 130), [(55, 35, 65, 45)])]),
            ("water", [((60, 50, 260, 60), [])]),
            ("housing", [((85, 0, 99, 120), []), ((110, 110, 190, 140), [])]),
            ("xx", [((0, 0, 10, 10), []), ((5, 5, 15, 15), []), ((90, 55, 92, 57), [])]),
            ("agri", [((95, 45, 97, 70), []), ((205, 5, 230, 25), [])]),
        ],
    },
}
# The same claims without provinces: the total row is all claimed land.
FIXTURES["no-provinces"] = dict(FIXTURES["overlapping"], provinces=None)

ORDER = {"compatible": 1, "unrated": 2, "conditional": 3, "conflict": 4}


def zone_name(n):
    """As FORMAT.md: NFC, ';' as ',', none as '(unnamed)'."""
    n = unicodedata.normalize("NFC", n).replace(";", ",")
    return n or "(unnamed)"


def read_rules(path):
    rules = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for r in csv.DictReader(l for l in fh if not l.lstrip().startswith("#")):
            rules[frozenset((r["theme_a"], r["theme_b"]))] = r["verdict"]
    return rules


def inside(item, x, y):
    _, (x0, y0, x1, y1), holes = item
    return (x0 < x < x1 and y0 < y < y1
            and not any(h[0] < x < h[2] and h[1] < y < h[3] for h in holes))


# ---- inputs ------------------------------------------------------------------

def polygon(rect, holes):
    p = ogr.Geometry(ogr.wkbPolygon)
    for x0, y0, x1, y1 in [rect] + holes:
        ring = ogr.Geometry(ogr.wkbLinearRing)
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        for (ax, ay), (bx, by) in zip(corners, corners[1:]):
            # a vertex every 2 m: the same polygon, but enough vertices for
            # several tiles and shards
            n = max(1, int(max(abs(bx - ax), abs(by - ay)) // 2))
            for k in range(n):
                ring.AddPoint_2D(OX + ax + (bx - ax) * k // n, OY + ay + (by - ay) * k // n)
        ring.AddPoint_2D(OX + x0, OY + y0)
        p.AddGeometry(ring)
    return p


def write_inputs(fx, d):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(28992)
    drv = ogr.GetDriverByName("GPKG")
    args = []
    for kind in ("provinces", "novex"):
        if fx[kind] is None:
            continue
        path = os.path.join(d, kind + ".gpkg")
        ds = drv.CreateDataSource(path)
        lyr = ds.CreateLayer(kind, srs, ogr.wkbPolygon)
        lyr.CreateField(ogr.FieldDefn("naam", ogr.OFTString))
        for name, rect, holes in fx[kind]:
            f = ogr.Feature(lyr.GetLayerDefn())
            if name:
                f.SetField("naam", name)
            f.SetGeometry(polygon(rect, holes))
            lyr.CreateFeature(f)
        ds = None
        args += ["--" + kind, path]
    path = os.path.join(d, "claims.gpkg")
    ds = drv.CreateDataSource(path)
    for i, (theme, rects) in enumerate(fx["layers"]):
        lyr = ds.CreateLayer("l%d" % i, srs, ogr.wkbPolygon)
        for rect, holes in rects:
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetGeometry(polygon(rect, holes))
            lyr.CreateFeature(f)
        args += ["--layer", "%s=%s|layername=l%d" % (theme, path, i)]
    ds = None
    return args


# ---- the answers, cell by cell ----------------------------------------------------

def answers(fx, rules):
    provinces = fx["provinces"] or []
    novex = fx["novex"] or []
    have_prov = fx["provinces"] is not None
    claims = [(theme, rect, holes) for theme, rects in fx["layers"] for rect, holes in rects]
    themes = sorted({t for t, _ in fx["layers"]})
    items = provinces + novex + claims
    xs = [v for _, r, _ in items for v in (r[0], r[2])]
    ys = [v for _, r, _ in items for v in (r[1], r[3])]
    key = lambda s: s.encode()  # noqa: E731  (byte order, as strcmp)
    rows = [("province", n) for n in sorted({zone_name(z[0]) for z in provinces}, key=key)]
    rows += [("novex", n) for n in sorted({zone_name(z[0]) for z in novex}, key=key)]
    rows.append(("total", "total"))
    Z = {r: {"area": 0, "s2": 0, "s3": 0, "max": 0, "conflict": 0, "kans": 0,
             "theme": dict.fromkeys(themes, 0), "overlap": dict.fromkeys(themes, 0)}
         for r in rows}
    conflicts, cells = {}, {}
    for x in range(min(xs), max(xs)):
        for y in range(min(ys), max(ys)):
            cx, cy = x + 0.5, y + 0.5
            cl = [c for c in claims if inside(c, cx, cy)]
            pv = sorted({zone_name(z[0]) for z in provinces if inside(z, cx, cy)}, key=key)
            nv = sorted({zone_name(z[0]) for z in novex if inside(z, cx, cy)}, key=key)
            zs = [("province", n) for n in pv] + [("novex", n) for n in nv]
            if pv or not have_prov:
                zs.append(("total", "total"))
            for z in zs:
                if z[0] != "total" or have_prov or cl:
                    Z[z]["area"] += 1
            if not cl:
                continue
            ths = sorted({c[0] for c in cl}, key=key)
            pairs = list(itertools.combinations(ths, 2))
            vs = [rules.get(frozenset(p), "unrated") for p in pairs]
            verdict = max(vs, key=ORDER.get) if vs else "single"
            ptag, ntag = ";".join(pv) or None, ";".join(nv) or None
            cells[(x, y)] = ("+".join(ths), len(cl), verdict, ptag, ntag,
                             ["%s\u00d7%s" % p for p, v in zip(pairs, vs) if v == "conflict"])
            for z in zs:
                d = Z[z]
                d["s2"] += len(ths) >= 2
                d["s3"] += len(ths) >= 3
                d["max"] = max(d["max"], len(ths))
                d["conflict"] += verdict == "conflict"
                d["kans"] += len(ths) >= 2 and verdict in ("conditional", "compatible")
                for t in ths:
                    d["theme"][t] += 1
                    d["overlap"][t] += len(ths) >= 2
            for p, v in zip(pairs, vs):
                if v in ("conflict", "conditional"):
                    k = (ptag, ntag, p[0], p[1], v)
                    conflicts[k] = conflicts.get(k, 0) + 1
    summary = []
    for r in rows:
        d = Z[r]
        claimed = sum(d["theme"].values())
        summary.append({"zone_type": r[0], "zone": r[1], "area_m2": d["area"],
                        "claimed_m2": claimed,
                        "claim_ratio": claimed / d["area"] if d["area"] else 0.0,
                        "stacked2_m2": d["s2"], "stacked3_m2": d["s3"], "max_themes": d["max"],
                        "conflict_m2": d["conflict"], "kans_m2": d["kans"]})
    theme_rows = [{"zone_type": r[0], "zone": r[1], "theme": t,
                   "area_m2": Z[r]["theme"][t],
                   "share": Z[r]["theme"][t] / Z[r]["area"] if Z[r]["area"] else 0.0,
                   "overlap_m2": Z[r]["overlap"][t]}
                  for r in rows for t in themes]
    return summary, theme_rows, conflicts, cells


# ---- comparing -----------------------------------------------------------------

class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def result(self, name, problems):
        print("%s %s%s" % ("FAIL" if problems else "PASS", name,
                           "" if not problems else ": %d problems" % len(problems)), flush=True)
        for p in problems[:8]:
            print("       - " + p)
        if problems:
            self.failed += 1
        else:
            self.passed += 1


def same(got, want, tol):
    if isinstance(want, str) or want is None or isinstance(got, str) or got is None:
        return got == want
    return abs(got - want) <= tol


def compare_rows(what, got, want, tol_of):
    probs = []
    gk = [(r["zone_type"], r["zone"], r.get("theme")) for r in got]
    wk = [(r["zone_type"], r["zone"], r.get("theme")) for r in want]
    if gk != wk:
        probs.append("%s rows %s, expected %s" % (what, gk, wk))
        return probs
    for g, w in zip(got, want):
        for f, v in w.items():
            if not same(g.get(f), v, tol_of(f)):
                probs.append("%s %s %r %s %s: %r, expected %r"
                             % (what, w["zone_type"], w["zone"], w.get("theme", ""), f,
                                g.get(f), v))
    return probs


def exact(f):
    return 1e-6


def check_gpkg(ck, label, path, want):
    summary, theme_rows, conflicts, cells = want
    ds = ogr.Open(path)
    fields = list(summary[0])
    got = [{f: feat.GetField(f) for f in fields} for feat in ds.GetLayerByName("zone_summary")]
    ck.result(label + " zone_summary", compare_rows("zone_summary", got, summary, exact))
    fields = list(theme_rows[0])
    got = [{f: feat.GetField(f) for f in fields} for feat in ds.GetLayerByName("zone_theme")]
    ck.result(label + " zone_theme", compare_rows("zone_theme", got, theme_rows, exact))
    probs, got = [], {}
    for feat in ds.GetLayerByName("conflicts"):
        k = (feat.GetField("province"), feat.GetField("novex"), feat.GetField("theme_a"),
             feat.GetField("theme_b"), feat.GetField("verdict"))
        if k in got:
            probs.append("row %s twice" % (k,))
        got[k] = feat.GetField("area_m2")
        g = feat.GetGeometryRef()
        if g is None or abs(g.GetArea() - got[k]) > 1e-6:
            probs.append("row %s: geometry area %s, area_m2 %s"
                         % (k, g.GetArea() if g else None, got[k]))
    for k in sorted(set(got) | set(conflicts), key=str):
        if not same(got.get(k), conflicts.get(k), 1e-6):
            probs.append("row %s: area_m2 %s, expected %s" % (k, got.get(k), conflicts.get(k)))
    ck.result(label + " conflicts", probs)
    probs, seen = [], {}
    for feat in ds.GetLayerByName("stack"):
        g = feat.GetGeometryRef().Clone()
        x0, x1, y0, y1 = g.GetEnvelope()
        label_ = (feat.GetField("themes"), feat.GetField("n_claims"), feat.GetField("verdict"),
                  feat.GetField("province"), feat.GetField("novex"),
                  json.loads(feat.GetField("conflict_pairs")))
        for x in range(int(x0) - OX - 1, int(x1) - OX + 1):
            for y in range(int(y0) - OY - 1, int(y1) - OY + 1):
                p = ogr.Geometry(ogr.wkbPoint)
                p.AddPoint_2D(OX + x + 0.5, OY + y + 0.5)
                if g.Contains(p):
                    if (x, y) in seen:
                        probs.append("cell %d %d in two faces" % (x, y))
                    seen[(x, y)] = label_
    wrong = [c for c in set(seen) | set(cells) if seen.get(c) != cells.get(c)]
    for c in sorted(wrong)[:8]:
        probs.append("cell %d %d: %s, expected %s" % (c[0], c[1], seen.get(c), cells.get(c)))
    if wrong:
        probs.append("%d cells wrong" % len(wrong))
    ck.result(label + " stack (verdict, conflict_pairs, tags per cell)", probs)
    ds = None


def check_cli(ck, label, stapel, path, want):
    summary, theme_rows = want[0], want[1]

    def run(*args):
        r = subprocess.run([stapel, "summary", path] + list(args), capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("stapel summary %s: exit %d: %s"
                               % (" ".join(args), r.returncode, r.stderr.decode()))
        return r.stdout.decode("utf-8")

    def tol(f):  # what the csv's decimals leave
        return 5.1e-7 if f in ("claim_ratio", "share") else 5.1e-4

    def parse_csv(text, sep, dec):
        out = []
        for row in csv.DictReader(io.StringIO(text, newline=""), delimiter=sep):
            r = {}
            for f, v in row.items():
                if f in ("zone_type", "zone", "theme"):
                    r[f] = v
                elif f == "max_themes":
                    r[f] = int(v)
                else:
                    if dec == "," and "." in v:
                        raise ValueError("csv-nl: '.' in number %r" % v)
                    r[f] = float(v.replace(dec, "."))
            out.append(r)
        return out

    for fmt, sep, dec in (("csv", ",", "."), ("csv-nl", ";", ",")):
        for themes in (False, True):
            text = run("--format", fmt, *(["--themes"] if themes else []))
            probs = []
            if fmt == "csv-nl":
                if not text.startswith("\ufeff"):
                    probs.append("no byte order mark")
                text = text.lstrip("\ufeff")
            try:
                got = parse_csv(text, sep, dec)
                probs += compare_rows(fmt, got, theme_rows if themes else summary, tol)
            except ValueError as e:
                probs.append(str(e))
            ck.result("%s summary --format %s%s" % (label, fmt, " --themes" if themes else ""),
                      probs)
    probs = []
    try:
        d = json.loads(run("--format", "json"))
        probs += compare_rows("json zones", d["zones"], summary, exact)
        probs += compare_rows("json themes", d["themes"], theme_rows, exact)
    except ValueError as e:
        probs.append("not JSON: %s" % e)
    ck.result(label + " summary --format json", probs)


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    stapel, scratch = os.path.abspath(argv[1]), argv[2]
    rules = read_rules(RULES)
    ck = Checks()
    for name, fx in FIXTURES.items():
        d = os.path.join(scratch, "rects-" + name)
        subprocess.run(["rm", "-rf", d], check=True)
        os.makedirs(d)
        args = write_inputs(fx, d)
        want = answers(fx, rules)
        whole = os.path.join(d, "whole.gpkg")
        subprocess.run([stapel, "stack", "-q", "-o", whole] + args, check=True)
        check_gpkg(ck, name, whole, want)
        check_cli(ck, name, stapel, whole, want)
        parts = [os.path.join(d, "part%d.gpkg" % i) for i in (1, 2, 3)]
        for i, p in enumerate(parts, 1):
            subprocess.run([stapel, "stack", "-q", "--tile-vertices", "100", "--shard",
                            "%d/3" % i, "-o", p] + args, check=True)
        merged = os.path.join(d, "merged.gpkg")
        subprocess.run([stapel, "merge", "-q", "-o", merged] + parts, check=True)
        check_gpkg(ck, name + " merged", merged, want)
        check_cli(ck, name + " merged", stapel, merged, want)
    print("check_rects: %d passed, %d failed" % (ck.passed, ck.failed))
    return 0 if ck.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
