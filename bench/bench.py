#!/usr/bin/python3
"""bench.py -- the body of `make bench` (issue 6); run it through bench/run.

For each scale (1 and 10; 100 with BENCH_BIG=1) it generates the national
scenario with testdata/gen_national.py into bench/out/national-S, prepares the
peers' inputs (untimed), then runs BENCH_ROUNDS (3) interleaved rounds of

  stapel     build/cli/stapel stack -q with --provinces and --novex
  mapshaper  mapshaper -mosaic calc='n=count()' on all claims in one GeoJSON (EPSG:28992)
  postgis    the overlay recipe in bench/postgis_recipe.sql (only at BENCH_PG_SCALES, default 1)
  readfloor  bench/readfloor.c: read every input geometry with GDAL, convert it to GEOS
  readproj   the same, reprojecting every geometry to EPSG:28992 first (information:
             the read floor leaves out the reprojection that stapel must do)

and reports per tool the median wall time, the peak RSS, the faces out and the
accuracy Sum(face area x n) / Sum(claim area) - 1, where Sum(claim area) is the
sum of the areas of the repaired claims as testdata/oracle/check_stack.py reads
them. The table, the machine and the issue-6 targets (met / not met, computed
from the numbers) go to docs/PERFORMANCE.md, and to stdout.

A tool that fails (exit status, timeout, missing) is reported as failed; the
bench goes on. Only /usr/bin/python3 with osgeo and the standard library.
"""

import datetime
import hashlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from osgeo import gdal, ogr

gdal.UseExceptions()
ogr.UseExceptions()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
CACHE = os.path.join(ROOT, "bench", "cache")
GEN = os.path.join(ROOT, "testdata", "gen_national.py")
SCENARIO_ARGS = os.path.join(ROOT, "testdata", "scenario_args.py")
ORACLE_DIR = os.path.join(ROOT, "testdata", "oracle")
RECIPE = os.path.join(ROOT, "bench", "postgis_recipe.sql")
PY = "/usr/bin/python3"
SEED = 1

TOOLS = ("stapel", "mapshaper", "postgis", "readfloor", "readproj")
LABEL = {"stapel": "stapel", "mapshaper": "mapshaper -mosaic", "postgis": "PostGIS recipe",
         "readfloor": "read floor", "readproj": "read + reproject floor"}
FLOORS = ("readfloor", "readproj")


def env_list(name, default):
    v = os.environ.get(name)
    if v is None or not v.strip():
        return default
    return [float(x) if "." in x else int(x) for x in v.replace(",", " ").split()]


BIG = os.environ.get("BENCH_BIG", "") not in ("", "0")
SCALES = env_list("BENCH_SCALES", [1, 10, 100] if BIG else [1, 10])
PG_SCALES = env_list("BENCH_PG_SCALES", [1])
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "1800"))
DOC = os.path.join(ROOT, os.environ.get("BENCH_OUT", "docs/PERFORMANCE.md"))
MS_DIR = os.environ.get("BENCH_MAPSHAPER_DIR", os.path.join(CACHE, "node_modules", "mapshaper"))
MS_VERSION = os.environ.get("BENCH_MAPSHAPER_VERSION", "?")
READFLOOR = os.environ.get("BENCH_READFLOOR", os.path.join(CACHE, "readfloor"))
PG_BIN = os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin")
SHARDS = int(os.environ.get("BENCH_SHARDS", "4"))
SHARD_SCALES = env_list("BENCH_SHARD_SCALES", [10])
PG_DIR = os.path.join(CACHE, "pg")
PG_DATA = os.path.join(PG_DIR, "data")
PG_PORT = 54329
PREP_FAILED = dict(line.split("=", 1) for line in
                   os.environ.get("BENCH_PREP_FAILURES", "").splitlines() if "=" in line)
if "readfloor" in PREP_FAILED:  # one program makes both floors
    PREP_FAILED.setdefault("readproj", PREP_FAILED["readfloor"])

# issue 6 thresholds
T_MAPSHAPER = 0.5     # stapel wall <= 0.5 x mapshaper at scale 10
T_FLOOR = 3.0         # stapel wall <= 3 x read floor at scale 10
T_MEM_BIG = 4e9       # stapel peak RSS <= 4 GB at scale 100 (10^9 bytes, the stricter reading)
DESIGN_REL = 1e-6     # the design's area-conservation invariant
BUSY = 0.25           # other processes using more cores than this: the report says so
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "30"))  # s to wait for a quiet machine per run


def log(msg):
    # A closed stderr (bench/run | head) must not stop the bench before it has
    # stopped its PostgreSQL cluster: the message is dropped instead.
    try:
        print("bench: " + msg, file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass


def rel(path):
    return os.path.relpath(path, ROOT)


def sh_join(cmd):
    """A command line for the report, with paths relative to the repository."""
    out = []
    for a in cmd:
        a = a.replace(ROOT + "/", "")
        out.append(shlex.quote(a))
    return " ".join(out)


def scale_name(s):
    return ("%g" % s)


# --------------------------------------------------------------------------
# running one command, measured

class Run:
    def __init__(self, ok, wall, rss_kb, out, err, reason=None, cpu=None, busy=None):
        self.ok, self.wall, self.rss_kb, self.out, self.err = ok, wall, rss_kb, out, err
        self.reason = reason
        self.cpu = cpu    # user + system seconds of the measured process (and its children)
        self.busy = busy  # CPU seconds the whole machine was busy meanwhile (/proc/stat)

    def other_load(self):
        """Cores used by everything else while this run went on (other users' jobs)."""
        if self.wall is None or self.cpu is None or self.busy is None or self.wall <= 0:
            return None
        return max(0.0, (self.busy - self.cpu) / self.wall)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_busy():
    """CPU seconds all cores have been busy since boot."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] if len(f) > 7 else 0)) / CLK_TCK


def tail(text, n=3):
    """The gist of a failed command's output: its error lines, or its last lines."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    errs = [ln for ln in lines if re.search(r"error|fatal|cannot|failed", ln, re.I)]
    return " / ".join((errs or lines)[-n:])[-300:]


def wait_quiet():
    """On a shared machine, wait (at most QUIET_WAIT s) until the other processes use
    less than BUSY cores, so a run does not start in the middle of someone's build.
    Returns the seconds waited."""
    waited = 0.0
    while True:
        b0 = machine_busy()
        time.sleep(0.5)
        b1 = machine_busy()
        if b0 is None or b1 is None or (b1 - b0) / 0.5 < BUSY or waited >= QUIET_WAIT:
            return waited
        waited += 0.5


def run_measured(cmd, env=None, timeout=TIMEOUT, cwd=ROOT, extra_cpu=None):
    """Run cmd under /usr/bin/time -v; wall time from time.monotonic around it.
    extra_cpu(settle): CPU seconds of other processes that work for cmd (a server),
    read before and after the run and added to the run's CPU time."""
    x0 = extra_cpu(False) if extra_cpu else None
    tfile = os.path.join(OUT, ".time-%d.txt" % os.getpid())
    full = ["/usr/bin/time", "-v", "-o", tfile] + cmd
    b0 = machine_busy()
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                             text=True, start_new_session=True)
    except OSError as e:
        return Run(False, None, None, "", "", "cannot start: %s" % e)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # the group of the process we started
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        return Run(False, None, None, out, err, "timed out after %g s" % timeout)
    wall = time.monotonic() - t0
    b1 = machine_busy()
    x1 = extra_cpu(True) if extra_cpu else None
    rss = cpu = None
    try:
        with open(tfile) as fh:
            tv = fh.read()
        os.unlink(tfile)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
        rss = int(m.group(1)) if m else None
        u = re.search(r"User time \(seconds\): ([\d.]+)", tv)
        k = re.search(r"System time \(seconds\): ([\d.]+)", tv)
        cpu = float(u.group(1)) + float(k.group(1)) if u and k else None
    except OSError:
        pass
    if cpu is not None and x0 is not None and x1 is not None:
        cpu += x1 - x0
    busy = b1 - b0 if b0 is not None and b1 is not None else None
    if p.returncode != 0:
        return Run(False, wall, rss, out, err, "exit status %d: %s" % (p.returncode, tail(err) or tail(out)),
                   cpu=cpu, busy=busy)
    return Run(True, wall, rss, out, err, cpu=cpu, busy=busy)


def run_plain(cmd, what, env=None, timeout=TIMEOUT, check=True, **kw):
    """An untimed helper step; raises RuntimeError with its stderr on failure."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                           timeout=timeout, cwd=kw.get("cwd", ROOT))
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RuntimeError("%s: %s" % (what, e))
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit status %d: %s" % (what, p.returncode, tail(p.stderr) or tail(p.stdout)))
    return p


# --------------------------------------------------------------------------
# data

def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()


def generate(scale):
    """The scenario at this scale, regenerated only when the generator changed."""
    d = os.path.join(OUT, "national-%s" % scale_name(scale))
    stamp_path = os.path.join(d, ".stamp")
    stamp = "%s scale=%s seed=%d gdal=%s" % (file_sha(GEN), scale_name(scale), SEED, gdal.__version__)
    manifest = os.path.join(d, "scenario.json")
    try:
        with open(stamp_path) as fh:
            if fh.read() == stamp and os.path.exists(manifest):
                log("scale %s: scenario up to date in %s" % (scale_name(scale), rel(d)))
                return d, stamp
    except OSError:
        pass
    if os.path.isdir(d):
        shutil.rmtree(d)
    log("scale %s: generating the scenario into %s" % (scale_name(scale), rel(d)))
    p = run_plain([PY, GEN, "--scale", scale_name(scale), "--seed", str(SEED), "--out", d],
                  "gen_national.py", timeout=4 * 3600)
    log(tail(p.stderr, 1))
    with open(stamp_path, "w") as fh:
        fh.write(stamp)
    return d, stamp


def cached(d, name, stamp, make):
    """JSON result of make(), cached in d/name.json under stamp."""
    path = os.path.join(d, name + ".json")
    try:
        with open(path) as fh:
            c = json.load(fh)
        if c.get("stamp") == stamp:
            return c["value"]
    except (OSError, ValueError, KeyError):
        pass
    v = make()
    with open(path, "w") as fh:
        json.dump({"stamp": stamp, "value": v}, fh)
    return v


def stapel_args(manifest):
    p = run_plain([PY, SCENARIO_ARGS, manifest], "scenario_args.py")
    return p.stdout.splitlines()


def claim_sources(manifest):
    """[(theme, path, layername or None)] from the manifest, absolute paths."""
    with open(manifest) as fh:
        m = json.load(fh)
    base = os.path.dirname(manifest)
    out = []
    for layer in m["layers"]:
        path, _, lname = layer["source"].partition("|layername=")
        out.append((layer["theme"], os.path.join(base, path), lname or None))
    zones = [os.path.join(base, m[k]["source"]) for k in ("provinces", "novex") if m.get(k)]
    return out, zones


def reference_area(manifest):
    """Sum of the areas of the claims as the independent oracle reads them:
    reprojected to EPSG:28992, invalid ones repaired (MakeValid STRUCTURE),
    empty ones skipped."""
    sys.path.insert(0, ORACLE_DIR)
    try:
        import check_stack as cs
    finally:
        sys.path.pop(0)
    with open(manifest) as fh:
        m = json.load(fh)
    base = os.path.dirname(manifest)
    tgt = cs.make_srs(m.get("crs", "EPSG:28992"))
    total, claims, repaired = 0.0, 0, 0
    for layer in m["layers"]:
        items, st = cs.read_polygons(layer["source"], base, tgt, None, "claim layer")
        total += math.fsum(g.GetArea() for _, g, _ in items)
        claims += len(items)
        repaired += st["repaired"]
    return {"area": total, "claims": claims, "repaired": repaired}


def merge_claims(d, manifest):
    """All claims, reprojected to EPSG:28992, in one GeoPackage layer (for PostGIS)
    and one GeoJSON (for mapshaper), with ogr2ogr. Fields: theme, src_fid."""
    gpkg = os.path.join(d, "claims-28992.gpkg")
    geojson = os.path.join(d, "claims-28992.geojson")
    for f in (gpkg, geojson):
        if os.path.exists(f):
            os.unlink(f)
    sources, _ = claim_sources(manifest)
    for k, (theme, path, lname) in enumerate(sources):
        if not lname:
            ds = ogr.Open(path)
            lname = ds.GetLayer(0).GetName()
            ds = None
        sql = "SELECT '%s' AS theme, FID AS src_fid FROM \"%s\"" % (theme, lname)
        cmd = ["ogr2ogr", "-f", "GPKG", gpkg, path, "-dialect", "OGRSQL", "-sql", sql,
               "-nln", "claims", "-nlt", "MULTIPOLYGON", "-t_srs", "EPSG:28992", "-gt", "65536"]
        if k:
            cmd.insert(1, "-append")
        run_plain(cmd, "ogr2ogr %s" % theme)
    run_plain(["ogr2ogr", "-f", "GeoJSON", geojson, gpkg, "claims",
               "-lco", "RFC7946=NO", "-lco", "COORDINATE_PRECISION=6"], "ogr2ogr GeoJSON")
    return {"gpkg": gpkg, "geojson": geojson}


# --------------------------------------------------------------------------
# accuracy: Sum(face area x n) for each tool's output

def sum_area_n_gpkg_fields(path, layer, n_field, area_field):
    ds = ogr.Open(path)
    lyr = ds.GetLayerByName(layer)
    defn = lyr.GetLayerDefn()
    keep = {n_field, area_field}
    lyr.SetIgnoredFields([defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())
                          if defn.GetFieldDefn(i).GetName() not in keep] + ["OGR_GEOMETRY"])
    terms, faces = [], 0
    for f in lyr:
        n = f.GetFieldAsInteger(n_field)
        if n > 0:
            faces += 1
            terms.append(f.GetFieldAsDouble(area_field) * n)
    return faces, math.fsum(terms)


def sum_area_n_geometry(path, n_field):
    ds = ogr.Open(path)
    lyr = ds.GetLayer(0)
    terms, faces = [], 0
    for f in lyr:
        g = f.GetGeometryRef()
        n = f.GetFieldAsInteger(n_field) if f.IsFieldSetAndNotNull(n_field) else 0
        if g is None or n <= 0:
            continue
        faces += 1
        terms.append(g.GetArea() * n)
    return faces, math.fsum(terms)


# --------------------------------------------------------------------------
# PostgreSQL cluster (private, unix socket in bench/cache/pg)

class Postgres:
    def __init__(self):
        self.started = False
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.version = None

    def _pg(self, tool, *args, **kw):
        return run_plain(self.as_user + [os.path.join(PG_BIN, tool)] + list(args), tool, **kw)

    def conninfo(self, db):
        return "host=%s port=%d user=postgres dbname=%s" % (PG_DIR, PG_PORT, db)

    def start(self):
        global PG_DIR, PG_DATA
        if PREP_FAILED.get("postgis"):
            raise RuntimeError(PREP_FAILED["postgis"])
        os.makedirs(PG_DIR, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(PG_DIR, "postgres", "postgres")
            # The server runs as postgres, which may not reach a clone in a
            # private home (/root is mode 700): then a fresh cluster in /tmp.
            if run_plain(self.as_user + ["test", "-w", PG_DIR, "-a", "-x", PG_DIR], "access",
                         check=False).returncode != 0:
                PG_DIR = tempfile.mkdtemp(prefix="stapel-bench-pg.")
                PG_DATA = os.path.join(PG_DIR, "data")
                shutil.chown(PG_DIR, "postgres", "postgres")
                log("postgres cannot reach bench/cache/pg; the cluster goes in %s" % PG_DIR)
        if not os.path.exists(os.path.join(PG_DATA, "PG_VERSION")):
            if os.path.isdir(PG_DATA):
                shutil.rmtree(PG_DATA)
            log("initdb %s" % rel(PG_DATA))
            self._pg("initdb", "-D", PG_DATA, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                     "--no-locale", timeout=300)
        st = self._pg("pg_ctl", "-D", PG_DATA, "status", check=False)
        if st.returncode != 0:
            log("starting PostgreSQL on %s/.s.PGSQL.%d" % (rel(PG_DIR), PG_PORT))
            self._pg("pg_ctl", "-D", PG_DATA, "-l", os.path.join(PG_DIR, "server.log"), "-w", "-t", "120",
                     "-o", "-c listen_addresses='' -c unix_socket_directories='%s' -p %d" % (PG_DIR, PG_PORT),
                     "start", timeout=180)
        self.started = True
        self.version = self.psql("postgres", "SELECT split_part(version(), ' ', 2)").strip()

    def stop(self):
        if self.started:
            log("stopping PostgreSQL")
            try:
                self._pg("pg_ctl", "-D", PG_DATA, "-m", "fast", "-w", "stop", timeout=120)
            except RuntimeError as e:
                log("pg_ctl stop: %s" % e)
            self.started = False
            if os.path.basename(PG_DIR).startswith("stapel-bench-pg."):  # the /tmp fallback
                shutil.rmtree(PG_DIR, ignore_errors=True)

    def psql(self, db, sql):
        p = run_plain(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", PG_DIR, "-p",
                       str(PG_PORT), "-U", "postgres", "-d", db, "-c", sql], "psql")
        return p.stdout

    def prepare(self, db, gpkg):
        """A fresh database with the claims loaded (untimed)."""
        self.psql("postgres", "DROP DATABASE IF EXISTS %s" % db)
        self.psql("postgres", "CREATE DATABASE %s" % db)
        self.psql(db, "CREATE EXTENSION postgis")
        run_plain(["ogr2ogr", "-f", "PostgreSQL", "PG:" + self.conninfo(db), gpkg, "claims",
                   "-nln", "claims", "-nlt", "MULTIPOLYGON", "-lco", "GEOMETRY_NAME=geom",
                   "-lco", "FID=id", "--config", "PG_USE_COPY", "YES"], "ogr2ogr to PostGIS")
        self.psql(db, "VACUUM ANALYZE claims")
        return self.psql(db, "SELECT postgis_lib_version() || ' (GEOS ' || postgis_geos_version() || ')'").strip()

    def server_cpu(self, settle):
        """User + system seconds of the postmaster and its exited children (backends
        and parallel workers are reaped into cutime/cstime). With settle, wait until
        the backend of the finished psql has been reaped (the total stops changing)."""
        def read():
            try:
                with open(os.path.join(PG_DATA, "postmaster.pid")) as fh:
                    pid = int(fh.readline())
                with open("/proc/%d/stat" % pid) as fh:
                    f = fh.read().rsplit(")", 1)[1].split()
                return sum(int(x) for x in f[11:15]) / CLK_TCK  # utime stime cutime cstime
            except (OSError, ValueError, IndexError):
                return None
        v = read()
        if settle:
            for _ in range(40):
                time.sleep(0.05)
                w = read()
                if w == v:
                    break
                v = w
        return v

    def recipe_cmd(self, db):
        return ["psql", "-X", "-q", "-h", PG_DIR, "-p", str(PG_PORT), "-U", "postgres", "-d", db,
                "-f", RECIPE]


# --------------------------------------------------------------------------
# one scale

def median(xs):
    return statistics.median(xs) if xs else None


def bench_shards(cmd, d, stapel_bin):
    """Run cmd as SHARDS shards and merge them; walls and peak RSS, or the failure."""
    out = {"n": SHARDS, "shards": [], "merge": None}
    o = cmd.index("-o")
    parts = []
    for i in range(1, SHARDS + 1):
        part = os.path.join(d, "shard-%d.gpkg" % i)
        parts.append(part)
        wait_quiet()
        run = run_measured(cmd[:o + 1] + [part] + cmd[o + 2:] + ["--shard", "%d/%d" % (i, SHARDS)])
        if not run.ok:
            out["failed"] = "shard %d/%d: %s" % (i, SHARDS, run.reason)
            return out
        out["shards"].append((run.wall, run.rss_kb))
    wait_quiet()
    run = run_measured([stapel_bin, "merge", "-q", "--overwrite", "-o",
                        os.path.join(d, "merged.gpkg")] + parts)
    if not run.ok:
        out["failed"] = "merge: %s" % run.reason
        return out
    out["merge"] = (run.wall, run.rss_kb)
    log("scale %s: %d shards %s s, merge %.2f s %.0f MB" % (
        d, SHARDS, " ".join("%.2f" % w for w, _ in out["shards"]), run.wall, (run.rss_kb or 0) / 1024.0))
    return out


def bench_scale(scale, pg, machine):
    s = scale_name(scale)
    res = {"scale": scale, "tools": {}, "notes": []}
    tools = res["tools"]
    for t in TOOLS:
        tools[t] = {"runs": [], "failed": None, "cmd": None, "faces": None, "sum_an": None}
    if scale not in PG_SCALES:
        tools["postgis"]["failed"] = "not run at this scale (the recipe runs at scale %s)" % \
            ", ".join(scale_name(x) for x in PG_SCALES)
        tools["postgis"]["skipped"] = True
    for t in TOOLS:
        if PREP_FAILED.get(t) and not tools[t]["failed"]:
            tools[t]["failed"] = PREP_FAILED[t]

    try:
        d, stamp = generate(scale)
    except RuntimeError as e:
        for t in TOOLS:
            tools[t]["failed"] = tools[t]["failed"] or "no data: %s" % e
        res["error"] = str(e)
        return res
    manifest = os.path.join(d, "scenario.json")

    # inputs of the peers and the reference area (untimed, cached)
    try:
        res["ref"] = cached(d, "reference", stamp, lambda: reference_area(manifest))
    except Exception as e:  # the oracle could not read the data: no accuracy
        res["ref"] = None
        res["notes"].append("reference area failed: %s" % e)
    merged = None
    try:
        merged = cached(d, "merged", stamp + " v2", lambda: merge_claims(d, manifest))
        if not all(os.path.exists(p) for p in merged.values()):
            merged = merge_claims(d, manifest)
    except Exception as e:
        for t in ("mapshaper", "postgis"):
            tools[t]["failed"] = tools[t]["failed"] or "preparing the merged claims failed: %s" % e

    # commands
    stapel_bin = machine.get("stapel_bin")
    stapel_out = os.path.join(d, "stapel.gpkg")
    try:
        sargs = stapel_args(manifest)
    except RuntimeError as e:
        sargs = None
        tools["stapel"]["failed"] = tools["stapel"]["failed"] or str(e)
    if sargs is not None:
        tools["stapel"]["cmd"] = [stapel_bin or "build/cli/stapel", "stack", "-q", "--overwrite", "-o",
                                  stapel_out] + sargs
        tools["stapel"]["shown"] = ["build/cli/stapel"] + tools["stapel"]["cmd"][1:]
        if not stapel_bin and not tools["stapel"]["failed"]:
            tools["stapel"]["failed"] = "build/cli/stapel is missing"
    ms_out = os.path.join(d, "mapshaper-mosaic.json")
    ms_bin = "mapshaper-xl" if scale >= 100 else "mapshaper"
    if merged:
        tools["mapshaper"]["cmd"] = ["node", os.path.join(MS_DIR, "bin", ms_bin), merged["geojson"], "-mosaic",
                                     "calc=n=count()", "-o", ms_out, "format=geojson"]
        tools["mapshaper"]["shown"] = [ms_bin, merged["geojson"], "-mosaic", "calc=n=count()", "-o",
                                       ms_out, "format=geojson"]
    sources, zones = claim_sources(manifest)
    tools["readfloor"]["cmd"] = [READFLOOR] + ["%s|layername=%s" % (p, ln) if ln else p
                                               for _, p, ln in sources] + zones
    tools["readproj"]["cmd"] = [READFLOOR, "--t_srs", "EPSG:28992"] + tools["readfloor"]["cmd"][1:]
    db = "bench_s%s" % s.replace(".", "_")
    if not tools["postgis"]["failed"] and merged:
        try:
            if not pg.started:
                pg.start()
            log("scale %s: loading the claims into PostGIS (untimed)" % s)
            res["postgis_version"] = pg.prepare(db, merged["gpkg"])
            tools["postgis"]["cmd"] = pg.recipe_cmd(db)
            tools["postgis"]["shown"] = ["psql", "-d", db, "-f", "bench/postgis_recipe.sql"]
        except RuntimeError as e:
            tools["postgis"]["failed"] = "PostgreSQL/PostGIS: %s" % e

    # interleaved rounds; the order rotates so no tool always runs first
    order = [t for t in TOOLS if tools[t]["cmd"] and not tools[t]["failed"]]
    for r in range(ROUNDS):
        k = r % len(order) if order else 0
        for t in order[k:] + order[:k]:
            tt = tools[t]
            if tt["failed"]:
                continue
            waited = wait_quiet()
            if waited:
                log("waited %.1f s for the machine to quieten down" % waited)
                res["waited"] = res.get("waited", 0.0) + waited
            run = run_measured(tt["cmd"], extra_cpu=pg.server_cpu if t == "postgis" else None)
            if run.ok and t == "postgis":
                m = re.search(r"vmhwm_kb=(\d+)", run.out)
                run.rss_kb = int(m.group(1)) if m else None  # the backend, not psql
            if run.ok and t == "readfloor":
                m = re.search(r"(\d+) layers, (\d+) features, (\d+) geometries, (\d+) vertices", run.out)
                if m:
                    res["input"] = dict(layers=int(m.group(1)), features=int(m.group(2)),
                                        geometries=int(m.group(3)), vertices=int(m.group(4)))
            tt["runs"].append(run)
            if run.ok:
                ol = run.other_load()
                log("scale %s round %d: %-9s %7.2f s %8.0f MB  cpu %7.2f s  other load %s" % (
                    s, r + 1, t, run.wall, (run.rss_kb or 0) / 1024.0, run.cpu or 0,
                    "?" if ol is None else "%.2f cores" % ol))
            else:
                tt["failed"] = "round %d: %s" % (r + 1, run.reason)
                log("scale %s round %d: %-9s FAILED: %s" % (s, r + 1, t, run.reason))

    # stapel's own phase times: one more, untimed run with -v instead of -q
    st = tools["stapel"]
    if st["cmd"] and not st["failed"] and os.environ.get("BENCH_PHASES", "1") != "0":
        cmd = [("-v" if a == "-q" else a) for a in st["cmd"]]
        run = run_measured(cmd)
        lines = [ln.strip() for ln in (run.err or "").splitlines()
                 if re.search(r"\d tiles;|read [\d.]+ s", ln)]
        if run.ok and lines:
            res["phases"] = lines[-1].replace("stapel: stack: ", "")
            res["phases_wall"] = run.wall

    # shards: the same run as SHARDS shards, one after another, then merged
    # (once, outside the rounds): what splitting costs, for the user guide
    if st["cmd"] and not st["failed"] and scale in SHARD_SCALES:
        res["shards"] = bench_shards(st["cmd"], d, stapel_bin or "build/cli/stapel")

    # outputs: faces and Sum(area x n), the same way for every tool (untimed)
    for t, how in (("stapel", lambda: sum_area_n_gpkg_fields(stapel_out, "stack", "n_claims", "area_m2")),
                   ("mapshaper", lambda: sum_area_n_geometry(ms_out, "n")),
                   ("postgis", lambda: tuple(float(x) for x in pg.psql(
                       db, "SELECT count(*) FILTER (WHERE n > 0), sum(ST_Area(geom) * n) FROM counted")
                       .strip().split("|")))):
        tt = tools[t]
        if tt["failed"] or not tt["runs"]:
            continue
        try:
            faces, san = how()
            tt["faces"], tt["sum_an"] = int(faces), san
        except Exception as e:
            tt["accuracy_error"] = str(e)
    for t in TOOLS:
        tt = tools[t]
        ok = [r for r in tt["runs"] if r.ok]
        tt["wall"] = median([r.wall for r in ok]) if not tt["failed"] else None
        tt["rss_kb"] = max([r.rss_kb for r in ok if r.rss_kb] or [0]) or None if not tt["failed"] else None
        tt["n_runs"] = len(ok)
        cpus = [r.cpu for r in ok if r.cpu is not None]
        tt["cpu"] = median(cpus) if cpus and not tt["failed"] else None
        loads = [r.other_load() for r in ok if r.other_load() is not None]
        tt["other_load"] = median(loads) if loads and not tt["failed"] else None
        tt["best"] = min([r.wall for r in ok]) if ok and not tt["failed"] else None
        # runs shorter than a second measure the load too coarsely to judge it
        tt["long"] = bool(ok) and median([r.wall for r in ok]) >= 1.0
    return res


# --------------------------------------------------------------------------
# machine

def read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def cmd_out(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine_info():
    m = {}
    cpu = re.search(r"^model name\s*:\s*(.+)$", read("/proc/cpuinfo"), re.M)
    m["cpu"] = cpu.group(1).strip() if cpu else platform.processor() or "?"
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", read("/proc/cpuinfo"), re.M)
    m["mhz"] = float(mhz.group(1)) if mhz else None
    m["cores"] = os.cpu_count()
    mem = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo"), re.M)
    m["ram_gib"] = int(mem.group(1)) / 1024.0 / 1024.0 if mem else None
    osr_ = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', read("/etc/os-release"), re.M))
    m["os"] = "%s (Debian %s), kernel %s" % (osr_.get("PRETTY_NAME", "?"), read("/etc/debian_version").strip(),
                                             platform.release())
    m["gdal"] = gdal.__version__
    m["geos"] = cmd_out(["geos-config", "--version"]) or "?"
    m["proj"] = cmd_out(["pkg-config", "--modversion", "proj"]) or "?"
    m["node"] = cmd_out(["node", "--version"]) or "?"
    m["mapshaper"] = (cmd_out(["node", os.path.join(MS_DIR, "bin", "mapshaper"), "-v"])
                      or "(not installed)")
    head = cmd_out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or "?"
    dirty = cmd_out(["git", "-C", ROOT, "status", "--porcelain", "--", "engine", "cli"])
    m["stapel_git"] = head + (" + uncommitted changes in engine/ or cli/" if dirty else "")
    src = os.path.join(ROOT, "build", "cli", "stapel")
    if os.path.exists(src):
        # a private copy, so a rebuild by someone else during the bench cannot mix binaries
        os.makedirs(CACHE, exist_ok=True)
        dst = os.path.join(CACHE, "stapel")
        shutil.copy2(src, dst)
        m["stapel_bin"] = dst
        m["stapel_built"] = datetime.datetime.fromtimestamp(os.path.getmtime(src)).strftime("%Y-%m-%d %H:%M")
        m["stapel_sha"] = file_sha(dst)[:12]
    return m


# --------------------------------------------------------------------------
# report

def fmt_s(x):
    if x is None:
        return "—"
    return "%.2f" % x if x < 100 else "%.0f" % x


def fmt_mb(kb):
    return "—" if kb is None else "%.0f" % (kb / 1024.0)


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return "%.2f" % (a / b) if a / b < 100 else "%.0f" % (a / b)


def rel_err(tt, ref):
    if tt.get("sum_an") is None or not ref:
        return None
    return tt["sum_an"] / ref["area"] - 1.0


def fmt_err(e):
    return "—" if e is None else "%+.1e" % e


def targets(results):
    """[(target, scale, measured, verdict)] for issue 6 (and the area-conservation invariant)."""
    by = {r["scale"]: r for r in results}
    rows = []

    def tool(scale, t, key):
        r = by.get(scale)
        return None if r is None else r["tools"][t].get(key)

    def verdict(ok):
        return "**met**" if ok else "**not met**"

    def need(scale, *vals):
        if scale not in by:
            return "not measured (scale %s not run%s)" % (scale_name(scale),
                                                          "; set BENCH_BIG=1" if scale == 100 else "")
        if any(v is None for v in vals):
            return "not measured (a tool failed)"
        return None

    st, ms = tool(10, "stapel", "wall"), tool(10, "mapshaper", "wall")
    miss = need(10, st, ms)
    rows.append(("stapel wall time ≤ 0.5 × mapshaper", "10",
                 miss or "%s s vs %s s: %s×" % (fmt_s(st), fmt_s(ms), fmt_ratio(st, ms)),
                 miss and "not measured" or verdict(st <= T_MAPSHAPER * ms)))
    fl = tool(10, "readfloor", "wall")
    miss = need(10, st, fl)
    rows.append(("stapel wall time ≤ 3 × read floor", "10",
                 miss or "%s s vs %s s: %s×" % (fmt_s(st), fmt_s(fl), fmt_ratio(st, fl)),
                 miss and "not measured" or verdict(st <= T_FLOOR * fl)))
    fp = tool(10, "readproj", "wall")
    miss = need(10, st, fp)
    rows.append(("information, not a target: stapel wall time ÷ read + reproject floor", "10",
                 miss or "%s s vs %s s: %s×" % (fmt_s(st), fmt_s(fp), fmt_ratio(st, fp)), "—"))
    sr, mr = tool(10, "stapel", "rss_kb"), tool(10, "mapshaper", "rss_kb")
    miss = need(10, sr, mr)
    rows.append(("stapel peak RSS < mapshaper", "10",
                 miss or "%s MB vs %s MB: %s×" % (fmt_mb(sr), fmt_mb(mr), fmt_ratio(sr, mr)),
                 miss and "not measured" or verdict(sr < mr)))
    st1, ms1 = tool(1, "stapel", "wall"), tool(1, "mapshaper", "wall")
    miss = need(1, st1, ms1)
    rows.append(("stapel wall time < mapshaper", "1",
                 miss or "%s s vs %s s: %s×" % (fmt_s(st1), fmt_s(ms1), fmt_ratio(st1, ms1)),
                 miss and "not measured" or verdict(st1 < ms1)))
    r100 = tool(100, "stapel", "rss_kb")
    miss = need(100, r100)
    rows.append(("stapel peak RSS ≤ 4 GB", "100",
                 miss or "%s MB" % fmt_mb(r100),
                 miss and "not measured" or verdict(r100 * 1024 <= T_MEM_BIG)))
    t100 = tool(100, "stapel", "wall")
    n10 = (by.get(10) or {}).get("ref") or {}
    n100 = (by.get(100) or {}).get("ref") or {}
    miss = need(100, t100, st, n10.get("claims"), n100.get("claims"))
    if miss:
        rows.append(("stapel time grows ≤ n log n from scale 10", "100", miss, "not measured"))
    else:
        a, b = n10["claims"], n100["claims"]
        bound = (b * math.log(b)) / (a * math.log(a))
        rows.append(("stapel time grows ≤ n log n from scale 10", "100",
                     "t100/t10 = %.1f, n log n allows %.1f (n = %d → %d claims)" % (t100 / st, bound, a, b),
                     verdict(t100 / st <= bound)))
    for r in results:
        e = rel_err(r["tools"]["stapel"], r.get("ref"))
        rows.append(("stapel Σ(area × n) = Σ(claim area) within 1e-6 (area conservation)", scale_name(r["scale"]),
                     "not measured (stapel failed)" if e is None else "relative error %s" % fmt_err(e),
                     "not measured" if e is None else verdict(abs(e) <= DESIGN_REL)))
    return rows


def report(results, machine, started, finished, pg_version):
    L = []
    w = L.append
    w("# Performance")
    w("")
    w("Generated by `make bench` (bench/run, bench/bench.py). Do not edit by hand: every")
    w("number and every verdict below is computed by the benchmark. The bench is not part")
    w("of `make test`.")
    w("")
    w("- Run: %s – %s (%.0f s in all)" % (started.strftime("%Y-%m-%d %H:%M"), finished.strftime("%H:%M"),
                                         (finished - started).total_seconds()))
    w("- Machine: %s%s, %d cores, %.1f GiB RAM" % (
        machine["cpu"], " @ %.0f MHz" % machine["mhz"] if machine.get("mhz") else "", machine["cores"],
        machine["ram_gib"] or 0))
    w("- OS: %s" % machine["os"])
    w("- Libraries: GDAL %s, GEOS %s, PROJ %s" % (machine["gdal"], machine["geos"], machine["proj"]))
    w("- Peers: mapshaper %s on node %s; PostgreSQL %s with PostGIS %s" % (
        machine["mapshaper"], machine["node"], pg_version.get("pg") or "—", pg_version.get("postgis") or "—"))
    w("- stapel: git %s; binary built %s (sha256 %s…)" % (
        machine["stapel_git"], machine.get("stapel_built", "—"), machine.get("stapel_sha", "—")))
    w("- Method: %d interleaved rounds per scale on the same data (the order of the tools rotates"
      " each round); wall time is the median of the rounds (the fastest round is shown too), peak RSS the maximum"
      " (`/usr/bin/time -v`, \"Maximum resident set size\")." % ROUNDS)
    w("")
    w("## Results")
    for r in results:
        s = scale_name(r["scale"])
        ref = r.get("ref")
        inp = r.get("input") or {}
        w("")
        w("### Scale %s" % s)
        w("")
        facts = []
        if ref:
            facts.append("%s claims (%d repaired), Σ(claim area) = %.6e m²" % (
                "{:,}".format(ref["claims"]), ref["repaired"], ref["area"]))
        if inp:
            facts.append("%s input geometries with %s vertices (claims, provinces, NOVEX)" % (
                "{:,}".format(inp["geometries"]), "{:,}".format(inp["vertices"])))
        if facts:
            w("Input: " + "; ".join(facts) + ".")
            w("")
        w("| tool | wall time (s, median) | fastest round (s) | CPU time (s) | peak RSS (MB) | faces out "
          "| Σ(area × n) / Σ(claim area) − 1 | stapel / tool (time) | stapel / tool (RSS) | other load (cores) |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        st = r["tools"]["stapel"]
        for t in TOOLS:
            tt = r["tools"][t]
            if tt.get("failed"):
                status = "skipped" if tt.get("skipped") else "**failed**"
                w("| %s | %s: %s | | | | | | | | |" % (LABEL[t], status, tt["failed"].replace("|", "\\|")))
                continue
            err = rel_err(tt, ref)
            acc = "—" if t in FLOORS else fmt_err(err)
            if t not in FLOORS and tt.get("accuracy_error"):
                acc = "failed: %s" % tt["accuracy_error"][:80]
            faces = "—" if tt.get("faces") is None else "{:,}".format(tt["faces"])
            rt = "" if t == "stapel" else fmt_ratio(st.get("wall"), tt["wall"])
            rm = "" if t == "stapel" else fmt_ratio(st.get("rss_kb"), tt["rss_kb"])
            ol = tt.get("other_load")
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                LABEL[t], fmt_s(tt["wall"]), fmt_s(tt.get("best")), fmt_s(tt.get("cpu")), fmt_mb(tt["rss_kb"]), faces, acc, rt, rm,
                "—" if ol is None else "%.2f" % ol))
        loads = [r["tools"][t].get("other_load") for t in TOOLS
                 if r["tools"][t].get("other_load") is not None and r["tools"][t].get("long")]
        if loads and max(loads) > BUSY:
            w("")
            w("**The machine was shared during this scale**: other processes kept up to %.1f of the %d"
              " cores busy while the tools ran (last column, median over the rounds). Wall times are"
              " inflated by that, and not all tools by the same amount; the fastest round and the"
              " CPU times are less affected."
              % (max(loads), machine["cores"]))
        if r.get("phases"):
            w("")
            w("stapel's phases (`-v`, one extra untimed run of %.1f s): %s." % (r["phases_wall"], r["phases"]))
        sh = r.get("shards")
        if sh and sh.get("failed"):
            w("")
            w("Shards: failed (%s)." % sh["failed"])
        elif sh:
            walls = [x for x, _ in sh["shards"]]
            w("")
            w("Split into %d shards (`--shard i/%d`, run one after another, once) and merged:"
              " the slowest shard %s s, all shards %s s, peak RSS of a shard %s MB; `stapel merge`"
              " %s s, peak RSS %s MB. Against one run (%s s), shards on %d machines finish after"
              " %s s:"
              " every shard reads all the inputs, and the merge reads every part back and"
              " writes the whole stack again, on one machine." % (
                  sh["n"], sh["n"], fmt_s(max(walls)), fmt_s(sum(walls)),
                  fmt_mb(max(rs or 0 for _, rs in sh["shards"])), fmt_s(sh["merge"][0]),
                  fmt_mb(sh["merge"][1]), fmt_s(st.get("wall")), sh["n"],
                  fmt_s(max(walls) + sh["merge"][0])))
        if r.get("waited"):
            w("")
            w("Before the runs the bench waited %.0f s in all for other processes to go quiet"
              " (at most %g s per run, BENCH_QUIET_WAIT)." % (r["waited"], QUIET_WAIT))
        for n in r.get("notes", []):
            w("")
            w("Note: %s" % n)
    w("")
    w("## Targets (issue 6)")
    w("")
    w("| target | scale | measured | verdict |")
    w("|---|---:|---|---|")
    for row in targets(results):
        w("| %s | %s | %s | %s |" % row)
    w("")
    w("## Command lines")
    w("")
    w("Per scale S, in `bench/out/national-S` (paths shown relative to the repository):")
    w("")
    w("```")
    w("/usr/bin/python3 testdata/gen_national.py --scale S --seed %d --out bench/out/national-S" % SEED)
    shown = None
    for r in results:
        if r["tools"]["stapel"].get("shown"):
            shown = r
            break
    if shown is not None:
        for t in TOOLS:
            tt = shown["tools"][t]
            if tt.get("shown") or tt.get("cmd"):
                w("# %s (scale %s)" % (LABEL[t], scale_name(shown["scale"])))
                w(sh_join(tt.get("shown") or tt["cmd"]))
    for r in results:
        if r["scale"] != (shown or {}).get("scale") and r["tools"]["postgis"].get("shown"):
            w("# %s (scale %s)" % (LABEL["postgis"], scale_name(r["scale"])))
            w(sh_join(r["tools"]["postgis"]["shown"]))
    w("```")
    w("")
    w("Untimed preparation: the claims are reprojected to EPSG:28992 and merged with `ogr2ogr`")
    w("into `claims-28992.gpkg` (layer `claims`, fields `theme`, `src_fid`) and from there into")
    w("`claims-28992.geojson` (6 decimals) for mapshaper; PostGIS loads the GeoPackage with")
    w("`ogr2ogr -f PostgreSQL` into a private cluster in `bench/cache/pg` (unix socket only,")
    w("default settings) and the time covers only `bench/postgis_recipe.sql`.")
    w("")
    w("## How to read this")
    w("")
    w("- **Accuracy** is Σ(face area × n) over the faces a tool writes, divided by Σ(claim area)")
    w("  of the repaired claims (reprojected to EPSG:28992, invalid ones repaired with MakeValid")
    w("  STRUCTURE, as `testdata/oracle/check_stack.py` reads them), minus 1. stapel: fields")
    w("  `n_claims` × `area_m2` of the `stack` layer. mapshaper: field `n` × the face's area as")
    w("  OGR computes it. PostGIS: `count(*)` of claims holding the face's point on surface ×")
    w("  `ST_Area`. A negative error means claimed area is missing, a positive one that area is")
    w("  counted twice (overlapping faces).")
    w("- **Faces out** counts faces with n ≥ 1. stapel's faces are also split along province and")
    w("  NOVEX borders (it is given `--provinces` and `--novex`); the peers get the claims only,")
    w("  so they write fewer faces for the same arrangement.")
    w("- **CPU time** is user + system time of the tool's processes (for PostGIS: psql, the")
    w("  backend and its parallel workers, from the postmaster's reaped-children times).")
    w("  **Other load** is the CPU the rest of the machine used meanwhile (busy time from")
    w("  `/proc/stat` minus the tool's CPU time, per second of wall time): near 0 on a quiet")
    w("  machine. The targets are judged on wall time, as issue 6 asks.")
    w("- **Peak RSS** of PostGIS is the backend's VmHWM (`/proc/self/status`, read at the end of")
    w("  the recipe; it includes touched shared buffers, not the parallel workers); for the")
    w("  others the process's maximum resident set size.")
    w("- **Read floor** (`bench/readfloor.c`): every geometry of every claim and zone layer read")
    w("  with GDAL/OGR (attribute fields ignored), exported to WKB and read into GEOS with the")
    w("  reentrant API; no reprojection, no validity checks. It is what any tool must pay.")
    w("- **Read + reproject floor** (`readfloor --t_srs EPSG:28992`): the same, with every")
    w("  geometry of a layer in another CRS first reprojected to EPSG:28992 (`OGR_G_Transform`,")
    w("  as stapel does; three of the eight claim layers are in EPSG:4258, 4326 and 3035).")
    w("  stapel must pay this too; mapshaper and PostGIS are given claims reprojected in the")
    w("  untimed preparation. It is shown for information; issue 6's target is the read floor.")
    w("- The PostGIS recipe runs at scale %s only: one global float-noded union of all" %
      ", ".join(scale_name(x) for x in PG_SCALES))
    w("  boundaries, noded by GEOS in floating point (not snap-rounded: at depth it loses faces).")
    w("- Thresholds: issue 6. \"4 GB\" is read as 4·10⁹ bytes. n log n growth uses n = claims")
    w("  read: t(100)/t(10) ≤ (n₁₀₀ ln n₁₀₀)/(n₁₀ ln n₁₀).")
    w("- Messy inputs (one huge ring, a repair of many self-crossings, thousands of identical")
    w("  claims, a dense grid of crossings, a polygon with many holes): `make bench-patho`,")
    w("  in [PERFORMANCE-PATHOLOGICAL.md](PERFORMANCE-PATHOLOGICAL.md).")
    w("")
    return "\n".join(L)


def main():
    started = datetime.datetime.now()
    os.makedirs(OUT, exist_ok=True)
    machine = machine_info()
    pg = Postgres()
    pg_version = {}
    results = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        for scale in SCALES:
            log("=== scale %s ===" % scale_name(scale))
            try:
                r = bench_scale(scale, pg, machine)
            except Exception as e:  # never lose the whole bench to one scale
                log("scale %s failed: %s" % (scale_name(scale), e))
                r = {"scale": scale, "tools": {t: {"failed": "bench error: %s" % e, "runs": []} for t in TOOLS},
                     "notes": []}
            if r.get("postgis_version"):
                pg_version["postgis"] = r["postgis_version"]
            results.append(r)
        if pg.version:
            pg_version["pg"] = pg.version
    finally:
        pg.stop()
    finished = datetime.datetime.now()
    text = report(results, machine, started, finished, pg_version)
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    with open(DOC, "w", encoding="utf-8") as fh:
        fh.write(text)
    try:
        print(text, flush=True)
    except BrokenPipeError:
        pass
    log("wrote %s" % rel(DOC))
    return 0


if __name__ == "__main__":
    sys.exit(main())
