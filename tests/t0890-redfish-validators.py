# SPDX-License-Identifier: MIT
"""DMTF's Redfish Service Validator and Protocol Validator against a real
dhpd: both must report 0 FAIL and 0 WARN, and the walk must have met every
kind of resource dhp serves.

The validators are DMTF's (../shared/redfish/validators, or the folder
DHP_REDFISH_VALIDATORS names), run by their `run` script through
scripts/redfish-validators, which gives the Service Validator dhp's OEM
CSDL too (docs/schemas.md). `run` starts dhpd itself in a network
namespace that has only loopback, as root, because the
Protocol Validator creates accounts, sessions and subscriptions to made-up
addresses. tests/validators-setup.sh composes partitions first. Skipped
where the validators, root or their Debian packages are missing
(scripts/install-deps installs the packages)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import REDFISH, ROOT, Results, Skip, check  # noqa: E402

results = Results()
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
VALIDATORS = os.environ.get("DHP_REDFISH_VALIDATORS") or os.path.join(REDFISH, "validators")
PORT = 18441		# inside the validators' own network namespace: never taken
PASSWORD = "admin-pass-1234"
# The Python modules the validators import (Debian's python3-*).
MODULES = ("requests", "lxml", "bs4", "jsonschema", "colorama", "openpyxl", "xlsxwriter",
           "requests_toolbelt", "requests_unixsocket", "jsonpatch", "jsonpointer",
           "pyasn1", "pyasn1_modules", "urllib3", "jsonpath_rw")
# What the Service Validator must have walked: a kind of resource each.
WALKED = (
    "/redfish/v1/Systems/web", "/redfish/v1/Systems/web/Processors/s0-cpu1",
    "/redfish/v1/Systems/web/Memory/s0-mem0", "/redfish/v1/Systems/db",
    "/redfish/v1/CompositionService/ResourceBlocks/s0-cpu0",
    "/redfish/v1/CompositionService/ResourceZones/", "/redfish/v1/Chassis/",
    "/redfish/v1/TaskService/Tasks/", "/redfish/v1/SessionService/Sessions/",
    "/redfish/v1/AccountService/Accounts/", "/redfish/v1/EventService",
    "/redfish/v1/EventService/Subscriptions/", "/redfish/v1/JsonSchemas/",
    "/redfish/v1/Systems/web/ReplaceActionInfo",
    "/redfish/v1/CompositionService/ResourceBlocks/s0-cpu0/PowerActionInfo",
)


def runnable():
    run = os.path.join(VALIDATORS, "run")
    if not os.path.exists(run):
        raise Skip("no DMTF validators at %s" % VALIDATORS)
    if os.geteuid() != 0:
        raise Skip("the validators' network namespace needs root")
    for tool in ("unshare", "ip", "curl"):
        if not shutil.which(tool):
            raise Skip("%s is not installed" % tool)
    # The run script uses Debian's python3, whatever python3 is first in PATH.
    missing = subprocess.run(
        ["/usr/bin/python3", "-c", "import importlib, sys\n"
         "for m in sys.argv[1:]:\n"
         "    try: importlib.import_module(m)\n"
         "    except ImportError: print(m)\n"] + list(MODULES),
        capture_output=True, text=True).stdout.split()
    if missing:
        raise Skip("python modules missing: %s" % " ".join(missing))
    return run


def summary(out, name):
    """{PASS: n, WARN: n, FAIL: n} from the run script's summary line."""
    m = re.search(r"^%s validator: (.*)$" % name, out, re.M)
    check(m, "no %s validator summary in:\n%s" % (name, out))
    counts = dict((k, int(v)) for k, v in re.findall(r"(PASS|WARN|FAIL):? (\d+)", m.group(1)))
    check({"PASS", "WARN", "FAIL"} <= set(counts), "summary %r" % m.group(0))
    return counts


def walked(outdir):
    """The URIs the Service Validator validated, from its debug log."""
    uris = set()
    for top, _, files in os.walk(os.path.join(outdir, "service")):
        for name in files:
            if name.endswith(".log"):
                with open(os.path.join(top, name), errors="replace") as f:
                    uris.update(re.findall(r"Validating (/redfish/v1\S*?)\.\.\.", f.read()))
    return uris


def test_validators():
    run = runnable()
    state = tempfile.mkdtemp(prefix="dhp-validators-")
    outdir = os.path.join(state, "out")
    try:
        pwfile = os.path.join(state, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        cmd = [os.path.join(ROOT, "scripts", "redfish-validators"),
               "https://127.0.0.1:%d" % PORT, "admin", PASSWORD, outdir,
               "--ca", os.path.join(state, "tls", "cert.pem"),
               "--setup", os.path.join(ROOT, "tests", "validators-setup.sh"), "--",
               os.path.join(build, "dhpd"), "--listen", "127.0.0.1:%d" % PORT,
               "--state-dir", state, "--admin-password-file", pwfile,
               "--server", "sim:topologies/demo"]
        # The run script stops dhpd (its trap) before it returns.
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800,
                              env=dict(os.environ, RF_VALIDATORS=os.path.dirname(run)))
        out = proc.stdout + proc.stderr
        for line in out.splitlines():
            print("# " + line)
        with open(os.path.join(outdir, "setup.txt"), errors="replace") as f:
            setup = f.read()
        check("setup failed" not in out, "the setup failed:\n" + setup)
        service, protocol = summary(out, "service"), summary(out, "protocol")
        missing = [u for u in WALKED if not any(w.startswith(u) for w in walked(outdir))]
        check(not missing, "the walk never met: %s" % ", ".join(missing))
        check(service["FAIL"] == 0 and service["WARN"] == 0,
              "service validator: %d FAIL, %d WARN" % (service["FAIL"], service["WARN"]))
        check(protocol["FAIL"] == 0 and protocol["WARN"] == 0,
              "protocol validator: %d FAIL, %d WARN" % (protocol["FAIL"], protocol["WARN"]))
        check(proc.returncode == 0, "run exited %d" % proc.returncode)
    finally:
        shutil.rmtree(state, ignore_errors=True)


results.case("dmtf-validators", test_validators)
results.done()
