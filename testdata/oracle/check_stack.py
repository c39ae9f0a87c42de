#!/usr/bin/python3
"""check_stack.py - an independent oracle for stapel stack GeoPackages.

It re-reads the claim and zone inputs with its own (simple, slow-but-sure) code
and checks the `stack` layer of a stapel output against them. It shares no code
with stapel's overlay engine: it only uses OGR/OSR (GEOS through OGR) and the
Python standard library.

    /usr/bin/python3 testdata/oracle/check_stack.py --manifest scenario.json \
        --stack OUT.gpkg [--points 2000] [--seed 1] [--rel-tol 1e-6]

    /usr/bin/python3 testdata/oracle/check_stack.py --stack OUT.gpkg \
        --layer nature=nature.shp --layer agri='claims.gpkg|layername=agri' \
        [--provinces provinces.gpkg] [--novex novex.gpkg] \
        [--province-field naam] [--novex-field naam] [--t_srs EPSG:28992]

Manifest (paths are relative to the manifest's directory; a source may be
`path|layername=NAME`; `provinces` and `novex` are optional):

    {"crs": "EPSG:28992",
     "layers": [{"theme": "nature", "source": "nature.shp"},
                {"theme": "agri", "source": "claims.gpkg|layername=agri"}],
     "provinces": {"source": "provinces.gpkg", "field": "naam"},
     "novex": {"source": "novex.gpkg", "field": "naam"}}

Checks (DESIGN.md sections 3 and 5); each prints one PASS/FAIL line:
  0-schema        the `stack` layer exists with the contract fields and the CRS
  1-geometry      every face valid, polygonal, 2D, non-empty; area_m2 == its area
  2-coverage      sum of face areas == area of the union of all claims (within
                  rel-tol + --grid x the union's outline: snap rounding)
  2-overlap       pairwise, through a grid index: no two faces overlap by more
                  than --sliver-area (1e-9 m2), and all overlaps sum to <= rel-tol
                  x total
  2-gaps          no hole of the union of the faces lies inside the claims with
                  --gap-tol (2 mm) around it: a sliver left between faces, which
                  the area sums are too coarse to see (but for a hole within
                  the outline tolerance of two claim edges not on one line,
                  which snap rounding may open where claims overlap thinly)
  2-outline       the outline of the faces (the boundary of their union, holes
                  included) runs within --outline-tol (3 x --grid) of the
                  outline of the claims, and back: a sliver between faces open
                  to the claims' outer edge or to a hole of theirs, a face
                  pulled back from the claims' edge (snap rounding may move the
                  outline further only at the tip of a thin wedge of claim
                  edges, or between claim edges not on one line that run
                  within the tolerance of each other, and may close claims
                  thinner than that)
  3-multiplicity  sum(face area x n_claims) == sum(area of each repaired claim)
                  (within rel-tol + --grid x the claims' perimeters)
  3-per-claim     for every claim, the faces naming it add up to its area
                  (within rel-tol + --grid x its perimeter: snap rounding)
  4-points        random points (--points, --seed) in the envelope, kept when a
                  claim or a face holds them: exactly one face holds the point and
                  it names exactly the claims, province and NOVEX areas that hold it
  4-face-labels   the same test at a point on the surface of every face
  5-attributes    n_claims, n_themes, themes agree with claim_ids on every face;
                  ids are unique and name claims that exist
  6-dissolved     (only with --dissolved) no two faces sharing an edge carry the
                  same claims, province and NOVEX tags
Points within --boundary-tol (1 cm) of any claim, face or zone boundary are
skipped and counted. The last line is `oracle: N passed, M failed`.

Exit status: 0 all checks pass, 1 a check failed, 2 usage or input error (or
the oracle could not run: no verdict).
"""

import argparse
import json
import math
import os
import random
import re
import sys
import time
import unicodedata

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()
osr.UseExceptions()
# GEOS chatter ("Self-intersection at or near point ...") is expected on
# invalid inputs; we count repairs ourselves.
gdal.PushErrorHandler("CPLQuietErrorHandler")

POLYGONAL = (ogr.wkbPolygon, ogr.wkbMultiPolygon)
MAX_EXAMPLES = 8


class UsageError(Exception):
    """Bad arguments or unusable input: exit status 2."""


def log(msg):
    print("check_stack: " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------

_CONN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]+:")


def resolve_source(src, base):
    """Split 'path|layername=NAME' and make a relative path relative to base."""
    parts = src.split("|")
    path = parts[0]
    layername = None
    for opt in parts[1:]:
        key, _, val = opt.partition("=")
        if key.strip().lower() == "layername":
            layername = val
        elif key.strip():
            raise UsageError("unsupported source option '%s' in '%s'" % (opt, src))
    is_conn = bool(_CONN_RE.match(path)) and not re.match(r"^[A-Za-z]:[\\/]", path)
    if base and not is_conn and not path.startswith("/vsi") and not os.path.isabs(path):
        path = os.path.join(base, path)
    return path, layername


def open_layer(src, base=None):
    path, layername = resolve_source(src, base)
    try:
        ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    except RuntimeError as e:
        raise UsageError("cannot open '%s': %s" % (path, e))
    if ds is None:
        raise UsageError("cannot open '%s'" % path)
    if layername is not None:
        lyr = ds.GetLayerByName(layername)
        if lyr is None:
            raise UsageError("'%s' has no layer '%s'" % (path, layername))
    else:
        if ds.GetLayerCount() != 1:
            raise UsageError("'%s' holds %d layers; say which with '|layername=NAME'"
                             % (path, ds.GetLayerCount()))
        lyr = ds.GetLayer(0)
    return ds, lyr


def make_srs(text):
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(text)
    except RuntimeError as e:
        raise UsageError("bad CRS '%s': %s" % (text, e))
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


# USER_GUIDE: each arc of a curve is linearised to within 1 cm of the true
# arc: its vertices are its own two ends and, between them, the corners of
# one polygon inscribed in its circle, of n sides with a corner due east of
# the centre. n is the fewest sides, a multiple of 8 and at least 96 (steps
# of 3.75 degrees at most) and at most 36000 (0.01 degrees), whose chords
# stay within 1 cm of the circle. A full circle that is a ring by itself is
# that polygon (its start joins nothing). The oracle walks the arcs itself,
# without GDAL's linearisation.
ARC_DEVIATION = 0.01
ARC_SIDES_MIN, ARC_SIDES_MAX, ARC_SIDES_UNIT = 96, 36000, 8
# An arc whose chord is shorter than a billionth of its radius is three
# points on a line up to float noise (its middle point rounded onto the line
# between its ends): the line through them.
ARC_FLAT = 1e-9


def arc_sides(r):
    """The sides of the polygon inscribed in a circle of radius r by the
    rule above."""
    def within(n):  # the sagitta of a chord of the n-gon
        return r - r * math.cos(math.pi / n) <= ARC_DEVIATION
    if r <= ARC_DEVIATION:
        return ARC_SIDES_MIN
    # sagitta ~ r (pi/n)^2 / 2: start near the answer, then step to it
    n = ARC_SIDES_UNIT * max(1, int(math.pi * math.sqrt(r / (2 * ARC_DEVIATION)))
                             // ARC_SIDES_UNIT)
    while n > ARC_SIDES_UNIT and within(n - ARC_SIDES_UNIT):
        n -= ARC_SIDES_UNIT
    while not within(n) and n < ARC_SIDES_MAX:
        n += ARC_SIDES_UNIT
    return min(ARC_SIDES_MAX, max(ARC_SIDES_MIN, n))


def arc_walk(p0, p1, p2, alone):
    """The vertices of the arc from p0 through p1 to p2 by the rule above;
    alone: the arc is a ring by itself."""
    if p0 == p2:  # a full circle, counterclockwise
        centre = ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
        r = math.hypot(p1[0] - p0[0], p1[1] - p0[1]) / 2
        ccw, sweep = True, 2 * math.pi
    else:
        # Cramer's rule on the two perpendicular bisectors, taken from the
        # lower end so that an arc and its reverse meet one centre.
        o, q = sorted([p0, p2])
        u = (p1[0] - o[0], p1[1] - o[1])
        v = (q[0] - o[0], q[1] - o[1])
        det = u[0] * v[1] - u[1] * v[0]
        if det == 0:
            return [p0, p1, p2]  # on a line
        hu, hv = (u[0] ** 2 + u[1] ** 2) / 2, (v[0] ** 2 + v[1] ** 2) / 2
        zx, zy = (hu * v[1] - u[1] * hv) / det, (u[0] * hv - hu * v[0]) / det
        centre, r = (o[0] + zx, o[1] + zy), math.hypot(zx, zy)
        if math.hypot(*v) < ARC_FLAT * r:
            return [p0, p1, p2]  # on a line up to float noise
        ccw = ((p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0])) > 0
        a0 = math.atan2(p0[1] - centre[1], p0[0] - centre[0])
        a2 = math.atan2(p2[1] - centre[1], p2[0] - centre[0])
        sweep = ((a2 - a0) if ccw else (a0 - a2)) % (2 * math.pi)
    if not (r > 0 and all(map(math.isfinite, (centre[0], centre[1], r)))):
        return [p0, p1, p2]
    n = arc_sides(r)
    corner = [(centre[0] + r * math.cos(2 * math.pi * k / n),
               centre[1] + r * math.sin(2 * math.pi * k / n)) for k in range(n)]
    if alone and p0 == p2:
        return corner + corner[:1]
    a0 = math.atan2(p0[1] - centre[1], p0[0] - centre[0])
    inside = []
    for k in range(n):
        at = 2 * math.pi * k / n
        turned = ((at - a0) if ccw else (a0 - at)) % (2 * math.pi)
        if 0 < turned < sweep:
            inside.append((turned, k))
    return [p0] + [corner[k] for _, k in sorted(inside)] + [p2]


# USER_GUIDE: a curved ring whose ends fall on one point of the snap grid
# (stack's default, 1 mm), or lie no more than a cell apart, is closed; an
# arc whose own ends do is the full circle through its start and middle
# point.
ARC_CLOSE_GRID = 0.001


def on_one_grid_point(p, q):
    """Whether points p and q round to one point of the grid ARC_CLOSE_GRID,
    or lie no more than a cell apart."""
    return (all(math.floor(a / ARC_CLOSE_GRID + 0.5) == math.floor(b / ARC_CLOSE_GRID + 0.5)
                for a, b in zip(p, q))
            or math.dist(p, q) <= ARC_CLOSE_GRID)


def curve_points(c, out, alone=False):
    """Append the points of curve c (line, circular string or compound curve),
    its arcs linearised, to list out; alone: c is a ring by itself."""
    t = ogr.GT_Flatten(c.GetGeometryType())
    if t == ogr.wkbCompoundCurve:
        for i in range(c.GetGeometryCount()):
            curve_points(c.GetGeometryRef(i), out, alone and c.GetGeometryCount() == 1)
        return
    pts = [c.GetPoint_2D(i) for i in range(c.GetPointCount())]
    if t != ogr.wkbCircularString or len(pts) < 3:
        seq = pts
    else:
        seq = []
        for i in range(0, len(pts) - 2, 2):
            p0, p1, p2 = pts[i:i + 3]
            if p2 != p0 and on_one_grid_point(p0, p2):
                p2 = p0  # a full circle, its end off by float noise
            seq += arc_walk(p0, p1, p2, alone and len(pts) == 3)
    for q in seq:
        if not out or out[-1] != q:
            out.append(q)


def linearise(g):
    """g (2D) with every curve linearised by the rule above."""
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t == ogr.wkbCurvePolygon:
        poly = ogr.Geometry(ogr.wkbPolygon)
        for i in range(g.GetGeometryCount()):
            pts = []
            curve_points(g.GetGeometryRef(i), pts, True)
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for q in pts:
                ring.AddPoint_2D(*q)
            ring.CloseRings()
            poly.AddGeometry(ring)
        return poly
    if t in (ogr.wkbMultiSurface, ogr.wkbGeometryCollection):
        out = ogr.Geometry(ogr.wkbGeometryCollection)
        for i in range(g.GetGeometryCount()):
            out.AddGeometry(linearise(g.GetGeometryRef(i)))
        return out
    return g.GetLinearGeometry() if g.HasCurveGeometry() else g


def polygonal_parts(g, out):
    """Append every Polygon inside g (recursing into collections) to list out."""
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t == ogr.wkbPolygon:
        if not g.IsEmpty():
            out.append(g)
    elif t in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection, ogr.wkbPolyhedralSurface,
               ogr.wkbTIN):
        for i in range(g.GetGeometryCount()):
            polygonal_parts(g.GetGeometryRef(i), out)
    elif t == ogr.wkbTriangle:
        out.append(ogr.ForceToPolygon(g))
    # points and lines: dropped


def to_multipolygon(parts):
    mp = ogr.Geometry(ogr.wkbMultiPolygon)
    for p in parts:
        mp.AddGeometry(p)
    return mp


class Prepared:
    """One polygonal thing (claim, zone or face) with a lazily prepared geometry."""

    __slots__ = ("key", "geom", "env", "area", "_prep", "attrs", "raw")

    def __init__(self, key, geom, attrs=None, raw=None):
        self.key = key
        self.geom = geom
        self.raw = raw  # a repaired claim: its rings as read, before the repair
        self.env = geom.GetEnvelope()  # (minx, maxx, miny, maxy)
        self.area = geom.GetArea()
        self._prep = None
        self.attrs = attrs

    def prep(self):
        if self._prep is None:
            self._prep = self.geom.CreatePreparedGeometry()
        return self._prep

    def classify(self, box):
        """1: box inside, 0: box outside, -1: box meets the boundary."""
        try:
            p = self.prep()
            if p.Contains(box):
                return 1
            if p.Intersects(box):
                return -1
            return 0
        except RuntimeError:  # GEOS gave up (invalid geometry): treat as boundary
            return -1


def read_polygons(src, base, tgt_srs, s_srs, what, field=None):
    """Read a polygon layer the documented way. Returns (items, stats).

    items: list of (fid, geometry (MultiPolygon, target CRS), field value).
    stats["skipped_names"]: with a field, the field values (zone names) of
    the features skipped for having no area.
    """
    ds, lyr = open_layer(src, base)
    srs = lyr.GetSpatialRef()
    if srs is not None and srs.IsLocal() and (srs.GetName() or "").startswith("Undefined"):
        srs = None  # e.g. GeoPackage srs_id -1/0: "Undefined Cartesian SRS"
    if srs is None:
        if s_srs is None:
            raise UsageError("%s '%s' has no CRS (give --s_srs)" % (what, src))
        srs = s_srs
    srs = srs.Clone()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = None
    if not srs.IsSame(tgt_srs):
        try:
            ct = osr.CoordinateTransformation(srs, tgt_srs)
        except RuntimeError as e:
            raise UsageError("%s '%s': no transformation from %s to %s: %s"
                             % (what, src, srs.GetName(), tgt_srs.GetName(), e))
    field_idx = None
    if field is not None:
        field_idx = lyr.GetLayerDefn().GetFieldIndex(field)
        if field_idx < 0:
            raise UsageError("%s '%s' has no field '%s'" % (what, src, field))
    stats = dict(read=0, empty=0, repaired=0, zero_area=0, unrepairable=0, skipped_names=[],
                 raw={}, flat={})
    items = []

    def name_of(f):
        return zone_name(f.GetFieldAsString(field_idx)
                         if f.IsFieldSetAndNotNull(field_idx) else "")

    def skip(f, why):
        stats[why] += 1
        if field_idx is not None:
            stats["skipped_names"].append(name_of(f))

    lyr.ResetReading()
    for f in lyr:
        stats["read"] += 1
        g = f.GetGeometryRef()
        if g is None or g.IsEmpty():
            skip(f, "empty")
            continue
        g = g.Clone()
        g.FlattenTo2D()
        t = ogr.GT_Flatten(g.GetGeometryType())
        if t in (ogr.wkbPoint, ogr.wkbMultiPoint, ogr.wkbLineString, ogr.wkbMultiLineString,
                 ogr.wkbCircularString, ogr.wkbCompoundCurve, ogr.wkbMultiCurve):
            raise UsageError("%s '%s' feature %d is not polygonal (%s)"
                             % (what, src, f.GetFID(), g.GetGeometryName()))
        if ct is not None:
            try:
                g.Transform(ct)
            except RuntimeError as e:
                raise UsageError("%s '%s' feature %d cannot be reprojected: %s"
                                 % (what, src, f.GetFID(), e))
        # Linearised in the working CRS, as stapel does (after the transform).
        g = linearise(g)
        parts = []
        polygonal_parts(g, parts)
        g, mended = mend_rings(to_multipolygon(parts))
        if g.IsEmpty():
            skip(f, "empty")
            continue
        try:
            valid = not mended and g.IsValid()
        except RuntimeError:
            valid = False
        if not valid:
            try:
                r = make_valid_local(g)
            except RuntimeError:
                r = None
            if r is None:
                skip(f, "unrepairable")
                continue
            stats["repaired"] += 1
            stats["raw"][f.GetFID()] = g
            parts = []
            polygonal_parts(r, parts)
            g = to_multipolygon(parts)
        if g.IsEmpty() or g.GetArea() <= 0.0:
            skip(f, "zero_area")
            stats["flat"][f.GetFID()] = stats["raw"].get(f.GetFID(), g)
            continue
        val = name_of(f) if field_idx is not None else None
        items.append((f.GetFID(), g, val))
    return items, stats


def _translate(g, dx, dy):
    """A copy of polygonal g moved by (dx, dy)."""
    g = g.Clone()
    parts = [g] if ogr.GT_Flatten(g.GetGeometryType()) == ogr.wkbPolygon else \
        [g.GetGeometryRef(i) for i in range(g.GetGeometryCount())]
    for p in parts:
        if ogr.GT_Flatten(p.GetGeometryType()) != ogr.wkbPolygon:
            continue
        for k in range(p.GetGeometryCount()):
            r = p.GetGeometryRef(k)
            for i in range(r.GetPointCount()):
                x, y = r.GetPoint_2D(i)
                r.SetPoint_2D(i, x + dx, y + dy)
    return g


def make_valid_local(g):
    """MakeValid(METHOD=STRUCTURE) of g, done near the origin: GEOS nodes
    the rings in floating point, and at RD's coordinates (1e5 m, 1e-11 m
    apart) a ring running out and back along one line beside a thin
    triangle lost the triangle (0.097 m2 repaired to 2e-12 m2; moved by
    the corner of its envelope, it keeps it, as stapel does)."""
    x0, _, y0, _ = g.GetEnvelope()
    r = _translate(g, -x0, -y0).MakeValid(["METHOD=STRUCTURE"])
    if r is None:
        return None
    parts = []
    polygonal_parts(r, parts)
    return _translate(to_multipolygon(parts), x0, y0)


def mend_rings(mp):
    """mp with every ring closed and rings of fewer than three distinct
    corners left out (a polygon whose shell is such a ring with it), as
    USER_GUIDE.md says stapel reads them; GEOS cannot build a ring that is
    not closed. Also returns whether a ring was mended: the geometry was
    invalid as stored."""
    out = ogr.Geometry(ogr.wkbMultiPolygon)
    mended = False
    for i in range(mp.GetGeometryCount()):
        poly = mp.GetGeometryRef(i)
        fixed = ogr.Geometry(ogr.wkbPolygon)
        for k in range(poly.GetGeometryCount()):
            pts = [p[:2] for p in (poly.GetGeometryRef(k).GetPoints() or [])]
            if pts and pts[0] != pts[-1]:
                pts.append(pts[0])
                mended = True
            if len(set(pts)) < 3:
                mended = True
                if k == 0:
                    break
                continue
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in pts:
                ring.AddPoint_2D(x, y)
            fixed.AddGeometry(ring)
        if fixed.GetGeometryCount() > 0:
            out.AddGeometry(fixed)
    return out, mended


def zone_name(name):
    """A zone's name as FORMAT.md says the stack names it: in Unicode's
    composed form (NFC: 'â' as one character or as 'a' and a combining mark
    is one name), ';' written as ',', and no name (NULL or empty) as
    '(unnamed)'."""
    name = unicodedata.normalize("NFC", name).replace(";", ",")
    return name if name != "" else "(unnamed)"


# --------------------------------------------------------------------------
# A multi-level grid index over bounding boxes
# --------------------------------------------------------------------------

class GridIndex:
    """Items live in the level whose cell size fits them (they span at most
    2x2 cells there), so point queries cost one dict lookup per level and
    pair enumeration stays local whatever the size mix."""

    def __init__(self, envs, pad=0.0):
        self.envs = envs
        self.pad = pad
        self.levels = []  # list of (cell, dict)
        self.item_level = [0] * len(envs)
        if not envs:
            return
        sizes = sorted(max(e[1] - e[0], e[3] - e[2]) + 2 * pad for e in envs)
        base = sizes[len(sizes) // 4] or 1.0
        self.ox = min(e[0] for e in envs) - pad
        self.oy = min(e[2] for e in envs) - pad
        cells = [base]
        while cells[-1] < sizes[-1]:
            cells.append(cells[-1] * 2.0)
        self.levels = [(c, {}) for c in cells]
        for i, e in enumerate(envs):
            s = max(e[1] - e[0], e[3] - e[2]) + 2 * pad
            k = 0
            while cells[k] < s:
                k += 1
            self.item_level[i] = k
            cell, d = self.levels[k]
            for key in self._cells(k, e[0] - pad, e[1] + pad, e[2] - pad, e[3] + pad):
                lst = d.get(key)
                if lst is None:
                    d[key] = [i]
                else:
                    lst.append(i)

    def _cells(self, k, x0, x1, y0, y1):
        cell = self.levels[k][0]
        ix0 = int(math.floor((x0 - self.ox) / cell))
        ix1 = int(math.floor((x1 - self.ox) / cell))
        iy0 = int(math.floor((y0 - self.oy) / cell))
        iy1 = int(math.floor((y1 - self.oy) / cell))
        for ix in range(ix0, ix1 + 1):
            for iy in range(iy0, iy1 + 1):
                yield (ix, iy)

    def query_point(self, x, y, tol=0.0):
        """Items whose bbox, grown by tol (tol <= pad), holds (x, y)."""
        out = []
        envs = self.envs
        for cell, d in self.levels:
            lst = d.get((int(math.floor((x - self.ox) / cell)),
                         int(math.floor((y - self.oy) / cell))))
            if lst:
                for i in lst:
                    e = envs[i]
                    if e[0] - tol <= x <= e[1] + tol and e[2] - tol <= y <= e[3] + tol:
                        out.append(i)
        return out

    def pairs(self, strict=True):
        """Yield (i, j, overlaps), i != j, once per pair, whose bboxes overlap
        with a positive area (strict) or at least touch (not strict);
        overlaps says whether the bbox overlap has a positive area."""
        envs = self.envs
        lev = self.item_level
        nlev = len(self.levels)
        for i, e in enumerate(envs):
            li = lev[i]
            seen = set()
            for k in range(li, nlev):
                d = self.levels[k][1]
                for key in self._cells(k, e[0], e[1], e[2], e[3]):
                    lst = d.get(key)
                    if not lst:
                        continue
                    for j in lst:
                        if j == i or j in seen:
                            continue
                        if lev[j] == li and j < i:
                            continue
                        seen.add(j)
                        f = envs[j]
                        if f[0] < e[1] and e[0] < f[1] and f[2] < e[3] and e[2] < f[3]:
                            yield i, j, True
                        elif (not strict and f[0] <= e[1] and e[0] <= f[1]
                              and f[2] <= e[3] and e[2] <= f[3]):
                            yield i, j, False


# --------------------------------------------------------------------------
# Union of many polygons
# --------------------------------------------------------------------------

def union_all(geoms, ext):
    """Union of a list of (Multi)Polygons: cascaded, in spatially compact
    batches, falling back to repaired pairwise unions if GEOS gives up."""
    def cascade(batch):
        parts = []
        for g in batch:
            polygonal_parts(g, parts)
        mp = to_multipolygon(parts)
        try:
            u = mp.UnionCascaded()
            if u is not None:
                return u
        except RuntimeError:
            pass
        acc = None
        for g in batch:
            if acc is None:
                acc = g.Clone()
                continue
            try:
                acc = acc.Union(g)
            except RuntimeError:
                acc = acc.MakeValid(["METHOD=STRUCTURE"]).Union(g.MakeValid(["METHOD=STRUCTURE"]))
        return acc

    level = list(geoms)
    if not level:
        return ogr.Geometry(ogr.wkbMultiPolygon)
    level.sort(key=lambda g: _morton(g.GetEnvelope(), ext))
    batch = 512
    while len(level) > 1:
        level = [cascade(level[i:i + batch]) for i in range(0, len(level), batch)]
        batch = 16
    return level[0]


def _morton(env, ext):
    """Z-order key of a bbox centre within extent ext."""
    cx = (env[0] + env[1]) / 2.0
    cy = (env[2] + env[3]) / 2.0
    x = int(max(0, min(65535, (cx - ext[0]) / ((ext[1] - ext[0]) or 1) * 65535)))
    y = int(max(0, min(65535, (cy - ext[2]) / ((ext[3] - ext[2]) or 1) * 65535)))
    z = 0
    for b in range(16):
        z |= ((x >> b) & 1) << (2 * b) | ((y >> b) & 1) << (2 * b + 1)
    return z


# --------------------------------------------------------------------------
# Oracle
# --------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def result(self, ok, name, msg, examples=()):
        print("%s %-15s %s" % ("PASS" if ok else "FAIL", name, msg), flush=True)
        for ex in list(examples)[:MAX_EXAMPLES]:
            print("       - " + ex)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def rel_diff(a, b):
    d = abs(a - b)
    m = max(abs(a), abs(b))
    return d / m if m > 0 else 0.0


def theme_of(cid):
    """The theme of a claim id: "theme:fid", or "theme[k]:fid" for the k-th
    layer (k >= 2) of a theme given by several layers (FORMAT.md)."""
    return cid.rsplit(":", 1)[0].split("[", 1)[0]


def load_inputs(args):
    """-> (tgt_srs, [(theme, source)], provinces spec, novex spec, base dir)."""
    layers = []
    prov = nov = None
    base = None
    crs = args.t_srs
    if args.manifest:
        try:
            with open(args.manifest) as fh:
                man = json.load(fh)
        except (OSError, ValueError) as e:
            raise UsageError("cannot read manifest '%s': %s" % (args.manifest, e))
        base = os.path.dirname(os.path.abspath(args.manifest))
        crs = crs or man.get("crs")
        for ent in man.get("layers", []):
            if "theme" not in ent or "source" not in ent:
                raise UsageError("manifest layer entry needs 'theme' and 'source': %r" % ent)
            layers.append((ent["theme"], ent["source"], base))
        if man.get("provinces"):
            p = man["provinces"]
            prov = (p["source"], p.get("field", "naam"), base)
        if man.get("novex"):
            p = man["novex"]
            nov = (p["source"], p.get("field", "naam"), base)
    for spec in args.layer or []:
        theme, sep, src = spec.partition("=")
        if not sep or not theme or not src:
            raise UsageError("--layer wants THEME=SOURCE, got '%s'" % spec)
        layers.append((theme, src, None))
    if args.provinces:
        prov = (args.provinces, args.province_field or "naam", None)
    elif prov and args.province_field:
        prov = (prov[0], args.province_field, prov[2])
    if args.novex:
        nov = (args.novex, args.novex_field or "naam", None)
    elif nov and args.novex_field:
        nov = (nov[0], args.novex_field, nov[2])
    if not layers:
        raise UsageError("no claim layers (give --manifest or --layer THEME=SOURCE)")
    for t, _, _ in layers:
        if not t.strip():
            raise UsageError("empty theme name")
    tgt = make_srs(crs or "EPSG:28992")
    return tgt, layers, prov, nov


def read_claims(layers, tgt, s_srs, flat=None):
    """The claims with area, as Prepared. flat (a dict) gets the ids of the
    claims left out for want of area, each with its rings as read (before
    any repair): rounded to the grid, their vertices may enclose a little
    area (the corners of a polygon of no area, off one line by a fraction
    of a millimetre), which stapel keeps as a claim."""
    claims = []
    seen_ids = set()
    nth = {}
    for theme, src, base in layers:
        items, st = read_polygons(src, base, tgt, s_srs, "claim layer")
        nth[theme] = nth.get(theme, 0) + 1
        tag = theme if nth[theme] == 1 else "%s[%d]" % (theme, nth[theme])
        for fid, g, _ in items:
            cid = "%s:%d" % (tag, fid)
            if cid in seen_ids:
                raise UsageError("duplicate claim id %s (theme given twice for one "
                                 "source?)" % cid)
            seen_ids.add(cid)
            claims.append(Prepared(cid, g, theme, st["raw"].get(fid)))
        if flat is not None:
            for fid, g in st["flat"].items():
                flat["%s:%d" % (tag, fid)] = g
        log("claims %-10s %-40s read %d, kept %d, repaired %d, empty %d, zero-area %d%s"
            % (theme, src, st["read"], len(items), st["repaired"], st["empty"],
               st["zero_area"],
               (", unrepairable %d" % st["unrepairable"]) if st["unrepairable"] else ""))
    return claims


def read_zones(spec, tgt, s_srs, what, bare=None):
    """The zone features with area, as Prepared; bare (a list) gets the names
    of the zones none of whose features has any (FORMAT.md: a row of area 0)."""
    if spec is None:
        return None
    src, field, base = spec
    items, st = read_polygons(src, base, tgt, s_srs, what, field)
    if bare is not None:
        kept = set(name for _, _, name in items)
        bare.extend(sorted(set(st["skipped_names"]) - kept))
    log("%-17s %-40s read %d, kept %d, repaired %d" % (what, src, st["read"], len(items),
                                                      st["repaired"]))
    return [Prepared(fid, g, name) for fid, g, name in items]


FIELDS = {"n_claims": (ogr.OFTInteger, ogr.OFTInteger64),
          "n_themes": (ogr.OFTInteger, ogr.OFTInteger64),
          "themes": (ogr.OFTString,),
          "claim_ids": (ogr.OFTString,),
          "province": (ogr.OFTString,),
          "novex": (ogr.OFTString,),
          "area_m2": (ogr.OFTReal,)}


def read_stack(path, layername, tgt, rep):
    try:
        ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    except RuntimeError as e:
        raise UsageError("cannot open stack '%s': %s" % (path, e))
    lyr = ds.GetLayerByName(layername)
    if lyr is None:
        rep.result(False, "0-schema", "'%s' has no layer '%s'" % (path, layername))
        return None
    defn = lyr.GetLayerDefn()
    problems = []
    idx = {}
    for name, types in FIELDS.items():
        i = defn.GetFieldIndex(name)
        idx[name] = i
        if i < 0:
            problems.append("missing field %s" % name)
        elif defn.GetFieldDefn(i).GetType() not in types:
            problems.append("field %s has type %s" % (
                name, defn.GetFieldDefn(i).GetFieldTypeName(defn.GetFieldDefn(i).GetType())))
    gt = ogr.GT_Flatten(lyr.GetGeomType())
    if gt != ogr.wkbMultiPolygon:
        problems.append("geometry type %s, not MultiPolygon" % ogr.GeometryTypeToName(gt))
    srs = lyr.GetSpatialRef()
    if srs is None:
        problems.append("layer has no CRS")
    elif not srs.IsSame(tgt):
        problems.append("CRS %s is not the working CRS %s"
                        % (srs.GetName(), tgt.GetName()))
    faces = []
    for f in lyr:
        g = f.GetGeometryRef()
        g = g.Clone() if g is not None else None
        a = {}
        for name, i in idx.items():
            if i < 0 or not f.IsFieldSetAndNotNull(i):
                a[name] = None
            elif name in ("n_claims", "n_themes"):
                a[name] = f.GetFieldAsInteger64(i)
            elif name == "area_m2":
                a[name] = f.GetFieldAsDouble(i)
            else:
                a[name] = f.GetFieldAsString(i)
        a["fid"] = f.GetFID()
        faces.append((g, a))
    rep.result(not problems, "0-schema",
               "layer '%s': %d faces, fields and CRS as in DESIGN.md §3" % (layername, len(faces))
               if not problems else "; ".join(problems))
    return faces


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Check a stapel stack GeoPackage against its inputs (independent oracle).")
    ap.add_argument("--manifest", help="scenario JSON (paths relative to its directory)")
    ap.add_argument("--stack", required=True, help="stapel output GeoPackage")
    ap.add_argument("--stack-layer", default="stack", help="layer to check (default: stack)")
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
    ap.add_argument("--points", type=int, default=2000, help="random points (default 2000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--rel-tol", type=float, default=1e-6,
                    help="relative tolerance for the area checks (default 1e-6)")
    ap.add_argument("--dissolved", action="store_true",
                    help="also check that no two faces sharing an edge carry the same "
                         "claims, province and NOVEX tags (equal neighbours dissolved)")
    ap.add_argument("--grid", type=float, default=0.001,
                    help="snap-rounding grid allowed along claim boundaries in the "
                         "per-claim area check; three times it is the default --outline-tol "
                         "(default 0.001)")
    ap.add_argument("--sliver-area", type=float, default=1e-9,
                    help="largest overlap of two faces allowed, in m2 (default 1e-9)")
    ap.add_argument("--gap-tol", type=float, default=0.002,
                    help="a hole between faces with no unclaimed point this close "
                         "(CRS units) is a gap (default 0.002)")
    ap.add_argument("--outline-tol", type=float, default=None,
                    help="how far (CRS units) the outline of the faces may stray from "
                         "that of the claims, and back (default: 3 x --grid)")
    ap.add_argument("--no-face-labels", action="store_true",
                    help="skip the label check at a point inside every face")
    ap.add_argument("--boundary-tol", type=float, default=0.01,
                    help="skip points this close (CRS units) to any boundary (default 0.01)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        return run(args)
    except UsageError as e:
        log("error: %s" % e)
        return 2
    except Exception:  # the oracle itself broke: not a verdict on the stack
        import traceback
        traceback.print_exc()
        log("error: internal failure, no verdict")
        return 2


def run(args):
    t0 = time.time()
    tgt, layers, prov_spec, nov_spec = load_inputs(args)
    s_srs = make_srs(args.s_srs) if args.s_srs else None
    if not os.path.exists(args.stack) and not args.stack.startswith("/vsi"):
        raise UsageError("stack '%s' does not exist" % args.stack)

    flat = {}
    claims = read_claims(layers, tgt, s_srs, flat)
    # The length of the rings of each claim without area: the faces that
    # name it may hold up to the grid times that (3-per-claim), and the
    # area sums move by as much.
    flat_len = {cid: (g.Boundary().Length() if not g.IsEmpty() else 0.0)
                for cid, g in flat.items()}
    flat_sum = math.fsum(flat_len.values())
    provinces = read_zones(prov_spec, tgt, s_srs, "provinces")
    novex = read_zones(nov_spec, tgt, s_srs, "novex")
    claim_by_id = {c.key: c for c in claims}
    log("read %d claims in %.1f s" % (len(claims), time.time() - t0))

    rep = Report()
    raw_faces = read_stack(args.stack, args.stack_layer, tgt, rep)
    if raw_faces is None:
        print("oracle: %d passed, %d failed" % (rep.passed, rep.failed))
        return 1

    # ---- 1: geometry --------------------------------------------------
    bad = []
    max_area_err = 0.0
    faces = []  # Prepared, attrs = dict
    for g, a in raw_faces:
        fid = a["fid"]
        if g is None or g.IsEmpty():
            bad.append("face fid %d: null or empty geometry" % fid)
            continue
        gt = ogr.GT_Flatten(g.GetGeometryType())
        if gt not in POLYGONAL:
            bad.append("face fid %d: %s geometry" % (fid, g.GetGeometryName()))
            continue
        if g.Is3D() or g.IsMeasured():
            bad.append("face fid %d: has Z or M" % fid)
        try:
            valid = g.IsValid()
        except RuntimeError:
            valid = False
        if not valid:
            bad.append("face fid %d: invalid geometry" % fid)
        p = Prepared(fid, g, a)
        if p.area <= 0:
            bad.append("face fid %d: zero area" % fid)
        am = a["area_m2"]
        if am is None:
            bad.append("face fid %d: area_m2 is NULL" % fid)
        else:
            err = abs(am - p.area)
            max_area_err = max(max_area_err, err)
            if err > max(1e-9 * p.area, 1e-6):
                bad.append("face fid %d: area_m2 %.6f but geometry area %.6f" % (fid, am, p.area))
        faces.append(p)
    rep.result(not bad, "1-geometry",
               "%d faces; %d bad; max |area_m2 - area| = %.3g m2"
               % (len(raw_faces), len(bad), max_area_err), bad)

    # ---- 5: attributes (cheap, before the heavy work) ------------------
    bad = []
    for p in faces:
        a = p.attrs
        fid = a["fid"]
        try:
            ids = json.loads(a["claim_ids"]) if a["claim_ids"] is not None else None
        except ValueError:
            ids = None
        if not isinstance(ids, list) or not all(isinstance(s, str) for s in ids):
            bad.append("face fid %d: claim_ids %r is not a JSON list of strings"
                       % (fid, a["claim_ids"]))
            a["_ids"] = frozenset()
            continue
        a["_ids"] = frozenset(ids)
        themes = sorted(set(theme_of(s) for s in ids))
        probs = []
        if len(set(ids)) != len(ids):
            probs.append("duplicate ids")
        if not ids:
            probs.append("no claims (uncovered faces must be absent)")
        if a["n_claims"] != len(ids):
            probs.append("n_claims %s != %d ids" % (a["n_claims"], len(ids)))
        if a["n_themes"] != len(themes):
            probs.append("n_themes %s != %d" % (a["n_themes"], len(themes)))
        if a["themes"] != "+".join(themes):
            probs.append("themes %r != %r" % (a["themes"], "+".join(themes)))
        unknown = [s for s in ids if s not in claim_by_id and s not in flat]
        if unknown:
            probs.append("unknown claim ids %s" % ",".join(unknown[:3]))
        if probs:
            bad.append("face fid %d: %s" % (fid, "; ".join(probs)))
    rep.result(not bad, "5-attributes",
               "%d faces checked; %d inconsistent (n_claims, n_themes, themes vs claim_ids)"
               % (len(faces), len(bad)), bad)

    # ---- 2: coverage + overlap ----------------------------------------
    t1 = time.time()
    all_env = _union_env([c.env for c in claims] + [f.env for f in faces])
    union = union_all([c.geom for c in claims], all_env)
    union_area = union.GetArea() if union is not None else 0.0
    face_sum = math.fsum(f.area for f in faces)
    rd = rel_diff(face_sum, union_area)
    # Snap rounding moves the outline of the union, and with it its area, by
    # up to the grid times its length however large the total (README: a
    # long straight edge whose end rounds 0.49 mm over 2 km moves 0.49 m2),
    # so the margin is 3-per-claim's, taken over the union's outline.
    union_outline = union.Boundary().Length() if union is not None else 0.0
    margin = args.rel_tol * union_area + args.grid * (union_outline + flat_sum)
    rep.result(abs(face_sum - union_area) <= margin, "2-coverage",
               "sum face area %.3f m2, union of %d claims %.3f m2, rel diff %.3g (margin %g "
               "rel + %g m x its outline of %.0f m: %.3g m2)"
               % (face_sum, len(claims), union_area, rd, args.rel_tol, args.grid, union_outline,
                  margin))
    log("union in %.1f s" % (time.time() - t1))

    t1 = time.time()
    fgrid = GridIndex([f.env for f in faces], pad=args.boundary_tol)
    overlap = []
    undissolved = []
    total_overlap = 0.0
    npairs = 0

    def label(f):
        a = f.attrs
        return (a["_ids"], a["province"], a["novex"])

    for i, j, boxes_overlap in fgrid.pairs(strict=not args.dissolved):
        a, b = faces[i], faces[j]
        same = args.dissolved and label(a) == label(b)
        if not boxes_overlap and not same:
            continue
        if boxes_overlap:
            npairs += 1
        try:
            inter = a.geom.Intersection(b.geom)
            ar = inter.GetArea() if inter is not None else 0.0
        except RuntimeError:
            inter = None
            ar = float("nan")
        if ar != 0.0:
            total_overlap += ar if ar == ar else 0.0
            overlap.append((ar, a.key, b.key))
        if same and inter is not None and inter.Length() > 0:
            undissolved.append("faces fid %s and %s share %.3f m of edge and have the same "
                               "claims and zones" % (a.key, b.key, inter.Length()))
    overlap.sort(key=lambda t: -t[0] if t[0] == t[0] else 0)
    limit = args.rel_tol * max(face_sum, union_area)
    nan_pairs = sum(1 for t in overlap if t[0] != t[0])
    # The sum is too coarse for a sliver: a face 1 mm over its neighbour
    # along 100 m covers 0.1 m2 twice, within 1e-6 of any sizeable stack.
    # Faces that share their edges intersect in lines only, with area 0.
    slivers = [t for t in overlap if t[0] > args.sliver_area]
    ok = total_overlap <= limit and nan_pairs == 0 and not slivers
    rep.result(ok, "2-overlap",
               "%d candidate pairs, %d with overlap > 0, %d over %g m2, total overlap "
               "%.6g m2 (limit %.6g)%s"
               % (npairs, len(overlap), len(slivers), args.sliver_area, total_overlap, limit,
                  (", %d pairs failed to intersect" % nan_pairs) if nan_pairs else ""),
               ["faces fid %s and %s overlap by %.6g m2" % (fa, fb, ar)
                for ar, fa, fb in overlap] if not ok else ())
    if args.dissolved:
        rep.result(not undissolved, "6-dissolved",
                   "%d pairs of neighbouring faces with equal claims and zones"
                   % len(undissolved), undissolved)
    log("overlap check in %.1f s" % (time.time() - t1))

    t1 = time.time()
    edges = ClaimEdges(claims, args.outline_tol if args.outline_tol is not None
                       else 3 * args.grid)
    face_union = run_gaps(args, union, faces, all_env, rep, edges)
    log("gap check in %.1f s" % (time.time() - t1))
    t1 = time.time()
    run_outline(args, claims, union, face_union, rep, list(flat.values()))
    log("outline check in %.1f s" % (time.time() - t1))

    # ---- 3: multiplicity ----------------------------------------------
    weighted = math.fsum(f.area * (f.attrs["n_claims"] or 0) for f in faces)
    claim_sum = math.fsum(c.area for c in claims)
    rd = rel_diff(weighted, claim_sum)
    # The sum over the claims of what 3-per-claim checks claim by claim, so
    # the sum of its margins: each claim's outline moves by snap rounding.
    perimeter = {c.key: c.geom.Boundary().Length() for c in claims}
    margin = args.rel_tol * claim_sum + args.grid * (math.fsum(perimeter.values()) + flat_sum)
    rep.result(abs(weighted - claim_sum) <= margin, "3-multiplicity",
               "sum(face area x n_claims) %.3f m2, sum of claim areas %.3f m2, rel diff %.3g "
               "(margin %g rel + %g m x the claims' perimeters: %.3g m2)"
               % (weighted, claim_sum, rd, args.rel_tol, args.grid, margin))

    # per claim: the faces naming a claim must add up to its area. The margin
    # allows the documented 1 mm snap-rounding grid along the claim's boundary.
    per_claim = {}
    for f in faces:
        for cid in f.attrs["_ids"]:
            per_claim[cid] = per_claim.get(cid, 0.0) + f.area
    bad = []
    worst = 0.0
    for c in claims:
        got = per_claim.get(c.key, 0.0)
        margin = args.rel_tol * c.area + args.grid * perimeter[c.key]
        err = abs(got - c.area)
        worst = max(worst, err / margin)
        if err > margin:
            bad.append("claim %s: area %.3f m2, faces naming it add up to %.3f m2"
                       % (c.key, c.area, got))
    # Claims without area (left out of the claims): the faces that name them
    # may hold what rounding their corners to the grid encloses.
    for cid, length in sorted(flat_len.items()):
        got = per_claim.get(cid, 0.0)
        if got > args.grid * length:
            bad.append("claim %s: no area, faces naming it add up to %.6f m2 (over %g m x "
                       "its %.3f m of rings)" % (cid, got, args.grid, length))
    bad.sort(key=lambda t: t)
    rep.result(not bad, "3-per-claim",
               "%d claims; %d whose faces do not add up to their area (margin %g rel + "
               "%g m x perimeter; worst %.2f of margin)"
               % (len(claims), len(bad), args.rel_tol, args.grid, worst), bad)

    # ---- 4: random points, and a point in every face --------------------
    t1 = time.time()
    loc = Locator(claims, faces, provinces, novex, args.boundary_tol)
    run_points(args, loc, all_env, rep)
    log("point check in %.1f s" % (time.time() - t1))
    t1 = time.time()
    if not args.no_face_labels:
        run_face_labels(args, loc, rep)
        log("face label check in %.1f s" % (time.time() - t1))

    log("total %.1f s" % (time.time() - t0))
    print("oracle: %d passed, %d failed" % (rep.passed, rep.failed))
    return 0 if rep.failed == 0 else 1


def run_gaps(args, claimed, faces, env, rep, edges=None):
    """2-gaps: the holes of the union of the faces against the union of the
    claims (claimed). A hole is right where the claims leave some area
    uncovered: a hole of the claims themselves, moved and reshaped by snap
    rounding (where two claim edges cross at a shallow angle, the crossing
    moves by millimetres as each edge moves by a fraction of one). So a hole
    is a gap only when no unclaimed point lies within --gap-tol of it: it
    grown by --gap-tol lies inside the claims. A sliver between two faces
    deep inside a claim is such a hole; a sliver that runs out into a
    legitimate hole, or to the claims' outer edge, is not seen here (2-outline
    sees it). Snap rounding may also open a hole where the claims overlap
    by less than it moves their edges, between two edges that do not lie on
    one line (off_one_line): a hole that lies wholly within the outline
    tolerance of two such claim edges (edges, a ClaimEdges) is not a gap
    either. Returns the union of the faces."""
    # The faces do not overlap: one cascaded union of them all is faster
    # than union_all's batches (national scale 3: 6.6 s, not 10 s).
    parts = []
    for f in faces:
        polygonal_parts(f.geom, parts)
    try:
        union = to_multipolygon(parts).UnionCascaded()
    except RuntimeError:
        union = None
    if union is None:
        union = union_all([f.geom for f in faces], env)
    polys = []
    if union is not None:
        polygonal_parts(union, polys)
    inside = claimed.CreatePreparedGeometry() if claimed is not None else None
    d = args.gap_tol
    n_holes = 0
    gaps = []
    for p in polys:
        for k in range(1, p.GetGeometryCount()):
            n_holes += 1
            hole = ogr.Geometry(ogr.wkbPolygon)
            hole.AddGeometry(p.GetGeometryRef(k).Clone())
            c = hole.Centroid()
            try:
                gap = inside is not None and inside.Contains(hole.Buffer(d, 4))
                what = "inside the claims"
                if gap and edges is not None:
                    zone = edges.wedge_zone(hole.GetEnvelope())
                    if zone is not None and hole.Difference(zone).GetArea() <= args.sliver_area:
                        gap = False
            except RuntimeError:  # no verdict on this hole: not a pass
                gap = True
                what = "that GEOS failed to test"
            if gap:
                gaps.append((hole.GetArea(), "hole of %.6g m2 at (%.3f %.3f) between faces, %s"
                             % (hole.GetArea(), c.GetX(), c.GetY(), what)))
    gaps.sort(key=lambda t: -t[0])
    rep.result(not gaps, "2-gaps",
               "%d holes in the union of the faces, %d of them gaps (%g around them "
               "claimed)" % (n_holes, len(gaps), d), [m for _, m in gaps])
    return union


def outline_segments(g):
    """The segments (x0, y0, x1, y1) of every ring of polygonal g: the
    outline of g when g is a union (shells and holes alike)."""
    segs = []
    polys = []
    if g is not None:
        polygonal_parts(g, polys)
    for p in polys:
        for k in range(p.GetGeometryCount()):
            pts = p.GetGeometryRef(k).GetPoints() or []
            for i in range(len(pts) - 1):
                (x0, y0), (x1, y1) = pts[i][:2], pts[i + 1][:2]
                if x0 != x1 or y0 != y1:
                    segs.append((x0, y0, x1, y1))
    return segs


def seg_dist2(px, py, s):
    """Squared distance from point (px, py) to segment s."""
    x0, y0, x1, y1 = s
    dx, dy = x1 - x0, y1 - y0
    t = ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)
    if t <= 0.0:
        ex, ey = px - x0, py - y0
    elif t >= 1.0:
        ex, ey = px - x1, py - y1
    else:
        ex, ey = px - x0 - t * dx, py - y0 - t * dy
    return ex * ex + ey * ey


class SegmentGrid:
    """Segments in a uniform grid: the cell of a point lists every segment
    that comes within pad of any point of the cell. A long segment is
    entered in the cells along it, walked in pieces of at most one cell, not
    in every cell of its bounding box."""

    def __init__(self, segs, pad):
        self.cells = cells = {}
        self.cell, self.ox, self.oy = 1.0, 0.0, 0.0
        if not segs:
            return
        lengths = sorted(abs(s[2] - s[0]) + abs(s[3] - s[1]) for s in segs)
        # Cells of about two median segments (national scale 3: 260 m), so
        # most segments fall in one cell; at least the mean, so that the
        # long segments among many short ones make at most about as many
        # pieces as there are segments (adversarial: 19 s without it); and
        # at least 16 pads, so that the pad seldom spills into a neighbour.
        self.cell = c = max(2 * lengths[len(lengths) // 2], math.fsum(lengths) / len(lengths),
                            16 * pad)
        self.ox = ox = min(min(s[0], s[2]) for s in segs) - pad
        self.oy = oy = min(min(s[1], s[3]) for s in segs) - pad
        for i, (x0, y0, x1, y1) in enumerate(segs):
            n = int(max(abs(x1 - x0), abs(y1 - y0)) / c) + 1
            for k in range(n):
                if n == 1:
                    ax, ay, bx, by = x0, y0, x1, y1
                else:
                    ax, ay = x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n
                    bx, by = x0 + (x1 - x0) * (k + 1) / n, y0 + (y1 - y0) * (k + 1) / n
                if ax > bx:
                    ax, bx = bx, ax
                if ay > by:
                    ay, by = by, ay
                ix0 = int((ax - pad - ox) // c)
                ix1 = int((bx + pad - ox) // c)
                iy0 = int((ay - pad - oy) // c)
                iy1 = int((by + pad - oy) // c)
                if ix0 == ix1 and iy0 == iy1:  # most segments: one cell
                    lst = cells.get((ix0, iy0))
                    if lst is None:
                        cells[(ix0, iy0)] = [i]
                    elif lst[-1] != i:
                        lst.append(i)
                    continue
                for ix in range(ix0, ix1 + 1):
                    for iy in range(iy0, iy1 + 1):
                        lst = cells.get((ix, iy))
                        if lst is None:
                            cells[(ix, iy)] = [i]
                        elif lst[-1] != i:
                            lst.append(i)

    def near(self, x, y):
        """Indices of the segments that may lie within pad of (x, y)."""
        return self.cells.get((int((x - self.ox) // self.cell),
                               int((y - self.oy) // self.cell)), ())


def outline_strays(segs, other, ogrid, tol, excuse=None):
    """The places where the outline segs strays more than tol from the
    outline other (its segments in ogrid): a list of (x, y), at most one
    a segment.

    A piece of a segment whose two ends both lie within tol of one segment
    of other lies wholly within tol of it (the distance to a segment is
    convex along a line): that settles almost every segment at once, as an
    outline moved by snap rounding keeps its vertices. Other pieces are
    halved, and each midpoint must lie within tol of other, down to pieces
    of tol / 8: whatever passes lies within 17/16 tol of other.

    excuse(x, y, i), for a point of segment i that strays: None, or the
    segments within tol of which snap rounding may move the outline this far
    (see run_outline). Being within tol of them all is convex too, so a piece
    whose two ends are is excused throughout."""
    tol2 = tol * tol
    strays = []
    hint = None  # the segment that settled the last piece
    n_other = len(other)
    excused = ()  # the segments of the last excuse for this segment

    def within(ax, ay, bx, by, s):
        return seg_dist2(ax, ay, s) <= tol2 and seg_dist2(bx, by, s) <= tol2

    def settled(ax, ay, bx, by):
        nonlocal hint
        if hint is not None:
            # Both outlines run ring by ring in the same order: the next
            # piece is most often along the same segment or the next one.
            for j in (hint, hint + 1, hint - 1):
                if 0 <= j < n_other and within(ax, ay, bx, by, other[j]):
                    hint = j
                    return True
        for j in ogrid.near(ax, ay):
            if within(ax, ay, bx, by, other[j]):
                hint = j
                return True
        return bool(excused) and all(within(ax, ay, bx, by, s) for s in excused)

    def close(x, y, i):
        nonlocal excused
        for j in ogrid.near(x, y):
            if seg_dist2(x, y, other[j]) <= tol2:
                return True
        ex = excuse(x, y, i) if excuse is not None else None
        if ex:
            excused = ex
            return True
        return False

    fine = tol / 8
    for i, (x0, y0, x1, y1) in enumerate(segs):
        excused = ()  # another segment's excuse may be this segment itself
        if settled(x0, y0, x1, y1):
            continue
        if not close(x0, y0, i):
            strays.append((x0, y0))
            continue
        todo = [(x0, y0, x1, y1)]
        while todo:
            ax, ay, bx, by = todo.pop()
            mx, my = (ax + bx) / 2, (ay + by) / 2
            if not close(mx, my, i):
                strays.append((mx, my))
                break  # one place a segment is enough
            if math.hypot(bx - ax, by - ay) <= fine:
                continue
            if not settled(ax, ay, mx, my):
                todo.append((ax, ay, mx, my))
            if not settled(mx, my, bx, by):
                todo.append((mx, my, bx, by))
    return strays


def _line_dist(s, x, y):
    """Distance from (x, y) to the line through segment s."""
    dx, dy = s[2] - s[0], s[3] - s[1]
    n = math.hypot(dx, dy)
    if n == 0.0:
        return math.hypot(x - s[0], y - s[1])
    return abs((x - s[0]) * dy - (y - s[1]) * dx) / n


ONE_LINE = 1e-6  # m: float noise of a vertex computed on an edge, far below the grid


def off_one_line(s, t):
    """Whether segments s and t do not lie on one line: edges that meet at
    an angle, and parallel edges apart, do; collinear edges (a boundary two
    claims share, with the same vertices or other vertices on it) do not,
    counting as on the line a vertex within ONE_LINE of it (a vertex
    computed on an edge in floating point is off it by 1e-10 m or so).

    Snap rounding moves such edges independently (each vertex as it is
    read, by up to grid / sqrt(2), then the repair and the overlay): their
    crossing moves along the wedge between them by millimetres, and two
    edges that overlap or leave a gap narrower than the moves may cross,
    which opens a gap or closes one, anywhere the two run within the
    tolerance of each other. Edges on one line are not excused: a vertex of
    one lies on the other, whose path is rerouted through its grid cell."""
    for a, b in ((s, t), (t, s)):
        if _line_dist(a, b[0], b[1]) <= ONE_LINE and _line_dist(a, b[2], b[3]) <= ONE_LINE:
            return False
    return True


def claim_edges_env(c):
    """The envelope of a claim's edges: of its rings as read too, when
    repaired (ClaimEdges)."""
    if c.raw is None:
        return c.env
    r = c.raw.GetEnvelope()
    return (min(c.env[0], r[0]), max(c.env[1], r[1]), min(c.env[2], r[2]), max(c.env[3], r[3]))


class ClaimEdges:
    """The edges of the claims (each claim's own rings, not their union)
    near a point, for the few places where the faces' outline strays or
    the faces leave a hole. A repaired claim gives the edges of its rings
    as read as well as those of the repair: stapel rounds the rings as read
    and then repairs them, so where two edges of an invalid claim cross (a
    bow-tie, a hole across its shell) their crossing, a corner of the
    repair, moves along the wedge between them too, onto the parts of
    those edges the repair left out."""

    def __init__(self, claims, tol):
        self.claims = claims
        self.tol = tol
        self.grid = None  # made when first asked: a correct stack seldom needs it
        self.segs = {}

    def near(self, x, y):
        tol2 = self.tol * self.tol
        out = []
        if self.grid is None:
            self.grid = GridIndex([claim_edges_env(c) for c in self.claims], pad=self.tol)
        for i in self.grid.query_point(x, y, self.tol):
            sg = self.segs.get(i)
            if sg is None:  # a claim of many vertices is looked at many times
                segs = outline_segments(self.claims[i].geom)
                if self.claims[i].raw is not None:
                    segs += outline_segments(self.claims[i].raw)
                sg = self.segs[i] = (segs, SegmentGrid(segs, self.tol))
            segs, grid = sg
            out += [segs[j] for j in grid.near(x, y) if seg_dist2(x, y, segs[j]) <= tol2]
        return out

    def wedge(self, x, y, _i=None):
        """None, or two claim edges within tol of (x, y) that do not lie on
        one line: the point lies in the thin wedge at their corner or
        crossing, or between two edges that snap rounding may make cross
        (off_one_line)."""
        near = self.near(x, y)
        for i in range(len(near)):
            for j in range(i + 1, len(near)):
                if off_one_line(near[i], near[j]):
                    return [near[i], near[j]]
        return None

    def wedge_zone(self, env):
        """The area within tol of two claim edges off one line (wedge),
        near the box env (minx, maxx, miny, maxy), or None."""
        x0, x1, y0, y1 = env
        t = self.tol
        near = []
        seen = set()
        for c in self.claims:
            cx0, cx1, cy0, cy1 = claim_edges_env(c)
            if cx0 > x1 + t or cx1 < x0 - t or cy0 > y1 + t or cy1 < y0 - t:
                continue
            segs = outline_segments(c.geom)
            if c.raw is not None:
                segs += outline_segments(c.raw)
            for sg in segs:
                if (min(sg[0], sg[2]) > x1 + t or max(sg[0], sg[2]) < x0 - t
                        or min(sg[1], sg[3]) > y1 + t or max(sg[1], sg[3]) < y0 - t):
                    continue
                if sg not in seen:
                    seen.add(sg)
                    near.append(sg)
            if len(near) > 200:
                return None  # no verdict: not excused
        pieces = []
        bufs = {}

        def buf(sg):
            b = bufs.get(sg)
            if b is None:
                line = ogr.Geometry(ogr.wkbLineString)
                line.AddPoint_2D(sg[0], sg[1])
                line.AddPoint_2D(sg[2], sg[3])
                b = bufs[sg] = line.Buffer(self.tol, 8)
            return b
        for i in range(len(near)):
            for j in range(i + 1, len(near)):
                if off_one_line(near[i], near[j]):
                    z = buf(near[i]).Intersection(buf(near[j]))
                    if z is not None and not z.IsEmpty():
                        pieces.append(z)
        if not pieces:
            return None
        return union_all(pieces, env)


def run_outline(args, claims, claimed, faced, rep, flat=()):
    """2-outline: the outline (the boundary of the union: outer rings and
    holes) of the faces must run within --outline-tol of the outline of the
    claims, and the other way round. 2-gaps sees only a hole of the faces;
    this sees a sliver between faces that runs out to the claims' outer edge
    or into a hole of the claims (its sides are outline, deep inside the
    claims), a face edge pulled back from the claims' edge or pushed beyond
    it, a claims' hole filled and a claim left without faces.

    Snap rounding moves the outline: reading rounds each vertex to the grid
    (at most grid / sqrt(2) away), the repair of an invalid claim snap-rounds
    it (again at most grid / sqrt(2)), the overlay reroutes each edge through
    the grid points of the cells it passes (again), and an edge crossing a
    tile border bends there by up to half a grid cell: at most (3 / sqrt(2) +
    1/2) grid, 2.62 mm on the 1 mm grid, so the tolerance is three times the
    grid (0.38 mm to spare). Where the claims (or a gap between them) are
    thinner than that, snap rounding may close them: the claims' outline is
    excused there. And a claim without area (flat: its rings) may round to
    one with a little: the faces' outline is excused within tol of its
    rings."""
    tol = args.outline_tol if args.outline_tol is not None else 3 * args.grid
    fsegs = outline_segments(faced)
    csegs = outline_segments(claimed)
    fgrid = SegmentGrid(fsegs, tol)
    cgrid = SegmentGrid(csegs, tol)
    # The faces' outline may stray further at the tip of a thin wedge: where
    # two claim edges meet at a small angle, moving each by a fraction of a
    # millimetre moves their crossing (or corner) along the wedge by
    # millimetres, over a distance where the two edges run within tol of
    # each other.
    edges = ClaimEdges(claims, tol)
    flat_segs = []
    for g in flat:
        flat_segs += outline_segments(g)
    flat_grid = SegmentGrid(flat_segs, tol)

    def stray_excuse(x, y, i):
        for j in flat_grid.near(x, y):
            if seg_dist2(x, y, flat_segs[j]) <= tol * tol:
                return [flat_segs[j]]
        return edges.wedge(x, y, i)

    f_strays = outline_strays(fsegs, csegs, cgrid, tol, excuse=stray_excuse)
    # The claims' outline may vanish where the claims (or a gap between
    # them) are thinner than tol: a needle or a crack snap rounding closes.
    # There it runs within tol of another piece of itself.

    def thin(x, y, i):
        for j in cgrid.near(x, y):
            if j != i and seg_dist2(x, y, csegs[j]) <= tol * tol:
                return [csegs[j]]
        return None

    c_strays = outline_strays(csegs, fsegs, fgrid, tol, excuse=thin)

    # Describe a few: the exact distance, and on which side.
    inside = claimed.CreatePreparedGeometry() if claimed is not None else None
    covered = faced.CreatePreparedGeometry() if faced is not None else None
    cline = claimed.Boundary() if claimed is not None and f_strays else None
    fline = faced.Boundary() if faced is not None and c_strays else None
    pt = ogr.Geometry(ogr.wkbPoint)
    pt.AddPoint_2D(0.0, 0.0)
    examples = []
    for strays, line, prep, what, side in (
            (f_strays, cline, inside, "faces' outline", ("inside", "outside", "the claims")),
            (c_strays, fline, covered, "claims' outline", ("inside", "outside", "the faces"))):
        for x, y in strays[:MAX_EXAMPLES]:
            pt.SetPoint_2D(0, x, y)
            d = pt.Distance(line) if line is not None else float("inf")
            where = side[0] if prep is not None and prep.Contains(pt) else side[1]
            examples.append("%s at (%.3f %.3f) is %.6g m from the other outline, %s %s"
                            % (what, x, y, d, where, side[2]))
    rep.result(not f_strays and not c_strays, "2-outline",
               "faces' outline %d segments, %d stray more than %g from the claims' outline; "
               "claims' outline %d segments, %d stray from the faces' (where the claims are "
               "not thinner than that)"
               % (len(fsegs), len(f_strays), tol, len(csegs), len(c_strays)), examples)


def _union_env(envs):
    if not envs:
        return (0.0, 1.0, 0.0, 1.0)
    return (min(e[0] for e in envs), max(e[1] for e in envs),
            min(e[2] for e in envs), max(e[3] for e in envs))


class Locator:
    """Which claims, faces and zones hold a point, with a boundary margin."""

    def __init__(self, claims, faces, provinces, novex, tol):
        self.tol = tol
        self.claims, self.faces = claims, faces
        self.provinces, self.novex = provinces, novex
        self.cgrid = GridIndex([c.env for c in claims], pad=tol)
        self.fgrid = GridIndex([f.env for f in faces], pad=tol)
        self.pgrid = GridIndex([z.env for z in provinces], pad=tol) if provinces else None
        self.ngrid = GridIndex([z.env for z in novex], pad=tol) if novex else None
        self.pt = ogr.Geometry(ogr.wkbPoint)
        self.pt.AddPoint_2D(0.0, 0.0)

    def disc(self, x, y):
        self.pt.SetPoint_2D(0, x, y)
        return self.pt.Buffer(self.tol, 4)

    def inside(self, items, grid, x, y, disc):
        """Items holding the point, or None if it lies within tol of a boundary."""
        out = []
        if grid is None:
            return out
        for i in grid.query_point(x, y, self.tol):
            c = items[i].classify(disc)
            if c < 0:
                return None
            if c:
                out.append(items[i])
        return out

    def zones(self, x, y, disc):
        """(provinces, novex areas) holding the point, or None near a zone border."""
        pr = self.inside(self.provinces, self.pgrid, x, y, disc)
        nv = self.inside(self.novex, self.ngrid, x, y, disc)
        if pr is None or nv is None:
            return None
        return pr, nv


def q(v):
    return "NULL" if v is None else repr(v)


def label_problems(a, in_claims, in_prov, in_nov, have_prov, have_nov):
    """What is wrong with face attributes a at a point held by these claims and
    zones. Returns (list of problems, province ambiguous?)."""
    probs = []
    want_ids = sorted(c.key for c in in_claims)
    got_ids = sorted(a["_ids"])
    if got_ids != want_ids:
        miss = sorted(set(want_ids) - set(got_ids))
        extra = sorted(set(got_ids) - set(want_ids))
        probs.append("claim_ids missing %s, extra %s" % (json.dumps(miss), json.dumps(extra)))
    themes = sorted(set(c.attrs for c in in_claims))
    if a["n_claims"] != len(want_ids):
        probs.append("n_claims %s, expected %d" % (a["n_claims"], len(want_ids)))
    if a["n_themes"] != len(themes):
        probs.append("n_themes %s, expected %d" % (a["n_themes"], len(themes)))
    if a["themes"] != "+".join(themes):
        probs.append("themes %r, expected %r" % (a["themes"], "+".join(themes)))
    ambiguous = False
    if have_prov:
        # Where provinces overlap, stapel joins their names with ';' as it
        # does for NOVEX areas (docs/FORMAT.md).
        names = sorted(set(z.attrs for z in in_prov if z.attrs is not None))
        ambiguous = len(names) > 1
        exp = ";".join(names) if names else None
        if a["province"] != exp:
            probs.append("province %s, expected %s" % (q(a["province"]), q(exp)))
    elif a["province"] is not None:
        probs.append("province %r without a provinces layer" % a["province"])
    if have_nov:
        names = sorted(set(z.attrs for z in in_nov if z.attrs is not None))
        exp = ";".join(names) if names else None
        if a["novex"] != exp:
            probs.append("novex %s, expected %s" % (q(a["novex"]), q(exp)))
    elif a["novex"] is not None:
        probs.append("novex %r without a NOVEX layer" % a["novex"])
    return probs, ambiguous


def run_points(args, loc, env, rep):
    """Check 4: random points, drawn uniformly in env, kept where a claim or a
    face holds them."""
    tol = args.boundary_tol
    rng = random.Random(args.seed)
    want = args.points
    max_tries = max(1000, 200 * want)
    tries = tested = skipped = 0
    ambiguous_prov = 0
    bad = []
    have_prov, have_nov = loc.provinces is not None, loc.novex is not None
    while tested < want and tries < max_tries:
        tries += 1
        x = rng.uniform(env[0], env[1])
        y = rng.uniform(env[2], env[3])
        if not loc.cgrid.query_point(x, y, tol) and not loc.fgrid.query_point(x, y, tol):
            continue
        disc = loc.disc(x, y)
        in_claims = loc.inside(loc.claims, loc.cgrid, x, y, disc)
        in_faces = loc.inside(loc.faces, loc.fgrid, x, y, disc) if in_claims is not None else None
        if in_faces is None:
            skipped += 1
            continue
        if not in_claims and not in_faces:
            continue
        z = loc.zones(x, y, disc)
        if z is None:
            skipped += 1
            continue
        tested += 1
        where = "point (%.3f %.3f)" % (x, y)
        if len(in_faces) != 1:
            bad.append("%s: in %d faces (fids %s), expected claims %s"
                       % (where, len(in_faces), ",".join(str(f.key) for f in in_faces),
                          json.dumps(sorted(c.key for c in in_claims))))
            continue
        probs, amb = label_problems(in_faces[0].attrs, in_claims, z[0], z[1], have_prov,
                                    have_nov)
        ambiguous_prov += amb
        if probs:
            bad.append("%s in face fid %s: %s" % (where, in_faces[0].key, "; ".join(probs)))

    ok = not bad and (tested > 0 or want == 0 or (not loc.claims and not loc.faces))
    msg = ("%d points tested (seed %d, %d drawn), %d wrong, %d skipped within %g of a boundary"
           % (tested, args.seed, tries, len(bad), skipped, tol))
    if ambiguous_prov:
        msg += ", %d in overlapping provinces" % ambiguous_prov
    if tested < want:
        msg += "; only %d of %d wanted points fell inside claims or faces" % (tested, want)
    rep.result(ok, "4-points", msg, bad)


def run_face_labels(args, loc, rep):
    """Check 4 (faces): a point on the surface of every face must be held by
    exactly the claims and zones the face names."""
    bad = []
    skipped = ambiguous_prov = 0
    have_prov, have_nov = loc.provinces is not None, loc.novex is not None
    for f in loc.faces:
        try:
            p = f.geom.PointOnSurface()
        except RuntimeError:
            p = None
        if p is None or p.IsEmpty():
            skipped += 1
            continue
        x, y = p.GetX(), p.GetY()
        disc = loc.disc(x, y)
        if f.classify(disc) != 1:  # too thin to hold a disc of radius tol there
            skipped += 1
            continue
        in_claims = loc.inside(loc.claims, loc.cgrid, x, y, disc)
        z = loc.zones(x, y, disc) if in_claims is not None else None
        if z is None:
            skipped += 1
            continue
        probs, amb = label_problems(f.attrs, in_claims, z[0], z[1], have_prov, have_nov)
        ambiguous_prov += amb
        if probs:
            bad.append("face fid %s at (%.3f %.3f): %s" % (f.key, x, y, "; ".join(probs)))
    msg = ("%d faces, %d wrong, %d skipped (no interior point %g clear of every boundary)"
           % (len(loc.faces), len(bad), skipped, args.boundary_tol))
    if ambiguous_prov:
        msg += ", %d in overlapping provinces" % ambiguous_prov
    rep.result(not bad, "4-face-labels", msg, bad)


if __name__ == "__main__":
    sys.exit(main())
