#!/usr/bin/python3
"""The dashboard in a real browser: headless Chromium, driven over the
DevTools protocol, against a real leader and workers (sbin/local-cluster).

Checks that the page loads, that the workers and a running job appear,
that the job's progress moves and reaches DONE without a reload, that the
cancel button of a job page cancels the job, and that the console shows no
error. Screenshots go to $QUARRY_SCREENSHOT_DIR (default:
/tmp/quarry-dashboard-screenshots, outside git); with --docs they also
replace docs/dashboard.png and docs/job-page.png.

Exit 0 when every check holds, 1 otherwise (chromium missing too: sbin/test
installs it).
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # Debian python3-websocket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT = 60  # seconds, for every wait below


class Browser:
    """One headless Chromium and a DevTools session on its page."""

    def __init__(self, scratch):
        self.profile = os.path.join(scratch, "chromium-profile")
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-dev-shm-usage",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             "--user-data-dir=" + self.profile, "--window-size=1400,1000",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(scratch, "chromium.log"), "w"))
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        wait_until(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1,
                   "chromium's DevToolsActivePort")
        port = open(port_file).read().split("\n")[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"],
                                                  timeout=TIMEOUT, suppress_origin=True)
        self.next_id = 0
        self.errors = []  # console errors and uncaught exceptions
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")

    def close(self):
        self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def _note(self, message):
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append("console.error: " + json.dumps(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            self.errors.append("exception: " + json.dumps(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append("log: " + params["entry"].get("text", ""))

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._note(message)

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))
        print("screenshot:", path)


def wait_until(condition, what, timeout=TIMEOUT):
    """Polls `condition` every 50 ms until it is true; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def http_json(url, body=None):
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.load(response)


def check(condition, message, failures):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def run(base, browser, shots, failures):
    jobs = base + "v1/jobs"
    first = http_json(jobs, {"kind": "sleep", "settings": {"ms": "300", "tasks": "80"}})["jobId"]
    browser.call("Page.navigate", url=base)
    wait_until(lambda: browser.eval("document.readyState") == "complete", "the page to load")
    browser.eval("window.quarryLoadMarker = 1")  # Gone if the page reloads.

    workers = wait_until(lambda: browser.eval("document.querySelectorAll('#workers tbody tr').length") >= 2
                         and browser.eval("document.querySelectorAll('#workers tbody tr').length"),
                         "the workers to appear")
    check(workers == 2, f"the dashboard lists the 2 workers (saw {workers})", failures)
    row = f"document.getElementById('job-row-{first}')"
    wait_until(lambda: browser.eval(f"!!{row}"), "the job to appear")
    check(True, f"the running job {first} appears", failures)

    seen = []
    def progress():
        # One read of the row: it is replaced as events arrive.
        text, state = browser.eval(
            f"(r => r ? [r.querySelector('.progress-cell span').textContent,"
            f" r.querySelector('.state').textContent] : ['', ''])({row})")
        if text and (not seen or seen[-1] != text):
            seen.append(text)
            done = int(text.split("/")[0])
            if 48 <= done < 72 and not os.path.exists(os.path.join(shots, "dashboard.png")):
                browser.screenshot(os.path.join(shots, "dashboard.png"))  # Mid-run.
        return state == "DONE"
    for name in ("dashboard.png", "job-page.png"):
        if os.path.exists(os.path.join(shots, name)):
            os.remove(os.path.join(shots, name))
    wait_until(progress, f"{first} to reach DONE on the page")
    check(len(seen) >= 3, f"its progress moved on the page: {seen}", failures)
    check(seen[-1].strip() == "80 / 80", "and reached 80 / 80 DONE", failures)
    check(browser.eval("window.quarryLoadMarker") == 1, "without a reload", failures)
    check(browser.eval("document.querySelector('#cluster-status').textContent") == "HEALTHY",
          "the cluster shows HEALTHY", failures)

    second = http_json(jobs, {"kind": "sleep", "settings": {"ms": "1000", "tasks": "200"}})["jobId"]
    browser.eval(f"location.hash = '#/jobs/{second}'")
    wait_until(lambda: browser.eval("document.querySelectorAll('#task-grid .task.RUNNING').length") > 0,
               "the job page's task grid to show running tasks")
    wait_until(lambda: browser.eval("document.querySelectorAll('#attempts tbody tr').length") > 0,
               "the job page's attempts")
    wait_until(lambda: browser.eval("document.querySelectorAll('#task-grid .task.DONE').length") >= 8,
               "some of its tasks to be DONE")
    browser.screenshot(os.path.join(shots, "job-page.png"))
    browser.eval("document.getElementById('cancel').click()")
    wait_until(lambda: browser.eval("document.getElementById('job-state').textContent") == "CANCELLED",
               "the job page to show CANCELLED")
    state = http_json(f"{jobs}/{second}")["job"]["state"]
    check(state == "JOB_STATE_CANCELLED", f"cancel on the page cancelled {second} ({state})", failures)
    check(browser.eval("window.quarryLoadMarker") == 1, "still without a reload", failures)


def main():
    if CHROMIUM is None:
        print("FAIL chromium is not installed (sbin/lib.sh QUARRY_TEST_PACKAGES; sbin/test "
              "installs it)")
        return 1
    scratch = tempfile.mkdtemp(prefix="quarry-browser-")
    shots = os.environ.get("QUARRY_SCREENSHOT_DIR", "/tmp/quarry-dashboard-screenshots")
    os.makedirs(shots, exist_ok=True)
    env = dict(os.environ, QUARRY_CLUSTER_DIR=os.path.join(scratch, "cluster"))
    cluster = [os.path.join(ROOT, "sbin", "local-cluster")]
    failures = []
    browser = None
    try:
        subprocess.run(cluster + ["start", "--workers", "2", "--slots", "2"], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=TIMEOUT)
        base = subprocess.run(cluster + ["http"], env=env, check=True, capture_output=True,
                              text=True).stdout.strip()
        browser = Browser(scratch)
        run(base, browser, shots, failures)
        browser.call("Runtime.evaluate", expression="0")  # Collect late events.
        check(not browser.errors, f"no console errors {browser.errors}", failures)
        if "--docs" in sys.argv:
            for name in ("dashboard.png", "job-page.png"):
                shutil.copy(os.path.join(shots, name), os.path.join(ROOT, "docs", name))
    except Exception as error:  # Report, then clean up.
        failures.append(repr(error))
        print("FAIL", repr(error))
    finally:
        if browser is not None:
            browser.close()
        subprocess.run(cluster + ["stop"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=TIMEOUT)
        if failures and os.path.exists(os.path.join(scratch, "cluster", "leader.log")):
            print(open(os.path.join(scratch, "cluster", "leader.log")).read()[-3000:])
        if not failures:
            shutil.rmtree(scratch, ignore_errors=True)
    print("screenshots in", shots)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
