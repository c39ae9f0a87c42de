#!/usr/bin/python3
"""Open a stapel output in a real QGIS and check its default styles.

Runs `stapel stack` on the demo, then loads the layers of the GeoPackage with
PyQGIS (headless, QT_QPA_PLATFORM=offscreen) exactly as QGIS does when a user
adds them, and asserts what the user would see:
  - stack: a graduated renderer on n_themes with the classes 1, 2, 3, 4 and
    "5 of meer" in ColorBrewer YlOrRd (the colours are written out here, from
    QGIS.md, not taken from stapel);
  - conflicts: a categorized renderer on verdict with conflict and conditional;
  - provinces and novex: outline only, labelled by the name field.

Python QGIS comes from Debian's python3-qgis (tools/install-deps --extra); if
it is missing, this script runs tools/install-deps --extra once.

Usage: qgis_styles.py STAPEL SCRATCH_DIR
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(ROOT, "testdata", "demo")

YLORRD = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
RANGES = [(1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 4, "4"), (5, None, "5 of meer")]

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def import_qgis():
    try:
        import qgis.core  # noqa: F401
    except ImportError:
        print("python3-qgis is missing; running tools/install-deps --extra", file=sys.stderr)
        subprocess.run([os.path.join(ROOT, "tools", "install-deps"), "--extra"],
                       stdin=subprocess.DEVNULL, check=True)
    import qgis.core
    return qgis.core


def make_output(stapel, scratch):
    os.makedirs(scratch, exist_ok=True)
    out = os.path.join(scratch, "qgis-demo.gpkg")
    args = [stapel, "stack", "-q", "--overwrite", "-o", out,
            "--layer", "nature=" + os.path.join(DEMO, "nature.shp"),
            "--layer", "water=" + os.path.join(DEMO, "water.gpkg"),
            "--layer", "agri=" + os.path.join(DEMO, "claims.gpkg") + "|layername=agri",
            "--layer", "housing=" + os.path.join(DEMO, "claims.gpkg") + "|layername=housing",
            "--layer", "infra=" + os.path.join(DEMO, "claims.gpkg") + "|layername=infra",
            "--layer", "wind=" + os.path.join(DEMO, "wind.geojson"),
            "--layer", "solar=" + os.path.join(DEMO, "solar.shp"),
            "--provinces", os.path.join(DEMO, "provinces.gpkg"),
            "--novex", os.path.join(DEMO, "novex.gpkg")]
    subprocess.run(args, check=True)
    return out


def main():
    stapel, scratch = sys.argv[1:3]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("XDG_RUNTIME_DIR", os.path.join(scratch, "xdg-runtime"))
    os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
    gpkg = make_output(os.path.abspath(stapel), scratch)
    core = import_qgis()
    core.QgsApplication.setPrefixPath("/usr", True)
    app = core.QgsApplication([], False)
    app.initQgis()

    def layer(name):
        lyr = core.QgsVectorLayer(gpkg + "|layername=" + name, name, "ogr")
        check(lyr.isValid(), name + ": opens in QGIS")
        return lyr

    stack = layer("stack")
    r = stack.renderer()
    check(r.type() == "graduatedSymbol", "stack: renderer is graduatedSymbol (got %s)" % r.type())
    if r.type() == "graduatedSymbol":
        check(r.classAttribute() == "n_themes", "stack: graduated on n_themes")
        ranges = r.ranges()
        check(len(ranges) == 5, "stack: 5 classes (got %d)" % len(ranges))
        for rng, (lo, hi, label), colour in zip(ranges, RANGES, YLORRD):
            check(rng.lowerValue() == lo, "stack: class %s starts at %s" % (label, lo))
            if hi is not None:
                check(rng.upperValue() == hi, "stack: class %s ends at %s" % (label, hi))
            else:
                # open-ended: up to the most an integer field holds (with 9999
                # a face of 10000 claims fell outside every class)
                check(rng.upperValue() >= 2**31 - 1,
                      "stack: class %s is open-ended (upper %s)" % (label, rng.upperValue()))
            check(rng.label() == label, "stack: class label %r (got %r)" % (label, rng.label()))
            got = rng.symbol().color().name()
            check(got == colour, "stack: class %s colour %s (got %s)" % (label, colour, got))
        sl = ranges[0].symbol().symbolLayer(0)
        check(abs(sl.strokeWidth() - 0.1) < 1e-9, "stack: thin outline (0.1 mm)")
        c = sl.strokeColor()
        check(c.red() == c.green() == c.blue(), "stack: grey outline")
    names = stack.listStylesInDatabase()
    check(names[0] >= 3, "stack: three styles to choose from in the database")

    conflicts = layer("conflicts")
    r = conflicts.renderer()
    check(r.type() == "categorizedSymbol",
          "conflicts: renderer is categorizedSymbol (got %s)" % r.type())
    if r.type() == "categorizedSymbol":
        check(r.classAttribute() == "verdict", "conflicts: categorized on verdict")
        cats = {c.value(): c for c in r.categories()}
        check(set(cats) == {"conflict", "conditional"},
              "conflicts: categories conflict and conditional (got %s)" % sorted(cats))
        if "conflict" in cats:
            col = cats["conflict"].symbol().color()
            check(col.red() > 200 and col.green() < 80, "conflicts: conflict is red")
        if "conditional" in cats:
            col = cats["conditional"].symbol().color()
            check(col.red() > 200 and 90 < col.green() < 180 and col.blue() < 60,
                  "conflicts: conditional is orange")
            sym = cats["conditional"].symbol()
            see_through = any(sym.symbolLayer(i).color().alpha() < 255 or
                              sym.symbolLayer(i).brushStyle() != 1
                              for i in range(sym.symbolLayerCount()))
            check(see_through, "conflicts: the stack shows through (transparent or hatched)")

    for name in ("provinces", "novex"):
        lyr = layer(name)
        r = lyr.renderer()
        check(r.type() == "singleSymbol", name + ": single symbol")
        if r.type() == "singleSymbol":
            sl = r.symbol().symbolLayer(0)
            check(sl.brushStyle() == 0, name + ": outline only (no fill)")
        check(lyr.labelsEnabled(), name + ": labels enabled")
        if lyr.labeling() is not None:
            field = lyr.labeling().settings().fieldName
            check(field == "naam", name + ": labelled by naam (got %r)" % field)

    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    shutil.rmtree(os.environ["XDG_RUNTIME_DIR"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    rc = main()
    # Leave without QgsApplication.exitQgis() and Python's teardown: QGIS 3.22
    # crashes in its destructors when the layers are freed after the
    # application (and whenever MALLOC_PERTURB_, which meson sets, is on).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
