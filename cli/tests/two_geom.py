#!/usr/bin/python3
"""Write two.sqlite (SpatiaLite) and two.gml in the current directory: one
layer 'two' with two polygon geometry columns, in EPSG:28992.

Usage: two_geom.py"""
from osgeo import ogr, osr

ogr.UseExceptions()
rd = osr.SpatialReference()
rd.ImportFromEPSG(28992)
for drv, name, opts, lco in (("SQLite", "two.sqlite", ["SPATIALITE=YES"], ["GEOMETRY_NAME=geom_a"]),
                             ("GML", "two.gml", ["FORMAT=GML3"], [])):
    ds = ogr.GetDriverByName(drv).CreateDataSource(name, options=opts)
    lyr = ds.CreateLayer("two", rd, ogr.wkbPolygon, options=lco)
    gf = ogr.GeomFieldDefn("geom_b", ogr.wkbPolygon)
    gf.SetSpatialRef(rd)
    lyr.CreateGeomField(gf)
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeomField(0, ogr.CreateGeometryFromWkt(
        "POLYGON((150000 450000,151000 450000,151000 451000,150000 451000,150000 450000))"))
    f.SetGeomField(1, ogr.CreateGeometryFromWkt(
        "POLYGON((160000 460000,161000 460000,161000 461000,160000 461000,160000 460000))"))
    lyr.CreateFeature(f)
    f = None
    lyr = None
    ds = None
