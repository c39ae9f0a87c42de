#!/usr/bin/python3
"""Zone names of other column widths, for the summary table's alignment.

    wide_names.py make DIR     write DIR/prov.geojson (provinces named with
                               combining accents, CJK characters and plain
                               ASCII) and DIR/nat.geojson (one claim over them)
    wide_names.py check        read `stapel summary` from stdin: every row of
                               each table must take the same number of
                               terminal columns, counted with Python's
                               unicodedata (wide W/F: 2, combining marks: 0)
"""
import json
import os
import sys
import unicodedata

# 'o' + combining macron below has no composed form, so it stays two code
# points (one column); 'a' + combining circumflex is stored composed, as 'â'
# (stack keeps zone names in Unicode NFC).
NAMES = ["Zwo\u0331lle", "Frysla\u0302n", "\u6771\u4eac\u90fd", "Zeeland"]
CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}


def rect(x0, y0, x1, y1):
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def make(d):
    feats = [{"type": "Feature", "properties": {"naam": n},
              "geometry": rect(150000 + i * 1000, 450000, 151000 + i * 1000, 451000)}
             for i, n in enumerate(NAMES)]
    with open(os.path.join(d, "prov.geojson"), "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "crs": CRS, "features": feats}, f,
                  ensure_ascii=False)
    claim = {"type": "Feature", "properties": {}, "geometry": rect(150000, 450000, 153000, 450500)}
    with open(os.path.join(d, "nat.geojson"), "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "crs": CRS, "features": [claim]}, f)


def columns(line):
    n = 0
    for ch in line:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def check():
    text = sys.stdin.buffer.read().decode("utf-8")
    ok = True
    for table in text.strip("\n").split("\n\n"):
        widths = {columns(line.rstrip()) for line in table.splitlines()[1:]}
        if len(widths) != 1:
            print("rows of unequal width %s:\n%s" % (sorted(widths), table), file=sys.stderr)
            ok = False
    for name in NAMES:
        if unicodedata.normalize("NFC", name) not in text:
            print("name %r missing" % name, file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["make"]:
        make(sys.argv[2])
        sys.exit(0)
    sys.exit(check())
