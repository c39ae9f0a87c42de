#!/usr/bin/python3
"""Check stapel's warning of claimed area outside every province against
areas computed here with OGR/GEOS, independently of stapel.

    outside_area.py STDERR PROVINCES THEME=SOURCE [THEME=SOURCE ...]

Claims are repaired with MakeValid (STRUCTURE) and reprojected to RD New;
per theme and in all, the area of the union of the claims less the union
of the provinces must be what the warning says, within half a unit of the
last digit it prints, and so must the share of the claimed area.
"""
import re
import sys

from osgeo import ogr, osr

ogr.UseExceptions()
UNIT = {"km\u00b2": 1e6, "ha": 1e4, "m\u00b2": 1.0}


def union_of(source):
    path, _, name = source.partition("|layername=")
    ds = ogr.Open(path)
    layer = ds.GetLayerByName(name) if name else ds.GetLayer(0)
    rd = osr.SpatialReference()
    rd.ImportFromEPSG(28992)
    rd.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    srs = layer.GetSpatialRef()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = None if srs.IsSame(rd) else osr.CoordinateTransformation(srs, rd)
    out = ogr.Geometry(ogr.wkbMultiPolygon)
    for f in layer:
        g = f.GetGeometryRef()
        if g is None or g.IsEmpty():
            continue
        g = g.Clone()
        if ct is not None:
            g.Transform(ct)
        if not g.IsValid():
            g = g.MakeValid(["METHOD=STRUCTURE"])
        out = out.Union(g)
    return out


def close(got, unit_text, want, digits):
    half = 0.5 * 10 ** -digits * UNIT[unit_text]
    return abs(got * UNIT[unit_text] - want) <= half + 1.0


def main():
    err, prov_src = sys.argv[1], sys.argv[2]
    themes = [a.split("=", 1) for a in sys.argv[3:]]
    text = open(err, encoding="utf-8").read()
    m = re.search(r"warning: ([\d.]+) (km\u00b2|ha|m\u00b2) of the claimed area \(([\d.]+) %\) "
                  r"lies outside every province \(.*?\): (.*?); it counts", text)
    if m is None:
        sys.exit("no warning of area outside the provinces in:\n" + text)
    prov = union_of(prov_src)
    by_theme = {}
    for theme, src in themes:
        g = union_of(src)
        by_theme[theme] = by_theme[theme].Union(g) if theme in by_theme else g
    claims = ogr.Geometry(ogr.wkbMultiPolygon)
    for g in by_theme.values():
        claims = claims.Union(g)
    total, outside = claims.GetArea(), claims.Difference(prov).GetArea()
    ok = True
    digits = len(m.group(1).partition(".")[2])
    if not close(float(m.group(1)), m.group(2), outside, digits):
        print("outside: warning says %s %s, computed %.1f m2" % (m.group(1), m.group(2), outside))
        ok = False
    pct_digits = len(m.group(3).partition(".")[2])
    if abs(float(m.group(3)) - 100 * outside / total) > 0.5 * 10 ** -pct_digits + 1e-9:
        print("share: warning says %s %%, computed %.3f %%" % (m.group(3), 100 * outside / total))
        ok = False
    said = {}
    for part in m.group(4).split(", "):
        name, num, unit = part.rsplit(" ", 2)
        said[name] = (num, unit)
    for theme, g in by_theme.items():
        want = g.Difference(prov).GetArea()
        if theme not in said:
            if want >= 0.5:
                print("theme %s: %.1f m2 outside, not in the warning" % (theme, want))
                ok = False
            continue
        num, unit = said.pop(theme)
        if not close(float(num), unit, want, len(num.partition(".")[2])):
            print("theme %s: warning says %s %s, computed %.1f m2" % (theme, num, unit, want))
            ok = False
    if said:
        print("themes in the warning that have no claims outside: %s" % ", ".join(said))
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
