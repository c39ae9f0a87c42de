#!/usr/bin/python3
"""dup_members.py DIR -- write JSON sources that give a member twice.
json-c, GDAL's JSON parser, keeps one member of a key given twice, where
the key first stands, with the value last given; GDAL's readers take, of
the keys that are the name asked for in any case, the first one written
(so "rings", "RINGS" reads as the first), and a feature's "geometry" as the
last of them, or none once one is null. What GDAL 3.6 makes of each file is
written after it (checked with its Python bindings).
TopoJSON (RD, no CRS: give --s_srs EPSG:28992), object "a" a triangle of
5000 m2 of arc 0:
  arcs_bad.topojson  "arcs" twice, the second's arc 0 with a position
                     [150100, "x"] (GDAL reads it as 0,0: a face of
                     15,000,000 m2 reaching to 0,0)
  arcs_good.topojson the two "arcs" the other way round (GDAL reads the
                     sound triangle)
  objs_good.topojson objects "a", "b", "a": the first "a" names arc 9,
                     which is none; GDAL reads the second in the first's
                     place (features a, b: two triangles)
  objs_bad.topojson  objects "a", "a": the second names arc 9 (GDAL reads
                     an empty polygon)
  objs_null.topojson objects "a", "b", "a": the second "a" null; GDAL reads
                     "b" alone (layer TopoJSON: feature 0, the triangle)
  gc_null.topojson   a GeometryCollection "a" of the triangle and null
                     (GDAL: layer a, feature 0 the triangle)
GeoJSON (WGS 84), squares of about 690 x 1110 m:
  null.geojson       a FeatureCollection: feature 0 "geometry" a square,
                     then "geometry": null (GDAL: no geometry), feature 1 a
                     square
  null1.geojson      a lone Feature, its square's "geometry" followed by
                     "Geometry": null (GDAL: no geometry)
  null.geojsonl      null.geojson as a GeoJSON sequence
  type.geojsonl      a sequence whose record 2 gives "type" "Feature", then
                     "Foo" (GDAL leaves it out)
  null.json          ESRI JSON (EPSG:28992): feature 0 "geometry" a square
                     of 100 m, then null; feature 1's geometry "rings"
                     twice, the second null (GDAL: no geometry for both);
                     feature 2 a square
"""
import os
import sys

d = sys.argv[1]
os.makedirs(d, exist_ok=True)


def write(name, text):
    with open(os.path.join(d, name), "w", encoding="utf-8") as f:
        f.write(text)


good = "[[[150000,450000],[150100,450000],[150100,450100],[150000,450000]]]"
bad = '[[[150000,450000],[150100,"x"],[150100,450100],[150000,450000]]]'
gc = '{"a":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[0]]}]}}'
write("arcs_bad.topojson",
      '{"type":"Topology","objects":%s,"arcs":%s,"arcs":%s}' % (gc, good, bad))
write("arcs_good.topojson",
      '{"type":"Topology","objects":%s,"arcs":%s,"arcs":%s}' % (gc, bad, good))
poly = '{"type":"Polygon","arcs":[[%d]]}'
write("objs_good.topojson",
      '{"type":"Topology","objects":{"a":%s,"b":%s,"a":%s},"arcs":%s}'
      % (poly % 9, poly % 0, poly % 0, good))
write("objs_bad.topojson",
      '{"type":"Topology","objects":{"a":%s,"a":%s},"arcs":%s}' % (poly % 0, poly % 9, good))
write("objs_null.topojson",
      '{"type":"Topology","objects":{"a":%s,"b":%s,"a":null},"arcs":%s}'
      % (poly % 0, poly % 0, good))
write("gc_null.topojson",
      '{"type":"Topology","objects":{"a":{"type":"GeometryCollection","geometries":[%s,null]}},'
      '"arcs":%s}' % (poly % 0, good))


def square(x, y, d=0.01):
    return ('{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}'
            % (x, y, x + d, y, x + d, y + d, x, y + d, x, y))


f0 = '{"type":"Feature","properties":{"n":0},"geometry":%s,"geometry":null}' % square(5.3, 52.0)
f1 = '{"type":"Feature","properties":{"n":1},"geometry":%s}' % square(5.4, 52.0)
write("null.geojson", '{"type":"FeatureCollection","features":[%s,%s]}' % (f0, f1))
write("null1.geojson",
      '{"type":"Feature","properties":{},"geometry":%s,"Geometry":null}' % square(5.3, 52.0))
write("null.geojsonl", "%s\n%s\n" % (f0, f1))
write("type.geojsonl", '%s\n{"type":"Feature","type":"Foo","properties":{"n":2},"geometry":%s}\n'
      % (f1, square(5.5, 52.0)))


def rings(x):
    return "[[[%d,450000],[%d,450100],[%d,450100],[%d,450000],[%d,450000]]]" % (
        x, x, x + 100, x + 100, x)


write("null.json",
      '{"objectIdFieldName":"OBJECTID","geometryType":"esriGeometryPolygon",'
      '"spatialReference":{"wkid":28992},'
      '"fields":[{"name":"OBJECTID","type":"esriFieldTypeOID"}],"features":['
      '{"attributes":{"OBJECTID":1},"geometry":{"rings":%s},"geometry":null},'
      '{"attributes":{"OBJECTID":2},"geometry":{"rings":%s,"rings":null}},'
      '{"attributes":{"OBJECTID":3},"geometry":{"rings":%s}}]}'
      % (rings(150000), rings(150200), rings(150400)))
