# SPDX-License-Identifier: MIT
"""Faults inside a real partition, through dhpd --server qemu:topologies/demo:
memory that the kernel cannot take offline, and an agent that stops
answering. tests/t1310-qemu-guest.c covers QEMU killed and dhpd SIGKILLed
mid-operation; t1420 a veto by an application.

Both boots run dhp-pin-memory in the guest (tests/guest/pin-memory.c, with
dhp.apps=pin-memory): once a hot-added module is online it pins pages of
it (vmsplice into pipes it never reads), so that the kernel's page
migration cannot empty the module and offlining it retries in the kernel
until the writer is killed (docs/agent-protocol.md, op offline).

Boot 1, the kernel refuses: dhp-agent gives the offline 5 s
(dhp.agent.offline-timeout-ms), well within dhpd's 90 s phase deadline, so
dhpd hears EBUSY: the hot remove is rolled back with the kernel's refusal in
its error, the module stays in the partition, and the agent said so on the
guest's console.

Boot 2, the agent stops answering: its offline waits 45 s while dhpd's phase
deadline is 30 s (--phase-deadline-ms), so dhpd hears nothing: the phase
times out, the remove is rolled back (the undo, online, is answered once the
agent is free again, within its own deadline), and the partition is usable
afterwards.
Usage: python3 tests/t1430-qemu-faults.py BUILD_DIR"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestpart  # noqa: E402
from dhptest import Results, check  # noqa: E402
from guestpart import Partition  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
PINNED = re.compile(r"dhp-pin-memory: pinned (\d+) pages in (\d+) blocks")
REFUSED_APPEND = "dhp.apps=pin-memory dhp.agent.offline-timeout-ms=5000"
SILENT_APPEND = "dhp.apps=pin-memory dhp.agent.offline-timeout-ms=45000"
SILENT_DEADLINE_MS = 30000


def boot_and_pin(state, append, args=()):
    """A partition of one processor and the boot module; hot add s0-mem1
    and wait for dhp-pin-memory to pin pages of it."""
    d = state["dhpd"] = guestpart.qemu_dhpd(build, append, args)
    p = state["p"] = Partition(d, "pin", ["s0-cpu0", "s0-mem0"])
    p.start()
    mark = p.mark()
    p.add("s0-mem1")
    m = p.wait_console(PINNED, "dhp-pin-memory pinning the new module", mark, timeout=90)
    check(int(m.group(1)) > 0, "pinned nothing: %s" % m.group(0))


def refused_boot(state):
    boot_and_pin(state, REFUSED_APPEND)


def refused_remove(state):
    p = state["p"]
    mark = p.mark()
    t = time.monotonic()
    task = p.remove("s0-mem1", state="rolled-back")
    error = task["Oem"]["Dhp"]["Error"]["Message"]
    check("could not be brought offline in 5000 ms" in error, "the kernel's refusal: %s" % error)
    check("still in use" in error, "said as in use: %s" % error)
    check(time.monotonic() - t < 60, "took %.0f s" % (time.monotonic() - t))
    check("s0-mem1" in p.units(), "s0-mem1 left the partition: %s" % p.units())
    # The guest's own account: the agent logged the refusal.
    p.wait_console(re.compile(r"dhp-agent: offline of memory failed: memory block \d+ could not "
                              r"be brought offline in 5000 ms"), "the agent's log", mark, timeout=10)


def silent_boot(state):
    boot_and_pin(state, SILENT_APPEND, ["--phase-deadline-ms", str(SILENT_DEADLINE_MS)])


def silent_remove(state):
    p = state["p"]
    mark = p.mark()
    t = time.monotonic()
    task = p.remove("s0-mem1", state="rolled-back", timeout=240)
    took = time.monotonic() - t
    error = task["Oem"]["Dhp"]["Error"]["Message"]
    check("offline" in error and "did not answer within %d ms" % SILENT_DEADLINE_MS in error,
          "the deadline: %s" % error)
    check(took >= SILENT_DEADLINE_MS / 1000, "rolled back after %.0f s, before the deadline" % took)
    check("s0-mem1" in p.units(), "s0-mem1 left the partition: %s" % p.units())
    # The agent was busy, not gone: it answered its offline in the end.
    p.wait_console(re.compile(r"could not be brought offline in 45000 ms"), "the agent's log", mark,
                   timeout=60)


def usable_after(state):
    """The agent answers again: another module comes and goes through it
    (s0-mem1 stays pinned)."""
    p = state["p"]
    p.add("s0-mem2")
    p.remove("s0-mem2")
    check("s0-mem2" not in p.units(), "s0-mem2 stayed")


def stop(state):
    state["p"].stop()


REFUSED_STEPS = [("kernel-refuses-boot-and-pin", refused_boot),
                 ("kernel-refuses-remove-rolled-back", refused_remove),
                 ("kernel-refuses-stop", stop)]
SILENT_STEPS = [("agent-silent-boot-and-pin", silent_boot),
                ("agent-silent-remove-times-out", silent_remove),
                ("agent-silent-usable-after", usable_after),
                ("agent-silent-stop", stop)]


guestpart.main(results, build, ["dhp-pin-memory"], REFUSED_STEPS, SILENT_STEPS)
