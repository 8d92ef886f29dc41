#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The compiler enforces the layers (Makefile: LAYERS, docs/layers.md).

For every layer and program folder, a file compiled with that folder's own
flags (`make print-layers`) may include the headers of the layers it uses
and the libraries it may use, and fails to compile when it includes a
header of any other layer or library: an upward include is a build error,
not only a finding of scripts/check-layers."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import ROOT, Results, check  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
results = Results()
GUARDED = {"sqlite3": "sqlite3.h", "jansson": "jansson.h", "libmicrohttpd": "microhttpd.h",
           "libuv": "uv.h", "gnutls": "gnutls/gnutls.h", "libcurl": "curl/curl.h"}


def layers():
    out = subprocess.run(["make", "-s", "--no-print-directory", "print-layers", "BUILD=" + build],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        name, folder, uses, pkgs, cflags = line.split("|")
        table[name] = (folder, uses.split(), pkgs.split(), cflags.split())
    return table


def a_header(folder):
    """A header of src/FOLDER that others may include (not an internal one)."""
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "src", folder)) if n.endswith(".h"))
    public = [n for n in names if "internal" not in n]
    own = os.path.basename(folder) + ".h"
    if own in public:
        return own
    return public[0] if public else None


def compiles(cflags, include, tmp):
    src = os.path.join(tmp, "probe.c")
    with open(src, "w") as f:
        f.write("%s\nint probe(void);\nint probe(void) { return 0; }\n" % include)
    flags = [f for f in cflags if f not in ("-MMD", "-MP")]
    r = subprocess.run(["cc"] + flags + ["-c", src, "-o", os.path.join(tmp, "probe.o")],
                       cwd=ROOT, capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def test_layer(name, table, tmp):
    folder, uses, pkgs, cflags = table[name]
    allowed = set(uses) | {name}
    for other, (ofolder, _, _, _) in table.items():
        header = a_header(ofolder)
        if not header:
            continue
        include = '#include "%s/%s"' % (ofolder, header)
        ok, err = compiles(cflags, include, tmp)
        if other in allowed:
            check(ok, "%s may include %s, but: %s" % (name, include, err[-400:]))
        else:
            check(not ok, "%s compiled %s (%s is not among its layers %s)" %
                  (name, include, other, sorted(allowed)))
    for pkg, header in GUARDED.items():
        ok, err = compiles(cflags, "#include <%s>" % header, tmp)
        if pkg in pkgs:
            check(ok, "%s may use %s, but: %s" % (name, header, err[-400:]))
        else:
            check(not ok and "may not use" in err,
                  "%s compiled <%s> (not among its libraries %s)" % (name, header, pkgs))


def main():
    try:
        table = layers()
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        results.case("the layer table", lambda: check(False, "make print-layers: %s" % e))
        return
    with tempfile.TemporaryDirectory(prefix="dhp-t0015-") as tmp:
        for name in table:
            results.case("layer %s: its includes only" % name, test_layer, name, table, tmp)


main()
results.done()
