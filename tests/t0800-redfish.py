# SPDX-License-Identifier: MIT
"""The Redfish API of docs/redfish.md, black box: a real dhpd on the
simulated demo server, driven over HTTP(S). Every JSON body received is
validated against the DMTF schema of its @odata.type, and its Oem objects
against dhp's OEM schemas (schemas/ in the repository, never the network);
after every change the invariants are checked through the API alone (a
unit is in one system at most, and both directions of every link agree).

Usage: python3 tests/t0800-redfish.py BUILD_DIR"""

import json
import os
import sys
import threading
import time
import warnings
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check, schema_validator  # noqa: E402

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
MONITORS = V1 + "/TaskService/TaskMonitors/"
TASKEVENT = "TaskEvent.1.0."

# Fast hashing (Basic auth hashes the password on every request) and fast
# simulated hardware: the test is about the API, not about time.
FAST = ["--hash-iterations", "1000", "--sim-latency-ms", "5"]

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def blk(unit):
    return {"@odata.id": BLOCKS + unit}


def ids(links):
    return sorted(link["@odata.id"].rsplit("/", 1)[1] for link in links)


class Client:
    """Requests to one dhpd; validates every body it gets."""

    def __init__(self, dhpd, validate):
        self.dhpd = dhpd
        self.validate = validate
        self.validated = 0

    def call(self, method, path, body=None, expect=None, **kw):
        status, hdrs, doc = self.dhpd.request(method, path, body=body, **kw)
        if expect is not None:
            check(status == expect, "%s %s: %d, not %d: %s" % (method, path, status, expect,
                                                               doc))
        if self.validate and isinstance(doc, dict):
            if "@odata.type" in doc:
                self.validate(doc)
                self.validated += 1
            for info in doc.get("error", {}).get("@Message.ExtendedInfo", []):
                self.validate(info)
        return status, hdrs, doc

    def get(self, path, expect=200, **kw):
        return self.call("GET", path, expect=expect, **kw)[2]

    def error(self, method, path, body, status, message_id, **kw):
        """A request that must fail with status and a Base message id."""
        got, hdrs, doc = self.call(method, path, body=body, **kw)
        check(got == status, "%s %s: %d, not %d: %s" % (method, path, got, status, doc))
        info = doc["error"]["@Message.ExtendedInfo"][0]
        check(info["MessageId"].endswith("." + message_id),
              "%s %s: %s, not %s" % (method, path, info["MessageId"], message_id))
        return hdrs, doc

    def accepted(self, method, path, body=None, outcome="Completed", status="OK", **kw):
        """A request answered 202 + task monitor; waits for the task and
        checks its outcome (TaskState, TaskStatus and the last message).
        Returns the final Task."""
        _, hdrs, task = self.call(method, path, body=body, expect=202, **kw)
        monitor = hdrs.get("location", "")
        check(monitor.startswith(MONITORS), "Location %r" % monitor)
        check(task["TaskMonitor"] == monitor, "TaskMonitor of the Task")
        deadline = time.time() + 60
        while True:
            code, _, task = self.call("GET", monitor)
            if code == 200:
                break
            check(code == 202 and task["TaskState"] in ("New", "Running"), "monitor %d" % code)
            check(time.time() < deadline, "task %s did not end" % monitor)
            time.sleep(0.01)
        check(task["TaskState"] == outcome and task["TaskStatus"] == status,
              "task ended %s/%s: %s" % (task["TaskState"], task.get("TaskStatus"), task))
        msgs = [m["MessageId"] for m in task["Messages"]]
        last = {"OK": "TaskCompletedOK", "Warning": "TaskCompletedWarning",
                "Critical": "TaskAborted"}[status]
        check(msgs[0] == TASKEVENT + "TaskStarted" and msgs[-1] == TASKEVENT + last,
              "messages %s" % msgs)
        check(task["PercentComplete"] == 100 and task["EndTime"] >= task["StartTime"], "ended")
        same = self.get(V1 + "/TaskService/Tasks/" + task["Id"])
        check(same["TaskState"] == task["TaskState"], "task and monitor agree")
        return task

    def system(self, name):
        return self.get(SYSTEMS + "/" + name)

    def blocks_of(self, name):
        return ids(self.system(name)["Links"]["ResourceBlocks"])

    def settle(self, name):
        """Wait for a system's operation (a create answers 201 at once)."""
        for _ in range(3000):
            if self.system(name)["Oem"]["Dhp"]["Task"] is None:
                return
            time.sleep(0.01)
        raise AssertionError("%s stays busy" % name)


def invariants(c):
    """DESIGN.md §2 as the API shows it, plus the agreement of links."""
    owner = {}
    for member in c.get(SYSTEMS)["Members"]:
        s = c.get(member["@odata.id"])
        for unit in ids(s["Links"]["ResourceBlocks"]):
            check(unit not in owner, "%s is in %s and %s" % (unit, owner.get(unit), s["Id"]))
            owner[unit] = s["Id"]
        procs = c.get(s["Processors"]["@odata.id"])["Members@odata.count"]
        mems = c.get(s["Memory"]["@odata.id"])["Members@odata.count"]
        check(s["ProcessorSummary"]["Count"] == procs, "ProcessorSummary of %s" % s["Id"])
        if s["Oem"]["Dhp"]["State"] == "running":
            check(procs >= 1 and mems >= 1, "running %s lacks a processor or memory" % s["Id"])
            check(s["PowerState"] == "On", "running %s is %s" % (s["Id"], s["PowerState"]))
    blocks = c.get(BLOCKS.rstrip("/"))
    check(blocks["Members@odata.count"] == len(blocks["Members"]), "block count")
    for member in blocks["Members"]:
        b = c.get(member["@odata.id"])
        systems = ids(b["Links"]["ComputerSystems"])
        check(systems == ([owner[b["Id"]]] if b["Id"] in owner else []),
              "%s links to %s, systems say %s" % (b["Id"], systems, owner.get(b["Id"])))
        state = b["CompositionStatus"]["CompositionState"]
        if b["Id"] in owner:
            check(state in ("Composed", "Composing", "Unavailable"), "%s is %s" % (b["Id"], state))
        else:
            check(state in ("Unused", "Failed"), "free %s is %s" % (b["Id"], state))
        check(b["CompositionStatus"]["Reserved"] == (state == "Unavailable"), "Reserved")


def test_entry_points(c):
    check(c.get("/redfish", user=None) == {"v1": "/redfish/v1/"}, "/redfish")
    root = c.get(V1, user=None)
    check(root["Links"]["Sessions"]["@odata.id"] == V1 + "/SessionService/Sessions", "Sessions")
    for key in ("Systems", "Chassis", "CompositionService", "Tasks", "EventService",
                "SessionService", "AccountService"):
        check(root[key]["@odata.id"].startswith(V1 + "/"), "root links %s" % key)
    check(c.get(V1 + "/", user=None)["UUID"] == root["UUID"], "same root with a slash")
    odata = c.get(V1 + "/odata", user=None)
    check({"Systems", "CompositionService"} <= {v["name"] for v in odata["value"]}, "odata")


def test_metadata(c):
    status, hdrs, text = c.call("GET", V1 + "/$metadata", user=None)
    if status == 501:
        raise Skip("$metadata needs the raw body extension of api.h")
    check(status == 200 and "xml" in hdrs.get("content-type", ""), "$metadata %d" % status)
    edmx = "{http://docs.oasis-open.org/odata/ns/edmx}"
    spaces = {inc.get("Namespace") for inc in ElementTree.fromstring(text).iter(edmx + "Include")}
    check({"ComputerSystem.v1_27_0", "ResourceBlock.v1_4_3", "Task.v1_7_4"} <= spaces,
          "namespaces %s" % sorted(spaces))


def test_read_model(c):
    chassis = c.get(V1 + "/Chassis")
    check(chassis["Members@odata.count"] == 1, "one chassis")
    server = c.get(chassis["Members"][0]["@odata.id"])
    check(server["Oem"]["Dhp"]["PartitioningMode"] == "dynamic", "mode")
    check(server["Oem"]["Dhp"]["Sockets"] == 4, "sockets")
    # What the backend is, and how a processor leaves a running partition.
    dhp = server["Oem"]["Dhp"]
    check(dhp["Backend"] == "sim" and dhp["ProcessorRemoveMethod"] == "simulated",
          "backend %s, removal %s" % (dhp["Backend"], dhp["ProcessorRemoveMethod"]))
    check(dhp["Accelerator"] is None and dhp["BackendVersion"] is None, "no hypervisor")
    check("simulated" in dhp["ProcessorRemoveReason"], "reason")
    check(len(server["Links"]["ResourceBlocks"]) == 36, "36 units")
    comp = c.get(V1 + "/CompositionService")
    check(comp["ServiceEnabled"] and comp["AllowOverprovisioning"] is False, "service")
    zones = c.get(comp["ResourceZones"]["@odata.id"])
    zone = c.get(zones["Members"][0]["@odata.id"])
    check(len(zone["Links"]["ResourceBlocks"]) == 36, "zone has every block")
    types = {"cpu": "Processor", "mem": "Memory", "iohb": "Expansion"}
    for unit in ("s0-cpu0", "s1-mem2", "s3-iohb0"):
        b = c.get(BLOCKS + unit)
        check(b["ResourceBlockType"] == [types[unit.split("-")[1].rstrip("0123456789")]], "type")
        check(b["CompositionStatus"]["CompositionState"] == "Unused", "free unit")
        for part in b.get("Processors", []) + b.get("Memory", []):
            c.get(part["@odata.id"])
    check(c.get(BLOCKS + "s1-mem2")["Oem"]["Dhp"]["SizeMiB"] == 2048, "SizeMiB")
    caps = c.get(SYSTEMS)["@Redfish.CollectionCapabilities"]["Capabilities"][0]
    c.get(caps["CapabilitiesObject"]["@odata.id"])
    c.get(V1 + "/TaskService")
    invariants(c)


# topologies/demo's distances: two boards of two sockets (docs/topology.md).
def demo_distance(a, b):
    return 10 if a == b else 16 if a // 2 == b // 2 else 21


def expected_locality(units):
    """Oem.Dhp.Locality as docs/redfish.md defines it, for demo units
    (every module 2 GiB, so sizes weigh alike)."""
    sock = lambda u: int(u[1:u.index("-")])
    cpus = [sock(u) for u in units if "-cpu" in u]
    mems = [sock(u) for u in units if "-mem" in u]
    if not cpus or not mems:
        return None
    return round(sum(10 / demo_distance(c, m) for c in cpus for m in mems)
                 / (len(cpus) * len(mems)), 3)


def check_locality(c, name):
    got = c.system(name)["Oem"]["Dhp"]["Locality"]
    want = expected_locality(c.blocks_of(name))
    check(got == want, "%s: Locality %r, expected %r" % (name, got, want))


def test_create(c):
    status, hdrs, body = c.call("POST", SYSTEMS, {
        "Name": "web", "Links": {"ResourceBlocks": [blk("s0-cpu0"), blk("s0-mem0")]},
        "Oem": {"Dhp": {"OsProfile": "linux"}}}, expect=201)
    check(hdrs.get("location") == SYSTEMS + "/web", "Location %s" % hdrs.get("location"))
    check(ids(body["Links"]["ResourceBlocks"]) == ["s0-cpu0", "s0-mem0"], "201 body's blocks")
    c.settle("web")
    web = c.system("web")
    check(web["PowerState"] == "Off" and web["Oem"]["Dhp"]["State"] == "stopped", "stopped")
    check(web["ProcessorSummary"]["Count"] == 1, "one processor")
    check(c.get(SYSTEMS)["Members@odata.count"] == 1, "one system")
    check(c.get(BLOCKS + "s0-cpu0")["CompositionStatus"]["CompositionState"] == "Composed", "")
    check(web["Oem"]["Dhp"]["Locality"] == 1.0, "local %r" % web["Oem"]["Dhp"]["Locality"])
    # No memory: no figure (null).
    c.call("POST", SYSTEMS, {"Name": "lone", "Links": {"ResourceBlocks": [blk("s3-cpu3")]}},
           expect=201)
    c.settle("lone")
    check(c.system("lone")["Oem"]["Dhp"]["Locality"] is None, "no memory: null")
    c.call("DELETE", SYSTEMS + "/lone", expect=204)
    invariants(c)


def test_create_errors(c):
    ok = {"Name": "db", "Links": {"ResourceBlocks": [blk("s1-cpu0")]}}
    c.error("POST", SYSTEMS, {"Links": ok["Links"]}, 400, "PropertyMissing")
    c.error("POST", SYSTEMS, {"Name": "db"}, 400, "PropertyMissing")
    c.error("POST", SYSTEMS, dict(ok, Color="red"), 400, "PropertyUnknown")
    c.error("POST", SYSTEMS, dict(ok, Id="db"), 400, "PropertyNotWritable")
    c.error("POST", SYSTEMS, dict(ok, Name=5), 400, "PropertyValueTypeError")
    c.error("POST", SYSTEMS, dict(ok, Links={"ResourceBlocks": "s1-cpu0"}), 400,
            "PropertyValueTypeError")
    c.error("POST", SYSTEMS, dict(ok, Links={"ResourceBlocks": [{"id": "x"}]}), 400,
            "PropertyUnknown")
    for bad in (SYSTEMS + "/web", BLOCKS + "s9-cpu9", BLOCKS + "s1-cpu0/", "s1-cpu0"):
        c.error("POST", SYSTEMS, dict(ok, Links={"ResourceBlocks": [{"@odata.id": bad}]}),
                400, "ResourceMissingAtURI")
    c.error("POST", SYSTEMS, dict(ok, Oem={"Dhp": {"OsProfile": "beos"}}), 400,
            "PropertyValueNotInList")
    c.error("POST", SYSTEMS, dict(ok, Oem={"Acme": {}}), 400, "PropertyUnknown")
    c.error("POST", SYSTEMS, dict(ok, Name="web"), 409, "ResourceAlreadyExists")
    c.error("POST", SYSTEMS, dict(ok, Name="Capabilities"), 409, "ResourceAlreadyExists")
    c.error("POST", SYSTEMS, dict(ok, Links={"ResourceBlocks": [blk("s0-cpu0")]}), 409,
            "ResourceInUse")
    c.error("POST", SYSTEMS, dict(ok, Name="bad/name"), 400, "PropertyValueError")
    c.error("POST", SYSTEMS, None, 400, "MalformedJSON", raw=b"{\"Name\": ",
            headers={"Content-Type": "application/json"})
    c.error("POST", SYSTEMS, [1, 2], 400, "MalformedJSON")
    check(c.get(SYSTEMS)["Members@odata.count"] == 1, "nothing was created")
    invariants(c)


def test_start(c):
    c.accepted("POST", SYSTEMS + "/web/Actions/ComputerSystem.Reset", {"ResetType": "On"})
    web = c.system("web")
    check(web["PowerState"] == "On" and web["Status"]["State"] == "Enabled", "running")
    check(web["Oem"]["Dhp"]["BootMemory"] == blk("s0-mem0"), "boot memory")
    procs = c.get(SYSTEMS + "/web/Processors")
    check(ids(procs["Members"]) == ["s0-cpu0"], "processors %s" % procs)
    cpu = c.get(procs["Members"][0]["@odata.id"])
    check(cpu["ProcessorType"] == "CPU" and cpu["Status"]["State"] == "Enabled", "processor")
    mem = c.get(SYSTEMS + "/web/Memory/s0-mem0")
    check(mem["CapacityMiB"] == 2048 and mem["Oem"]["Dhp"]["Boot"] is True, "memory")
    c.error("GET", SYSTEMS + "/web/Memory/s0-cpu0", None, 404, "ResourceNotFound")
    c.error("GET", SYSTEMS + "/web/Processors/s1-cpu0", None, 404, "ResourceNotFound")
    invariants(c)


def patch_blocks(c, name, units, outcome="Completed", status="OK", **extra):
    body = dict({"Links": {"ResourceBlocks": [blk(u) for u in units]}}, **extra)
    return c.accepted("PATCH", SYSTEMS + "/" + name, body, outcome, status)


def test_hot_add_remove(c):
    for unit in ("s0-cpu1", "s0-mem1", "s0-iohb0"):
        before = c.blocks_of("web")
        task = patch_blocks(c, "web", before + [unit])
        check(task["Oem"]["Dhp"]["Kind"] == "hot-add", "kind %s" % task["Oem"]["Dhp"]["Kind"])
        check(unit in c.blocks_of("web"), "%s added" % unit)
        invariants(c)
    for unit in ("s0-cpu1", "s0-mem1", "s0-iohb0"):
        task = patch_blocks(c, "web", [u for u in c.blocks_of("web") if u != unit])
        check(task["Oem"]["Dhp"]["Kind"] == "hot-remove", "kind")
        check(unit not in c.blocks_of("web"), "%s removed" % unit)
        check(c.get(BLOCKS + unit)["CompositionStatus"]["CompositionState"] == "Unused", "")
        invariants(c)
    c.accepted("POST", SYSTEMS + "/web/Actions/ComputerSystem.AddResourceBlock",
               {"ResourceBlock": blk("s2-cpu0")})
    c.accepted("POST", SYSTEMS + "/web/Actions/ComputerSystem.RemoveResourceBlock",
               {"ResourceBlock": blk("s2-cpu0")})
    check("s2-cpu0" not in c.blocks_of("web"), "action add then remove")
    invariants(c)


def test_replace(c):
    c.accepted("POST", SYSTEMS + "/web/Actions/Oem/DhpComputerSystem.Replace",
               {"ResourceBlock": blk("s0-cpu0")})
    blocks = c.blocks_of("web")
    check("s0-cpu0" not in blocks and len([u for u in blocks if "cpu" in u]) == 1, "cpu spare")
    task = c.accepted("POST", SYSTEMS + "/web/Actions/Oem/DhpComputerSystem.Replace",
                      {"ResourceBlock": blk("s0-mem0"), "Spare": blk("s1-mem3")})
    check(task["Oem"]["Dhp"]["Spare"] == "s1-mem3", "named spare")
    check(c.system("web")["Oem"]["Dhp"]["BootMemory"] == blk("s1-mem3"), "boot moves")
    check_locality(c, "web")
    patch_blocks(c, "web", c.blocks_of("web") + ["s2-mem0"])    # 21 from sockets 0-1
    check_locality(c, "web")
    patch_blocks(c, "web", [u for u in c.blocks_of("web") if u != "s2-mem0"])
    patch_blocks(c, "web", c.blocks_of("web") + ["s0-iohb0"])
    c.error("POST", SYSTEMS + "/web/Actions/Oem/DhpComputerSystem.Replace",
            {"ResourceBlock": blk("s0-iohb0")}, 400, "ActionNotSupported")
    patch_blocks(c, "web", [u for u in c.blocks_of("web") if u != "s0-iohb0"])
    invariants(c)


def test_on_reset(c):
    patch_blocks(c, "web", c.blocks_of("web") + ["s3-cpu0"],
                 **{"@Redfish.OperationApplyTime": "OnReset"})
    web = c.system("web")
    check(web["Oem"]["Dhp"]["StagedResourceBlocks"]["Add"] == [blk("s3-cpu0")], "staged add")
    check("s3-cpu0" in ids(web["Links"]["ResourceBlocks"]), "staged add is linked")
    check("s3-cpu0" not in ids(c.get(SYSTEMS + "/web/Processors")["Members"]), "not yet")
    b = c.get(BLOCKS + "s3-cpu0")["CompositionStatus"]
    check(b["CompositionState"] == "Unavailable" and b["Reserved"], "reserved %s" % b)
    invariants(c)
    cpu = [u for u in c.blocks_of("web") if "cpu" in u and u != "s3-cpu0"][0]
    c.accepted("POST", SYSTEMS + "/web/Actions/ComputerSystem.RemoveResourceBlock",
               {"ResourceBlock": blk(cpu), "@Redfish.OperationApplyTime": "OnReset"})
    check(c.system("web")["Oem"]["Dhp"]["StagedResourceBlocks"]["Remove"] == [blk(cpu)], "")
    c.accepted("POST", SYSTEMS + "/web/Actions/ComputerSystem.Reset",
               {"ResetType": "GracefulRestart"})
    web = c.system("web")
    staged = web["Oem"]["Dhp"]["StagedResourceBlocks"]
    check(staged == {"Add": [], "Remove": []}, "applied %s" % staged)
    check(ids(c.get(SYSTEMS + "/web/Processors")["Members"]) == ["s3-cpu0"], "restarted")
    invariants(c)


def test_etag(c):
    status, hdrs, web = c.call("GET", SYSTEMS + "/web", expect=200)
    etag = hdrs.get("etag")
    check(etag, "an ETag")
    add = {"Links": {"ResourceBlocks": [blk(u) for u in ids(web["Links"]["ResourceBlocks"])]
                     + [blk("s1-cpu0")]}}
    c.error("PATCH", SYSTEMS + "/web", add, 412, "PreconditionFailed",
            headers={"If-Match": 'W/"0000000000000000"'})
    c.error("POST", SYSTEMS + "/web/Actions/ComputerSystem.AddResourceBlock",
            {"ResourceBlock": blk("s1-cpu0"), "ComputerSystemETag": "W/\"1\""}, 428,
            "PreconditionFailed")
    c.accepted("PATCH", SYSTEMS + "/web", add, headers={"If-Match": etag})
    c.error("PATCH", SYSTEMS + "/web", add, 412, "PreconditionFailed",
            headers={"If-Match": etag})
    etag = c.call("GET", SYSTEMS + "/web")[1]["etag"]
    c.accepted("POST", SYSTEMS + "/web/Actions/ComputerSystem.RemoveResourceBlock",
               {"ResourceBlock": blk("s1-cpu0"), "ComputerSystemETag": etag})
    invariants(c)


def test_concurrent_patch(c):
    status, hdrs, web = c.call("GET", SYSTEMS + "/web", expect=200)
    base = [blk(u) for u in ids(web["Links"]["ResourceBlocks"])]
    answers = []
    barrier = threading.Barrier(2)

    def patch(unit):
        barrier.wait()
        answers.append(c.call("PATCH", SYSTEMS + "/web",
                              {"Links": {"ResourceBlocks": base + [blk(unit)]}},
                              headers={"If-Match": hdrs["etag"]}))

    threads = [threading.Thread(target=patch, args=(u,)) for u in ("s2-cpu1", "s2-cpu2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a[0] for a in answers)
    check(statuses in ([202, 409], [202, 412]), "exactly one wins: %s" % statuses)
    c.settle("web")
    added = [u for u in ("s2-cpu1", "s2-cpu2") if u in c.blocks_of("web")]
    check(len(added) == 1, "one unit added: %s" % added)
    patch_blocks(c, "web", [u for u in c.blocks_of("web") if u != added[0]])
    invariants(c)


def test_errors(c):
    web = SYSTEMS + "/web"
    for path in (SYSTEMS + "/nope", BLOCKS + "nope", V1 + "/TaskService/Tasks/99999",
                 V1 + "/TaskService/Tasks/abc", MONITORS + "0", V1 + "/Chassis/other",
                 V1 + "/CompositionService/ResourceZones/other", BLOCKS + "s0-cpu0/Memory/s0-cpu0",
                 web + "/Processors/nope", SYSTEMS + "/nope/Processors"):
        c.error("GET", path, None, 404, "ResourceNotFound")
    hdrs, _ = c.error("PUT", web, {}, 405, "OperationNotAllowed")
    check("PATCH" in hdrs.get("allow", ""), "Allow: %s" % hdrs.get("allow"))
    c.error("DELETE", V1 + "/Chassis/demo", None, 405, "OperationNotAllowed")
    c.error("PATCH", SYSTEMS + "/Capabilities", {}, 405, "OperationNotAllowed")
    c.error("DELETE", web, None, 409, "ResourceInUse")
    reset = web + "/Actions/ComputerSystem.Reset"
    c.error("POST", reset, {"ResetType": "On"}, 409, "ResourceInUse")
    c.error("POST", reset, {"ResetType": "Nmi"}, 400, "ActionParameterValueNotInList")
    c.error("POST", reset, {}, 400, "ActionParameterMissing")
    c.error("POST", reset, {"ResetType": "On", "Force": True}, 400, "ActionParameterUnknown")
    c.error("POST", reset, {"ResetType": 1}, 400, "ActionParameterValueTypeError")
    c.error("POST", SYSTEMS + "/nope/Actions/ComputerSystem.Reset", {"ResetType": "On"}, 404,
            "ResourceNotFound")
    blocks = c.blocks_of("web")
    mixed = [u for u in blocks if "cpu" not in u] + ["s2-cpu3"]
    c.error("PATCH", web, {"Links": {"ResourceBlocks": [blk(u) for u in mixed]}}, 400,
            "PropertyValueConflict")
    c.error("PATCH", web, {"Links": {"ResourceBlocks": [blk(u) for u in blocks + blocks]}},
            400, "PropertyValueIncorrect")
    c.error("PATCH", web, {"Name": "www"}, 400, "PropertyNotWritable")
    c.error("PATCH", web, {"Color": "red"}, 400, "PropertyUnknown")
    c.error("PATCH", web, {"Links": {"ResourceBlocks": {}}}, 400, "PropertyValueTypeError")
    c.error("PATCH", web, {"Links": {"ResourceBlocks": [blk(u) for u in blocks + ["s2-cpu3"]]},
                           "@Redfish.OperationApplyTime": "AtMaintenanceWindowStart"}, 400,
            "PropertyValueNotInList")
    two = [blk(u) for u in blocks + ["s2-cpu3", "s2-mem3"]]
    c.error("PATCH", web, {"Links": {"ResourceBlocks": two}}, 400, "PropertyValueError")
    c.error("POST", SYSTEMS + "/web/Actions/ComputerSystem.AddResourceBlock",
            {"ResourceBlock": blk(blocks[0])}, 409, "ResourceInUse")
    status, _, same = c.call("PATCH", web, {}, expect=200)
    check(same["Id"] == "web", "an empty PATCH answers the system")
    c.error("GET", SYSTEMS, None, 401, "NoValidSession", user=None)
    # The simulated server keeps no console logs: a 404 that says so.
    _, doc = c.error("GET", web + "/Oem/Dhp/Console", None, 404, "ResourceNotFound")
    check("simulated" in doc["error"]["message"], doc["error"]["message"])
    c.error("GET", SYSTEMS + "/nope/Oem/Dhp/Console", None, 404, "ResourceNotFound")
    c.error("GET", web + "/Oem/Dhp/Console", None, 401, "NoValidSession", user=None)
    c.error("POST", web + "/Oem/Dhp/Console", {}, 405, "OperationNotAllowed")
    invariants(c)


def test_profiles(c):
    status, _, _ = c.call("POST", SYSTEMS, {
        "Name": "win", "Links": {"ResourceBlocks": [blk("s1-cpu0"), blk("s1-mem0")]},
        "Oem": {"Dhp": {"OsProfile": "windows-server-2003-sp1"}}}, expect=201)
    c.settle("win")
    c.accepted("POST", SYSTEMS + "/win/Actions/ComputerSystem.Reset", {"ResetType": "On"})
    add = ["s1-cpu0", "s1-mem0", "s1-cpu1"]
    c.error("PATCH", SYSTEMS + "/win", {"Links": {"ResourceBlocks": [blk(u) for u in add]}},
            400, "ActionNotSupported")
    patch_blocks(c, "win", ["s1-cpu0", "s1-mem0", "s1-mem1"])
    task = patch_blocks(c, "win", add + ["s1-mem1"], **{"@Redfish.OperationApplyTime": "OnReset"})
    check(task["Oem"]["Dhp"]["Staged"] is True, "staged")
    c.accepted("PATCH", SYSTEMS + "/win", {"Links": {"ResourceBlocks": [
        blk(u) for u in ("s1-cpu0", "s1-mem0", "s1-mem1")]}})
    check("s1-cpu1" not in c.blocks_of("win"), "staged add withdrawn")
    invariants(c)


def test_power(c):
    action = BLOCKS + "s3-mem3/Actions/Oem/DhpResourceBlock.Power"
    c.accepted("POST", action, {"PowerState": "On"})
    b = c.get(BLOCKS + "s3-mem3")
    check(b["Oem"]["Dhp"]["Powered"] is True and b["Status"]["State"] == "Enabled", "on")
    c.accepted("POST", action, {"PowerState": "Off"})
    check(c.get(BLOCKS + "s3-mem3")["Oem"]["Dhp"]["Powered"] is False, "off")
    c.error("POST", action, {"PowerState": "Dim"}, 400, "ActionParameterValueNotInList")
    c.error("POST", BLOCKS + "s1-cpu0/Actions/Oem/DhpResourceBlock.Power",
            {"PowerState": "Off"}, 409, "ResourceInUse")
    invariants(c)


def test_stop_delete(c):
    for name in ("web", "win"):
        c.accepted("POST", SYSTEMS + "/%s/Actions/ComputerSystem.Reset" % name,
                   {"ResetType": "ForceOff" if name == "web" else "GracefulShutdown"})
        check(c.system(name)["PowerState"] == "Off", "%s off" % name)
        c.call("DELETE", SYSTEMS + "/" + name, expect=204)
        for _ in range(500):
            if c.call("GET", SYSTEMS + "/" + name)[0] == 404:
                break
            time.sleep(0.01)
        c.error("GET", SYSTEMS + "/" + name, None, 404, "ResourceNotFound")
    check(c.get(SYSTEMS)["Members@odata.count"] == 0, "no system left")
    invariants(c)


def test_tasks(c):
    tasks = c.get(V1 + "/TaskService/Tasks")
    check(tasks["Members@odata.count"] >= 20, "tasks %d" % tasks["Members@odata.count"])
    numbers = [int(m["@odata.id"].rsplit("/", 1)[1]) for m in tasks["Members"]]
    check(numbers == sorted(numbers), "oldest first")
    kinds = set()
    for member in tasks["Members"]:
        task = c.get(member["@odata.id"])
        kinds.add(task["Oem"]["Dhp"]["Kind"])
        check(task["TaskState"] in ("Completed", "Exception"), "ended")
        check(task["EndTime"] >= task["StartTime"], "times")
    want = {"create", "delete", "start", "stop", "restart", "assign", "unassign", "hot-add",
            "hot-remove", "hot-replace", "power-on", "power-off"}
    check(want <= kinds, "every kind of operation: missing %s" % (want - kinds))


def test_privileges(c):
    status, _, _ = c.call("POST", V1 + "/AccountService/Accounts", {
        "UserName": "viewer", "Password": "viewer-pass-1", "RoleId": "ReadOnly"})
    if status not in (201, 409):
        raise Skip("cannot create a ReadOnly account (%d)" % status)
    c.get(SYSTEMS, user="viewer", password="viewer-pass-1")
    c.error("POST", SYSTEMS, {"Name": "x", "Links": {"ResourceBlocks": []}}, 403,
            "InsufficientPrivilege", user="viewer", password="viewer-pass-1")


def test_restart_keeps_state(build_dir, validate):
    dhpd = Dhpd(build_dir, args=FAST).start()
    try:
        c = Client(dhpd, validate)
        uuid = c.get(V1)["UUID"]
        c.call("POST", SYSTEMS, {"Name": "keep", "Links": {"ResourceBlocks": [blk("s2-mem0")]}},
               expect=201)
        c.settle("keep")
        dhpd.stop()
        dhpd.start()
        check(c.get(V1)["UUID"] == uuid, "the UUID survives a restart")
        check(c.blocks_of("keep") == ["s2-mem0"], "the system survives a restart")
        invariants(c)
    finally:
        dhpd.cleanup()


def test_faults(build_dir, validate):
    """Operations that fail after they were accepted: a veto rolls a hot add
    back (the Task ends Exception), a failed notice after the commit leaves
    it completed with a warning."""
    faults = "notify:add-start@s0-cpu3=veto*1,notify:add-complete@s0-cpu2=fail*1"
    dhpd = Dhpd(build_dir, args=FAST + ["--sim-faults", faults]).start()
    try:
        c = Client(dhpd, validate)
        c.call("POST", SYSTEMS, {"Name": "f", "Links": {"ResourceBlocks": [
            blk("s0-cpu0"), blk("s0-mem0")]}}, expect=201)
        c.settle("f")
        c.accepted("POST", SYSTEMS + "/f/Actions/ComputerSystem.Reset", {"ResetType": "On"})
        task = patch_blocks(c, "f", ["s0-cpu0", "s0-mem0", "s0-cpu3"], "Exception", "Critical")
        dhp = task["Oem"]["Dhp"]
        check(dhp["State"] == "rolled-back" and dhp["Error"]["Code"] == "veto", "veto %s" % dhp)
        check(c.blocks_of("f") == ["s0-cpu0", "s0-mem0"], "rolled back")
        check(c.get(BLOCKS + "s0-cpu3")["CompositionStatus"]["CompositionState"] == "Unused", "")
        invariants(c)
        patch_blocks(c, "f", ["s0-cpu0", "s0-mem0", "s0-cpu3"])
        patch_blocks(c, "f", ["s0-cpu0", "s0-mem0", "s0-cpu3", "s0-cpu2"], "Completed", "Warning")
        check("s0-cpu2" in c.blocks_of("f"), "added despite the failed notice")
        invariants(c)
    finally:
        dhpd.cleanup()


def test_static_server(build_dir, validate):
    dhpd = Dhpd(build_dir, topology="topologies/static-demo", args=FAST).start()
    try:
        c = Client(dhpd, validate)
        c.call("POST", SYSTEMS, {"Name": "s", "Links": {"ResourceBlocks": [
            blk("s0-cpu0"), blk("s0-mem0")]}}, expect=201)
        c.settle("s")
        c.accepted("POST", SYSTEMS + "/s/Actions/ComputerSystem.Reset", {"ResetType": "On"})
        grown = {"Links": {"ResourceBlocks": [blk(u) for u in ("s0-cpu0", "s0-mem0", "s0-cpu1")]}}
        c.error("PATCH", SYSTEMS + "/s", grown, 400, "ActionNotSupported")
        c.accepted("PATCH", SYSTEMS + "/s", dict(grown, **{"@Redfish.OperationApplyTime": "OnReset"}))
        c.accepted("POST", SYSTEMS + "/s/Actions/ComputerSystem.Reset", {"ResetType": "ForceRestart"})
        check(len(c.get(SYSTEMS + "/s/Processors")["Members"]) == 2, "applied at restart")
        invariants(c)
    finally:
        dhpd.cleanup()


CASES = [
    ("entry points", test_entry_points), ("$metadata", test_metadata),
    ("read the model", test_read_model),
    ("create", test_create), ("create errors", test_create_errors), ("start", test_start),
    ("hot add and remove each type", test_hot_add_remove), ("hot replace", test_replace),
    ("OnReset and restart", test_on_reset), ("ETag 412 and 428", test_etag),
    ("concurrent PATCHes", test_concurrent_patch), ("error paths", test_errors),
    ("OS profiles", test_profiles), ("power a free unit", test_power),
    ("stop and delete", test_stop_delete), ("tasks", test_tasks),
    ("privileges", test_privileges),
]


def main():
    # jsonschema's RefResolver is deprecated, not gone; it is what reads
    # $refs from a folder on every version Debian ships.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    validate = schema_validator()
    if validate is None:
        results.skip("schemas", "python3-jsonschema is missing: bodies are not validated")
    try:
        dhpd = Dhpd(build, args=FAST).start()
    except Skip as s:
        for name, _ in CASES + [("restart keeps state", 0), ("faults", 0), ("static server", 0)]:
            results.skip(name, str(s))
        return
    try:
        c = Client(dhpd, validate)
        for name, fn in CASES:
            results.case(name, fn, c)
        if validate:
            print("# %d bodies validated against the DMTF schemas" % c.validated)
    finally:
        dhpd.cleanup()
    results.case("restart keeps state", test_restart_keeps_state, build, validate)
    results.case("faults", test_faults, build, validate)
    results.case("static server", test_static_server, build, validate)


main()
results.done()
