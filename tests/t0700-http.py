# SPDX-License-Identifier: MIT
"""dhpd's HTTP backbone, black box: TLS, authentication, limits, routing
errors, the event stream (resume without gap or duplicate, $filter), and the
daemon's life (lock, --no-tls, SIGTERM, SIGKILL and recovery).
Usage: python3 tests/t0700-http.py BUILD_DIR"""

import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import ROOT, Dhpd, Results, Skip, check, schema_validator  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
SSE = "/redfish/v1/EventService/SSE"
BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks/"


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def redfish_error(doc, message_id):
    check(isinstance(doc, dict) and "error" in doc, "not a Redfish error body: %r" % (doc,))
    err = doc["error"]
    check(err.get("code") == "Base.1.22." + message_id, "code %s" % err.get("code"))
    info = err.get("@Message.ExtendedInfo")
    check(info and info[0].get("MessageId") == "Base.1.22." + message_id, "extended info")
    check(info[0].get("Message"), "a message")


def create(d, name, units, expect=201):
    status, _, doc = d.request("POST", "/redfish/v1/Systems", {
        "Name": name, "Links": {"ResourceBlocks": [{"@odata.id": BLOCKS + u} for u in units]},
        "Oem": {"Dhp": {"OsProfile": "linux"}}})
    if status == 404:
        raise Skip("POST /redfish/v1/Systems is not there yet")
    check(status == expect, "create %s answered %d: %s" % (name, status, doc))


class Sse:
    """One event stream; events are (id, Event document)."""

    def __init__(self, d, last_id=None, query="", auth=None):
        self.conn = d.connect(timeout=10)
        h = {"Authorization": auth or basic("admin", d.password)}
        if last_id is not None:
            h["Last-Event-ID"] = str(last_id)
        self.conn.request("GET", SSE + query, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.comments = []

    def read(self, quiet=1.0, until=None, limit=60):
        """Events until `until(events)` holds, or none came for `quiet` s."""
        events, ev_id, deadline = [], None, time.time() + limit
        self.conn.sock.settimeout(quiet)
        try:
            while time.time() < deadline and not (until and until(events)):
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("id: "):
                    ev_id = int(line[4:])
                elif line.startswith("data: "):
                    events.append((ev_id, json.loads(line[6:])))
        except (socket.timeout, TimeoutError):
            pass
        return events

    def close(self):
        self.conn.close()


def ids(events):
    return [i for i, _ in events]


def all_events(d):
    s = Sse(d, last_id=0)
    try:
        return s.read(quiet=1.0)
    finally:
        s.close()


# ---- TLS, authentication, routing ----

def test_tls(d):
    tls = os.path.join(d.state_dir, "tls")
    for name in ("cert.pem", "key.pem"):
        mode = os.stat(os.path.join(tls, name)).st_mode & 0o777
        check(mode == 0o600, "%s has mode %o" % (name, mode))
    ctx = d.context()   # verifies the chain and that the certificate names 127.0.0.1
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            check(s.version() in ("TLSv1.2", "TLSv1.3"), "TLS version %s" % s.version())
    # Plain HTTP on the TLS port fails, and dhpd goes on.
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
        raw.sendall(b"GET /redfish HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            raw.recv(100)
        except OSError:
            pass
    check(d.request("GET", "/redfish", user=None)[0] == 200, "still serving")


def test_unauthenticated(d):
    status, _, doc = d.request("GET", "/redfish", user=None)
    if status == 404:
        raise Skip("the service root (resources/root.c) is not routed yet")
    check(status == 200 and doc == {"v1": "/redfish/v1/"}, "/redfish: %d %r" % (status, doc))
    status, _, doc = d.request("GET", "/redfish/v1/", user=None)
    check(status == 200 and doc.get("@odata.id", "").rstrip("/") == "/redfish/v1",
          "/redfish/v1: %d %r" % (status, doc))


def test_401(d):
    status, h, doc = d.request("GET", "/redfish/v1/EventService", user=None)
    check(status == 401, "no credentials: %d" % status)
    check(h.get("www-authenticate") == 'Basic realm="dhp"', "WWW-Authenticate")
    redfish_error(doc, "NoValidSession")
    status, _, doc = d.request("GET", "/redfish/v1/EventService", password="wrong-password")
    check(status == 401, "wrong password: %d" % status)
    status, _, _ = d.request("GET", "/redfish/v1/EventService", token="0" * 64)
    check(status == 401, "bad token: %d" % status)
    status, _, _ = d.request("GET", "/redfish/v1/NoSuchThing", user=None)
    check(status == 401, "unknown paths are not revealed without credentials: %d" % status)


def test_basic(d):
    status, h, doc = d.request("GET", "/redfish/v1/EventService")
    check(status == 200, "GET with Basic: %d" % status)
    check(doc["ServerSentEventUri"] == SSE, "ServerSentEventUri")
    check(h.get("odata-version") == "4.0", "OData-Version")
    check(h.get("content-type") == "application/json; charset=utf-8", "Content-Type")
    check(h.get("cache-control") == "no-store", "Cache-Control")
    check(h.get("etag", "").startswith('W/"'), "ETag")
    validate = schema_validator()
    if validate:
        validate(doc)
    status, h2, body = d.request("HEAD", "/redfish/v1/EventService")
    check(status == 200 and not body, "HEAD: %d %r" % (status, body))
    check(h2.get("etag") == h["etag"], "HEAD has GET's ETag")


def test_session_token(d):
    status, h, _ = d.request("POST", "/redfish/v1/SessionService/Sessions",
                             {"UserName": "admin", "Password": d.password}, user=None)
    if status == 404:
        raise Skip("SessionService is not routed yet")
    check(status == 201 and h.get("x-auth-token"), "log in: %d" % status)
    status, _, _ = d.request("GET", "/redfish/v1/EventService", token=h["x-auth-token"])
    check(status == 200, "GET with X-Auth-Token: %d" % status)


def test_403(d):
    status, _, _ = d.request("POST", "/redfish/v1/AccountService/Accounts", {
        "UserName": "viewer", "Password": "viewer-pass-1", "RoleId": "ReadOnly"})
    if status == 404:
        raise Skip("AccountService is not routed yet")
    check(status == 201, "create a ReadOnly account: %d" % status)
    status, _, doc = d.request("POST", "/redfish/v1/Systems", {"Name": "x"}, user="viewer",
                               password="viewer-pass-1")
    check(status == 403, "ReadOnly creating a system: %d" % status)
    redfish_error(doc, "InsufficientPrivilege")
    status, _, _ = d.request("GET", "/redfish/v1/EventService", user="viewer",
                             password="viewer-pass-1")
    check(status == 200, "ReadOnly reading: %d" % status)


def test_413(d):
    big = b'{"Name": "' + b"x" * 70000 + b'"}'
    status, _, doc = d.request("POST", "/redfish/v1/Systems", raw=big,
                               headers={"Content-Type": "application/json"})
    check(status == 413, "with Content-Length: %d" % status)
    redfish_error(doc, "PayloadTooLarge")
    conn = d.connect()
    conn.request("POST", "/redfish/v1/Systems", body=iter([b"x" * 1000] * 70),
                 encode_chunked=True, headers={"Content-Type": "application/json",
                                               "Authorization": basic("admin", d.password)})
    r = conn.getresponse()
    doc = json.loads(r.read())
    conn.close()
    check(r.status == 413, "chunked: %d" % r.status)
    redfish_error(doc, "PayloadTooLarge")


def test_400(d):
    status, _, doc = d.request("POST", "/redfish/v1/Systems", raw=b'{"Name": ',
                               headers={"Content-Type": "application/json"})
    check(status == 400, "malformed: %d" % status)
    redfish_error(doc, "MalformedJSON")
    deep = b'{"a":' * 40 + b"1" + b"}" * 40
    status, _, doc = d.request("POST", "/redfish/v1/Systems", raw=deep,
                               headers={"Content-Type": "application/json"})
    check(status == 400, "too deep: %d" % status)
    redfish_error(doc, "MalformedJSON")
    status, _, doc = d.request("POST", "/redfish/v1/Systems", raw=b'{"a": 1, "a": 2}',
                               headers={"Content-Type": "application/json"})
    check(status == 400, "duplicate keys: %d" % status)


def test_415(d):
    status, _, doc = d.request("POST", "/redfish/v1/Systems", raw=b"Name=web",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(status == 415, "form body: %d" % status)
    redfish_error(doc, "MalformedJSON")


def test_404_405(d):
    status, _, doc = d.request("GET", "/redfish/v1/NoSuchThing")
    check(status == 404, "unknown path: %d" % status)
    redfish_error(doc, "ResourceNotFound")
    status, h, doc = d.request("DELETE", "/redfish/v1/EventService")
    check(status == 405, "DELETE EventService: %d" % status)
    check(h.get("allow") == "GET, HEAD", "Allow: %s" % h.get("allow"))
    redfish_error(doc, "OperationNotAllowed")
    status, h, _ = d.request("OPTIONS", "/redfish/v1/EventService")
    check(status == 405 and "GET" in h.get("allow", ""), "OPTIONS: %d" % status)


def test_headers(d):
    status, _, doc = d.request("GET", "/redfish/v1/EventService",
                               headers={"X-Big": "a" * 20000})
    check(status == 431, "20 KB of headers: %d" % status)
    redfish_error(doc, "HeaderInvalid")
    try:   # beyond MHD's memory pool: MHD answers (431) or closes
        status, _, _ = d.request("GET", "/redfish/v1/EventService",
                                 headers={"X-Big": "a" * 100000})
        check(status >= 400, "100 KB of headers: %d" % status)
    except (ConnectionError, OSError):
        pass
    check(d.request("GET", "/redfish/v1/EventService")[0] == 200, "still serving")


# ---- events ----

def test_sse_resume(d):
    validate = schema_validator()
    a = Sse(d)
    check(a.status == 200, "SSE: %d" % a.status)
    check(a.resp.getheader("Content-Type") == "text/event-stream", "text/event-stream")
    create(d, "web", ["s0-cpu0", "s0-mem0"])
    first = a.read(quiet=1.0)
    a.close()   # the client goes away
    check(first, "events of the create")
    for _, ev in first:
        check(ev["Events"][0]["EventId"] == ev["Id"], "EventId")
        if validate:
            validate(ev)
    origins = [ev["Events"][0]["OriginOfCondition"]["@odata.id"] for _, ev in first]
    check("/redfish/v1/Systems/web" in origins, "an event's origin is the system")
    # Events while nobody listens.
    create(d, "db", ["s1-cpu0", "s1-mem0"])
    b = Sse(d, last_id=first[-1][0])
    second = b.read(quiet=1.0)
    b.close()
    everything = all_events(d)
    n = len(everything)
    check(ids(everything) == list(range(1, n + 1)), "the store's events are 1..%d" % n)
    check(ids(first) + ids(second) == ids(everything)[ids(everything).index(first[0][0]):],
          "resumed: no gap, no duplicate (%s + %s)" % (ids(first), ids(second)))


def test_sse_race(d):
    """Resume while events are being made: the replay and the live feed
    meet without a gap or a duplicate."""
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            name = "churn%d" % i
            if d.request("POST", "/redfish/v1/Systems", {
                    "Name": name, "Links": {"ResourceBlocks": [
                        {"@odata.id": BLOCKS + "s2-cpu0"}, {"@odata.id": BLOCKS + "s2-mem0"}]},
                    "Oem": {"Dhp": {"OsProfile": "linux"}}})[0] == 201:
                while d.request("DELETE", "/redfish/v1/Systems/" + name)[0] == 409:
                    time.sleep(0.02)
                i += 1
            else:   # the last delete is still running
                time.sleep(0.02)

    start = len(all_events(d))
    t = threading.Thread(target=churn)
    t.start()
    streams = []
    try:
        for k in range(6):
            time.sleep(0.15)
            after = max(0, start + 2 * k - 3)
            streams.append((after, Sse(d, last_id=after)))
    finally:
        stop.set()
        t.join()
    total = len(all_events(d))
    check(total > start + 3, "events were made meanwhile (%d -> %d)" % (start, total))
    for after, s in streams:
        got = ids(s.read(quiet=1.0))
        s.close()
        check(got == list(range(after + 1, total + 1)),
              "after %d: %s..%s, %d events, want %d..%d" %
              (after, got[:1], got[-1:], len(got), after + 1, total))


def test_sse_filter(d):
    web = "/redfish/v1/Systems/web"
    q = "?" + urllib.parse.urlencode({"$filter": "OriginResource eq '%s'" % web})
    s = Sse(d, last_id=0, query=q)
    check(s.status == 200, "filtered stream: %d" % s.status)
    got = s.read(quiet=1.0)
    s.close()
    want = [i for i, ev in all_events(d)
            if ev["Events"][0]["Oem"]["Dhp"].get("Partition") == "web"]
    check(want and ids(got) == want, "only web's events: %s, want %s" % (ids(got), want))
    bad = "?" + urllib.parse.urlencode({"$filter": "Severity eq 'OK'"})
    s = Sse(d, query=bad)
    status, doc = s.status, json.loads(s.resp.read())
    s.close()
    check(status == 400, "unsupported $filter: %d" % status)
    check("OriginResource" in doc["error"]["message"], "says what is supported")
    s = Sse(d, last_id="x")
    check(s.status == 400, "bad Last-Event-ID: %d" % s.status)
    s.close()


def test_keepalive(d):
    s = Sse(d)
    s.read(quiet=17.0, until=lambda evs: False, limit=17)
    s.close()
    check(": keep-alive" in s.comments, "a keep-alive comment within 15 s: %s" % s.comments)


# ---- the daemon ----

def run_dhpd(args, timeout=15):
    return subprocess.run([os.path.join(build, "dhpd")] + args, cwd=ROOT, timeout=timeout,
                          capture_output=True, text=True)


def test_no_tls_refused(tmp):
    out = run_dhpd(["--no-tls", "--listen", "192.0.2.1:0", "--state-dir", tmp])
    check(out.returncode == 2, "exit %d" % out.returncode)
    check("loopback" in out.stderr, "says why: %s" % out.stderr)


def test_second_refused(d):
    out = run_dhpd(["--listen", "127.0.0.1:0", "--state-dir", d.state_dir])
    check(out.returncode != 0, "a second dhpd ran")
    check("in use by another dhpd" in out.stderr, "says why: %s" % out.stderr)
    check(d.request("GET", "/redfish/v1/EventService")[0] == 200, "the first goes on")


def test_config_and_plain(tmp):
    """--no-tls on loopback, a config file (command line wins), a generated
    admin password, the SSE client limit."""
    conf = os.path.join(tmp, "dhpd.conf")
    with open(conf, "w") as f:
        f.write("# test\nmax-body = 100\nmax-sse-clients = 1\nlisten = 127.0.0.1:1\n")
    proc = subprocess.Popen([os.path.join(build, "dhpd"), "--config", conf, "--no-tls",
                             "--listen", "127.0.0.1:0", "--state-dir", tmp], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "ready on" not in line:
            line = proc.stderr.readline()
            check(line, "dhpd did not become ready")
        url = line.split("ready on ")[1].strip()
        check(url.startswith("http://127.0.0.1:") and not url.endswith(":1"),
              "plain HTTP, the command line's port: %s" % url)
        pwfile = os.path.join(tmp, "admin-password")
        check(os.stat(pwfile).st_mode & 0o777 == 0o600, "admin-password is 0600")
        d = Dhpd(build, state_dir=tmp, password=open(pwfile).read().strip())
        d.port, d.scheme = int(url.rsplit(":", 1)[1]), "http"
        status, _, _ = d.request("POST", "/redfish/v1/Systems", {"Name": "x" * 200})
        check(status == 413, "max-body from the config file: %d" % status)
        s1 = Sse(d)
        s2 = Sse(d)
        check(s1.status == 200 and s2.status == 503, "one SSE client: %d %d" %
              (s1.status, s2.status))
        s1.close()
        s2.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=20) == 0, "exit status")


def test_ipv6(tmp):
    if not socket.has_ipv6:
        raise Skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        raise Skip("::1 is not configured")
    proc = subprocess.Popen([os.path.join(build, "dhpd"), "--listen", "[::1]:0",
                             "--state-dir", tmp], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "ready on" not in line:
            line = proc.stderr.readline()
            check(line, "dhpd did not become ready")
        url = line.split("ready on ")[1].strip()
        check(url.startswith("https://[::1]:"), url)
        ctx = ssl.create_default_context(cafile=os.path.join(tmp, "tls", "cert.pem"))
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("::1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="::1"):
                pass    # the certificate names ::1
    finally:
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=20) == 0, "exit status")


def test_sigkill_recovery():
    d = Dhpd(build, args=["--sim-latency-ms", "1000"]).start()
    try:
        create(d, "web", ["s0-cpu0", "s0-mem0"])
        status, _, _ = d.request("POST", "/redfish/v1/Systems/web/Actions/ComputerSystem.Reset",
                                 {"ResetType": "On"})
        d.kill()    # mid-operation (each hardware step takes 1 s), if the action is there
        d.proc = None
        with socket.socket() as sock:   # a known port, to ask during recovery
            sock.bind(("127.0.0.1", 0))
            d.port = sock.getsockname()[1]
        d.args += ["--listen", "127.0.0.1:%d" % d.port]
        seen, done = [], threading.Event()

        def poll():
            while not done.is_set():
                try:
                    seen.append(d.request("GET", "/redfish/v1/EventService")[0])
                except (OSError, ssl.SSLError):
                    time.sleep(0.05)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            d.start()
        finally:
            done.set()
            poller.join()
        check(503 in seen, "503 while recovering: %s" % sorted(set(seen)))
        status2, _, doc = d.request("GET", "/redfish/v1/Systems/web")
        check(status2 == 200, "the partition survived: %d" % status2)
        after = all_events(d)
        check(ids(after) == list(range(1, len(after) + 1)), "numbers never repeat")
        if status != 202:
            raise Skip("the Reset action answered %d: no operation to interrupt" % status)
        texts = [ev["Events"][0]["Message"] for _, ev in after]
        check(any("start: queued" in t for t in texts), "the acknowledged start is kept")
        kinds = [ev["Events"][0]["Oem"]["Dhp"]["Kind"] for _, ev in after]
        check("recovery" in kinds, "the interrupted start was recovered: %s" % texts)
        check(d.stop() == 0, "SIGTERM exits 0")
    finally:
        d.cleanup()


def test_sigterm_with_stream(d):
    s = Sse(d)
    t0 = time.time()
    check(d.stop() == 0, "exit status %s" % d.proc.returncode)
    check(time.time() - t0 < 12, "stopped in time")
    check(s.resp.read() is not None, "the stream ended")
    s.close()
    with open(os.path.join(d.state_dir, "dhpd.log")) as f:
        log = f.read()
    check("Sanitizer" not in log and "runtime error:" not in log, "sanitizer reports: " + log)


def main():
    tmps = [tempfile.mkdtemp(prefix="dhp-t0700-") for _ in range(3)]
    try:
        d = Dhpd(build).start()
    except Skip as s:
        results.skip("dhpd", str(s))
        results.done()
    try:
        for name, fn in [("tls", test_tls), ("unauthenticated root", test_unauthenticated),
                         ("401", test_401), ("basic auth", test_basic),
                         ("session token", test_session_token), ("403", test_403),
                         ("413 body too large", test_413), ("400 malformed json", test_400),
                         ("415 content type", test_415), ("404 and 405", test_404_405),
                         ("header limits", test_headers),
                         ("sse resume", test_sse_resume), ("sse race", test_sse_race),
                         ("sse filter", test_sse_filter), ("sse keep-alive", test_keepalive),
                         ("second dhpd refused", test_second_refused)]:
            results.case(name, fn, d)
        results.case("--no-tls refused off loopback", test_no_tls_refused, tmps[0])
        results.case("config file, plain http, limits", test_config_and_plain, tmps[1])
        results.case("ipv6", test_ipv6, tmps[2])
        results.case("sigkill and recovery", test_sigkill_recovery)
        results.case("sigterm with a stream open", test_sigterm_with_stream, d)
    finally:
        d.cleanup()
        for t in tmps:
            shutil.rmtree(t, ignore_errors=True)


main()
results.done()
