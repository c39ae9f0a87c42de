#!/usr/bin/python3
"""Run the CLI cases of a cases file against the built stapel binary.

A case is a block of "key: value" lines, blocks separated by blank lines:

    case: a name
    before: shell command run first (optional, may repeat)
    args: arguments, shell-quoted ({demo}, {tmp}, {data} are expanded)
    exit: expected exit code
    stdout: text that stdout must contain (may repeat)
    stderr: text that stderr must contain (may repeat)
    not-stdout: text that stdout must not contain (may repeat)
    not-stderr: text that stderr must not contain (may repeat)
    absent: a path that must not exist afterwards (may repeat)
    exists: a path that must exist afterwards (may repeat)
    same: PATH SHA256 -- file unchanged; written as 'same: PATH' it compares
          with the checksum taken right after the 'before' commands
    after: shell command run after stapel that must exit 0 (may repeat), e.g.
          a query of the output with {tests}/query.py or the oracle; stapel's
          stdout is in the file {stdout} (outside {tmp}, which some cases
          list)

{demo}, {data}, {tmp}, {stdout}, {stapel} and {tests} (this directory) are expanded in
every value; write a literal brace as {{ or }}.

Usage: run_cases.py STAPEL CASES_FILE SCRATCH_DIR
"""
import hashlib
import os
import shlex
import shutil
import subprocess
import sys


def parse(path):
    cases, cur = [], None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if cur:
                    cases.append(cur)
                cur = None
                continue
            key, _, value = line.partition(":")
            cur = cur or {}
            cur.setdefault(key.strip(), []).append(value.strip())
    if cur:
        cases.append(cur)
    return cases


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    stapel, cases_file, scratch = sys.argv[1:4]
    stapel = os.path.abspath(stapel)
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    subst = {"demo": os.path.join(root, "testdata", "demo"), "tmp": scratch, "stapel": stapel,
             "data": os.path.join(root, "testdata"), "tests": here}
    passed = failed = 0
    for case in parse(cases_file):
        name = case["case"][0]
        tmp = os.path.join(scratch, "".join(c if c.isalnum() else "_" for c in name))
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        sub = dict(subst, tmp=tmp, stdout=tmp + ".stdout")
        expand = lambda s: s.format(**sub)
        for cmd in case.get("before", []):
            subprocess.run(expand(cmd), shell=True, check=True, cwd=tmp)
        sums = {expand(p): sha(expand(p)) for p in case.get("same", [])}
        args = [stapel] + [expand(a) for a in shlex.split(case.get("args", [""])[0])]
        r = subprocess.run(args, capture_output=True, text=True, cwd=tmp, timeout=300)
        problems = []
        want = int(case.get("exit", ["0"])[0])
        if r.returncode != want:
            problems.append(f"exit {r.returncode}, expected {want}")
        for s in case.get("stdout", []):
            if expand(s) not in r.stdout:
                problems.append(f"stdout lacks {expand(s)!r}")
        for s in case.get("stderr", []):
            if expand(s) not in r.stderr:
                problems.append(f"stderr lacks {expand(s)!r}")
        for s in case.get("not-stdout", []):
            if expand(s) in r.stdout:
                problems.append(f"stdout has {expand(s)!r}")
        for s in case.get("not-stderr", []):
            if expand(s) in r.stderr:
                problems.append(f"stderr has {expand(s)!r}")
        for p in case.get("absent", []):
            if os.path.exists(expand(p)):
                problems.append(f"{expand(p)} exists")
        for p in case.get("exists", []):
            if not os.path.exists(expand(p)):
                problems.append(f"{expand(p)} is missing")
        for p, digest in sums.items():
            if not os.path.exists(p) or sha(p) != digest:
                problems.append(f"{p} changed")
        with open(sub["stdout"], "w", encoding="utf-8") as f:
            f.write(r.stdout)
        for cmd in case.get("after", []):
            a = subprocess.run(expand(cmd), shell=True, capture_output=True, text=True, cwd=tmp)
            if a.returncode != 0:
                problems.append(f"after {expand(cmd)!r} exited {a.returncode}: "
                                f"{(a.stdout + a.stderr).strip()[-1500:]}")
        # No temporary output may be left next to any output.
        leftovers = [os.path.relpath(os.path.join(d, f), tmp)
                     for d, _, files in os.walk(tmp) for f in files if ".tmp." in f]
        if leftovers:
            problems.append(f"temporary files left: {leftovers}")
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
            print("  args:", " ".join(shlex.quote(a) for a in args))
            print("  stdout:", r.stdout[-2000:])
            print("  stderr:", r.stderr[-2000:])
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
