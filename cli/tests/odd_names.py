#!/usr/bin/python3
"""Zone names that break naive text output, for the CLI cases.

    odd_names.py make DIR      write DIR/claims.geojson, DIR/provinces.geojson
                               and DIR/novex.geojson (EPSG:28992)
    odd_names.py table         stdin: `stapel summary` (table); checks it
    odd_names.py json          stdin: `stapel summary --format json`; checks it
    odd_names.py csv           stdin: `stapel summary --format csv`; checks it

The provinces are six cells of 1 km side by side, named with a tab, a
newline, a carriage return and newline, an ANSI colour escape, 200
characters (non-ASCII among them) and plainly; one NOVEX area, whose name
holds a tab, crosses them all. A nature claim covers everything, a water claim
the left half.

The table must stay aligned: every line of a table as long as the others (in
characters, not bytes), the zone column as wide as its widest name as shown
but at most 40 characters, each column starting at the same place on every
line, and no control character left in it: they are shown as \\t, \\n, \\r,
\\x1b. A longer name is cut with an ellipsis. JSON and CSV keep the names
exactly.
"""
import csv
import io
import json
import os
import sys

LONG = "Zéér lange naam " + "".join(chr(ord("a") + i % 26) for i in range(184))
PROVINCES = [
    "Tab\there",
    "Line\nbreak",
    "Windows\r\nline",
    "Esc \x1b[31mred\x1b[0m",
    LONG,
    "Flevoland",
]
NOVEX = "NOVEX\tA"
MAX_WIDTH = 40
assert len(LONG) == 200


def shown(name):
    """The name as the table shows it, before cutting."""
    out = []
    for ch in name:
        if ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def cut(text):
    return text if len(text) <= MAX_WIDTH else text[: MAX_WIDTH - 1] + "…"


def square(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def layer(features):
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        "features": [
            {"type": "Feature", "id": i + 1, "properties": props, "geometry": geom}
            for i, (props, geom) in enumerate(features)
        ],
    }


def make(d):
    x0, y0, n = 150000, 450000, len(PROVINCES)
    prov = [({"naam": name}, square(x0 + 1000 * i, y0, x0 + 1000 * (i + 1), y0 + 1000))
            for i, name in enumerate(PROVINCES)]
    novex = [({"naam": NOVEX}, square(x0, y0 + 400, x0 + 1000 * n, y0 + 600))]
    claims = [({}, square(x0 + 100, y0 + 100, x0 + 1000 * n - 100, y0 + 900))]
    water = [({}, square(x0 + 100, y0 + 100, x0 + 500 * n, y0 + 900))]
    for name, features in (("provinces", prov), ("novex", novex), ("claims", claims),
                           ("water", water)):
        with open(os.path.join(d, name + ".geojson"), "w", encoding="utf-8") as f:
            json.dump(layer(features), f, ensure_ascii=True)


def fail(msg, text):
    print("odd_names.py: " + msg, file=sys.stderr)
    print(text, file=sys.stderr)
    sys.exit(1)


# The columns right of the zone column, each a separating space and a field
# of this many characters (cmd_summary.c's printf formats).
ZONE_COLUMNS = [10, 10, 6, 10, 10, 4, 10, 10]
THEME_COLUMNS = [12, 10, 7, 10]


def check_table_part(lines, columns, names, text):
    width = min(MAX_WIDTH, max(len("zone"), *(len(shown(n)) for n in names)))
    length = 10 + width + sum(1 + w for w in columns)
    for line in lines:
        if len(line) != length:
            fail(f"line of {len(line)} characters, want {length} (zone column {width}): "
                 f"{line!r}", text)
        if line[8:10] != "  " or line[10 + width] != " ":
            fail(f"the zone column does not start at 10 and end at {10 + width}: {line!r}", text)
        pos = 10 + width
        for w in columns:
            field = line[pos: pos + 1 + w]
            if field[0] != " " or (line is not lines[0] and field.strip() == ""):
                fail(f"column of {w} at {pos} misplaced: {line!r}", text)
            pos += 1 + w
    cells = [line[10: 10 + width].rstrip(" ") for line in lines[1:]]
    for name in names:
        if cut(shown(name)) not in cells:
            fail(f"no row shows {cut(shown(name))!r} for {name!r}; cells: {cells!r}", text)


def check_table(text):
    if any(ord(c) < 0x20 and c != "\n" or ord(c) == 0x7F for c in text):
        fail("a control character reached the table", text)
    zones, themes = text.rstrip("\n").split("\n\n")
    zones, themes = zones.split("\n"), themes.split("\n")
    names = PROVINCES + [NOVEX, "total"]
    if len(zones) != 1 + len(names):
        fail(f"{len(zones)} lines in the zone table, want {1 + len(names)}", text)
    check_table_part(zones, ZONE_COLUMNS, names, text)
    check_table_part(themes, THEME_COLUMNS, names, text)
    if "Zéér lange naam abcdefghijklmnopqrstuvw…" not in text:
        fail("the long name is not cut to 40 characters with an ellipsis", text)


def check_json(text):
    got = [z["zone"] for z in json.loads(text)["zones"]]
    want = sorted(PROVINCES) + [NOVEX, "total"]
    if got != want:
        fail(f"zones {got!r}, want {want!r}", text)


def check_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    got = [r[1] for r in rows[1:]]
    want = sorted(PROVINCES) + [NOVEX, "total"]
    if got != want or any(len(r) != len(rows[0]) for r in rows):
        fail(f"zones {got!r}, want {want!r}", text)


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2])
        return
    text = sys.stdin.buffer.read().decode("utf-8")
    {"table": check_table, "json": check_json, "csv": check_csv}[sys.argv[1]](text)


if __name__ == "__main__":
    main()
