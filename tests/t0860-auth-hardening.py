# SPDX-License-Identifier: MIT
"""Hardening of accounts and sessions over HTTP (docs/auth.md): a new
password ends the account's other sessions; every failed login looks the
same; failures block their source address (429), not the account, so the
administrator still logs in from elsewhere; one user cannot take every
session; a NUL in a Basic password is refused, not cut; account names
ignore case. Each source is its own loopback address (127.0.0.x)."""

import base64
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, Skip, check  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
V1 = "/redfish/v1"
ACCOUNTS = V1 + "/AccountService/Accounts"
SESSIONS = V1 + "/SessionService/Sessions"
PASSWORD = "harden-pass-1234"


def req(d, src, method, path, body=None, user=None, password=None, token=None, raw_cred=None):
    """One request from loopback address src; (status, headers, doc)."""
    h = {}
    if token:
        h["X-Auth-Token"] = token
    elif raw_cred is not None:
        h["Authorization"] = "Basic " + base64.b64encode(raw_cred).decode()
    elif user is not None:
        cred = "%s:%s" % (user, password)
        h["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if d.scheme == "https":
        conn = http.client.HTTPSConnection("127.0.0.1", d.port, timeout=30,
                                           context=d.context(), source_address=(src, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30,
                                          source_address=(src, 0))
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        doc = json.loads(text) if text else None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, doc
    finally:
        conn.close()


def login(d, src, user, password):
    return req(d, src, "POST", SESSIONS, {"UserName": user, "Password": password})


def make_account(d, user, role="ReadOnly"):
    status, _, _ = d.request("POST", ACCOUNTS, {"UserName": user, "Password": PASSWORD,
                                                "RoleId": role})
    check(status == 201, "create %s: %d" % (user, status))


def message(doc):
    return doc["error"]["@Message.ExtendedInfo"][0]["Message"]


def test_password_change_ends_sessions(d):
    make_account(d, "pwuser")
    tokens = []
    for _ in range(2):
        status, h, _ = login(d, "127.0.0.1", "pwuser", PASSWORD)
        check(status == 201, "login: %d" % status)
        tokens.append(h["x-auth-token"])
    status, _, _ = req(d, "127.0.0.1", "PATCH", ACCOUNTS + "/pwuser",
                       {"Password": PASSWORD + "2"}, token=tokens[0])
    check(status == 200, "own password change: %d" % status)
    check(req(d, "127.0.0.1", "GET", V1 + "/Systems", token=tokens[0])[0] == 200,
          "the session that made the change stays")
    status = req(d, "127.0.0.1", "GET", V1 + "/Systems", token=tokens[1])[0]
    check(status == 401, "the other session ends: %d" % status)
    status, _, _ = d.request("PATCH", ACCOUNTS + "/pwuser", {"Password": PASSWORD + "3"})
    check(status == 200, "admin's change: %d" % status)
    status = req(d, "127.0.0.1", "GET", V1 + "/Systems", token=tokens[0])[0]
    check(status == 401, "an administrator's change ends every session: %d" % status)


def test_failures_look_alike(d):
    make_account(d, "gone")
    status, _, _ = d.request("PATCH", ACCOUNTS + "/gone", {"Enabled": False})
    check(status == 200, "disable: %d" % status)
    # A disabled account's right password answers as a wrong one.
    s1, _, d1 = login(d, "127.0.0.2", "gone", PASSWORD)
    s2, _, d2 = login(d, "127.0.0.2", "gone", "wrong-password")
    check(s1 == s2 == 401 and message(d1) == message(d2),
          "disabled: %d %r / %d %r" % (s1, message(d1), s2, message(d2)))
    # After many failures a real and an unknown name answer alike.
    for _ in range(6):
        sa, _, da = login(d, "127.0.0.3", "admin", "wrong-password")
        sb, _, db = login(d, "127.0.0.4", "no-such-user", "wrong-password")
        check(sa == sb and message(da) == message(db),
              "admin %d %r, unknown %d %r" % (sa, message(da), sb, message(db)))


def test_admin_not_locked_out(d):
    for _ in range(12):
        status = req(d, "127.0.0.5", "GET", V1 + "/Systems", user="admin",
                     password="guess-guess")[0]
        check(status in (401, 429), "a guess: %d" % status)
    status, h, doc = req(d, "127.0.0.5", "GET", V1 + "/Systems", user="admin",
                         password=d.password)
    check(status == 429 and int(h["retry-after"]) > 0,
          "the guessing address is blocked: %d %r" % (status, h.get("retry-after")))
    status = req(d, "127.0.0.1", "GET", V1 + "/Systems", user="admin", password=d.password)[0]
    check(status == 200, "the administrator elsewhere is not locked out: %d" % status)
    status, _, doc = d.request("GET", ACCOUNTS + "/admin")
    check(status == 200 and doc["Locked"] is True, "Locked shows it: %r" % doc.get("Locked"))


def test_session_cap(d):
    make_account(d, "hog")
    for i in range(16):
        status = login(d, "127.0.0.6", "hog", PASSWORD)[0]
        check(status == 201, "session %d: %d" % (i + 1, status))
    status, _, doc = login(d, "127.0.0.6", "hog", PASSWORD)
    check(status == 503 and "16 sessions" in message(doc),
          "the 17th: %d %s" % (status, doc and message(doc)))
    status = login(d, "127.0.0.1", "admin", d.password)[0]
    check(status == 201, "the administrator logs in: %d" % status)


def test_session_cap_option(_):
    """--max-sessions-per-user sets the cap (a dhpd of its own)."""
    d = Dhpd(build, args=["--hash-iterations", "1000", "--max-sessions-per-user", "2"]).start()
    try:
        make_account(d, "pair")
        for i in range(2):
            status = login(d, "127.0.0.7", "pair", PASSWORD)[0]
            check(status == 201, "session %d: %d" % (i + 1, status))
        status, _, doc = login(d, "127.0.0.7", "pair", PASSWORD)
        check(status == 503 and "2 sessions" in message(doc),
              "the 3rd: %d %s" % (status, doc and message(doc)))
    finally:
        d.cleanup()


def test_nul_in_basic_password(d):
    cred = b"admin:" + d.password.encode() + b"\0anything"
    status = req(d, "127.0.0.7", "GET", V1 + "/Systems", raw_cred=cred)[0]
    check(status == 401, "a password with a NUL is not cut: %d" % status)
    status = req(d, "127.0.0.7", "GET", V1 + "/Systems",
                 raw_cred=b"admin:" + d.password.encode())[0]
    check(status == 200, "the password itself works: %d" % status)


def test_names_ignore_case(d):
    status, _, _ = d.request("POST", ACCOUNTS, {"UserName": "ADMIN", "Password": PASSWORD,
                                                "RoleId": "ReadOnly"})
    check(status == 409, "ADMIN next to admin: %d" % status)
    status = req(d, "127.0.0.8", "GET", V1 + "/Systems", user="Admin",
                 password=d.password)[0]
    check(status == 200, "logging in ignores case too: %d" % status)


CASES = [
    ("a new password ends the other sessions", test_password_change_ends_sessions),
    ("every failed login looks alike", test_failures_look_alike),
    ("failures block the source, not the administrator", test_admin_not_locked_out),
    ("one user cannot take every session", test_session_cap),
    ("--max-sessions-per-user sets the cap", test_session_cap_option),
    ("a NUL in a Basic password is refused", test_nul_in_basic_password),
    ("account names ignore case", test_names_ignore_case),
]


def main():
    # T0860_ONLY=substring runs the matching cases alone (each on a dhpd of
    # its own then), e.g. to show one failing on an older build.
    only = os.environ.get("T0860_ONLY")
    cases = [c for c in CASES if not only or only in c[0]]
    try:
        d = Dhpd(build, args=["--hash-iterations", "1000"]).start()
    except Skip as s:
        results.skip("auth hardening", str(s))
        results.done()
    try:
        for name, fn in cases:
            results.case(name, fn, d)
    finally:
        d.cleanup()


main()
results.done()
