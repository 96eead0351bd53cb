#!/usr/bin/python3
"""ui_browser.py — drives Debian's headless Chromium through chromedriver
(python3-selenium) for the tests/e2e/ui_*.sh tests of `pipec ui`.

    ui_browser.py SCENARIO URL ARTIFACTS [ARGS...]

URL is what `pipec ui` printed (with ?token=); ARTIFACTS a directory for
the screenshots. Each scenario checks what a user would see and exits 0,
or prints what was wrong and exits 1. The browser is started here and
stopped before exit; it is never told an address off this machine.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 120  # seconds a condition may take on a loaded machine


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def browser(profile):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1400,900",
              "--user-data-dir=" + profile):
        o.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def wait(d, fn, what, timeout=WAIT):
    # a live update may replace an element between finding it and reading
    # it: that is "not yet", asked again at the next poll
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.1,
                             ignored_exceptions=(
                                 NoSuchElementException,
                                 StaleElementReferenceException)).until(
            lambda d: fn(d))
    except TimeoutException:
        raise Failed("timed out waiting for " + what)


def boxes(d):
    """name -> (kind, status class, sub text) of the DAG's boxes (read in
    one script, so a redraw cannot come between)."""
    rows = d.execute_script("""
        return Array.from(document.querySelectorAll('svg.dag g.n')).map(g => [
          g.dataset.name, g.dataset.kind,
          (Array.from(g.classList).find(c => c.startsWith('st-')) || ''),
          (g.querySelector('text.sub') || {}).textContent || '']);""")
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def confirm(d):
    wait(d, EC.alert_is_present(), "the confirmation dialog")
    d.switch_to.alert.accept()


class Run:
    def __init__(self, url, art):
        self.url = url
        u = urllib.parse.urlsplit(url)
        self.base = "%s://%s" % (u.scheme, u.netloc)
        self.art = art
        self.profile = tempfile.mkdtemp(prefix="pipec-ui-chromium.")
        self.d = browser(self.profile)
        self.d.set_page_load_timeout(WAIT)
        self.d.get(url)  # the token becomes a cookie; the URL loses it
        wait(self.d, lambda d: "token=" not in d.current_url,
             "the redirect that drops the token")

    def go(self, path):
        self.d.get(self.base + path)

    def shot(self, name):
        os.makedirs(self.art, exist_ok=True)
        self.d.save_screenshot(os.path.join(self.art, name + ".png"))

    def close(self):
        self.d.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


# ---- scenarios -------------------------------------------------------------

def sc_dag(r, pipeline, want):
    """The DAG has one box per node or family, each in the status want
    lists (name=kind:class:sub,...); a family expands on click."""
    r.go("/pipeline?id=" + pipeline)
    b = boxes(r.d)
    r.shot("pipeline")
    exp = dict(w.split("=", 1) for w in want.split(","))
    check(set(b) == set(exp), "boxes %s, expected %s" % (sorted(b), sorted(exp)))
    for name, spec in exp.items():
        kind, cls, sub = spec.split(":")
        check(b[name] == (kind, cls, sub),
              "%s is %s, expected %s" % (name, b[name], (kind, cls, sub)))
    fams = [n for n, v in b.items() if v[0] == "family"]
    for f in fams:
        g = r.d.find_element(By.CSS_SELECTOR,
                             'svg.dag g.n[data-kind=family][data-name="%s"]' % f)
        n_before = len(b)
        g.click()
        wait(r.d, lambda d: len(boxes(d)) > n_before, "the family to expand")
        wait(r.d, lambda d: "members" in d.find_element(By.ID, "panel").text,
             "the family's panel")
        r.shot("pipeline-expanded-" + f)
        members = [n for n, v in boxes(r.d).items() if n.startswith(f + "[")]
        check(members, "no members of %s after expanding" % f)
        # a member's panel
        m = r.d.find_element(By.CSS_SELECTOR,
                             'svg.dag g.n[data-name="%s"]' % members[0])
        m.click()
        wait(r.d, lambda d: "Outputs" in d.find_element(By.ID, "panel").text,
             "the member's panel")
        r.shot("node-panel")
        print(json.dumps({"expanded": f, "members": len(members)}))


def sc_run(r, pipeline):
    """Run the pipeline from its page (forced): the run page shows it
    running, then finished; its id is printed."""
    r.go("/pipeline?id=" + pipeline)
    r.d.find_element(By.CSS_SELECTOR, ".actions input.force").click()
    r.d.find_element(By.CSS_SELECTOR, 'button.act[data-act=run]').click()
    confirm(r.d)
    wait(r.d, lambda d: "/run?id=" in d.current_url, "the run's page")
    run = urllib.parse.parse_qs(urllib.parse.urlsplit(r.d.current_url).query)["id"][0]
    r.shot("run-started")
    wait(r.d, lambda d: d.find_element(By.ID, "live").get_attribute(
        "data-run-status") not in ("running", ""), "the run to finish")
    status = r.d.find_element(By.ID, "live").get_attribute("data-run-status")
    r.shot("run-finished")
    rows = r.d.find_elements(By.CSS_SELECTOR, "#nodes tbody tr")
    print(json.dumps({"run": int(run), "status": status, "rows": len(rows)}))


def sc_live(r, pipeline, node):
    """While a run goes on (started elsewhere), node's box turns running
    and then succeeded without the page being reloaded."""
    r.go("/pipeline?id=" + pipeline)
    r.d.execute_script("window.__notReloaded = true;")
    sel = 'svg.dag g.n[data-name="%s"]' % node

    def cls(d):
        return d.find_element(By.CSS_SELECTOR, sel).get_attribute("class")
    open(os.path.join(r.art, "live-ready"), "w").close()
    wait(r.d, lambda d: "st-running" in cls(d), node + " to show running")
    r.shot("live-running")
    seen = cls(r.d)
    wait(r.d, lambda d: "st-succeeded" in cls(d), node + " to show succeeded")
    r.shot("live-done")
    kept = r.d.execute_script("return window.__notReloaded === true;")
    check(kept, "the page was reloaded")
    print(json.dumps({"seen": seen, "final": cls(r.d)}))


def sc_rollback(r, snapshot):
    """Roll back to snapshot from the snapshots page; the result says so."""
    r.go("/snapshots")
    r.shot("snapshots")
    r.d.find_element(By.CSS_SELECTOR,
                     'button.act[data-act=rollback][data-snapshot="%s"]'
                     % snapshot).click()
    confirm(r.d)
    res = wait(r.d, lambda d: d.find_elements(By.ID, "action-result"),
               "the rollback's result")[0]
    r.shot("rollback-done")
    print(json.dumps({"exit": res.get_attribute("data-exit"),
                      "text": r.d.find_element(By.ID, "result").text}))


def sc_diff(r, a, b):
    r.go("/diff?a=%s&b=%s" % (a, b))
    r.shot("diff")
    print(json.dumps({"text": r.d.find_element(By.CSS_SELECTOR, "pre.diff").text}))


def sc_metrics(r, pipeline, title):
    """The metrics table titled title: its rows, and sorting by a column."""
    r.go("/metrics?pipeline=" + pipeline)
    secs = [s for s in r.d.find_elements(By.CSS_SELECTOR, "section.metrics")
            if s.find_element(By.TAG_NAME, "h2").text.startswith(title)]
    check(secs, "no metrics table " + title)
    s = secs[0]
    rows = s.find_elements(By.CSS_SELECTOR, "tbody tr")
    heads = [h.text for h in s.find_elements(By.CSS_SELECTOR, "thead th")]
    col = heads.index("accuracy") if "accuracy" in heads else 1
    s.find_elements(By.CSS_SELECTOR, "thead th")[col].click()
    vals = [float(tr.find_elements(By.TAG_NAME, "td")[col].get_attribute("data-v"))
            for tr in s.find_elements(By.CSS_SELECTOR, "tbody tr")]
    check(vals == sorted(vals), "not sorted by %s: %s" % (heads[col], vals))
    bars = s.find_elements(By.CSS_SELECTOR, "svg.chart:not([hidden]) rect.bar")
    r.d.execute_script("arguments[0].scrollIntoView()", s)
    r.shot("metrics")
    print(json.dumps({"rows": len(rows), "columns": heads, "bars": len(bars)}))


def sc_text(r, path, *needles):
    """path shows each needle as text, and no script ran (no alert)."""
    r.go(path)
    time.sleep(0.5)
    try:
        a = r.d.switch_to.alert
        raise Failed("an alert opened: " + a.text)
    except Failed:
        raise
    except Exception:
        pass
    body = r.d.find_element(By.TAG_NAME, "body").text
    r.shot("text-" + str(abs(hash(path)) % 10000))
    for n in needles:
        check(n in body, "%r not shown as text on %s" % (n, path))
    ran = r.d.execute_script("return window.__pwned === true;")
    check(not ran, "a script from the workspace ran")
    print(json.dumps({"ok": True}))


def sc_evil(r, evil_url):
    """With the token's cookie in the browser, a page of another origin
    posts a form to an action and fetches one; both must fail (the
    form's answer is a 403 page)."""
    r.d.get(evil_url)
    wait(r.d, lambda d: "403:" in d.find_element(By.TAG_NAME, "body").text,
         "the other origin's form to be answered")
    r.shot("evil-origin")
    print(json.dumps({"answer": r.d.find_element(By.TAG_NAME, "body").text}))


SCENARIOS = {"dag": sc_dag, "run": sc_run, "live": sc_live,
             "rollback": sc_rollback, "diff": sc_diff, "metrics": sc_metrics,
             "text": sc_text, "evil": sc_evil}


def report(path, art, nodes):
    profile = tempfile.mkdtemp(prefix="pipec-ui-chromium.")
    d = browser(profile)
    try:
        d.set_network_conditions(offline=True, latency=0,
                                 download_throughput=0, upload_throughput=0)
        d.get("file://" + os.path.abspath(path))
        rows = d.find_elements(By.CSS_SELECTOR, "#nodes tbody tr")
        names = sorted(tr.get_attribute("data-node") for tr in rows)
        tl = d.find_elements(By.CSS_SELECTOR, "svg.timeline g.tl")
        dag = d.find_elements(By.CSS_SELECTOR, "svg.dag g.n")
        os.makedirs(art, exist_ok=True)
        d.save_screenshot(os.path.join(art, "report.png"))
        # every resource the page loaded came from the file itself
        res = d.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);")
        want = sorted(nodes.split(","))
        check(names == want, "report nodes %s, expected %s" % (names, want))
        check(len(tl) > 0, "no timeline bars")
        check(not res, "the report fetched %s" % res)
        print(json.dumps({"nodes": len(names), "timeline": len(tl),
                          "dag_boxes": len(dag)}))
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main():
    sc, url, art = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        if sc == "report":
            report(url, art, *sys.argv[4:])
            return 0
        r = Run(url, art)
        try:
            SCENARIOS[sc](r, *sys.argv[4:])
        finally:
            r.close()
    except Failed as e:
        print("ui_browser %s: %s" % (sc, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
