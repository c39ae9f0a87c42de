#!/usr/bin/python3
"""scenario_args.py MANIFEST -- print the `stapel stack` arguments for a scenario manifest.

Prints one argument per line, with absolute paths, so a shell script can do

    mapfile -t args < <(/usr/bin/python3 testdata/scenario_args.py testdata/demo/scenario.json)
    stapel stack -o out.gpkg --overwrite "${args[@]}"

The manifest (written by make_demo.py and gen_national.py) looks like

    {"crs": "EPSG:28992",
     "layers": [{"theme": "nature", "source": "nature.shp"},
                {"theme": "agri", "source": "claims.gpkg|layername=agri"}, ...],
     "provinces": {"source": "provinces.gpkg", "field": "naam"},
     "novex": {"source": "novex.gpkg", "field": "naam"}}

Paths are relative to the manifest's directory; a `|layername=...` suffix is kept,
and sources that are not files (PG:..., /vsi..., URLs) are passed through as they are.
Other keys in a layer entry (features, invalid, ...) are facts for tests and are ignored.
Options whose value equals the CLI default are left out: --province-field and
--novex-field only when the field is not `naam`, --t_srs only when crs is not EPSG:28992.

Options:
  --themes a,b,c   only these claim layers (in manifest order)
  --no-zones       leave out --provinces and --novex
Only the standard library is used.
"""

import json
import os
import sys


def absolute(source, base):
    if source.startswith(("PG:", "/vsi")) or "://" in source:
        return source
    path, sep, rest = source.partition("|")
    return os.path.abspath(os.path.join(base, path)) + sep + rest


def main(argv):
    themes = None
    zones = True
    args = []
    it = iter(argv)
    for a in it:
        if a == "--themes":
            themes = next(it, "").split(",")
        elif a.startswith("--themes="):
            themes = a.split("=", 1)[1].split(",")
        elif a == "--no-zones":
            zones = False
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    if len(args) != 1:
        print("usage: scenario_args.py MANIFEST [--themes a,b] [--no-zones]", file=sys.stderr)
        return 2
    manifest = args[0]
    with open(manifest, encoding="utf-8") as fh:
        m = json.load(fh)
    base = os.path.dirname(os.path.abspath(manifest))
    out = []
    for layer in m["layers"]:
        if themes is not None and layer["theme"] not in themes:
            continue
        out += ["--layer", "%s=%s" % (layer["theme"], absolute(layer["source"], base))]
    if zones:
        for key, opt, fopt in (("provinces", "--provinces", "--province-field"),
                               ("novex", "--novex", "--novex-field")):
            z = m.get(key)
            if not z:
                continue
            out += [opt, absolute(z["source"], base)]
            if z.get("field", "naam") != "naam":
                out += [fopt, z["field"]]
    crs = m.get("crs", "EPSG:28992")
    if crs.upper() != "EPSG:28992":
        out += ["--t_srs", crs]
    sys.stdout.write("".join(a + "\n" for a in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
