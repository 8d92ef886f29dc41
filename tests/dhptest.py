# SPDX-License-Identifier: MIT
"""Shared by the Python tests: a real dhpd on loopback, a small HTTPS
client, and the "ok NAME" / "not ok NAME" / "skip NAME: why" lines that
scripts/run-tests adds up."""

import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDFISH = os.path.join(os.path.dirname(ROOT), "shared", "redfish")


class Results:
    def __init__(self):
        self.failed = 0

    def case(self, name, fn, *args):
        """Run fn(*args); it passes unless it raises. A Skip skips it."""
        try:
            fn(*args)
            print("ok %s" % name, flush=True)
        except Skip as s:
            print("skip %s: %s" % (name, s), flush=True)
        except Exception:  # a failed check or a broken test: both fail
            self.failed += 1
            print("not ok %s" % name, flush=True)
            for line in traceback.format_exc().splitlines():
                print("#   " + line, flush=True)

    def skip(self, name, why):
        print("skip %s: %s" % (name, why), flush=True)

    def done(self):
        sys.exit(1 if self.failed else 0)


class Skip(Exception):
    pass


def check(cond, what="check failed"):
    if not cond:
        raise AssertionError(what)


class Dhpd:
    """A dhpd of the build under test, in a fresh state directory."""

    def __init__(self, build, topology="topologies/demo", args=(), state_dir=None,
                 password="admin-pass-1234", server="sim", cwd=ROOT):
        """server: the backend (sim, or qemu: real partitions, which boot
        build/guest of cwd, docs/qemu.md)."""
        self.build = build
        self.exe = os.path.join(build, "dhpd")
        if not os.path.exists(self.exe):
            raise Skip("%s is not built" % self.exe)
        self.own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="dhp-api-")
        self.password = password
        self.topology = topology
        self.server = server
        self.cwd = cwd
        self.args = list(args)
        self.proc = None
        self.port = None

    def start(self, timeout=30):
        pwfile = os.path.join(self.state_dir, "given-password")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        cmd = [self.exe, "--listen", "127.0.0.1:0", "--state-dir", self.state_dir,
               "--admin-password-file", pwfile, "--server", self.server + ":" + self.topology] + self.args
        self.log = open(os.path.join(self.state_dir, "dhpd.log"), "w+")
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, stderr=subprocess.PIPE, stdout=self.log,
                                     text=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.write(line)
            if "ready on" in line:
                url = line.strip().split("ready on ")[1]
                self.port = int(url.rsplit(":", 1)[1].strip("/"))
                self.scheme = url.split(":")[0]
                # Keep draining stderr so dhpd never blocks on a full pipe.
                self._drain()
                return self
        self.stop()
        raise AssertionError("dhpd did not become ready: see %s" % self.log.name)

    def _drain(self):
        import threading

        def pump(stream, log):
            for line in stream:
                log.write(line)
                log.flush()

        threading.Thread(target=pump, args=(self.proc.stderr, self.log), daemon=True).start()

    def context(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.state_dir, "tls", "cert.pem"))
        return ctx

    def connect(self, timeout=30):
        if self.scheme == "https":
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.context())
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, user="admin", password=None, token=None,
                headers=None, raw=None):
        """One request; returns (status, headers dict (lower-case names), parsed JSON or
        text or None)."""
        h = dict(headers or {})
        if token:
            h["X-Auth-Token"] = token
        elif user is not None:
            cred = "%s:%s" % (user, password if password is not None else self.password)
            h["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn = self.connect()
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read().decode("utf-8", "replace")
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            try:
                doc = json.loads(text) if text else None
            except ValueError:
                doc = text
            return r.status, hdrs, doc
        finally:
            conn.close()

    def wait_task(self, location, timeout=30, **kw):
        """Poll a task monitor until the task ends; returns the Task."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, _, task = self.request("GET", location, **kw)
            if status == 200:
                return task
            check(status == 202, "task monitor answered %d" % status)
            time.sleep(0.02)
        raise AssertionError("task did not end")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)


def schema_validator():
    """A function validating a Redfish payload against the DMTF schema of its
    @odata.type, from ../shared/redfish (never the network); None if the
    folder or python3-jsonschema is missing."""
    try:
        import jsonschema
    except ImportError:
        return None
    folder = os.path.join(REDFISH, "json-schema")
    if not os.path.isdir(folder):
        return None
    cache = {}

    def load(uri):
        name = uri.rsplit("/", 1)[-1].split("#")[0]
        if name not in cache:
            with open(os.path.join(folder, name)) as f:
                cache[name] = json.load(f)
        return cache[name]

    def validate(doc):
        t = doc.get("@odata.type", "")
        check(t.startswith("#"), "no @odata.type")
        ns, kind = t[1:].rsplit(".", 1)
        schema = load(ns + ".json")
        resolver = jsonschema.RefResolver(
            "http://redfish.dmtf.org/schemas/v1/%s.json" % ns, schema,
            handlers={"http": load, "https": load})
        sub = {"$ref": "#/definitions/%s" % kind}
        jsonschema.Draft7Validator(sub, resolver=resolver).validate(doc)

    return validate
