# SPDX-License-Identifier: MIT
"""Third-party Redfish clients work with dhpd unchanged: Debian's
redfishtool (Basic and Session auth) and python3-sushy read the service
root, systems, the composition service and resource blocks, and each
drives a partition through its whole life (compose, power on, hot add and
hot remove by PATCH, replace, power off, decompose); sushy-cli
(python3-sushy-cli) lists the systems with their UUIDs."""

import json
import os
import shutil
import subprocess
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

results = Results()
sushy = None		# imported by sushy_client(), where it is installed
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def redfishtool(dhpd, auth, *args):
    if not shutil.which("redfishtool"):
        raise Skip("redfishtool is not installed")
    cmd = ["redfishtool", "-r", "127.0.0.1:%d" % dhpd.port, "-u", "admin", "-p",
           dhpd.password, "-A", auth, "-S", "Always", "-T", "20"] + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "redfishtool %s: %s %s" % (" ".join(args), out.stdout,
                                                          out.stderr))
    return json.loads(out.stdout) if out.stdout.strip() else None


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


def sushy_client(dhpd):
    global sushy
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
    return sushy.Sushy("https://127.0.0.1:%d/redfish/v1" % dhpd.port, username="admin",
                       password=dhpd.password, verify=cafile)


def test_sushy(dhpd):
    s = sushy_client(dhpd)
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


BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks/"


def block(unit):
    return {"@odata.id": BLOCKS + unit}


def wait_system(dhpd, name, what, cond, timeout=30):
    """Polls dhpd (not the client under test) until cond(system) holds:
    every step of a cycle is an operation that runs after its 202."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, doc = dhpd.request("GET", "/redfish/v1/Systems/" + name)
        if status == 200 and cond(doc):
            return doc
        if status == 404 and cond(None):
            return None
        time.sleep(0.1)
    raise AssertionError("%s: %s never happened" % (name, what))


def units_of(doc):
    return sorted(link["@odata.id"].rsplit("/", 1)[1]
                  for link in doc["Links"]["ResourceBlocks"])


def check_cycle_end(dhpd, name, units):
    """After the cycle: the partition is gone and its units are free."""
    for unit in units:
        status, _, doc = dhpd.request("GET", BLOCKS + unit)
        check(status == 200 and doc["CompositionStatus"]["CompositionState"] == "Unused",
              "%s is free again after %s: %s" % (unit, name, doc.get("CompositionStatus")))


def cycle_redfishtool(dhpd):
    """The whole life of a partition with redfishtool: compose, power on,
    hot add by an array PATCH (DSP0266: {} keeps an element), hot remove
    (null removes it), replace (dhp's OEM action), power off, decompose."""
    name, cpu, mem, extra = "rt", "s2-cpu0", "s2-mem0", "s2-cpu1"
    redfishtool(dhpd, "Session", "raw", "POST", "/redfish/v1/Systems", "-d", json.dumps(
        {"Name": name, "Links": {"ResourceBlocks": [block(cpu), block(mem)]}}))
    wait_system(dhpd, name, "composed", lambda d: d and d["Oem"]["Dhp"]["State"] == "stopped")
    redfishtool(dhpd, "Session", "Systems", "-I", name, "reset", "On")
    wait_system(dhpd, name, "power on", lambda d: d["PowerState"] == "On")
    redfishtool(dhpd, "Session", "Systems", "-I", name, "patch", json.dumps(
        {"Links": {"ResourceBlocks": [{}, {}, block(extra)]}}))
    doc = wait_system(dhpd, name, "hot add", lambda d: extra in units_of(d))
    check(doc["ProcessorSummary"]["Count"] == 2, "two processors after the hot add")
    # As a client would: null where the unit is in the list it reads.
    links = redfishtool(dhpd, "Session", "Systems", "-I", name)["Links"]["ResourceBlocks"]
    redfishtool(dhpd, "Session", "Systems", "-I", name, "patch", json.dumps(
        {"Links": {"ResourceBlocks": [None if link == block(extra) else {} for link in links]}}))
    wait_system(dhpd, name, "hot remove", lambda d: units_of(d) == sorted([cpu, mem]))
    redfishtool(dhpd, "Session", "raw", "POST",
                "/redfish/v1/Systems/%s/Actions/Oem/DhpComputerSystem.Replace" % name,
                "-d", json.dumps({"ResourceBlock": block(cpu)}))
    doc = wait_system(dhpd, name, "replace", lambda d: cpu not in units_of(d))
    check(doc["PowerState"] == "On" and len(units_of(doc)) == 2,
          "replaced while running: %s" % units_of(doc))
    replaced = units_of(doc)
    redfishtool(dhpd, "Session", "Systems", "-I", name, "reset", "ForceOff")
    wait_system(dhpd, name, "power off", lambda d: d["PowerState"] == "Off")
    redfishtool(dhpd, "Session", "raw", "DELETE", "/redfish/v1/Systems/" + name)
    wait_system(dhpd, name, "decompose", lambda d: d is None)
    check_cycle_end(dhpd, name, replaced + [cpu, extra])


def cycle_sushy(dhpd):
    """The same cycle with sushy: its own calls where it has them (systems,
    reset), its connector (the requests every sushy resource makes) for
    composition, PATCH and the OEM action, which sushy has no call for."""
    s = sushy_client(dhpd)
    name, cpu, mem, extra = "sy", "s3-cpu0", "s3-mem0", "s3-mem1"
    s._conn.post("/redfish/v1/Systems/Members", data={
        "Name": name, "Links": {"ResourceBlocks": [block(cpu), block(mem)]}})
    wait_system(dhpd, name, "composed", lambda d: d and d["Oem"]["Dhp"]["State"] == "stopped")
    system = s.get_system("/redfish/v1/Systems/" + name)
    system.reset_system(sushy.RESET_ON)
    wait_system(dhpd, name, "power on", lambda d: d["PowerState"] == "On")
    system.refresh()
    check(system.power_state == sushy.POWER_STATE_ON, "sushy sees it on")
    etag = s._conn.get(system.path).headers["ETag"]
    s._conn.patch(system.path, data={"Links": {"ResourceBlocks": [{}, {}, block(extra)]}},
                  headers={"If-Match": etag})
    doc = wait_system(dhpd, name, "hot add", lambda d: extra in units_of(d))
    check(doc["MemorySummary"]["TotalSystemMemoryGiB"] == 4, "4 GiB after the hot add")
    links = s._conn.get(system.path).json()["Links"]["ResourceBlocks"]
    s._conn.patch(system.path, data={"Links": {"ResourceBlocks": [
        None if link == block(extra) else {} for link in links]}})
    wait_system(dhpd, name, "hot remove", lambda d: units_of(d) == sorted([cpu, mem]))
    s._conn.post(system.path + "/Actions/Oem/DhpComputerSystem.Replace",
                 data={"ResourceBlock": block(mem)})
    doc = wait_system(dhpd, name, "replace", lambda d: mem not in units_of(d))
    replaced = units_of(doc)
    system.refresh()
    system.reset_system(sushy.RESET_FORCE_OFF)
    wait_system(dhpd, name, "power off", lambda d: d["PowerState"] == "Off")
    s._conn.delete(system.path)
    wait_system(dhpd, name, "decompose", lambda d: d is None)
    check_cycle_end(dhpd, name, replaced + [mem, extra])


CASES = ("redfishtool basic", "redfishtool session", "sushy", "redfishtool cycle",
         "sushy cycle", "sushy-cli")


def main():
    try:
        dhpd = Dhpd(build).start()
    except Skip as s:
        for name in CASES:
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
            for name in CASES:
                results.skip(name, "creating a partition answered %d" % status)
            return
        results.case("redfishtool basic", test_redfishtool, dhpd, "Basic")
        results.case("redfishtool session", test_redfishtool, dhpd, "Session")
        results.case("sushy", test_sushy, dhpd)
        results.case("redfishtool cycle", cycle_redfishtool, dhpd)
        results.case("sushy cycle", cycle_sushy, dhpd)
        results.case("sushy-cli", test_sushycli, dhpd)  # last: it adds a system
    finally:
        dhpd.cleanup()


main()
results.done()
