# SPDX-License-Identifier: MIT
"""t0848: resize and move as one operation each, and the spare pool (issue
11), black box on a real dhpd and the simulated demo server, through the
Redfish API and through dhpctl:

- #DhpComputerSystem.Resize {Add, Remove}: 202 + task, all steps done;
  refused whole (the step named) when the OS profile cannot do one;
- #DhpComputerSystem.Move {ResourceBlocks, TargetSystem}: 202 + task; a
  veto on the target leaves both systems as they were;
- every bad input: 400/404/409 with a Base message id, nothing changed;
- PATCH of a resource block's Oem.Dhp.Spare; spares are refused by adds
  and taken first by a hot replace;
- dhpctl resize, move, spare add|remove, units --spares.

Usage: python3 tests/t0848-redfish-resize-move.py BUILD_DIR"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
MONITORS = V1 + "/TaskService/TaskMonitors/"
TASKS = V1 + "/TaskService/Tasks"
RESIZE = "/Actions/Oem/DhpComputerSystem.Resize"
MOVE = "/Actions/Oem/DhpComputerSystem.Move"
# The target's OS vetoes the first add-start of s0-iohb0.
ARGS = ["--hash-iterations", "1000", "--sim-latency-ms", "2",
        "--sim-faults", "notify:add-start@s0-iohb0=veto*1"]

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def blk(unit):
    return {"@odata.id": BLOCKS + unit}


def sys_link(name):
    return {"@odata.id": SYSTEMS + "/" + name}


class Client:
    def __init__(self, dhpd):
        self.dhpd = dhpd

    def call(self, method, path, body=None, expect=None):
        status, hdrs, doc = self.dhpd.request(method, path, body=body)
        if expect is not None:
            check(status == expect, "%s %s: %d, not %d: %s" % (method, path, status, expect,
                                                               doc))
        return status, hdrs, doc

    def get(self, path):
        return self.call("GET", path, expect=200)[2]

    def units(self, name):
        return sorted(l["@odata.id"].rsplit("/", 1)[1]
                      for l in self.get(SYSTEMS + "/" + name)["Links"]["ResourceBlocks"])

    def snapshot(self):
        snap = {}
        for coll in (SYSTEMS, BLOCKS.rstrip("/")):
            for m in self.get(coll)["Members"]:
                status, hdrs, _ = self.call("GET", m["@odata.id"], expect=200)
                snap[m["@odata.id"]] = hdrs.get("etag")
        snap["tasks"] = [m["@odata.id"] for m in self.get(TASKS)["Members"]]
        return snap

    def error(self, method, path, body, status, message_id, word=None):
        before = self.snapshot()
        got, _, doc = self.call(method, path, body=body)
        check(got == status, "%s %s %s: %d, not %d: %s" % (method, path, body, got, status, doc))
        info = doc["error"]["@Message.ExtendedInfo"][0]
        check(info["MessageId"].endswith("." + message_id),
              "%s: %s, not %s" % (body, info["MessageId"], message_id))
        check(word is None or word in json.dumps(doc), "%s lacks %r" % (doc, word))
        check(self.snapshot() == before, "%s %s %s changed something" % (method, path, body))

    def task(self, method, path, body, state="Completed"):
        """202 + task monitor, followed to the end; the Task."""
        _, hdrs, _ = self.call(method, path, body=body, expect=202)
        monitor = hdrs.get("location", "")
        check(monitor.startswith(MONITORS), "Location %r" % monitor)
        deadline = time.time() + 60
        while True:
            code, _, task = self.call("GET", monitor)
            if code == 200:
                break
            check(code == 202 and time.time() < deadline, "monitor %d" % code)
            time.sleep(0.01)
        check(task["TaskState"] == state, "task ended %s: %s" % (task["TaskState"],
                                                                 task["Oem"]["Dhp"]))
        return task


def compose(c, name, units, start=True, profile=None):
    body = {"Name": name, "Links": {"ResourceBlocks": [blk(u) for u in units]}}
    if profile:
        body["Oem"] = {"Dhp": {"OsProfile": profile}}
    c.call("POST", SYSTEMS, body, expect=201)
    for _ in range(3000):
        if c.get(SYSTEMS + "/" + name)["Oem"]["Dhp"]["Task"] is None:
            break
        time.sleep(0.01)
    if start:
        c.task("POST", SYSTEMS + "/" + name + "/Actions/ComputerSystem.Reset",
               {"ResetType": "On"})


def test_setup(c):
    compose(c, "web", ["s0-cpu0", "s0-mem0", "s0-cpu1", "s0-mem1", "s0-iohb0"])
    compose(c, "db", ["s1-cpu0", "s1-mem0"])
    compose(c, "off", ["s3-cpu0", "s3-mem0"], start=False)
    actions = c.get(SYSTEMS + "/web")["Actions"]["Oem"]
    for name in ("Resize", "Move"):
        action = actions["#DhpComputerSystem." + name]
        check(action["target"] == SYSTEMS + "/web/Actions/Oem/DhpComputerSystem." + name, action)
        info = c.get(action["@Redfish.ActionInfo"])
        check(info["Parameters"], info)


def test_resize(c):
    c.task("POST", SYSTEMS + "/web" + RESIZE,
           {"Add": [blk("s2-cpu0"), blk("s2-mem0")], "Remove": [blk("s0-cpu1")]})
    check(c.units("web") == ["s0-cpu0", "s0-iohb0", "s0-mem0", "s0-mem1", "s2-cpu0", "s2-mem0"],
          c.units("web"))
    # A stopped system: one commit; staged with OnReset on a running one.
    c.task("POST", SYSTEMS + "/off" + RESIZE, {"Add": [blk("s3-cpu1")]})
    check("s3-cpu1" in c.units("off"), c.units("off"))
    c.task("POST", SYSTEMS + "/web" + RESIZE,
           {"Remove": [blk("s2-mem0")], "@Redfish.OperationApplyTime": "OnReset"})
    staged = c.get(SYSTEMS + "/web")["Oem"]["Dhp"]["StagedResourceBlocks"]["Remove"]
    check(staged == [blk("s2-mem0")], staged)


def test_resize_refused(c):
    web = SYSTEMS + "/web" + RESIZE
    c.error("POST", web, {"Bogus": 1}, 400, "ActionParameterUnknown")
    c.error("POST", web, {}, 400, "ActionParameterMissing")
    c.error("POST", web, {"Add": []}, 400, "ActionParameterMissing")
    c.error("POST", web, {"Add": "s2-cpu1"}, 400, "ActionParameterValueTypeError")
    c.error("POST", web, {"Add": [blk("s9-cpu9")]}, 400, "ResourceMissingAtURI")
    c.error("POST", SYSTEMS + "/nope" + RESIZE, {"Add": [blk("s2-cpu1")]}, 404,
            "ResourceNotFound")
    c.error("POST", web, {"Add": [blk("s1-cpu0")]}, 409, "ResourceInUse", "step 1 of 1")
    c.error("POST", web, {"Remove": [blk("s0-mem0")]}, 400, "ActionNotSupported", "boot memory")
    c.error("POST", web, {"Remove": [blk("s1-cpu0")]}, 400, "PropertyValueError",
            "not in partition")
    c.error("POST", web, {"Add": [blk("s2-cpu1")], "Remove": [blk("s2-cpu1")]}, 400,
            "PropertyValueError", "twice")
    c.error("POST", web, {"Remove": [blk("s0-cpu0"), blk("s2-cpu0")]}, 400,
            "PropertyValueConflict", "without a processor")
    # An OS that grows and does not shrink: the whole plan, the step named.
    compose(c, "win", ["s2-cpu2", "s2-mem2"], profile="windows-server-2008-x64")
    c.error("POST", SYSTEMS + "/win" + RESIZE,
            {"Add": [blk("s2-mem3")], "Remove": [blk("s2-cpu2")]}, 400, "ActionNotSupported",
            "step 2 of 2 (remove s2-cpu2)")


def test_move(c):
    c.task("POST", SYSTEMS + "/web" + MOVE,
           {"ResourceBlocks": [blk("s0-mem1")], "TargetSystem": sys_link("db")})
    check("s0-mem1" in c.units("db") and "s0-mem1" not in c.units("web"), c.units("db"))
    # The target's OS vetoes: both as they were, the task says why.
    before = c.snapshot()
    task = c.task("POST", SYSTEMS + "/web" + MOVE,
                  {"ResourceBlocks": [blk("s0-iohb0")], "TargetSystem": sys_link("db")},
                  state="Exception")
    check("add-start" in json.dumps(task), task)
    after = c.snapshot()
    for uri in before:
        if uri != "tasks":
            check(before[uri] == after[uri], "%s changed" % uri)


def test_move_refused(c):
    web = SYSTEMS + "/web" + MOVE
    c.error("POST", web, {"ResourceBlocks": [blk("s0-cpu0")]}, 400, "ActionParameterMissing")
    c.error("POST", web, {"ResourceBlocks": [blk("s0-iohb0")], "TargetSystem": sys_link("web")},
            400, "PropertyValueError", "to itself")
    c.error("POST", web, {"ResourceBlocks": [blk("s0-iohb0")], "TargetSystem": sys_link("off")},
            400, "PropertyValueConflict", "is stopped")
    c.error("POST", web, {"ResourceBlocks": [blk("s0-iohb0")], "TargetSystem": sys_link("nope")},
            400, "ResourceMissingAtURI")
    c.error("POST", web, {"ResourceBlocks": [blk("s1-cpu0")], "TargetSystem": sys_link("db")},
            400, "PropertyValueError", "not in partition")
    c.error("POST", web, {"ResourceBlocks": [blk("s0-mem0")], "TargetSystem": sys_link("db")},
            400, "ActionNotSupported", "boot memory")


def test_spare(c):
    c.error("PATCH", BLOCKS + "s0-cpu0", {"Oem": {"Dhp": {"Spare": True}}}, 409, "ResourceInUse")
    c.error("PATCH", BLOCKS + "s3-cpu3", {"Oem": {"Dhp": {"Powered": True}}}, 400,
            "PropertyNotWritable")
    c.error("PATCH", BLOCKS + "s3-cpu3", {"Oem": {"Dhp": {"Spare": "yes"}}}, 400,
            "PropertyValueTypeError")
    c.error("PATCH", BLOCKS + "s3-cpu3", {"Id": "x"}, 400, "PropertyNotWritable")
    c.error("PATCH", BLOCKS + "nope", {"Oem": {"Dhp": {"Spare": True}}}, 404, "ResourceNotFound")
    _, _, block = c.call("PATCH", BLOCKS + "s3-cpu3", {"Oem": {"Dhp": {"Spare": True}}},
                         expect=200)
    check(block["Oem"]["Dhp"]["Spare"] is True, block["Oem"])
    c.error("POST", SYSTEMS + "/web" + RESIZE, {"Add": [blk("s3-cpu3")]}, 409, "ResourceInUse",
            "spare pool")
    # A replace without a named spare takes the spare first.
    c.task("POST", SYSTEMS + "/db/Actions/Oem/DhpComputerSystem.Replace",
           {"ResourceBlock": blk("s1-cpu0")})
    check("s3-cpu3" in c.units("db"), c.units("db"))
    check(c.get(BLOCKS + "s3-cpu3")["Oem"]["Dhp"]["Spare"] is False, "left the pool")


def run_ctl(dhpd, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
    env.update({"HOME": tempfile.gettempdir(), "DHP_URL": "https://127.0.0.1:%d" % dhpd.port,
                "DHP_USER": "admin", "DHP_PASSWORD": dhpd.password,
                "DHP_CACERT": os.path.join(dhpd.state_dir, "tls", "cert.pem")})
    env.pop("XDG_CONFIG_HOME", None)
    return subprocess.run([os.path.join(build, "dhpctl")] + list(args), env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)


def test_dhpctl(c):
    d = c.dhpd
    out = run_ctl(d, "resize", "web", "--add", "s2-cpu3", "--remove", "s2-cpu0")
    check(out.returncode == 0, out.stderr)
    check("s2-cpu3" in c.units("web") and "s2-cpu0" not in c.units("web"), c.units("web"))
    out = run_ctl(d, "move", "s2-cpu3", "web", "db")
    check(out.returncode == 0, out.stderr)
    check("s2-cpu3" in c.units("db"), c.units("db"))
    out = run_ctl(d, "move", "s2-cpu3", "db", "db")
    check(out.returncode != 0 and "itself" in out.stderr, out.stderr)
    out = run_ctl(d, "resize", "web")
    check(out.returncode == 2, out.stderr)
    out = run_ctl(d, "spare", "add", "s3-mem3")
    check(out.returncode == 0, out.stderr)
    rows = json.loads(run_ctl(d, "-o", "json", "units", "--spares").stdout)
    check([r["id"] for r in rows] == ["s3-mem3"], rows)
    check(rows[0]["state"] == "spare", rows)
    out = run_ctl(d, "spare", "remove", "s3-mem3")
    check(out.returncode == 0, out.stderr)
    out = run_ctl(d, "units", "--spares")
    check(out.returncode == 0 and "no spares" in out.stdout, out.stdout)
    out = run_ctl(d, "spare", "keep", "s3-mem3")
    check(out.returncode == 2, out.stderr)


def processors(c, name):
    return c.get(SYSTEMS + "/" + name)["ProcessorSummary"]["Count"]


def test_resize_sizes(c):
    """A resize to sizes: the planner picks (locality first), Preview
    changes nothing, the plan runs as one operation; dhpctl prints it."""
    c.call("POST", SYSTEMS, {"Name": "sz", "ProcessorSummary": {"Count": 1},
                             "MemorySummary": {"TotalSystemMemoryGiB": 2}}, expect=201)
    for _ in range(3000):
        if c.get(SYSTEMS + "/sz")["Oem"]["Dhp"]["Task"] is None:
            break
        time.sleep(0.01)
    sz = SYSTEMS + "/sz" + RESIZE
    before = c.snapshot()
    _, _, doc = c.call("POST", sz, {"ProcessorCount": 3, "Preview": True}, expect=200)
    steps = doc["Plan"]["Steps"]
    check(steps and all(st["Action"] == "Take" and st["Type"] == "processor" for st in steps),
          doc)
    check(sum(len(st["ResourceBlocks"]) for st in steps) == 2 and steps[0]["Reason"], doc)
    check(c.snapshot() == before, "a Preview changed something")
    c.task("POST", sz, {"ProcessorCount": 3})
    check(processors(c, "sz") == 3, c.get(SYSTEMS + "/sz"))
    _, _, doc = c.call("POST", sz, {"ProcessorCount": 3}, expect=200)
    check(doc["Plan"]["Steps"] == [], "already that size: %s" % doc)
    c.task("POST", sz, {"ProcessorCount": 1})
    check(processors(c, "sz") == 1, c.get(SYSTEMS + "/sz"))
    c.error("POST", sz, {"ProcessorCount": 0}, 400, "ActionParameterValueError")
    c.error("POST", sz, {"MemoryGiB": 0.0001}, 400, "ActionParameterValueError")
    c.error("POST", sz, {"ProcessorCount": 2, "Add": [blk("s2-cpu1")]}, 400,
            "ActionParameterValueError")
    c.error("POST", sz, {"Preview": True}, 400, "ActionParameterMissing")
    c.error("POST", sz, {"ProcessorCount": "2"}, 400, "ActionParameterValueTypeError")
    before = c.snapshot()
    status, _, doc = c.call("POST", sz, {"ProcessorCount": 999})
    check(status in (400, 409) and "free" in json.dumps(doc), "%d %s" % (status, doc))
    check(c.snapshot() == before, "a refused resize changed something")
    out = run_ctl(c.dhpd, "resize", "sz", "--processors", "2", "--dry-run")
    check(out.returncode == 0 and "would be resized" in out.stdout and "take" in out.stdout,
          out.stdout + out.stderr)
    check(processors(c, "sz") == 1, "the dry run changed nothing")
    out = run_ctl(c.dhpd, "resize", "sz", "--processors", "2")
    check(out.returncode == 0 and "resized" in out.stdout, out.stdout + out.stderr)
    check(processors(c, "sz") == 2, c.get(SYSTEMS + "/sz"))
    out = run_ctl(c.dhpd, "resize", "sz", "--processors", "2", "--add", "s2-cpu1")
    check(out.returncode == 2, out.stderr)


CASES = [
    ("setup", test_setup),
    ("resize", test_resize),
    ("resize refused", test_resize_refused),
    ("move", test_move),
    ("move refused", test_move_refused),
    ("spare pool", test_spare),
    ("dhpctl", test_dhpctl),
    ("resize to sizes", test_resize_sizes),
]


def main():
    try:
        dhpd = Dhpd(build, args=ARGS).start()
    except Skip as s:
        for name, _ in CASES:
            results.skip(name, str(s))
        return
    try:
        c = Client(dhpd)
        for name, fn in CASES:
            results.case(name, fn, c)
        results.case("dhpd exits cleanly", lambda: check(dhpd.stop() == 0, "exit status"))
    finally:
        dhpd.cleanup()


main()
results.done()
