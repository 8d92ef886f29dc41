# SPDX-License-Identifier: MIT
"""Redfish GET throughput and latency against nginx serving the same bytes,
and the delay of events to 1,000 SSE clients. Prints rows of run-bench's
table; never passes or fails (a missed target is a row)."""

import json
import os
import re
import resource
import select
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from dhptest import Dhpd, Skip  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
SECONDS = int(os.environ.get("DHP_BENCH_SECONDS", "5"))


def row(name, value, unit="", target="", verdict=""):
    print("%-40s %12s  %-6s %-10s %s" % (name, value, unit, target, verdict), flush=True)


def note(text):
    print("# redfish-http: " + text, flush=True)


def wrk(url, header=None):
    cmd = ["wrk", "-t2", "-c50", "-d%ds" % SECONDS, "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0


def nginx_serving(body, cert, key, workdir):
    """nginx on a free loopback port serving body over TLS with the same
    certificate; returns (process, port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = os.path.join(workdir, "www")
    os.makedirs(root)
    with open(os.path.join(root, "web"), "wb") as f:
        f.write(body)
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off; worker_processes 1; pid %(w)s/nginx.pid;
error_log %(w)s/error.log;
events { worker_connections 1024; }
http { access_log off; default_type application/json;
  client_body_temp_path %(w)s; proxy_temp_path %(w)s; fastcgi_temp_path %(w)s;
  uwsgi_temp_path %(w)s; scgi_temp_path %(w)s;
  server { listen 127.0.0.1:%(p)d ssl; ssl_certificate %(c)s; ssl_certificate_key %(k)s;
           location / { root %(r)s; } } }
""" % {"w": workdir, "p": port, "c": cert, "k": key, "r": root})
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", workdir],
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def session_token(dhpd):
    """Clients that make many requests log in once: Basic auth pays the
    password hash (PBKDF2) on every request, by design."""
    status, headers, _ = dhpd.request("POST", "/redfish/v1/SessionService/Sessions",
                                      {"UserName": "admin", "Password": dhpd.password},
                                      user=None)
    return headers.get("x-auth-token")


def bench_get(dhpd, token):
    conn = dhpd.connect()
    conn.request("GET", "/redfish/v1/Systems/web", headers={"X-Auth-Token": token})
    r = conn.getresponse()
    status, body = r.status, r.read()
    conn.close()
    note("GET /redfish/v1/Systems/web with a session: %d, %d bytes" % (status, len(body)))
    d_rps, d_p99, d_err = wrk("https://127.0.0.1:%d/redfish/v1/Systems/web" % dhpd.port,
                              "X-Auth-Token: " + token)
    work = tempfile.mkdtemp(prefix="dhp-bench-nginx-")
    tls = os.path.join(dhpd.state_dir, "tls")
    proc, port = nginx_serving(body, os.path.join(tls, "cert.pem"),
                               os.path.join(tls, "key.pem"), work)
    try:
        n_rps, n_p99, _ = wrk("https://127.0.0.1:%d/web" % port)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    if d_err:
        note("dhpd answered %d requests with an error status" % d_err)
    row("GET system: dhpd requests/s", "%.0f" % d_rps, "/s")
    row("GET system: nginx requests/s", "%.0f" % n_rps, "/s")
    ratio = d_rps / n_rps
    row("  ratio dhpd : nginx", "%.2f" % ratio, "", ">= 0.5",
        "met" if ratio >= 0.5 else "MISSED")
    row("GET system: dhpd p99 latency", "%.2f" % d_p99, "ms")
    row("GET system: nginx p99 latency", "%.2f" % n_p99, "ms")
    r = d_p99 / n_p99
    row("  ratio dhpd : nginx p99", "%.2f" % r, "", "<= 2", "met" if r <= 2 else "MISSED")


# ---- SSE fan-out ----
#
# The delay of an event to every client is the spread of its arrival times:
# last minus first (the first client stands for the moment it was
# published). Arrival is when the bytes reached the client's socket: the
# kernel's receive timestamp (SO_TIMESTAMPNS), taken as dhpd's send()
# delivers them on loopback. One Python thread reading 1,000 TLS streams
# takes tens of milliseconds to get round them all; that is the client's
# delay, not dhpd's, and it is printed on a row of its own ("read").

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class SseClient:
    """One event stream over TLS on a plain socket (TLS through memory
    BIOs, so that recvmsg() can return the receive timestamp)."""

    def __init__(self, dhpd, ctx, token):
        self.sock = socket.create_connection(("127.0.0.1", dhpd.port))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname="127.0.0.1")
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError("dhpd closed the connection")
                self.inc.write(data)
        self.tls.write(("GET /redfish/v1/EventService/SSE HTTP/1.1\r\nHost: x\r\n"
                        "X-Auth-Token: %s\r\nAccept: text/event-stream\r\n\r\n"
                        % token).encode())
        self._flush()
        self.sock.setblocking(False)
        self.text = b""
        self.started = False        # the response's headers have come

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def read(self, got):
        """Read what has come; append (event id, arrival, read) to got.
        False once the stream has ended."""
        try:
            data, anc, _, _ = self.sock.recvmsg(65536, 64)
        except BlockingIOError:
            return True
        now = time.time()
        if not data:
            return False
        arrived = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                sec, nsec = struct.unpack("qq", value[:16])
                arrived = sec + nsec / 1e9
        self.inc.write(data)
        while True:
            try:
                self.text += self.tls.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                break
        *lines, self.text = self.text.split(b"\n")
        for line in lines:
            if line.startswith(b"HTTP/1.1 "):
                self.started = True
            elif line.startswith(b"id: "):
                got.append((int(line[4:]), arrived, now))
        return True

    def close(self):
        self.sock.close()


def bench_sse(dhpd, token, clients=1000):
    ctx = ssl.create_default_context(cafile=os.path.join(dhpd.state_dir, "tls", "cert.pem"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < clients + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    streams, got = [], []
    ep = select.epoll()
    try:
        for _ in range(clients):
            c = SseClient(dhpd, ctx, token)
            streams.append(c)
            ep.register(c.sock.fileno(), select.EPOLLIN)
        by_fd = {c.sock.fileno(): c for c in streams}

        def pump(seconds, until=None):
            end = time.time() + seconds
            while time.time() < end and not (until and until()):
                for fd, _ in ep.poll(0.05):
                    if not by_fd[fd].read(got):
                        ep.unregister(fd)

        pump(30, lambda: all(c.started for c in streams))
        pump(1.0)
        start = len(got)
        reset = threading.Thread(target=dhpd.request, args=(
            "POST", "/redfish/v1/Systems/web/Actions/ComputerSystem.Reset",
            {"ResetType": "On"}), kwargs={"token": token})
        reset.start()
        pump(3.0)
        reset.join()
    finally:
        ep.close()
        for c in streams:
            c.close()
    arrived, read = {}, {}
    if any(when is None for _, when, _ in got[start:]):
        note("the kernel gave no receive timestamps: arrival is when the client read")
    for seq, when, seen in got[start:]:
        arrived.setdefault(seq, []).append(seen if when is None else when)
        read.setdefault(seq, []).append(seen)
    if not arrived:
        row("SSE: events seen", "0", "", "", "NOT MEASURED")
        return

    def p99(times):
        spreads = sorted(max(w) - min(w) for w in times.values())
        return spreads[min(len(spreads) - 1, int(len(spreads) * 0.99))] * 1000

    complete = sum(1 for w in arrived.values() if len(w) == clients)
    row("SSE: %d clients, events" % clients, "%d" % len(arrived), "", "",
        "%d reached every client" % complete)
    d = p99(arrived)
    row("  p99 delay to the last client", "%.1f" % d, "ms", "<= 50",
        "met" if d <= 50 else "MISSED")
    row("  (read by the benchmark's one thread)", "%.1f" % p99(read), "ms")


def main():
    if not shutil.which("wrk") or not shutil.which("nginx"):
        note("wrk or nginx is not installed: skipped")
        return
    try:
        dhpd = Dhpd(build).start()
    except Skip as s:
        note(str(s) + ": skipped")
        return
    try:
        status, _, _ = dhpd.request("POST", "/redfish/v1/Systems", {
            "Name": "web",
            "Links": {"ResourceBlocks": [
                {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/s0-cpu0"},
                {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/s0-mem0"}]}})
        if status != 201:
            note("creating a partition answered %d: skipped" % status)
            return
        token = session_token(dhpd)
        if not token:
            note("logging in failed: skipped")
            return
        bench_get(dhpd, token)
        bench_sse(dhpd, token)
    finally:
        dhpd.cleanup()


main()
