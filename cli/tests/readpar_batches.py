#!/usr/bin/python3
"""readpar_batches.py make DIR | make-shp DIR | same A B

make: DIR/big.gpkg, one layer 'big' of 5000 squares of 200 m in lon/lat
(EPSG:4326, so each is reprojected), fids 1..5000, a row of them per 50; the
features 2100, 4500 and 4999 are bow-ties (invalid: repaired). DIR/bad.gpkg is
the same with features 2500 and 3000 moved to lon 179, lat -80, far outside
the Netherlands. stapel reads claims a batch of 2048 at a time, worked on by
several threads: these lie in the second and third batches.

make-shp DIR: DIR/open.shp, 5000 squares of 100 m in RD (EPSG:28992), fids
0..4999, whose rings 2100, 2600 and 3000 are not closed (GDAL warns of each as
it reads it); DIR/openbad.shp the same with feature 2500 far outside the
Netherlands (x -5000 km).

same: the stack layers of two outputs hold the same faces, in the same order.
"""
import sqlite3
import sys

BOWTIES = {2100, 4500, 4999}
FAR = {2500, 3000}
OPEN = {2100, 2600, 3000}


def square(fid, far):
    if far:
        x0, y0 = 179.0, -80.0
    else:
        i = fid - 1
        x0, y0 = 4.5 + (i % 50) * 0.004, 51.5 + (i // 50) * 0.003
    d = 0.002
    if fid in BOWTIES:
        pts = [(x0, y0), (x0 + d, y0 + d), (x0 + d, y0), (x0, y0 + d), (x0, y0)]
    else:
        pts = [(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d), (x0, y0)]
    return "POLYGON((%s))" % ", ".join("%.6f %.6f" % p for p in pts)


def make(path, bad):
    from osgeo import ogr, osr
    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    layer = ds.CreateLayer("big", srs, ogr.wkbPolygon)
    layer.StartTransaction()
    for fid in range(1, 5001):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetFID(fid)
        f.SetGeometry(ogr.CreateGeometryFromWkt(square(fid, bad and fid in FAR)))
        layer.CreateFeature(f)
    layer.CommitTransaction()
    ds = None


def make_shp(path, bad):
    import os
    import struct
    records, index, off = [], [], 50
    for fid in range(5000):
        x0, y0 = 100000.0 + (fid % 50) * 200, 400000.0 + (fid // 50) * 200
        if bad and fid == 2500:
            x0 = -5000000.0
        # clockwise, as the format wants
        pts = [(x0, y0), (x0, y0 + 100), (x0 + 100, y0 + 100), (x0 + 100, y0), (x0, y0)]
        if fid in OPEN:
            pts = pts[:4]
        box = (x0, y0, x0 + 100, y0 + 100)
        content = struct.pack("<i4d2i", 5, *box, 1, len(pts)) + struct.pack("<i", 0)
        content += b"".join(struct.pack("<2d", x, y) for x, y in pts)
        records.append(struct.pack(">2i", fid + 1, len(content) // 2) + content)
        index.append(struct.pack(">2i", off, len(content) // 2))
        off += 4 + len(content) // 2
    box = (-5000000.0 if bad else 100000.0, 400000.0, 110000.0, 420000.0)

    def header(length_words):
        return (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_words) + struct.pack("<2i", 1000, 5)
                + struct.pack("<8d", *box, 0, 0, 0, 0))

    with open(path + ".shp", "wb") as f:
        f.write(header(off) + b"".join(records))
    with open(path + ".shx", "wb") as f:
        f.write(header(50 + 4 * len(index)) + b"".join(index))
    # dBASE III: one numeric field ID of 6, a record per shape.
    dbf = struct.pack("<B3B I H H 20x", 3, 126, 1, 1, 5000, 32 + 32 + 1, 1 + 6)
    dbf += b"ID".ljust(11, b"\0") + b"N" + b"\0" * 4 + bytes([6, 0]) + b"\0" * 14 + b"\r"
    dbf += b"".join(b" " + str(i).rjust(6).encode() for i in range(5000)) + b"\x1a"
    with open(path + ".dbf", "wb") as f:
        f.write(dbf)
    from osgeo import osr
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(28992)
    srs.MorphToESRI()
    with open(path + ".prj", "w") as f:
        f.write(srs.ExportToWkt())


def faces(path):
    con = sqlite3.connect(path)
    cols = [r[1] for r in con.execute("PRAGMA table_info(stack)")]
    return cols, con.execute("SELECT * FROM stack ORDER BY rowid").fetchall()


if sys.argv[1] == "make":
    make(sys.argv[2] + "/big.gpkg", False)
    make(sys.argv[2] + "/bad.gpkg", True)
elif sys.argv[1] == "make-shp":
    make_shp(sys.argv[2] + "/open", False)
    make_shp(sys.argv[2] + "/openbad", True)
elif sys.argv[1] == "same":
    a, b = faces(sys.argv[2]), faces(sys.argv[3])
    if len(a[1]) < 5000 - 3:
        sys.exit("readpar_batches.py: %s has %d faces, fewer than the claims" % (sys.argv[2], len(a[1])))
    if a != b:
        sys.exit("readpar_batches.py: %s and %s differ" % (sys.argv[2], sys.argv[3]))
else:
    sys.exit("usage: readpar_batches.py make DIR | make-shp DIR | same A B")
