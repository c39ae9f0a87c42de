#!/usr/bin/python3
"""make_synthetic.py - a synthetic stapel scenario, plus a reference stack.

Writes claim layers in several formats and CRSs (shapefile, multi-layer
GeoPackage with curves, Z and empty geometries, GeoJSON in EPSG:4326, a layer
in EPSG:3857), a few invalid (bow-tie) claims, provinces, overlapping NOVEX
areas and scenario.json. Unless --no-stack is given it also builds a reference
`stack` GeoPackage with the classic recipe (node all boundaries -> polygonize
-> label each face by a point on its surface). The reference is not
dissolved: neighbouring faces may carry the same labels.

    /usr/bin/python3 testdata/oracle/make_synthetic.py --out DIR \
        [--claims 7000] [--vertices 30] [--extent 60000] [--coverage 1.3] [--seed 1]
        [--no-stack]

Then: check_stack.py --manifest DIR/scenario.json --stack DIR/reference.gpkg
"""

import argparse
import json
import math
import os
import random
import sys
import time

from osgeo import ogr, osr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_stack as cs  # noqa: E402  (only its input reader and grid index)

X0, Y0 = 120000.0, 420000.0  # RD New, around Utrecht / Gelderland


def srs_of(code):
    s = osr.SpatialReference()
    s.ImportFromEPSG(code)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


RD = srs_of(28992)


def star(rng, cx, cy, r, nv):
    angs = sorted(rng.uniform(0, 2 * math.pi) for _ in range(nv))
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for a in angs:
        rr = r * rng.uniform(0.55, 1.0)
        ring.AddPoint_2D(cx + rr * math.cos(a), cy + rr * math.sin(a))
    ring.CloseRings()
    p = ogr.Geometry(ogr.wkbPolygon)
    p.AddGeometry(ring)
    return p


def bowtie(cx, cy, r):
    return ogr.CreateGeometryFromWkt(
        "POLYGON((%f %f,%f %f,%f %f,%f %f,%f %f))" % (
            cx - r, cy - r, cx + r, cy + r, cx + r, cy - r, cx - r, cy + r, cx - r, cy - r))


def create_layer(path, name, epsg, gtype, fields=(), driver=None):
    drvname = driver or {".shp": "ESRI Shapefile", ".gpkg": "GPKG",
                         ".geojson": "GeoJSON"}[os.path.splitext(path)[1]]
    drv = ogr.GetDriverByName(drvname)
    if os.path.exists(path) and drvname != "GPKG":
        drv.DeleteDataSource(path)
    ds = drv.Open(path, 1) if os.path.exists(path) else drv.CreateDataSource(path)
    lyr = ds.CreateLayer(name, srs_of(epsg), gtype)
    for fname, ftype in fields:
        lyr.CreateField(ogr.FieldDefn(fname, ftype))
    return ds, lyr


def to_epsg(g, epsg):
    if epsg == 28992:
        return g
    g = g.Clone()
    g.Transform(osr.CoordinateTransformation(RD, srs_of(epsg)))
    return g


def write_inputs(out, nclaims, nv, extent, seed, coverage=1.3):
    rng = random.Random(seed)
    for f in os.listdir(out):
        if f.split(".")[0] in ("nature", "claims", "water", "wind", "provinces", "novex",
                               "reference"):
            os.remove(os.path.join(out, f))
    specs = [  # theme, file, layer, epsg, share
        ("nature", "nature.shp", "nature", 28992, 0.25),
        ("agri", "claims.gpkg", "agri", 28992, 0.25),
        ("housing", "claims.gpkg", "housing", 28992, 0.15),
        ("water", "water.geojson", "water", 4326, 0.2),
        ("wind", "wind.gpkg", "wind", 3857, 0.15),
    ]
    manifest = {"crs": "EPSG:28992", "layers": []}
    # typical radius so that claims add up to `coverage` times the extent
    rmean = math.sqrt(coverage * extent * extent / (nclaims * math.pi * 0.6))
    for theme, fname, lname, epsg, share in specs:
        path = os.path.join(out, fname)
        gtype = ogr.wkbPolygon if fname.endswith(".shp") else ogr.wkbUnknown
        ds, lyr = create_layer(path, lname, epsg, gtype, [("naam", ogr.OFTString)])
        n = max(1, int(round(nclaims * share)))
        for k in range(n):
            cx = X0 + rng.uniform(0, extent)
            cy = Y0 + rng.uniform(0, extent)
            r = rmean * math.exp(rng.gauss(0, 0.5))
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetField("naam", "%s %d" % (theme, k))
            special = k % 97
            if special == 5:
                g = bowtie(cx, cy, r * 0.7)  # invalid: repaired to two triangles
            elif special == 11 and fname != "wind.gpkg":
                g = None if fname.endswith(".shp") else ogr.CreateGeometryFromWkt("POLYGON EMPTY")
            elif special == 17 and fname == "claims.gpkg":
                g = ogr.CreateGeometryFromWkt(
                    "CURVEPOLYGON(CIRCULARSTRING(%f %f,%f %f,%f %f))"
                    % (cx - r, cy, cx + r, cy, cx - r, cy))
            elif special == 23 and fname == "claims.gpkg":
                g = star(rng, cx, cy, r, nv)
                g.Set3D(True)
                for i in range(g.GetGeometryRef(0).GetPointCount()):
                    px, py = g.GetGeometryRef(0).GetPoint_2D(i)
                    g.GetGeometryRef(0).SetPoint(i, px, py, 12.5)
            else:
                g = star(rng, cx, cy, r, nv)
            if g is not None:
                f.SetGeometry(to_epsg(g, epsg))
            lyr.CreateFeature(f)
        ds = None
        src = fname if fname != "claims.gpkg" else "claims.gpkg|layername=%s" % lname
        manifest["layers"].append({"theme": theme, "source": src})

    # provinces: three strips split by wavy lines, one extra beyond the claims
    ds, lyr = create_layer(os.path.join(out, "provinces.gpkg"), "provinces", 28992,
                           ogr.wkbMultiPolygon, [("naam", ogr.OFTString)])
    names = ["Utrecht", "Gelderland", "Noord-Brabant"]
    cuts = [X0 - 1000] + [X0 + extent * t for t in (0.37, 0.71)] + [X0 + extent + 1000]

    def wavy(x, k):
        pts = []
        for i in range(0, 201):
            y = Y0 - 1000 + (extent + 2000) * i / 200.0
            pts.append((x + (0 if k in (0, 3) else 900 * math.sin(y / 2300.0 + k)), y))
        return pts

    for k, nm in enumerate(names):
        left = wavy(cuts[k], k)
        right = wavy(cuts[k + 1], k + 1)
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in left + right[::-1]:
            ring.AddPoint_2D(x, y)
        ring.CloseRings()
        p = ogr.Geometry(ogr.wkbPolygon)
        p.AddGeometry(ring)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("naam", nm)
        f.SetGeometry(ogr.ForceToMultiPolygon(p))
        lyr.CreateFeature(f)
    ds = None
    manifest["provinces"] = {"source": "provinces.gpkg", "field": "naam"}

    # NOVEX: blobs that cross province borders and overlap each other
    ds, lyr = create_layer(os.path.join(out, "novex.gpkg"), "novex", 28992,
                           ogr.wkbMultiPolygon, [("naam", ogr.OFTString)])
    for nm, fx, fy, fr in (("De Peel", 0.35, 0.4, 0.22), ("Foodvalley", 0.55, 0.55, 0.2),
                           ("Regio Schiphol", 0.8, 0.8, 0.12)):
        g = star(rng, X0 + fx * extent, Y0 + fy * extent, fr * extent, 60)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("naam", nm)
        f.SetGeometry(ogr.ForceToMultiPolygon(g))
        lyr.CreateFeature(f)
    del lyr, ds  # close: flush to disk
    manifest["novex"] = {"source": "novex.gpkg", "field": "naam"}
    with open(os.path.join(out, "scenario.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    return manifest


def reference_stack(manifest_path, out_gpkg):
    """Classic overlay: node every boundary, polygonize, label by point on surface."""
    args = cs.argparse.Namespace(manifest=manifest_path, layer=None, provinces=None,
                                 novex=None, province_field=None, novex_field=None,
                                 t_srs=None)
    tgt, layers, prov_spec, nov_spec = cs.load_inputs(args)
    claims = cs.read_claims(layers, tgt, None)
    provinces = cs.read_zones(prov_spec, tgt, None, "provinces") or []
    novex = cs.read_zones(nov_spec, tgt, None, "novex") or []
    t = time.time()
    lines = ogr.Geometry(ogr.wkbMultiLineString)
    for item in claims + provinces + novex:
        b = item.geom.GetBoundary()
        if ogr.GT_Flatten(b.GetGeometryType()) == ogr.wkbLineString:
            lines.AddGeometry(b)
        else:
            for i in range(b.GetGeometryCount()):
                lines.AddGeometry(b.GetGeometryRef(i))
    pt = ogr.Geometry(ogr.wkbPoint)
    pt.AddPoint_2D(*lines.GetGeometryRef(0).GetPoint_2D(0))
    noded = lines.Union(pt)
    polys = noded.Polygonize()
    cs.log("reference: noded and polygonized %d faces in %.1f s"
           % (polys.GetGeometryCount(), time.time() - t))
    cgrid = cs.GridIndex([c.env for c in claims])
    pgrid = cs.GridIndex([z.env for z in provinces]) if provinces else None
    ngrid = cs.GridIndex([z.env for z in novex]) if novex else None

    def holders(items, grid, p, x, y):
        return [items[i] for i in grid.query_point(x, y) if items[i].prep().Contains(p)]

    drv = ogr.GetDriverByName("GPKG")
    if os.path.exists(out_gpkg):
        drv.DeleteDataSource(out_gpkg)
    ds = drv.CreateDataSource(out_gpkg)
    lyr = ds.CreateLayer("stack", tgt, ogr.wkbMultiPolygon)
    for name, ftype in (("n_claims", ogr.OFTInteger), ("n_themes", ogr.OFTInteger),
                        ("themes", ogr.OFTString), ("claim_ids", ogr.OFTString),
                        ("province", ogr.OFTString), ("novex", ogr.OFTString),
                        ("area_m2", ogr.OFTReal)):
        lyr.CreateField(ogr.FieldDefn(name, ftype))
    lyr.StartTransaction()
    n = 0
    for i in range(polys.GetGeometryCount()):
        poly = polys.GetGeometryRef(i)
        if poly.GetArea() <= 0:
            continue
        p = poly.PointOnSurface()
        x, y = p.GetX(), p.GetY()
        cl = holders(claims, cgrid, p, x, y)
        if not cl:
            continue
        ids = sorted(c.key for c in cl)
        themes = sorted(set(c.attrs for c in cl))
        pr = sorted(set(z.attrs for z in holders(provinces, pgrid, p, x, y))) if pgrid else []
        nv = sorted(set(z.attrs for z in holders(novex, ngrid, p, x, y))) if ngrid else []
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("n_claims", len(ids))
        f.SetField("n_themes", len(themes))
        f.SetField("themes", "+".join(themes))
        f.SetField("claim_ids", json.dumps(ids))
        if pr:
            f.SetField("province", pr[0])
        if nv:
            f.SetField("novex", ";".join(nv))
        f.SetField("area_m2", poly.GetArea())
        f.SetGeometry(ogr.ForceToMultiPolygon(poly.Clone()))
        lyr.CreateFeature(f)
        n += 1
    lyr.CommitTransaction()
    ds = None
    cs.log("reference: wrote %d faces to %s in %.1f s" % (n, out_gpkg, time.time() - t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--claims", type=int, default=7000)
    ap.add_argument("--vertices", type=int, default=30)
    ap.add_argument("--extent", type=float, default=60000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--coverage", type=float, default=1.3,
                    help="sum of claim areas / extent area (default 1.3)")
    ap.add_argument("--no-stack", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    write_inputs(a.out, a.claims, a.vertices, a.extent, a.seed, a.coverage)
    if not a.no_stack:
        reference_stack(os.path.join(a.out, "scenario.json"),
                        os.path.join(a.out, "reference.gpkg"))


if __name__ == "__main__":
    main()
