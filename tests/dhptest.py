# SPDX-License-Identifier: MIT
"""Shared by the Python tests: a real dhpd on loopback, a small HTTPS
client, and the "ok NAME" / "not ok NAME" / "skip NAME: why" lines that
scripts/run-tests adds up."""

import base64
import json
import os
import re
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
# DMTF's validators and reference data, beside the project (t0890).
REDFISH = os.path.join(os.path.dirname(ROOT), "shared", "redfish")
# The schemas tests validate against (docs/schemas.md): DMTF's, vendored with
# their license, and dhp's OEM schemas, which dhpd serves.
DMTF_SCHEMAS = os.path.join(ROOT, "schemas", "dmtf", "json-schema")
OEM_SCHEMAS = os.path.join(ROOT, "schemas", "oem")


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


def _schema_loader():
    """Reads a schema by the file name at the end of a URI: DMTF's from
    schemas/dmtf/json-schema, dhp's OEM ones from schemas/oem. The DMTF
    folder holds one version of each schema (docs/schemas.md): a $ref to
    another (Message.json's anyOf lists every version) is checked against
    the one there, the newest. DHP_SCHEMA_TRACE=FILE appends the name of
    every DMTF file read, to find what the folder must hold."""
    version = re.compile(r"^([A-Za-z0-9]+)\.v(\d+)_(\d+)_(\d+)\.json$")
    newest = {}
    for name in os.listdir(DMTF_SCHEMAS):
        m = version.match(name)
        if m and (m.group(1) not in newest or
                  tuple(map(int, m.groups()[1:])) > newest[m.group(1)][0]):
            newest[m.group(1)] = (tuple(map(int, m.groups()[1:])), name)
    cache = {}
    trace = os.environ.get("DHP_SCHEMA_TRACE")

    def load(uri):
        name = uri.rsplit("/", 1)[-1].split("#")[0]
        if name not in cache:
            path = os.path.join(OEM_SCHEMAS if name.startswith("Dhp") else DMTF_SCHEMAS, name)
            m = version.match(name)
            if not os.path.exists(path) and m and m.group(1) in newest:
                path = os.path.join(DMTF_SCHEMAS, newest[m.group(1)][1])
            check(os.path.exists(path), "%s is not in schemas/dmtf/json-schema: copy it from "
                  "DMTF's publication (docs/schemas.md)" % name)
            if trace and path.startswith(DMTF_SCHEMAS):
                with open(trace, "a") as f:
                    f.write(os.path.basename(path) + "\n")
            with open(path) as f:
                cache[name] = json.load(f)
        return cache[name]

    return load


def _oem_objects(doc, path=""):
    """(path, object) of every Oem.<vendor> object in doc, at any depth
    (not Actions.Oem, which holds actions)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "Oem" and isinstance(value, dict) and not path.endswith("/Actions"):
                for vendor, obj in value.items():
                    yield "%s/Oem/%s" % (path, vendor), obj
            yield from _oem_objects(value, "%s/%s" % (path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _oem_objects(value, "%s/%d" % (path, i))


def schema_validator():
    """A function validating a Redfish payload against the DMTF schema of its
    @odata.type (schemas/dmtf, in the repository: never the network), and
    each Oem object in it against dhp's OEM schema its @odata.type names
    (schemas/oem): an Oem object without @odata.type fails. None without
    python3-jsonschema."""
    try:
        import jsonschema
    except ImportError:
        return None
    load = _schema_loader()
    validators = {}

    def validator(t):
        if t not in validators:
            ns, kind = t[1:].rsplit(".", 1)
            schema = load(ns + ".json")
            base = schema.get("$id", "http://redfish.dmtf.org/schemas/v1/%s.json" % ns)
            resolver = jsonschema.RefResolver(base, schema,
                                              handlers={"http": load, "https": load})
            validators[t] = jsonschema.Draft7Validator({"$ref": "#/definitions/%s" % kind},
                                                       resolver=resolver)
        return validators[t]

    def validate(doc):
        t = doc.get("@odata.type", "")
        check(t.startswith("#"), "no @odata.type")
        validator(t).validate(doc)
        for path, obj in _oem_objects(doc):
            check(isinstance(obj, dict) and str(obj.get("@odata.type", "")).startswith("#"),
                  "%s has no @odata.type" % path)
            validator(obj["@odata.type"]).validate(obj)
        # An OEM action "#DhpX.Name" against the definition Name of the
        # OEM schema DhpX, in the version the resource's Oem.Dhp names.
        oem_type = doc.get("Oem", {}).get("Dhp", {}).get("@odata.type", "")
        for name, action in doc.get("Actions", {}).get("Oem", {}).items():
            ns, _, verb = name[1:].partition(".")
            check(oem_type.startswith("#%s." % ns), "%s on a resource of %r" % (name, oem_type))
            validator("%s.%s" % (oem_type.rsplit(".", 1)[0], verb)).validate(action)

    return validate
