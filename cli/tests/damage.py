#!/usr/bin/python3
"""damage.py GPKG TABLE -- overwrite one leaf page of TABLE in a GeoPackage.

Writes 'Z' over the second leaf page of the table's b-tree (the first when it
has one), as a disk error or a botched copy would: the file still opens and
the table's first rows still read, but reading stops with SQLite's "database
disk image is malformed" at that page. Fails when the table fits on one page
(its rows must span at least two leaves, so that some rows read). Only the
standard library: sqlite3's dbstat table finds the page.
"""
import sqlite3
import sys

path, table = sys.argv[1], sys.argv[2]
con = sqlite3.connect(path)
page_size = con.execute("PRAGMA page_size").fetchone()[0]
leaves = [p for (p,) in con.execute(
    "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path", (table,))]
con.close()
if len(leaves) < 2:
    sys.exit("damage.py: %s: table %s has %d leaf pages; need two" % (path, table, len(leaves)))
with open(path, "r+b") as f:
    f.seek((leaves[1] - 1) * page_size)
    f.write(b"Z" * page_size)
