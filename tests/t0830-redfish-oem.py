# SPDX-License-Identifier: MIT
"""dhp's OEM extensions, done the standard way (docs/redfish.md, "OEM
extensions"; docs/schemas.md), black box on a real dhpd with a running
partition:

- a walk of the whole service: every body valid against its DMTF schema,
  and every Oem object carries an @odata.type, valid against dhp's OEM
  schema of that type (dhptest.schema_validator);
- $metadata: each reference dhpd serves itself is served, parses, and
  defines the namespaces it is included for; each DMTF namespace it names
  in a version has that JSON Schema in schemas/dmtf;
- the schema files: what dhpd serves is schemas/oem byte for byte; the
  CSDL and the JSON Schema of each namespace declare the same properties
  and actions; JsonSchemas lists each, and each Location is served and
  parses;
- the OEM actions: each has an @Redfish.ActionInfo that exists and says
  what the action accepts (its parameters as the CSDL declares them, the
  required ones refused when missing, the allowable values the only ones
  taken).

Usage: python3 tests/t0830-redfish-oem.py BUILD_DIR"""

import json
import os
import sys
import warnings
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import (DMTF_SCHEMAS, OEM_SCHEMAS, Dhpd, Results, Skip, check,  # noqa: E402
                     schema_validator)

V1 = "/redfish/v1"
SYSTEMS = V1 + "/Systems"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
FAST = ["--hash-iterations", "1000", "--sim-latency-ms", "5"]
# Not JSON resources: a byte stream, an event stream, the schema files.
NOT_WALKED = ("/Oem/Dhp/Console", "/EventService/SSE", V1 + "/Schemas/", "/$metadata")

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"


def get(d, path, expect=200):
    status, hdrs, doc = d.request("GET", path)
    check(status == expect, "GET %s: %d, not %d: %s" % (path, status, expect, doc))
    return hdrs, doc


def links(doc):
    """Every @odata.id inside doc, except its own."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "@odata.id" and isinstance(value, str):
                yield value
            else:
                yield from links(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from links(value)


def walk(d, validate):
    """GET every resource reachable from the service root: {uri: body}."""
    seen, todo = {}, [V1]
    while todo:
        uri = todo.pop()
        if uri in seen or any(part in uri for part in NOT_WALKED) or "/Actions/" in uri:
            continue
        _, doc = get(d, uri)
        validate(doc)
        seen[uri] = doc
        todo += [u.split("#")[0] for u in links(doc) if u.startswith(V1)]
    return seen


def oem_types(doc, found):
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "Oem" and isinstance(value, dict) and "Dhp" in value:
                found.add(value["Dhp"].get("@odata.type"))
            oem_types(value, found)
    elif isinstance(doc, list):
        for value in doc:
            oem_types(value, found)


def test_walk(d, validate, state):
    state["resources"] = walk(d, validate)
    found = set()
    for doc in state["resources"].values():
        oem_types(doc, found)
    # DhpEvent is on the event stream only (t0700 validates its events).
    want = {"#%s.v1_0_0.%s" % (ns, ns) for ns in oem_namespaces() if ns != "DhpEvent"}
    check(found == want, "Oem types seen: %s, not %s" % (sorted(found), sorted(want)))
    print("# %d resources walked and validated" % len(state["resources"]))


def oem_namespaces():
    return sorted(name[:-len("_v1.xml")] for name in os.listdir(OEM_SCHEMAS)
                  if name.endswith("_v1.xml"))


def test_metadata(d, state):
    hdrs, text = get(d, V1 + "/$metadata")
    check(hdrs["content-type"].startswith("application/xml"), hdrs["content-type"])
    local = []
    for ref in ElementTree.fromstring(text).iter(EDMX + "Reference"):
        uri = ref.get("Uri")
        spaces = [inc.get("Namespace") for inc in ref.iter(EDMX + "Include")]
        if uri.startswith("/"):
            local.append(uri)
            hdrs, csdl = get(d, uri)
            check(hdrs["content-type"].startswith("application/xml"), uri)
            defined = {s.get("Namespace") for s in ElementTree.fromstring(csdl).iter(EDM + "Schema")}
            check(set(spaces) <= defined, "%s defines %s, not %s" % (uri, defined, spaces))
            continue
        check(uri.startswith("http://redfish.dmtf.org/schemas/v1/"), uri)
        for ns in spaces:
            if ".v" in ns and not ns.startswith("RedfishExtensions"):
                check(os.path.exists(os.path.join(DMTF_SCHEMAS, ns + ".json")),
                      "$metadata names %s, which schemas/dmtf lacks" % ns)
    check(sorted(local) == ["/redfish/v1/Schemas/%s_v1.xml" % ns for ns in oem_namespaces()],
          "references to the OEM schemas: %s" % local)


def test_files(d, state):
    for name in sorted(os.listdir(OEM_SCHEMAS)):
        with open(os.path.join(OEM_SCHEMAS, name)) as f:
            want = f.read()
        status, hdrs, body = d.request("GET", V1 + "/Schemas/" + name)
        check(status == 200, "%s: %d" % (name, status))
        served = body if isinstance(body, str) else json.dumps(body)
        if name.endswith(".json"):
            check(body == json.loads(want), "%s is served as it is in schemas/oem" % name)
        else:
            check(served == want, "%s is served as it is in schemas/oem" % name)
    status, _, _ = d.request("GET", V1 + "/Schemas/DhpChassis_v1.xml", user=None)
    check(status == 401, "the schema files need a login: %d" % status)
    get(d, V1 + "/Schemas/Nope_v1.xml", expect=404)


def csdl_of(ns):
    """{type or action name: set of property or parameter names} of the
    versioned namespace (types) and the unversioned one (actions)."""
    root = ElementTree.parse(os.path.join(OEM_SCHEMAS, ns + "_v1.xml")).getroot()
    out = {}
    for schema in root.iter(EDM + "Schema"):
        for ct in schema.iter(EDM + "ComplexType"):
            if schema.get("Namespace") != ns:
                out[ct.get("Name")] = {p.get("Name") for p in ct
                                       if p.tag in (EDM + "Property", EDM + "NavigationProperty")}
        for action in schema.iter(EDM + "Action"):
            out[action.get("Name")] = {p.get("Name"): p for p in action.iter(EDM + "Parameter")}
    return out


def test_csdl_matches_json(d, state):
    for ns in oem_namespaces():
        with open(os.path.join(OEM_SCHEMAS, "%s.v1_0_0.json" % ns)) as f:
            js = json.load(f)
        check(js["title"] == "#%s.v1_0_0.%s" % (ns, ns), js["title"])
        csdl = csdl_of(ns)
        check(set(csdl) == set(js["definitions"]), "%s: %s vs %s" % (ns, set(csdl),
                                                                     set(js["definitions"])))
        for name, defn in js["definitions"].items():
            if "parameters" in defn:   # an action: its binding parameter is not sent
                params = set(csdl[name]) - {list(csdl[name])[0]}
                check(set(defn["parameters"]) == params, "%s.%s parameters" % (ns, name))
            else:
                check(set(defn["properties"]) == csdl[name], "%s.%s properties" % (ns, name))


def test_jsonschemas(d, state):
    _, root = get(d, V1)
    check(root["JsonSchemas"] == {"@odata.id": V1 + "/JsonSchemas"}, "root links JsonSchemas")
    _, coll = get(d, V1 + "/JsonSchemas")
    schemas = []
    for member in coll["Members"]:
        _, f = get(d, member["@odata.id"])
        schemas.append(f["Schema"])
        for loc in f["Location"]:
            _, js = get(d, loc["Uri"])
            check(isinstance(js, dict) and js["title"] == f["Schema"], "%s: %s" % (loc["Uri"], f))
    check(sorted(schemas) == ["#%s.v1_0_0.%s" % (ns, ns) for ns in oem_namespaces()], schemas)
    get(d, V1 + "/JsonSchemas/DhpNope.v1_0_0", expect=404)


def oem_actions(resources):
    """(resource URI, "#Ns.Action", action object) of every OEM action."""
    for uri, doc in sorted(resources.items()):
        for name, action in doc.get("Actions", {}).get("Oem", {}).items():
            yield uri, name, action


def placeholder(param):
    """A value of an ActionInfo parameter's DataType that names nothing."""
    return {"Object": {"@odata.id": "x"}, "ObjectArray": [],
            "Boolean": False}.get(param["DataType"], "x")


def test_action_info(d, state):
    n = 0
    for uri, name, action in oem_actions(state["resources"]):
        ns, verb = name[1:].split(".")
        declared = csdl_of(ns)[verb]
        binding = list(declared)[0]
        _, info = get(d, action["@Redfish.ActionInfo"])
        params = {p["Name"]: p for p in info["Parameters"]}
        check(set(params) == set(declared) - {binding}, "%s: %s" % (name, sorted(params)))
        for pname, p in params.items():
            required = declared[pname].find(EDM + "Annotation[@Term='Redfish.Required']")
            check(p["Required"] == (required is not None), "%s %s Required" % (name, pname))
            listed = action.get(pname + "@Redfish.AllowableValues")
            check(p.get("AllowableValues") == listed, "%s %s values" % (name, pname))
        # What the action accepts: nothing unknown, nothing required missing,
        # no value outside the list (checked before anything is submitted).
        status, _, err = d.request("POST", action["target"], {"Bogus": 1})
        check(status == 400 and "ActionParameterUnknown" in json.dumps(err), err)
        for pname, p in params.items():
            # The other required parameters, of their type (a wrong type
            # would be the error found first).
            body = {k: placeholder(q) for k, q in params.items() if q["Required"] and k != pname}
            if p["Required"]:
                status, _, err = d.request("POST", action["target"], body)
                check(status == 400 and "ActionParameterMissing" in json.dumps(err), err)
            if p.get("AllowableValues"):
                status, _, err = d.request("POST", action["target"], dict(body, **{pname: "Nope"}))
                check(status == 400 and "ActionParameterValueNotInList" in json.dumps(err), err)
        n += 1
    check(n > 2, "OEM actions found: %d" % n)
    get(d, SYSTEMS + "/nope/ReplaceActionInfo", expect=404)
    get(d, BLOCKS + "nope/PowerActionInfo", expect=404)


def compose(d):
    status, _, body = d.request("POST", SYSTEMS, {
        "Name": "web", "Links": {"ResourceBlocks": [{"@odata.id": BLOCKS + "s0-cpu0"},
                                                    {"@odata.id": BLOCKS + "s0-mem0"}]}})
    check(status == 201, "create: %d %s" % (status, body))
    status, hdrs, body = d.request("POST", SYSTEMS + "/web/Actions/ComputerSystem.Reset",
                                   {"ResetType": "On"})
    check(status == 202, "start: %d %s" % (status, body))
    d.wait_task(hdrs["location"])


def main():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    validate = schema_validator()
    cases = [("walk", test_walk), ("$metadata", test_metadata), ("schema files", test_files),
             ("CSDL matches JSON Schema", test_csdl_matches_json),
             ("JsonSchemas", test_jsonschemas), ("ActionInfo", test_action_info)]
    if validate is None:
        for name, _ in cases:
            results.skip(name, "python3-jsonschema is missing")
        return
    try:
        d = Dhpd(build, args=FAST).start()
    except Skip as s:
        for name, _ in cases:
            results.skip(name, str(s))
        return
    state = {"resources": {}}
    try:
        compose(d)
        results.case("walk", test_walk, d, validate, state)
        for name, fn in cases[1:]:
            results.case(name, fn, d, state)
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
    results.done()
