#!/usr/bin/python3
"""geojson_seq.py DIR -- write GeoJSON sequences (RFC 8142 and one feature a
line), in lon/lat, of three claims each, whose middle one GDAL reads without
a word as something else:
  stray.geojsonl  line 3 (after an empty line) is of type "Featuer"
  fc.geojsons     RS-separated; record 2 is a FeatureCollection
  typo.geojsonl   feature 1's geometry is of type "Polygonn": GDAL gives
                  it as no geometry"""
import json
import os
import sys


def feature(n, gtype="Polygon", ftype="Feature"):
    x = 5.3 + 0.02 * n
    ring = [[x, 52.0], [x + 0.01, 52.0], [x + 0.01, 52.01], [x, 52.0]]
    return json.dumps({"type": ftype, "properties": {"n": n},
                       "geometry": {"type": gtype, "coordinates": [ring]}})


d = sys.argv[1]
with open(os.path.join(d, "stray.geojsonl"), "w") as f:
    f.write("\n".join([feature(0), "", feature(1, ftype="Featuer"), feature(2)]) + "\n")
with open(os.path.join(d, "fc.geojsons"), "w") as f:
    fc = json.dumps({"type": "FeatureCollection", "features": [json.loads(feature(1))]})
    f.write("".join("\x1e%s\n" % r for r in (feature(0), fc, feature(2))))
with open(os.path.join(d, "typo.geojsonl"), "w") as f:
    f.write("\n".join([feature(0), feature(1, gtype="Polygonn"), feature(2)]) + "\n")
