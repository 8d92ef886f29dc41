# SPDX-License-Identifier: MIT
"""The guest sees the server's sockets as its NUMA nodes (docs/qemu.md),
through dhpd --server qemu:topologies/demo, checked from inside a real
guest: its /etc/dhp/numa (guest/numa, with dhp.numa) prints each node's
sysfs distance row once and every node's cpulist and MemTotal whenever they
change. After boot and after each hot add, remove and replace of a
processor and of a memory module, every node holds exactly the processors
and memory of the partition's units on that socket; the distances are the
topology's; the partition's Oem.Dhp.Locality agrees at each step.

Processors leave by park here (QEMU 7.2 under TCG, DESIGN.md §9): an
offline processor is in no node's cpulist, and the next one added gets a
new slot in its socket's range, so it arrives in its node too.
Usage: python3 tests/t1320-qemu-numa.py BUILD_DIR"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestpart  # noqa: E402
from dhptest import Results, check  # noqa: E402
from guestpart import (DEMO_DIST, MODULE_KB, SYSTEMS, NUMA_DIST as DIST,  # noqa: E402
                       NUMA_NODES as NODES, Partition, expected_locality, nodes_of)

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def check_distances(p):
    """Every distance report: each online node's row (sysfs lists the
    online nodes only) is the topology's, restricted to them."""
    reports = DIST.findall(p.console())
    check(reports, "no distance report")
    for line in reports:
        rows = {int(n): [int(v) for v in row.split(",")]
                for n, row in re.findall(r"node(\d+)=([\d,]+)", line)}
        online = sorted(rows)
        for n in online:
            want = [DEMO_DIST[n][m] for m in online]
            check(rows[n] == want, "node%d distance %s, expected %s (%s)" % (n, rows[n], want, line))
    return reports[-1]


def mem_class(kb):
    """0, a hot-added 2 GiB module ('2G'), or the boot module less what
    the kernel keeps ('boot')."""
    if kb == 0:
        return 0
    if kb == MODULE_KB:
        return "2G"
    return "boot" if kb > MODULE_KB // 2 else kb


def wait_nodes(p, want, what, timeout=60):
    """Wait until the guest's last report says want: {node: (cpulist,
    memory class)} for nodes 0-3."""
    seen = {}

    def matches():
        reports = NODES.findall(p.console())
        if not reports:
            return False
        seen["last"] = nodes_of(reports[-1])
        got = {n: (c, mem_class(kb)) for n, (c, kb) in seen["last"].items()}
        return got == want

    end = time.monotonic() + timeout
    while not matches():
        check(time.monotonic() < end, "%s: the guest's nodes are %s, expected %s" % (
            what, seen.get("last"), want))
        time.sleep(0.25)
    print("# %s: %s" % (what, " ".join("node%d cpus=%s mem=%d" % (n, c, kb)
                                       for n, (c, kb) in sorted(seen["last"].items()))),
          flush=True)


def check_locality(p):
    doc = p.settle()
    units = p.units()
    got = doc["Oem"]["Dhp"]["Locality"]
    check(got == expected_locality(units), "Locality %r for %s, expected %r" % (
        got, units, expected_locality(units)))


def boot(state):
    d = state["dhpd"] = guestpart.qemu_dhpd(build, "dhp.numa")
    p = state["p"] = Partition(d, "numa", ["s0-cpu0", "s0-mem0"])
    p.start()
    wait_nodes(p, {0: ("0", "boot"), 1: ("", 0), 2: ("", 0), 3: ("", 0)}, "boot")
    print("# distance %s" % check_distances(p), flush=True)
    check_locality(p)


def add_processor(state):
    p = state["p"]
    p.add("s1-cpu0")
    wait_nodes(p, {0: ("0", "boot"), 1: ("1", 0), 2: ("", 0), 3: ("", 0)}, "add s1-cpu0")
    check_locality(p)


def add_memory(state):
    p = state["p"]
    p.add("s1-mem0")
    wait_nodes(p, {0: ("0", "boot"), 1: ("1", "2G"), 2: ("", 0), 3: ("", 0)}, "add s1-mem0")
    check_locality(p)


def replace_memory(state):
    """The spare is on another socket: the memory moves to its node."""
    p = state["p"]
    p.replace("s1-mem0", "s3-mem0")
    wait_nodes(p, {0: ("0", "boot"), 1: ("1", 0), 2: ("", 0), 3: ("", "2G")},
               "replace s1-mem0 by s3-mem0")
    check_locality(p)


def replace_processor(state):
    """The logical processor keeps running on its vCPU (docs/qemu.md): the
    guest sees no change."""
    p = state["p"]
    p.replace("s1-cpu0", "s1-cpu1")
    wait_nodes(p, {0: ("0", "boot"), 1: ("1", 0), 2: ("", 0), 3: ("", "2G")},
               "replace s1-cpu0 by s1-cpu1")
    check_locality(p)


def remove_processor(state):
    p = state["p"]
    p.remove("s1-cpu1")
    wait_nodes(p, {0: ("0", "boot"), 1: ("", 0), 2: ("", 0), 3: ("", "2G")},
               "remove s1-cpu1 (parked)")
    check_locality(p)


def remove_memory(state):
    p = state["p"]
    p.remove("s3-mem0")
    wait_nodes(p, {0: ("0", "boot"), 1: ("", 0), 2: ("", 0), 3: ("", 0)}, "remove s3-mem0")
    check_locality(p)


def add_after_park(state):
    """A new slot of socket 2's range: the guest's processor 2, in node 2."""
    p = state["p"]
    p.add("s2-cpu0")
    wait_nodes(p, {0: ("0", "boot"), 1: ("", 0), 2: ("2", 0), 3: ("", 0)}, "add s2-cpu0")
    check_locality(p)
    # Nodes 0-2 (at least) are online now: node0's row names them.
    last = check_distances(p)
    print("# distance %s" % last, flush=True)
    check(re.search(r"node0=10,16,21", last), "node0's row: %s" % last)
    status, _, doc = state["dhpd"].request("GET", SYSTEMS + "/numa")
    check(status == 200 and doc["Oem"]["Dhp"]["State"] == "running", "still running")


def stop(state):
    state["p"].stop()


STEPS = [("numa-boot", boot),
         ("numa-add-processor", add_processor),
         ("numa-add-memory", add_memory),
         ("numa-replace-memory", replace_memory),
         ("numa-replace-processor", replace_processor),
         ("numa-remove-processor", remove_processor),
         ("numa-remove-memory", remove_memory),
         ("numa-add-after-park", add_after_park),
         ("numa-stop", stop)]


guestpart.main(results, build, [], STEPS)
