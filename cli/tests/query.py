#!/usr/bin/python3
"""Query a GeoPackage (an SQLite file) for a CLI case's 'after:' check.

    query.py GPKG SQL [EXPECTED]

Prints each result row with its values joined by '|', one row a line. With
EXPECTED, the printed text (rows joined by newlines; write '\\n' for a newline
in EXPECTED) must equal EXPECTED, or the exit status is 1. Plain SQLite, no
spatial functions: use the stored fields (area_m2, province, ...) and ROUND()
for real numbers.
"""
import os
import pathlib
import sqlite3
import sys


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    path, sql = sys.argv[1], sys.argv[2]
    uri = pathlib.Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    rows = con.execute(sql).fetchall()
    con.close()
    text = "\n".join("|".join("NULL" if v is None else str(v) for v in row) for row in rows)
    print(text)
    if len(sys.argv) == 4:
        want = sys.argv[3].replace("\\n", "\n")
        if text != want:
            print(f"query.py: expected {want!r}, got {text!r}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
