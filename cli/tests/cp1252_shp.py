#!/usr/bin/python3
"""Write fryslan.shp in the current directory as an old tool did: names in
Windows-1252 ('Fryslân', 'Groningen'), no .cpg file and no code page in the
.dbf header (its byte 29 is 0), in EPSG:28992.

Usage: cp1252_shp.py"""
import os

from osgeo import ogr, osr

ogr.UseExceptions()
rd = osr.SpatialReference()
rd.ImportFromEPSG(28992)
ds = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource("fryslan.shp")
lyr = ds.CreateLayer("fryslan", rd, ogr.wkbPolygon, options=["ENCODING=CP1252"])
lyr.CreateField(ogr.FieldDefn("naam", ogr.OFTString))
for name, x in (("Frysl\u00e2n", 150000), ("Groningen", 160000)):
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(
        "POLYGON((%d 550000,%d 550000,%d 551000,%d 551000,%d 550000))" % (x, x + 1000, x + 1000, x, x)))
    f.SetField("naam", name)
    lyr.CreateFeature(f)
    f = None
lyr = None
ds = None
if os.path.exists("fryslan.cpg"):
    os.remove("fryslan.cpg")
with open("fryslan.dbf", "r+b") as dbf:
    dbf.seek(29)
    dbf.write(b"\0")
with open("fryslan.dbf", "rb") as dbf:
    assert "Frysl\u00e2n".encode("cp1252") in dbf.read()
