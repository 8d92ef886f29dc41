# SPDX-License-Identifier: MIT
"""The web console (docs/console.md) driven as a user would, in headless
Chromium through chromedriver, on a real dhpd (simulated demo server,
HTTPS): log in, the map, compose a partition on it, start it, hot add a
processor and watch its phases arrive live, a veto's reason (carrying
markup) shown as text, a disabled action's reason, a ReadOnly user with no
action, the stream resumed without a gap, an ended session back at the
login, log out (the token dies). Also the static files' headers and path
traversal. Screenshots of each step go to BUILD/console-shots/ at
1280x800, and some at phone width (390x844).

Skips when chromium, chromedriver or python3-selenium is missing. Stops
everything it starts: chromedriver and its Chromium (driver.quit), dhpd.

Usage: /usr/bin/python3 tests/t0960-console.py BUILD_DIR"""

import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import Dhpd, Results, check  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
V1 = "/redfish/v1"
BLOCKS = V1 + "/CompositionService/ResourceBlocks/"
XSS = "<img src=x onerror=window.__xss=1>"
# s1-cpu1's online is slow, so that its hot add is seen running; s1-mem1's
# remove is vetoed once with markup as the reason.
FAULTS = "online@s1-cpu1=slow:1500*1,notify:remove-query@s1-mem1=veto:" + XSS + "*1"


def missing():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return "%s is not installed (scripts/install-deps installs chromium, chromium-driver)" % path
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed"
    return None


class Browser:
    """A headless Chromium as a user: waits, clicks, screenshots."""

    def __init__(self, shots):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1280,800", "--ignore-certificate-errors", "--no-first-run",
                  "--disable-extensions", "--disable-background-networking"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.shots = shots
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.phone(False)
        self.logs = []

    def quit(self):
        self.driver.quit()

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, what, fn, timeout=15):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = fn()
                if last:
                    return last
            except Exception as e:  # a redraw replaced the element: try again
                last = e
            time.sleep(0.05)
        self.shot("failed-" + what.replace(" ", "-")[:40])
        raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def count(self, css):
        return self.js("return document.querySelectorAll(arguments[0]).length", css)

    def click(self, css):
        """Click as a user does; events redraw the page, so retry a stale element."""
        from selenium.common.exceptions import StaleElementReferenceException, NoSuchElementException

        def attempt():
            try:
                el = self.find(css)
                if not el.is_enabled():
                    return False
                el.click()
                return True
            except (StaleElementReferenceException, NoSuchElementException):
                return False
        self.wait("click " + css, attempt)

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", css)

    def confirm(self, shot=None):
        self.wait("the confirmation", lambda: self.js("return document.querySelector('#confirm').open"))
        if shot:
            self.shot(shot)
        self.click("#confirm-ok")
        self.wait("the dialog to close", lambda: not self.js("return document.querySelector('#confirm').open"))

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.shots, name + ".png"))

    def phone(self, on):
        """The viewport itself (not the window) at 390x844 (a phone, touch) or 1280x800."""
        w, h = (390, 844) if on else (1280, 800)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": on})
        time.sleep(0.3)

    def tab(self, name):
        self.click("#tab-btn-" + name)

    def login(self, url, user, password):
        from selenium.webdriver.common.by import By
        self.driver.get(url)
        self.wait("the login form", lambda: self.find("#login-user").is_displayed())
        self.find("#login-user").clear()
        self.find("#login-user").send_keys(user)
        self.driver.find_element(By.ID, "login-password").send_keys(password)
        self.click("#login-submit")
        self.wait("the map", lambda: self.js("return document.body.dataset.loaded === 'true'") and
                  self.count("#map-grid .socket") > 0)

    def drain_logs(self):
        """The browser's console lines since the last call."""
        new = self.driver.get_log("browser")
        self.logs += new
        return new

    def tokens(self):
        """X-Auth-Token values the page sent (from Chrome's network log)."""
        found = []
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                headers = msg["params"]["request"].get("headers", {})
                for k, v in headers.items():
                    if k.lower() == "x-auth-token":
                        found.append((msg["params"]["request"]["url"], v))
        return found


def sessions(d):
    _, _, doc = d.request("GET", V1 + "/SessionService/Sessions")
    return [m["@odata.id"] for m in doc["Members"]]


def main():
    res = Results()
    why = missing()
    if why:
        res.skip("console", why)
        res.done()
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    shots = os.path.join(build, "console-shots")
    shutil.rmtree(shots, ignore_errors=True)
    os.makedirs(shots)
    d = Dhpd(build, args=["--hash-iterations", "1000", "--sim-latency-ms", "30",
                          "--sim-faults", FAULTS]).start()
    b = None
    try:
        url = "https://127.0.0.1:%d/console/" % d.port
        res.case("headers and paths", static_files, d)
        b = Browser(shots)
        steps = [
            ("log in and see the map", login_map),
            ("compose a partition on the map", compose),
            ("start it", start),
            ("hot add a processor, phases live", hot_add),
            ("a veto's reason is text, nothing runs", veto),
            ("a disabled action shows its reason", disabled_reason),
            ("drag a free tile onto a partition", drag),
            ("a list in use is not redrawn under the user", held_list),
            ("the stream resumes without a gap", resume),
            ("phone width", phone),
            ("log out: the token is dead", logout),
            ("ReadOnly: no action enabled", read_only),
            ("an ended session returns to the login", expired),
            ("no script error, no CSP violation", clean_console),
        ]
        ok = True
        for name, fn in steps:
            if not ok:
                res.skip(name, "an earlier step failed")
                continue
            before = res.failed
            res.case(name, fn, d, b, url)
            ok = res.failed == before
    finally:
        if b:
            b.quit()
        d.cleanup()
    res.done()


def static_files(d):
    for path in ("/console/", "/console/main.js", "/console/console.css"):
        status, h, _ = d.request("GET", path, user=None)
        check(status == 200, "%s: %d" % (path, status))
        check("default-src 'self'" in h.get("content-security-policy", ""), "%s: no CSP" % path)
        check("unsafe-inline" not in h["content-security-policy"], "CSP allows inline")
        check(h.get("x-content-type-options") == "nosniff", "%s: no nosniff" % path)
        check(h.get("cache-control") == "no-cache", "%s: Cache-Control %r" % (path, h.get("cache-control")))
        status, h2, _ = d.request("GET", path, user=None, headers={"If-None-Match": h["etag"]})
        check(status == 304, "%s with its ETag: %d" % (path, status))
    check(d.request("GET", "/console/main.js", user=None)[1]["content-type"].startswith("text/javascript"),
          "main.js is not text/javascript")
    status, h, _ = d.request("GET", "/console", user=None)
    check(status == 301 and h.get("location") == "/console/", "/console: %d %r" % (status, h.get("location")))
    for path in ("/console/../state.db", "/console/%2e%2e/state.db", "/console/%2e%2e%2fstate.db",
                 "/console/..%2fdhpd.lock", "/console/../../etc/passwd", "/console/.%2e/tls/key.pem",
                 "/console/.hidden", "/console/nope.js", "/console/index.html/x"):
        status, _, body = d.request("GET", path, user=None)
        check(status == 404, "%s: %d" % (path, status))
        check("PRIVATE KEY" not in str(body) and "SQLite" not in str(body), "%s leaked a file" % path)
    status, h, _ = d.request("POST", "/console/", user=None)
    check(status == 405 and h.get("allow") == "GET, HEAD", "POST /console/: %d" % status)
    # The API is as it was: its answers keep their own headers.
    status, h, _ = d.request("GET", V1)
    check(status == 200 and h.get("cache-control") == "no-store", "the API's Cache-Control changed")


def login_map(d, b, url):
    b.driver.get(url)
    b.wait("the login form", lambda: b.find("#login-user").is_displayed())
    b.shot("01-login")
    b.login(url, "admin", d.password)
    check(b.count("#map-grid .socket") == 4, "4 sockets expected")
    check(b.count("#map-grid .tile") == 36, "36 tiles expected, %d" % b.count("#map-grid .tile"))
    b.wait("the stream", lambda: "live" in (b.text("#stream-state") or ""))
    # Focus shows a unit's resource in the inspector.
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    ActionChains(b.driver).move_to_element(b.find('.tile[data-unit="s2-mem3"]')).perform()
    b.wait("the inspector (hover)", lambda: "s2-mem3" in (b.text("#inspector") or ""))
    b.find('.tile[data-unit="s0-cpu1"]').send_keys(Keys.SHIFT)  # focus, as Tab would
    b.wait("the inspector (focus)", lambda: "s0-cpu1" in (b.text("#inspector") or ""))
    b.find('.tile[data-unit="s2-mem3"]').send_keys(Keys.SHIFT)
    b.wait("the inspector (focus)", lambda: "s2-mem3" in (b.text("#inspector") or ""))
    check("2 GiB" in b.text("#inspector"), "the inspector does not say the capacity")
    b.shot("02-map")


def compose(d, b, url):
    b.click("#compose-start")
    for unit in ("s1-cpu0", "s1-mem0", "s1-mem1"):
        b.click('.tile[data-unit="%s"]' % unit)
    b.wait("3 picked", lambda: b.count('.tile[aria-pressed="true"]') == 3)
    b.find("#compose-name").send_keys("web")
    b.shot("03-compose")
    b.click("#compose-create")
    b.confirm("04-compose-confirm")
    b.wait("web in the API", lambda: d.request("GET", V1 + "/Systems/web")[0] == 200)
    b.wait("web's tiles", lambda: b.text('.tile[data-unit="s1-cpu0"] .t-owner') == "web")
    b.shot("05-composed")


def start(d, b, url):
    b.tab("partitions")
    b.click('button[data-action="start"][data-partition="web"]')
    b.confirm()
    b.wait("web running", lambda: b.text('article[data-partition="web"] .state') == "running")
    b.shot("06-started")


def hot_add(d, b, url):
    from selenium.webdriver.support.ui import Select
    sel = 'select[data-add-unit="web"]'
    b.wait("the add list", lambda: Select(b.find(sel)).select_by_value("s1-cpu1") or
           b.find(sel).get_attribute("value") == "s1-cpu1")
    b.click('button[data-action="add"][data-partition="web"]')
    b.confirm("07-hot-add-confirm")
    # Its phases arrive while it runs (the online phase takes 1.5 s).
    b.wait("phases of the running hot add", lambda: b.count("#ops-running .op") == 1 and
           b.count("#ops-running .op .phases li") >= 2 and "hot-add" in b.text("#ops-running .op-head") and
           "running" in (b.text('article[data-partition="web"] .busy') or ""))
    check(b.find('button[data-action="stop"][data-partition="web"]').get_attribute("disabled") is not None,
          "stop is enabled while an operation runs")
    b.shot("08-hot-add-running")
    phases = b.js("return [...document.querySelectorAll('#ops-running .op .phases li')].map(e => e.textContent)")
    check(any("hot-add" in p for p in phases), "no hot-add phase: %r" % phases)
    b.wait("the hot add to end", lambda: b.count("#ops-running .op") == 0)
    b.tab("map")
    b.wait("s1-cpu1 in web", lambda: b.text('.tile[data-unit="s1-cpu1"] .t-owner') == "web")
    b.tab("operations")
    b.wait("completed in the history", lambda: "completed" in (b.text("#ops-history .op") or ""))
    b.shot("09-hot-add-done")


def veto(d, b, url):
    b.tab("partitions")
    b.click('article[data-partition="web"] button[data-action="remove"][data-unit="s1-mem1"]')
    b.confirm()
    b.wait("the veto's notice", lambda: XSS in (b.text("#notices") or ""))
    b.shot("10-veto")
    check(b.js("return window.__xss") is None, "the veto's markup ran")
    check(b.count("img") == 0, "the veto's markup became an element")
    b.tab("operations")
    b.wait("the veto in the history", lambda: XSS in (b.text("#ops-history") or ""))
    check(b.count("img") == 0, "markup became an element in the history")
    b.tab("events")
    b.wait("the veto in the events", lambda: XSS in (b.text("#events-list") or ""))
    check(b.count("img") == 0 and b.js("return window.__xss") is None, "markup ran in the events")
    b.shot("11-veto-events")


def disabled_reason(d, b, url):
    body = {"Name": "win", "Links": {"ResourceBlocks": [{"@odata.id": BLOCKS + u} for u in
                                                         ("s2-cpu0", "s2-mem0", "s2-mem1")]},
            "Oem": {"Dhp": {"OsProfile": "windows-server-2008-x64"}}}
    status, _, _ = d.request("POST", V1 + "/Systems", body)
    check(status == 201, "create win: %d" % status)
    b.wait("win stopped", lambda: d.request("GET", V1 + "/Systems/win")[2]["Oem"]["Dhp"]["Task"] is None)
    status, h, _ = d.request("POST", V1 + "/Systems/win/Actions/ComputerSystem.Reset", {"ResetType": "On"})
    d.wait_task(h["location"])
    b.tab("partitions")
    sel = 'article[data-partition="win"] button[data-action="remove"][data-unit="s2-mem1"]'
    b.wait("win running in the console", lambda: b.text('article[data-partition="win"] .state') == "running")
    b.wait("the remove disabled", lambda: b.find(sel).get_attribute("disabled") is not None)
    reason = b.js("const e = document.querySelector(arguments[0]); "
                  "return document.getElementById(e.getAttribute('aria-describedby')).textContent", sel)
    check("windows-server-2008-x64 cannot hot remove" in reason, "reason: %r" % reason)
    b.js("document.querySelector(arguments[0]).scrollIntoView()", 'article[data-partition="win"]')
    b.shot("12-disabled-reason")
    # The API refuses it all the same.
    status, _, _ = d.request("POST", V1 + "/Systems/win/Actions/ComputerSystem.RemoveResourceBlock",
                             {"ResourceBlock": {"@odata.id": BLOCKS + "s2-mem1"}})
    check(status in (400, 409), "the API took a hot remove the profile forbids: %d" % status)


def drag(d, b, url):
    # Chromium's HTML drag and drop, as its own events (WebDriver's mouse
    # actions do not start one).
    b.tab("map")
    b.wait("the legend", lambda: b.count('[data-drop="web"]') == 1)
    b.js("""const dt = new DataTransfer();
        const ev = (t) => new DragEvent(t, {dataTransfer: dt, bubbles: true, cancelable: true});
        document.querySelector('.tile[data-unit="s1-cpu2"]').dispatchEvent(ev('dragstart'));
        const to = document.querySelector('[data-drop="web"]');
        to.dispatchEvent(ev('dragover'));
        to.dispatchEvent(ev('drop'));""")
    b.confirm("13-drag-confirm")
    b.wait("s1-cpu2 in web", lambda: b.text('.tile[data-unit="s1-cpu2"] .t-owner') == "web")
    check(b.js("return document.querySelector('.tile[data-unit=\"s1-cpu2\"]').draggable") is False,
          "an owned tile is draggable")
    check(b.js("return document.querySelector('.tile[data-unit=\"s1-cpu3\"]').draggable") is True,
          "a free tile is not draggable")


def held_list(d, b, url):
    from selenium.webdriver.common.keys import Keys
    b.tab("partitions")
    sel = 'select[data-add-unit="web"]'
    b.wait("the add list", lambda: b.find(sel).is_enabled())
    b.find(sel).send_keys(Keys.SHIFT)  # focus it, as a user opening it does
    b.js("window.__held = document.activeElement")
    check(b.js("return window.__held.matches(arguments[0])", sel), "the list has no focus")
    # Something changes meanwhile: a free unit powered on and off.
    for state in ("On", "Off"):
        status, h, _ = d.request("POST", BLOCKS + "s3-mem3/Actions/Oem/DhpResourceBlock.Power",
                                 {"PowerState": state})
        check(status == 202, "power %s: %d" % (state, status))
        d.wait_task(h["location"])
    time.sleep(0.5)
    check(b.js("return document.contains(window.__held) && document.activeElement === window.__held"),
          "the list was redrawn while in use")
    b.find("#tab-btn-partitions").click()  # leave the list: the view is drawn again
    b.wait("the redraw", lambda: b.js("return !document.contains(window.__held)"))


def seqs(b):
    return b.js("return [...document.querySelectorAll('#events-list tr td:first-child')]"
                ".map(e => Number(e.textContent)).filter(n => n > 0)")


def resume(d, b, url):
    b.tab("events")
    before = max(seqs(b))
    # Lose the stream; things happen meanwhile; it comes back.
    b.js("window.dispatchEvent(new Event('dhp-drop-stream'))")
    status, h, _ = d.request("POST", V1 + "/Systems/web/Actions/ComputerSystem.AddResourceBlock",
                             {"ResourceBlock": {"@odata.id": BLOCKS + "s1-mem2"}})
    check(status == 202, "hot add: %d" % status)
    task = d.wait_task(h["location"])
    last = max(m["Oem"]["Dhp"]["Seq"] for m in task["Messages"])
    b.wait("the events after the loss", lambda: max(seqs(b)) >= last)
    got = sorted(seqs(b))
    want = list(range(got[0], got[-1] + 1))
    check(got == want, "gap or duplicate in the events: %r" % got)
    check(last > before, "no event while the stream was lost")
    b.wait("the stream live again", lambda: "live" in (b.text("#stream-state") or ""))
    b.tab("map")
    b.wait("s1-mem2 in web on the map", lambda: b.text('.tile[data-unit="s1-mem2"] .t-owner') == "web")
    b.shot("14-resumed")


def phone(d, b, url):
    b.phone(True)
    b.tab("map")
    b.shot("15-phone-map")
    b.tab("partitions")
    b.shot("16-phone-partitions")
    width = b.js("return document.documentElement.scrollWidth")
    check(width <= 390, "the page is %d px wide at phone width" % width)
    b.phone(False)


def logout(d, b, url):
    b.drain_logs()
    b.tokens()  # forget the earlier requests
    b.tab("map")
    b.js("window.dispatchEvent(new Event('dhp-drop-stream'))")  # one request with the token
    b.wait("the stream live again", lambda: "live" in (b.text("#stream-state") or ""))
    tokens = {t for _, t in b.tokens()}
    check(len(tokens) == 1, "one session token expected, saw %d" % len(tokens))
    token = tokens.pop()
    check(d.request("GET", V1 + "/Systems", token=token)[0] == 200, "the token does not work")
    check(len(sessions(d)) == 1, "one session expected")
    b.click("#logout")
    b.wait("the login form", lambda: b.find("#login-user").is_displayed())
    check(d.request("GET", V1 + "/Systems", token=token)[0] == 401, "the token still works")
    check(sessions(d) == [], "the session is still there")
    # Never in a URL, nor in storage that outlives the tab.
    check(all(token not in u for u, _ in b.tokens()), "the token was in a URL")
    check(b.js("return localStorage.length + sessionStorage.length + document.cookie.length") == 0,
          "the console stored something")
    b.shot("17-logged-out")


def read_only(d, b, url):
    status, _, _ = d.request("POST", V1 + "/AccountService/Accounts",
                             {"UserName": "viewer", "Password": "viewer-pass-1", "RoleId": "ReadOnly"})
    check(status == 201, "create viewer: %d" % status)
    b.login(url, "viewer", "viewer-pass-1")
    check("ReadOnly" in b.text("#who"), "the role is not shown")
    check(b.find("#compose-start").get_attribute("disabled") is not None, "compose enabled")
    b.click('.tile[data-unit="s3-cpu0"]')
    b.tab("partitions")
    b.wait("the partitions", lambda: b.count("article[data-partition]") == 2)
    enabled = b.js("return [...document.querySelectorAll('button[data-action]')].filter(e => !e.disabled)"
                   ".map(e => e.dataset.action + ' ' + (e.dataset.partition || e.dataset.unit))")
    check(enabled == [], "enabled for ReadOnly: %r" % enabled)
    check(b.count("button[data-action]") >= 10, "the actions are not shown (disabled)")
    check("ConfigureComponents" in b.text('article[data-partition="web"] .reason'), "no role reason")
    b.shot("18-readonly")


def expired(d, b, url):
    # An administrator ends the viewer's session; the console finds out at
    # its next request (here: the stream's reconnection).
    for s in sessions(d):
        check(d.request("DELETE", s)[0] == 204, "delete session")
    b.js("window.dispatchEvent(new Event('dhp-drop-stream'))")
    b.wait("the login with a message", lambda: b.find("#login-user").is_displayed() and
           "session has ended" in (b.text("#login-message") or ""))
    b.shot("19-session-ended")


def clean_console(d, b, url):
    lines = b.logs + b.drain_logs()
    bad = [e["message"] for e in lines if "Content Security Policy" in e["message"] or
           "Uncaught" in e["message"] or "TypeError" in e["message"]]
    check(not bad, "browser errors: %r" % bad)


if __name__ == "__main__":
    main()
