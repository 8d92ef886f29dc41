# SPDX-License-Identifier: MIT
"""t0900-dhpctl: the command-line client (docs/dhpctl.md).

Three parts:
- dhpctl alone: --help, usage errors (exit 2), configuration precedence,
  an unreachable server (exit 5);
- dhpctl against a fake peer on loopback, for what only a misbehaving or
  scripted server shows: redirects not followed, oversized answers,
  Redfish error bodies, the auth headers sent, a task followed to its
  outcome, an event stream dropped and resumed with Last-Event-ID;
- dhpctl against a real dhpd (skipped when BUILD_DIR/dhpd is not built):
  every verb, outputs, -o json, exit codes, events --since.

Usage: python3 tests/t0900-dhpctl.py BUILD_DIR
"""

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, check  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
DHPCTL = os.path.abspath(os.path.join(build, "dhpctl"))
HOME = tempfile.mkdtemp(prefix="dhpctl-home-")
VERBS = ["server", "units", "partitions", "create", "delete", "start", "stop", "restart",
         "add", "remove", "replace", "power-on", "power-off", "ops", "events", "console",
         "login"]


def run(*args, env=None, timeout=60):
    """Run dhpctl with a clean environment (no DHP_*, HOME without a
    configuration) plus env; returns the CompletedProcess."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
    e.pop("XDG_CONFIG_HOME", None)
    e["HOME"] = HOME
    e.update(env or {})
    return subprocess.run([DHPCTL] + list(args), env=e, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def expect(out, code, what=""):
    check(out.returncode == code, "%s: exit %d, not %d\nstdout: %s\nstderr: %s" % (
        what, out.returncode, code, out.stdout, out.stderr))


def error_once(out, pattern=None):
    """An error is printed once: one "dhpctl: ..." line, maybe a hint."""
    lines = [l for l in out.stderr.splitlines() if not l.startswith("dhpctl: warning")]
    check(len([l for l in lines if l.startswith("dhpctl: ")]) == 1, "stderr: %r" % out.stderr)
    check(all(l.startswith("dhpctl: ") or l.startswith("  hint: ") for l in lines),
          "stderr: %r" % out.stderr)
    if pattern:
        check(re.search(pattern, out.stderr), "%r not in %r" % (pattern, out.stderr))


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- dhpctl alone ----

def help_global():
    out = run("--help")
    expect(out, 0)
    for verb in VERBS:
        check(re.search(r"^  %s " % verb, out.stdout, re.M), "--help lacks %s" % verb)
    for code in range(6):
        check(re.search(r"^  %d " % code, out.stdout, re.M), "--help lacks exit %d" % code)


def help_verb(verb):
    for args in ([verb, "--help"], ["help", verb], ["--help", verb]):
        out = run(*args)
        expect(out, 0, " ".join(args))
        check(out.stdout.startswith("usage: dhpctl [OPTIONS] %s" % verb), out.stdout)
        check("example:" in out.stdout, out.stdout)


USAGE_ERRORS = [
    [], ["bogus"], ["create"], ["create", "web", "s0-cpu0"], ["stop", "web", "extra"],
    ["units", "--type", "gpu"], ["-o", "yaml", "units"], ["units", "--bogus"], ["--url"],
    ["--timeout", "0", "units"], ["events", "--since", "x"], ["replace", "web"],
    ["create", "../x", "--os", "linux", "s0-cpu0"], ["start", "a/b"], ["ops", "--wait"],
    ["--url", "ftp://127.0.0.1", "units"], ["--url", "https://127.0.0.1/redfish", "units"],
    ["--url", "https://u:p@127.0.0.1", "units"], ["help", "bogus"],
    ["console"], ["console", "a/b"], ["console", "web", "extra"], ["console", "web", "--tail"],
]


def usage_errors():
    for args in USAGE_ERRORS:
        out = run(*args)
        expect(out, 2, " ".join(args))
        error_once(out)
        check(out.stdout == "", "usage error wrote stdout: %r" % out.stdout)


def unreachable():
    out = run("--url", "https://127.0.0.1:%d" % closed_port(), "--insecure", "units")
    expect(out, 5)
    error_once(out, r"dhpctl: cannot reach https://127\.0\.0\.1:\d+")
    check("hint: " in out.stderr, out.stderr)


def precedence():
    p_file, p_env, p_flag = closed_port(), closed_port() + 1, closed_port() + 2
    conf = os.path.join(HOME, "dhpctl.conf")
    with open(conf, "w") as f:
        f.write("# test\nurl = https://127.0.0.1:%d\n\ncacert = cert.pem\n" % p_file)
    env = {"DHP_URL": "https://127.0.0.1:%d" % p_env}
    common = ["--config", conf, "--insecure", "units"]
    check(":%d " % p_flag in run("--url", "https://127.0.0.1:%d" % p_flag, *common,
                                 env=env).stderr, "flags beat env")
    check(":%d " % p_env in run(*common, env=env).stderr, "env beats the file")
    check(":%d " % p_file in run(*common).stderr, "the file is read")
    # the default file, ~/.config/dhp/dhpctl.conf
    os.makedirs(os.path.join(HOME, ".config", "dhp"), exist_ok=True)
    shutil.copy(conf, os.path.join(HOME, ".config", "dhp", "dhpctl.conf"))
    try:
        check(":%d " % p_file in run("--insecure", "units").stderr, "the default file")
    finally:
        os.unlink(os.path.join(HOME, ".config", "dhp", "dhpctl.conf"))


def config_errors():
    bad = os.path.join(HOME, "bad.conf")
    with open(bad, "w") as f:
        f.write("url = https://127.0.0.1:1\npasword-file = x\n")
    out = run("--config", bad, "units")
    expect(out, 2)
    error_once(out, r"bad\.conf:2: unknown key \"pasword-file\"")
    out = run("--config", os.path.join(HOME, "missing.conf"), "units")
    expect(out, 2)
    out = run("--user", "admin", "--password-file", os.path.join(HOME, "missing"), "units")
    expect(out, 2)
    error_once(out, "password file")
    # no password and no terminal to ask on
    expect(run("--user", "admin", "units"), 2)
    # credentials never go in clear text to another host
    out = run("--url", "http://192.0.2.1:8080", "--user", "a", "--password", "b", "units")
    expect(out, 2)
    error_once(out, "clear text")


# ---- a fake peer: what only a scripted server shows ----

def redfish_error(status, message, resolution=""):
    info = {"MessageId": "Base.1.22.X", "Message": message, "Resolution": resolution,
            "Severity": "Warning", "MessageSeverity": "Warning"}
    return status, {"error": {"code": "Base.1.22.X", "message": message,
                              "@Message.ExtendedInfo": [info]}}


class Fake:
    """Plain HTTP on loopback (where dhpctl allows it). routes maps
    (METHOD, path) to fn(handler, fake) -> (status, body[, headers]) or
    None when fn answered itself; every request is recorded."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []
        self.stopping = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body=None, headers=()):
                data = body if isinstance(body, bytes) else \
                    json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if body is not None and not isinstance(body, bytes):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path = self.path.split("?")[0]
                fake.requests.append((self.command, self.path, dict(self.headers), body))
                fn = fake.routes.get((self.command, path))
                res = fn(self, fake) if fn else redfish_error(404, "No such thing.")
                if res is not None:
                    self.answer(*res)

            do_GET = do_POST = do_PATCH = do_DELETE = any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def headers_of(self, method, path):
        return [h for m, p, h, _ in self.requests if m == method and p.split("?")[0] == path]


def with_fake(routes, fn):
    fake = Fake(routes)
    try:
        fn(fake)
    finally:
        fake.close()


ROOT_DOC = {"@odata.id": "/redfish/v1", "Systems": {"@odata.id": "/redfish/v1/Systems"}}
SYSTEM = {"@odata.id": "/redfish/v1/Systems/web", "Id": "web", "Name": "web",
          "ProcessorSummary": {"Count": 2}, "MemorySummary": {"TotalSystemMemoryGiB": 4},
          "Links": {"ResourceBlocks": [{"@odata.id": "/redfish/v1/CompositionService/"
                                                     "ResourceBlocks/s0-cpu0"}]},
          "Oem": {"Dhp": {"OsProfile": "linux", "State": "running"}}}
LISTING = {
    ("GET", "/redfish/v1"): lambda h, f: (200, ROOT_DOC),
    ("GET", "/redfish/v1/Systems"): lambda h, f: (200, {
        "Members": [{"@odata.id": "/redfish/v1/Systems/web"}], "Members@odata.count": 1}),
    ("GET", "/redfish/v1/Systems/web"): lambda h, f: (200, SYSTEM),
}


def fake_auth(fake_routes=None):
    routes = dict(LISTING)
    routes[("POST", "/redfish/v1/SessionService/Sessions")] = lambda h, f: (
        201, {"@odata.id": "/redfish/v1/SessionService/Sessions/9"},
        [("X-Auth-Token", "run-session-token"),
         ("Location", "/redfish/v1/SessionService/Sessions/9")])
    routes[("DELETE", "/redfish/v1/SessionService/Sessions/9")] = lambda h, f: (204, None)

    def basic(fake):
        out = run("--url", fake.url, "--user", "u", "--password", "p", "partitions")
        expect(out, 0)
        check(re.search(r"^web\s+linux\s+running\s+2\s+4 GiB\s+-\s+-\s+s0-cpu0$", out.stdout, re.M),
              out.stdout)
        first, login = fake.requests[0], fake.headers_of("POST",
                                                         "/redfish/v1/SessionService/Sessions")
        check(first[2].get("Authorization") == "Basic dTpw", "first request: Basic u:p")
        # From the second request on: one login, then the token, then log out.
        check(len(login) == 1 and "Authorization" not in login[0], "one login, no Basic")
        later = [h for m, p, h, _ in fake.requests[2:]]
        check(later and all(h.get("X-Auth-Token") == "run-session-token" and
                            "Authorization" not in h for h in later), "token after login")
        check(fake.requests[-1][0] == "DELETE", "logged out at the end")

    def token(fake):
        out = run("--url", fake.url, "--token", "t0k3n", "partitions")
        expect(out, 0)
        check(all(h.get("X-Auth-Token") == "t0k3n" and "Authorization" not in h
                  for _, _, h, _ in fake.requests), "token on every request")
        check(not fake.headers_of("POST", "/redfish/v1/SessionService/Sessions"), "no login")

    with_fake(routes, basic)
    with_fake(routes, token)
    # A server that will not make a session: Basic all along.
    routes[("POST", "/redfish/v1/SessionService/Sessions")] = \
        lambda h, f: redfish_error(503, "Too many sessions.")
    with_fake(routes, lambda fake: (
        expect(run("--url", fake.url, "--user", "u", "--password", "p", "partitions"), 0),
        check(all(h.get("Authorization") == "Basic dTpw" for m, _, h, _ in fake.requests
                  if m == "GET"), "Basic after a refused login")))


def big_answer(h, fake):
    # 65 MiB and no Content-Length: the cap must hold while reading.
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Connection", "close")
    h.end_headers()
    h.close_connection = True
    chunk = b" " * (1 << 20)
    try:
        h.wfile.write(b"[")
        for _ in range(65):
            h.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass


def announced_big(h, fake):
    # Says 100 MiB up front: refused before anything is read.
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(100 << 20))
    h.end_headers()
    h.close_connection = True


def fake_misbehaving():
    tasks = "/redfish/v1/TaskService/Tasks/"
    routes = {
        ("GET", tasks + "1"): lambda h, f: (301, None, [("Location", "http://192.0.2.1/x")]),
        ("GET", tasks + "2"): big_answer,
        ("GET", tasks + "3"): lambda h, f: (200, b"<html>hello</html>",
                                            [("Content-Type", "text/html")]),
        ("GET", tasks + "4"): announced_big,
        ("GET", tasks + "5"): lambda h, f: redfish_error(
            404, "The task 5 was not found.", "List the tasks first."),
        ("GET", tasks + "6"): lambda h, f: redfish_error(403, "Insufficient privilege."),
        ("GET", tasks + "7"): lambda h, f: (500, None),
        ("GET", tasks + "8"): lambda h, f: redfish_error(409, "URI busy."),
    }

    def go(fake):
        def ops(n):
            return run("--url", fake.url, "--token", "t", "ops", str(n), timeout=30)
        out = ops(1)
        expect(out, 5, "redirect")
        error_once(out, r"redirect \(HTTP 301\) to \"http://192\.0\.2\.1/x\"")
        check(len(fake.requests) == 1, "the redirect was not followed")
        for n, pattern in ((2, "larger than 64 MiB"), (3, "did not answer with a JSON"),
                           (4, "larger than 64 MiB")):
            out = ops(n)
            expect(out, 5, "task %d" % n)
            error_once(out, pattern)
        out = ops(5)
        expect(out, 3, "404")
        error_once(out)
        check(out.stderr == "dhpctl: the task 5 was not found\n  hint: list the tasks first\n",
              repr(out.stderr))
        expect(ops(6), 4, "403")
        expect(ops(7), 5, "500")
        out = ops(8)
        expect(out, 3, "409")
        check(out.stderr.startswith("dhpctl: URI busy\n"), "an acronym stays: %r" % out.stderr)

    with_fake(routes, go)


def task_doc(n_msgs, state, error=None):
    doc = {"@odata.id": "/redfish/v1/TaskService/Tasks/7", "Id": "7",
           "TaskState": "Completed" if state == "completed" else
           "Exception" if state == "rolled-back" else "Running",
           "StartTime": "2024-05-01T12:00:00.000+00:00",
           "Messages": [{"Message": "start 7: phase %d done" % i} for i in range(n_msgs)],
           "Oem": {"Dhp": {"Kind": "start", "State": state, "Partition": "web", "Units": []}}}
    if state in ("completed", "rolled-back"):
        doc["EndTime"] = "2024-05-01T12:00:00.523+00:00"
    if error:
        doc["Oem"]["Dhp"]["Error"] = {"Code": "veto", "Message": error,
                                      "Resolution": "try again later"}
    return doc


def fake_task():
    monitor = "/redfish/v1/TaskService/TaskMonitors/7"

    def routes(final, error=None):
        polls = []

        def poll(h, f):
            polls.append(1)
            if len(polls) < 3:
                return 202, task_doc(len(polls), "running")
            return 200, task_doc(3, final, error)
        return {
            ("POST", "/redfish/v1/Systems/web/Actions/ComputerSystem.Reset"):
                lambda h, f: (202, task_doc(0, "queued"), [("Location", monitor)]),
            ("GET", monitor): poll,
        }

    def completed(fake):
        out = run("--url", fake.url, "--token", "t", "start", "web")
        expect(out, 0)
        lines = out.stdout.splitlines()
        check([re.sub(r"^  \[ *\d+\] ", "", l) for l in lines[:3]] ==
              ["start 7: phase %d done" % i for i in range(3)], out.stdout)
        check(lines[3:] == ["operation 7 start web: completed (523 ms)"], out.stdout)
        body = json.loads(fake.requests[0][3])
        check(body == {"ResetType": "On"}, "ResetType: %r" % body)

    def rolled_back(fake):
        out = run("--url", fake.url, "--token", "t", "start", "web")
        expect(out, 1)
        check(out.stdout.endswith("operation 7 start web: rolled-back: the OS said no\n"
                                  "  hint: try again later\n"), out.stdout)

    def no_wait(fake):
        out = run("--url", fake.url, "--token", "t", "--no-wait", "start", "web")
        expect(out, 0)
        check(out.stdout == "7\n" and len(fake.requests) == 1, out.stdout)

    def as_json(fake):
        out = run("--url", fake.url, "--token", "t", "-o", "json", "stop", "web", "--force")
        expect(out, 0)
        check(json.loads(out.stdout)["Oem"]["Dhp"]["State"] == "completed", out.stdout)
        check(json.loads(fake.requests[0][3]) == {"ResetType": "ForceOff"}, "ForceOff")

    def monitor_gone(fake):
        out = run("--url", fake.url, "--token", "t", "start", "web")
        expect(out, 0)
        check(out.stdout.endswith("operation 7 start web: completed (523 ms)\n"), out.stdout)
        check(fake.headers_of("GET", "/redfish/v1/TaskService/Tasks/7"), "read the Task")

    def interrupted(fake):
        e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
        e["HOME"] = HOME
        proc = subprocess.Popen([DHPCTL, "--url", fake.url, "--token", "t", "start", "web"],
                                env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            lines = Lines(proc).until(lambda got: len(got) >= 1, 15)
        finally:
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=10)
        check(lines and "phase 0 done" in lines[0], "a phase: %r" % lines)
        check(rc == 130, "Ctrl-C while waiting exits 130, not %d" % rc)
        check(proc.stderr.read() == "dhpctl: stopped waiting: operation 7 goes on in dhpd\n"
              "  hint: follow it with: dhpctl ops --wait 7\n", "the operation goes on")

    endless = routes("completed")
    endless[("GET", monitor)] = lambda h, f: (202, task_doc(1, "running"))
    with_fake(endless, interrupted)
    gone = routes("completed")
    polled = []
    gone[("GET", monitor)] = lambda h, f: (polled.append(1), (202, task_doc(1, "running"))
                                           if len(polled) == 1 else
                                           redfish_error(404, "Gone."))[1]
    gone[("GET", "/redfish/v1/TaskService/Tasks/7")] = lambda h, f: (200, task_doc(3, "completed"))
    with_fake(routes("completed"), completed)
    with_fake(gone, monitor_gone)
    with_fake(routes("rolled-back", "the OS said no"), rolled_back)
    with_fake(routes("completed"), no_wait)
    with_fake(routes("completed"), as_json)


def sse_event(seq):
    data = {"@odata.type": "#Event.v1_13_0.Event", "Id": str(seq), "Events": [
        {"EventId": str(seq), "EventTimestamp": "2024-05-01T12:00:%02d.000+00:00" % seq,
         "Message": "event number %d" % seq}]}
    return ("id: %d\ndata: %s\n\n" % (seq, json.dumps(data))).encode()


def sse_stream(first_events, later_events):
    """The first connection sends first_events and drops; later ones send
    the events after Last-Event-ID from later_events and stay open."""
    def handler(h, fake):
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        h.close_connection = True
        try:
            if len(fake.headers_of("GET", "/redfish/v1/EventService/SSE")) == 1 and first_events:
                for seq in first_events:
                    h.wfile.write(sse_event(seq))
                h.wfile.flush()
                return None	# the connection drops
            last = int(h.headers.get("Last-Event-ID", "-1"))
            for seq in later_events:
                if seq > last:
                    h.wfile.write(sse_event(seq))
            h.wfile.write(b": keep-alive\n\n")
            h.wfile.flush()
            while not fake.stopping.wait(0.1):
                pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        return None
    return {("GET", "/redfish/v1/EventService/SSE"): handler}


class Lines:
    """proc's stdout, line by line, read by one thread so none is lost."""

    def __init__(self, proc):
        self.queue = queue.Queue()
        self.got = []
        threading.Thread(target=lambda: [self.queue.put(l) for l in proc.stdout],
                         daemon=True).start()

    def until(self, done, timeout):
        """Read until done(lines) or timeout seconds; returns the lines."""
        deadline = time.time() + timeout
        while not done(self.got) and time.time() < deadline:
            try:
                self.got.append(self.queue.get(timeout=max(0.01, deadline - time.time())))
            except queue.Empty:
                break
        return self.got


def fake_sse():
    def resume(fake):
        e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
        e["HOME"] = HOME
        proc = subprocess.Popen([DHPCTL, "--url", fake.url, "--token", "t", "events",
                                 "--follow"], env=e, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            lines = Lines(proc).until(lambda got: len(got) >= 3, 15)
        finally:
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=10)
        seqs = [int(re.match(r"\[ *(\d+)\] ", l).group(1)) for l in lines]
        check(seqs == [1, 2, 3], "events: %r" % lines)
        check(lines[0].endswith("  event number 1\n"), lines[0])
        hdrs = fake.headers_of("GET", "/redfish/v1/EventService/SSE")
        check("Last-Event-ID" not in hdrs[0], "following alone starts from now")
        check(hdrs[1].get("Last-Event-ID") == "2", "resumed after 2: %r" % hdrs[1])
        check(rc == 0, "events --follow ends with 0 on Ctrl-C, not %d" % rc)
        check("dropped" in proc.stderr.read(), "the drop is told")

    def since(fake):
        out = run("--url", fake.url, "--token", "t", "events", "--since", "5")
        expect(out, 0)
        check(re.findall(r"^\[ *(\d+)\]", out.stdout, re.M) == ["6", "7"], out.stdout)
        check(fake.headers_of("GET", "/redfish/v1/EventService/SSE")[0]
              .get("Last-Event-ID") == "5", "Last-Event-ID: 5")
        out = run("--url", fake.url, "--token", "t", "-o", "json", "events")
        check([json.loads(l)["Id"] for l in out.stdout.splitlines()] == ["6", "7"], out.stdout)
        check(fake.headers_of("GET", "/redfish/v1/EventService/SSE")[1]
              .get("Last-Event-ID") == "0", "a listing starts from the first event")

    def refused(fake):
        for args, code in ((["events"], 4), (["events", "--follow"], 4),
                           (["events", "--since", "1"], 5)):
            out = run("--url", fake.url, "--token", "t", *args)
            expect(out, code, " ".join(args))
            error_once(out)

    with_fake(sse_stream([1, 2], [1, 2, 3]), resume)
    with_fake(sse_stream([], [6, 7]), since)
    answers = [redfish_error(401, "No valid session."), redfish_error(401, "No valid session."),
               (200, {"not": "a stream"})]
    with_fake({("GET", "/redfish/v1/EventService/SSE"): lambda h, f: answers.pop(0)}, refused)


def console_log():
    """A console log that dhpd would serve, with its Range rules: at most
    64 KiB per answer; no Range: the last 64 KiB."""
    state = {"log": b"\r\ndhp-guest: init dhp-guest\r\n"}
    cap = 65536

    def handler(h, fake):
        log, rng = state["log"], h.headers.get("Range")
        size = len(log)
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        first = int(m.group(1)) if m else max(0, size - cap)
        if m and first >= size:
            return 416, redfish_error(416, "Nothing there.")[1], [
                ("Content-Range", "bytes */%d" % size)]
        part = log[first:first + cap]
        if first == 0 and len(part) == size:
            return 200, part, [("Content-Type", "text/plain")]
        return 206, part, [("Content-Type", "text/plain"), (
            "Content-Range", "bytes %d-%d/%d" % (first, first + len(part) - 1, size))]
    return state, {("GET", "/redfish/v1/Systems/web/Oem/Dhp/Console"): handler}


def fake_console():
    state, routes = console_log()
    cmd = ["--url", None, "--token", "t", "console", "web"]

    def tail(fake):
        cmd[1] = fake.url
        e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
        e["HOME"] = HOME
        out = subprocess.run([DHPCTL] + cmd, env=e, capture_output=True, timeout=60)
        expect(out, 0)
        check(out.stdout == b"\r\ndhp-guest: init dhp-guest\r\n", "to a pipe, byte for byte: "
              "%r" % out.stdout)
        check("Range" not in fake.requests[0][2], "the tail: no Range")
        out = run("-o", "json", *cmd)
        doc = json.loads(out.stdout)
        check(doc == {"partition": "web", "offset": 0, "size": 29,
                      "text": "\r\ndhp-guest: init dhp-guest\r\n"}, doc)

    def big(fake):
        cmd[1] = fake.url
        state["log"] = b"".join(b"line %06d\n" for i in range(20000))	# 220,000 bytes
        out = run(*cmd)
        check(out.stdout.encode() == state["log"][-65536:], "the last 64 KiB")
        fake.requests.clear()
        out = run(*cmd, "--all")
        expect(out, 0)
        check(out.stdout.encode() == state["log"], "--all: %d bytes" % len(out.stdout))
        n = len(fake.headers_of("GET", "/redfish/v1/Systems/web/Oem/Dhp/Console"))
        check(n == 4, "64 KiB per request: %d requests" % n)

    def follow(fake):
        cmd[1] = fake.url
        state["log"] = b"boot one\n"
        e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
        e["HOME"] = HOME
        proc = subprocess.Popen([DHPCTL] + cmd + ["--follow"], env=e, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines = Lines(proc)
        try:
            lines.until(lambda got: len(got) >= 1, 15)
            state["log"] += b"more output\n"
            lines.until(lambda got: len(got) >= 2, 15)
            state["log"] = b"two\n"	# shorter: the partition restarted
            lines.until(lambda got: len(got) >= 3, 15)
        finally:
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=10)
        check(lines.got == ["boot one\n", "more output\n", "two\n"], "followed: %r" % lines.got)
        check(rc == 0, "console --follow ends with 0 on Ctrl-C, not %d" % rc)
        check("started again" in proc.stderr.read(), "the restart is told")
        ranges = [h.get("Range") for h in
                  fake.headers_of("GET", "/redfish/v1/Systems/web/Oem/Dhp/Console")]
        check(ranges[0] is None and "bytes=9-" in ranges and "bytes=21-" in ranges and
              "bytes=0-" in ranges, "ranges asked: %r" % ranges[:8])

    def terminal(fake):
        # To a terminal, the guest's control characters are defused.
        cmd[1] = fake.url
        state["log"] = b"\x1b[31mred\r\n"
        master, slave = os.openpty()
        e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
        e["HOME"] = HOME
        proc = subprocess.Popen([DHPCTL] + cmd, env=e, stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        rc = proc.wait(timeout=30)
        got = b""
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        os.close(master)
        check(rc == 0 and got.replace(b"\r", b"") == b"?[31mred\n", repr(got))

    def refused(fake):
        out = run("--url", fake.url, "--token", "t", "console", "db")
        expect(out, 3)
        error_once(out, "no such thing")

    for fn in (tail, big, follow, terminal, refused):
        with_fake(routes, fn)


# ---- against a real dhpd ----

class Ctl:
    """dhpctl pointed at a dhpd through the environment, as a user would."""

    def __init__(self, dhpd):
        self.env = {"DHP_URL": "https://127.0.0.1:%d" % dhpd.port, "DHP_USER": "admin",
                    "DHP_PASSWORD": dhpd.password,
                    "DHP_CACERT": os.path.join(dhpd.state_dir, "tls", "cert.pem")}

    def __call__(self, *args, env=None):
        return run(*args, env=dict(self.env, **(env or {})))

    def json(self, *args):
        out = self("-o", "json", *args)
        expect(out, 0, " ".join(args))
        return json.loads(out.stdout)

    def partition(self, name):
        rows = [p for p in self.json("partitions") if p["name"] == name]
        return rows[0] if rows else None

    def unit(self, uid):
        return [u for u in self.json("units") if u["id"] == uid][0]


OUTCOME = r"^operation (\d+) %s: completed \(\d+ ms\)$"


def completed(out, what):
    expect(out, 0, what)
    m = re.search(OUTCOME % re.escape(what), out.stdout, re.M)
    check(m, "no outcome line %r in:\n%s" % (what, out.stdout))
    return int(m.group(1))


def d_server(ctl):
    out = ctl("server")
    expect(out, 0)
    check(re.search(r"^server\s+demo\b.*: dynamic partitioning, 4 sockets$", out.stdout, re.M),
          out.stdout)
    check(re.search(r"^units\s+36: 16 processors, 16 memory modules \(32 GiB\), "
                    r"4 I/O host bridges$", out.stdout, re.M), out.stdout)
    check(re.search(r"^backend\s+sim \(simulated hardware\)$", out.stdout, re.M), out.stdout)
    check(re.search(r"^cpu remove\s+simulated: ", out.stdout, re.M), out.stdout)
    chassis = ctl.json("server")
    check(chassis["Oem"]["Dhp"]["ProcessorRemoveMethod"] == "simulated", chassis)


def d_units(ctl):
    units = ctl.json("units")
    check(len(units) == 36 and all(u["state"] == "free" and u["partition"] is None
                                   for u in units), units)
    check({u["type"] for u in units} == {"processor", "memory", "io-host-bridge"}, units)
    check(all(u["size_mib"] == 2048 for u in units if u["type"] == "memory"), units)
    out = ctl("units", "--free", "--type", "memory")
    expect(out, 0)
    check(len(out.stdout.splitlines()) == 17 and out.stdout.startswith("UNIT "), out.stdout)


def d_create(ctl):
    out = ctl("create", "t0900", "--os", "linux", "s0-cpu0", "s0-mem0")
    expect(out, 0)
    check(re.search(r"(partition t0900 created \(linux: s0-cpu0 s0-mem0\)|"
                    r"create t0900 .*: completed)", out.stdout), out.stdout)
    p = ctl.partition("t0900")
    check(p and p["state"] == "stopped" and p["profile"] == "linux" and
          sorted(p["units"]) == ["s0-cpu0", "s0-mem0"], p)
    check(p["locality"] == 1.0, "locality %r" % p.get("locality"))
    table = ctl("partitions")
    check(re.search(r"^PARTITION .* MEMORY +LOCALITY +STAGED", table.stdout, re.M) and
          re.search(r"^t0900 .* 2 GiB +1 +-", table.stdout, re.M), table.stdout)
    out = ctl("create", "t0900", "--os", "linux", "s0-cpu1", "s0-mem1")
    expect(out, 3, "the name is taken")
    error_once(out)


def d_start(ctl):
    out = ctl("start", "t0900")
    completed(out, "start t0900")
    check(re.search(r"^  \[ *\d+\] ", out.stdout, re.M), "no phase lines: " + out.stdout)
    check(ctl.partition("t0900")["state"] == "running", "running")


def d_add(ctl):
    completed(ctl("add", "t0900", "s0-cpu1"), "hot-add s0-cpu1 -> t0900")
    u = ctl.unit("s0-cpu1")
    check(u["partition"] == "t0900" and u["power"] == "on", u)


def d_add_rolled_back(ctl):
    out = ctl("add", "t0900", "s0-cpu3")	# dhpd runs with a veto for it
    expect(out, 1)
    check(re.search(r"^operation \d+ hot-add s0-cpu3 -> t0900: rolled-back: ", out.stdout,
                    re.M), out.stdout)
    check(ctl.unit("s0-cpu3")["partition"] is None, "nothing changed")


def d_remove(ctl):
    completed(ctl("remove", "t0900", "s0-cpu1"), "hot-remove s0-cpu1 from t0900")
    check(ctl.unit("s0-cpu1")["state"] == "free", "s0-cpu1 is free")
    out = ctl("remove", "t0900", "s0-mem0")	# the boot memory
    expect(out, 3)
    error_once(out, r"  hint: ")


def d_replace(ctl):
    out = ctl("replace", "t0900", "s0-mem0")
    expect(out, 0)
    m = re.search(r"^operation \d+ hot-replace s0-mem0 -> (s\d-mem\d) in t0900: completed",
                  out.stdout, re.M)
    check(m, out.stdout)
    check(ctl.unit(m.group(1))["partition"] == "t0900", "the spare joined")
    check(ctl.unit("s0-mem0")["partition"] is None, "the old unit left")
    completed(ctl("replace", "t0900", "s0-cpu0", "--spare", "s1-cpu0"),
              "hot-replace s0-cpu0 -> s1-cpu0 in t0900")


def d_add_several(ctl):
    out = ctl("add", "t0900", "s0-cpu2", "s1-cpu1")
    completed(out, "hot-add s0-cpu2 -> t0900")
    completed(out, "hot-add s1-cpu1 -> t0900")


def d_on_restart(ctl):
    out = ctl("add", "t0900", "s2-mem0", "s2-mem1", "--on-restart")
    expect(out, 0)
    check("at restart" in out.stdout, out.stdout)
    p = ctl.partition("t0900")
    check(sorted(p["staged"]) == ["+s2-mem0", "+s2-mem1"], p)
    completed(ctl("restart", "t0900"), "restart t0900")
    p = ctl.partition("t0900")
    check(p["staged"] == [] and {"s2-mem0", "s2-mem1"} <= set(p["units"]), p)


def d_no_wait(ctl):
    out = ctl("--no-wait", "stop", "t0900")
    expect(out, 0)
    check(re.fullmatch(r"\d+\n", out.stdout), out.stdout)
    completed(ctl("ops", "--wait", out.stdout.strip()), "stop t0900")


def d_assign_stopped(ctl):
    # Several units for a stopped partition: one PATCH, one operation.
    completed(ctl("add", "t0900", "s3-mem0", "s3-mem1"), "assign s3-mem0 s3-mem1 -> t0900")
    check({"s3-mem0", "s3-mem1"} <= set(ctl.partition("t0900")["units"]), "assigned")
    completed(ctl("remove", "t0900", "s3-mem0", "s3-mem1"),
              "unassign s3-mem0 s3-mem1 from t0900")
    out = ctl("remove", "t0900", "s3-mem0", "s3-mem1")
    expect(out, 3, "not in the partition")
    error_once(out, r"unit s3-mem0 is not in partition \"t0900\"")


def d_ops(ctl):
    out = ctl("ops")
    expect(out, 0)
    check(re.search(r"^ +\d+  completed +\d+ ms  start t0900$", out.stdout, re.M), out.stdout)
    check(re.search(r"^ +\d+  rolled-back .* hot-add s0-cpu3 -> t0900\n {4,}\S", out.stdout,
                    re.M), "the reason under a rolled-back operation:\n" + out.stdout)
    ops = ctl.json("ops")
    check(ops == sorted(ops, key=lambda o: o["id"]), "oldest first")
    start = [o for o in ops if o["what"] == "start t0900"][0]
    out = ctl("ops", str(start["id"]))
    expect(out, 0)
    completed(out, "start t0900")
    check(ctl.json("ops", str(start["id"]))["Id"] == str(start["id"]), "ops ID -o json")


def d_delete(ctl):
    out = ctl("delete", "t0900")
    expect(out, 0)
    check(ctl.partition("t0900") is None, "deleted")
    check(all(u["partition"] is None for u in ctl.json("units")), "every unit is free")
    out = ctl("partitions")
    check(out.stdout == "no partitions\n", out.stdout)


def d_refused(ctl):
    for args in (["start", "nope"], ["delete", "nope"], ["add", "nope", "s3-cpu2"],
                 ["ops", "999999"]):
        out = ctl(*args)
        expect(out, 3, " ".join(args))
        error_once(out)


def d_credentials(ctl):
    out = ctl("--password", "wrong-password", "units")
    expect(out, 4)
    error_once(out)
    expect(ctl("units", env={"DHP_USER": "", "DHP_TOKEN": "0123abcd"}), 4)
    out = ctl("login")
    expect(out, 0)
    token = out.stdout.strip()
    check(re.fullmatch(r"[0-9A-Za-z._-]{16,}", token), out.stdout)
    expect(ctl("units", env={"DHP_USER": "", "DHP_TOKEN": token}), 0)


def d_tls(ctl):
    out = ctl("units", env={"DHP_CACERT": ""})
    expect(out, 5)
    error_once(out, r"hint: .*--cacert")
    expect(ctl("--insecure", "units", env={"DHP_CACERT": ""}), 0)


def d_power(ctl):
    out = ctl("power-on", "s3-cpu2")
    check(re.search(r"^operation \d+ power-on s3-cpu2: completed|^unit s3-cpu2 powered on",
                    out.stdout, re.M), out.stdout)
    check(ctl.unit("s3-cpu2")["power"] == "on", "on")
    expect(ctl("power-off", "s3-cpu2"), 0)
    check(ctl.unit("s3-cpu2")["power"] == "off", "off")


def seqs_of(text):
    return [int(s) for s in re.findall(r"^\[ *(\d+)\] \d{4}-\d\d-\d\d ", text, re.M)]


def d_events(ctl):
    out = ctl("events")
    expect(out, 0)
    every = seqs_of(out.stdout)
    check(len(every) > 10 and every == sorted(set(every)), out.stdout[:500])
    k = every[len(every) // 2]
    out = ctl("events", "--since", str(k))
    expect(out, 0)
    check(seqs_of(out.stdout) == [s for s in every if s > k], "resumes after %d" % k)
    lines = ctl("-o", "json", "events", "--since", str(k)).stdout.splitlines()
    check([int(json.loads(l)["Id"]) for l in lines] == [s for s in every if s > k], lines[:3])
    mine = ctl("events", "--partition", "t0900")
    expect(mine, 0)
    check(0 < len(seqs_of(mine.stdout)) < len(every), "--partition filters")


def d_events_follow(ctl):
    last = seqs_of(ctl("events").stdout)[-1]
    e = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
    e.update(ctl.env, HOME=HOME)
    # From the last event seen, so that none is missed however slow the start.
    proc = subprocess.Popen([DHPCTL, "events", "--follow", "--since", str(last)], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        expect(ctl("power-on", "s3-cpu1"), 0)
        lines = Lines(proc).until(lambda got: any("s3-cpu1" in l for l in got), 15)
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10)
    check(any("s3-cpu1" in l for l in lines), "no event of s3-cpu1: %r" % lines)
    check(seqs_of("".join(lines))[0] == last + 1, "resumed after %d: %r" % (last, lines[:1]))
    check(rc == 0, "exit %d" % rc)
    expect(ctl("power-off", "s3-cpu1"), 0)


def d_console(ctl):
    # The simulated server keeps no console logs; an unknown partition is
    # refused the same way.
    out = ctl("console", "t0900")
    expect(out, 3)
    error_once(out, r"simulated server keeps no console logs")
    out = ctl("console", "nope", "--follow")
    expect(out, 3)
    error_once(out, r"'nope' was not found")


def d_create_sized(ctl):
    before = ctl.json("units")
    out = ctl("create", "sz", "--processors", "2", "--memory", "4GiB", "--dry-run")
    expect(out, 0, "dry run")
    check(re.search(r"^partition sz would be \(linux:( \S+){4}\); nothing changed$",
                    out.stdout, re.M), out.stdout)
    check(re.search(r"^  take \S+.*: socket \d+ \(home\) has \d+ free processors", out.stdout,
                    re.M), out.stdout)
    check(ctl.json("units") == before and not ctl.partition("sz"), "a dry run changed state")
    out = ctl("create", "sz", "--processors", "2", "--memory", "4GiB")
    expect(out, 0, "create by sizes")
    check(re.search(r"^partition sz created \(linux:( \S+){4}\)$", out.stdout, re.M),
          out.stdout)
    check(len(ctl.partition("sz")["units"]) == 4, ctl.partition("sz"))
    out = ctl("create", "sz2", "--processors", "1", "--memory", "3GiB")
    expect(out, 3, "a size no modules make")
    error_once(out, "cannot be made")
    out = ctl("create", "sz2", "--processors", "1", "--memory", "lots")
    expect(out, 2, "bad size")
    out = ctl("create", "sz2", "--processors", "1", "--memory", "2GiB", "s0-cpu0")
    expect(out, 2, "units and sizes")
    for _ in range(100):
        if ctl("delete", "sz").returncode == 0:
            break
        time.sleep(0.05)


DHPD_CASES = [d_server, d_units, d_create, d_start, d_add, d_add_rolled_back, d_remove,
              d_replace, d_add_several, d_on_restart, d_no_wait, d_assign_stopped, d_ops,
              d_events, d_console, d_delete, d_refused, d_credentials, d_tls, d_power,
              d_events_follow, d_create_sized]


def with_dhpd():
    names = ["dhpd-" + fn.__name__[2:].replace("_", "-") for fn in DHPD_CASES]
    if not os.path.exists(os.path.join(build, "dhpd")):
        for name in names:
            results.skip(name, "dhpd not built")
        return
    dhpd = Dhpd(build, args=["--sim-faults", "notify:add-start@s0-cpu3=veto*1",
                             "--hash-iterations", "1000"])
    try:
        try:
            dhpd.start()
        except Exception as e:
            results.case("dhpd-start", lambda: check(False, "dhpd did not start: %s" % e))
            for name in names:
                results.skip(name, "dhpd did not start")
            return
        ctl = Ctl(dhpd)
        for name, fn in zip(names, DHPD_CASES):
            results.case(name, fn, ctl)
    finally:
        dhpd.cleanup()


def main():
    if not os.access(DHPCTL, os.X_OK):
        results.case("dhpctl-built", lambda: check(False, "%s is not built" % DHPCTL))
        results.done()
    try:
        results.case("help", help_global)
        for verb in VERBS:
            results.case("help-" + verb, help_verb, verb)
        results.case("usage-errors", usage_errors)
        results.case("unreachable", unreachable)
        results.case("config-precedence", precedence)
        results.case("config-errors", config_errors)
        results.case("fake-auth", fake_auth)
        results.case("fake-misbehaving-server", fake_misbehaving)
        results.case("fake-task-followed", fake_task)
        results.case("fake-events-resume", fake_sse)
        results.case("fake-console", fake_console)
        with_dhpd()
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
    results.done()


main()
