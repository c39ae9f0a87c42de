#!/usr/bin/python3
"""geojson_pieces.py DIR -- write GeoJSON FeatureCollections, in lon/lat, of
four features: 0 without geometry (which makes stapel scan the text for
geometries GDAL could not read), 1 padded to put feature 2's geometry
across the first MB of the file (the piece stapel's scan reads first), 2
and 3 squares:
  cut_good.geojson  feature 3's geometry GDAL cannot read ('x' for a
                    coordinate); feature 2's, across the MB, is sound
  cut_bad.geojson   feature 2's, across the MB, is the one GDAL cannot read"""
import json
import os
import sys

MB = 1 << 20


def collection(bad, pad):
    def feature(n, props):
        x = 5.3 + 0.02 * n
        ring = [["x" if n == bad else x, 52.0], [x + 0.01, 52.0], [x + 0.01, 52.01], [x, 52.0]]
        return {"type": "Feature", "properties": props,
                "geometry": {"type": "Polygon", "coordinates": [ring]}}
    features = [{"type": "Feature", "properties": {}, "geometry": None},
                feature(1, {"pad": "p" * pad}), feature(2, {}), feature(3, {})]
    return json.dumps({"type": "FeatureCollection", "features": features})


for name, bad in (("cut_good", 3), ("cut_bad", 2)):
    text = collection(bad, 0)
    at = text.index('"coordinates"', text.index('"coordinates"') + 1)  # feature 2's
    text = collection(bad, MB - 20 - at)
    at = text.index('"coordinates"', text.index('"coordinates"') + 1)
    assert at < MB < text.index("]]}", at)
    with open(os.path.join(sys.argv[1], name + ".geojson"), "w") as f:
        f.write(text)
