# SPDX-License-Identifier: MIT
"""The fuzz harnesses' corpora, replayed (tests/README.md, Fuzzing): each
harness tests/fuzz/NAME.c is linked in every build with the replay driver
(tests/fuzz/replay.c) into BUILD/fuzz/NAME, without libFuzzer; this runs it
over every file of tests/fuzz/NAME/ (the seeds, and the regression files
that crashes and leaks found by `make fuzz` became). In build-san/ the
sanitizers see what the harness does, as under libFuzzer. A case per
harness; one more says that every harness has a corpus and a program.
Usage: python3 tests/t0660-fuzz-corpora.py BUILD_DIR"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import ROOT, Results, check  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
fuzz_dir = os.path.join(ROOT, "tests", "fuzz")
harnesses = sorted(f[:-2] for f in os.listdir(fuzz_dir)
                   if f.endswith(".c") and f != "replay.c")


def every_harness_has_a_corpus():
    for name in harnesses:
        corpus = os.path.join(fuzz_dir, name)
        check(os.path.isdir(corpus) and os.listdir(corpus),
              "tests/fuzz/%s/ is missing or empty: give %s.c a seed" % (name, name))
        check(os.access(os.path.join(build, "fuzz", name), os.X_OK),
              "%s/fuzz/%s was not built (mk/fuzz.mk)" % (build, name))


def replay(name):
    corpus = os.path.join(fuzz_dir, name)
    p = subprocess.run([os.path.join(build, "fuzz", name), corpus], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", timeout=600)
    inputs = [line[2:] for line in p.stdout.splitlines() if line.startswith("# ") and line.endswith(" bytes)")]
    if p.returncode != 0:
        # The last input named is the one that failed.
        print("# %s: status %d, last input %s" % (name, p.returncode,
                                                  inputs[-1] if inputs else "(none)"))
        for line in p.stdout.splitlines()[-30:]:
            print("#   " + line)
    check(p.returncode == 0, "%s failed on its corpus" % name)
    check(len(inputs) == len(os.listdir(corpus)), "%s replayed %d of %d files"
          % (name, len(inputs), len(os.listdir(corpus))))


results.case("every harness has a corpus and a program", every_harness_has_a_corpus)
for h in harnesses:
    results.case("replay %s" % h, replay, h)
results.done()
