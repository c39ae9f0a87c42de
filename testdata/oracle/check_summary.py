#!/usr/bin/python3
"""check_summary.py - an independent oracle for stapel's conflicts and zone summaries.

It checks the `conflicts` layer and the `zone_summary` and `zone_theme` tables of a
stapel output GeoPackage against the inputs. It shares no code with stapel: the
inputs are read and repaired by check_stack.py (imported from this directory; the
same preparation: OGR read, linearise, flatten, reproject with traditional GIS axis
order, MakeValid METHOD=STRUCTURE keeping polygonal parts, empty skipped), and every
expected number is computed with GEOS set operations (through OGR) on the union of
each theme's claims, clipped to each zone. Of the stack layer only the fields
`themes`, `verdict` and `conflict_pairs` are read (check v1).

    /usr/bin/python3 testdata/oracle/check_summary.py --manifest scenario.json \
        --stack OUT.gpkg [--rules RULES.csv] [--rel-tol 1e-6] [--grid 0.001]
        [--total-scope provinces|all] [--no-containment]

The manifest is the one check_stack.py reads (--layer/--provinces/--novex and the
field options work as there). --rules defaults to docs/rules/novex-default.csv.

Notation: U_t = union of the repaired claims of theme t; Z = a zone (the union of
the zone features with one name); I_ab(Z) = U_a & U_b & Z; L_k(Z) = the part of Z
covered by >= k distinct themes. A "rule pair" is an unordered pair of themes
(both given as layers) whose verdict in the rules is conflict or conditional.

Checks (each prints one PASS/FAIL line, with up to 8 examples of failures):
  0-schema            conflicts, zone_summary, zone_theme exist with the fields
                      of DESIGN.md section 3 and issue 4
  c1-conflict-rows    per row: theme_a < theme_b, a rule pair, verdict (and note)
                      as in the rules, known province / NOVEX names, one row per
                      (province, novex, pair); geometry valid, polygonal, and its
                      area equals area_m2
  c2-conflict-province  per province P and rule pair: sum of area_m2 of the rows
                      whose province tag names P equals area(I_ab(P)); rows with
                      province NULL against the part outside every province
  c2-conflict-novex   per NOVEX area N and rule pair: the rows whose novex tag
                      names N add up to area(I_ab(N))
  c2-conflict-total   per rule pair: all rows add up to area(U_a & U_b)
  c3-conflict-geometry  every row lies inside I_ab of its province (or outside
                      all provinces when NULL) and of each NOVEX area it names,
                      and outside the NOVEX areas it does not name
  s0-zone-rows        zone_summary: one row per province name, NOVEX name, and
                      one `total` row; nothing else
  s1-zone-area        area_m2 = area of the zone
  s2-claimed          claimed_m2 = sum over themes of area(U_t & Z), and
                      claim_ratio = claimed_m2 / area_m2
  s3-stacked          stacked2_m2 = area(L_2), stacked3_m2 = area(L_3), max_themes
  s4-conflict-kans    conflict_m2 = area of the union of I_ab over conflict pairs;
                      kans_m2 = area(L_2) minus the part whose worst verdict is
                      conflict or unrated
  s5-total            the total row (all of the above; see --total-scope)
  v1-stack-verdict    on every face of the `stack` layer: `verdict` is the worst
                      verdict of the pairs of its `themes` (conflict >
                      conditional > unrated > compatible; `single` for one
                      theme; a pair without a rule is unrated) and
                      `conflict_pairs` is the JSON list of its conflict pairs
                      "a×b" (a < b), each once. The face's themes are checked
                      against the claims by check_stack.py
  t1-zone-theme       zone_theme: one row per zone and theme (also where the
                      theme does not occur in the zone: FORMAT.md);
                      area_m2 = area(U_t & Z), share = area_m2 / zone area,
                      overlap_m2 = area(U_t & L_2(Z))

Tolerance. stapel snaps every coordinate to a 1 mm grid: a vertex moves at most
0.71 mm, so an area moves at most about that times the boundary length. An area A
with boundary length P passes when |stapel - oracle| <= rel-tol x A + grid x P, with
P computed from the oracle's geometry of that quantity (for sums: the sum of the
perimeters). Ratios get the tolerance that follows from those of their terms.

The total row. Its area_m2 is the area of the union of the provinces (or, without
provinces, of the union of all claims). With --total-scope provinces (the default)
its other numbers are expected within the union of the provinces; with `all`, over
the whole plane (including claims outside every province). The check reports both.
Where provinces do not overlap (the usual case) the total is the sum over the
provinces; otherwise it is computed directly on the union of the provinces.

Zone tags. A `province` or `novex` value is NULL, one name, or several names sorted
and joined with ';' (stapel tags a face in overlapping provinces 'A;B'). A row counts
for every zone its tag names. Where provinces overlap (by more than the tolerance),
c2 accepts for P a sum between area(I_ab(P minus the other provinces)) and
area(I_ab(P)), so a stack that names just one of the provinces there passes too.

The last line is `oracle-summary: N passed, M failed`. Exit status: 0 all checks
pass, 1 a check failed, 2 usage or input error (or the oracle broke: no verdict).
"""

import argparse
import csv
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_stack as cs  # noqa: E402  (input reading, repair, unions, Report)

from osgeo import gdal, ogr  # noqa: E402

UsageError = cs.UsageError
DEFAULT_RULES = os.path.normpath(os.path.join(HERE, "..", "..", "docs", "rules",
                                              "novex-default.csv"))
VERDICTS = ("conflict", "conditional", "compatible")
MAX_EXAMPLES = cs.MAX_EXAMPLES


def log(msg):
    print("check_summary: " + msg, file=sys.stderr, flush=True)


cs.log = log  # the shared readers log under our name


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------

def read_rules(path):
    """-> {(a, b) sorted: (verdict, note or None)}"""
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise UsageError("cannot read rules '%s': %s" % (path, e))
    rules = {}
    with fh:
        # RULES.md: ',' or (as Excel saves it in a Dutch locale) ';' between
        # the columns; a row whose first field starts with '#' is a comment
        head = fh.readline()
        fh.seek(0)
        delim = ";" if head.count(";") > head.count(",") else ","
        rd = csv.DictReader(fh, delimiter=delim)
        names = [n.strip() for n in (rd.fieldnames or [])]
        rd.fieldnames = names
        for col in ("theme_a", "theme_b", "verdict"):
            if col not in names:
                raise UsageError("%s:1: missing column '%s'" % (path, col))
        for row in rd:
            first = row.get(rd.fieldnames[0]) if rd.fieldnames else None
            if (first or "").lstrip().startswith("#"):
                continue
            a = (row.get("theme_a") or "").strip()
            b = (row.get("theme_b") or "").strip()
            v = (row.get("verdict") or "").strip().lower()
            if not a and not b and not v:
                continue
            if v not in VERDICTS:
                raise UsageError("%s:%d: unknown verdict '%s'" % (path, rd.line_num, v))
            if not a or not b:
                raise UsageError("%s:%d: empty theme" % (path, rd.line_num))
            if a == b:
                continue  # no pair within one theme
            note = (row.get("note") or "").strip() or None
            key = tuple(sorted((a, b)))
            if key in rules and rules[key][0] != v:
                raise UsageError("%s:%d: pair %s,%s given twice with different verdicts"
                                 % (path, rd.line_num, key[0], key[1]))
            rules[key] = (v, note)
    return rules


# --------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------

def empty():
    return ogr.Geometry(ogr.wkbMultiPolygon)


def is_empty(g):
    return g is None or g.IsEmpty()


def polys(g):
    """g as a MultiPolygon of its polygonal parts."""
    if g is None:
        return empty()
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t == ogr.wkbMultiPolygon:
        return g
    if t == ogr.wkbPolygon:
        return ogr.ForceToMultiPolygon(g)
    parts = []
    cs.polygonal_parts(g, parts)
    return cs.to_multipolygon(parts)


def env_meet(e, f):
    return e[0] <= f[1] and f[0] <= e[1] and e[2] <= f[3] and f[2] <= e[3]


def _retry(fn, a, b):
    try:
        return fn(a, b)
    except RuntimeError:
        a2 = a.MakeValid(["METHOD=STRUCTURE"])
        b2 = b.MakeValid(["METHOD=STRUCTURE"])
        return fn(polys(a2), polys(b2))


def inter(a, b):
    if is_empty(a) or is_empty(b) or not env_meet(a.GetEnvelope(), b.GetEnvelope()):
        return empty()
    return polys(_retry(lambda x, y: x.Intersection(y), a, b))


def diff(a, b):
    if is_empty(a):
        return empty()
    if is_empty(b) or not env_meet(a.GetEnvelope(), b.GetEnvelope()):
        return a
    return polys(_retry(lambda x, y: x.Difference(y), a, b))


def area(g):
    return 0.0 if is_empty(g) else g.GetArea()


def perim(g):
    """Boundary length of a polygonal geometry (rings of all parts)."""
    if is_empty(g):
        return 0.0
    g = polys(g)
    s = 0.0
    for i in range(g.GetGeometryCount()):
        p = g.GetGeometryRef(i)
        for j in range(p.GetGeometryCount()):
            s += p.GetGeometryRef(j).Length()
    return s


class Q:
    """A measured area with the perimeter that sets its tolerance."""
    __slots__ = ("a", "p")

    def __init__(self, a=0.0, p=0.0):
        self.a, self.p = a, p

    @staticmethod
    def of(g):
        return Q(area(g), perim(g))

    def __add__(self, o):
        return Q(self.a + o.a, self.p + o.p)

    def __sub__(self, o):  # the tolerance of a difference adds up too
        return Q(self.a - o.a, self.p + o.p)


def union_geoms(geoms, ext):
    geoms = [g for g in geoms if not is_empty(g)]
    if not geoms:
        return empty()
    if len(geoms) == 1:
        return polys(geoms[0])
    if ext is None:
        ext = cs._union_env([g.GetEnvelope() for g in geoms])
    return polys(cs.union_all(geoms, ext))


class Parts:
    """A polygonal geometry split into its polygons, with envelopes, so that
    clipping it to a zone only touches the parts near the zone."""

    def __init__(self, g):
        self.geom = polys(g)
        self.items = []
        for i in range(self.geom.GetGeometryCount()):
            p = self.geom.GetGeometryRef(i).Clone()
            self.items.append((p.GetEnvelope(), p))

    def clip(self, zone):
        """self & zone (zone: cs.Prepared, or None for the whole plane)."""
        if zone is None:
            return self.geom
        ze = zone.env
        prep = zone.prep()
        keep, edge = [], []
        for e, p in self.items:
            if not env_meet(e, ze):
                continue
            try:
                if prep.Contains(p):
                    keep.append(p)
                elif prep.Intersects(p):
                    edge.append(p)
            except RuntimeError:
                edge.append(p)
        if edge:
            x = inter(cs.to_multipolygon(edge), zone.geom)
            for i in range(x.GetGeometryCount()):
                keep.append(x.GetGeometryRef(i))
        return cs.to_multipolygon(keep)


# --------------------------------------------------------------------------
# Per-zone analysis
# --------------------------------------------------------------------------

class ZoneStats:
    """Every expected number of one zone, as Q (area, perimeter)."""

    def __init__(self, themes):
        self.zone = Q()
        self.theme = {t: Q() for t in themes}
        self.overlap = {t: Q() for t in themes}
        self.pair = {}        # (a, b) -> Q
        self.pair_geom = {}   # (a, b) -> geometry (only kept for real zones)
        self.s2 = Q()
        self.s3 = Q()
        self.conflict = Q()
        self.kans = Q()
        self.max_lo = 0       # highest k with a k-theme overlap wider than the grid
        self.max_hi = 0       # highest k with a k-theme overlap of positive area

    @property
    def claimed(self):
        s = Q()
        for q in self.theme.values():
            s = s + q
        return s

    def __add__(self, o):
        r = ZoneStats(list(self.theme))
        r.zone = self.zone + o.zone
        for t in r.theme:
            r.theme[t] = self.theme[t] + o.theme[t]
            r.overlap[t] = self.overlap[t] + o.overlap[t]
        for k in set(self.pair) | set(o.pair):
            r.pair[k] = self.pair.get(k, Q()) + o.pair.get(k, Q())
        for f in ("s2", "s3", "conflict", "kans"):
            setattr(r, f, getattr(self, f) + getattr(o, f))
        r.max_lo = max(self.max_lo, o.max_lo)
        r.max_hi = max(self.max_hi, o.max_hi)
        return r


def analyse(G, themes, rules, ext, grid, keep_geoms):
    """G: theme -> clipped union (MultiPolygon). Returns ZoneStats."""
    zs = ZoneStats(themes)
    T = [t for t in themes if G[t].GetArea() > 0]
    rank = {t: i for i, t in enumerate(themes)}
    envs = {t: G[t].GetEnvelope() for t in T}
    for t in T:
        zs.theme[t] = Q.of(G[t])
    if T:
        zs.max_hi = 1
        zs.max_lo = 1 if any(zs.theme[t].a > grid * zs.theme[t].p for t in T) else 0
    # Enumerate the nonempty k-theme intersections (each subset once, themes in
    # rank order); keep the unions of levels 2 and 3.
    level = [((t,), G[t]) for t in T]
    k = 1
    level_union = {}
    pair_geoms = {}
    while level:
        nxt = []
        for S, X in level:
            xe = X.GetEnvelope()
            for c in T:
                if rank[c] <= rank[S[-1]] or not env_meet(xe, envs[c]):
                    continue
                Y = inter(X, G[c])
                if Y.GetArea() > 0:
                    nxt.append((S + (c,), Y))
        k += 1
        if not nxt:
            break
        zs.max_hi = k
        if any(Y.GetArea() > grid * perim(Y) for _, Y in nxt):
            zs.max_lo = k
        if k == 2:
            for S, Y in nxt:
                zs.pair[S] = Q.of(Y)
                if keep_geoms:
                    zs.pair_geom[S] = Y
            pair_geoms = dict(nxt)
        if k in (2, 3):
            level_union[k] = union_geoms([Y for _, Y in nxt], ext)
        level = nxt
    L2 = level_union.get(2, empty())
    zs.s2 = Q.of(L2)
    zs.s3 = Q.of(level_union.get(3, empty()))
    for t in T:
        zs.overlap[t] = Q.of(inter(G[t], L2))
    if not is_empty(L2):
        by = {"conflict": [], "conditional": [], "unrated": []}
        for S, Y in pair_geoms.items():
            v = rules.get(S, ("unrated", None))[0]
            if v in by:
                by[v].append(Y)
        C = union_geoms(by["conflict"], ext)
        zs.conflict = Q.of(C)
        if by["unrated"]:
            unr = diff(union_geoms(by["unrated"], ext), union_geoms(by["conditional"], ext))
            X = union_geoms([C, unr], ext)
        else:
            X = C
        zs.kans = zs.s2 - Q.of(X)
    return zs


# --------------------------------------------------------------------------
# Reading the output
# --------------------------------------------------------------------------

_S, _R, _I = (ogr.OFTString,), (ogr.OFTReal,), (ogr.OFTInteger, ogr.OFTInteger64)
SCHEMA = {
    "conflicts": {"theme_a": _S, "theme_b": _S, "verdict": _S, "note": _S, "province": _S,
                  "novex": _S, "area_m2": _R},
    "zone_summary": {"zone_type": _S, "zone": _S, "area_m2": _R, "claimed_m2": _R,
                     "claim_ratio": _R, "stacked2_m2": _R, "stacked3_m2": _R,
                     "max_themes": _I, "conflict_m2": _R, "kans_m2": _R},
    "zone_theme": {"zone_type": _S, "zone": _S, "theme": _S, "area_m2": _R, "share": _R,
                   "overlap_m2": _R},
}


def read_output(path, tgt, rep):
    """-> {layer: list of dict (fid, geom, fields)} for the layers that exist."""
    try:
        ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    except RuntimeError as e:
        raise UsageError("cannot open '%s': %s" % (path, e))
    out = {}
    problems = []
    counts = []
    for name, fields in SCHEMA.items():
        lyr = ds.GetLayerByName(name)
        if lyr is None:
            problems.append("no layer '%s'" % name)
            continue
        defn = lyr.GetLayerDefn()
        idx = {}
        for f, types in fields.items():
            i = defn.GetFieldIndex(f)
            if i < 0:
                problems.append("%s: missing field %s" % (name, f))
                continue
            ft = defn.GetFieldDefn(i).GetType()
            if ft not in types:
                problems.append("%s: field %s has type %s" % (name, f,
                                defn.GetFieldDefn(i).GetFieldTypeName(ft)))
                continue
            idx[f] = (i, ft)
        if name == "conflicts":
            gt = ogr.GT_Flatten(lyr.GetGeomType())
            if gt != ogr.wkbMultiPolygon:
                problems.append("conflicts: geometry type %s, not MultiPolygon"
                                % ogr.GeometryTypeToName(gt))
            srs = lyr.GetSpatialRef()
            if srs is None or not srs.IsSame(tgt):
                problems.append("conflicts: CRS %s is not the working CRS %s"
                                % (srs.GetName() if srs else "none", tgt.GetName()))
        rows = []
        for feat in lyr:
            r = {"fid": feat.GetFID()}
            for f in fields:
                if f not in idx or not feat.IsFieldSetAndNotNull(idx[f][0]):
                    r[f] = None
                elif idx[f][1] == ogr.OFTReal:
                    r[f] = feat.GetFieldAsDouble(idx[f][0])
                elif idx[f][1] in (ogr.OFTInteger, ogr.OFTInteger64):
                    r[f] = feat.GetFieldAsInteger64(idx[f][0])
                else:
                    r[f] = feat.GetFieldAsString(idx[f][0])
            if name == "conflicts":
                g = feat.GetGeometryRef()
                r["geom"] = g.Clone() if g is not None else None
            rows.append(r)
        out[name] = rows
        counts.append("%s %d rows" % (name, len(rows)))
    rep.result(not problems, "0-schema",
               "; ".join(counts) + (", fields as in DESIGN.md §3 / issue 4"
                                    if not problems else ""), problems)
    return out


# --------------------------------------------------------------------------
# Comparison helpers
# --------------------------------------------------------------------------

class Tally:
    """Counts comparisons of one check and keeps the failures, worst first."""

    def __init__(self, rel_tol, grid):
        self.rel_tol, self.grid = rel_tol, grid
        self.n = 0
        self.bad = []
        self.worst = 0.0      # worst |diff| / margin
        self.worst_abs = 0.0  # worst |diff|

    def margin(self, exp, got, p):
        return self.rel_tol * max(abs(exp), abs(got or 0.0)) + self.grid * p + 1e-9

    def area(self, what, got, q, extra=""):
        """got (table) against Q q (oracle)."""
        self.n += 1
        if got is None:
            self.bad.append((float("inf"), "%s: NULL, expected %.3f m2%s" % (what, q.a, extra)))
            return False
        m = self.margin(q.a, got, q.p)
        d = abs(got - q.a)
        self.worst = max(self.worst, d / m)
        self.worst_abs = max(self.worst_abs, d)
        if d > m:
            self.bad.append((d / m, "%s: stapel %.3f m2, oracle %.3f m2, diff %.4g m2 "
                                    "(margin %.4g)%s" % (what, got, q.a, got - q.a, m, extra)))
            return False
        return True

    def bounds(self, what, got, lo, hi, extra=""):
        """got within [lo.a, hi.a] (each with its margin)."""
        self.n += 1
        m = max(self.margin(lo.a, got, lo.p), self.margin(hi.a, got, hi.p))
        d = max(lo.a - got, got - hi.a, 0.0)
        self.worst = max(self.worst, d / m)
        self.worst_abs = max(self.worst_abs, d)
        if d > m:
            self.bad.append((d / m, "%s: stapel %.3f m2, oracle between %.3f and %.3f m2%s"
                             % (what, got, lo.a, hi.a, extra)))
            return False
        return True

    def ratio(self, what, got, num, den, extra=""):
        """got against num/den (Q each), with the tolerance of both terms."""
        self.n += 1
        if den.a <= 0:
            exp, m = 0.0, 1e-12
        else:
            exp = num.a / den.a
            m = (self.margin(num.a, num.a, num.p) + abs(exp) * self.margin(den.a, den.a, den.p)) \
                / den.a + 1e-12
        if got is None:
            self.bad.append((float("inf"), "%s: NULL, expected %.9g%s" % (what, exp, extra)))
            return False
        d = abs(got - exp)
        self.worst = max(self.worst, d / m)
        if d > m:
            self.bad.append((d / m, "%s: stapel %.9g, oracle %.9g, diff %.3g (margin %.3g)%s"
                             % (what, got, exp, got - exp, m, extra)))
            return False
        return True

    def excess(self, what, a, p):
        """An area a that should be 0, with the margin of a boundary of length p."""
        self.n += 1
        m = self.grid * p + 1e-9
        self.worst = max(self.worst, a / m)
        self.worst_abs = max(self.worst_abs, a)
        if a > m:
            self.bad.append((a / m, "%s %.3f m2 (margin %.4g)" % (what, a, m)))
            return False
        return True

    def fact(self, ok, msg):
        self.n += 1
        if not ok:
            self.bad.append((float("inf"), msg))
        return ok

    def report(self, rep, name, what):
        self.bad.sort(key=lambda t: -t[0])
        rep.result(not self.bad, name,
                   "%s: %d compared, %d off; worst %.3g of margin (|diff| %.4g m2)"
                   % (what, self.n, len(self.bad), self.worst, self.worst_abs),
                   [b for _, b in self.bad])


def pair_name(k):
    return "%s×%s" % k


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Check stapel's conflicts layer and zone summaries against the "
                    "inputs (independent oracle).")
    ap.add_argument("--manifest", help="scenario JSON (paths relative to its directory)")
    ap.add_argument("--stack", required=True, help="stapel output GeoPackage")
    ap.add_argument("--rules", help="rules CSV (default: %s)" % DEFAULT_RULES)
    ap.add_argument("--layer", action="append", metavar="THEME=SOURCE",
                    help="a claim layer, as stapel's --layer (repeatable)")
    ap.add_argument("--provinces", metavar="SOURCE")
    ap.add_argument("--novex", metavar="SOURCE")
    ap.add_argument("--province-field", metavar="FIELD")
    ap.add_argument("--novex-field", metavar="FIELD")
    ap.add_argument("--t_srs", "--t-srs", dest="t_srs", metavar="CRS",
                    help="working CRS (default: manifest 'crs' or EPSG:28992)")
    ap.add_argument("--s_srs", "--s-srs", dest="s_srs", metavar="CRS",
                    help="CRS for sources that have none")
    ap.add_argument("--rel-tol", type=float, default=1e-6,
                    help="relative tolerance for areas (default 1e-6)")
    ap.add_argument("--grid", type=float, default=0.001,
                    help="snap grid: allowed area error per metre of boundary (default 0.001)")
    ap.add_argument("--total-scope", choices=("provinces", "all"), default="provinces",
                    help="where the total row's claimed/stacked/conflict numbers and "
                         "zone_theme rows are expected: within the union of the provinces "
                         "(default) or over the whole plane")
    ap.add_argument("--no-containment", action="store_true",
                    help="skip c3-conflict-geometry (the per-row containment check)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if args.rel_tol < 0 or args.grid < 0:
        log("error: --rel-tol and --grid must not be negative")
        return 2
    try:
        return run(args)
    except UsageError as e:
        log("error: %s" % e)
        return 2
    except Exception:  # the oracle itself broke: not a verdict on the output
        import traceback
        traceback.print_exc()
        log("error: internal failure, no verdict")
        return 2


def zone_dict(items, ext, what):
    """[(fid, geom, name)] (Prepared) -> {name: Prepared(union)}; unnamed skipped."""
    by = {}
    for z in items or []:
        if z.attrs is None:
            log("%s feature %s has no name: not a zone of its own" % (what, z.key))
            continue
        by.setdefault(z.attrs, []).append(z.geom)
    return {n: cs.Prepared(n, union_geoms(gs, ext), n) for n, gs in sorted(by.items())}


def run(args):
    t0 = time.time()
    # check_stack's input options, as its load_inputs expects them
    tgt, layers, prov_spec, nov_spec = cs.load_inputs(args)
    s_srs = cs.make_srs(args.s_srs) if args.s_srs else None
    if not os.path.exists(args.stack) and not args.stack.startswith("/vsi"):
        raise UsageError("stack '%s' does not exist" % args.stack)
    rules_path = args.rules or DEFAULT_RULES
    rules = read_rules(rules_path)

    claims = cs.read_claims(layers, tgt, s_srs)
    prov_bare, nov_bare = [], []  # zones without area: a row of zeros each
    prov_items = cs.read_zones(prov_spec, tgt, s_srs, "provinces", prov_bare)
    nov_items = cs.read_zones(nov_spec, tgt, s_srs, "novex", nov_bare)
    themes = []
    for t, _, _ in layers:
        if t not in themes:
            themes.append(t)
    themes.sort()
    ext = cs._union_env([c.env for c in claims]
                        + [z.env for z in (prov_items or []) + (nov_items or [])])
    log("read %d claims, %d themes in %.1f s" % (len(claims), len(themes), time.time() - t0))

    rule_pairs = {}  # pair -> (verdict, note), conflict/conditional, both themes present
    for k, (v, note) in rules.items():
        if v in ("conflict", "conditional") and k[0] in themes and k[1] in themes:
            rule_pairs[k] = (v, note)
    unknown = sorted(set(t for k in rules for t in k) - set(themes))
    if unknown:
        log("rules name themes that no layer has: %s" % ", ".join(unknown))

    rep = cs.Report()
    out = read_output(args.stack, tgt, rep)

    # ---- theme unions, zones ------------------------------------------------
    t1 = time.time()
    U = {}
    for t in themes:
        U[t] = Parts(union_geoms([c.geom for c in claims if c.attrs == t], ext))
    provinces = zone_dict(prov_items, ext, "province")
    novex = zone_dict(nov_items, ext, "NOVEX")
    have_prov = prov_items is not None
    have_nov = nov_items is not None
    UP = union_geoms([z.geom for z in prov_items], ext) if prov_items else None
    outside = None  # None: the whole plane
    if UP is not None:
        box = ogr.CreateGeometryFromWkt(
            "POLYGON((%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f))"
            % (ext[0] - 1000, ext[2] - 1000, ext[1] + 1000, ext[2] - 1000,
               ext[1] + 1000, ext[3] + 1000, ext[0] - 1000, ext[3] + 1000,
               ext[0] - 1000, ext[2] - 1000))
        outside = cs.Prepared("(outside)", diff(polys(box), UP), None)
    log("theme unions and zones in %.1f s" % (time.time() - t1))

    # ---- per-zone analysis --------------------------------------------------
    t1 = time.time()

    def do(zone, keep):
        G = {t: U[t].clip(zone) for t in themes}
        zs = analyse(G, themes, rules, ext, args.grid, keep)
        if zone is not None:
            zs.zone = Q.of(zone.geom)
        return zs

    PZ = {n: do(z, True) for n, z in provinces.items()}
    NZ = {n: do(z, True) for n, z in novex.items()}
    OZ = do(outside, True)  # outside every province (the whole plane without them)
    prov_overlap = 0.0
    if UP is not None:
        prov_overlap = math.fsum(z.zone.a for z in PZ.values()) - area(UP)
        tol = args.rel_tol * area(UP) + args.grid * math.fsum(z.zone.p for z in PZ.values())
        additive = prov_overlap <= tol and all(z.attrs is not None for z in prov_items)
        if additive:
            IN = None
            for zs in PZ.values():
                IN = zs if IN is None else IN + zs
        else:
            log("provinces overlap by %.3f m2 (or some have no name): the total is "
                "computed on their union" % prov_overlap)
            IN = do(cs.Prepared("(provinces)", UP, None), False)
        IN.zone = Q.of(UP)
        ALL = IN + OZ
        ALL.zone = IN.zone
    else:
        additive = True
        IN = None
        ALL = OZ
        ALL.zone = Q.of(union_geoms([U[t].geom for t in themes], ext))
    log("zone analysis (%d provinces, %d NOVEX areas, outside, total) in %.1f s"
        % (len(PZ), len(NZ), time.time() - t1))

    # ---- conflicts ----------------------------------------------------------
    t1 = time.time()
    rows = out.get("conflicts")
    if rows is not None:
        check_conflict_rows(args, rows, rules, rule_pairs, themes, provinces, novex,
                            have_prov, have_nov, rep)
        check_conflict_sums(args, rows, rule_pairs, PZ, NZ, OZ, ALL, provinces,
                            additive, have_prov, rep)
        if not args.no_containment:
            check_containment(args, rows, rule_pairs, PZ, NZ, OZ, novex, rep)
        log("conflict checks in %.1f s" % (time.time() - t1))

    # ---- the verdicts of the stack's faces -----------------------------------
    check_stack_verdicts(args.stack, rules, rep)

    # ---- zone_summary and zone_theme ----------------------------------------
    TOT = IN if (args.total_scope == "provinces" and IN is not None) else ALL
    OTHER = ALL if TOT is IN else IN
    scope = ("the union of the provinces" if TOT is IN else
             "the whole plane" if IN is not None else "the whole plane (no provinces)")
    other_scope = "the whole plane" if TOT is IN else "the union of the provinces"
    zones = [("province", n, PZ[n]) for n in PZ] + [("novex", n, NZ[n]) for n in NZ]
    zones += [("province", n, ZoneStats(themes)) for n in prov_bare]
    zones += [("novex", n, ZoneStats(themes)) for n in nov_bare]
    if "zone_summary" in out:
        check_summary(args, out["zone_summary"], zones, TOT, OTHER, scope, other_scope,
                      rep)
    if "zone_theme" in out:
        check_zone_theme(args, out["zone_theme"], zones, TOT, themes, scope, rep)

    log("total %.1f s" % (time.time() - t0))
    print("oracle-summary: %d passed, %d failed" % (rep.passed, rep.failed))
    return 0 if rep.failed == 0 else 1


VERDICT_ORDER = {"compatible": 1, "unrated": 2, "conditional": 3, "conflict": 4}


def check_stack_verdicts(path, rules, rep):
    """v1: each face's verdict and conflict_pairs follow from its themes and
    the rules (RULES.md): the worst verdict of its pairs, single for one."""
    ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    lyr = ds.GetLayerByName("stack")
    if lyr is None:
        rep.result(False, "v1-stack-verdict", "no layer 'stack'")
        return
    defn = lyr.GetLayerDefn()
    missing = [f for f in ("themes", "verdict", "conflict_pairs") if defn.GetFieldIndex(f) < 0]
    if missing:
        rep.result(False, "v1-stack-verdict", "stack: missing field %s" % ", ".join(missing))
        return
    bad, n, by = [], 0, {}
    for feat in lyr:
        n += 1
        themes = (feat.GetField("themes") or "").split("+")
        pairs = [(a, b) for i, a in enumerate(themes) for b in themes[i + 1:]]
        verdicts = [rules[tuple(sorted(p))][0] if tuple(sorted(p)) in rules else "unrated"
                    for p in pairs]
        want = max(verdicts, key=VERDICT_ORDER.get) if verdicts else "single"
        want_pairs = sorted("%s\u00d7%s" % tuple(sorted(p))
                            for p, v in zip(pairs, verdicts) if v == "conflict")
        got = feat.GetField("verdict")
        try:
            got_pairs = json.loads(feat.GetField("conflict_pairs") or "null")
        except ValueError:
            got_pairs = "not JSON: %r" % feat.GetField("conflict_pairs")
        by[got] = by.get(got, 0) + 1
        if got != want or got_pairs != want_pairs:
            bad.append("fid %d (%s): verdict %r, conflict_pairs %s; expected %r, %s"
                       % (feat.GetFID(), "+".join(themes), got,
                          json.dumps(got_pairs, ensure_ascii=False), want,
                          json.dumps(want_pairs, ensure_ascii=False)))
    rep.result(not bad, "v1-stack-verdict",
               "%d faces (%s): %d with a verdict or conflict_pairs other than the rules give"
               % (n, ", ".join("%s %d" % (k, by[k]) for k in sorted(by, key=str)), len(bad)),
               bad)


def split_names(v):
    """A zone tag: NULL, one name, or several joined with ';'."""
    return [] if v is None else v.split(";")


def check_conflict_rows(args, rows, rules, rule_pairs, themes, provinces, novex,
                        have_prov, have_nov, rep):
    tl = Tally(args.rel_tol, args.grid)
    seen = {}
    for r in rows:
        fid = r["fid"]
        probs = []
        a, b = r["theme_a"], r["theme_b"]
        if a is None or b is None or not a < b:
            probs.append("theme_a %r, theme_b %r: not theme_a < theme_b" % (a, b))
        key = tuple(sorted((a or "", b or "")))
        for t in (a, b):
            if t is not None and t not in themes:
                probs.append("theme %r is not a layer" % t)
        if key in rule_pairs:
            v, note = rule_pairs[key]
            if r["verdict"] != v:
                probs.append("verdict %r, rules say %r" % (r["verdict"], v))
            if (r["note"] or None) != note and (r["note"] or "").strip() != (note or ""):
                probs.append("note %r, rules say %r" % (r["note"], note))
        elif a in themes and b in themes:
            probs.append("pair %s has verdict %s: no row expected"
                         % (pair_name(key), rules.get(key, ("unrated",))[0]))
        for n in split_names(r["province"]):
            if not have_prov or n not in provinces:
                probs.append("unknown province %r" % n)
        for n in split_names(r["novex"]):
            if not have_nov or n not in novex:
                probs.append("unknown NOVEX area %r" % n)
        for f in ("province", "novex"):
            nv = split_names(r[f])
            if nv != sorted(set(nv)):
                probs.append("%s %r: names not sorted and unique" % (f, r[f]))
        k = (r["province"], r["novex"], key)
        if k in seen:
            probs.append("same province, novex and pair as fid %s" % seen[k])
        seen[k] = fid
        g = r["geom"]
        if g is None or g.IsEmpty():
            probs.append("empty geometry")
        else:
            gt = ogr.GT_Flatten(g.GetGeometryType())
            if gt not in cs.POLYGONAL:
                probs.append("%s geometry" % g.GetGeometryName())
            else:
                try:
                    valid = g.IsValid()
                except RuntimeError:
                    valid = False
                if not valid:
                    probs.append("invalid geometry")
                ga = g.GetArea()
                if r["area_m2"] is None or abs(ga - r["area_m2"]) > max(1e-9 * ga, 1e-6):
                    probs.append("area_m2 %s but geometry area %.6f" % (r["area_m2"], ga))
        tl.fact(not probs, "fid %s (%s, %s, %s): %s" % (fid, pair_name(key), r["province"],
                                                       r["novex"], "; ".join(probs)))
    rep.result(not tl.bad, "c1-conflict-rows",
               "%d rows; %d wrong (pair order, verdict, note, names, duplicates, geometry, "
               "area_m2)" % (len(rows), len(tl.bad)), [b for _, b in tl.bad])


def check_conflict_sums(args, rows, rule_pairs, PZ, NZ, OZ, ALL, provinces, additive,
                        have_prov, rep):
    by_prov, by_nov, by_all = {}, {}, {}
    for r in rows:
        if r["area_m2"] is None:
            continue
        key = tuple(sorted((r["theme_a"] or "", r["theme_b"] or "")))
        for n in set(split_names(r["province"])) or [None]:
            by_prov[(n, key)] = by_prov.get((n, key), 0.0) + r["area_m2"]
        for n in set(split_names(r["novex"])):
            by_nov[(n, key)] = by_nov.get((n, key), 0.0) + r["area_m2"]
        by_all[key] = by_all.get(key, 0.0) + r["area_m2"]

    # provinces (and the part outside them)
    tl = Tally(args.rel_tol, args.grid)
    others = {}
    for n, zs in PZ.items():
        for k in sorted(rule_pairs):
            got = by_prov.get((n, k), 0.0)
            exp = zs.pair.get(k, Q())
            extra = " [%s]" % rule_pairs[k][0]
            if additive:
                tl.area("province %s, %s" % (n, pair_name(k)), got, exp, extra)
            else:
                # overlapping provinces: a row in the shared part may name one
                # province or all of them (joined with ';')
                if n not in others:
                    rest = [z.geom for m, z in provinces.items() if m != n]
                    others[n] = cs.Prepared(n, union_geoms(rest, None), None) if rest else None
                g = zs.pair_geom.get(k)
                shared = Q.of(inter(g, others[n].geom)) if g is not None and others[n] else Q()
                tl.bounds("province %s, %s" % (n, pair_name(k)), got, exp - shared, exp, extra)
    where = "outside every province" if have_prov else "province NULL (no provinces)"
    for k in sorted(rule_pairs):
        tl.area("%s, %s" % (where, pair_name(k)), by_prov.get((None, k), 0.0),
                OZ.pair.get(k, Q()), " [%s]" % rule_pairs[k][0])
    tl.report(rep, "c2-conflict-province",
              "%d provinces + outside x %d rule pairs" % (len(PZ), len(rule_pairs)))

    tl = Tally(args.rel_tol, args.grid)
    for n, zs in NZ.items():
        for k in sorted(rule_pairs):
            tl.area("NOVEX %s, %s" % (n, pair_name(k)), by_nov.get((n, k), 0.0),
                    zs.pair.get(k, Q()), " [%s]" % rule_pairs[k][0])
    tl.report(rep, "c2-conflict-novex", "%d NOVEX areas x %d rule pairs"
              % (len(NZ), len(rule_pairs)))

    tl = Tally(args.rel_tol, args.grid)
    for k in sorted(rule_pairs):
        tl.area("all rows, %s" % pair_name(k), by_all.get(k, 0.0), ALL.pair.get(k, Q()),
                " [%s]" % rule_pairs[k][0])
    tl.report(rep, "c2-conflict-total", "%d rule pairs over the whole plane" % len(rule_pairs))


def check_containment(args, rows, rule_pairs, PZ, NZ, OZ, novex, rep):
    """Each row's geometry lies in the pair's overlap within its province (or
    outside all provinces) and within each NOVEX area it names, and outside the
    NOVEX areas it does not name."""
    tl = Tally(args.rel_tol, args.grid)
    for r in rows:
        g = r["geom"]
        key = tuple(sorted((r["theme_a"] or "", r["theme_b"] or "")))
        if is_empty(g) or key not in rule_pairs:
            continue  # reported by c1
        g = polys(g)
        what = "fid %s (%s, %s, %s)" % (r["fid"], pair_name(key), r["province"], r["novex"])
        p = perim(g)
        if r["province"] is None:
            out = area(diff(g, OZ.pair_geom.get(key, empty())))
            tl.excess(what + ": area outside the pair's overlap outside the provinces", out, p)
        for n in split_names(r["province"]):
            if n in PZ:
                out = area(diff(g, PZ[n].pair_geom.get(key, empty())))
                tl.excess(what + ": area outside the pair's overlap in province %s" % n, out, p)
        named = set(split_names(r["novex"]))
        ge = g.GetEnvelope()
        for n, z in novex.items():
            if n in named:
                out = area(diff(g, NZ[n].pair_geom.get(key, empty())))
                tl.excess(what + ": area outside the pair's overlap in NOVEX %s" % n, out, p)
            elif env_meet(ge, z.env):
                inn = area(inter(g, z.geom))
                tl.excess(what + ": area inside NOVEX %s, which it does not name" % n, inn, p)
    tl.report(rep, "c3-conflict-geometry",
              "%d rows inside the pair's overlap in the zones they name, outside the "
              "NOVEX areas they do not name" % len(rows))


def check_summary(args, rows, zones, TOT, OTHER, scope, other_scope, rep):
    got = {}
    tl = Tally(args.rel_tol, args.grid)
    for r in rows:
        k = (r["zone_type"], r["zone"])
        tl.fact(k not in got, "duplicate row %s %r" % k)
        got[k] = r
    want = [(zt, n) for zt, n, _ in zones] + [("total", "total")]
    for k in want:
        tl.fact(k in got, "missing row %s %r" % k)
    for k in got:
        tl.fact(k in want, "unexpected row %s %r" % k)
    tl.report(rep, "s0-zone-rows", "%d rows, %d expected" % (len(rows), len(want)))

    t_area = Tally(args.rel_tol, args.grid)
    t_claim = Tally(args.rel_tol, args.grid)
    t_stack = Tally(args.rel_tol, args.grid)
    t_conf = Tally(args.rel_tol, args.grid)
    for zt, n, zs in zones:
        r = got.get((zt, n))
        if r is None:
            continue
        w = "%s %s" % (zt, n)
        t_area.area(w + " area_m2", r["area_m2"], zs.zone)
        t_claim.area(w + " claimed_m2", r["claimed_m2"], zs.claimed)
        t_claim.ratio(w + " claim_ratio", r["claim_ratio"], zs.claimed, zs.zone)
        t_stack.area(w + " stacked2_m2", r["stacked2_m2"], zs.s2)
        t_stack.area(w + " stacked3_m2", r["stacked3_m2"], zs.s3)
        mt = r["max_themes"]
        t_stack.fact(mt is not None and zs.max_lo <= mt <= zs.max_hi,
                     "%s max_themes %s, oracle %s" % (w, mt, zs.max_hi if zs.max_lo == zs.max_hi
                                                      else "%d..%d" % (zs.max_lo, zs.max_hi)))
        t_conf.area(w + " conflict_m2", r["conflict_m2"], zs.conflict)
        t_conf.area(w + " kans_m2", r["kans_m2"], zs.kans)
    t_area.report(rep, "s1-zone-area", "area_m2 of %d zones" % len(zones))
    t_claim.report(rep, "s2-claimed", "claimed_m2 and claim_ratio of %d zones" % len(zones))
    t_stack.report(rep, "s3-stacked", "stacked2_m2, stacked3_m2, max_themes of %d zones"
                   % len(zones))
    t_conf.report(rep, "s4-conflict-kans", "conflict_m2 and kans_m2 of %d zones" % len(zones))

    # total
    r = got.get(("total", "total"))
    tl = Tally(args.rel_tol, args.grid)
    if r is None:
        tl.fact(False, "no total row")
    else:
        def alt(f):
            if OTHER is None:
                return ""
            return " (over %s: %.9g)" % (other_scope, f(OTHER))
        tl.area("total area_m2", r["area_m2"], TOT.zone)
        tl.area("total claimed_m2", r["claimed_m2"], TOT.claimed, alt(lambda z: z.claimed.a))
        tl.ratio("total claim_ratio", r["claim_ratio"], TOT.claimed, TOT.zone,
                 alt(lambda z: z.claimed.a / z.zone.a if z.zone.a else 0.0))
        tl.area("total stacked2_m2", r["stacked2_m2"], TOT.s2, alt(lambda z: z.s2.a))
        tl.area("total stacked3_m2", r["stacked3_m2"], TOT.s3, alt(lambda z: z.s3.a))
        mt = r["max_themes"]
        tl.fact(mt is not None and TOT.max_lo <= mt <= TOT.max_hi,
                "total max_themes %s, oracle %d..%d" % (mt, TOT.max_lo, TOT.max_hi))
        tl.area("total conflict_m2", r["conflict_m2"], TOT.conflict,
                alt(lambda z: z.conflict.a))
        tl.area("total kans_m2", r["kans_m2"], TOT.kans, alt(lambda z: z.kans.a))
    tl.report(rep, "s5-total", "total row, expected over %s" % scope)


def check_zone_theme(args, rows, zones, TOT, themes, scope, rep):
    tl = Tally(args.rel_tol, args.grid)
    got = {}
    for r in rows:
        k = (r["zone_type"], r["zone"], r["theme"])
        tl.fact(k not in got, "duplicate row %s %r %s" % k)
        got[k] = r
    allz = zones + [("total", "total", TOT)]
    want = set()
    for zt, n, zs in allz:
        for t in themes:
            want.add((zt, n, t))
            q = zs.theme[t]
            r = got.get((zt, n, t))
            w = "total %s" % t if zt == "total" else "%s %s %s" % (zt, n, t)
            if r is None:
                # FORMAT.md: every theme appears for every zone, also with area 0
                tl.fact(False, "%s: missing row, oracle area %.3f m2" % (w, q.a))
                continue
            tl.area(w + " area_m2", r["area_m2"], q)
            tl.ratio(w + " share", r["share"], q, zs.zone)
            tl.area(w + " overlap_m2", r["overlap_m2"], zs.overlap[t])
    for k in got:
        tl.fact(k in want, "unexpected row %s %r %s" % k)
    tl.report(rep, "t1-zone-theme", "%d zones (total over %s) x %d themes"
              % (len(allz), scope, len(themes)))


if __name__ == "__main__":
    sys.exit(main())
