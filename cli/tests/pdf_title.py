#!/usr/bin/python3
"""pdf_title.py PDF TITLE -- check that the document title in a PDF's
information dictionary is TITLE (a PDF reader shows it in its window).

cairo writes the title as a hex string in UTF-16BE with a byte order mark,
<FEFF...>, or as a literal string (...) when it is ASCII. Only the standard
library: the information dictionary is not compressed.
"""
import re
import sys

path, want = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
m = re.search(rb"/Title\s*(<[0-9A-Fa-f\s]*>|\((?:[^()\\]|\\.)*\))", data)
if m is None:
    sys.exit("pdf_title.py: %s has no /Title" % path)
raw = m.group(1)
if raw.startswith(b"<"):
    b = bytes.fromhex(re.sub(rb"\s", b"", raw[1:-1]).decode())
    got = b[2:].decode("utf-16-be") if b.startswith(b"\xfe\xff") else b.decode("latin-1")
else:
    got = re.sub(rb"\\(.)", rb"\1", raw[1:-1]).decode("latin-1")
if got != want:
    sys.exit("pdf_title.py: %s: title %r, expected %r" % (path, got, want))
