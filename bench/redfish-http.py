# SPDX-License-Identifier: MIT
"""Redfish GET throughput and latency against nginx serving the same bytes,
and the delay of events to 1,000 SSE clients. Prints rows of run-bench's
table; never passes or fails (a missed target is a row)."""

import asyncio
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
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
    import socket
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


async def sse_client(dhpd, ctx, token, got, ready):
    reader, writer = await asyncio.open_connection("127.0.0.1", dhpd.port, ssl=ctx,
                                                   server_hostname="127.0.0.1")
    writer.write(("GET /redfish/v1/EventService/SSE HTTP/1.1\r\nHost: x\r\n"
                  "X-Auth-Token: %s\r\nAccept: text/event-stream\r\n\r\n" % token).encode())
    await writer.drain()
    ready.append(1)
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"id: "):
                got.append((int(line[4:]), time.time()))
    finally:
        writer.close()


async def bench_sse_async(dhpd, token, clients):
    ctx = ssl.create_default_context(cafile=os.path.join(dhpd.state_dir, "tls", "cert.pem"))
    got, ready = [], []
    tasks = [asyncio.ensure_future(sse_client(dhpd, ctx, token, got, ready))
             for _ in range(clients)]
    while len(ready) < clients:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    start = len(got)
    sent = time.time()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: dhpd.request(
        "POST", "/redfish/v1/Systems/web/Actions/ComputerSystem.Reset", {"ResetType": "On"},
        token=token))
    await asyncio.sleep(3.0)
    for t in tasks:
        t.cancel()
    first = {}
    for seq, when in got[start:]:
        first.setdefault(seq, []).append(when)
    return first, sent


def bench_sse(dhpd, token, clients=1000):
    first, sent = asyncio.run(bench_sse_async(dhpd, token, clients))
    if not first:
        row("SSE: events seen", "0", "", "", "NOT MEASURED")
        return
    # The delay of an event to every client: last arrival minus first
    # arrival (the first client stands for the moment it was published).
    spreads = sorted(max(w) - min(w) for w in first.values())
    complete = sum(1 for w in first.values() if len(w) == clients)
    p99 = spreads[min(len(spreads) - 1, int(len(spreads) * 0.99))] * 1000
    row("SSE: %d clients, events" % clients, "%d" % len(first), "", "",
        "%d reached every client" % complete)
    row("  p99 delay to the last client", "%.1f" % p99, "ms", "<= 50",
        "met" if p99 <= 50 else "MISSED")


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
