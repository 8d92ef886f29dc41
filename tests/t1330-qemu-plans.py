# SPDX-License-Identifier: MIT
"""Plans on real partitions (issue 11): dhpd --server qemu:topologies/demo,
two partitions, one composed by size (POST Systems with
ProcessorSummary.Count and MemorySummary.TotalSystemMemoryGiB: the planner
picks the units) and one by units; both boot; the sized one is resized up
(#DhpComputerSystem.Resize with ProcessorCount and MemoryGiB, its Preview
first: what runs is what was previewed), then down; a processor and a
memory module move from one running partition to the other
(#DhpComputerSystem.Move, one operation), then the processor moves back.

After every step each guest is read from inside (guest/numa with dhp.numa,
as t1320): its online processors, its memory and the NUMA node of each,
which must be the partition's units socket by socket; and the Redfish view
agrees (ProcessorSummary.Count, MemorySummary.TotalSystemMemoryGiB,
Oem.Dhp.Locality). libdhp's dhp-workers and dhp-cache run in both guests
(dhp.apps, as t1420) and must have adapted: their last lines name the
processors online and the memory the guest has. dhp-guard is left out: it
vetoes the removal of the newest processor, which a shrink picks first
(t1420 tests that veto).

Processors leave by park here (QEMU 7.2 under TCG, DESIGN.md section 9):
a processor given back or moved away is offline in its old guest and in no
node's cpulist there; its vCPU stays, parked, so the guest's processor
numbers go on growing (a processor that comes back gets a new slot).
Usage: python3 tests/t1330-qemu-plans.py BUILD_DIR"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestpart  # noqa: E402
from dhptest import Results, Skip, check  # noqa: E402
from guestpart import (BLOCKS, MODULE_KB, NUMA_NODES, SYSTEMS, Partition,  # noqa: E402
                       expected_locality, nodes_of, socket_of)

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
APPS = ("dhp-workers", "dhp-cache")
APPEND = "dhp.numa dhp.apps=workers,cache dhp.cache.fraction=16"
RESIZE = "Oem/DhpComputerSystem.Resize"
MOVE = "Oem/DhpComputerSystem.Move"
WORKERS = re.compile(r"dhp-workers: .*; online (\S+)")
CACHE = re.compile(r"dhp-cache: .*?(\d+) MiB (?:online|of memory)")
# What the kernel keeps of the boot module (its own code, page tables,
# reserved ranges) stays under this; hot-added modules count whole.
BOOT_KEEP_KB = 512 * 1024


def cpus_of(cpulist):
    """"0-2,5" -> {0, 1, 2, 5}."""
    out = set()
    for part in filter(None, cpulist.split(",")):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


class Sized(Partition):
    """A partition composed by size: dhpd's planner picks its units."""

    def __init__(self, dhpd, name, processors, gib):
        self.dhpd, self.name = dhpd, name
        status, _, doc = dhpd.request("POST", SYSTEMS, body={
            "Name": name, "ProcessorSummary": {"Count": processors},
            "MemorySummary": {"TotalSystemMemoryGiB": gib}, "Oem": {"Dhp": {"OsProfile": "linux"}}})
        check(status == 201, "create %s by size: %d %s" % (name, status, doc))
        self.settle()


def guest_view(p):
    """The guest's last NUMA report: {node: (set of online cpus, kB)}."""
    reports = NUMA_NODES.findall(p.console())
    if not reports:
        return None
    return {n: (cpus_of(c), kb) for n, (c, kb) in nodes_of(reports[-1]).items()}


def guest_node(boot_socket):
    """{socket: the guest's node}. Linux numbers NUMA nodes in the order
    their proximity domains first appear in the SRAT, and QEMU lists vCPU
    0 (the boot processor's socket) first, then the slots socket by socket:
    the boot socket is the guest's node 0 and the others follow in order.
    Node N is socket N only for a partition booting on socket 0 (docs/qemu.md,
    What remains)."""
    order = [boot_socket] + [s for s in range(4) if s != boot_socket]
    return {s: order.index(s) for s in range(4)}


def matches(view, units, boot_socket, boot):
    """Does the guest's view hold exactly the units, socket by socket? A
    socket's node has as many online processors as the partition has
    processors on that socket, and the memory of its modules there (less
    what the kernel keeps of the boot module, boot, on its node)."""
    node = guest_node(boot_socket)
    for sock in range(4):
        cpus, kb = view[node[sock]]
        want_cpus = sum(1 for u in units if "-cpu" in u and socket_of(u) == sock)
        want_kb = MODULE_KB * sum(1 for u in units if "-mem" in u and socket_of(u) == sock)
        low = want_kb - (BOOT_KEEP_KB if socket_of(boot) == sock else 0)
        if len(cpus) != want_cpus or not low <= kb <= want_kb:
            return False
    return True


def app_state(p):
    """What dhp-workers and dhp-cache said last: (online cpus, MiB)."""
    text = p.console()
    workers = WORKERS.findall(text)
    cache = CACHE.findall(text)
    return (cpus_of(workers[-1]) if workers else None, int(cache[-1]) if cache else None)


def check_partition(p, what, timeout=60):
    """The guest's kernel and its examples against the Redfish view."""
    doc = p.settle()
    units = p.units()
    count = doc["ProcessorSummary"]["Count"]
    gib = doc["MemorySummary"]["TotalSystemMemoryGiB"]
    check(count == sum(1 for u in units if "-cpu" in u), "%s: Count %d for %s" % (p.name, count, units))
    check(gib == 2 * sum(1 for u in units if "-mem" in u), "%s: %s GiB for %s" % (p.name, gib, units))
    got = doc["Oem"]["Dhp"]["Locality"]
    check(got == expected_locality(units), "%s: Locality %r for %s, expected %r" % (
        p.name, got, units, expected_locality(units)))
    end = time.monotonic() + timeout
    while True:
        view = guest_view(p)
        online = set().union(*(c for c, _ in view.values())) if view else set()
        apps = app_state(p)
        if view and matches(view, units, p.boot_socket, p.boot_mem) and apps == (online, gib * 1024):
            break
        check(time.monotonic() < end, "%s, %s: the guest sees %s and its examples say %s "
              "(online cpus, MiB), the partition is %s" % (what, p.name, view, apps, units))
        time.sleep(0.25)
    total = sum(kb for _, kb in view.values())
    print("# %s, %s: Redfish %d processors, %s GiB, locality %s; guest: %d online (%s), "
          "MemTotal %d MiB, %s; examples: workers on %s, cache sees %d MiB" % (
              what, p.name, count, gib, got, len(online), ",".join(map(str, sorted(online))),
              total // 1024, " ".join("node%d=%dcpu/%dMiB" % (n, len(c), kb // 1024)
                                      for n, (c, kb) in sorted(view.items()) if c or kb),
              ",".join(map(str, sorted(apps[0]))), apps[1]), flush=True)


def check_both(state, what):
    for p in (state["a"], state["b"]):
        check_partition(p, what)


def boot(state):
    d = state["dhpd"] = guestpart.qemu_dhpd(build, APPEND)
    # state["p"]: the console run_steps prints when a step fails.
    a = state["a"] = state["p"] = Sized(d, "sized", 1, 2)
    # Socket 2: a board away from where the planner puts the sized one.
    b = state["b"] = Partition(d, "units", ["s2-cpu0", "s2-mem0"])
    check(len(a.units()) == 2, "sized: %s" % a.units())
    for p in (a, b):
        # Its first processor is vCPU 0, its first module the boot memory:
        # neither ever leaves it.
        p.boot_socket = socket_of(next(u for u in p.units() if "-cpu" in u))
        p.boot_mem = next(u for u in p.units() if "-mem" in u)
    print("# sized composed of %s" % " ".join(a.units()), flush=True)
    a.start()
    b.start()
    check_both(state, "boot")


def plan_units(plan):
    """{"Take": [...], "GiveBack": [...]} of a Resize Preview's plan."""
    out = {"Take": [], "GiveBack": []}
    for step in plan["Steps"]:
        out[step["Action"]] += [link["@odata.id"].rsplit("/", 1)[1] for link in step["ResourceBlocks"]]
        print("#   %s %s: %s" % (step["Action"].lower(), " ".join(
            link["@odata.id"].rsplit("/", 1)[1] for link in step["ResourceBlocks"]), step["Reason"]),
            flush=True)
    return out


def numa_ids(state):
    """Guest node N is socket N (docs/qemu.md) for the partition booting on
    socket 0 only: see guest_node. The check above takes the guest's own
    numbering; this says that the promise does not hold for the other."""
    b = state["b"]
    view = guest_view(b)
    if view[b.boot_socket][0]:
        return
    raise Skip("node N is socket N only when the boot processor is on socket 0: %s boots on "
               "socket %d, which its guest calls node 0 (Linux numbers nodes in SRAT order, "
               "QEMU lists vCPU 0 first)" % (b.name, b.boot_socket))


def resize(state, procs, gib, what):
    """Preview, then the resize; what ran is what was previewed."""
    a = state["a"]
    before = a.units()
    status, _, doc = a.dhpd.request("POST", "%s/%s/Actions/%s" % (SYSTEMS, a.name, RESIZE),
                                    body={"ProcessorCount": procs, "MemoryGiB": gib, "Preview": True})
    check(status == 200 and "Plan" in doc, "Preview: %d %s" % (status, doc))
    print("# plan to %d processors, %d GiB (home socket %s):" % (procs, gib, doc["Plan"]["HomeSocket"]),
          flush=True)
    plan = plan_units(doc["Plan"])
    check(a.units() == before, "the Preview changed %s" % a.name)
    a.act(RESIZE, {"ProcessorCount": procs, "MemoryGiB": gib})
    want = sorted(set(before + plan["Take"]) - set(plan["GiveBack"]))
    check(a.units() == want, "after the resize %s, the plan said %s" % (a.units(), want))
    check_both(state, what)


def resize_up(state):
    resize(state, 3, 6, "resize up")


def resize_down(state):
    resize(state, 2, 4, "resize down")


def move(p, units, target):
    return p.act(MOVE, {"ResourceBlocks": [{"@odata.id": BLOCKS + u} for u in units],
                        "TargetSystem": {"@odata.id": SYSTEMS + "/" + target.name}})


def move_there(state):
    """The sized one's newest processor and its last module (not the boot
    memory) go to the other partition: they arrive in its node 0."""
    a, b = state["a"], state["b"]
    units = a.units()
    cpu = [u for u in units if "-cpu" in u][-1]
    mem = [u for u in units if "-mem" in u][-1]
    state["moved"] = cpu
    move(a, [cpu, mem], b)
    check(cpu in b.units() and mem in b.units() and cpu not in a.units(), "moved: %s / %s" % (
        a.units(), b.units()))
    check_both(state, "move %s %s to %s" % (cpu, mem, b.name))


def move_back(state):
    """The processor goes back: parked in the second guest, a new slot in
    the first."""
    a, b = state["a"], state["b"]
    move(b, [state["moved"]], a)
    check(state["moved"] in a.units(), "moved back: %s" % a.units())
    check_both(state, "move %s back" % state["moved"])


def stop(state):
    for p in (state["a"], state["b"]):
        mark = p.mark()
        p.stop()
        check("died" not in p.console()[mark:], "an example died in %s" % p.name)


STEPS = [("plans-boot", boot),
         ("plans-numa-ids-are-sockets", numa_ids),
         ("plans-resize-up", resize_up),
         ("plans-resize-down", resize_down),
         ("plans-move", move_there),
         ("plans-move-back", move_back),
         ("plans-stop", stop)]


guestpart.main(results, build, APPS, STEPS)
