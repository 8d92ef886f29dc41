# SPDX-License-Identifier: MIT
"""The web console on the largest server (topologies/large: 32 sockets,
12,544 units) in headless Chromium: the time from the login's submit to the
server map drawn (issue 13's target: 1 s), the time to open a socket (its
392 units read one by one), and the console's own bytes on first load
(target: 200 KiB). Usage: /usr/bin/python3 bench/console.py BUILD.
A measurement, not a test: nothing asserts on time; without Chromium it
prints why and exits 0."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from dhptest import Dhpd  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
ROUNDS = 3


def row(name, value, unit="", target="", verdict=""):
    """A row of scripts/run-bench's table."""
    print("%-40s %12s  %-6s %-10s %s" % (name, value, unit, target, verdict), flush=True)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--ignore-certificate-errors", "--window-size=1280,800"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def until(drv, script, timeout=60):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if drv.execute_script(script):
            return time.perf_counter()
        time.sleep(0.005)
    raise RuntimeError("timed out: " + script)


def login_to_map(drv, url, password):
    drv.get(url)
    until(drv, "return !!document.querySelector('#login-user')")
    drv.execute_script("document.querySelector('#login-user').value = 'admin';"
                       "document.querySelector('#login-password').value = arguments[0];", password)
    t0 = time.perf_counter()
    drv.execute_script("document.querySelector('#login-submit').click()")
    t1 = until(drv, "return document.body.dataset.loaded === 'true' && "
                    "document.querySelectorAll('#map-grid .socket').length === 32")
    return t1 - t0


def main():
    for path in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.path.exists(path):
            print("# console: skipped: %s is missing (scripts/install-deps)" % path)
            return
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("# console: skipped: python3-selenium is missing")
        return
    d = Dhpd(build, topology="topologies/large").start(timeout=300)
    drv = None
    try:
        drv = browser()
        url = "https://127.0.0.1:%d/console/" % d.port
        renders, opens = [], []
        for _ in range(ROUNDS):
            renders.append(login_to_map(drv, url, d.password))
            t0 = time.perf_counter()
            drv.execute_script("document.querySelector('#map-grid .socket button').click()")
            t1 = until(drv, "return document.querySelectorAll('#map-grid .tile .pw').length === 392")
            opens.append(t1 - t0)
            drv.execute_script("document.querySelector('#logout').click()")
            until(drv, "return !document.querySelector('#login').hidden")
        first = renders[0]
        row("console: login to map, large (first)", "%.0f" % (first * 1000), "ms", "<= 1000",
            "%.2fx" % (first / 1.0))
        row("console: login to map, large (median)", "%.0f" % (statistics.median(renders) * 1000), "ms")
        row("console: open a socket (392 units)", "%.0f" % (statistics.median(opens) * 1000), "ms")
        # A fresh load's bytes: the console's files only, not the API's answers.
        drv.execute_script("performance.clearResourceTimings()")
        drv.get("about:blank")
        drv.get(url)
        until(drv, "return !!document.querySelector('#login-user') && "
                   "performance.getEntriesByType('resource').some(e => e.name.endsWith('dom.js'))")
        total = drv.execute_script(
            "const own = e => new URL(e.name).pathname.startsWith('/console/');"
            "const nav = performance.getEntriesByType('navigation')[0];"
            "return nav.encodedBodySize + performance.getEntriesByType('resource')"
            ".filter(own).reduce((n, e) => n + e.encodedBodySize, 0)")
        row("console: own bytes on first load", "%.1f" % (total / 1024), "KiB", "<= 200",
            "%.2fx" % (total / 1024 / 200))
    finally:
        if drv:
            drv.quit()
        d.cleanup()


if __name__ == "__main__":
    main()
