# SPDX-License-Identifier: MIT
"""Real partitions through dhpd's Redfish API, for the guest tests that
drive dhpd --server qemu:... (t1420, t1430): a partition and its actions,
its console (GET .../Oem/Dhp/Console), starting and cleaning up a QEMU
dhpd, what the guest image has, running a boot's steps in order, and what
topologies/demo's sockets look like from inside a guest (t1320, t1330)."""

import glob
import math
import os
import re
import shutil
import signal
import time

from dhptest import ROOT, Dhpd, check

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
# dhpd boots build/guest/ of its working directory (docs/qemu.md), whatever
# the build under test: a SANITIZE build has no image of its own.
IMAGE = os.path.join(ROOT, "build", "guest")
# The guest's /etc/dhp/numa report (guest/numa, with dhp.numa).
NUMA_NODES = re.compile(r"dhp-guest: numa (node0 cpus=.*)")
NUMA_DIST = re.compile(r"dhp-guest: numa distance (node.*)")
# topologies/demo: two boards of two sockets (docs/topology.md), 2 GiB modules.
DEMO_DIST = [[10, 16, 21, 21], [16, 10, 21, 21], [21, 21, 10, 16], [21, 21, 16, 10]]
MODULE_KB = 2 * 1024 * 1024


def nodes_of(line):
    """{node: (cpulist, MemTotal kB)} from one report line. Linux brings a
    node online with its first processor or memory: a node not online is
    nodes 0-3's ("", 0)."""
    out = {n: ("", 0) for n in range(4)}
    for m in re.finditer(r"node(\d+) cpus=(\S*) mem=(\d+)", line):
        out[int(m.group(1))] = (m.group(2), int(m.group(3)))
    return out


def socket_of(unit):
    """s2-cpu1 -> 2."""
    return int(unit[1:unit.index("-")])


def expected_locality(units):
    """Oem.Dhp.Locality as docs/redfish.md defines it, for demo units
    (2 GiB modules), to three decimals as dhpd rounds it."""
    cpus = [socket_of(u) for u in units if "-cpu" in u]
    mems = [socket_of(u) for u in units if "-mem" in u]
    if not cpus or not mems:
        return None
    v = sum(10 / DEMO_DIST[c][m] for c in cpus for m in mems) / (len(cpus) * len(mems))
    return math.floor(v * 1000 + 0.5) / 1000


class Partition:
    """A partition of a QEMU dhpd: its actions (each waits for its task) and its
    console."""

    def __init__(self, dhpd, name, units):
        self.dhpd, self.name = dhpd, name
        status, _, doc = dhpd.request("POST", SYSTEMS, body={
            "Name": name, "Links": {"ResourceBlocks": [{"@odata.id": BLOCKS + u} for u in units]},
            "Oem": {"Dhp": {"OsProfile": "linux"}}})
        check(status == 201, "create %s: %d %s" % (name, status, doc))
        self.settle()

    def settle(self):
        for _ in range(600):
            status, _, doc = self.dhpd.request("GET", SYSTEMS + "/" + self.name)
            if status == 200 and doc["Oem"]["Dhp"]["Task"] is None:
                return doc
            time.sleep(0.05)
        raise AssertionError("%s stays busy" % self.name)

    def units(self):
        doc = self.settle()
        return sorted(link["@odata.id"].rsplit("/", 1)[1] for link in doc["Links"]["ResourceBlocks"])

    def act(self, action, body, state="completed", timeout=180):
        """POST an action answered with a task monitor; wait for the task."""
        t = time.monotonic()
        status, hdrs, doc = self.dhpd.request("POST", "%s/%s/Actions/%s" % (SYSTEMS, self.name, action),
                                              body=body)
        check(status == 202, "%s: %d %s" % (action, status, doc))
        task = self.dhpd.wait_task(hdrs["location"], timeout=timeout)
        got = task["Oem"]["Dhp"]["State"]
        check(got == state, "%s %s: %s, not %s: %s" % (action, body, got, state,
                                                        task["Oem"]["Dhp"]["Error"]))
        print("# %s %s: %.2f s" % (task["Oem"]["Dhp"]["Kind"], " ".join(task["Oem"]["Dhp"]["Units"]),
                                   time.monotonic() - t), flush=True)
        return task

    def start(self):
        return self.act("ComputerSystem.Reset", {"ResetType": "On"})

    def stop(self):
        return self.act("ComputerSystem.Reset", {"ResetType": "ForceOff"})

    def add(self, unit, **kw):
        return self.act("ComputerSystem.AddResourceBlock", {"ResourceBlock": {"@odata.id": BLOCKS + unit}},
                        **kw)

    def remove(self, unit, **kw):
        return self.act("ComputerSystem.RemoveResourceBlock",
                        {"ResourceBlock": {"@odata.id": BLOCKS + unit}}, **kw)

    def replace(self, unit, spare):
        return self.act("Oem/DhpComputerSystem.Replace", {"ResourceBlock": {"@odata.id": BLOCKS + unit},
                                                          "Spare": {"@odata.id": BLOCKS + spare}})

    def console(self):
        """The whole console log, 64 KiB per request (Range)."""
        text = b""
        while True:
            status, hdrs, doc = self.dhpd.request("GET", SYSTEMS + "/" + self.name + "/Oem/Dhp/Console",
                                                  headers={"Range": "bytes=%d-" % len(text)})
            if status == 416:
                break
            check(status in (200, 206), "console: %d" % status)
            piece = (doc if isinstance(doc, str) else "").encode()
            if not piece:
                break
            text += piece
            if status == 200 or len(piece) < 65536:
                break
        return text.decode(errors="replace").replace("\r", "")

    def mark(self):
        return len(self.console())

    def wait_console(self, pattern, what, since=0, timeout=60):
        """Wait until the console after offset since matches pattern (a
        compiled regular expression); returns the match."""
        end = time.monotonic() + timeout
        while True:
            m = pattern.search(self.console()[since:])
            if m:
                return m
            check(time.monotonic() < end, "no %s in %d s; the console ends:\n%s" % (
                what, timeout, self.console()[since:][-2000:]))
            time.sleep(0.25)


def cleanup(dhpd):
    """Stop the partitions' QEMUs whatever state dhpd is in, then dhpd."""
    for pidfile in glob.glob(os.path.join(dhpd.state_dir, "qemu", "*", "qemu.pid")):
        try:
            with open(pidfile) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    dhpd.cleanup()


def qemu_dhpd(build, append, args=()):
    """dhpd on real partitions of topologies/demo, TCG, with kernel
    parameters append for every guest; started."""
    return Dhpd(build, server="qemu", args=["--accel", "tcg", "--hash-iterations", "1000",
                                            "--guest-append", append] + list(args)).start()


def image_missing(build, programs=()):
    """Why the guest tests cannot run here (None when they can): QEMU, dhpd,
    the image, its agent, and programs (examples or guest tools) in it."""
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    if not os.path.exists(os.path.join(build, "dhpd")):
        return "%s/dhpd is not built" % build
    if not os.path.exists(os.path.join(IMAGE, "initrd.gz")):
        return "no guest image in %s (make guest)" % IMAGE
    with open(os.path.join(IMAGE, "MANIFEST")) as f:
        text = f.read()
    if "agent: dhp-agent" not in text:
        return "the guest image has no dhp-agent (its MANIFEST says why)"
    have = " ".join(line.split(":", 1)[1] for line in text.split("\n")
                    if line.startswith(("examples:", "tools:")))
    missing = [p for p in programs if p not in have.split()]
    if missing:
        return "the guest image lacks %s (make guest after make)" % ", ".join(missing)
    return None


def run_steps(results, steps):
    """One boot's steps in order; a step that fails skips the rest."""
    state = {}
    try:
        for name, step in steps:
            failed = results.failed
            results.case(name, step, state)
            if results.failed > failed:
                for n, _ in steps[[s for s, _ in steps].index(name) + 1:]:
                    results.skip(n, "an earlier step failed")
                if "p" in state:
                    print("# console:\n# " + state["p"].console()[-3000:].replace("\n", "\n# "),
                          flush=True)
                break
    finally:
        if "dhpd" in state:
            cleanup(state["dhpd"])


def main(results, build, programs, *boots):
    """A guest test: each boot's steps in turn (run_steps), or every step
    skipped with the reason when QEMU, the image or programs (in it) are
    missing. Ends the process with the results."""
    why = image_missing(build, programs)
    if why:
        for steps in boots:
            for name, _ in steps:
                results.skip(name, why)
        results.done()
    t = time.monotonic()
    for steps in boots:
        run_steps(results, steps)
    print("# all: %.0f s" % (time.monotonic() - t), flush=True)
    results.done()
