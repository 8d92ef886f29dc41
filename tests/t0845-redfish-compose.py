# SPDX-License-Identifier: MIT
"""Constrained composition over Redfish (docs/redfish.md, "Compose"): a
real dhpd on the demo server. POST Systems by sizes; the Compose action's
Preview, PreviewReserve and Apply; reservations that expire (a short
--reservation-lifetime-s), are deleted, or belong to another user; a held
block refused to a create and a hot add; bad input of every kind refused
with nothing changed. Bodies are validated against DMTF's and dhp's
schemas.

Usage: python3 tests/t0845-redfish-compose.py BUILD_DIR"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check, schema_validator  # noqa: E402

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
COMP = V1 + "/CompositionService"
COMPOSE = COMP + "/Actions/CompositionService.Compose"
RESV = COMP + "/CompositionReservations"
BLOCKS = COMP + "/ResourceBlocks/"
LIFETIME_S = 2

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
validate = schema_validator()


def blk(unit):
    return {"@odata.id": BLOCKS + unit}


def ids(links):
    return [l["@odata.id"].rsplit("/", 1)[1] for l in links]


def sized(name, procs, gib, **oem):
    body = {"Name": name, "ProcessorSummary": {"Count": procs},
            "MemorySummary": {"TotalSystemMemoryGiB": gib}}
    if oem:
        body["Oem"] = {"Dhp": oem}
    return body


def stanza(request, sid="s1"):
    return {"StanzaType": "ComposeSystem", "StanzaId": sid, "Request": request}


def compose(d, rtype, stanzas=None, rid=None, user="admin", password=None):
    body = {"RequestFormat": "Manifest", "RequestType": rtype}
    if stanzas is not None:
        body["Manifest"] = {"Description": "test", "Expand": "None", "Stanzas": stanzas}
    if rid is not None:
        body["ReservationId"] = rid
    return d.request("POST", COMPOSE, body, user=user, password=password)


def state(d):
    """What a refused request must not change: systems, blocks, reservations."""
    out = []
    for uri in (SYSTEMS, RESV):
        out.append(d.request("GET", uri)[2]["Members"])
    status, _, blocks = d.request("GET", COMP + "/ResourceBlocks?$expand=.")
    check(status == 200, "GET blocks: %d" % status)
    out.append([(b["Id"], b["CompositionStatus"], b["Links"].get("ComputerSystems"))
                for b in blocks["Members"]])
    return out


def wait_idle(d, name):
    for _ in range(500):
        status, _, sys_ = d.request("GET", SYSTEMS + "/" + name)
        if status == 200 and sys_["Oem"]["Dhp"]["Task"] is None:
            return sys_
        time.sleep(0.02)
    raise AssertionError("%s stays busy" % name)


def delete(d, name):
    wait_idle(d, name)
    status, _, body = d.request("DELETE", SYSTEMS + "/" + name)
    check(status == 204, "delete %s: %d %s" % (name, status, body))
    for _ in range(500):
        if d.request("GET", SYSTEMS + "/" + name)[0] == 404:
            return
        time.sleep(0.02)


def test_capabilities(d):
    status, _, caps = d.request("GET", SYSTEMS + "/Capabilities")
    check(status == 200, "GET Capabilities: %d" % status)
    check(caps["ProcessorSummary"]["Count@Redfish.OptionalOnCreate"] is True, "Count")
    check(caps["MemorySummary"]["TotalSystemMemoryGiB@Redfish.OptionalOnCreate"] is True, "Mem")
    check(caps["Links"]["ResourceBlocks@Redfish.OptionalOnCreate"] is True, "ResourceBlocks")
    check(caps["Oem"]["Dhp"]["IoHostBridges@Redfish.OptionalOnCreate"] is True, "IoHostBridges")
    status, _, svc = d.request("GET", COMP)
    check(svc["ReservationDuration"] == "PT%dS" % LIFETIME_S, svc.get("ReservationDuration"))
    action = svc["Actions"]["#CompositionService.Compose"]
    check(action["target"] == COMPOSE, action)
    status, _, info = d.request("GET", action["@Redfish.ActionInfo"])
    check(status == 200, "ActionInfo: %d" % status)
    names = {p["Name"]: p for p in info["Parameters"]}
    check(names["RequestType"]["AllowableValues"] == ["Preview", "PreviewReserve", "Apply"],
          names)
    if validate:
        for doc in (caps, svc, info):
            validate(doc)


def test_post_by_size(d):
    status, hdrs, body = d.request("POST", SYSTEMS, sized("web", 6, 8, IoHostBridges=1))
    check(status == 201, "POST by size: %d %s" % (status, body))
    check(hdrs["location"] == SYSTEMS + "/web", hdrs.get("location"))
    blocks = ids(body["Links"]["ResourceBlocks"])
    check(sorted(blocks) == sorted(["s0-cpu0", "s0-cpu1", "s0-cpu2", "s0-cpu3", "s1-cpu0",
                                    "s1-cpu1", "s0-mem0", "s0-mem1", "s0-mem2", "s0-mem3",
                                    "s0-iohb0"]), blocks)
    plan = body["Oem"]["Dhp"]["Plan"]
    check(plan["HomeSocket"] == 0, plan)
    check(plan["Steps"][1]["Reason"] ==
          "socket 1 (distance 16) has 4 free processors: gives the rest (2)", plan)
    check(body["ProcessorSummary"]["Count"] == 6, body["ProcessorSummary"])
    if validate:
        validate(body)
    delete(d, "web")
    # A home socket, and the zone by its Id.
    status, _, body = d.request("POST", SYSTEMS, dict(sized("db", 1, 2, Socket=3),
                                                      **{"@Redfish.ZoneAffinity": "demo"}))
    check(status == 201, "POST with Socket: %d %s" % (status, body))
    check(ids(body["Links"]["ResourceBlocks"]) == ["s3-cpu0", "s3-mem0"], body["Links"])
    delete(d, "db")


def test_preview(d):
    before = state(d)
    status, _, body = compose(d, "Preview", [stanza(sized("a", 2, 4)),
                                             stanza(sized("b", 4, 2), "s2")])
    check(status == 200, "Preview: %d %s" % (status, body))
    check(body["RequestType"] == "Preview" and "ReservationId" not in body, body)
    first = ids(body["Manifest"]["Stanzas"][0]["Response"]["Links"]["ResourceBlocks"])
    second = ids(body["Manifest"]["Stanzas"][1]["Response"]["Links"]["ResourceBlocks"])
    check(first == ["s0-cpu0", "s0-cpu1", "s0-mem0", "s0-mem1"], first)
    check(not set(first) & set(second), "two stanzas share blocks: %s %s" % (first, second))
    check(state(d) == before, "a Preview changed something")
    if validate:
        for s in body["Manifest"]["Stanzas"]:
            validate(dict(s["Response"], **{"@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
                                            "@odata.id": SYSTEMS + "/x", "Id": "x"}))


def test_reserve_apply(d):
    status, _, body = compose(d, "PreviewReserve", [stanza(sized("r1", 2, 2))])
    check(status == 200, "PreviewReserve: %d %s" % (status, body))
    rid = body["ReservationId"]
    status, _, res = d.request("GET", RESV + "/" + rid)
    check(status == 200, "GET reservation: %d" % status)
    check(res["Client"] == "admin", res)
    held = ids(res["ReservedResourceBlocks"])
    check(held == ["s0-cpu0", "s0-cpu1", "s0-mem0"], held)
    if validate:
        validate(res)
    # Held blocks are refused to a create, a Compose and a hot add, naming it.
    before = state(d)
    status, _, err = d.request("POST", SYSTEMS, {"Name": "thief", "Links": {
        "ResourceBlocks": [blk("s0-cpu0"), blk("s0-mem1")]}})
    check(status == 409, "create on a held block: %d" % status)
    check("composition reservation %s" % rid in err["error"]["@Message.ExtendedInfo"][0]["Message"],
          err)
    status, _, body = compose(d, "Preview", [stanza(sized("x", 1, 2))])
    check(ids(body["Manifest"]["Stanzas"][0]["Response"]["Links"]["ResourceBlocks"]) ==
          ["s0-cpu2", "s0-mem1"], body)
    status, _, body = d.request("POST", SYSTEMS, {"Name": "run", "Links": {
        "ResourceBlocks": [blk("s1-cpu0"), blk("s1-mem0")]}})
    check(status == 201, "create run: %d %s" % (status, body))
    wait_idle(d, "run")
    status, hdrs, body = d.request("POST", SYSTEMS + "/run/Actions/ComputerSystem.Reset",
                                   {"ResetType": "On"})
    d.wait_task(hdrs["location"])
    before = state(d)
    status, _, err = d.request("POST", SYSTEMS + "/run/Actions/ComputerSystem.AddResourceBlock",
                               {"ResourceBlock": blk("s0-cpu1")})
    check(status == 409, "hot add of a held block: %d %s" % (status, err))
    check(state(d) == before, "a refused hot add changed something")
    # Another user may not apply it.
    status, _, _ = d.request("POST", V1 + "/AccountService/Accounts", {
        "UserName": "op", "Password": "op-pass-123456", "RoleId": "Operator"})
    check(status == 201, "make an operator: %d" % status)
    status, _, err = compose(d, "Apply", rid=rid, user="op", password="op-pass-123456")
    check(status == 409 and "another client" in err["error"]["message"], (status, err))
    # Its client applies it: the reserved blocks.
    status, _, body = compose(d, "Apply", rid=rid)
    check(status == 200, "Apply reservation: %d %s" % (status, body))
    made = body["Manifest"]["Stanzas"][0]["Response"]
    check(ids(made["Links"]["ResourceBlocks"]) == held, made["Links"])
    check(d.request("GET", RESV + "/" + rid)[0] == 404, "an applied reservation stays")
    status, _, err = compose(d, "Apply", rid=rid)
    check(status == 400, "Apply twice: %d" % status)
    delete(d, "r1")


def test_apply_direct(d):
    status, _, body = compose(d, "Apply", [stanza(sized("c1", 1, 2)), stanza(sized("c2", 1, 2), "s2")])
    check(status == 200, "Apply: %d %s" % (status, body))
    for name in ("c1", "c2"):
        check(d.request("GET", SYSTEMS + "/" + name)[0] == 200, "%s not made" % name)
        delete(d, name)


def test_expiry_and_delete(d):
    status, _, body = compose(d, "PreviewReserve", [stanza(sized("e1", 1, 2))])
    rid = body["ReservationId"]
    time.sleep(LIFETIME_S + 0.5)
    check(d.request("GET", RESV + "/" + rid)[0] == 404, "an expired reservation is listed")
    status, _, err = compose(d, "Apply", rid=rid)
    check(status == 400 and "expired" in err["error"]["@Message.ExtendedInfo"][0]["Resolution"],
          (status, err))
    status, _, body = d.request("POST", SYSTEMS, {"Name": "free", "Links": {
        "ResourceBlocks": [blk("s0-cpu0")]}})
    check(status == 201, "the blocks of an expired reservation: %d %s" % (status, body))
    delete(d, "free")
    status, _, body = compose(d, "PreviewReserve", [stanza(sized("e2", 1, 2))])
    rid = body["ReservationId"]
    status, _, _ = d.request("DELETE", RESV + "/" + rid)
    check(status == 204, "DELETE reservation: %d" % status)
    status, _, body = d.request("POST", SYSTEMS, {"Name": "free", "Links": {
        "ResourceBlocks": [blk("s0-cpu0")]}})
    check(status == 201, "the blocks of a deleted reservation: %d %s" % (status, body))
    delete(d, "free")
    check(d.request("DELETE", RESV + "/" + rid)[0] == 404, "DELETE twice")
    check(d.request("DELETE", RESV + "/99")[0] == 404, "DELETE unknown")


BAD_POSTS = [
    (sized("z", 0, 2), 400, None),
    (sized("z", -1, 2), 400, None),
    (sized("z", 1, 0), 400, None),
    (sized("z", 1, -2), 400, None),
    (sized("z", 1, 3), 400, "cannot be made"),
    (sized("z", 1, 1e12), 400, "not enough free memory"),
    (sized("z", 17, 2), 400, "not enough free processors"),
    (sized("z", 1, 2, IoHostBridges=9), 400, "I/O host bridges"),
    (sized("z", 1, 2, IoHostBridges=-1), 400, None),
    (sized("z", 1, 2, Socket=4), 400, None),
    (sized("z", "two", 2), 400, None),
    (sized("z", 1.5, 2), 400, None),
    (sized("z", 1, "2"), 400, None),
    ({"Name": "z", "ProcessorSummary": {"Count": 1}}, 400, None),
    ({"Name": "z", "ProcessorSummary": {"Count": 1, "Model": "x"}, "MemorySummary":
      {"TotalSystemMemoryGiB": 2}}, 400, None),
    (dict(sized("z", 1, 2), Links={"ResourceBlocks": [blk("s0-cpu0")]}), 400, None),
    (dict(sized("z", 1, 2), **{"@Redfish.ZoneAffinity": "elsewhere"}), 400, None),
    ({"Name": "z"}, 400, None),
    (sized("Capabilities", 1, 2), 409, None),
]


def test_bad_input(d):
    before = state(d)
    for body, code, word in BAD_POSTS:
        status, _, err = d.request("POST", SYSTEMS, body)
        check(status == code, "POST %s: %d, expected %d" % (body, status, code))
        if word:
            text = err["error"]["@Message.ExtendedInfo"][0]["Message"]
            check(word in text, "%r lacks %r" % (text, word))
        check(state(d) == before, "a refused POST changed something: %s" % body)
    bad_compose = [
        {"RequestType": "Preview"},
        {"RequestType": "Later", "Manifest": {"Stanzas": [stanza(sized("z", 1, 2))]}},
        {"RequestType": "Preview", "RequestFormat": "Other",
         "Manifest": {"Stanzas": [stanza(sized("z", 1, 2))]}},
        {"RequestType": "Preview", "Manifest": {"Stanzas": []}},
        {"RequestType": "Preview", "Manifest": {"Stanzas": [
            {"StanzaType": "DecomposeSystem", "Request": sized("z", 1, 2)}]}},
        {"RequestType": "Preview", "Manifest": {"Stanzas": [stanza(sized("z", 1, 3))]}},
        {"RequestType": "Apply", "Manifest": {"Stanzas": [stanza(sized("z", 1, 2)),
                                                         stanza(sized("z", 1, 2))]}},
        {"RequestType": "Apply", "Manifest": {"Stanzas": [stanza(sized("y", 1, 2)),
                                                         stanza(sized("z", 16, 2))]}},
        {"RequestType": "Apply", "ReservationId": "12345"},
        {"RequestType": "Preview", "ReservationId": "1"},
        {"RequestType": "Apply", "Manifest": {"Stanzas": "no"}},
        {"RequestType": "Apply", "Manifest": {"Stanzas": [stanza(sized("z", 1, 2))]},
         "Extra": 1},
        {"RequestType": "PreviewReserve", "Manifest": {"Stanzas": [stanza(
            {"Name": "z", "Links": {"ResourceBlocks": [blk("s0-cpu0"), blk("s0-cpu0")]}})]}},
    ]
    for body in bad_compose:
        status, _, err = d.request("POST", COMPOSE, body)
        check(status == 400, "Compose %s: %d %s" % (body, status, err))
        check(state(d) == before, "a refused Compose changed something: %s" % body)
    status, _, _ = d.request("POST", COMPOSE, {"RequestType": "Preview", "Manifest": {
        "Stanzas": [stanza(sized("z", 1, 2))]}}, user=None)
    check(status == 401, "Compose without credentials: %d" % status)


def main():
    d = None
    try:
        d = Dhpd(build, args=["--hash-iterations", "1000",
                              "--reservation-lifetime-s", str(LIFETIME_S)]).start()
        results.case("Capabilities and the Compose action are advertised", test_capabilities, d)
        results.case("POST Systems by sizes", test_post_by_size, d)
        results.case("Compose Preview changes nothing", test_preview, d)
        results.case("PreviewReserve holds, Apply uses the reservation", test_reserve_apply, d)
        results.case("Compose Apply without a reservation", test_apply_direct, d)
        results.case("reservations expire and are deleted", test_expiry_and_delete, d)
        results.case("bad input is refused, nothing changed", test_bad_input, d)
    except Skip as e:
        results.skip("t0845", str(e))
    finally:
        if d:
            d.cleanup()
    return results.done()


if __name__ == "__main__":
    sys.exit(main())
