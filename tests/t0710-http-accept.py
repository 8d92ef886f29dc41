#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dhpd keeps accepting connections after a limit was reached.

libmicrohttpd stops watching the listening socket at its connection limit,
or when accept() fails for want of file descriptors, and watches it again
only in a later run of its loop: connections that closed while dhpd was at
the limit used to leave new clients in the listen queue until dhpd was
restarted. Also: a request line with hundreds of query parameters used to
get no answer until the connection timed out (libmicrohttpd's own 431,
never sent); dhpd now refuses it at once with a Redfish 414.

Each case starts its own dhpd (loopback, stopped by the case)."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, check  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
results = Results()
ANSWER_S = 5  # far beyond a normal answer (ms), far below MHD's 60 s idle timeout


def fill_and_close(d, n):
    """Open n TCP connections (more than dhpd will take), then close them all
    at once, so that they close within one turn of dhpd's loop."""
    socks = [socket.create_connection(("127.0.0.1", d.port), timeout=ANSWER_S) for _ in range(n)]
    time.sleep(0.5)  # dhpd accepts up to its limit; the rest wait in the queue
    for s in socks:
        s.close()
    time.sleep(0.3)


def get_root(d):
    conn = d.connect(timeout=ANSWER_S)
    try:
        conn.request("GET", "/redfish/v1")
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def rounds(d, n_conns):
    for i in range(3):
        fill_and_close(d, n_conns)
        try:
            status = get_root(d)
        except OSError as e:  # socket.timeout, ssl handshake timeout
            raise AssertionError("round %d: no answer within %d s (%r): dhpd stopped "
                                 "accepting" % (i, ANSWER_S, e))
        check(status == 200, "round %d: status %d" % (i, status))


def with_dhpd(args, fn, wrap=None):
    d = Dhpd(build, args=args)
    try:
        start(d, wrap)
        fn(d)
    finally:
        d.cleanup()


def start(d, wrap):
    """Start d, under a command prefix (prlimit) when given."""
    if not wrap:
        d.start()
        return
    import subprocess
    popen = subprocess.Popen

    def prefixed(cmd, **kw):
        return popen(wrap + cmd, **kw)
    subprocess.Popen = prefixed
    try:
        d.start()
    finally:
        subprocess.Popen = popen


def test_connection_limit(tls):
    with_dhpd(["--max-connections", "20"] + ([] if tls else ["--no-tls"]),
              lambda d: rounds(d, 30))


def test_fd_limit(tls):
    """64 descriptors in all: accept() fails with EMFILE before the
    connection limit (4,096) is reached."""
    with_dhpd([] if tls else ["--no-tls"], lambda d: rounds(d, 80),
              wrap=["prlimit", "--nofile=64:64"])


def query_params(d):
    for n, want in ((10, 200), (64, 200), (65, 414), (800, 414), (2000, 414)):
        query = "&".join("p%d=1" % i for i in range(n))
        t = time.time()
        status, _, doc = d.request("GET", "/redfish/v1?" + query, user=None)
        check(status == want, "%d parameters: status %d, want %d" % (n, status, want))
        check(time.time() - t < ANSWER_S, "%d parameters: answered late" % n)
        if want == 414:
            info = doc["error"]["@Message.ExtendedInfo"][0]
            check("%d query parameters" % n in info["Message"], info["Message"])
    check(get_root(d) == 200, "dhpd answers after")


def test_query_params(tls):
    with_dhpd([] if tls else ["--no-tls"], query_params)


def main():
    for tls in (False, True):
        kind = "https" if tls else "http"
        results.case("%s: accepts again after its connection limit" % kind,
                     test_connection_limit, tls)
        results.case("%s: accepts again after running out of descriptors" % kind,
                     test_fd_limit, tls)
        results.case("%s: too many query parameters: 414 at once" % kind,
                     test_query_params, tls)


main()
results.done()
