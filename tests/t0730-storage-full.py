# SPDX-License-Identifier: MIT
"""The state directory's file system fills, and empties (docs/engine.md,
"A full disk"; docs/dhpd.md): a real dhpd on a small tmpfs mounted by this
test. A request is refused with 503 and Retry-After, saying the file
system is full and where; an operation under way waits; once the filling
file is removed the operation ends and the next request is taken, without
a restart; dhpd logs "full" once and "back" once. A read-only state
directory at start: dhpd exits 1 with one line naming it and why.

Root only (it mounts); skipped otherwise. Every mount and process it makes
is removed by the test, whatever happens.

Usage: python3 tests/t0730-storage-full.py BUILD_DIR"""

import errno
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import ROOT, Dhpd, Results, Skip, check  # noqa: E402

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
TASKS = V1 + "/TaskService/Tasks"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
SIZE = "4m"

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def blk(unit):
    return {"@odata.id": BLOCKS + unit}


class Tmpfs:
    """A size-limited tmpfs on a fresh directory; unmounted by close()."""

    def __init__(self):
        if os.geteuid() != 0:
            raise Skip("mounting a tmpfs needs root")
        self.dir = tempfile.mkdtemp(prefix="dhp-fs-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + SIZE + ",mode=0700",
                            "tmpfs", self.dir], capture_output=True, text=True)
        if r.returncode:
            os.rmdir(self.dir)
            raise Skip("cannot mount a tmpfs: " + r.stderr.strip())
        self.mounted = True

    def fill(self):
        """Write a file until the file system refuses: ENOSPC."""
        path = os.path.join(self.dir, "filler")
        chunk = b"\0" * 65536
        with open(path, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(chunk)
            except OSError as e:
                check(e.errno == errno.ENOSPC, "filling: %s" % e)
        # What is left is less than a page: take it too.
        with open(path, "ab", buffering=0) as f:
            for _ in range(4096):
                try:
                    f.write(b"\0")
                except OSError:
                    break
        return path

    def remount_ro(self):
        subprocess.run(["mount", "-o", "remount,ro", self.dir], check=True)

    def close(self):
        if self.mounted:
            r = subprocess.run(["umount", self.dir], capture_output=True, text=True)
            if r.returncode:  # busy: a process of ours still in it
                subprocess.run(["umount", "-l", self.dir])
            self.mounted = False
        shutil.rmtree(self.dir, ignore_errors=True)


def start_dhpd(fs, outside, args=()):
    """dhpd on the tmpfs; its log file (kept by dhptest in the state
    directory) goes outside, as a full disk would lose it."""
    log = os.path.join(outside, "dhpd.log")
    open(log, "w").close()
    os.symlink(log, os.path.join(fs.dir, "dhpd.log"))
    d = Dhpd(build, state_dir=fs.dir, args=list(args))
    d.start()
    return d, log


def log_lines(log, text):
    with open(log) as f:
        return [line for line in f if text in line]


def compose(d, name, cpu, mem):
    return d.request("POST", SYSTEMS, {
        "Name": name, "Links": {"ResourceBlocks": [blk(cpu), blk(mem)]},
        "Oem": {"Dhp": {"OsProfile": "linux"}}})


def newest_task(d):
    status, _, coll = d.request("GET", TASKS)
    check(status == 200, "GET Tasks: %d" % status)
    return coll["Members"][-1]["@odata.id"]


def task_state(d, uri):
    status, _, task = d.request("GET", uri)
    check(status == 200, "GET %s: %d" % (uri, status))
    return task["TaskState"]


def wait_task(d, uri, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = task_state(d, uri)
        if state not in ("New", "Running"):
            return state
        time.sleep(0.05)
    raise AssertionError("%s did not end" % uri)


def check_refused_full(fs, status, hdrs, body):
    check(status == 503, "refused with %d, expected 503: %s" % (status, body))
    check(hdrs.get("retry-after"), "no Retry-After")
    info = body["error"]["@Message.ExtendedInfo"][0]
    check(info["MessageId"].endswith("ServiceTemporarilyUnavailable"), "MessageId %s" %
          info["MessageId"])
    msg = info["Message"]
    check("database or disk is full" in msg and "ENOSPC" in msg, "what SQLite said: " + msg)
    check(fs.dir in msg and "is full" in msg, "where: " + msg)
    check("restart" not in info.get("Resolution", "") or "no restart" in info["Resolution"],
          "resolution asks for a restart: %s" % info.get("Resolution"))


def test_full_then_space(outside):
    fs = Tmpfs()
    d = None
    try:
        d, log = start_dhpd(fs, outside)
        status, _, body = compose(d, "a", "s0-cpu0", "s0-mem0")
        check(status in (201, 202), "compose a: %d %s" % (status, body))
        check(wait_task(d, newest_task(d)) == "Completed", "compose a completed")

        filler = fs.fill()
        status, hdrs, body = compose(d, "b", "s1-cpu0", "s1-mem0")
        check_refused_full(fs, status, hdrs, body)
        status, _, _ = d.request("GET", SYSTEMS + "/a")
        check(status == 200, "reads go on while full: %d" % status)
        status, hdrs, body = compose(d, "b", "s1-cpu0", "s1-mem0")
        check_refused_full(fs, status, hdrs, body)
        status, _, _ = d.request("GET", SYSTEMS + "/b")
        check(status == 404, "b was not made: %d" % status)
        check(len(log_lines(log, "is full")) == 1,
              "logged full %d times" % len(log_lines(log, "is full")))

        os.unlink(filler)
        status, _, body = compose(d, "b", "s1-cpu0", "s1-mem0")
        check(status in (201, 202), "compose b once space returned: %d %s" % (status, body))
        check(wait_task(d, newest_task(d)) == "Completed", "compose b completed")
        check(len(log_lines(log, "writes succeed again")) == 1, "logged back once")
        check(d.proc.poll() is None, "dhpd still runs")
    finally:
        if d:
            d.stop()
        fs.close()


def test_operation_waits(outside):
    """A start whose phases are slow: the disk fills under it, it waits,
    and ends once the filling file is gone."""
    fs = Tmpfs()
    d = None
    try:
        d, log = start_dhpd(fs, outside, ["--sim-latency-ms", "300"])
        status, _, body = compose(d, "a", "s0-cpu0", "s0-mem0")
        check(status in (201, 202), "compose a: %d %s" % (status, body))
        check(wait_task(d, newest_task(d)) == "Completed", "compose a completed")
        status, _, body = d.request("POST", SYSTEMS + "/a/Actions/ComputerSystem.Reset",
                                    {"ResetType": "On"})
        check(status == 202, "start a: %d %s" % (status, body))
        uri = newest_task(d)
        filler = fs.fill()
        time.sleep(3)
        check(task_state(d, uri) == "Running", "the start waits while the disk is full")
        check(len(log_lines(log, "is full")) == 1, "logged full once")
        os.unlink(filler)
        check(wait_task(d, uri) == "Completed", "the start ended once space returned")
        status, _, sysa = d.request("GET", SYSTEMS + "/a")
        check(sysa["PowerState"] == "On", "a is on: %s" % sysa.get("PowerState"))
        check(len(log_lines(log, "writes succeed again")) == 1, "logged back once")
        check(d.stop() == 0, "dhpd stops cleanly")
        d = None
    finally:
        if d:
            d.stop()
        fs.close()


def test_read_only_at_start(outside):
    fs = Tmpfs()
    proc = None
    try:
        pwfile = os.path.join(outside, "password")
        with open(pwfile, "w") as f:
            f.write("admin-pass-1234\n")
        cmd = [os.path.join(build, "dhpd"), "--listen", "127.0.0.1:0", "--no-tls",
               "--state-dir", fs.dir, "--admin-password-file", pwfile,
               "--server", "sim:topologies/demo"]
        # Once on it read-write (a state directory with a store), then
        # read-only, as after an error remount.
        proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        line = proc.stderr.readline()
        check("ready on" in line, "first start: %s" % line)
        proc.terminate()
        check(proc.wait(timeout=20) == 0, "first start stopped cleanly")
        fs.remount_ro()
        proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError("dhpd did not refuse a read-only state directory")
        check(proc.returncode == 1, "exit status %d" % proc.returncode)
        first = err.splitlines()[0] if err else ""
        check(first == "dhpd: state directory %s is not writable: Read-only file system" % fs.dir,
              "first line: %r" % first)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        fs.close()


def main():
    outside = tempfile.mkdtemp(prefix="dhp-storage-")
    try:
        results.case("full_then_space", test_full_then_space, outside)
        results.case("operation_waits", test_operation_waits, outside)
        results.case("read_only_at_start", test_read_only_at_start, outside)
    finally:
        shutil.rmtree(outside, ignore_errors=True)
    return results.done()


if __name__ == "__main__":
    sys.exit(main())
