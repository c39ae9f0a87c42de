#!/usr/bin/python3
"""Write inverted.shp (.shx, .dbf, .prj) into DIR: one polygon record of a
100 m square with a 50 m square hole in RD (EPSG:28992), its rings the wrong
way round for the shapefile format (outer ring counter-clockwise, hole
clockwise). GDAL's writers always fix the orientation, so the bytes are
written here by hand, after the ESRI shapefile technical description.

GDAL reads such a record, by orientation, as the small ring with the big one
as a hole outside it; the repair then leaves nothing.

With 'unclosed', write unclosed.shp instead: the 100 m square alone, clockwise
as the format wants, but its ring not closed (4 points, the first not
repeated). GDAL accepts it with a warning.

    make_inverted_shp.py DIR [unclosed]
"""
import os
import struct
import sys

out = sys.argv[1]
unclosed = len(sys.argv) > 2 and sys.argv[2] == "unclosed"
name = "unclosed" if unclosed else "inverted"
outer = [(150000, 450000), (150100, 450000), (150100, 450100), (150000, 450100), (150000, 450000)]
hole = [(150025, 450025), (150025, 450075), (150075, 450075), (150075, 450025), (150025, 450025)]
if unclosed:
    parts = [[(150000, 450000), (150000, 450100), (150100, 450100), (150100, 450000)]]
else:
    parts = [outer, hole]
points = [p for part in parts for p in part]
starts = [sum(len(q) for q in parts[:i]) for i in range(len(parts))]
box = (150000.0, 450000.0, 150100.0, 450100.0)

# Record content: shape type 5 (Polygon), box, parts, points, the part starts.
content = struct.pack("<i4d2i", 5, *box, len(parts), len(points))
content += struct.pack("<%di" % len(parts), *starts)
content += b"".join(struct.pack("<2d", x, y) for x, y in points)
record = struct.pack(">2i", 1, len(content) // 2) + content


def header(length_words):
    return (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_words) + struct.pack("<2i", 1000, 5)
            + struct.pack("<8d", *box, 0, 0, 0, 0))


with open(os.path.join(out, name + ".shp"), "wb") as f:
    f.write(header(50 + len(record) // 2) + record)
with open(os.path.join(out, name + ".shx"), "wb") as f:
    f.write(header(50 + 4) + struct.pack(">2i", 50, len(content) // 2))
# dBASE III: one character field NAAM of 10, one record.
dbf = struct.pack("<B3B I H H 20x", 3, 126, 1, 1, 1, 32 + 32 + 1, 1 + 10)
dbf += b"NAAM".ljust(11, b"\0") + b"C" + b"\0" * 4 + bytes([10, 0]) + b"\0" * 14 + b"\r"
dbf += b" " + b"perceel".ljust(10) + b"\x1a"
with open(os.path.join(out, name + ".dbf"), "wb") as f:
    f.write(dbf)
with open(os.path.join(out, name + ".prj"), "w") as f:
    from osgeo import osr
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(28992)
    srs.MorphToESRI()
    f.write(srs.ExportToWkt())
