# SPDX-License-Identifier: MIT
"""libdhp's examples (examples/, docs/examples.md) in real partitions: dhpd
--server qemu:topologies/demo with --guest-append dhp.apps=..., so that the
guest's /etc/dhp/apps starts them, and what they print on the console (read
through the API, GET .../Oem/Dhp/Console) is checked after every operation.

Boot 1, through dhp-agent: dhp-workers, dhp-cache and dhp-guard see the
right phases in the right order for processor add and remove, a processor
remove vetoed by dhp-guard (rolled back, the task names it, the processor
still online in the guest), processor replace, memory add, replace and
remove. Boot 2, with dhp.apps.uevents: the examples on the kernel's uevents
(libdhp's fallback) see the complete phases of processor and memory add
and remove, and nothing else.
Usage: python3 tests/t1420-libdhp-guest.py BUILD_DIR"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestpart  # noqa: E402
from dhptest import Results, check  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
APPS = ("dhp-workers", "dhp-cache", "dhp-guard")
# A small cache share keeps the memory replace and remove quick: the pages
# the cache holds on a module are migrated when it goes (110 MiB/s or so
# under TCG, DESIGN.md section 9).
AGENT_APPEND = "dhp.apps=workers,cache,guard dhp.cache.fraction=16"
UEVENT_APPEND = "dhp.apps=workers,cache dhp.apps.uevents dhp.cache.fraction=16"

LINE = re.compile(r"(dhp-(?:workers|cache|guard)): (.*?)\s*$")
TAG = re.compile(r"\[([a-z-]+)(?:, (existing|uevent))?\]$")
CPU = re.compile(r"^cpu (\d+) ")
MEM = re.compile(r"^memory 0x([0-9a-f]+) \((\d+) MiB\) ")

# The units the notes name are compared apart from the phases
# ("notes-name-the-unit"), so that a wrong unit is reported as that. A
# processor is named by the guest's number throughout (in add-start the
# number it will get; after a remove or replace, the one it had); a memory
# module by its address, which is 0 in add-start: QEMU places a DIMM only
# when it is plugged (docs/agent-protocol.md).


class Partition(guestpart.Partition):
    """A partition whose console carries the examples' lines."""

    def __init__(self, dhpd, name, units):
        super().__init__(dhpd, name, units)
        self.mismatches = []

    def lines(self, since=0):
        """The examples' lines after offset since: (program, text, phase, how)."""
        out = []
        for line in self.console()[since:].split("\n"):
            m = LINE.search(line)
            if m:
                tag = TAG.search(m.group(2))
                out.append((m.group(1), m.group(2), tag and tag.group(1), tag and tag.group(2)))
        return out

    def wait(self, pred, what, since=0, timeout=60):
        end = time.monotonic() + timeout
        while True:
            lines = self.lines(since)
            if pred(lines):
                return lines
            check(time.monotonic() < end, "no %s in %d s; the examples said:\n%s" % (
                what, timeout, "\n".join("  %s: %s" % (p, t) for p, t, _, _ in lines[-30:])))
            time.sleep(0.25)

    def phases(self, since, expect, timeout=30):
        """Wait until each program of expect {program: [(phase, unit, how)]}
        has told exactly those phases since the mark, in that order; units
        (a cpu number, a memory address) are compared apart: a mismatch is
        kept in self.mismatches. Returns {program: [text]}."""
        def told(lines):
            got = {p: [(ph, how, t) for pp, t, ph, how in lines if pp == p and ph] for p in expect}
            return got if all(len(got[p]) >= len(expect[p]) for p in expect) else None

        lines = self.wait(lambda ls: told(ls) is not None, "phases %s" % expect, since, timeout)
        time.sleep(0.5)     # nothing more may come
        got = told(self.lines(since)) or told(lines)
        for p, want in expect.items():
            seen = [(ph, how) for ph, how, _ in got[p]]
            check(seen == [(ph, how) for ph, _, how in want],
                  "%s told %s, not %s:\n%s" % (p, seen, [(ph, how) for ph, _, how in want],
                                               "\n".join(t for _, _, t in got[p])))
            for (ph, unit, _), (_, _, text) in zip(want, got[p]):
                m = (MEM if p == "dhp-cache" else CPU).search(text)
                named = m and (int(m.group(1), 16) if p == "dhp-cache" else int(m.group(1)))
                if unit is not None and named != unit:
                    self.mismatches.append((p, ph, unit, named, text))
        return {p: [t for _, _, t in got[p]] for p in expect}


def boot(p, programs, transport):
    t = time.monotonic()
    p.start()
    # Each program says its transport first; the last one said counts.
    def ready(lines):
        last = {}
        for prog, text, _, _ in lines:
            if text.startswith("transport "):
                last[prog] = text.split()[1]
        return all(last.get(prog) == transport for prog in programs) and \
            any(prog == "dhp-workers" and ph == "add-complete" for prog, _, ph, _ in lines)
    p.wait(ready, "%s on transport %s" % (", ".join(programs), transport), timeout=60)
    # The cache has grown to its share at start (touching every page).
    if "dhp-cache" in programs:
        p.wait(lambda ls: any(pr == "dhp-cache" and t.startswith("cache is ") for pr, t, _, _ in ls),
               "the cache filled", timeout=60)
    print("# boot to the examples ready: %.1f s" % (time.monotonic() - t), flush=True)


def agent_boot(state):
    d = state["dhpd"] = guestpart.qemu_dhpd(build, AGENT_APPEND)
    p = state["p"] = Partition(d, "apps", ["s0-cpu0", "s0-mem0"])
    boot(p, APPS, "agent")
    lines = p.lines()
    check(any(pr == "dhp-guard" and "critical work pinned to cpu 0" in t for pr, t, _, _ in lines),
          "dhp-guard starts on cpu 0")
    check(any(pr == "dhp-workers" and t.startswith("cpu 0 online: 1 worker on cpu 0; online 0 [")
              for pr, t, _, _ in lines), "one worker on cpu 0")


def cpu_add(state):
    p = state["p"]
    mark = p.mark()
    p.add("s0-cpu1")
    told = p.phases(mark, {"dhp-workers": [("add-start", 1, None), ("add-complete", 1, None)],
                           "dhp-guard": [("add-start", 1, None), ("add-complete", 1, None)]})
    check("2 workers on cpus 0-1; online 0-1" in told["dhp-workers"][-1], told["dhp-workers"][-1])
    check("critical work on cpu 1 (was 0)" in told["dhp-guard"][-1], told["dhp-guard"][-1])


def cpu_remove_vetoed(state):
    p = state["p"]
    mark = p.mark()
    task = p.remove("s0-cpu1", state="rolled-back")
    why = re.compile(r"vetoed by dhp-guard\[\d+\]: critical work is pinned to cpu 1")
    texts = [m["Message"] for m in task["Messages"]] + [task["Oem"]["Dhp"]["Error"]["Message"]]
    check(any(why.search(t) for t in texts), "the task names the veto: %s" % texts)
    check(task["TaskState"] == "Exception", "TaskState %s" % task["TaskState"])
    # The vetoer is not told the failure; those that approved are.
    told = p.phases(mark, {"dhp-workers": [("remove-query", 1, None), ("remove-failure", 1, None)],
                           "dhp-guard": [("remove-query", 1, None)]})
    check("vetoed: critical work is pinned to cpu 1" in told["dhp-guard"][0], told["dhp-guard"][0])
    # Still there: in dhp, and online in the guest (the kernel's own list).
    check("s0-cpu1" in p.units(), "s0-cpu1 left the partition")
    check("2 workers on cpus 0-1; online 0-1" in told["dhp-workers"][-1], told["dhp-workers"][-1])


def cpu_remove(state):
    p = state["p"]
    mark = p.mark()
    p.add("s0-cpu2")
    told = p.phases(mark, {"dhp-workers": [("add-start", 2, None), ("add-complete", 2, None)],
                           "dhp-guard": [("add-start", 2, None), ("add-complete", 2, None)]})
    check("critical work on cpu 2 (was 1)" in told["dhp-guard"][-1], "guard follows the newest")
    mark = p.mark()
    p.remove("s0-cpu1")
    told = p.phases(mark, {"dhp-workers": [("remove-query", 1, None), ("remove-complete", 1, None)],
                           "dhp-guard": [("remove-query", 1, None), ("remove-complete", 1, None)]})
    check("may go: its worker stopped, approving: 2 workers on cpus 0,2" in told["dhp-workers"][0],
          told["dhp-workers"][0])
    check("2 workers on cpus 0,2; online 0,2" in told["dhp-workers"][-1], told["dhp-workers"][-1])


def cpu_replace(state):
    p = state["p"]
    mark = p.mark()
    p.replace("s0-cpu2", "s0-cpu3")
    told = p.phases(mark, {"dhp-workers": [("replace-start", 2, None), ("replace-complete", 2, None)],
                           "dhp-guard": [("replace-start", 2, None), ("replace-complete", 2, None)]})
    check("2 workers on cpus 0,2; online 0,2" in told["dhp-workers"][-1], told["dhp-workers"][-1])


def memory_add(state):
    p = state["p"]
    mark = p.mark()
    p.add("s0-mem1")
    told = p.phases(mark, {"dhp-cache": [("add-start", 0, None), ("add-complete", None, None)]})
    m = MEM.search(told["dhp-cache"][1])
    check(m and int(m.group(2)) == 2048, "2048 MiB added: %s" % told["dhp-cache"][1])
    state["addr"] = int(m.group(1), 16)
    check("4096 MiB online: cache 256 MiB" in told["dhp-cache"][1], told["dhp-cache"][1])
    p.wait(lambda ls: any(t.startswith("cache is 256 MiB") for _, t, _, _ in ls), "growth", mark)


def memory_replace(state):
    p = state["p"]
    mark = p.mark()
    task = p.replace("s0-mem1", "s0-mem2")
    check(task["Oem"]["Dhp"]["Spare"] == "s0-mem2", "the spare")
    told = p.phases(mark, {"dhp-cache": [("replace-start", state["addr"], None),
                                         ("replace-complete", state["addr"], None)]})
    check("4096 MiB online: cache 256 MiB" in told["dhp-cache"][-1], told["dhp-cache"][-1])


def memory_remove(state):
    p = state["p"]
    mark = p.mark()
    p.remove("s0-mem2")
    told = p.phases(mark, {"dhp-cache": [("remove-query", None, None), ("remove-complete", None, None)]})
    q = told["dhp-cache"][0]
    check("may go: shrunk before approving: 4096 MiB online: cache 128 MiB" in q, q)
    addr = int(MEM.search(q).group(1), 16)
    named = int(MEM.search(told["dhp-cache"][1]).group(1), 16)
    if named != addr:
        p.mismatches.append(("dhp-cache", "remove-complete", addr, named, told["dhp-cache"][1]))
    check("2048 MiB online: cache 128 MiB" in told["dhp-cache"][1], told["dhp-cache"][1])


def notes_name_the_unit(state):
    mism = state["p"].mismatches
    check(not mism, "notes named other units (program, phase, expected, named, line): %s" % mism)


def agent_stop(state):
    p = state["p"]
    mark = p.mark()
    p.stop()
    lines = p.lines(mark)
    check(not any("died" in t for _, t, _, _ in lines), "an example died: %s" % lines)


def uevent_boot(state):
    d = state["dhpd"] = guestpart.qemu_dhpd(build, UEVENT_APPEND)
    p = state["p"] = Partition(d, "uev", ["s0-cpu0", "s0-mem0"])
    boot(p, APPS[:2], "uevent")


def uevent_cpu(state):
    p = state["p"]
    mark = p.mark()
    p.add("s0-cpu1")
    told = p.phases(mark, {"dhp-workers": [("add-complete", 1, "uevent")]})
    check("2 workers on cpus 0-1; online 0-1" in told["dhp-workers"][0], told["dhp-workers"][0])
    mark = p.mark()
    p.remove("s0-cpu1")
    told = p.phases(mark, {"dhp-workers": [("remove-complete", 1, "uevent")]})
    check("1 worker on cpu 0; online 0 " in told["dhp-workers"][0], told["dhp-workers"][0])


def uevent_memory(state):
    p = state["p"]
    blocks = 2048 // 128     # the kernel tells each 128 MiB block
    mark = p.mark()
    p.add("s0-mem1")
    told = p.phases(mark, {"dhp-cache": [("add-complete", None, "uevent")] * blocks})
    addrs = sorted(int(MEM.search(t).group(1), 16) for t in told["dhp-cache"])
    check(addrs == [addrs[0] + i * (128 << 20) for i in range(blocks)], "blocks %s" % addrs)
    check("4096 MiB online: cache 256 MiB" in told["dhp-cache"][-1], told["dhp-cache"][-1])
    p.wait(lambda ls: any(t.startswith("cache is 256 MiB") for _, t, _, _ in ls), "growth", mark)
    mark = p.mark()
    p.remove("s0-mem1")
    told = p.phases(mark, {"dhp-cache": [("remove-complete", None, "uevent")] * blocks})
    check(sorted(int(MEM.search(t).group(1), 16) for t in told["dhp-cache"]) == addrs, "same blocks")
    check("2048 MiB online: cache 128 MiB" in told["dhp-cache"][-1], told["dhp-cache"][-1])


def uevent_stop(state):
    state["p"].stop()


AGENT_STEPS = [("agent-boot", agent_boot), ("agent-cpu-add", cpu_add),
               ("agent-cpu-remove-vetoed", cpu_remove_vetoed), ("agent-cpu-remove", cpu_remove),
               ("agent-cpu-replace", cpu_replace), ("agent-memory-add", memory_add),
               ("agent-memory-replace", memory_replace), ("agent-memory-remove", memory_remove),
               ("notes-name-the-unit", notes_name_the_unit), ("agent-stop", agent_stop)]
UEVENT_STEPS = [("uevent-boot", uevent_boot), ("uevent-cpu-add-remove", uevent_cpu),
                ("uevent-memory-add-remove", uevent_memory), ("uevent-stop", uevent_stop)]


guestpart.main(results, build, APPS, AGENT_STEPS, UEVENT_STEPS)
