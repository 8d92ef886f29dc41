# SPDX-License-Identifier: MIT
"""The protocol half of DSP0266 as docs/redfish.md ("Protocol") says dhpd
speaks it, black box: OData-Version, Allow, Link, If-None-Match, and the
query parameters ($expand, $select, $top/$skip, only, and the refusals of
what is bad or unsupported), on the simulated demo server; then $expand
on topologies/large, bounded, and dhpctl's listing of its units.

Usage: python3 tests/t0810-redfish-query.py BUILD_DIR"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks"
FAST = ["--hash-iterations", "1000", "--sim-latency-ms", "5"]

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def get(d, path, headers=None, method="GET", **kw):
    return d.request(method, path, headers=headers, **kw)


def error_id(doc):
    return doc["error"]["@Message.ExtendedInfo"][0]["MessageId"].rsplit(".", 1)[-1]


def expect_error(d, path, status, message_id, method="GET", **kw):
    st, _, doc = get(d, path, method=method, **kw)
    check(st == status, "%s %s: %d, not %d: %s" % (method, path, st, status, doc))
    check(error_id(doc) == message_id, "%s: %s, not %s" % (path, error_id(doc), message_id))


def state(d):
    """Everything a bad request must leave as it was."""
    out = []
    for path in (SYSTEMS, BLOCKS):
        _, _, doc = get(d, path)
        out.append(doc)
        for m in doc["Members"]:
            out.append(get(d, m["@odata.id"])[2])
    return json.dumps(out, sort_keys=True)


def compose(d):
    body = {"Name": "web", "Links": {"ResourceBlocks": [
        {"@odata.id": BLOCKS + "/s0-cpu0"}, {"@odata.id": BLOCKS + "/s0-mem0"}]}}
    st, _, _ = get(d, SYSTEMS, method="POST", body=body)
    check(st == 201, "create: %d" % st)
    deadline = time.time() + 30
    while time.time() < deadline:
        _, _, sys_ = get(d, SYSTEMS + "/web")
        if sys_["Oem"]["Dhp"]["Task"] is None:
            return
        time.sleep(0.05)
    raise AssertionError("the create did not end")


# ---- headers ----

def t_odata_version(d):
    check(get(d, V1 + "/", {"OData-Version": "4.0"})[0] == 200, "4.0")
    for v in ("4.1", "3.0", "x"):
        expect_error(d, V1 + "/", 412, "PreconditionFailed", headers={"OData-Version": v})
    expect_error(d, SYSTEMS, 412, "PreconditionFailed", method="POST",
                 headers={"OData-Version": "4.1"}, body={"Name": "x"})


def t_allow(d):
    for path, methods in ((V1 + "/", {"GET", "HEAD"}), (SYSTEMS, {"GET", "HEAD", "POST"}),
                          (BLOCKS + "/s0-cpu0", {"GET", "HEAD", "PATCH"}),
                          (V1 + "/TaskService", {"GET", "HEAD"})):
        for method in ("GET", "HEAD"):
            st, h, _ = get(d, path, method=method)
            check(st == 200, "%s %s: %d" % (method, path, st))
            got = {m.strip() for m in h.get("allow", "").split(",")}
            check(got == methods, "%s %s: Allow %s" % (method, path, h.get("allow")))


def t_link(d):
    for path, schema in ((V1 + "/", "ServiceRoot.v1_20_0.json"),
                         (SYSTEMS, "ComputerSystemCollection.json"),
                         (BLOCKS + "/s0-cpu0", "ResourceBlock.v1_4_3.json")):
        want = "<https://redfish.dmtf.org/schemas/v1/%s>; rel=describedby" % schema
        for method in ("HEAD", "GET"):
            st, h, doc = get(d, path, method=method)
            check(h.get("link") == want, "%s %s: Link %s" % (method, path, h.get("link")))
        ns = doc["@odata.type"].lstrip("#").rsplit(".", 1)[0]
        check(schema == ns + ".json", "%s names %s" % (schema, doc["@odata.type"]))


def t_if_none_match(d):
    path = BLOCKS + "/s0-cpu1"
    _, h, _ = get(d, path)
    etag = h["etag"]
    for tags in (etag, 'W/"0000000000000000", ' + etag, "*"):
        for method in ("GET", "HEAD"):
            st, h2, doc = get(d, path, {"If-None-Match": tags}, method=method)
            check(st == 304 and not doc, "%s %s: %d" % (method, tags, st))
            check(h2.get("etag") == etag, "304 carries the ETag")
    st, _, doc = get(d, path, {"If-None-Match": 'W/"0000000000000000"'})
    check(st == 200 and doc["Id"] == "s0-cpu1", "another tag: 200")
    # Credentials before preconditions: no 304 without them.
    st, _, _ = get(d, path, {"If-None-Match": etag}, user=None)
    check(st == 401, "no credentials: %d" % st)
    # Collections have no ETag: If-None-Match never matches one.
    check(get(d, BLOCKS, {"If-None-Match": "*"})[0] == 200, "a collection")


def t_features(d):
    _, _, root = get(d, V1 + "/", user=None)
    f = root["ProtocolFeaturesSupported"]
    check(f["ExpandQuery"] == {"ExpandAll": True, "Levels": True, "Links": True,
                               "NoLinks": True, "MaxLevels": 3}, str(f))
    check(f["SelectQuery"] and f["OnlyMemberQuery"] and f["TopSkipQuery"], str(f))
    check(not f["ExcerptQuery"] and not f["FilterQuery"], str(f))


# ---- query parameters ----

def t_unknown(d):
    expect_error(d, V1 + "/?$rpvunknown", 501, "QueryNotSupported")
    expect_error(d, BLOCKS + "?$foo=bar", 501, "QueryNotSupported")
    expect_error(d, BLOCKS + "?excerpt", 501, "QueryNotSupported")
    expect_error(d, BLOCKS + "?$filter=Id%20eq%20'x'", 501, "QueryNotSupported")
    # 501 wins over a bad value of a known one.
    expect_error(d, BLOCKS + "?$top=x&$foo=1", 501, "QueryNotSupported")
    st, _, doc = get(d, V1 + "/?rpvunknown&foo=bar")
    check(st == 200 and doc["Id"] == "RootService", "unknown non-$ parameters are ignored")


def t_top_skip(d):
    _, _, whole = get(d, BLOCKS)
    ids = [m["@odata.id"] for m in whole["Members"]]
    n = len(ids)
    st, _, doc = get(d, BLOCKS + "?$top=3")
    check(st == 200 and [m["@odata.id"] for m in doc["Members"]] == ids[:3], "top")
    check(doc["Members@odata.count"] == n, "the count is the collection's")
    check("$skip=3" in doc["Members@odata.nextLink"], doc.get("Members@odata.nextLink"))
    _, _, doc = get(d, BLOCKS + "?$skip=%d" % (n - 2))
    check([m["@odata.id"] for m in doc["Members"]] == ids[-2:], "skip")
    check("Members@odata.nextLink" not in doc, "nothing remains: no next link")
    _, _, doc = get(d, BLOCKS + "?$skip=%d" % (n + 5))
    check(doc["Members"] == [] and doc["Members@odata.count"] == n, "past the end: empty")
    _, _, doc = get(d, BLOCKS + "?$top=0")
    check(doc["Members"] == [], "top 0")
    # Following the next links gives every member once, in order.
    seen, page = [], BLOCKS + "?$top=5"
    while page:
        st, _, doc = get(d, page)
        check(st == 200, "%s: %d" % (page, st))
        seen += [m["@odata.id"] for m in doc["Members"]]
        page = doc.get("Members@odata.nextLink")
    check(seen == ids, "the pages are the collection")
    for bad in ("-1", "abc", "", "1.5", "%2B1", "%201"):
        expect_error(d, BLOCKS + "?$top=" + bad, 400, "QueryParameterValueFormatError")
        expect_error(d, BLOCKS + "?$skip=" + bad, 400, "QueryParameterValueFormatError")
    expect_error(d, BLOCKS + "?$top=99999999999999999999999", 400, "QueryParameterOutOfRange")
    expect_error(d, BLOCKS + "?$top=1&$top=2", 400, "QueryParameterValueFormatError")
    expect_error(d, BLOCKS + "/s0-cpu0?$top=1", 400, "QueryNotSupportedOnResource")


def t_only(d):
    _, _, chassis = get(d, V1 + "/Chassis")
    check(len(chassis["Members"]) == 1, "one chassis")
    st, h, doc = get(d, V1 + "/Chassis?only")
    _, h1, member = get(d, chassis["Members"][0]["@odata.id"])
    check(st == 200 and doc == member, "only: the member")
    check(h.get("etag") == h1["etag"], "only: the member's ETag")
    check("Chassis.v1_" in h.get("link", ""), "only: the member's Link")
    _, _, blocks = get(d, BLOCKS + "?only")
    check(len(blocks["Members"]) > 1 and "Members@odata.count" in blocks,
          "several members: the collection")
    expect_error(d, V1 + "/Chassis?only=foo", 400, "QueryParameterValueFormatError")
    expect_error(d, V1 + "/Chassis?only&$top=1", 400, "QueryCombinationInvalid")
    expect_error(d, V1 + "/Chassis?only&$expand=.", 400, "QueryCombinationInvalid")
    expect_error(d, BLOCKS + "/s0-cpu0?only", 400, "QueryNotSupportedOnResource")


def t_expand(d):
    _, _, whole = get(d, BLOCKS)
    st, h, doc = get(d, BLOCKS + "?$expand=.")
    check(st == 200 and len(doc["Members"]) == len(whole["Members"]), "every member")
    for link, m in zip(whole["Members"], doc["Members"]):
        check(m == get(d, link["@odata.id"])[2], "%s as its GET" % link["@odata.id"])
    check("etag" not in h, "a collection has no ETag, expanded or not")
    # ".": subordinate links, not those under Links; "~" the opposite.
    path = BLOCKS + "/s0-cpu0"
    _, h0, plain = get(d, path)
    _, h1, dot = get(d, path + "?$expand=.")
    check(dot["Processors"][0]["@odata.type"].startswith("#Processor."), "Processors expanded")
    check(dot["Links"]["Chassis"] == plain["Links"]["Chassis"], "Links left alone")
    check(h1["etag"] == h0["etag"], "the ETag is the resource's, expanded or not")
    _, _, tilde = get(d, path + "?$expand=~")
    check(tilde["Links"]["Chassis"][0]["@odata.type"].startswith("#Chassis."), "~: Links")
    check(tilde["Processors"] == plain["Processors"], "~: subordinates left alone")
    _, _, star = get(d, path + "?$expand=*")
    check(star["Links"]["Chassis"][0].get("ChassisType") and
          star["Processors"][0].get("ProcessorType"), "*: both")
    # One level: what is expanded is not expanded in turn; two: it is.
    proc_chassis = star["Processors"][0]["Links"]["Chassis"]
    check(list(proc_chassis.keys()) == ["@odata.id"], "one level")
    _, _, two = get(d, path + "?$expand=*($levels=2)")
    check(two["Processors"][0]["Links"]["Chassis"].get("ChassisType"), "two levels")
    _, _, root = get(d, V1 + "/?$expand=.($levels=1)")
    check(root["Systems"]["@odata.type"].startswith("#ComputerSystemCollection"), "root")
    check(list(root["Links"]["Sessions"].keys()) == ["@odata.id"], "root: Links alone")
    for bad in ("x", "", ".x", ".($levels=x)", ".($levels=)", ".($level=1)", ".($levels=1",
                "..", "*($levels=-1)"):
        expect_error(d, path + "?$expand=" + bad, 400, "QueryParameterValueFormatError")
    for out in ("0", "4", "99"):
        expect_error(d, path + "?$expand=.($levels=%s)" % out, 400, "QueryParameterOutOfRange")


def t_select(d):
    path = SYSTEMS + "/web"
    _, h0, plain = get(d, path)
    st, h, doc = get(d, path + "?$select=Name,Status/Health")
    check(st == 200, "select: %d" % st)
    check(set(doc) == {"@odata.id", "@odata.type", "Name", "Status"}, str(sorted(doc)))
    check(doc["Status"] == {"Health": plain["Status"]["Health"]}, str(doc["Status"]))
    check(h["etag"] == h0["etag"], "the ETag is the resource's, selected or not")
    _, _, doc = get(d, path + "?$select=Status,Status/Health")
    check(doc["Status"] == plain["Status"], "a whole property wins over a part of it")
    _, _, doc = get(d, path + "?$select=NoSuchProperty")
    check(set(doc) == {"@odata.id", "@odata.type"}, "an unknown property selects nothing")
    # On a collection: the members, as expanded.
    _, _, doc = get(d, BLOCKS + "?$expand=.&$select=Id&$top=2")
    check(len(doc["Members"]) == 2 and all(set(m) == {"@odata.id", "@odata.type", "Id"}
                                           for m in doc["Members"]), str(doc["Members"]))
    check("Members@odata.count" in doc, "the collection's own properties stay")
    check("$select=Id" in doc["Members@odata.nextLink"], doc["Members@odata.nextLink"])
    _, _, nxt = get(d, doc["Members@odata.nextLink"])
    check(set(nxt["Members"][0]) == {"@odata.id", "@odata.type", "Id"}, "the next page too")
    for bad in ("", "a,,b", "/a", "a/", "a//b", "a b", "Name,"):
        expect_error(d, path + "?$select=" + bad.replace(" ", "%20"), 400,
                     "QueryParameterValueFormatError")


def t_bad_changes_nothing(d):
    before = state(d)
    body = {"Links": {"ResourceBlocks": [{"@odata.id": BLOCKS + "/s0-cpu0"},
                                         {"@odata.id": BLOCKS + "/s0-mem0"},
                                         {"@odata.id": BLOCKS + "/s0-cpu1"}]}}
    expect_error(d, SYSTEMS + "/web?$expand=.", 400, "QueryNotSupportedOnOperation",
                 method="PATCH", body=body)
    expect_error(d, SYSTEMS + "/web?$foo", 501, "QueryNotSupported", method="PATCH", body=body)
    expect_error(d, SYSTEMS + "/web", 412, "PreconditionFailed", method="PATCH", body=body,
                 headers={"OData-Version": "4.1"})
    expect_error(d, SYSTEMS + "?$top=1", 400, "QueryNotSupportedOnOperation", method="POST",
                 body={"Name": "db", "Links": {"ResourceBlocks": [
                     {"@odata.id": BLOCKS + "/s1-cpu0"}]}})
    expect_error(d, SYSTEMS + "/web?$select=", 400, "QueryParameterValueFormatError",
                 method="DELETE")
    check(state(d) == before, "bad requests changed nothing")
    # Unknown non-$ parameters are ignored on changes too.
    st, _, _ = get(d, SYSTEMS + "/web?foo=bar", method="PATCH", body={"Links": {
        "ResourceBlocks": [{"@odata.id": BLOCKS + "/s0-cpu0"}, {"@odata.id": BLOCKS + "/s0-mem0"}]}})
    check(st == 200, "a PATCH that changes nothing, with an unknown parameter: %d" % st)


def t_sse_filter(d):
    """$filter stays the event stream's."""
    conn = d.connect(timeout=5)
    import base64
    cred = base64.b64encode(("admin:" + d.password).encode()).decode()
    conn.request("GET", V1 + "/EventService/SSE?$filter=OriginResource%20eq%20'"
                 + SYSTEMS + "/web'", headers={"Authorization": "Basic " + cred})
    r = conn.getresponse()
    check(r.status == 200 and r.getheader("Content-Type", "").startswith("text/event-stream"),
          "the stream: %d" % r.status)
    conn.close()
    expect_error(d, V1 + "/EventService/SSE?$filter=bogus", 400, "QueryParameterValueError")


def demo():
    d = Dhpd(build, args=FAST).start()
    try:
        compose(d)
        for name, fn in (("odata-version", t_odata_version), ("allow", t_allow),
                         ("link-describedby", t_link), ("if-none-match", t_if_none_match),
                         ("protocol-features", t_features), ("unknown-parameters", t_unknown),
                         ("top-skip", t_top_skip), ("only", t_only), ("expand", t_expand),
                         ("select", t_select), ("bad-queries-change-nothing", t_bad_changes_nothing),
                         ("sse-filter", t_sse_filter)):
            results.case(name, fn, d)
    finally:
        d.cleanup()


# ---- topologies/large ----

def t_large_expand(d):
    _, _, whole = get(d, BLOCKS)
    n = whole["Members@odata.count"]
    ids, page, pages, biggest = [], BLOCKS + "?$expand=.", 0, 0
    start = time.time()
    while page:
        conn = d.connect()
        st, _, doc = get(d, page)
        check(st == 200, "%s: %d" % (page, st))
        size = len(json.dumps(doc, separators=(",", ":")))
        biggest = max(biggest, size)
        check(size < 8 << 20, "a page of %d bytes" % size)
        check(all("CompositionStatus" in m for m in doc["Members"]), "members expanded")
        ids += [m["@odata.id"] for m in doc["Members"]]
        page = doc.get("Members@odata.nextLink")
        pages += 1
        conn.close()
    check(pages > 1, "paged")
    check(ids == [m["@odata.id"] for m in whole["Members"]] and len(ids) == n, "every unit once")
    print("# %d units in %d expanded pages of at most %d bytes, %.2f s" % (
        n, pages, biggest, time.time() - start), flush=True)
    # Deep expansions are bounded too.
    st, _, doc = get(d, V1 + "/?$expand=*($levels=3)")
    check(st == 200 and len(json.dumps(doc)) < 8 << 20, "the root, three levels deep")


def t_large_dhpctl(d):
    exe = os.path.join(build, "dhpctl")
    if not os.path.exists(exe):
        raise Skip("no dhpctl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHP_")}
    env.update({"DHP_URL": "https://127.0.0.1:%d" % d.port, "DHP_USER": "admin",
                "DHP_PASSWORD": d.password,
                "DHP_CACERT": os.path.join(d.state_dir, "tls", "cert.pem")})
    best = None
    for _ in range(3):
        start = time.time()
        out = subprocess.run([exe, "units"], env=env, capture_output=True, text=True, timeout=120)
        took = time.time() - start
        best = took if best is None else min(best, took)
        check(out.returncode == 0, out.stderr)
    rows = out.stdout.splitlines()
    check(len(rows) == 1 + 12544 and rows[1].split()[0] == "s0-cpu0", "%d rows" % len(rows))
    print("# dhpctl units on topologies/large: %d units, best of 3 %.2f s" % (
        len(rows) - 1, best), flush=True)


def large():
    d = Dhpd(build, topology="topologies/large", args=FAST).start(timeout=120)
    try:
        results.case("large-expand-bounded", t_large_expand, d)
        results.case("large-dhpctl-units", t_large_dhpctl, d)
    finally:
        d.cleanup()


if __name__ == "__main__":
    try:
        demo()
        large()
    except Skip as s:
        results.skip("t0810", str(s))
    results.done()
