# SPDX-License-Identifier: MIT
"""Third-party Redfish clients work with dhpd unchanged: Debian's
redfishtool (Basic and Session auth) and python3-sushy read the service
root, systems, the composition service and resource blocks; sushy-cli
(python3-sushy-cli) lists the systems with their UUIDs."""

import json
import os
import shutil
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def redfishtool(dhpd, auth, *args):
    if not shutil.which("redfishtool"):
        raise Skip("redfishtool is not installed")
    cmd = ["redfishtool", "-r", "127.0.0.1:%d" % dhpd.port, "-u", "admin", "-p",
           dhpd.password, "-A", auth, "-S", "Always", "-T", "20"] + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "redfishtool %s: %s %s" % (" ".join(args), out.stdout,
                                                          out.stderr))
    return json.loads(out.stdout)


def test_redfishtool(dhpd, auth):
    root = redfishtool(dhpd, auth, "root")
    check(root.get("Systems", {}).get("@odata.id") == "/redfish/v1/Systems", "service root")
    systems = redfishtool(dhpd, auth, "Systems")
    check(systems.get("Members@odata.count") == 1, "one system: %s" % systems)
    web = redfishtool(dhpd, auth, "Systems", "-I", "web")
    check(web.get("SystemType") == "PhysicallyPartitioned", "system type")
    comp = redfishtool(dhpd, auth, "raw", "GET", "/redfish/v1/CompositionService")
    check("ResourceBlocks" in comp, "composition service")
    block = redfishtool(dhpd, auth, "raw", "GET",
                        "/redfish/v1/CompositionService/ResourceBlocks/s0-cpu0")
    check(block.get("Id") == "s0-cpu0", "resource block")


def test_sushy(dhpd):
    try:
        import sushy
    except ImportError:
        raise Skip("python3-sushy is not installed")
    warnings.simplefilter("ignore")
    # requests lets these variables override a session's own CA file
    # (psf/requests#3829): the test trusts dhpd's certificate, nothing else.
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    cafile = os.path.join(dhpd.state_dir, "tls", "cert.pem")
    s = sushy.Sushy("https://127.0.0.1:%d/redfish/v1" % dhpd.port, username="admin",
                    password=dhpd.password, verify=cafile)
    systems = s.get_system_collection()
    check(len(systems.members_identities) == 1, "one system")
    web = s.get_system(systems.members_identities[0])
    check(web.identity == "web", "system id %s" % web.identity)
    comp = s.get_composition_service()
    check(comp.service_enabled, "composition service enabled")
    # Debian's sushy 4.3 passes a method where its CompositionService's
    # resource_blocks and resource_zones need a path (a sushy bug): build
    # the collections from the paths the service gives, as sushy would.
    from sushy.resources.compositionservice import resourceblock, resourcezone
    blocks = resourceblock.ResourceBlockCollection(
        s._conn, comp.json["ResourceBlocks"]["@odata.id"], redfish_version=s.redfish_version)
    check(len(blocks.members_identities) == 36, "36 resource blocks (demo: 4 sockets of 9 units)")
    block = blocks.get_member("/redfish/v1/CompositionService/ResourceBlocks/s0-cpu0")
    check(block.identity == "s0-cpu0", "resource block id")
    check(block.composition_status.composition_state.value == "Composed", "s0-cpu0 composed")
    zones = resourcezone.ResourceZoneCollection(
        s._conn, comp.json["ResourceZones"]["@odata.id"], redfish_version=s.redfish_version)
    check(len(zones.members_identities) == 1, "one zone")


def test_sushycli(dhpd):
    if not shutil.which("sushycli"):
        raise Skip("sushycli is not installed (apt-get install python3-sushy-cli)")
    status, _, doc = dhpd.request("POST", "/redfish/v1/Systems", {
        "Name": "db",
        "Links": {"ResourceBlocks": [
            {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/s1-cpu0"},
            {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/s1-mem0"}]},
        "Oem": {"Dhp": {"OsProfile": "linux"}}})
    check(status == 201, "create db: %d %s" % (status, doc))
    # As in test_sushy: requests would let these override the CA given.
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    cmd = ["sushycli", "system", "list", "--username", "admin", "--password", dhpd.password,
           "--service-endpoint", "https://127.0.0.1:%d" % dhpd.port,
           "--tls-certificates", os.path.join(dhpd.state_dir, "tls", "cert.pem"), "-f", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    check(out.returncode == 0, "sushycli system list: %s %s" % (out.stdout, out.stderr))
    listed = {row["System ID"]: row for row in json.loads(out.stdout)}
    check(sorted(listed) == ["/redfish/v1/Systems/db", "/redfish/v1/Systems/web"],
          "systems listed: %s" % sorted(listed))
    # sushy-cli's "Identity" column is the system's UUID (None without one).
    for path, row in listed.items():
        _, _, sys_doc = dhpd.request("GET", path)
        check(row["Identity"] == sys_doc["UUID"], "%s: Identity %r, UUID %r" % (
            path, row["Identity"], sys_doc["UUID"]))
    check(listed["/redfish/v1/Systems/db"]["Identity"] != listed["/redfish/v1/Systems/web"]["Identity"],
          "two systems, one UUID")


def main():
    try:
        dhpd = Dhpd(build).start()
    except Skip as s:
        for name in ("redfishtool basic", "redfishtool session", "sushy", "sushy-cli"):
            results.skip(name, str(s))
        results.done()
    try:
        status, _, _ = dhpd.request("POST", "/redfish/v1/Systems", {
            "Name": "web",
            "Links": {"ResourceBlocks": [
                {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/s0-cpu0"},
                {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/s0-mem0"}]},
            "Oem": {"Dhp": {"OsProfile": "linux"}}})
        if status != 201:
            for name in ("redfishtool basic", "redfishtool session", "sushy", "sushy-cli"):
                results.skip(name, "creating a partition answered %d" % status)
            return
        results.case("redfishtool basic", test_redfishtool, dhpd, "Basic")
        results.case("redfishtool session", test_redfishtool, dhpd, "Session")
        results.case("sushy", test_sushy, dhpd)
        results.case("sushy-cli", test_sushycli, dhpd)  # last: it adds a system
    finally:
        dhpd.cleanup()


main()
results.done()
