# SPDX-License-Identifier: MIT
"""The write semantics of DSP0266 in dhp's Redfish service (docs/redfish.md,
"Changing things"), black box on a real dhpd and the simulated demo server:

- a PATCH of a system's Links.ResourceBlocks as a PATCH of an array: {}
  keeps an element, null removes it, a link replaces it or is added past
  the end, a shorter array drops the rest; through to the operation's end;
- If-Match (good, stale, *) on every resource that can be changed or
  deleted: systems, accounts, sessions, tasks; checked before the body;
- NoOperation for a PATCH of OData annotations only;
- POST to a collection's Members, as to the collection;
- every refused request changes nothing.

Usage: python3 tests/t0820-redfish-writes.py BUILD_DIR"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
TASKS = V1 + "/TaskService/Tasks"
MONITORS = V1 + "/TaskService/TaskMonitors/"
ACCOUNTS = V1 + "/AccountService/Accounts"
SESSIONS = V1 + "/SessionService/Sessions"
WEB = SYSTEMS + "/web"
STALE = 'W/"0000000000000000"'

FAST = ["--hash-iterations", "1000", "--sim-latency-ms", "5"]

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def blk(unit):
    return {"@odata.id": BLOCKS + unit}


def units(system):
    """The unit ids of a system's Links.ResourceBlocks, in its order."""
    return [link["@odata.id"].rsplit("/", 1)[1] for link in system["Links"]["ResourceBlocks"]]


def rb(*elements):
    """A PATCH body of Links.ResourceBlocks: unit ids become links; {} and
    None stay as they are."""
    return {"Links": {"ResourceBlocks": [blk(e) if isinstance(e, str) else e
                                         for e in elements]}}


class Client:
    def __init__(self, dhpd):
        self.dhpd = dhpd

    def call(self, method, path, body=None, expect=None, **kw):
        status, hdrs, doc = self.dhpd.request(method, path, body=body, **kw)
        if expect is not None:
            check(status == expect, "%s %s: %d, not %d: %s" % (method, path, status, expect,
                                                               doc))
        return status, hdrs, doc

    def get(self, path, **kw):
        return self.call("GET", path, expect=200, **kw)[2]

    def etag(self, path, **kw):
        status, hdrs, _ = self.call("GET", path, expect=200, **kw)
        check(hdrs.get("etag", "").startswith('W/"'), "ETag of %s: %s" % (path, hdrs))
        return hdrs["etag"]

    def error(self, method, path, body, status, message_id, **kw):
        """A request refused with status and a Base message id, which
        changed nothing that the API shows."""
        before = self.snapshot()
        got, _, doc = self.call(method, path, body=body, **kw)
        check(got == status, "%s %s %s: %d, not %d: %s" % (method, path, body, got, status,
                                                         doc))
        info = doc["error"]["@Message.ExtendedInfo"][0]
        check(info["MessageId"].endswith("." + message_id),
              "%s %s %s: %s, not %s" % (method, path, body, info["MessageId"], message_id))
        check(self.snapshot() == before, "%s %s %s changed something" % (method, path, body))
        return doc

    def accepted(self, method, path, body, **kw):
        """202 + task monitor; polls the monitor until the task ends, which
        must be Completed/OK. Returns the Task."""
        _, hdrs, task = self.call(method, path, body=body, expect=202, **kw)
        monitor = hdrs.get("location", "")
        check(monitor.startswith(MONITORS), "Location %r" % monitor)
        deadline = time.time() + 60
        while True:
            code, _, task = self.call("GET", monitor)
            if code == 200:
                break
            check(code == 202, "monitor %d" % code)
            check(time.time() < deadline, "task %s did not end" % monitor)
            time.sleep(0.01)
        check(task["TaskState"] == "Completed" and task["TaskStatus"] == "OK",
              "task ended %s: %s" % (task["TaskState"], task["Oem"]["Dhp"]))
        return task

    def settle(self, name):
        for _ in range(3000):
            if self.get(SYSTEMS + "/" + name)["Oem"]["Dhp"]["Task"] is None:
                return
            time.sleep(0.01)
        raise AssertionError("%s stays busy" % name)

    def snapshot(self):
        """What a refused request must leave as it was: every system, unit,
        account and session, and the tasks (each by its ETag, so any
        change of its body shows)."""
        snap = {}
        for coll in (SYSTEMS, ACCOUNTS, SESSIONS, BLOCKS.rstrip("/")):
            for m in self.get(coll)["Members"]:
                snap[m["@odata.id"]] = self.etag(m["@odata.id"])
        snap["tasks"] = [m["@odata.id"] for m in self.get(TASKS)["Members"]]
        return snap


def test_post_members_system(c):
    """A partition composed by POST to Systems/Members, then started."""
    c.error("POST", SYSTEMS + "/Members", {"Name": "web"}, 400, "PropertyMissing")
    _, hdrs, body = c.call("POST", SYSTEMS + "/Members", {
        "Name": "web", "Links": {"ResourceBlocks": [blk("s0-cpu0"), blk("s0-mem0")]}},
        expect=201)
    check(hdrs.get("location") == WEB, "Location %s" % hdrs.get("location"))
    check(body["Id"] == "web", "201 body")
    c.settle("web")
    c.error("POST", SYSTEMS + "/Members", {"Name": "Members", "Links": rb("s1-cpu0")["Links"]},
            409, "ResourceAlreadyExists")
    _, hdrs, _ = c.call("POST", SYSTEMS + "/Members/", {
        "Name": "tmp", "Links": {"ResourceBlocks": [blk("s3-cpu0")]}}, expect=201)
    check(hdrs.get("location") == SYSTEMS + "/tmp", "a trailing / is the same URI")
    c.settle("tmp")
    c.accepted("POST", WEB + "/Actions/ComputerSystem.Reset", {"ResetType": "On"})
    check(units(c.get(WEB)) == ["s0-cpu0", "s0-mem0"], "web composed")


def test_array_add(c):
    """[{}, {}, link]: the third element is new, one hot add as with the
    full list."""
    task = c.accepted("PATCH", WEB, rb({}, {}, "s0-cpu1"))
    dhp = task["Oem"]["Dhp"]
    check(dhp["Kind"] == "hot-add" and dhp["Units"] == ["s0-cpu1"], "task %s" % dhp)
    check(units(c.get(WEB)) == ["s0-cpu0", "s0-cpu1", "s0-mem0"], "s0-cpu1 added")
    check(c.get(SYSTEMS + "/web/Processors")["Members@odata.count"] == 2, "two processors")
    check(c.get(BLOCKS + "s0-cpu1")["CompositionStatus"]["CompositionState"] == "Composed", "")


def test_array_null(c):
    """[{}, null, {}] removes the second element: a hot remove."""
    task = c.accepted("PATCH", WEB, rb({}, None, {}))
    dhp = task["Oem"]["Dhp"]
    check(dhp["Kind"] == "hot-remove" and dhp["Units"] == ["s0-cpu1"], "task %s" % dhp)
    check(units(c.get(WEB)) == ["s0-cpu0", "s0-mem0"], "s0-cpu1 removed")
    check(c.get(BLOCKS + "s0-cpu1")["CompositionStatus"]["CompositionState"] == "Unused", "")


def test_array_shorter(c):
    """A shorter array drops the elements past its end."""
    c.accepted("PATCH", WEB, rb({}, {}, "s0-mem1"))
    check(units(c.get(WEB)) == ["s0-cpu0", "s0-mem0", "s0-mem1"], "s0-mem1 added")
    task = c.accepted("PATCH", WEB, rb({}, {}))
    check(task["Oem"]["Dhp"]["Units"] == ["s0-mem1"], "task %s" % task["Oem"]["Dhp"])
    check(units(c.get(WEB)) == ["s0-cpu0", "s0-mem0"], "s0-mem1 dropped")


def test_array_unchanged(c):
    """Arrays that leave the list as it is: 200 with the system, no task."""
    etag = c.etag(WEB)
    tasks = c.get(TASKS)["Members@odata.count"]
    for body in (rb({}, {}), rb("s0-cpu0", {}), rb({}, "s0-mem0"), rb("s0-cpu0", "s0-mem0"),
                 rb({}, {}, None, {}), {}, {"@Redfish.OperationApplyTime": "Immediate"}):
        _, _, doc = c.call("PATCH", WEB, body, expect=200)
        check(doc["Id"] == "web" and units(doc) == ["s0-cpu0", "s0-mem0"], "body %s" % body)
    check(c.etag(WEB) == etag, "the system did not change")
    check(c.get(TASKS)["Members@odata.count"] == tasks, "no task")


def test_array_errors(c):
    """Bad elements: 400 with the message for each, and nothing changed."""
    cases = [
        ([{}, "s0-cpu1"], "PropertyValueTypeError"),
        ([{}, {}, 5], "PropertyValueTypeError"),
        ([{}, {}, True], "PropertyValueTypeError"),
        ([{}, {}, [blk("s0-cpu1")]], "PropertyValueTypeError"),
        ([{}, {}, {"@odata.id": 5}], "PropertyValueTypeError"),
        ([{}, {}, {"@odata.id": BLOCKS + "s0-cpu1", "Extra": 1}], "PropertyUnknown"),
        ([{}, {}, {"Id": "s0-cpu1"}], "PropertyUnknown"),
        ([{}, {}, {"@odata.id": BLOCKS + "s9-cpu9"}], "ResourceMissingAtURI"),
        ([{}, {}, {"@odata.id": SYSTEMS + "/web"}], "ResourceMissingAtURI"),
        ([{}, {}, {"@odata.id": "s0-cpu1"}], "ResourceMissingAtURI"),
        ([{}, {}, blk("s0-cpu0")], "PropertyValueIncorrect"),       # named twice
        ([blk("s0-cpu0"), blk("s0-cpu0")], "PropertyValueIncorrect"),
        ([blk("s0-cpu1"), {}], "PropertyValueConflict"),   # replaces: adds and removes
        ([None, {}, blk("s0-cpu1")], "PropertyValueConflict"),
        ([{}, {}, blk("s1-cpu0"), blk("s1-cpu1")], "PropertyValueError"),   # one per hot add
        ([{}, {}, blk("s3-cpu0")], "ResourceInUse"),        # tmp's
    ]
    for blocks, message_id in cases:
        c.error("PATCH", WEB, {"Links": {"ResourceBlocks": blocks}}, 400 if message_id !=
                "ResourceInUse" else 409, message_id)
    c.error("PATCH", WEB, {"Links": {"ResourceBlocks": {}}}, 400, "PropertyValueTypeError")
    c.error("PATCH", WEB, {"Links": {"ResourceBlocks": None}}, 400, "PropertyValueTypeError")
    c.error("PATCH", WEB, {"Links": {"ResourceBlocks": [{}, {}, blk("s0-cpu1")]}, "Name": "x"},
            400, "PropertyNotWritable")
    c.error("PATCH", WEB, {"Links": {"ResourceBlocks": [{}, {}, blk("s0-cpu1")]},
                           "@Redfish.OperationApplyTime": "Later"}, 400, "PropertyValueNotInList")
    c.error("PATCH", SYSTEMS + "/nosuch", rb({}, {}, "s0-cpu1"), 404, "ResourceNotFound")
    check(units(c.get(WEB)) == ["s0-cpu0", "s0-mem0"], "web unchanged")


def test_array_stopped(c):
    """The same array on a stopped partition assigns (and unassigns)."""
    task = c.accepted("PATCH", SYSTEMS + "/tmp", rb({}, "s3-mem0"))
    check(task["Oem"]["Dhp"]["Kind"] == "assign", "kind %s" % task["Oem"]["Dhp"]["Kind"])
    check(units(c.get(SYSTEMS + "/tmp")) == ["s3-cpu0", "s3-mem0"], "assigned")
    task = c.accepted("PATCH", SYSTEMS + "/tmp", rb({}, None))
    check(task["Oem"]["Dhp"]["Kind"] == "unassign", "kind %s" % task["Oem"]["Dhp"]["Kind"])
    check(units(c.get(SYSTEMS + "/tmp")) == ["s3-cpu0"], "unassigned")


def test_system_if_match(c):
    """A stale If-Match is 412 before anything in the body is looked at;
    the current ETag and * are taken; an ETag goes stale with a change."""
    add = rb({}, {}, "s0-cpu1")
    for body in (add, rb({}, "bad"), {"Links": {"ResourceBlocks": 5}}, {"Bogus": 1},
                 {"@odata.id": WEB}, {}):
        c.error("PATCH", WEB, body, 412, "PreconditionFailed", headers={"If-Match": STALE})
    etag = c.etag(WEB)
    # The same tag but for its last digit (changed to another: a tag that
    # ends in 0 already must not be sent as it is).
    other = "1" if etag[-2] == "0" else "0"
    c.error("PATCH", WEB, add, 412, "PreconditionFailed",
            headers={"If-Match": etag[:-2] + other + '"'})
    c.error("PATCH", WEB, add, 412, "PreconditionFailed", headers={"If-Match": etag[2:]})
    c.accepted("PATCH", WEB, add, headers={"If-Match": "%s, %s" % (STALE, etag)})
    c.error("PATCH", WEB, rb({}, None, {}), 412, "PreconditionFailed", headers={"If-Match": etag})
    c.accepted("PATCH", WEB, rb({}, None, {}), headers={"If-Match": "*"})
    check(units(c.get(WEB)) == ["s0-cpu0", "s0-mem0"], "added, then removed")
    etag = c.etag(WEB)
    _, _, doc = c.call("PATCH", WEB, rb({}, {}), expect=200, headers={"If-Match": etag})
    check(c.etag(WEB) == etag, "a PATCH that changes nothing keeps the ETag")
    # DELETE: the stopped tmp.
    tmp = SYSTEMS + "/tmp"
    c.error("DELETE", tmp, None, 412, "PreconditionFailed", headers={"If-Match": STALE})
    c.call("DELETE", tmp, expect=204, headers={"If-Match": c.etag(tmp)})
    c.call("GET", tmp, expect=404)
    c.error("DELETE", tmp, None, 404, "ResourceNotFound", headers={"If-Match": "*"})


def test_account_if_match(c):
    """Accounts: created by POST to Accounts/Members; PATCH and DELETE with
    If-Match."""
    c.error("POST", ACCOUNTS + "/Members", {"UserName": "op1"}, 400, "PropertyMissing")
    _, hdrs, doc = c.call("POST", ACCOUNTS + "/Members", {
        "UserName": "op1", "Password": "op1-pass-1234", "RoleId": "ReadOnly"}, expect=201)
    op1 = ACCOUNTS + "/op1"
    check(hdrs.get("location") == op1 and doc["UserName"] == "op1", "created %s" % hdrs)
    c.call("GET", V1 + "/Systems", expect=200, user="op1", password="op1-pass-1234")
    for body in ({"RoleId": "Operator"}, {"Password": "new-pass-12345"}, {"Bogus": 1},
                 {"@odata.id": op1}):
        c.error("PATCH", op1, body, 412, "PreconditionFailed", headers={"If-Match": STALE})
    etag = c.etag(op1)
    c.error("PATCH", op1, {"RoleId": "Operator"}, 412, "PreconditionFailed",
            headers={"If-Match": etag + "foobar"})
    check(c.get(op1)["RoleId"] == "ReadOnly", "role unchanged")
    _, _, doc = c.call("PATCH", op1, {"RoleId": "Operator"}, expect=200,
                       headers={"If-Match": etag})
    check(doc["RoleId"] == "Operator", "role changed")
    c.error("PATCH", op1, {"RoleId": "Administrator"}, 412, "PreconditionFailed",
            headers={"If-Match": etag})
    c.call("PATCH", op1, {"Enabled": False}, expect=200, headers={"If-Match": "*"})
    check(c.get(op1)["Enabled"] is False, "disabled")
    # Its own account, by the account itself (ConfigureSelf: its Password).
    c.call("PATCH", op1, {"Enabled": True}, expect=200)
    own = c.etag(op1, user="op1", password="op1-pass-1234")
    check(own == c.etag(op1), "the same ETag whoever reads it")
    c.error("PATCH", op1, {"Password": "op1-pass-5678"}, 412, "PreconditionFailed",
            headers={"If-Match": STALE}, user="op1", password="op1-pass-1234")
    c.call("PATCH", op1, {"Password": "op1-pass-5678"}, expect=200, headers={"If-Match": own},
           user="op1", password="op1-pass-1234")
    c.call("GET", V1, expect=200, user="op1", password="op1-pass-5678")
    c.error("DELETE", op1, None, 412, "PreconditionFailed", headers={"If-Match": STALE})
    c.call("DELETE", op1, expect=204, headers={"If-Match": c.etag(op1)})
    c.call("GET", op1, expect=404)
    # The services themselves are not changed by a PATCH.
    for service in (V1 + "/AccountService", V1 + "/SessionService", V1 + "/EventService"):
        c.error("PATCH", service, {"ServiceEnabled": True}, 405, "OperationNotAllowed",
                headers={"If-Match": "*"})


def test_session_if_match(c):
    """Sessions: created by POST to Sessions/Members without credentials;
    DELETE with If-Match."""
    status, hdrs, doc = c.call("POST", SESSIONS + "/Members", {
        "UserName": "admin", "Password": c.dhpd.password}, user=None)
    check(status == 201, "login at Members: %d %s" % (status, doc))
    token, where = hdrs.get("x-auth-token"), hdrs.get("location", "")
    check(token and where.startswith(SESSIONS + "/"), "token and Location %s" % hdrs)
    check(c.get(where, token=token, user=None)["UserName"] == "admin", "the session works")
    c.error("POST", SESSIONS + "/Members", {"UserName": "admin"}, 400, "PropertyMissing",
            user=None)
    c.error("DELETE", where, None, 412, "PreconditionFailed", headers={"If-Match": STALE})
    c.call("DELETE", where, expect=204, headers={"If-Match": c.etag(where)})
    c.call("GET", V1 + "/Systems", expect=401, token=token, user=None)
    # ... and with *, the session deleting itself.
    _, hdrs, _ = c.call("POST", SESSIONS, {"UserName": "admin", "Password": c.dhpd.password},
                        expect=201, user=None)
    c.call("DELETE", hdrs["location"], expect=204, headers={"If-Match": "*"},
           token=hdrs["x-auth-token"], user=None)


def test_task_if_match(c):
    """A finished task is deleted only with a matching If-Match."""
    task = c.get(TASKS)["Members"][0]["@odata.id"]
    c.error("DELETE", task, None, 412, "PreconditionFailed", headers={"If-Match": STALE})
    c.call("DELETE", task, expect=204, headers={"If-Match": c.etag(task)})
    c.call("GET", task, expect=404)
    task = c.get(TASKS)["Members"][0]["@odata.id"]
    c.call("DELETE", task, expect=204, headers={"If-Match": "*"})


def test_no_operation(c):
    """A PATCH of OData annotations only is 400 NoOperation; one that
    changes nothing is a success that changes nothing."""
    web = c.get(WEB)
    for body in ({"@odata.id": WEB}, {"@odata.id": WEB + "/"},
                 {"@odata.type": web["@odata.type"], "@odata.etag": STALE}):
        c.error("PATCH", WEB, body, 400, "NoOperation")
    admin = ACCOUNTS + "/admin"
    c.error("PATCH", admin, {"@odata.id": admin + "/"}, 400, "NoOperation")
    c.error("PATCH", admin, {"@odata.id": admin, "@odata.type": "#ManagerAccount"}, 400,
            "NoOperation")
    c.error("PATCH", admin, {"@odata.id": admin}, 400, "NoOperation",
            headers={"If-Match": c.etag(admin)})
    # Annotations beside a property are read-only properties, as before.
    c.error("PATCH", WEB, dict(rb({}, {}), **{"@odata.id": WEB}), 400, "PropertyNotWritable")
    c.error("PATCH", admin, {"@odata.id": admin, "RoleId": "Administrator"}, 400,
            "PropertyNotWritable")
    c.error("PATCH", admin, {}, 400, "EmptyJSON")
    etag = c.etag(admin)
    c.call("PATCH", admin, {"RoleId": "Administrator", "Enabled": True}, expect=200)
    check(c.etag(admin) == etag, "the same values change nothing")


CASES = [
    ("POST to Systems/Members", test_post_members_system),
    ("array PATCH: [{}, {}, link] hot adds", test_array_add),
    ("array PATCH: null hot removes", test_array_null),
    ("array PATCH: a shorter array removes the rest", test_array_shorter),
    ("array PATCH: arrays that change nothing", test_array_unchanged),
    ("array PATCH: bad elements change nothing", test_array_errors),
    ("array PATCH of a stopped partition", test_array_stopped),
    ("If-Match on a system", test_system_if_match),
    ("If-Match on an account, POST to Accounts/Members", test_account_if_match),
    ("If-Match on a session, POST to Sessions/Members", test_session_if_match),
    ("If-Match on a task", test_task_if_match),
    ("NoOperation", test_no_operation),
]


def clean_exit(dhpd):
    """SIGTERM exits 0, and a sanitizer build (build-san) found nothing."""
    check(dhpd.stop() == 0, "exit status %s" % dhpd.proc.returncode)
    dhpd.log.flush()
    with open(dhpd.log.name) as f:
        log = f.read()
    check("Sanitizer" not in log and "runtime error" not in log, "sanitizer report in the log")


def main():
    try:
        dhpd = Dhpd(build, args=FAST).start()
    except Skip as s:
        for name, _ in CASES:
            results.skip(name, str(s))
        return
    try:
        c = Client(dhpd)
        for name, fn in CASES:
            results.case(name, fn, c)
        results.case("dhpd exits cleanly", clean_exit, dhpd)
    finally:
        dhpd.cleanup()


main()
results.done()
