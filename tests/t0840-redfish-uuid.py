# SPDX-License-Identifier: MIT
"""A partition's UUID over Redfish (docs/redfish.md): a version 4 UUID on
every ComputerSystem, its own, the same after dhpd restarts (cleanly and
after SIGKILL), and a new one for a partition made again under the same
name. The demo topology's serial and part numbers on the Processor and
Memory resources, and nowhere else. Every body is checked against the
DMTF schemas when they are at hand."""

import os
import re
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check, schema_validator  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
FAST = ["--hash-iterations", "1000", "--sim-latency-ms", "5"]
V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CASES = ("uuid per partition", "uuid across restarts", "uuid after delete", "serial numbers")


class Api:
    def __init__(self, dhpd, validate):
        self.dhpd, self.validate = dhpd, validate

    def get(self, path, expect=200):
        status, _, doc = self.dhpd.request("GET", path)
        check(status == expect, "GET %s: %d %s" % (path, status, doc))
        if status == 200 and self.validate:
            self.validate(doc)
        return doc

    def create(self, name, units):
        status, _, doc = self.dhpd.request("POST", SYSTEMS, {
            "Name": name, "Links": {"ResourceBlocks": [{"@odata.id": BLOCKS + u} for u in units]},
            "Oem": {"Dhp": {"OsProfile": "linux"}}})
        check(status == 201, "create %s: %d %s" % (name, status, doc))
        self.settle(name)

    def delete(self, name):
        status, _, doc = self.dhpd.request("DELETE", SYSTEMS + "/" + name)
        check(status == 204, "delete %s: %d %s" % (name, status, doc))
        for _ in range(500):
            if self.dhpd.request("GET", SYSTEMS + "/" + name)[0] == 404:
                return
            time.sleep(0.01)
        raise AssertionError("%s is not deleted" % name)

    def settle(self, name):
        for _ in range(3000):
            if self.get(SYSTEMS + "/" + name)["Oem"]["Dhp"]["Task"] is None:
                return
            time.sleep(0.01)
        raise AssertionError("%s stays busy" % name)

    def uuid(self, name):
        u = self.get(SYSTEMS + "/" + name).get("UUID")
        check(u is not None and UUID4.match(u), "%s: UUID %r is not a version 4 UUID" % (name, u))
        return u


def test_per_partition(api, seen):
    api.create("a", ["s0-cpu0", "s0-mem0"])
    api.create("b", ["s1-cpu0", "s1-mem0"])
    seen["a"], seen["b"] = api.uuid("a"), api.uuid("b")
    check(seen["a"] != seen["b"], "two partitions, one UUID: %s" % seen["a"])
    check(seen["a"] != api.get(V1)["UUID"], "a partition's UUID is not the service's")
    # A running partition keeps it; so does a hot add.
    status, hdrs, _ = api.dhpd.request("POST", SYSTEMS + "/a/Actions/ComputerSystem.Reset",
                                       {"ResetType": "On"})
    check(status == 202, "start a: %d" % status)
    api.dhpd.wait_task(hdrs["location"])
    status, hdrs, _ = api.dhpd.request("POST", SYSTEMS + "/a/Actions/ComputerSystem.AddResourceBlock",
                                       {"ResourceBlock": {"@odata.id": BLOCKS + "s0-cpu1"}})
    check(status == 202, "hot add: %d" % status)
    api.dhpd.wait_task(hdrs["location"])
    check(api.uuid("a") == seen["a"], "the UUID changed with a start and a hot add")


def test_restarts(api, seen):
    api.dhpd.stop()
    api.dhpd.start()
    check(api.uuid("a") == seen["a"] and api.uuid("b") == seen["b"],
          "the UUIDs changed across a restart")
    api.dhpd.kill()
    api.dhpd.start()
    check(api.uuid("a") == seen["a"] and api.uuid("b") == seen["b"],
          "the UUIDs changed across a SIGKILL and recovery")


def test_after_delete(api, seen):
    api.delete("b")
    api.create("b", ["s1-cpu0", "s1-mem0"])
    again = api.uuid("b")
    check(again not in (seen["a"], seen["b"]), "b made again kept an old UUID: %s" % again)
    api.dhpd.stop()
    api.dhpd.start()
    check(api.uuid("b") == again, "the new UUID changed across a restart")


def test_serials(api, seen):
    cpu = api.get(SYSTEMS + "/a/Processors/s0-cpu0")
    check(cpu.get("SerialNumber") == "DEMO-s0-cpu0", "processor serial %r" % cpu.get("SerialNumber"))
    check(cpu.get("PartNumber") == "DHP-X7500", "processor part %r" % cpu.get("PartNumber"))
    mem = api.get(BLOCKS + "s3-mem2/Memory/s3-mem2")
    check(mem.get("SerialNumber") == "DEMO-s3-mem2", "memory serial %r" % mem.get("SerialNumber"))
    check(mem.get("PartNumber") == "DHP-DDR3-2G", "memory part %r" % mem.get("PartNumber"))
    # The schema of ResourceBlock has no such properties; the demo's
    # bridges have none.
    for unit in ("s0-cpu0", "s0-iohb0"):
        block = api.get(BLOCKS + unit)
        check("SerialNumber" not in block and "PartNumber" not in block,
              "%s: serial on a ResourceBlock" % unit)


def main():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    validate = schema_validator()
    try:
        dhpd = Dhpd(build, args=FAST).start()
    except Skip as s:
        for name in CASES:
            results.skip(name, str(s))
        return
    api, seen = Api(dhpd, validate), {}
    try:
        for name, fn in zip(CASES, (test_per_partition, test_restarts, test_after_delete,
                                    test_serials)):
            results.case(name, fn, api, seen)
    finally:
        dhpd.cleanup()


main()
results.done()
