# SPDX-License-Identifier: MIT
"""A guest's second serial port (ttyS1) as QEMU's agent.sock gives it, for
tests and benchmarks that boot QEMU themselves (t1000-guest.py,
bench/qemu-ops.py): lines from it, and, when the guest runs a shell there
(dhp.ttyS1=shell, docs/guest.md), commands with their output and status.
A mix-in: the class sets line_error (AssertionError by default) for the
failures it raises."""

import socket
import time


class SerialLine:
    line_error = AssertionError

    def open_line(self, path):
        self.line = socket.socket(socket.AF_UNIX)
        self.line.connect(path)
        self.buf = b""

    def _need(self, cond, what):
        if not cond:
            raise self.line_error(what)

    def _receive(self, left):
        """Add to self.buf what comes within left seconds (maybe nothing)."""
        self.line.settimeout(left)
        try:
            data = self.line.recv(4096)
        except socket.timeout:
            return
        self._need(data, "ttyS1 closed")
        self.buf += data

    def read_line(self, timeout):
        """One line from ttyS1."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            self._need(left > 0, "no line from ttyS1 in %d s (got %r)" % (timeout, self.buf))
            self._receive(left)
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode(errors="replace").strip()

    def sh(self, command, timeout=40):
        """Run command in the guest's ttyS1 shell; returns its output. A
        status other than 0 raises."""
        mark = b"END%d " % time.monotonic_ns()
        self.line.sendall(command.encode() + b"\necho " + mark + b"$?\n")
        end = time.monotonic() + timeout
        while True:
            at = self.buf.find(mark)
            nl = self.buf.find(b"\n", at) if at >= 0 else -1
            if nl >= 0:
                out, status = self.buf[:at], self.buf[at + len(mark):nl]
                self.buf = self.buf[nl + 1:]
                self._need(status == b"0", "%r failed (%s): %r" % (command, status, out))
                return out.decode().strip()
            left = end - time.monotonic()
            self._need(left > 0, "%r: no answer in %d s (got %r)" % (command, timeout, self.buf))
            self._receive(left)
