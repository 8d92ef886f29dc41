# SPDX-License-Identifier: MIT
"""Tasks and the event journal stay bounded (docs/store.md, "Retention";
docs/redfish.md, "Tasks"): a real dhpd with a small --task-retention and
--event-retention, driven over HTTP(S). DELETE of a finished, a running
and an unknown Task; the collection's size under many operations; an SSE
client resuming from an event that was pruned is told so.

Usage: python3 tests/t0870-tasks.py BUILD_DIR"""

import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
TASKS = V1 + "/TaskService/Tasks"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
KEEP_TASKS, KEEP_EVENTS = 5, 20

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def blk(unit):
    return {"@odata.id": BLOCKS + unit}


def wait_task(d, task_uri, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, task = d.request("GET", task_uri)
        check(status == 200, "GET %s: %d" % (task_uri, status))
        if task["TaskState"] not in ("New", "Running"):
            return task
        time.sleep(0.02)
    raise AssertionError("%s did not end" % task_uri)


def newest_task(d):
    status, _, coll = d.request("GET", TASKS)
    check(status == 200, "GET Tasks: %d" % status)
    return coll["Members"][-1]["@odata.id"], coll


def create_delete(d, name):
    """Two operations: create a partition, then delete it."""
    status, _, body = d.request("POST", SYSTEMS, {
        "Name": name, "Links": {"ResourceBlocks": [blk("s0-cpu0"), blk("s0-mem0")]},
        "Oem": {"Dhp": {"OsProfile": "linux"}}})
    check(status in (201, 202), "create %s: %d %s" % (name, status, body))
    wait_task(d, newest_task(d)[0])
    status, _, body = d.request("DELETE", SYSTEMS + "/" + name)
    check(status in (202, 204), "delete %s: %d %s" % (name, status, body))
    wait_task(d, newest_task(d)[0])


def test_bounded(d):
    for i in range(3 * KEEP_TASKS):
        create_delete(d, "p%d" % i)
        _, coll = newest_task(d)
        check(coll["Members@odata.count"] <= KEEP_TASKS,
              "%d tasks kept with --task-retention %d" % (coll["Members@odata.count"],
                                                          KEEP_TASKS))
    _, coll = newest_task(d)
    check(coll["Members@odata.count"] == KEEP_TASKS, "exactly the newest kept")
    ids = [int(m["@odata.id"].rsplit("/", 1)[1]) for m in coll["Members"]]
    check(ids == list(range(ids[-1] - KEEP_TASKS + 1, ids[-1] + 1)), "the newest: %s" % ids)
    status, _, _ = d.request("GET", TASKS + "/1")
    check(status == 404, "the first task was pruned: %d" % status)
    status, _, svc = d.request("GET", V1 + "/TaskService")
    check(svc["CompletedTaskOverWritePolicy"] == "Oldest", "overwrite policy")


def test_delete_finished(d):
    uri, coll = newest_task(d)
    status, hdrs, task = d.request("GET", uri)
    check(status == 200 and task["TaskState"] == "Completed", "finished task")
    check("DELETE" in hdrs.get("allow", ""), "Allow of a finished task: %s" % hdrs.get("allow"))
    status, _, body = d.request("DELETE", uri)
    check(status == 204, "DELETE finished: %d %s" % (status, body))
    status, _, _ = d.request("GET", uri)
    check(status == 404, "deleted task is gone: %d" % status)
    status, _, body = d.request("DELETE", uri)
    check(status == 404, "DELETE again: %d" % status)
    _, after = newest_task(d)
    check(after["Members@odata.count"] == coll["Members@odata.count"] - 1, "one fewer")


def test_delete_unknown(d):
    for tid in ("999999", "0", "abc"):
        status, _, body = d.request("DELETE", TASKS + "/" + tid)
        check(status == 404, "DELETE %s: %d" % (tid, status))
        check(body["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith(
            "ResourceNotFound"), "message of %s: %s" % (tid, body))


def test_delete_running(d):
    status, _, body = d.request("POST", SYSTEMS, {
        "Name": "slow", "Links": {"ResourceBlocks": [blk("s1-cpu0"), blk("s1-mem0")]},
        "Oem": {"Dhp": {"OsProfile": "linux"}}})
    check(status in (201, 202), "create slow: %d" % status)
    wait_task(d, newest_task(d)[0])
    status, hdrs, _ = d.request("POST", SYSTEMS + "/slow/Actions/ComputerSystem.Reset",
                                {"ResetType": "On"})
    check(status == 202, "start: %d" % status)
    uri = newest_task(d)[0]
    status, hdrs, task = d.request("GET", uri)
    check(task["TaskState"] in ("New", "Running"), "still running: %s" % task["TaskState"])
    check("DELETE" not in hdrs.get("allow", "GET"), "Allow of a running task: %s" %
          hdrs.get("allow"))
    status, _, body = d.request("DELETE", uri)
    check(status == 409, "DELETE running: %d %s" % (status, body))
    check(body["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith("ResourceInUse"),
          "message: %s" % body)
    check(wait_task(d, uri)["TaskState"] == "Completed", "the start went on")
    status, _, _ = d.request("DELETE", uri)
    check(status == 204, "DELETE once finished: %d" % status)


def test_delete_privilege(d):
    status, _, _ = d.request("DELETE", TASKS + "/1", user="admin", password="wrong")
    check(status == 401, "DELETE unauthenticated: %d" % status)


def read_sse(d, last_id, n_events, timeout=10):
    """The first n_events of a stream resumed after last_id: a list of
    (comments before it, id, Event)."""
    conn = d.connect(timeout=timeout)
    cred = base64.b64encode(("admin:" + d.password).encode()).decode()
    hdrs = {"Authorization": "Basic " + cred, "Last-Event-ID": str(last_id),
            "Accept": "text/event-stream"}
    conn.request("GET", V1 + "/EventService/SSE", headers=hdrs)
    r = conn.getresponse()
    check(r.status == 200, "SSE: %d" % r.status)
    out, comments, cur_id = [], [], None
    try:
        while len(out) < n_events:
            line = r.readline().decode()
            if not line:
                break
            line = line.rstrip("\n")
            if line.startswith(":"):
                if "keep-alive" not in line:
                    comments.append(line)
            elif line.startswith("id: "):
                cur_id = int(line[4:])
            elif line.startswith("data: "):
                out.append((comments, cur_id, json.loads(line[6:])))
                comments = []
    finally:
        conn.close()
    return out


def test_sse_resume_pruned(d):
    events = read_sse(d, 1, 2)
    check(len(events) == 2, "two events")
    comments, nid, ev = events[0]
    msg = ev["Events"][0]
    check(msg["MessageId"] == "Base.1.22.EventBufferExceeded", "notice first: %s" % msg)
    first, last = msg["Oem"]["Dhp"]["PrunedFirst"], msg["Oem"]["Dhp"]["PrunedLast"]
    check(first == 2 and last == nid and last > 1, "range %d..%d, id %d" % (first, last, nid))
    check(comments == [": events 2..%d were pruned" % last], "comment: %s" % comments)
    check(events[1][1] == last + 1, "then the oldest kept: %d" % events[1][1])
    check(events[1][2]["Events"][0]["MessageId"] != "Base.1.22.EventBufferExceeded", "a real one")
    # Resuming from the notice's id misses nothing more: no notice.
    again = read_sse(d, last, 1)
    check(again and again[0][1] == last + 1 and not again[0][0], "resume after the notice")
    # A client that is not behind the oldest kept event gets no notice.
    later = read_sse(d, last + 3, 1)
    check(later and later[0][1] == last + 4 and not later[0][0], "no notice when not behind")


def main():
    d = None
    try:
        d = Dhpd(build, args=["--hash-iterations", "1000", "--sim-latency-ms", "200",
                              "--task-retention", str(KEEP_TASKS),
                              "--event-retention", str(KEEP_EVENTS)]).start()
    except Skip as e:
        results.skip("tasks", str(e))
        return results.done()
    try:
        results.case("the Tasks collection stays bounded", test_bounded, d)
        results.case("DELETE of a finished task", test_delete_finished, d)
        results.case("DELETE of an unknown task", test_delete_unknown, d)
        results.case("DELETE of a running task is refused", test_delete_running, d)
        results.case("DELETE needs credentials", test_delete_privilege, d)
        results.case("SSE resumed from a pruned event is told", test_sse_resume_pruned, d)
    finally:
        d.cleanup()
    return results.done()


if __name__ == "__main__":
    sys.exit(main())
