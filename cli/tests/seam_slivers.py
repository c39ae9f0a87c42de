#!/usr/bin/python3
"""seam_slivers.py -- claims that leave slivers along tile seams, and a check
that a stack covers them without gaps or overlaps.

    seam_slivers.py make DIR SEED     writes DIR/a.gpkg and DIR/b.gpkg
    seam_slivers.py check STACK DIR   exit 1 on a gap or an overlap

The claims are random polygons in a square kilometre (EPSG:28992), many of
them self-intersecting and some with vertices a fraction of a millimetre
apart, so that a run with small tiles (--tile-vertices 100) has faces a
millimetre wide that cross tile seams. Merging faces across a seam must keep
them: the faces of the stack leave no hole inside the union of the claims
(a gap: a hole of the union of the faces at least 2 mm inside the union of
the repaired claims) and no two faces overlap (by more than 1e-7 m²). Only
GDAL's Python bindings.
"""
import math
import os
import random
import sys

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
gdal.PushErrorHandler("CPLQuietErrorHandler")


def make(out, seed):
    rnd = random.Random(seed)
    x0, y0 = 160000, 490000

    def ring():
        cx, cy = x0 + rnd.uniform(0, 1000), y0 + rnd.uniform(0, 1000)
        r, k = rnd.uniform(1, 200), rnd.randint(3, 12)
        pts = []
        for i in range(k):
            a = 2 * math.pi * i / k + rnd.uniform(-0.5, 0.5)
            rr = r * rnd.uniform(0.3, 1.0)
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        if rnd.random() < 0.3:
            rnd.shuffle(pts)  # crossing itself
        if rnd.random() < 0.1:  # a corner and another 0.36 mm from it
            i = rnd.randrange(len(pts))
            pts.insert(i + 1, (pts[i][0] + 0.0003, pts[i][1] + 0.0002))
        return pts + [pts[0]]

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(28992)
    os.makedirs(out, exist_ok=True)
    for name in ("a", "b"):
        path = os.path.join(out, name + ".gpkg")
        if os.path.exists(path):
            os.remove(path)
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
        lyr = ds.CreateLayer(name, srs, ogr.wkbPolygon)
        for _ in range(150):
            g = ogr.Geometry(ogr.wkbPolygon)
            r = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in ring():
                r.AddPoint_2D(x, y)
            g.AddGeometry(r)
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetGeometry(g)
            lyr.CreateFeature(f)
        ds = None


def polygons(g, out):
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t == ogr.wkbPolygon:
        out.AddGeometry(g)
    elif t in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection):
        for i in range(g.GetGeometryCount()):
            polygons(g.GetGeometryRef(i), out)


def check(stack, claims_dir):
    claims = ogr.Geometry(ogr.wkbMultiPolygon)
    for name in ("a", "b"):
        ds = ogr.Open(os.path.join(claims_dir, name + ".gpkg"))
        for f in ds.GetLayer(0):
            g = f.GetGeometryRef().Clone()
            polygons(g if g.IsValid() else g.MakeValid(["METHOD=STRUCTURE"]), claims)
    claimed = claims.UnionCascaded()
    ds = ogr.Open(stack)
    faces = [f.GetGeometryRef().Clone() for f in ds.GetLayerByName("stack")]
    ds = None
    all_faces = ogr.Geometry(ogr.wkbMultiPolygon)
    for g in faces:
        polygons(g, all_faces)
    union = all_faces.UnionCascaded()
    whole = ogr.Geometry(ogr.wkbMultiPolygon)
    polygons(union, whole)
    bad = []
    for i in range(whole.GetGeometryCount()):
        p = whole.GetGeometryRef(i)
        for k in range(1, p.GetGeometryCount()):
            hole = ogr.Geometry(ogr.wkbPolygon)
            hole.AddGeometry(p.GetGeometryRef(k).Clone())
            if claimed.Contains(hole.Buffer(0.002)):
                c = hole.Centroid()
                bad.append("gap of %.6f m2 at (%.3f %.3f)" % (hole.GetArea(), c.GetX(), c.GetY()))
    boxes = sorted((g.GetEnvelope(), i) for i, g in enumerate(faces))
    for a in range(len(boxes)):
        (ax0, ax1, ay0, ay1), i = boxes[a]
        for b in range(a + 1, len(boxes)):
            (bx0, bx1, by0, by1), j = boxes[b]
            if bx0 > ax1:
                break
            if by0 > ay1 or by1 < ay0:
                continue
            area = faces[i].Intersection(faces[j]).GetArea()
            if area > 1e-7:
                c = faces[i].Intersection(faces[j]).Centroid()
                bad.append("faces overlap by %.6f m2 at (%.3f %.3f)" % (area, c.GetX(), c.GetY()))
    for line in bad:
        print("seam_slivers: %s: %s" % (stack, line), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
