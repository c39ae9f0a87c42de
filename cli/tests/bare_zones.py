#!/usr/bin/python3
"""Write zone layers with zones that have no area, and a claim layer.

    bare_zones.py DIR

DIR/prov.gpkg (layer prov, EPSG:28992, field naam), feature by feature:
  1 'A'  a 2 km square
  2 'B'  no geometry
  3 'C'  MULTIPOLYGON EMPTY
  4 'D'  a strip 0.2 mm wide, which has no area on the 1 mm grid
  5 'A'  no geometry: A keeps the area of feature 1
  6 'E'  no geometry
  7 'E'  MULTIPOLYGON EMPTY
  8 'E'  no geometry
DIR/nov.gpkg (layer nov): 1 'N1' a 1 km square in A, 2 'N2' no geometry.
DIR/claims.gpkg (layer claims): one 1 km square inside A and N1.
"""
import os
import sys

from osgeo import ogr, osr

ogr.UseExceptions()


def square(x, y, w, h):
    return "MULTIPOLYGON(((%r %r,%r %r,%r %r,%r %r,%r %r)))" % (
        x, y, x + w, y, x + w, y + h, x, y + h, x, y)


def layer(path, name, features, field="naam"):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(28992)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    lyr = ds.CreateLayer(name, srs, ogr.wkbMultiPolygon)
    if field:
        lyr.CreateField(ogr.FieldDefn(field, ogr.OFTString))
    for value, wkt in features:
        f = ogr.Feature(lyr.GetLayerDefn())
        if field:
            f.SetField(field, value)
        if wkt is not None:
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        lyr.CreateFeature(f)
    ds = None


def main():
    d = sys.argv[1]
    layer(os.path.join(d, "prov.gpkg"), "prov", [
        ("A", square(100000, 400000, 2000, 2000)),
        ("B", None),
        ("C", "MULTIPOLYGON EMPTY"),
        ("D", square(103000, 400000, 0.0002, 1000)),
        ("A", None),
        ("E", None),
        ("E", "MULTIPOLYGON EMPTY"),
        ("E", None),
    ])
    layer(os.path.join(d, "nov.gpkg"), "nov", [
        ("N1", square(100250, 400250, 1000, 1000)),
        ("N2", None),
    ])
    layer(os.path.join(d, "claims.gpkg"), "claims", [
        (None, square(100500, 400500, 1000, 1000)),
    ], field=None)


main()
