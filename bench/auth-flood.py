# SPDX-License-Identifier: MIT
"""Finding 5 of the auth hardening: another client's GET latency while 6
clients send wrong Basic passwords (unknown users, each from its own
loopback address). Usage: python3 bench/auth-flood.py BUILD [SECONDS].
Prints the victim's median and p90 in ms, idle and under the flood.
A measurement, not a test: nothing asserts on time."""

import base64
import http.client
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from dhptest import Dhpd  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5


def conn(d, src="127.0.0.1"):
    return http.client.HTTPSConnection("127.0.0.1", d.port, timeout=60, context=d.context(),
                                       source_address=(src, 0))


def row(name, value, unit="", target="", verdict=""):
    """A row of scripts/run-bench's table."""
    print("%-40s %12s  %-6s %-10s %s" % (name, value, unit, target, verdict), flush=True)


def victim(d, token, until):
    c, times = conn(d), []
    while time.time() < until:
        t = time.perf_counter()
        c.request("GET", "/redfish/v1/Systems", headers={"X-Auth-Token": token})
        c.getresponse().read()
        times.append((time.perf_counter() - t) * 1000)
    return times


def attacker(d, i, until, counts):
    c = conn(d, "127.0.0.%d" % (10 + i))
    cred = base64.b64encode(b"nobody%d:wrong-password" % i).decode()
    while time.time() < until:
        c.request("GET", "/redfish/v1/Systems", headers={"Authorization": "Basic " + cred})
        r = c.getresponse()
        r.read()
        counts[r.status] = counts.get(r.status, 0) + 1


def main():
    d = Dhpd(build).start()    # the default 100,000 PBKDF2 iterations
    try:
        s, h, _ = d.request("POST", "/redfish/v1/SessionService/Sessions",
                            {"UserName": "admin", "Password": d.password}, user=None)
        token = h["x-auth-token"]
        idle = victim(d, token, time.time() + seconds)
        until = time.time() + seconds
        counts = {}
        ts = [threading.Thread(target=attacker, args=(d, i, until, counts)) for i in range(6)]
        for t in ts:
            t.start()
        flood = victim(d, token, until)
        for t in ts:
            t.join()
        q = lambda v, p: sorted(v)[int(p * (len(v) - 1))]  # noqa: E731
        print("# idle: %d GETs; under the flood: %d GETs; attackers' answers %r"
              % (len(idle), len(flood), counts))
        row("auth flood: GET median, idle", "%.2f" % statistics.median(idle), "ms")
        row("auth flood: GET median, 6 attackers", "%.2f" % statistics.median(flood), "ms")
        ratio = statistics.median(flood) / statistics.median(idle)
        row("auth flood: median ratio flood/idle", "%.1f" % ratio, "x", "<= 10",
            "met" if ratio <= 10 else "MISSED")
        row("auth flood: GET p90, 6 attackers", "%.2f" % q(flood, .9), "ms")
    finally:
        d.cleanup()


main()
