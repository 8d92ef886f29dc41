# SPDX-License-Identifier: MIT
"""A QMP client for tests and benchmarks that drive QEMU directly
(t1000-guest.py, bench/qemu-ops.py): commands in order over a unix socket,
events kept aside until asked for. Failures raise error (AssertionError by
default, so that a test's case fails; a benchmark passes its own)."""

import json
import socket
import time


class Qmp:
    """QMP over a unix socket: commands in order, events kept aside."""

    def __init__(self, path, timeout=30, error=AssertionError):
        self.error = error
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.events = []
        greeting = self._read()
        self._check("QMP" in greeting, "no QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def _check(self, cond, what):
        if not cond:
            raise self.error(what)

    def _read(self):
        line = self.file.readline(1 << 20)
        self._check(line, "QMP closed")
        return json.loads(line)

    def cmd(self, name, **args):
        """Run command name with args; its return value. An error reply
        raises, with QEMU's words."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            doc = self._read()
            if "event" in doc:
                self.events.append(doc)
            elif "error" in doc:
                raise self.error("%s: %s" % (name, doc["error"]))
            elif "return" in doc:
                return doc["return"]

    def wait_event(self, name, pred=lambda e: True, timeout=30):
        """The first event name (kept or to come) for which pred is true,
        taken from the kept ones; raises after timeout seconds."""
        end = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["event"] == name and pred(e):
                    self.events.remove(e)
                    return e
            self._check(time.monotonic() < end, "no %s event in %d s" % (name, timeout))
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                doc = self._read()
            except socket.timeout:
                continue
            if "event" in doc:
                self.events.append(doc)
