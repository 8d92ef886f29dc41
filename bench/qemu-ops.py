# SPDX-License-Identifier: MIT
"""Real partitions (QEMU, TCG): end-to-end latency of processor and 1 GiB
memory hot add and hot remove through dhpd's Redfish API, against a
baseline that does the same QMP commands and sysfs writes by hand on a
guest of the same image and command line; memory hot replace throughput
against the guest's own memcpy bandwidth, and the pauses of memory and
processor hot replace. Prints rows of run-bench's table; never passes or
fails (a missed target is a row). docs/BENCHMARKS.md says what each row
means.

Usage: bench/qemu-ops.py BUILD_DIR
DHP_BENCH_RUNS: runs of each operation (default 10); DHP_BENCH_DIR: where
the state goes (default /var/tmp); DHP_BENCH_KEEP=1 keeps it (consoles,
dhpd.log, the QEMU logs) instead of removing it."""

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from dhptest import ROOT, Dhpd, Skip  # noqa: E402
from qmp import Qmp  # noqa: E402
from serialline import SerialLine  # noqa: E402

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
image = os.path.join(build, "guest")
RUNS = max(1, int(os.environ.get("DHP_BENCH_RUNS", "10")))
TARGET = 1.2            # median ratio dhp : baseline, each operation
MODULE_MIB = 1024       # the memory module added, removed and replaced
MODULES = 3             # of that size: boot memory, the one added, its spare
FILL_MIB = 512          # what an application holds in it when it is replaced
COPY_MIB = 64           # dhp-membw copy's buffers
POLL_S = 0.01           # in-guest sysfs polling (and the task monitor's, if need be)
SETTLE_S = 0.5          # quiet time after each operation, either side
JOB = os.path.join(ROOT, "bench", "guest", "mem-replace-job")
RB = "/redfish/v1/CompositionService/ResourceBlocks/"
SYSTEM = "/redfish/v1/Systems/bench"


def row(name, value, unit="", target="", verdict=""):
    print("%-40s %12s  %-6s %-10s %s" % (name, value, unit, target, verdict), flush=True)


def note(text):
    print("# qemu-ops: " + text, flush=True)


class Failed(Exception):
    """An operation that did not complete; the section it is in stops."""


def check(cond, what):
    if not cond:
        raise Failed(what)


def wait_for(what, fn, timeout, alive=None):
    """fn() until it returns something true; alive() must stay true."""
    end = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if alive:
            alive()
        check(time.monotonic() < end, "%s: not within %d s" % (what, timeout))
        time.sleep(0.05)


# ---- the server and the images ----------------------------------------------

def topology(path, processors, host_cpus):
    """One socket: processors (the first two on host CPUs 0-1 when the
    host has them, so that a processor hot replace moves something), three
    identical 1 GiB modules (boot, the one added and removed, its spare).
    dhp gives every QEMU 2 x processors vCPU slots (at least 16): a parked
    vCPU keeps its slot, so each hot add of a run takes a new one."""
    with open(path, "w") as f:
        f.write("server bench-qemu\nmode dynamic\nsocket 0\n")
        rest = processors
        if host_cpus:
            f.write('  processor count=2 model="vCPU" host-cpus=0-1\n')
            rest -= 2
        f.write('  processor count=%d model="vCPU"\n' % rest)
        f.write('  memory count=%d model="DIMM" size=%dMiB\n' % (MODULES, MODULE_MIB))


def newc(entries):
    """A cpio newc archive of (name, mode, data) regular files."""
    out = bytearray()

    def add(name, mode, data, ino):
        name_b = name.encode() + b"\0"
        out.extend(b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0)))
        out.extend(name_b)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for i, (name, mode, data) in enumerate(entries):
        add(name, mode, data, 1000 + i)
    add("TRAILER!!!", 0, b"", 0)
    return bytes(out)


def newc_file(archive, wanted):
    """The content of one file of a newc archive, or None."""
    at = 0
    while at + 110 <= len(archive) and archive[at:at + 6] in (b"070701", b"070702"):
        fields = [int(archive[at + 6 + 8 * i:at + 14 + 8 * i], 16) for i in range(13)]
        size, namesize = fields[6], fields[11]
        name = archive[at + 110:at + 110 + namesize - 1].decode(errors="replace")
        data_at = at + 110 + namesize
        data_at += -data_at % 4
        if name == "TRAILER!!!":
            return None
        if name.lstrip("./") == wanted:
            return archive[data_at:data_at + size]
        at = data_at + size
        at += -at % 4
    return None


def overlay_image(work):
    """work/build/guest: the image, and an initrd that is the image's with
    a second archive after it (the kernel unpacks both, the second over the
    first): bench-job, its settings, and /etc/inittab with a line that runs
    it once. dhpd runs in work, so its partitions boot this. None when the
    image has no dhp-membw (an image from before mk/bench-guest.mk)."""
    with open(os.path.join(image, "MANIFEST")) as f:
        if not re.search(r"^tools:.*\bdhp-membw\b", f.read(), re.M):
            return None
    with gzip.open(os.path.join(image, "initrd.gz")) as f:
        inittab = newc_file(f.read(), "etc/inittab")
    check(inittab is not None, "the image has no /etc/inittab")
    with open(JOB, "rb") as f:
        job = f.read()
    conf = ("COPY_MIB=%d\nFILL_MIB=%d\nMODULE_MIB=%d\nTIMEOUT_S=300\n"
            % (COPY_MIB, FILL_MIB, MODULE_MIB)).encode()
    extra = newc([("etc/inittab", 0o100644,
                   inittab.rstrip(b"\n") + b"\n::once:/etc/dhp/bench-job\n"),
                  ("etc/dhp/bench-job", 0o100755, job),
                  ("etc/dhp/bench.conf", 0o100644, conf)])
    out = os.path.join(work, "build", "guest")
    os.makedirs(out)
    os.symlink(os.path.join(image, "vmlinuz"), os.path.join(out, "vmlinuz"))
    with open(os.path.join(out, "initrd.gz"), "wb") as f:
        with open(os.path.join(image, "initrd.gz"), "rb") as base:
            shutil.copyfileobj(base, f)
        f.write(gzip.compress(extra, mtime=0))
    return work


# ---- dhp: dhpd and its Redfish API ------------------------------------------

class QemuDhpd(Dhpd):
    """dhpd on a qemu: server, run in cwd (where it finds build/guest)."""

    def __init__(self, topo, cwd, state_dir):
        super().__init__(build, topology=topo, state_dir=state_dir, server="qemu", cwd=cwd,
                         args=["--accel", "tcg"])

    def start(self, timeout=60):
        try:
            return super().start(timeout)
        except AssertionError as e:
            raise Failed(str(e))

    def logtext(self):
        with open(os.path.join(self.state_dir, "dhpd.log"), errors="replace") as f:
            return f.read()

    def qemu_pids(self):
        """The pids of the partitions' QEMUs (they outlive dhpd: -daemonize)."""
        pids = []
        top = os.path.join(self.state_dir, "qemu")
        for d in os.listdir(top) if os.path.isdir(top) else []:
            try:
                with open(os.path.join(top, d, "qemu.pid")) as f:
                    pids.append(int(f.read().strip()))
            except (OSError, ValueError):
                pass
        return pids


class Events:
    """dhpd's event stream (SSE), read by a thread: when each operation's
    end arrived. Waiting on it rather than polling the task monitor puts
    the end within a millisecond and costs no CPU that the guests need."""
    END = ("TaskEvent.1.0.TaskCompletedOK", "TaskEvent.1.0.TaskCompletedWarning",
           "TaskEvent.1.0.TaskAborted")

    def __init__(self, dhpd, token):
        self.ended = {}
        self.broken = False
        self.cond = threading.Condition()
        self.conn = dhpd.connect(timeout=None)
        self.conn.request("GET", "/redfish/v1/EventService/SSE",
                          headers={"X-Auth-Token": token, "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        check(self.resp.status == 200, "the event stream answered %d" % self.resp.status)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                if not line.startswith(b"data: "):
                    continue
                now = time.monotonic()
                for ev in json.loads(line[6:]).get("Events", []):
                    op = ev.get("Oem", {}).get("Dhp", {}).get("Operation")
                    if ev.get("MessageId") in self.END and op is not None:
                        with self.cond:
                            self.ended[op] = now
                            self.cond.notify_all()
        except Exception:  # noqa: BLE001 (closed under it at the end, or broken: see wait_end)
            pass
        with self.cond:
            self.broken = True
            self.cond.notify_all()

    def wait_end(self, op, deadline):
        """When op's end arrived (time.monotonic()); None if the stream
        broke first; Failed at the deadline."""
        with self.cond:
            while op not in self.ended and not self.broken:
                left = deadline - time.monotonic()
                check(left > 0, "operation %d did not end in time" % op)
                self.cond.wait(left)
            return self.ended.get(op)

    def close(self):
        self.conn.close()


class Api:
    """Redfish over one kept-alive HTTPS connection, with a session token
    (Basic auth would hash the password on every request)."""

    def __init__(self, dhpd):
        self.dhpd = dhpd
        self.conn = None
        status, headers, _ = dhpd.request("POST", "/redfish/v1/SessionService/Sessions",
                                          {"UserName": "admin", "Password": dhpd.password},
                                          user=None)
        check(status == 201, "logging in answered %d" % status)
        self.token = headers["x-auth-token"]
        self.events = Events(dhpd, self.token)

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"X-Auth-Token": self.token}
        if data:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if not self.conn:
                self.conn = self.dhpd.connect(timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                text = r.read().decode("utf-8", "replace")
                return r.status, {k.lower(): v for k, v in r.getheaders()}, \
                    json.loads(text) if text else None
            except (http.client.HTTPException, ConnectionError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def run(self, path, body, timeout=180):
        """POST an action that answers 202 + task monitor, and wait for the
        task's end on the event stream (or, should the stream break, by
        polling the monitor). Returns (seconds from the POST to the end,
        the Task)."""
        t0 = time.monotonic()
        status, headers, doc = self.request("POST", path, body)
        check(status == 202, "POST %s answered %d: %s" % (path, status, doc))
        monitor = headers["location"]
        ended = self.events.wait_end(int(monitor.rstrip("/").rsplit("/", 1)[1]), t0 + timeout)
        while True:
            status, _, task = self.request("GET", monitor)
            if status == 200:
                break
            check(status == 202, "task monitor answered %d" % status)
            check(time.monotonic() - t0 < timeout, "task %s did not end in %d s" % (monitor, timeout))
            time.sleep(POLL_S)
        took = (ended or time.monotonic()) - t0
        if task.get("TaskState") != "Completed":
            err = (task.get("Oem", {}).get("Dhp", {}) or {}).get("Error") or {}
            raise Failed("%s: %s %s" % (task.get("Name"), task.get("TaskState"),
                                        err.get("Message", "")))
        return took, task


class DhpSide:
    """The partition "bench" of dhpd, changed through the Redfish API."""
    name = "dhp"

    def __init__(self, dhpd):
        self.dhpd = dhpd
        self.api = Api(dhpd)
        self.tasks = {}

    def create_start(self):
        status, _, doc = self.api.request("POST", "/redfish/v1/Systems", {
            "Name": "bench", "Links": {"ResourceBlocks": [
                {"@odata.id": RB + "s0-cpu0"}, {"@odata.id": RB + "s0-mem0"}]}})
        check(status == 201, "creating the partition answered %d: %s" % (status, doc))
        took, _ = self.api.run(SYSTEM + "/Actions/ComputerSystem.Reset", {"ResetType": "On"})
        _, _, doc = self.api.request("GET", SYSTEM)
        self.pid = doc["Oem"]["Dhp"]["PartitionId"]
        self.dir = os.path.join(self.dhpd.state_dir, "qemu", str(self.pid))
        return took

    def stop(self):
        self.api.run(SYSTEM + "/Actions/ComputerSystem.Reset", {"ResetType": "ForceOff"}, 60)

    def op(self, kind, unit, spare=None, record=True):
        """One operation; the seconds from the request to the task's end.
        Recorded tasks give phase_breakdown() its figures."""
        if kind == "replace":
            path, body = SYSTEM + "/Actions/Oem/DhpComputerSystem.Replace", {
                "ResourceBlock": {"@odata.id": RB + unit}, "Spare": {"@odata.id": RB + spare}}
        else:
            path = SYSTEM + "/Actions/ComputerSystem.%sResourceBlock" % (
                "Add" if kind == "add" else "Remove")
            body = {"ResourceBlock": {"@odata.id": RB + unit}}
        took, task = self.api.run(path, body)
        if record:
            self.tasks.setdefault((kind, unit[3:6]), []).append((took, task))
        return took

    def console(self):
        try:
            with open(os.path.join(self.dir, "console.log"), errors="replace") as f:
                return f.read().replace("\r", "")
        except FileNotFoundError:
            return ""

    def alive(self):
        for pid in self.dhpd.qemu_pids():
            check(os.path.exists("/proc/%d" % pid), "the partition's QEMU ended: " +
                  self.console()[-400:])

    def bench_line(self, pattern, timeout):
        """The first console line "dhp-bench: <pattern...>": its match."""
        def find():
            text = self.console()
            err = re.search(r"^dhp-bench: error.*$", text, re.M)
            check(not err, err.group(0) if err else "")
            return re.search(r"^dhp-bench: " + pattern, text, re.M)
        return wait_for("console line %r" % pattern, find, timeout, self.alive)


# ---- the baseline: the same QEMU, QMP and sysfs by hand ---------------------

class Baseline(SerialLine):
    """A QEMU with the command line dhp gives the partition (cmdline.c:
    the same machine, CPU, vCPU slots, memory slots and maxmem, kernel
    parameters), but ttyS1 a shell (dhp.ttyS1=shell, docs/guest.md): no
    dhpd, no agent. Each operation is the QMP commands dhp's backend sends,
    and the sysfs writes dhp-agent makes, sent directly, then sysfs polled
    in the guest until the unit is online or offline."""
    name = "baseline"
    line_error = Failed

    def __init__(self, workdir, maxcpus, host_cpus):
        self.dir = workdir
        os.makedirs(workdir)
        self.console_path = os.path.join(workdir, "console.log")
        self.line = self.qmp = None
        self.cpus = 1           # Linux numbers processors as they arrive
        self.host_cpus = host_cpus
        cmd = ["qemu-system-x86_64", "-name", "guest=dhp-baseline,debug-threads=on",
               "-M", "q35", "-accel", "tcg", "-cpu", "max",
               "-smp", "1,sockets=1,cores=%d,threads=1,maxcpus=%d" % (maxcpus, maxcpus),
               "-m", "%dM,slots=%d,maxmem=%dM" % (MODULE_MIB, MODULES - 1, MODULES * MODULE_MIB),
               "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-kernel", os.path.join(image, "vmlinuz"),
               "-initrd", os.path.join(image, "initrd.gz"),
               "-append", "console=ttyS0 panic=-1 quiet memhp_default_state=offline "
                          "dhp.ttyS1=shell",
               "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % workdir,
               "-serial", "file:" + self.console_path,
               "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % workdir,
               "-serial", "chardev:agent"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(workdir, "qemu.err"), "w"))

    def console(self):
        try:
            with open(self.console_path, errors="replace") as f:
                return f.read().replace("\r", "")
        except FileNotFoundError:
            return ""

    def alive(self):
        check(self.proc.poll() is None, "the baseline QEMU ended: " + self.console()[-400:])

    def boot(self):
        """Connect before the guest speaks, wait for it, and pin vCPU 0 to
        host CPU 0 as dhp does for s0-cpu0."""
        wait_for("QEMU's sockets", lambda: all(os.path.exists(os.path.join(self.dir, s))
                                              for s in ("qmp.sock", "agent.sock")), 10, self.alive)
        self.qmp = Qmp(os.path.join(self.dir, "qmp.sock"), error=Failed)
        self.open_line(os.path.join(self.dir, "agent.sock"))
        wait_for("the baseline guest's ready marker",
                 lambda: "\ndhp-guest: ready\n" in self.console(), 90, self.alive)
        check("dhp-guest: ttyS1: shell" in self.console(), "the baseline's ttyS1 is no shell")
        if self.host_cpus:
            tid = self.qmp.cmd("query-cpus-fast")[0]["thread-id"]
            os.sched_setaffinity(tid, {0})
        self.block = int(self.sh("cat /sys/devices/system/memory/block_size_bytes"), 16)
        # The polling below forks nothing: a fork and exec costs about
        # 15 ms in a TCG guest (busybox's sleep and cat are not builtins),
        # more than dhp-agent spends. nap waits POLL_S on a FIFO nobody
        # writes to, with the shell's own read.
        self.sh("mkfifo /run/nap && exec 3<>/run/nap; nap() { read -t %g _ <&3; return 0; }"
                % POLL_S)

    def sh(self, command, timeout=60):
        return SerialLine.sh(self, command, timeout)

    def op(self, kind, unit, method="park"):
        t0 = time.monotonic()
        getattr(self, "%s_%s" % (kind, unit[3:6]))(method)
        return time.monotonic() - t0

    # dhp: the agent's report, device_add in the first free slot, the report
    # every 50 ms until the guest has one more processor, cpuN/online <- 1.
    def add_cpu(self, method):
        free = [c for c in self.qmp.cmd("query-hotpluggable-cpus") if "qom-path" not in c]
        check(free, "no free vCPU slot")
        slot = min(free, key=lambda c: c["props"]["core-id"])
        self.qmp.cmd("device_add", driver=slot["type"], id="cpu%d" % self.cpus, **slot["props"])
        cpu = "/sys/devices/system/cpu/cpu%d" % self.cpus
        out = self.sh("until [ -e %s/online ]; do nap; done; echo 1 > %s/online; "
                      "read s < %s/online; echo $s" % (cpu, cpu, cpu))
        check(out == "1", "cpu%d is not online: %r" % (self.cpus, out))
        self.cpus += 1

    # dhp: cpuN/online <- 0 (the agent); park: nothing more; unplug:
    # device_del and the DEVICE_DELETED of its lapic.
    def remove_cpu(self, method):
        n = self.cpus - 1
        cpu = "/sys/devices/system/cpu/cpu%d" % n
        out = self.sh("echo 0 > %s/online; read s < %s/online; echo $s" % (cpu, cpu))
        check(out == "0", "cpu%d is not offline: %r" % (n, out))
        if method == "unplug":
            self.qmp.cmd("device_del", id="cpu%d" % n)
            self.qmp.wait_event("DEVICE_DELETED", lambda e: e["data"].get("path", "").endswith(
                "/cpu%d/lapic" % n))

    def blocks(self):
        dimm = [d["data"] for d in self.qmp.cmd("query-memory-devices")
                if d["data"].get("id") == "bm"]
        check(dimm, "the DIMM is not in QEMU")
        first = dimm[0]["addr"] // self.block
        return range(first, first + dimm[0]["size"] // self.block)

    # dhp: object-add, device_add pc-dimm, query-memory-devices, then the
    # agent writes online_movable to each block once its node is there.
    def add_mem(self, method):
        self.qmp.cmd("object-add", **{"qom-type": "memory-backend-ram", "id": "mem-bm",
                                      "size": MODULE_MIB << 20})
        self.qmp.cmd("device_add", driver="pc-dimm", id="bm", memdev="mem-bm")
        blocks = " ".join(str(b) for b in self.blocks())
        out = self.sh("for b in %s; do f=/sys/devices/system/memory/memory$b/state; "
                      "until [ -e $f ]; do nap; done; echo online_movable > $f; "
                      "read s < $f; [ $s = online ] || echo memory$b $s; done" % blocks)
        check(out == "", "blocks not online: %r" % out)

    # dhp: the agent writes offline to each block (the kernel migrates the
    # pages in use), then device_del, DEVICE_DELETED, object-del.
    def remove_mem(self, method):
        blocks = " ".join(str(b) for b in self.blocks())
        out = self.sh("for b in %s; do f=/sys/devices/system/memory/memory$b/state; "
                      "echo offline > $f; read s < $f; [ $s = offline ] || echo memory$b $s; done"
                      % blocks)
        check(out == "", "blocks not offline: %r" % out)
        self.qmp.cmd("device_del", id="bm")
        self.qmp.wait_event("DEVICE_DELETED", lambda e: e["data"].get("device") == "bm")
        self.qmp.cmd("object-del", id="mem-bm")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for s in (self.line, self.qmp and self.qmp.sock):
            if s:
                s.close()


# ---- the measurements --------------------------------------------------------

def host_load():
    """The host's load, for reading the figures: TCG guests, dhpd and the
    baseline share the machine with whatever else runs."""
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    try:
        with open("/proc/pressure/cpu") as f:
            cpu = f.readline().split()[2].split("=")[1]
        return "load average %s, CPU pressure (avg60) %s%%" % (load, cpu)
    except (OSError, IndexError):
        return "load average %s" % load


def stats(samples):
    return statistics.median(samples), min(samples), max(samples)


def latency(dhp, base, method):
    """RUNS of each operation on each side, alternating which side goes
    first, with the same pause after each operation."""
    ops = [("processor", "s0-cpu2"), ("1 GiB memory", "s0-mem1")]
    for label, unit in ops:
        times = {"dhp": {"add": [], "remove": []}, "baseline": {"add": [], "remove": []}}
        try:
            for i in range(RUNS):
                sides = (dhp, base) if i % 2 == 0 else (base, dhp)
                for kind in ("add", "remove"):
                    for side in sides:
                        t = side.op(kind, unit, method) if side is base else side.op(kind, unit)
                        times[side.name][kind].append(t)
                        time.sleep(SETTLE_S)
                note("%s run %d: add %.0f / %.0f ms, remove %.0f / %.0f ms (dhp / baseline)" % (
                    label, i + 1, times["dhp"]["add"][-1] * 1e3, times["baseline"]["add"][-1] * 1e3,
                    times["dhp"]["remove"][-1] * 1e3, times["baseline"]["remove"][-1] * 1e3))
        except Failed as e:
            note("%s: stopped after %d runs: %s" % (label, len(times["baseline"]["remove"]), e))
        for kind in ("add", "remove"):
            d, b = times["dhp"][kind], times["baseline"][kind]
            n = min(len(d), len(b))
            name = "qemu: hot %s %s%s" % (kind, label, " (%s)" % method
                                    if kind == "remove" and unit.startswith("s0-cpu") else "")
            if not n:
                row(name, "-", "", "<= %.1f" % TARGET, "NOT MEASURED")
                continue
            dm, dlo, dhi = stats(d[:n])
            bm, blo, bhi = stats(b[:n])
            row(name + ", dhp", "%.0f" % (dm * 1e3), "ms", "", "median of %d" % n)
            row("  baseline (QMP + sysfs)", "%.0f" % (bm * 1e3), "ms", "", "median of %d" % n)
            r = dm / bm
            row("  ratio dhp : baseline", "%.2f" % r, "", "<= %.1f" % TARGET,
                "met" if r <= TARGET else "MISSED")
            note("%s: dhp %.0f-%.0f ms, baseline %.0f-%.0f ms (min-max)" % (
                name[6:], dlo * 1e3, dhi * 1e3, blo * 1e3, bhi * 1e3))


def phase_breakdown(dhp):
    """Where dhp's time goes, from the tasks' events (median ms after the
    request of each event, in order), for the diagnosis."""
    def ms(iso):
        t = time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")
        return (time.mktime(t) + float("0" + iso[19:].rstrip("Z").split("+")[0])) * 1e3

    for (kind, what), tasks in sorted(dhp.tasks.items()):
        if kind == "replace" or len(tasks) < 2:
            continue
        points = {}
        for took, task in tasks:
            start = ms(task["StartTime"])
            for i, m in enumerate(task.get("Messages", [])):
                dhpm = m.get("Oem", {}).get("Dhp", {})
                msg = re.sub(r"\d+", "N", m.get("Message", ""))[:60]
                points.setdefault((i, msg), []).append(ms(dhpm.get("Time", task["StartTime"])) - start)
        note("%s %s: dhpd's events, median ms after the request:" % (kind, what))
        for (i, msg), v in sorted(points.items()):
            note("  %6.0f  %s" % (statistics.median(v), msg))
        note("  %6.0f  the client sees the task ended" % (statistics.median(t for t, _ in tasks) * 1e3))


def mem_replace(dhp, dhpd):
    """The job in the partition measured memcpy; dhp hot adds s0-mem1, the
    job fills it, dhp replaces it with s0-mem2, the job says what it saw."""
    copy = dhp.bench_line(r"copy (\d+) MiB/s", 120)
    note("guest: %s" % copy.group(0))
    t = dhp.op("add", "s0-mem1", record=False)
    note("hot added s0-mem1 (1 GiB, untimed setup): %.0f ms" % (t * 1e3))
    held = dhp.bench_line(r"held .*", 120)
    quiet = dhp.bench_line(r"quiet stall ([\d.]+) ms", 60)
    filled = dhp.bench_line(r"filled movable-used-kib (\d+)", 60)
    note("guest: %s; %s; %s" % (held.group(0), quiet.group(0), filled.group(0)))
    total = dhp.op("replace", "s0-mem1", "s0-mem2", record=False)
    stall = dhp.bench_line(r"replace stall ([\d.]+) ms", 120)
    dhp.bench_line("done", 60)
    rep = re.search(r"hot replace s0-mem1 -> s0-mem2 .*?: (\d+) MiB offlined .*? in (\d+) ms, "
                    r"(\d+) MiB/s; (\d+) ms in all", dhpd.logtext())
    check(rep, "dhpd logged no memory hot replace")
    note("dhpd: %s" % rep.group(0))
    note("guest: %s" % stall.group(0))
    moved = int(filled.group(1)) / 1024.0
    offline_ms = int(rep.group(2))
    rate = moved * 1e3 / offline_ms
    bw = int(copy.group(1))
    row("qemu: guest memcpy (dhp-membw)", "%d" % bw, "MiB/s")
    row("qemu: hot replace 1 GiB memory, moved", "%.0f" % moved, "MiB", "", "in use in the module")
    row("  offline (pages migrated)", "%d" % offline_ms, "ms")
    row("  bytes moved per second", "%.0f" % rate, "MiB/s")
    row("  ratio moved/s : guest memcpy", "%.3f" % (rate / bw))
    row("  dhpd's figure (module size / offline)", rep.group(3), "MiB/s")
    row("  request to task completed", "%.0f" % (total * 1e3), "ms")
    row("  pause: longest application stall", "%.0f" % float(stall.group(1)), "ms", "",
        "quiet: %.0f ms" % float(quiet.group(1)))
    dhp.op("remove", "s0-mem2", record=False)     # back to the boot memory (setup)


def cpu_replace(dhp, dhpd, host_cpus):
    """RUNS processor hot replaces, back and forth between s0-cpu0 and
    s0-cpu1: the vCPU thread re-pinned (host CPUs 0 and 1)."""
    pair = ("s0-cpu0", "s0-cpu1")
    took = []
    for i in range(RUNS):
        took.append(dhp.op("replace", pair[i % 2], pair[1 - i % 2], record=False))
        time.sleep(SETTLE_S)
    if RUNS % 2:
        dhp.op("replace", pair[1], pair[0], record=False)     # back on host CPU 0
    pauses = [float(p) for p in re.findall(r"hot replace s0-cpu\d -> s0-cpu\d .*?pause ([\d.]+) ms",
                                           dhpd.logtext())][:RUNS]
    check(pauses, "dhpd logged no processor hot replace")
    med, lo, hi = stats(pauses)
    row("qemu: hot replace processor, pause", "%.3f" % med, "ms", "", "median of %d%s" % (
        len(pauses), "" if host_cpus else "; no host CPUs: nothing moves"))
    row("  pause, longest", "%.3f" % hi, "ms")
    row("  request to task completed", "%.0f" % (statistics.median(took) * 1e3), "ms", "",
        "median of %d" % len(took))


def main():
    if not shutil.which("qemu-system-x86_64"):
        note("qemu-system-x86_64 is not installed: skipped")
        return
    if not all(os.path.exists(os.path.join(image, f)) for f in ("vmlinuz", "initrd.gz", "MANIFEST")):
        note("no guest image in %s (make guest): skipped" % image)
        return
    if not os.path.exists(os.path.join(build, "dhpd")):
        note("%s/dhpd is not built: skipped" % build)
        return
    with open(os.path.join(image, "MANIFEST")) as f:
        if "agent: dhp-agent" not in f.read():
            note("the guest image has no dhp-agent (its MANIFEST says why): skipped")
            return
    host_cpus = (os.cpu_count() or 1) >= 2
    processors = max(8, RUNS // 2 + 3)          # room for a slot per hot add
    maxcpus = max(16, min(255, 2 * processors))
    top = os.environ.get("DHP_BENCH_DIR", "/var/tmp")
    work = tempfile.mkdtemp(prefix="dhp-qo-", dir=top)
    dhpd = base = dhp = None
    started = time.monotonic()
    note("%d runs of each operation; state in %s; QEMU %s, TCG; host: %d CPUs, %s" % (
        RUNS, work, subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                                   text=True).stdout.split()[3], os.cpu_count() or 1, host_load()))
    try:
        topo = os.path.join(work, "topology")
        topology(topo, processors, host_cpus)
        cwd = overlay_image(os.path.join(work, "image"))
        if not cwd:
            note("the guest image has no dhp-membw (make guest): no memory hot replace figures")
        state = os.path.join(work, "dhpd")
        os.makedirs(state)
        try:
            dhpd = QemuDhpd(topo, cwd or ROOT, state)
        except Skip as s:
            note("%s: skipped" % s)
            return
        dhpd.start()
        base = Baseline(os.path.join(work, "baseline"), maxcpus, host_cpus)
        dhp = DhpSide(dhpd)
        took = dhp.create_start()
        note("dhp partition started (boot to the agent's hello): %.1f s" % took)
        base.boot()
        note("baseline: a QEMU with the partition's command line, ttyS1 a shell, no dhpd or "
             "agent; QMP and sysfs writes sent directly, sysfs polled every %g s in the guest"
             % POLL_S)
        m = re.search(r"processors leave partitions by (\w+): (.*)", dhpd.logtext())
        method = m.group(1) if m else "park"
        note("processor hot remove: %s (%s)" % (method, m.group(2) if m else "dhpd did not say"))
        if cwd:
            try:
                mem_replace(dhp, dhpd)
            except Failed as e:
                note("memory hot replace: %s" % e)
            try:
                out = base.sh("dhp-membw copy %d" % COPY_MIB)
                note("baseline guest: %s" % out)
            except Failed as e:
                note("baseline guest memcpy: %s" % e)
        latency(dhp, base, method)
        phase_breakdown(dhp)
        try:
            cpu_replace(dhp, dhpd, host_cpus)
        except Failed as e:
            note("processor hot replace: %s" % e)
        dhp.stop()
    except Failed as e:
        note("could not finish: %s" % e)
    finally:
        if base:
            base.kill()
        if dhp:
            dhp.api.events.close()
        if dhpd:
            dhpd.stop()
            for pid in dhpd.qemu_pids():     # -daemonize: not dhpd's children
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        if b"qemu-system" in f.read():
                            os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if os.environ.get("DHP_BENCH_KEEP"):
            note("kept %s (DHP_BENCH_KEEP)" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        note("done in %.0f s; host: %s" % (time.monotonic() - started, host_load()))


def on_term(sig, frame):
    note("stopped by signal %d" % sig)
    raise SystemExit(128 + sig)     # the cleanup in main's finally runs


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    try:
        main()
    except KeyboardInterrupt:
        note("interrupted")
        sys.exit(130)
