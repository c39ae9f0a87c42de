#!/usr/bin/python3
"""Check that the table in docs/RULES.md lists exactly the rules of
docs/rules/novex-default.csv (the matrix compiled into stapel)."""
import csv
import re
import sys

root = sys.argv[1]
rules = {}
with open(f"{root}/docs/rules/novex-default.csv", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        rules[frozenset((r["theme_a"], r["theme_b"]))] = r["verdict"]
doc = {}
for line in open(f"{root}/docs/RULES.md", encoding="utf-8"):
    m = re.match(r"\| (\w+) \| (\w+) \| (conflict|conditional|compatible) \|", line)
    if m:
        doc[frozenset((m.group(1), m.group(2)))] = m.group(3)
bad = [sorted(k) for k in rules.keys() | doc.keys() if rules.get(k) != doc.get(k)]
if bad:
    print("docs/RULES.md and docs/rules/novex-default.csv disagree on:", bad)
    print("0 passed, 1 failed")
    sys.exit(1)
print(f"docs/RULES.md lists the {len(rules)} default rules")
print("1 passed, 0 failed")
