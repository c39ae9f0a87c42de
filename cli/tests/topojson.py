#!/usr/bin/python3
"""topojson.py DIR -- write TopoJSON files of RD claims (no CRS: give
--s_srs EPSG:28992) that GDAL reads whole, and copies of one with damage
that GDAL's TopoJSON driver passes over without a word:
  good.topojson     quantized (a "transform"), object "claims": three
                    squares of 100 m, the middle one sharing its edges
                    with both others (arcs used reversed, ~i), a
                    MultiPolygon of two squares and a {"type": null}
                    (the standard's null geometry, which GDAL leaves out);
                    areas 10000, 10000, 10000 and 20000 m2
  plain.topojson    not quantized, objects keyed: a GeometryCollection
                    "claims" of two squares and a Polygon "lone" (GDAL's
                    layer "TopoJSON"), its members "Type" and "ARCS" (GDAL
                    finds members in any case)
  badtype.topojson  good's feature 1 of type "Polygonn" (no geometry)
  badarc.topojson   good's MultiPolygon's second part names arc 99
                    (the part is dropped)
  notype.topojson   good's feature 1 without "type" (left out)
  pos3.topojson     a position of arc 2 with three numbers (skipped, and
                    in a quantized file the vertices after it move)
  floatarc.topojson an arc index 1.0 (no integer: skipped)
  layers.topojson   good's object "claims" and a second GeometryCollection
                    "wegen" (GDAL's layer wegen) with damage of its own: its
                    feature 0 a square of arc 8, whose position 1 has three
                    numbers, its feature 1 of type "Polygonn"; "claims" is
                    sound, and uses none of its arcs
  unused.topojson   layers.topojson without "wegen": arc 8, with its
                    position of three numbers, is used by no object
  escaped.topojson  good's object "claims" keyed 'na"me' (GDAL's layer na"me,
                    the quote escaped in the JSON), its feature 1 of type
                    'Poly"gonn' (no geometry)"""
import copy
import json
import os
import sys

X0, Y0 = 150000, 450000
# Quantized: a position is (x - X0) / 10 deltas from the one before.


def q(points):
    out, px, py = [], 0, 0
    for x, y in points:
        qx, qy = (x - X0) // 10, (y - Y0) // 10
        out.append([qx - px, qy - py])
        px, py = qx, qy
    return out


def sq(x, y, s=100):
    return [(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]


# Arcs: 0 the left square but for its right edge; 1 the edge it shares with
# the middle one (x = X0 + 100, upwards); 2 and 3 the middle one's bottom
# and top; 4 the edge it shares with the right one (x = X0 + 200, upwards);
# 5 the right square but for that edge; 6, 7 the MultiPolygon's squares.
a, b, c = X0, X0 + 100, X0 + 200
arcs = [
    [(b, Y0 + 100), (a, Y0 + 100), (a, Y0), (b, Y0)],
    [(b, Y0), (b, Y0 + 100)],
    [(b, Y0), (c, Y0)],
    [(c, Y0 + 100), (b, Y0 + 100)],
    [(c, Y0), (c, Y0 + 100)],
    [(c, Y0 + 100), (c + 100, Y0 + 100), (c + 100, Y0), (c, Y0)],
    sq(X0, Y0 + 1000),
    sq(X0 + 1000, Y0 + 1000),
]
geoms = [
    {"type": "Polygon", "arcs": [[0, 1]], "properties": {"naam": "links"}},
    {"type": "Polygon", "arcs": [[2, 4, 3, -2]], "properties": {"naam": "midden"}},
    {"type": "Polygon", "arcs": [[5, 4]], "properties": {"naam": "rechts"}},
    {"type": "MultiPolygon", "arcs": [[[6]], [[7]]], "properties": {"naam": "twee"}},
    {"type": None, "properties": {"naam": "leeg"}},
]
good = {"type": "Topology", "transform": {"scale": [10, 10], "translate": [X0, Y0]},
        "objects": {"claims": {"type": "GeometryCollection", "geometries": geoms}},
        "arcs": [q(arc) for arc in arcs]}
d = sys.argv[1]


def write(name, topo):
    with open(os.path.join(d, name), "w") as f:
        json.dump(topo, f)


write("good.topojson", good)
t = copy.deepcopy(good)
t["objects"]["claims"]["geometries"][1]["type"] = "Polygonn"
write("badtype.topojson", t)
t = copy.deepcopy(good)
t["objects"]["claims"]["geometries"][3]["arcs"][1] = [[99]]
write("badarc.topojson", t)
t = copy.deepcopy(good)
del t["objects"]["claims"]["geometries"][1]["type"]
write("notype.topojson", t)
t = copy.deepcopy(good)
t["arcs"][2][1] = t["arcs"][2][1] + [0]
write("pos3.topojson", t)
with open(os.path.join(d, "floatarc.topojson"), "w") as f:
    f.write(json.dumps(good).replace('"arcs": [[2, 4, 3, -2]]', '"arcs": [[2, 4, 3, -2.0]]'))
plain = {"type": "Topology",
         "objects": {"claims": {"type": "GeometryCollection", "geometries": geoms[:2]},
                     "lone": {"Type": "Polygon", "ARCS": [[5, 4]], "id": "r"}},
         "arcs": [[list(p) for p in arc] for arc in arcs]}
write("plain.topojson", plain)
t = copy.deepcopy(good)
t["arcs"].append(q(sq(X0 + 3000, Y0)))
t["arcs"][8][1] = t["arcs"][8][1] + [0]
t["objects"]["wegen"] = {"type": "GeometryCollection", "geometries": [
    {"type": "Polygon", "arcs": [[8]], "properties": {"naam": "weg"}},
    {"type": "Polygonn", "arcs": [[8]], "properties": {"naam": "pad"}}]}
write("layers.topojson", t)
del t["objects"]["wegen"]
write("unused.topojson", t)
t = copy.deepcopy(good)
t["objects"] = {'na"me': t["objects"]["claims"]}
t["objects"]['na"me']["geometries"][1]["type"] = 'Poly"gonn'
write("escaped.topojson", t)
