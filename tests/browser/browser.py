"""browser.py: the browser suite's tools: a headless Chromium with JavaScript off,
driven through forms as a person would, and the checks made on every page state.

Every page state the suite visits is checked at 1280, 800 and 390 px wide:
  - no horizontal overflow: document.documentElement.scrollWidth <= innerWidth;
  - every action (link, button, field) visible at 1280 px is visible and inside
    the viewport at 390 px (nothing hidden on phones);
  - axe-core (WCAG 2.0/2.1 A and AA, WCAG 2.2 AA, target-size included) finds
    no violation.

JavaScript is off for the pages (Chrome's content setting). Scripts that
WebDriver evaluates still run, but the page's task queue does not: timers
(setTimeout, requestAnimationFrame, MessageChannel) never fire, while promise
jobs do. axe-core schedules its work with setTimeout, so before injecting it
the suite replaces the timer functions with promise jobs (clearTimeout still
cancels); axe then runs to its end within the job queue of one evaluation.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = os.environ["ROOT"]
BASE = "http://127.0.0.1:%s" % os.environ["PORT"]
WIDTHS = (1280, 800, 390)
PHONE = 390
HEIGHT = 900
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_JS = os.environ.get("AXE_JS", os.path.join(ROOT, "build/axe/node_modules/axe-core/axe.min.js"))
SHOTS = os.environ.get("BROWSER_SHOTS", os.path.join(ROOT, "build/screenshots"))
REPORT = os.environ.get("BROWSER_REPORT", os.path.join(ROOT, "build/browser-report.json"))

TIMER_SHIM = """(function () {
  if (window.__timerShim) return;
  window.__timerShim = true;
  var live = {}, next = 0;
  window.setTimeout = function (f, ms) {
    var id = ++next, args = [].slice.call(arguments, 2);
    live[id] = true;
    Promise.resolve().then(function () {
      if (live[id]) { delete live[id]; if (typeof f === 'function') f.apply(null, args); }
    });
    return id;
  };
  window.clearTimeout = function (id) { delete live[id]; };
  window.requestAnimationFrame = function (f) { return window.setTimeout(function () { f(0); }, 0); };
  window.cancelAnimationFrame = window.clearTimeout;
})();
"""

AXE_RUN = """window.__axeResult = null;
axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']}).then(
  function (r) {
    window.__axeResult = r.violations.map(function (v) {
      return {id: v.id, help: v.help, nodes: v.nodes.map(function (n) {
        return {target: n.target.join(' '), html: n.html.slice(0, 160), summary: (n.failureSummary || '').slice(0, 300)};
      })};
    });
  },
  function (e) { window.__axeResult = 'axe failed: ' + e; });
""" % json.dumps(AXE_TAGS)

# The geometry of a page: overflow, and where each action is.
LAYOUT_JS = """
var sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
var els = [].slice.call(document.querySelectorAll(sel));
function shown(e) {
  var r = e.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;
  var s = getComputedStyle(e);
  if (s.visibility !== 'visible' || s.display === 'none') return false;
  if (r.right < 0 || r.left > 20000) return false;   /* moved off screen until focused */
  for (var p = e; p; p = p.parentElement)
    if (getComputedStyle(p).display === 'none') return false;
  return true;
}
var wide = [];
if (document.documentElement.scrollWidth > window.innerWidth) {
  [].slice.call(document.body.querySelectorAll('*')).forEach(function (e) {
    if (wide.length >= 3 || e.getBoundingClientRect().right <= window.innerWidth + 1) return;
    for (var c = e.firstElementChild; c; c = c.nextElementSibling)
      if (c.getBoundingClientRect().right > window.innerWidth + 1) return;   /* a child is the cause */
    wide.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' +
              (e.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60) + '" ends at ' +
              Math.round(e.getBoundingClientRect().right));
  });
}
return {
  wide: wide,
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  actions: els.map(function (e) {
    var r = e.getBoundingClientRect();
    var text = (e.innerText || e.value || e.getAttribute('aria-label') || e.name || e.id || '').replace(/\\s+/g, ' ').trim();
    return {shown: shown(e), left: r.left, right: r.right, text: e.tagName.toLowerCase() + ' "' + text.slice(0, 50) + '"'};
  })
};
"""


def sql(query):
    """Run SQL as the superuser of the test cluster; returns the output, stripped."""
    out = subprocess.run(["sh", "-c", '. "$ROOT/scripts/lib.sh"; psql_super -tAc "$1"', "sh", query],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("sql failed: %s: %s" % (query, out.stderr.strip()))
    return out.stdout.strip()


def reset_seed():
    """Put the database back to the freshly seeded state (tests/e2e/reset.sh)."""
    subprocess.run(["sh", os.path.join(ROOT, "tests/e2e/reset.sh")], capture_output=True, timeout=120, check=True)


class Suite:
    """TAP-like output: one "ok N - ..." or "not ok N - ..." line per assertion."""

    def __init__(self):
        self.n = 0
        self.passed = 0
        self.failed = 0
        self.report = {}      # page state -> width -> {"overflow": px, "axe": {rule: nodes}, "hidden": n}
        self.shots = []
        self.posts = []       # (URL, status) of every form POST the browsers sent
        self.origins = {}     # Origin header of those POSTs -> how many

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            self.passed += 1
            print("ok %d - %s" % (self.n, desc), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc), flush=True)
            if detail:
                for line in str(detail).splitlines()[:40]:
                    print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, "got %r, want %r" % (got, want))

    def note(self, text):
        print("# " + text, flush=True)

    def write_report(self):
        try:
            os.makedirs(os.path.dirname(REPORT), exist_ok=True)
            with open(REPORT, "w") as f:
                json.dump(self.report, f, indent=1, sort_keys=True)
        except OSError:
            pass


class Browser:
    """One browser profile (its own user data directory: its own cookies)."""

    def __init__(self, suite, name):
        self.suite = suite
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="settings-browser-")
        o = webdriver.ChromeOptions()
        o.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=en-US",
                  "--user-data-dir=" + self.dir, "--window-size=1280,%d" % HEIGHT):
            o.add_argument(a)
        o.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2,
                                            "credentials_enable_service": False,
                                            "profile.password_manager_enabled": False})
        o.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.d = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=o)
        self.d.set_page_load_timeout(60)
        self.d.set_script_timeout(60)
        self.width = 1280
        self.d.set_window_size(self.width, HEIGHT)
        self.last_status = None
        self.posts = {}       # requestId -> URL of form POSTs not yet answered

    def quit(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- Navigation -------------------------------------------------------------
    def _status(self):
        """The HTTP status of the last document the browser loaded (from its network log)."""
        status = None
        for entry in self.d.get_log("performance"):
            try:
                m = json.loads(entry["message"])["message"]
            except (ValueError, KeyError):
                continue
            meth, par = m.get("method"), m.get("params", {})
            if meth == "Network.requestWillBeSent" and par.get("type") == "Document":
                # A redirect ends the request before it: a form POST answered 303.
                rid = par.get("requestId")
                if "redirectResponse" in par and rid in self.posts:
                    self.suite.posts.append((self.posts.pop(rid), par["redirectResponse"]["status"]))
                if par["request"]["method"] == "POST":
                    self.posts[rid] = par["request"]["url"]
                    h = {k.lower(): v for k, v in par["request"].get("headers", {}).items()}
                    o = h.get("origin", "(none)")
                    self.suite.origins[o] = self.suite.origins.get(o, 0) + 1
            elif meth == "Network.responseReceived" and par.get("type") == "Document":
                status = par["response"]["status"]
                if par.get("requestId") in self.posts:
                    self.suite.posts.append((self.posts.pop(par["requestId"]), status))
        if status is not None:
            self.last_status = status
        return self.last_status

    def go(self, path):
        self._status()                      # drop what came before
        self.d.get(BASE + path if path.startswith("/") else path)
        return self._status()

    def click(self, el):
        """Click a button or link (scrolled into view first) and return the status of what loads."""
        self._status()
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
        el_text = el.text or el.get_attribute("value") or el.tag_name
        self.d.execute_script("window.__settingsPage = 1;")
        el.click()
        # The click starts a navigation (a form POST or a link): wait until the old page is
        # gone and the new one has loaded.
        end = time.time() + 30
        while True:
            try:
                if self.d.execute_script("return !window.__settingsPage && document.readyState === 'complete'"):
                    break
            except WebDriverException:
                pass                        # between two documents
            if time.time() > end:
                raise AssertionError("the click on %s did not load a page" % el_text)
            time.sleep(0.03)
        return self._status()

    def pick(self, el):
        """Click something that does not leave the page (a radio button, a checkbox)."""
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
        el.click()

    def path(self):
        u = self.d.current_url
        return u[len(BASE):] if u.startswith(BASE) else u

    def drive_at(self, width):
        """The width at which the next steps are driven (clicks, typing)."""
        self.width = int(os.environ.get("BROWSER_DRIVE_WIDTH") or width)
        self.d.set_window_size(self.width, HEIGHT)

    # --- Finding things -----------------------------------------------------------
    def find(self, xpath, within=None):
        return (within or self.d).find_element(By.XPATH, xpath)

    def finds(self, xpath, within=None):
        return (within or self.d).find_elements(By.XPATH, xpath)

    def css(self, selector):
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def has(self, words):
        return words in self.text()

    def fill(self, name, value, within=None):
        el = (within or self.d).find_element(By.NAME, name)
        el.clear()
        if value:
            el.send_keys(value)
        return el

    def choose(self, name, value, within=None):
        """Pick an option of a select by its value."""
        el = (within or self.d).find_element(By.NAME, name)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
        for opt in el.find_elements(By.TAG_NAME, "option"):
            if (opt.get_attribute("value") or opt.text) == value:
                opt.click()
                return el
        raise AssertionError("no option %r in %s" % (value, name))

    def submit_button(self, form):
        return self.find(".//button[@type='submit' or not(@type)] | .//input[@type='submit']", form)

    def row(self, words):
        """The table row (or card) that mentions words."""
        return self.find("//tr[contains(normalize-space(.), %s)]" % xq(words))

    def action(self, within, label):
        """A link or button whose text starts with label, inside an element."""
        return self.find(".//a[starts-with(normalize-space(.), %s)] | .//button[starts-with(normalize-space(.), %s)]"
                         % (xq(label), xq(label)), within)

    def notice(self):
        els = self.css("p.notice")
        return els[0].text if els else ""

    def confirm_form(self, value="1"):
        """The form of a confirmation page (a confirm field), or None."""
        cond = "@name='confirm'" + ("" if value is None else " and @value=%s" % xq(value))
        forms = self.finds("//form[.//input[%s]]" % cond)
        return forms[0] if forms else None

    # --- The checks made on every page state ----------------------------------------
    def check_page(self, label):
        """Overflow, phone reachability and axe-core at every width; back to the drive width."""
        suite = self.suite
        d = self.d
        desk = None
        problems = {"overflow": [], "hidden": [], "axe": []}
        injected = False
        state = suite.report.setdefault(label, {})
        for w in WIDTHS:
            d.set_window_size(w, HEIGHT)
            lay = d.execute_script(LAYOUT_JS)
            over = lay["scrollWidth"] - lay["innerWidth"]
            rec = state.setdefault(str(w), {})
            rec["overflow"] = max(over, 0)
            if over > 0:
                problems["overflow"].append("%d px: page is %d px wide: %s" % (w, lay["scrollWidth"], "; ".join(lay["wide"])))
            if desk is None:
                desk = lay["actions"]
            if w == PHONE:
                lost = []
                for a, b in zip(desk, lay["actions"]):
                    if not a["shown"]:
                        continue
                    if not b["shown"]:
                        lost.append("%s: hidden" % b["text"])
                    elif b["left"] < -1 or b["right"] > lay["innerWidth"] + 1:
                        lost.append("%s: outside the viewport (%d..%d)" % (b["text"], b["left"], b["right"]))
                rec["hidden"] = len(lost)
                problems["hidden"] += lost
            if not injected:
                d.execute_script(TIMER_SHIM + AXE_SOURCE())
                injected = True
            d.execute_script(AXE_RUN)
            res = None
            for _ in range(300):
                res = d.execute_script("return window.__axeResult")
                if res is not None:
                    break
                time.sleep(0.05)
            if not isinstance(res, list):
                problems["axe"].append("%d px: %s" % (w, res or "axe gave no answer"))
                rec["axe"] = {"error": 1}
                continue
            rec["axe"] = {v["id"]: len(v["nodes"]) for v in res}
            for v in res:
                for node in v["nodes"][:3]:
                    problems["axe"].append("%d px: %s (%s): %s  %s" % (w, v["id"], v["help"], node["target"], node["html"]))
                if len(v["nodes"]) > 3:
                    problems["axe"].append("%d px: %s: and %d more" % (w, v["id"], len(v["nodes"]) - 3))
        d.set_window_size(self.width, HEIGHT)
        suite.ok(not problems["overflow"], "%s: no horizontal overflow at 1280, 800, 390 px" % label,
                 "\n".join(problems["overflow"]))
        suite.ok(not problems["hidden"], "%s: every action shown at 1280 px is on screen at 390 px" % label,
                 "\n".join(problems["hidden"]))
        suite.ok(not problems["axe"], "%s: axe-core finds no WCAG 2.2 AA violation" % label,
                 "\n".join(problems["axe"]))

    def shot(self, name):
        """Full-page screenshots at desktop and phone width, for people to look at."""
        os.makedirs(SHOTS, exist_ok=True)
        for w in (1280, PHONE):
            self.d.set_window_size(w, HEIGHT)
            h = self.d.execute_script("return document.documentElement.scrollHeight")
            self.d.set_window_size(w, min(max(h, 300), 8000))
            f = os.path.join(SHOTS, "%s-%d.png" % (name, w))
            self.d.save_screenshot(f)
            self.suite.shots.append(f)
        self.d.set_window_size(self.width, HEIGHT)


_axe = []


def AXE_SOURCE():
    if not _axe:
        with open(AXE_JS) as f:
            _axe.append(f.read())
    return _axe[0]


def xq(s):
    """An XPath string literal."""
    if "'" not in s:
        return "'%s'" % s
    return "concat('%s')" % "', \"'\", '".join(s.split("'"))


def wait_for(fn, seconds=15.0, step=0.2):
    """Poll fn until it returns something true (for work done after the answer, e.g. a delivery)."""
    end = time.time() + seconds
    while True:
        v = fn()
        if v or time.time() > end:
            return v
        time.sleep(step)


__all__ = ["Suite", "Browser", "sql", "reset_seed", "wait_for", "BASE", "ROOT", "WebDriverException", "re"]
