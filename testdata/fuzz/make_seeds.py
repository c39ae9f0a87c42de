#!/usr/bin/python3
"""Write the seed corpus of the fuzz harnesses (engine/tests/fuzz/):

    ingest/*.wkb   one geometry each, as ISO WKB (little and big endian),
                   near the two fixed squares of fuzz_ingest.c (RD New,
                   x 150000-150150, y 450000-450150)
    rules/*.csv    small rules files, good and bad
    text/*         small JSON texts, sound and damaged: TopoJSON, GeoJSON,
                   GeoJSON sequences, ESRI JSON (fuzz_text.c writes each to
                   files .topojson, .geojson, .geojsonl and .json)

Usage: make_seeds.py [DIR]   (default: the directory of this script)
The files are committed; rerun this only to change the corpus.
"""
import os
import sys

from osgeo import ogr

X, Y = 150000, 450000

WKT = {
    "square": "POLYGON ((150020 450020,150080 450020,150080 450080,150020 450080,150020 450020))",
    "bowtie": "POLYGON ((150000 450000,150010 450010,150010 450000,150000 450010,150000 450000))",
    "spike": "POLYGON ((150020 450000,150030 450000,150030 450010,150025 450010,150025 450015,"
             "150025 450010,150020 450010,150020 450000))",
    "duplicates": "POLYGON ((150040 450000,150050 450000,150050 450000,150050 450010,"
                  "150040 450010,150040 450010,150040 450000))",
    "self_touching": "POLYGON ((150060 450000,150070 450000,150070 450010,150060 450010,"
                     "150060 450000,150065 450005,150062 450008,150068 450008,150065 450005,"
                     "150060 450000))",
    "hole": "POLYGON ((150010 450010,150140 450010,150140 450140,150010 450140,150010 450010),"
            "(150040 450040,150060 450040,150060 450060,150040 450060,150040 450040))",
    "hole_outside": "POLYGON ((150010 450010,150040 450010,150040 450040,150010 450040,"
                    "150010 450010),(150100 450100,150120 450100,150120 450120,150100 450100))",
    "unclosed": "POLYGON ((150010 450010,150090 450010,150090 450090,150010 450090))",
    "multi_overlap": "MULTIPOLYGON (((150000 450000,150060 450000,150060 450060,150000 450060,"
                     "150000 450000)),((150030 450030,150090 450030,150090 450090,150030 450090,"
                     "150030 450030)))",
    "multi_touch": "MULTIPOLYGON (((150000 450000,150050 450000,150050 450050,150000 450000)),"
                   "((150050 450050,150100 450050,150100 450100,150050 450050)))",
    "sliver": "POLYGON ((150000 450000,150100 450000.0001,150100 450000.0002,150000 450000))",
    "collapsed": "POLYGON ((150000 450000,150100 450000,150050 450000,150000 450000))",
    "near_edge": "POLYGON ((150000.0001 450000,150100.0001 450000,150100.0001 450100,"
                 "150000.0001 450100,150000.0001 450000))",
    "polygon_z": "POLYGON Z ((150010 450010 5,150090 450010 6,150090 450090 7,150010 450090 8,"
                 "150010 450010 5))",
    "polygon_m": "POLYGON M ((150010 450010 1,150090 450010 2,150090 450090 3,150010 450010 1))",
    "curvepolygon": "CURVEPOLYGON (CIRCULARSTRING (150020 450050,150050 450080,150080 450050,"
                    "150050 450020,150020 450050))",
    "compoundcurve": "CURVEPOLYGON (COMPOUNDCURVE (CIRCULARSTRING (150000 450000,150050 450050,"
                     "150100 450000),(150100 450000,150000 450000)))",
    "multisurface": "MULTISURFACE (CURVEPOLYGON (CIRCULARSTRING (150020 450050,150050 450080,"
                    "150080 450050,150050 450020,150020 450050)),((150100 450100,150140 450100,"
                    "150140 450140,150100 450100)))",
    "triangle": "TRIANGLE ((150000 450000,150100 450000,150050 450100,150000 450000))",
    "tin": "TIN (((150000 450000,150100 450000,150050 450100,150000 450000)),"
           "((150100 450000,150150 450100,150050 450100,150100 450000)))",
    "polyhedral": "POLYHEDRALSURFACE (((150000 450000,150100 450000,150100 450100,150000 450000)))",
    "collection": "GEOMETRYCOLLECTION (POLYGON ((150000 450000,150100 450000,150100 450100,"
                  "150000 450000)),POINT (150050 450050),LINESTRING (150000 450000,150100 450100))",
    "nested_collection": "GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (MULTIPOLYGON (((150000 450000,"
                         "150100 450000,150100 450100,150000 450000)))))",
    "point": "POINT (150050 450050)",
    "line": "LINESTRING (150000 450000,150100 450100)",
    "empty_polygon": "POLYGON EMPTY",
    "empty_collection": "GEOMETRYCOLLECTION EMPTY",
    "far_away": "POLYGON ((1e12 1e12,1e12 2e12,2e12 2e12,1e12 1e12))",
    "huge": "POLYGON ((-1e7 -1e7,1e7 -1e7,1e7 1e7,-1e7 1e7,-1e7 -1e7))",
}

RULES = {
    "default_like.csv": "theme_a,theme_b,verdict,note\n"
                        "nature,wind,conflict,Natura 2000 en windturbines\n"
                        "nature,water,conditional,\"waterberging, mits natuurinclusief\"\n"
                        "housing,water,conditional,klimaatadaptief bouwen\n"
                        "agri,solar,conflict,\n"
                        "solar,water,compatible,drijvende zonneparken\n",
    "minimal.csv": "theme_a,theme_b,verdict\nnature,wind,conflict\n",
    "crlf_bom.csv": "\ufefftheme_a,theme_b,verdict\r\nnature,wind,conflict\r\n\r\n"
                    "wind,solar,compatible\r\n",
    "reordered.csv": "verdict,note,theme_b,theme_a\nconflict,x,wind,nature\n"
                     "compatible,,nature,water\n",
    "blank_lines.csv": "theme_a,theme_b,verdict\n\n,,\nnature,wind,conflict\n,,\n",
    "unknown_verdict.csv": "theme_a,theme_b,verdict\nnature,wind,misschien\n",
    "missing_column.csv": "theme_a,theme_b\nnature,wind\n",
    "contradiction.csv": "theme_a,theme_b,verdict\nnature,wind,conflict\nwind,nature,compatible\n",
    "same_twice.csv": "theme_a,theme_b,verdict\nnature,wind,conflict\nwind,nature,conflict\n",
    "self_pair.csv": "theme_a,theme_b,verdict\nnature,nature,conflict\n",
    "bad_theme.csv": "theme_a,theme_b,verdict\nnat ure,wind,conflict\n",
    "quoted.csv": "\"theme_a\",\"theme_b\",\"verdict\",\"note\"\n"
                  "\"nature\",\"wind\",\"conflict\",\"a \"\"quoted\"\" note\nover two lines\"\n",
    "utf8_note.csv": "theme_a,theme_b,verdict,note\nnature,water,conditional,Fryslân – Wâdden\n",
    "empty.csv": "",
    "header_only.csv": "theme_a,theme_b,verdict\n",
    "semicolons.csv": "theme_a;theme_b;verdict\nnature;wind;conflict\n",
    "many_columns.csv": "theme_a,theme_b,verdict,note,extra,more\nnature,wind,conflict,n,e,m\n",
}

SQ = "[[5.0,52.0],[5.001,52.0],[5.001,52.001],[5.0,52.001],[5.0,52.0]]"
FEAT = '{"type":"Feature","properties":{"id":%d},"geometry":{"type":"Polygon","coordinates":[' + SQ + ']}}'
TOPO_ARCS = '"arcs":[[[5.0,52.0],[5.001,52.0],[5.001,52.001]],[[5.001,52.001],[5.0,52.001],[5.0,52.0]]]'
TOPO = '{"type":"Topology",%s,"objects":%s}'
TEXT = {
    "geojson_collection.json": '{"type":"FeatureCollection","features":[' + FEAT % 1 + "," + FEAT % 2 + "]}\n",
    "geojson_feature.json": FEAT % 1 + "\n",
    "geojson_trailing.json": FEAT % 1 + ",\n" + FEAT % 2 + "\n",
    "geojson_nul.json": FEAT % 1 + "\0,\n" + FEAT % 2 + "\n\0\0",
    "geojson_bom_seq.json": "\ufeff" + FEAT % 1 + "\n" + FEAT % 2 + "\n",
    "geojson_bad_geometry.json": '{"type":"FeatureCollection","features":[{"type":"Feature",'
                                 '"properties":{},"geometry":{"type":"Polygonn","coordinates":[' + SQ + ']}}]}',
    "geojson_case.json": '{"Type":"Feature","Properties":{},"Geometry":{"Type":"Polygon","Coordinates":[' + SQ + ']}}',
    "seq_lines.json": FEAT % 1 + "\n" + FEAT % 2 + "\n",
    "seq_rs.json": "\x1e" + FEAT % 1 + "\n\x1e" + FEAT % 2 + "\n",
    "seq_cut.json": FEAT % 1 + "\n" + (FEAT % 2)[:60] + "\n" + FEAT % 3 + "\n",
    "seq_run_on.json": FEAT % 1 + "\n" + FEAT % 2 + FEAT % 3 + ",\n" + FEAT % 4 + "\0" + FEAT % 5 + "\n",
    "seq_stray.json": FEAT % 1 + '\n{"type":"Featuer","geometry":null}\n{"type":"FeatureCollection","features":[]}\n',
    "topo_array.json": TOPO % (TOPO_ARCS, '[{"type":"Polygon","arcs":[[0,1]]},{"type":"MultiPolygon","arcs":[[[-1,-2]]]}]'),
    "topo_keyed.json": TOPO % (TOPO_ARCS, '{"a":{"type":"GeometryCollection","geometries":['
                                          '{"type":"Polygon","arcs":[[0,1]]},{"type":null}]},'
                                          '"b":{"Type":"Polygon","ARCS":[[0,1]]}}'),
    "topo_quantized.json": '{"type":"Topology","transform":{"scale":[0.001,0.001],"translate":[5,52]},'
                           '"arcs":[[[0,0],[1,0],[0,1],[-1,0],[0,-1]]],"objects":{"o":{"type":"Polygon","arcs":[[0]]}}}',
    "topo_bad_arc.json": TOPO % (TOPO_ARCS, '[{"type":"Polygon","arcs":[[0,7]]},{"type":"Polygon","arcs":[[1.0]]}]'),
    "topo_bad_position.json": TOPO % ('"arcs":[[[5.0,52.0,1],[5.001,52.0]],[5]]', '[{"type":"LineString","arcs":[0]}]'),
    "topo_bad_type.json": TOPO % (TOPO_ARCS, '{"x":{"type":"Polygonn","arcs":[[0,1]]},"y":{"arcs":[[0]]},'
                                             '"z":{"type":"GeometryCollection"},"w":7}'),
    "esri.json": '{"geometryType":"esriGeometryPolygon","spatialReference":{"wkid":4326},"fields":[],'
                 '"features":[{"attributes":{},"geometry":{"rings":[' + SQ + ']}},'
                 '{"attributes":{},"geometry":{"curveRings":[[[5,52],{"c":[[5.001,52],[5.0005,52.0005]]},[5,52]]]}},'
                 '{"attributes":{},"geometry":{"ringz":[' + SQ + ']}},{"attributes":{},"geometry":{"x":5,"y":52}}]}',
    "nested.json": '{"type":"Topology","arcs":' + "[" * 40 + "]" * 40 + ',"objects":{}}',
    "escapes.json": '{"type":"Topology","arcs":[],"objects":{"a\\"}b":{"type":"Polygon","arcs":[["\\\\"]]}}}',
    "unterminated.json": '{"type":"Topology","arcs":[[[5,52]],"objects":{"a":{"type":"Polygon","arcs":[[0',
    "escapes_unicode.json": TOPO % (TOPO_ARCS, '{"n\\u00e9\\ud83d\\ude00\\ud800x\\u0000y\\"\\\\\\/\\t":'
                                                '{"type":"Geometry\\u0043ollection","geometries":['
                                                '{"typ\\u0065":"Poly\\"gon","arcs":[[0,1]]}]},'
                                                '"\\u006f":{"type":"Polygon","\\u0061rcs":[[0,1]],"id":"\\ud83d"}}'),
    "comments.json": '{"type":"Topology", /* "}" */ ' + TOPO_ARCS + ',"objects": // {\n'
                     '{ /***x*/ "a":{"type":"GeometryCollection",/*]*/"geometries":[{"type":"Polygon",'
                     '"arcs":[[0 /* 7 */,1/**/]]}]}}} // "\n',
    "comments_seq.json": FEAT % 1 + "\n{ /* \"}\" */ " + (FEAT % 2)[1:] + "\n" + FEAT % 3 + " /* */ " + FEAT % 4 + "\n",
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(out, "ingest"), exist_ok=True)
    os.makedirs(os.path.join(out, "rules"), exist_ok=True)
    for name, wkt in sorted(WKT.items()):
        g = ogr.CreateGeometryFromWkt(wkt)
        if g is None:
            sys.exit("bad WKT for " + name)
        with open(os.path.join(out, "ingest", name + ".wkb"), "wb") as f:
            f.write(g.ExportToIsoWkb(ogr.wkbNDR))
    for name in ("square", "bowtie", "curvepolygon"):
        g = ogr.CreateGeometryFromWkt(WKT[name])
        with open(os.path.join(out, "ingest", name + "_xdr.wkb"), "wb") as f:
            f.write(g.ExportToIsoWkb(ogr.wkbXDR))
    os.makedirs(os.path.join(out, "text"), exist_ok=True)
    for name, text in sorted(TEXT.items()):
        with open(os.path.join(out, "text", name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    for name, text in sorted(RULES.items()):
        with open(os.path.join(out, "rules", name), "w", encoding="utf-8", newline="") as f:
            f.write(text)


if __name__ == "__main__":
    main()
