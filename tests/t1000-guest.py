# SPDX-License-Identifier: MIT
"""The guest image (guest/, docs/guest.md) boots under QEMU (TCG) and sees
hot plugged units, driven through a shell on ttyS1: boot to the ready
marker, a processor hot added and brought online from inside, a memory
module (pc-dimm) hot added, onlined movable and hot removed, a network card
hot added behind a PCIe root port and removed, then the ACPI power button
(the guest powers itself off). A second boot checks that dhp-agent, when
the image has it, answers on ttyS1, then QMP quit. Last, dhpd with a QEMU
server, driven by dhpctl: the processor removal method the API shows (park
under TCG), a partition's console log (its boot line; followed while it
stops) and a graceful stop (the guest powers off on the button). Processor
unplug is never tried: it corrupts QEMU 7.2's heap under TCG (DESIGN.md
section 9).
Usage: python3 tests/t1000-guest.py BUILD_DIR"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402
from qmp import Qmp  # noqa: E402
from serialline import SerialLine  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
image = os.path.join(build, "guest")
READY = "dhp-guest: ready"
MAXCPUS = 16  # as DESIGN.md section 9 (4 and 8 did not stall here: docs/guest.md)


class Guest(SerialLine):
    """One QEMU partition booted from the image, with the command line of
    DESIGN.md section 9; ttyS1 (agent.sock) is a shell when append asks."""

    def __init__(self, append="", maxcpus=MAXCPUS):
        self.dir = tempfile.mkdtemp(prefix="dhp-guest-")
        self.console = os.path.join(self.dir, "console.log")
        self.qmp = self.line = None
        cmd = ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-cpu", "max",
               "-m", "512M,slots=8,maxmem=8G", "-smp", "1,maxcpus=%d" % maxcpus,
               "-nographic", "-no-reboot", "-nic", "none",
               "-kernel", os.path.join(image, "vmlinuz"),
               "-initrd", os.path.join(image, "initrd.gz"),
               "-append", ("console=ttyS0 panic=-1 quiet " + append).strip(),
               "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % self.dir,
               "-serial", "file:" + self.console,
               "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % self.dir,
               "-serial", "chardev:agent", "-monitor", "none", "-display", "none",
               # an empty slot for an I/O host bridge's device
               "-device", "pcie-root-port,id=rp1,chassis=1,slot=1"]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "qemu.err"), "w"))

    def log(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read().replace("\r", "")
        except FileNotFoundError:
            return ""

    def wait_console(self, text, timeout=60):
        end = time.monotonic() + timeout
        while text not in self.log():
            check(self.proc.poll() is None, "QEMU exited (%s): %s" % (self.proc.returncode, self.tail()))
            check(time.monotonic() < end, "no %r on the console in %d s: %s" % (text, timeout, self.tail()))
            time.sleep(0.05)
        return time.monotonic() - self.started

    def tail(self):
        return self.log()[-600:]

    def connect(self, timeout=10):
        """Connect to QMP and to ttyS1 as soon as QEMU listens, before the
        guest boots: QEMU drops what the guest writes to an unconnected
        socket, and the agent says hello once, when it opens the line."""
        end = time.monotonic() + timeout
        while not all(os.path.exists(os.path.join(self.dir, s)) for s in ("qmp.sock", "agent.sock")):
            check(self.proc.poll() is None, "QEMU exited: " + self.stderr())
            check(time.monotonic() < end, "QEMU made no sockets in %d s" % timeout)
            time.sleep(0.02)
        self.qmp = Qmp(os.path.join(self.dir, "qmp.sock"))
        self.open_line(os.path.join(self.dir, "agent.sock"))

    def stderr(self):
        with open(os.path.join(self.dir, "qemu.err"), errors="replace") as f:
            return f.read()[-600:]

    def quit(self):
        self.qmp.cmd("quit")
        self.proc.wait(timeout=10)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        for s in (self.line, self.qmp and self.qmp.sock):
            if s:
                s.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def memtotal_kib(g):
    return int(g.sh("sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo"))


def offline_blocks(g):
    """The names (memoryN) of the guest's offline memory blocks."""
    out = g.sh("grep -l offline /sys/devices/system/memory/memory*/state || true")
    return sorted(path.split("/")[-2] for path in out.split())


def boot(g):
    g.connect()
    t = g.wait_console(READY)
    print("# boot to %r: %.2f s (QEMU start included)" % (READY, t), flush=True)
    check("dhp-guest: ttyS1: shell" in g.log(), "ttyS1 is not a shell: " + g.tail())
    check("failed to load" not in g.log(), "a module failed: " + g.tail())
    check(g.sh("cat /sys/devices/system/cpu/present") == "0", "one processor at boot")
    mods = g.sh("cut -d' ' -f1 /proc/modules").split()
    for m in ("virtio_pci", "virtio_net", "virtio_blk", "evdev", "button"):
        check(m in mods, "%s not loaded: %s" % (m, mods))
    # acpid watches the power button (docs/guest.md).
    g.sh("pidof acpid")


def cpu_hot_add(g):
    free = [c for c in g.qmp.cmd("query-hotpluggable-cpus") if "qom-path" not in c]
    check(len(free) == MAXCPUS - 1, "%d free processor slots" % len(free))
    slot = sorted(free, key=lambda c: sorted(c["props"].items()))[0]
    t = time.monotonic()
    g.qmp.cmd("device_add", driver=slot["type"], id="cpu1", **slot["props"])
    print("# processor device_add: %.1f ms" % ((time.monotonic() - t) * 1e3), flush=True)
    # The guest learns of it through ACPI; the new processor is present but
    # offline (no udev here to online it): onlining is the agent's job.
    g.sh("until [ -e /sys/devices/system/cpu/cpu1/online ]; do sleep 0.05; done")
    print("# processor present in the guest after %.2f s" % (time.monotonic() - t), flush=True)
    check(g.sh("cat /sys/devices/system/cpu/present") == "0-1", "cpu1 present")
    check(g.sh("cat /sys/devices/system/cpu/online") == "0", "cpu1 not yet online")
    t = time.monotonic()
    g.sh("echo 1 > /sys/devices/system/cpu/cpu1/online")
    print("# processor online: %.2f s" % (time.monotonic() - t), flush=True)
    check(g.sh("cat /sys/devices/system/cpu/online") == "0-1", "cpu1 online")
    check(g.sh("nproc") == "2", "two processors for applications")


def dimm_hot_add(g):
    before, blocks = memtotal_kib(g), offline_blocks(g)
    t = time.monotonic()
    g.qmp.cmd("object-add", **{"qom-type": "memory-backend-ram", "id": "m1", "size": 128 << 20})
    g.qmp.cmd("device_add", driver="pc-dimm", id="d1", memdev="m1")
    # Memory is not onlined by the kernel (auto-online is off in this
    # kernel), so the agent can online it movable, and remove it again.
    g.sh("until [ $(grep -l offline /sys/devices/system/memory/memory*/state | wc -l) -gt %d ]; "
         "do sleep 0.05; done" % len(blocks))
    new = [b for b in offline_blocks(g) if b not in blocks]
    check(len(new) == 1, "one 128 MiB block added: %s" % new)
    g.sh("echo online_movable > /sys/devices/system/memory/%s/state" % new[0])
    print("# 128 MiB module added and online: %.2f s" % (time.monotonic() - t), flush=True)
    check(memtotal_kib(g) - before == 128 << 10, "MemTotal grew by 128 MiB")
    zone = g.sh("cat /sys/devices/system/memory/%s/valid_zones" % new[0])
    check(zone == "Movable", "the module is movable: %r" % zone)


def dimm_hot_remove(g):
    before = memtotal_kib(g)
    t = time.monotonic()
    g.qmp.cmd("device_del", id="d1")
    # The guest's ACPI handler offlines the movable block and ejects it.
    g.qmp.wait_event("DEVICE_DELETED", lambda e: e["data"].get("device") == "d1")
    g.qmp.cmd("object-del", id="m1")
    print("# 128 MiB module removed: %.2f s" % (time.monotonic() - t), flush=True)
    check(before - memtotal_kib(g) == 128 << 10, "MemTotal shrank by 128 MiB")


def pcie_hot_add_remove(g):
    t = time.monotonic()
    g.qmp.cmd("device_add", driver="virtio-net-pci", id="nic1", bus="rp1")
    # virtio_net is loaded at boot, so the card binds without udev.
    g.sh("until [ -e /sys/class/net/eth0 ]; do sleep 0.05; done")
    print("# network card hot added and bound: %.2f s" % (time.monotonic() - t), flush=True)
    driver = g.sh("basename $(readlink /sys/class/net/eth0/device/driver)")
    check(driver == "virtio_net", "eth0's driver: %r" % driver)
    t = time.monotonic()
    g.qmp.cmd("device_del", id="nic1")
    g.qmp.wait_event("DEVICE_DELETED", lambda e: e["data"].get("device") == "nic1")
    print("# network card removed: %.2f s" % (time.monotonic() - t), flush=True)
    check(g.sh("ls /sys/class/net") == "lo", "eth0 is gone")


def power_button(g):
    """The ACPI power button (QMP system_powerdown, dhp's graceful stop):
    the guest powers itself off, and QEMU ends, without a quit."""
    t = time.monotonic()
    g.qmp.cmd("system_powerdown")
    try:
        g.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        raise AssertionError("the guest did not power off on the power button: " + g.tail())
    print("# power button to QEMU's end: %.2f s" % (time.monotonic() - t), flush=True)
    check("dhp-guest: power button: powering off" in g.log(), "no marker: " + g.tail())


def agent_starts():
    if not os.path.exists(os.path.join(image, "initrd.gz")):
        raise Skip("no image")
    with open(os.path.join(image, "MANIFEST")) as f:
        if "agent: dhp-agent" not in f.read():
            raise Skip("the image has no dhp-agent (its MANIFEST says why)")
    g = Guest()
    try:
        g.connect()
        g.wait_console(READY)
        check("dhp-guest: ttyS1: dhp-agent" in g.log(), "ttyS1 is not the agent: " + g.tail())
        # The agent speaks first (docs/agent-protocol.md): its hello on
        # opening the line; then it answers a request.
        hello = json.loads(g.read_line(30))
        check(hello.get("type") == "hello" and hello.get("version") == 1, "hello: %r" % hello)
        g.line.sendall(b'\n{"type":"request","id":1,"op":"ping"}\n')
        while True:
            doc = json.loads(g.read_line(30))
            if doc.get("type") == "reply":
                break
        check(doc.get("id") == 1, "a reply to request 1: %r" % doc)
        check("ttyS1 service restarted" not in g.log(), "dhp-agent exited: " + g.tail())
        g.quit()
    finally:
        g.kill()


def dhpctl_env(dhpd):
    e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
    e.update(DHP_URL="https://127.0.0.1:%d" % dhpd.port, DHP_USER="admin",
             DHP_PASSWORD=dhpd.password,
             DHP_CACERT=os.path.join(dhpd.state_dir, "tls", "cert.pem"))
    return e


def dhpctl(dhpd, *args, code=0):
    out = subprocess.run([os.path.join(build, "dhpctl")] + list(args), env=dhpctl_env(dhpd),
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=180)
    check(out.returncode == code, "dhpctl %s: exit %d, not %d\n%s%s" % (
        " ".join(args), out.returncode, code, out.stdout, out.stderr))
    return out


def dhpd_qemu():
    """dhpd --server qemu: with dhpctl: the API's processor removal method,
    a partition's console log, a graceful stop. dhpd takes the image at
    build/guest of the tree (its working directory), which needs the
    agent."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not shutil.which("qemu-system-x86_64"):
        raise Skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    try:
        with open(os.path.join(root, "build", "guest", "MANIFEST")) as f:
            if "agent: dhp-agent" not in f.read():
                raise Skip("build/guest has no dhp-agent (make guest)")
    except FileNotFoundError:
        raise Skip("no image in build/guest, where dhpd looks (make guest)")
    if not os.path.exists(os.path.join(build, "dhpctl")):
        raise Skip("dhpctl is not built")
    dhpd = Dhpd(build, server="qemu", args=["--accel", "tcg", "--hash-iterations", "1000"])
    try:
        dhpd.start(timeout=60)
        out = dhpctl(dhpd, "server").stdout
        check(re.search(r"^backend\s+qemu \d+\.\d+\.\d+ \(tcg\)$", out, re.M), out)
        check(re.search(r"^cpu remove\s+park: ", out, re.M), out)
        _, _, chassis = dhpd.request("GET", "/redfish/v1/Chassis/demo")
        dhp = chassis["Oem"]["Dhp"]
        check(dhp["Backend"] == "qemu" and dhp["Accelerator"] == "tcg" and
              dhp["ProcessorRemoveMethod"] == "park" and "TCG" in dhp["ProcessorRemoveReason"],
              dhp)
        dhpctl(dhpd, "create", "p", "--os", "linux", "s0-cpu0", "s0-mem0")
        out = dhpctl(dhpd, "console", "p", code=3)
        check("no console log yet" in out.stderr, out.stderr)
        t = time.monotonic()
        dhpctl(dhpd, "start", "p")
        print("# dhpd: start: %.1f s" % (time.monotonic() - t), flush=True)
        console_of_a_partition(dhpd)
        stop_graceful(dhpd)
        dhpctl(dhpd, "delete", "p")
    finally:
        for pidfile in glob.glob(os.path.join(dhpd.state_dir, "qemu", "*", "qemu.pid")):
            try:
                with open(pidfile) as f:
                    os.kill(int(f.read().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        dhpd.cleanup()


CONSOLE = "/redfish/v1/Systems/p/Oem/Dhp/Console"


def console_of_a_partition(dhpd):
    out = dhpctl(dhpd, "console", "p").stdout
    lines = [l.rstrip("\r") for l in out.splitlines()]
    check(any(l.startswith("dhp-guest: init ") for l in lines), "no boot line: %r" % out)
    check("dhp-guest: ready" in lines, out)
    # The API's ranges (docs/redfish.md).
    status, hdrs, text = dhpd.request("GET", CONSOLE)
    size = len(text.encode())
    check(status == 200 and hdrs["content-type"] == "text/plain", "%d %s" % (status, hdrs))
    status, hdrs, text = dhpd.request("GET", CONSOLE, headers={"Range": "bytes=2-11"})
    check(status == 206 and text == "dhp-guest:" and
          re.fullmatch(r"bytes 2-11/\d+", hdrs["content-range"]), "%d %r %s" % (status, text, hdrs))
    status, hdrs, _ = dhpd.request("GET", CONSOLE, headers={"Range": "bytes=%d-" % 10**9})
    check(status == 416 and re.fullmatch(r"bytes \*/\d+", hdrs["content-range"]) and
          int(hdrs["content-range"].split("/")[1]) >= size, "%d %s" % (status, hdrs))


def stop_graceful(dhpd):
    """A stop is graceful: the guest powers off on the ACPI power button
    (dhpd logs the backend's notice); the console, followed, shows it."""
    follow = subprocess.Popen([os.path.join(build, "dhpctl"), "console", "p", "--follow"],
                              env=dhpctl_env(dhpd), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        out = dhpctl(dhpd, "stop", "p").stdout
        m = re.search(r"^operation \d+ stop p: completed \((\d+) ms\)$", out, re.M)
        check(m, out)
        print("# dhpd: graceful stop: %.1f s" % (int(m.group(1)) / 1000), flush=True)
        end = time.monotonic() + 10
        while "powered off by its OS" not in open(os.path.join(dhpd.state_dir, "dhpd.log")).read():
            check(time.monotonic() < end, "no graceful stop in dhpd's log")
            time.sleep(0.1)
        time.sleep(1.5)	# two polls of --follow
    finally:
        follow.send_signal(signal.SIGINT)
        try:
            shown, errors = follow.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            follow.kill()
            shown, errors = follow.communicate()
    check(follow.returncode == 0, "console --follow: exit %d: %s" % (follow.returncode, errors))
    check("dhp-guest: power button: powering off" in shown, "followed: %r" % shown[-600:])
    log = open(os.path.join(dhpd.state_dir, "dhpd.log")).read()
    check("did not power off" not in log, log)


def main():
    names = ["boot", "cpu-hot-add", "dimm-hot-add", "dimm-hot-remove", "pcie-hot-add-remove",
             "power-button"]
    why = None
    if not shutil.which("qemu-system-x86_64"):
        why = "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    elif not os.path.exists(os.path.join(image, "initrd.gz")):
        why = "no guest image in %s (make guest)" % image
    if why:
        for n in names + ["agent-starts"]:
            results.skip(n, why)
        results.case("dhpd-qemu", dhpd_qemu)
        results.done()
    # One boot for the sequence; a step that fails skips the ones after it.
    g = Guest(append="dhp.ttyS1=shell")
    try:
        steps = [boot, cpu_hot_add, dimm_hot_add, dimm_hot_remove, pcie_hot_add_remove,
                 power_button]
        for name, step in zip(names, steps):
            failed = results.failed
            results.case(name, step, g)
            if results.failed > failed:
                for n in names[names.index(name) + 1:]:
                    results.skip(n, "an earlier step failed")
                print("# console: " + g.tail().replace("\n", "\n# "), flush=True)
                break
    finally:
        g.kill()
    results.case("agent-starts", agent_starts)
    results.case("dhpd-qemu", dhpd_qemu)
    results.done()


main()
