#!/usr/bin/python3
"""Check a stapel GeoPackage's rules_hash the way docs/FORMAT.md defines it.

    fnv_rules.py GPKG

Recomputes the 64-bit FNV-1a hash (offset basis 0xcbf29ce484222325, prime
0x100000001b3) over each rule's theme_a, theme_b, verdict and note (empty when
NULL), in table order, each string followed by a NUL byte, and compares it
with the rules_hash row of run_info. Exit status 0 when they agree.
"""
import os
import pathlib
import sqlite3
import sys

BASIS, PRIME, MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


def fnv1a(h, data):
    for byte in data:
        h = ((h ^ byte) * PRIME) & MASK
    return h


def main():
    uri = pathlib.Path(os.path.abspath(sys.argv[1])).as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    h = BASIS
    for row in con.execute("SELECT theme_a, theme_b, verdict, note FROM rules ORDER BY rowid"):
        for v in row:
            h = fnv1a(h, (v or "").encode("utf-8") + b"\0")
    (stored,) = con.execute("SELECT value FROM run_info WHERE key = 'rules_hash'").fetchone()
    con.close()
    want = "%016x" % h
    if stored != want:
        print("rules_hash is %s; FNV-1a over the rules table gives %s" % (stored, want),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
