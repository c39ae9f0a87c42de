#!/usr/bin/python3
"""Write GeoPackages whose second feature has a bad coordinate, for the CLI
cases of issue 7. GeoJSON cannot hold NaN or infinity, so these are made with
OGR directly. Each file has one layer, named after the file, whose feature 1 is
a good 100 m triangle and feature 2 the same triangle with one bad corner:

    nan.gpkg      layer bad_nan       EPSG:28992, x = NaN
    inf.gpkg      layer bad_inf       EPSG:28992, x = +infinity
    huge.gpkg     layer bad_huge      EPSG:28992, x = 1e15 m (absurd for RD New)
    nan4326.gpkg  layer bad_nan4326   EPSG:4326 (lon/lat), lon = NaN

Usage: make_bad_coords.py OUTDIR
"""
import os
import sys

from osgeo import gdal, ogr, osr

gdal.UseExceptions()


def triangle(corners):
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in corners + corners[:1]:
        ring.AddPoint_2D(x, y)
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    return poly


def write(path, epsg, good, bad):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    name = "bad_" + os.path.splitext(os.path.basename(path))[0]
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = ds.CreateLayer(name, srs, ogr.wkbPolygon)
    for corners in (good, bad):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetGeometry(triangle(corners))
        layer.CreateFeature(f)
    ds = None


def main():
    out = sys.argv[1]
    rd = [(150000.0, 450000.0), (150100.0, 450000.0), (150100.0, 450100.0)]
    ll = [(5.38, 52.15), (5.39, 52.15), (5.39, 52.16)]
    write(os.path.join(out, "nan.gpkg"), 28992, rd, rd[:2] + [(float("nan"), 450100.0)])
    write(os.path.join(out, "inf.gpkg"), 28992, rd, rd[:2] + [(float("inf"), 450100.0)])
    write(os.path.join(out, "huge.gpkg"), 28992, rd, rd[:2] + [(1e15, 450100.0)])
    write(os.path.join(out, "nan4326.gpkg"), 4326, ll, ll[:2] + [(float("nan"), 52.16)])


if __name__ == "__main__":
    main()
