#!/usr/bin/python3
"""Check that every option of every command is in the command's --help and
in docs/USER_GUIDE.md, and that a --help names no option its command lacks.

The options are read from the longopts tables of cli/cmd_*.c, so a new
option, or one renamed, that a help text or the guide does not name fails
here. A --help may name an option of another command where it shows that
command (merge's help shows 'stapel stack --shard ...'): those are listed in
OTHER_COMMAND below.

Usage: check_cli_doc.py SOURCE_ROOT STAPEL"""
import re
import subprocess
import sys

root, stapel = sys.argv[1], sys.argv[2]
COMMANDS = ("stack", "summary", "merge", "render", "info")
OTHER_COMMAND = {"merge": {"layer", "shard"}}  # its example runs stapel stack

guide = open(f"{root}/docs/USER_GUIDE.md", encoding="utf-8").read()
failures = []
for cmd in COMMANDS:
    source = open(f"{root}/cli/cmd_{cmd}.c", encoding="utf-8").read()
    table = re.search(r"longopts\[\] = \{(.*?)\{NULL", source, re.S)
    options = set(re.findall(r'\{"([a-z_-]+)"', table.group(1)))
    shown = subprocess.run([stapel, cmd, "--help"], capture_output=True, text=True, check=True)
    named = set(re.findall(r"--([a-z][a-z_-]*)", shown.stdout))
    for o in sorted(options - named):
        failures.append(f"stapel {cmd} --help does not name --{o}")
    for o in sorted(named - options - OTHER_COMMAND.get(cmd, set())):
        failures.append(f"stapel {cmd} --help names --{o}, which {cmd} does not take")
    for o in sorted(options):
        if not re.search(rf"--{re.escape(o)}(?![a-z_-])", guide):
            failures.append(f"docs/USER_GUIDE.md does not name --{o} (stapel {cmd})")
for f in failures:
    print(f)
if failures:
    print("0 passed, 1 failed")
    sys.exit(1)
print(f"the options of {', '.join(COMMANDS)} are in their --help and the user guide")
print("1 passed, 0 failed")
