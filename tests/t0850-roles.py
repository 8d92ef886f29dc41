# SPDX-License-Identifier: MIT
"""The role x endpoint matrix: each role on each mutating endpoint is either
allowed or refused with 403, as its Redfish privileges say; and sessions
are created, used, expire when idle, and are deleted."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
V1 = "/redfish/v1"
ROLES = {"Administrator": "admin2", "Operator": "operator", "ReadOnly": "viewer"}
PASSWORD = "role-pass-1234"

# Every mutating endpoint, with the privilege it needs. The targets do not
# exist (or the bodies are empty), so an allowed request ends in 400 or 404
# and changes nothing; a refused one ends in 403 before it is looked at.
MATRIX = [
    ("POST", V1 + "/Systems", {}, "ConfigureComponents"),
    ("PATCH", V1 + "/Systems/nope", {}, "ConfigureComponents"),
    ("DELETE", V1 + "/Systems/nope", None, "ConfigureComponents"),
    ("POST", V1 + "/Systems/nope/Actions/ComputerSystem.Reset", {}, "ConfigureComponents"),
    ("POST", V1 + "/Systems/nope/Actions/ComputerSystem.AddResourceBlock", {},
     "ConfigureComponents"),
    ("POST", V1 + "/Systems/nope/Actions/ComputerSystem.RemoveResourceBlock", {},
     "ConfigureComponents"),
    ("POST", V1 + "/Systems/nope/Actions/Oem/DhpComputerSystem.Replace", {},
     "ConfigureComponents"),
    ("POST", V1 + "/CompositionService/ResourceBlocks/nope/Actions/Oem/DhpResourceBlock.Power",
     {}, "ConfigureComponents"),
    ("POST", V1 + "/AccountService/Accounts", {}, "ConfigureUsers"),
    ("PATCH", V1 + "/AccountService/Accounts/nope", {}, "ConfigureUsers"),
    ("DELETE", V1 + "/AccountService/Accounts/nope", None, "ConfigureUsers"),
    ("DELETE", V1 + "/TaskService/Tasks/999999", None, "ConfigureManager"),
]
# Sessions: deleting one's own needs ConfigureSelf (every role), someone
# else's ConfigureManager; test_other_session checks both on real sessions.

PRIVILEGES = {
    "Administrator": {"ConfigureComponents", "ConfigureUsers", "ConfigureManager"},
    "Operator": {"ConfigureComponents"},
    "ReadOnly": set(),
}


def make_accounts(d):
    for role, user in ROLES.items():
        status, _, _ = d.request("POST", V1 + "/AccountService/Accounts", {
            "UserName": user, "Password": PASSWORD, "RoleId": role})
        check(status == 201, "create %s: %d" % (user, status))


def matrix_case(d, role, method, path, body, privilege):
    status, _, doc = d.request(method, path, body, user=ROLES[role], password=PASSWORD)
    allowed = privilege in PRIVILEGES[role]
    if allowed:
        check(status not in (401, 403), "%s %s as %s: %d" % (method, path, role, status))
    else:
        check(status == 403, "%s %s as %s: %d, expected 403" % (method, path, role, status))
        check("InsufficientPrivilege" in doc["error"]["code"], "message id")


def own_password(d, role):
    """ConfigureSelf: every role may change its own password."""
    user = ROLES[role]
    status, _, _ = d.request("PATCH", V1 + "/AccountService/Accounts/" + user,
                             {"Password": PASSWORD + "x"}, user=user, password=PASSWORD)
    check(status in (200, 204), "%s changing its password: %d" % (role, status))
    status, _, _ = d.request("PATCH", V1 + "/AccountService/Accounts/" + user,
                             {"Password": PASSWORD}, user=user, password=PASSWORD + "x")
    check(status in (200, 204), "%s changing it back: %d" % (role, status))


def login(d, user, password):
    status, headers, doc = d.request("POST", V1 + "/SessionService/Sessions",
                                     {"UserName": user, "Password": password}, user=None)
    check(status == 201, "login: %d" % status)
    return headers["x-auth-token"], headers["location"]


def test_session_lifecycle(d):
    token, location = login(d, "operator", PASSWORD)
    status, _, doc = d.request("GET", location, token=token)
    check(status == 200 and doc["UserName"] == "operator", "read own session")
    check("Password" not in doc, "no password in the session")
    status, _, _ = d.request("GET", V1 + "/Systems", token=token)
    check(status == 200, "use the session")
    status, _, _ = d.request("DELETE", location, token=token)
    check(status == 204, "log out: %d" % status)
    status, _, _ = d.request("GET", V1 + "/Systems", token=token)
    check(status == 401, "a deleted session is refused: %d" % status)


def test_session_expiry(d):
    token, _ = login(d, "viewer", PASSWORD)
    status, _, _ = d.request("GET", V1 + "/Systems", token=token)
    check(status == 200, "fresh session works")
    time.sleep(2.5)   # dhpd runs with a 2 s idle timeout here
    status, _, _ = d.request("GET", V1 + "/Systems", token=token)
    check(status == 401, "an idle session expires: %d" % status)


def test_other_session(d):
    """Deleting someone else's session needs ConfigureManager."""
    _, location = login(d, "admin2", PASSWORD)
    status, _, _ = d.request("DELETE", location, user="operator", password=PASSWORD)
    check(status == 403, "operator deleting admin2's session: %d" % status)
    status, _, _ = d.request("DELETE", location)
    check(status == 204, "admin deleting it: %d" % status)


def main():
    try:
        d = Dhpd(build, args=["--hash-iterations", "1000", "--session-timeout-s", "2"]).start()
    except Skip as s:
        results.skip("role matrix", str(s))
        results.done()
    try:
        results.case("accounts for each role", make_accounts, d)
        for role in ROLES:
            for method, path, body, privilege in MATRIX:
                results.case("%s %s %s" % (role, method, path[len(V1):]), matrix_case, d, role,
                             method, path, body, privilege)
            results.case("%s changes its own password" % role, own_password, d, role)
        results.case("session: create, use, delete", test_session_lifecycle, d)
        results.case("session: idle expiry", test_session_expiry, d)
        results.case("session: another's needs ConfigureManager", test_other_session, d)
    finally:
        d.cleanup()


main()
results.done()
