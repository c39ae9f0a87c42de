#!/usr/bin/python3
"""Sources GDAL reads over the network: a URL and a driver's connection string.

PDOK and the programmes publish claims as files on web servers and as WFS or
OGC API services. GDAL reads 'https://.../x.geojson' and 'WFS:https://...';
stapel took both for file names and said 'no such file' ('http' is the name
of a GDAL driver too: 'DRIVER:file:layer form is not taken'). A local web
server (on 127.0.0.1, no network needed) serves the demo's nature layer as
GeoJSON, and this checks, as a user would see it:
  - info and stack read the URL; the stack equals the one of the same file
    read from disk (same summary, same number of faces);
  - stack reads an OGC API Features service ('OAPIF:http://...', served
    here from the same layer in WGS 84, in pages) with the summary of that
    file, reading each page once;
  - a missing file on the server (404), a server that is not there and a
    WFS service that does not answer are GDAL's reasons, exit 1, with the
    source named and a password in it shown as ***;
  - an output named by a URL is refused as not a local file (exit 2);
  - a page that fails (500) stops the run with the text of the server's
    error page, not its HTML;
  - Ctrl-C while a page of a service is slow to come: GDAL cannot stop
    the request, so stapel says, 3 s on, that it still waits for a source
    and that a second Ctrl-C quits at once; that one does, writing nothing;
  - the waits GDAL finds for a request without them in the environment are
    the tool's: 30 s to connect, 300 s of silence (seen through the getenv
    of GETENV_LOG_LIB, preloaded; without it, that check is skipped).

Usage: url_source.py STAPEL SCRATCH_DIR [GETENV_LOG_LIB]
"""
import functools
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(os.path.dirname(os.path.dirname(HERE)), "testdata", "demo")

failures = []
ITEM_PAGES = []  # the offset of each page of items the service was asked for
SLOW_ASKED = threading.Event()  # /slowoapi was asked for a page after the first
SLOW_RELEASE = threading.Event()  # ends the wait of that page


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(stapel, *args):
    # A proxy in the environment must not take the local server's requests.
    env = dict(os.environ, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    p = subprocess.run([stapel, *args], capture_output=True, text=True, timeout=120, env=env)
    return p.returncode, p.stdout, p.stderr


class Handler(http.server.SimpleHTTPRequestHandler):
    """The files of the served directory, and under /oapi an OGC API
    Features service of one collection, 'nature', from nature4326.geojson
    (the service's GeoJSON is WGS 84, as the standard has it)."""

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path.rstrip("/")
        slow = path.startswith("/slowoapi")  # pages after the first never come
        failing = path.startswith("/failoapi")  # its second page is a server error
        if slow or failing:
            path = "/" + path[len("/slow"):]
        if not path.startswith("/oapi"):
            return super().do_GET()
        base = "http://127.0.0.1:%d/%soapi" % (self.server.server_address[1],
                                               "slow" if slow else "fail" if failing else "")
        items = {"rel": "items", "href": base + "/collections/nature/items",
                 "type": "application/geo+json"}
        nature = {"id": "nature", "title": "nature", "links": [items]}
        if path == "/oapi":
            body = {"links": [{"rel": "data", "href": base + "/collections",
                               "type": "application/json"}]}
        elif path == "/oapi/collections":
            body = {"collections": [nature]}
        elif path == "/oapi/collections/nature":
            body = nature
        elif path == "/oapi/collections/nature/items":
            # Pages of 'limit' items, linked by 'next', without numberMatched
            # (as api.pdok.nl has it): a count then reads every page.
            with open(os.path.join(self.directory, "nature4326.geojson")) as f:
                feats = json.load(f)["features"]
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            limit = int(query.get("limit", ["10"])[0])
            offset = int(query.get("offset", ["0"])[0])
            if slow and offset > 0:
                SLOW_ASKED.set()
                SLOW_RELEASE.wait(120)
                return  # stapel has gone by now
            elif failing and offset > 0:
                self.send_error(500, "Database unavailable")  # an HTML page
                return
            elif not (slow or failing):
                ITEM_PAGES.append(offset)
            links = []
            if offset + limit < len(feats):
                links.append({"rel": "next", "type": "application/geo+json",
                              "href": "%s/collections/nature/items?limit=%d&offset=%d"
                                      % (base, limit, offset + limit)})
            body = {"type": "FeatureCollection", "features": feats[offset:offset + limit],
                    "links": links}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    stapel, scratch = os.path.abspath(sys.argv[1]), sys.argv[2]
    shutil.rmtree(scratch, ignore_errors=True)
    www = os.path.join(scratch, "www")
    os.makedirs(www)
    local = os.path.join(www, "nature.geojson")
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", local, os.path.join(DEMO, "nature.shp")],
                   check=True)
    local4326 = os.path.join(www, "nature4326.geojson")
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "-lco", "RFC7946=YES",
                    "-lco", "COORDINATE_PRECISION=9", local4326,
                    os.path.join(DEMO, "nature.shp")], check=True)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=www))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    url = base + "/nature.geojson"
    zones = ["--provinces", os.path.join(DEMO, "provinces.gpkg"),
             "--novex", os.path.join(DEMO, "novex.gpkg")]
    water = "water=" + os.path.join(DEMO, "water.gpkg")
    # A PostgreSQL server that takes connections and says nothing; the run
    # that waits for it with the tool's default wait goes alongside the rest.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    default_env = dict(os.environ, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    default_env.pop("PGCONNECT_TIMEOUT", None)
    default_t0 = time.time()
    by_default = subprocess.Popen([stapel, "info", "PG:host=127.0.0.1 port=%d dbname=claims"
                                   % silent.getsockname()[1]],
                                  stderr=subprocess.PIPE, text=True, env=default_env)
    try:
        rc, out, err = run(stapel, "info", url)
        check(rc == 0 and url in out and "features:   14" in out,
              "info reads a URL (exit %d): %s" % (rc, (out + err).strip()[:200]))

        # The tool's waits for a web server (network_waits in cli/main.c),
        # as GDAL finds them when it makes the request: checked through
        # getenv, as a server that stays silent for 300 s would take that
        # long. A setting in the environment stands.
        if len(sys.argv) > 3:
            names = ("GDAL_HTTP_LOW_SPEED_TIME", "GDAL_HTTP_CONNECTTIMEOUT")
            for given, want in ((None, {"GDAL_HTTP_LOW_SPEED_TIME=300",
                                        "GDAL_HTTP_CONNECTTIMEOUT=30"}),
                                ("7", {"GDAL_HTTP_LOW_SPEED_TIME=7",
                                       "GDAL_HTTP_CONNECTTIMEOUT=7"})):
                log = os.path.join(scratch, "getenv.log")
                if os.path.exists(log):
                    os.remove(log)
                env = dict(os.environ, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1",
                           LD_PRELOAD=os.path.abspath(sys.argv[3]),
                           STAPEL_GETENV_NAMES=",".join(names), STAPEL_GETENV_LOG=log)
                for n in names:
                    env.pop(n, None)
                    if given is not None:
                        env[n] = given
                p = subprocess.run([stapel, "info", url], capture_output=True, text=True,
                                   timeout=60, env=env)
                seen = set(open(log).read().split()) if os.path.exists(log) else set()
                check(p.returncode == 0 and seen == want,
                      "a request's network waits, %s: %s (exit %d)"
                      % ("by default" if given is None else "set to " + given,
                         ", ".join(sorted(seen)) or "none seen", p.returncode))
        else:
            print("skip the network waits GDAL finds: no getenv_log library")

        by_url = os.path.join(scratch, "by-url.gpkg")
        by_file = os.path.join(scratch, "by-file.gpkg")
        rc, _, err = run(stapel, "stack", "-q", "-o", by_url, "--layer", "nature=" + url,
                         "--layer", water, *zones)
        check(rc == 0, "stack reads a URL (exit %d): %s" % (rc, err.strip()))
        rc2, _, err2 = run(stapel, "stack", "-q", "-o", by_file, "--layer", "nature=" + local,
                           "--layer", water, *zones)
        check(rc2 == 0, "stack of the same file on disk (exit %d): %s" % (rc2, err2.strip()))
        if rc == 0 and rc2 == 0:
            a = run(stapel, "summary", by_url, "--format", "csv")[1]
            b = run(stapel, "summary", by_file, "--format", "csv")[1]
            check(a == b and a.count("\n") > 3, "the URL's stack has the file's summary")
            fa = run(stapel, "info", by_url + "|layername=stack")[1]
            fb = run(stapel, "info", by_file + "|layername=stack")[1]
            faces = [l for l in fa.splitlines() if "features:" in l]
            check(faces == [l for l in fb.splitlines() if "features:" in l] and faces,
                  "the URL's stack has the file's number of faces: %s" % faces)

        # A service: OGC API Features, as PDOK serves them (api.pdok.nl).
        oapif = "OAPIF:%s/oapi|layername=nature" % base
        by_service = os.path.join(scratch, "by-service.gpkg")
        by_file4326 = os.path.join(scratch, "by-file4326.gpkg")
        ITEM_PAGES.clear()
        rc, _, err = run(stapel, "stack", "-q", "-o", by_service, "--layer", "nature=" + oapif,
                         *zones)
        check(rc == 0, "stack reads an OGC API Features service (exit %d): %s"
              % (rc, err.strip()))
        # The first page is asked for twice (GDAL learns the fields from it
        # as it opens the layer); the others were asked for twice too, as
        # the features were counted for the progress by reading them all.
        later = [o for o in ITEM_PAGES if o > 0]
        check(len(later) > 0 and len(later) == len(set(later)),
              "stack reads each page of the service once: pages at offsets %s" % ITEM_PAGES)
        rc2, _, err2 = run(stapel, "stack", "-q", "-o", by_file4326, "--layer",
                           "nature=" + local4326, *zones)
        check(rc2 == 0, "stack of its GeoJSON on disk (exit %d): %s" % (rc2, err2.strip()))
        if rc == 0 and rc2 == 0:
            a = run(stapel, "summary", by_service, "--format", "csv")[1]
            b = run(stapel, "summary", by_file4326, "--format", "csv")[1]
            check(a == b and a.count("\n") > 3,
                  "the service's stack has the summary of its GeoJSON on disk")

        missing = base + "/missing.geojson"
        rc, _, err = run(stapel, "stack", "-o", os.path.join(scratch, "m.gpkg"),
                         "--layer", "nature=" + missing)
        check(rc == 1 and ("cannot open '%s'" % missing) in err and "404" in err
              and "no such file" not in err,
              "a file missing on the server: GDAL's reason, exit 1 (exit %d): %s"
              % (rc, err.strip()))

        gone = "http://ana:geheim@127.0.0.1:%d/nature.geojson" % free_port()
        rc, _, err = run(stapel, "info", gone)
        check(rc == 1 and "ana:***@127.0.0.1" in err and "geheim" not in err
              and "no such file" not in err.lower(),
              "no server there: GDAL's reason, the password hidden, exit 1 (exit %d): %s"
              % (rc, err.strip()))

        wfs = "WFS:" + base + "/wfs"
        rc, _, err = run(stapel, "stack", "-o", os.path.join(scratch, "w.gpkg"),
                         "--layer", "nature=" + wfs)
        check(rc == 1 and ("cannot open '%s' as vector data" % wfs) in err
              and "no such file" not in err,
              "a WFS service that does not answer: GDAL's reason, exit 1 (exit %d): %s"
              % (rc, err.strip()))

        rc, _, err = run(stapel, "stack", "-o", base + "/out.gpkg", "--layer", "nature=" + local)
        check(rc == 2 and "is not a local file" in err,
              "an output named by a URL is refused (exit %d): %s" % (rc, err.strip()))

        # A page that fails (500) stops the read, with the server's reason
        # as text: it was its HTML page, tags and all, on one line.
        rc, _, err = run(stapel, "stack", "-o", os.path.join(scratch, "f.gpkg"), "--layer",
                         "nature=OAPIF:%s/failoapi|layername=nature" % base)
        check(rc == 1 and "layer nature: reading stopped after" in err
              and "Error code: 500; Message: Database unavailable" in err and "<" not in err,
              "a page that fails: the server's reason as text, exit 1 (exit %d): %s"
              % (rc, err.strip()))

        # Ctrl-C while a page does not come: the first one is said to wait
        # for the source (it used to wait, silent, as long as the server
        # took), the second quits at once.
        slow_out = os.path.join(scratch, "slow.gpkg")
        env = dict(os.environ, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        p = subprocess.Popen([stapel, "stack", "-o", slow_out, "--layer",
                              "nature=OAPIF:%s/slowoapi|layername=nature" % base],
                             stderr=subprocess.PIPE, text=True, env=env)
        asked = SLOW_ASKED.wait(30)
        p.send_signal(signal.SIGINT)
        time.sleep(4.5)
        alive = p.poll() is None
        p.send_signal(signal.SIGINT)
        t0 = time.time()
        try:
            err = p.communicate(timeout=10)[1]
        except subprocess.TimeoutExpired:
            p.kill()
            err = p.communicate()[1]
        took = time.time() - t0
        check(asked and alive and "interrupted, but still waiting for a source to answer" in err
              and took < 3 and p.returncode != 0 and not os.path.exists(slow_out),
              "Ctrl-C during a slow page: said to wait, a second one quits (exit %s, %.1f s): %s"
              % (p.returncode, took, err.strip()))

        # A server that stops sending is given up after GDAL_HTTP_LOW_SPEED_TIME
        # seconds (the tool's default is 300), and the message names that
        # setting: it used to wait for ever.
        quiet_out = os.path.join(scratch, "quiet.gpkg")
        t0 = time.time()
        q = subprocess.run([stapel, "stack", "-o", quiet_out, "--layer",
                            "nature=OAPIF:%s/slowoapi|layername=nature" % base],
                           capture_output=True, text=True, timeout=60,
                           env=dict(env, GDAL_HTTP_LOW_SPEED_TIME="2"))
        took = time.time() - t0
        check(q.returncode == 1 and "Operation too slow" in q.stderr
              and "GDAL_HTTP_LOW_SPEED_TIME in the environment sets" in q.stderr
              and took < 30 and not os.path.exists(quiet_out),
              "a server that goes silent is given up, naming the setting (exit %d, %.1f s): %s"
              % (q.returncode, took, q.stderr.strip()))

        # So is a PostgreSQL server that takes the connection and says
        # nothing: after PGCONNECT_TIMEOUT seconds, and without it in the
        # environment after the tool's 30 (that run started first, above).
        t0 = time.time()
        q = subprocess.run([stapel, "info", "PG:host=127.0.0.1 port=%d dbname=claims"
                            % silent.getsockname()[1]],
                           capture_output=True, text=True, timeout=60,
                           env=dict(env, PGCONNECT_TIMEOUT="2"))
        took = time.time() - t0
        check(q.returncode == 1 and "timeout expired" in q.stderr
              and "PGCONNECT_TIMEOUT in the environment sets" in q.stderr and took < 30,
              "a database server that says nothing is given up, naming the setting "
              "(exit %d, %.1f s): %s" % (q.returncode, took, q.stderr.strip()))
        try:
            err = by_default.communicate(timeout=max(1.0, 50 - (time.time() - default_t0)))[1]
        except subprocess.TimeoutExpired:
            by_default.kill()
            err = by_default.communicate()[1]
        took = time.time() - default_t0
        check(by_default.returncode == 1 and "timeout expired" in err and 25 < took < 50,
              "without PGCONNECT_TIMEOUT, a database server that says nothing is given up "
              "after 30 s (exit %s, %.1f s): %s" % (by_default.returncode, took, err.strip()))
    finally:
        SLOW_RELEASE.set()
        server.shutdown()
        if by_default.poll() is None:
            by_default.kill()
        silent.close()
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
