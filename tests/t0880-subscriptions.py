# SPDX-License-Identifier: MIT
"""Event subscriptions (docs/redfish.md, "Event subscriptions"): a real
dhpd and a real HTTP receiver on 127.0.0.1 (http.server in a thread).
A push subscription gets each event as a Redfish Event with its Context;
DELETE stops delivery; subscriptions survive a restart; a receiver that
is down is retried, then the subscription is suspended (and resumed);
an https receiver is verified against the CAs dhpd trusts;
bad requests each get their Base message and create nothing; an SSE
stream is an EventDestination while it is open, and its DELETE ends it;
a ReadOnly user cannot create one. Every body is checked against the
DMTF schema of its @odata.type.

Usage: python3 tests/t0880-subscriptions.py BUILD_DIR"""

import http.server
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check, schema_validator  # noqa: E402

V1 = "/redfish/v1"
SUBS = V1 + "/EventService/Subscriptions"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
RETRIES, INTERVAL = 2, 1

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
validate = schema_validator()


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps what is POSTed to it."""

    def __init__(self, port=0, tls=None):
        self.events = []
        self.cond = threading.Condition()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with owner.cond:
                    owner.events.append((self.path, self.headers.get("Content-Type"),
                                         json.loads(body)))
                    owner.cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.scheme = "http"
        if tls:     # (cert, key): https
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/events"):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def wait(self, pred, timeout=10):
        deadline = time.time() + timeout
        with self.cond:
            while time.time() < deadline:
                found = [e for e in self.events if pred(e)]
                if found:
                    return found
                self.cond.wait(deadline - time.time())
        return []

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def req(d, method, path, body=None, expect=None, **kw):
    status, hdrs, doc = d.request(method, path, body, **kw)
    if expect is not None:
        check(status == expect, "%s %s: %d, not %d: %s" % (method, path, status, expect, doc))
    if validate and isinstance(doc, dict) and "@odata.type" in doc:
        validate(doc)
    return status, hdrs, doc


def members(d):
    return [m["@odata.id"] for m in req(d, "GET", SUBS, expect=200)[2]["Members"]]


def subscribe(d, dest, **extra):
    body = {"Destination": dest, "Protocol": "Redfish", "Context": "ctx-1"}
    body.update(extra)
    status, hdrs, doc = req(d, "POST", SUBS, body, expect=201)
    check(hdrs.get("location") == doc["@odata.id"], "Location is the new subscription")
    return doc["@odata.id"]


def compose(d, name):
    """A partition: its events are those a subscriber hears of."""
    status, hdrs, doc = req(d, "POST", SYSTEMS, {
        "Name": name, "Links": {"ResourceBlocks": [{"@odata.id": BLOCKS + "s0-cpu0"},
                                                   {"@odata.id": BLOCKS + "s0-mem0"}]}})
    check(status in (201, 202), "compose %s: %d %s" % (name, status, doc))
    return SYSTEMS + "/" + name


def decompose(d, name):
    status, _, doc = req(d, "DELETE", SYSTEMS + "/" + name)
    check(status in (202, 204), "delete %s: %d %s" % (name, status, doc))


def about(uri):
    return lambda e: any(ev["OriginOfCondition"]["@odata.id"] == uri
                         for ev in e[2].get("Events", []))


def test_service(d):
    svc = req(d, "GET", V1 + "/EventService", expect=200)[2]
    check(svc["Subscriptions"]["@odata.id"] == SUBS, "EventService links Subscriptions")
    check(svc["DeliveryRetryAttempts"] == RETRIES, "DeliveryRetryAttempts")
    check(svc["DeliveryRetryIntervalSeconds"] == INTERVAL, "DeliveryRetryIntervalSeconds")
    coll = req(d, "GET", SUBS, expect=200)[2]
    check(coll["Members@odata.count"] == len(coll["Members"]), "count")


def test_delivery(d, rx):
    uri = subscribe(d, rx.url(), RegistryPrefixes=["TaskEvent", "ResourceEvent"])
    sub = req(d, "GET", uri, expect=200)[2]
    check(sub["SubscriptionType"] == "RedfishEvent" and sub["Protocol"] == "Redfish", "types")
    check(sub["Status"]["State"] == "Enabled", "enabled")
    check(sub["DeliveryRetryPolicy"] == "SuspendRetries", "the default policy")
    system = compose(d, "web")
    got = rx.wait(about(system))
    check(got, "the receiver got an event about %s" % system)
    path, ctype, ev = got[0]
    check(path == "/events" and ctype.startswith("application/json"), "POST of JSON")
    if validate:
        validate(ev)
    check(ev["@odata.type"].startswith("#Event."), "an Event")
    check(ev["Context"] == "ctx-1", "its Context")
    check(ev["Events"][0]["EventId"].isdigit(), "EventId")
    check(ev["Events"][0]["MessageId"].split(".")[0] in ("TaskEvent", "ResourceEvent"),
          "RegistryPrefixes filter")
    # In order: the event numbers only grow.
    time.sleep(1)
    seqs = [int(e[2]["Events"][0]["EventId"]) for e in rx.events]
    check(seqs == sorted(seqs), "events in order: %s" % seqs)
    # PATCH of Context: the next events carry the new one.
    req(d, "PATCH", uri, {"Context": "ctx-2"}, expect=200)
    check(req(d, "GET", uri, expect=200)[2]["Context"] == "ctx-2", "Context patched")
    req(d, "PATCH", uri, {"Destination": "http://127.0.0.1:1/x"}, expect=400)
    # If-Match: a stale ETag is 412 for PATCH and DELETE, nothing changed;
    # the current one is taken.
    stale = {"If-Match": 'W/"0000000000000000"'}
    req(d, "PATCH", uri, {"Context": "stale"}, expect=412, headers=stale)
    req(d, "DELETE", uri, expect=412, headers=stale)
    _, hdrs, doc = req(d, "GET", uri, expect=200)
    check(doc["Context"] == "ctx-2", "a refused PATCH changed Context")
    req(d, "PATCH", uri, {"Context": "ctx-2"}, expect=200, headers={"If-Match": hdrs["etag"]})
    n = len(rx.events)
    decompose(d, "web")
    check(rx.wait(lambda e: e[2].get("Context") == "ctx-2"), "new Context delivered")
    # DELETE stops delivery.
    req(d, "DELETE", uri, expect=204)
    req(d, "GET", uri, expect=404)
    time.sleep(0.5)
    n = len(rx.events)
    compose(d, "web2")
    time.sleep(1.5)
    check(len(rx.events) == n, "no delivery after DELETE")
    decompose(d, "web2")
    time.sleep(1)


def test_origin_filter(d, rx):
    uri = subscribe(d, rx.url("/origin"), OriginResources=[{"@odata.id": SYSTEMS + "/db"}],
                    ResourceTypes=["ComputerSystem"])
    compose(d, "other")
    compose_db = None
    time.sleep(1)
    decompose(d, "other")
    compose_db = compose(d, "db")
    got = rx.wait(lambda e: e[0] == "/origin")
    check(got, "the origin-filtered subscription got an event")
    check(all(e[2]["Events"][0]["OriginOfCondition"]["@odata.id"] == compose_db
              for e in rx.events if e[0] == "/origin"), "only events about db")
    decompose(d, "db")
    time.sleep(1)
    req(d, "DELETE", uri, expect=204)


BAD = [
    ({"Destination": "https://192.168.1.50/x", "Protocol": "FTP"}, "PropertyValueNotInList"),
    ({"Protocol": "Redfish"}, "PropertyMissing"),
    ({"Destination": "ftp://h/x", "Protocol": "Redfish"}, "PropertyValueFormatError"),
    ({"Destination": "https:///x", "Protocol": "Redfish"}, "PropertyValueFormatError"),
    ({"Destination": "http://h/a b", "Protocol": "Redfish"}, "PropertyValueFormatError"),
    ({"Destination": 7, "Protocol": "Redfish"}, "PropertyValueTypeError"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "Context": 5}, "PropertyValueTypeError"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "Bogus": 1}, "PropertyUnknown"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "HttpHeaders": []}, "PropertyNotWritable"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "EventFormatType": "MetricReport"},
     "PropertyValueNotInList"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "SubscriptionType": "SSE"},
     "PropertyValueNotInList"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "RegistryPrefixes": ["Nope"]},
     "PropertyValueNotInList"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "RegistryPrefixes": "Base"},
     "PropertyValueTypeError"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "DeliveryRetryPolicy": "Sometimes"},
     "PropertyValueNotInList"),
    ({"Destination": "http://h/", "Protocol": "Redfish", "Context": "x" * 300},
     "PropertyValueFormatError"),
    ({"Destination": "http://h/", "Protocol": "Redfish",
      "OriginResources": [{"@odata.id": "/elsewhere"}]}, "PropertyValueFormatError"),
]


def test_bad_requests(d):
    before = members(d)
    for body, message in BAD:
        for path in (SUBS, SUBS + "/Members"):
            status, _, doc = req(d, "POST", path, body)
            check(status == 400, "%s: %d, not 400" % (body, status))
            got = doc["error"]["@Message.ExtendedInfo"][0]["MessageId"]
            check(got == "Base.1.22." + message, "%s: %s, not %s" % (body, got, message))
    check(members(d) == before, "bad requests created nothing")
    req(d, "GET", SUBS + "/999", expect=404)
    req(d, "DELETE", SUBS + "/999", expect=404)
    # Members takes a good one too.
    status, hdrs, doc = req(d, "POST", SUBS + "/Members",
                            {"Destination": "https://192.0.2.1/x", "Protocol": "Redfish"},
                            expect=201)
    req(d, "DELETE", hdrs["location"], expect=204)


def test_limit(d):
    made = []
    try:
        while len(members(d)) < 64:
            made.append(subscribe(d, "https://192.0.2.1/%d" % len(made)))
        status, _, doc = req(d, "POST", SUBS, {"Destination": "https://192.0.2.1/x",
                                               "Protocol": "Redfish"})
        check(status == 503, "beyond 64: %d" % status)
        check(doc["error"]["code"].endswith("EventSubscriptionLimitExceeded"), "its message")
    finally:
        for uri in made:
            req(d, "DELETE", uri, expect=204)


def test_privileges(d):
    status, _, _ = req(d, "POST", V1 + "/AccountService/Accounts", {
        "UserName": "viewer", "Password": "viewer-pass-1", "RoleId": "ReadOnly"})
    check(status in (201, 409), "ReadOnly account: %d" % status)
    ro = {"user": "viewer", "password": "viewer-pass-1"}
    before = members(d)
    req(d, "POST", SUBS, {"Destination": "https://192.0.2.1/x", "Protocol": "Redfish"},
        expect=403, **ro)
    req(d, "GET", SUBS, expect=200, **ro)
    check(members(d) == before, "nothing created")
    uri = subscribe(d, "https://192.0.2.1/y")
    req(d, "GET", uri, expect=200, **ro)
    req(d, "PATCH", uri, {"Context": "z"}, expect=403, **ro)
    req(d, "DELETE", uri, expect=403, **ro)
    req(d, "DELETE", uri, expect=204)
    req(d, "GET", SUBS, expect=401, user=None)


def open_sse(d, query=""):
    conn = d.connect(timeout=10)
    import base64
    cred = base64.b64encode(("admin:" + d.password).encode()).decode()
    conn.request("GET", V1 + "/EventService/SSE" + query,
                 headers={"Authorization": "Basic " + cred})
    r = conn.getresponse()
    check(r.status == 200, "SSE: %d" % r.status)
    return conn, r


def wait_members(d, pred, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = members(d)
        if pred(m):
            return m
        time.sleep(0.05)
    return members(d)


def test_sse(d):
    before = set(members(d))
    conn, r = open_sse(d, "?$filter=OriginResource%20eq%20%27/redfish/v1/Systems/web%27")
    new = set(members(d)) - before
    check(len(new) == 1, "one new EventDestination: %s" % new)
    uri = new.pop()
    sub = req(d, "GET", uri, expect=200)[2]
    check(sub["SubscriptionType"] == "SSE" and isinstance(sub["Context"], str), "SSE, Context")
    check(sub["Destination"].startswith("redfish-sse://127.0.0.1"), sub["Destination"])
    check(sub["OriginResources"] == [{"@odata.id": SYSTEMS + "/web"}], "its filter")
    r.close()       # the response holds the socket too
    conn.close()
    # Closing a stream: its destination goes once dhpd sees the client
    # gone, which is at a write: a silent stream's keep-alives (every
    # 15 s) find out within about 45 s (DMTF's validator waits 60 s);
    # events find out sooner, so this one is unfiltered and gets some.
    before = set(members(d))
    conn, r = open_sse(d)
    other = (set(members(d)) - before).pop()
    r.close()
    conn.close()
    started = time.time()
    compose(d, "sse1")
    time.sleep(0.5)
    decompose(d, "sse1")
    m = wait_members(d, lambda m: other not in m, timeout=20)
    check(other not in m, "a closed stream's EventDestination is gone")
    print("# a closed stream was seen in %.1f s" % (time.time() - started))
    # DELETE of it ends the stream.
    before = set(members(d))
    conn, r = open_sse(d)
    uri = (set(members(d)) - before).pop()
    req(d, "DELETE", uri, expect=204)
    check(uri not in members(d), "deleted")
    r.fp.raw._sock.settimeout(5)
    deadline = time.time() + 5
    ended = False
    while time.time() < deadline:
        try:
            line = r.readline()
        except socket.timeout:
            break
        if not line:
            ended = True
            break
    check(ended, "the stream ended after its DELETE")
    r.close()
    conn.close()


def test_retry_suspend(d):
    port = free_port()      # nobody listens there yet
    uri = subscribe(d, "http://127.0.0.1:%d/down" % port, Context="down")
    compose(d, "s1")
    # 1 + RETRIES attempts, INTERVAL s apart: then suspended.
    deadline = time.time() + 2 + (RETRIES + 1) * INTERVAL + 5
    while time.time() < deadline:
        sub = req(d, "GET", uri, expect=200)[2]
        if sub["Status"]["State"] == "Disabled":
            break
        time.sleep(0.2)
    check(sub["Status"]["State"] == "Disabled", "suspended after retries: %s" % sub["Status"])
    with open(d.log.name) as f:
        check("suspended" in f.read(), "the log says it was suspended")
    # The receiver comes up; a suspended subscription sends nothing...
    rx = Receiver(port)
    try:
        decompose(d, "s1")
        time.sleep(1.5)
        check(not rx.events, "nothing sent while suspended")
        # ...until it is resumed.
        req(d, "POST", uri + "/Actions/EventDestination.ResumeSubscription", {}, expect=204)
        check(req(d, "GET", uri, expect=200)[2]["Status"]["State"] == "Enabled", "resumed")
        system = compose(d, "s2")
        check(rx.wait(about(system)), "delivered after resume")
        decompose(d, "s2")
    finally:
        rx.stop()
    req(d, "DELETE", uri, expect=204)


def test_terminate(d):
    uri = subscribe(d, "http://127.0.0.1:%d/gone" % free_port(),
                    DeliveryRetryPolicy="TerminateAfterRetries")
    compose(d, "t1")
    deadline = time.time() + 2 + (RETRIES + 1) * INTERVAL + 5
    while time.time() < deadline and req(d, "GET", uri)[0] == 200:
        time.sleep(0.2)
    check(req(d, "GET", uri)[0] == 404, "TerminateAfterRetries deleted it")
    decompose(d, "t1")


def test_restart(d, rx):
    uri = subscribe(d, rx.url("/kept"), Context="kept")
    suspended = subscribe(d, "http://127.0.0.1:%d/x" % free_port(), Context="susp")
    compose(d, "r1")
    deadline = time.time() + 2 + (RETRIES + 1) * INTERVAL + 5
    while time.time() < deadline and \
            req(d, "GET", suspended)[2]["Status"]["State"] != "Disabled":
        time.sleep(0.2)
    check(rx.wait(lambda e: e[0] == "/kept"), "delivered before the restart")
    before = req(d, "GET", uri, expect=200)[2]
    check(d.stop() == 0, "dhpd stopped")
    d.start()
    after = req(d, "GET", uri, expect=200)[2]
    for key in ("Destination", "Context", "DeliveryRetryPolicy", "RegistryPrefixes"):
        check(before[key] == after[key], "%s kept: %s" % (key, after[key]))
    check(req(d, "GET", suspended, expect=200)[2]["Status"]["State"] == "Disabled",
          "a suspended subscription stays suspended")
    n = len([e for e in rx.events if e[0] == "/kept"])
    decompose(d, "r1")
    check(rx.wait(lambda e: e[0] == "/kept" and
                  e[2]["Events"][0]["OriginOfCondition"]["@odata.id"] == SYSTEMS + "/r1" and
                  rx.events.index(e) >= n), "delivered after the restart")
    req(d, "DELETE", uri, expect=204)
    req(d, "DELETE", suspended, expect=204)
    # A deleted subscription's number is not given again.
    again = subscribe(d, rx.url("/again"))
    check(again not in (uri, suspended), "a new number")
    req(d, "DELETE", again, expect=204)


def test_tls(d):
    """An https receiver is verified: dhpd's own self-signed certificate
    (names 127.0.0.1) is refused with the system's CAs, and accepted
    once --event-ca-file names it."""
    tls = os.path.join(d.state_dir, "tls")
    rx = Receiver(tls=(os.path.join(tls, "cert.pem"), os.path.join(tls, "key.pem")))
    try:
        uri = subscribe(d, rx.url("/tls"), Context="tls")
        compose(d, "tls1")
        deadline = time.time() + 2 + (RETRIES + 1) * INTERVAL + 5
        while time.time() < deadline and \
                req(d, "GET", uri)[2]["Status"]["State"] != "Disabled":
            time.sleep(0.2)
        check(req(d, "GET", uri)[2]["Status"]["State"] == "Disabled",
              "an unverified receiver: suspended")
        check(not rx.events, "nothing sent to an unverified receiver")
        check(req(d, "GET", uri)[2]["VerifyCertificate"] is True, "VerifyCertificate")
        d.stop()
        d.args += ["--event-ca-file", os.path.join(tls, "cert.pem")]
        d.start()
        req(d, "POST", uri + "/Actions/EventDestination.ResumeSubscription", {}, expect=204)
        decompose(d, "tls1")
        check(rx.wait(lambda e: e[0] == "/tls"), "delivered once its CA is trusted")
        req(d, "DELETE", uri, expect=204)
    finally:
        rx.stop()


def main():
    d = rx = None
    try:
        d = Dhpd(build, args=["--hash-iterations", "1000", "--sim-latency-ms", "20",
                              "--event-retry-attempts", str(RETRIES),
                              "--event-retry-interval-s", str(INTERVAL)]).start()
    except Skip as e:
        results.skip("subscriptions", str(e))
        return results.done()
    try:
        rx = Receiver()
        results.case("EventService links its Subscriptions", test_service, d)
        results.case("a push subscription gets events; PATCH; DELETE stops it",
                     test_delivery, d, rx)
        results.case("OriginResources and ResourceTypes filter", test_origin_filter, d, rx)
        results.case("bad requests: 400 with their message, nothing created",
                     test_bad_requests, d)
        results.case("at most 64 subscriptions", test_limit, d)
        results.case("privileges: ReadOnly reads, cannot create", test_privileges, d)
        results.case("an SSE stream is an EventDestination while open", test_sse, d)
        results.case("a receiver down: retries, suspended, resumed", test_retry_suspend, d)
        results.case("TerminateAfterRetries deletes", test_terminate, d)
        results.case("subscriptions survive a restart", test_restart, d, rx)
        results.case("https receivers are verified", test_tls, d)
    finally:
        if rx:
            rx.stop()
        d.cleanup()
    return results.done()


if __name__ == "__main__":
    sys.exit(main())
