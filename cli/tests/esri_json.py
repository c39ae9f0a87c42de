#!/usr/bin/python3
"""esri_json.py DIR -- write DIR/curves.json and DIR/typo.json, ESRI JSON
(as an ArcGIS REST query gives it) in EPSG:28992, of three features each:
OBJECTID 1, a square of 1 km2; 2, a claim GDAL reads as no geometry; 3, no
geometry (null). In curves.json feature 2 is a circle of true curves
("curveRings", which an ArcGIS service gives when asked for
returnTrueCurves=true), in typo.json a polygon under the misspelt name
"ringz"."""
import json
import os
import sys


def doc(geometry2):
    square = [[[150000, 450000], [150000, 451000], [151000, 451000], [151000, 450000],
               [150000, 450000]]]
    return {"objectIdFieldName": "OBJECTID", "geometryType": "esriGeometryPolygon",
            "spatialReference": {"wkid": 28992},
            "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"}],
            "features": [{"attributes": {"OBJECTID": 1}, "geometry": {"rings": square}},
                         {"attributes": {"OBJECTID": 2}, "geometry": geometry2},
                         {"attributes": {"OBJECTID": 3}, "geometry": None}]}


d = sys.argv[1]
with open(os.path.join(d, "curves.json"), "w") as f:
    json.dump(doc({"curveRings": [[[160000, 451000], {"c": [[160000, 451000], [160000, 450000]]}]]}),
              f, indent=1)
with open(os.path.join(d, "typo.json"), "w") as f:
    json.dump(doc({"ringz": [[[160000, 450000], [160000, 451000], [161000, 451000],
                              [160000, 450000]]]}), f, indent=1)
