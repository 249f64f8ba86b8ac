"""The review notebook in a real JupyterLab, driven by headless Chromium: a click lands in the SQLite store.

Needs the ``chromium`` system package, and ``jupyterlab`` and ``playwright`` (Python) installed;
skipped with the reason otherwise. Playwright drives the system Chromium, nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from labeling.review import ReviewStore

from tests.conftest import ROOT  # noqa: E402
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def _missing() -> str | None:
    if CHROMIUM is None:
        return "no chromium on PATH (apt-get install -y chromium)"
    for mod, hint in [("jupyterlab", "jupyterlab"), ("playwright", "playwright"), ("jupytext", "jupytext"),
                      ("ipywidgets", "ipywidgets"), ("anywidget", "anywidget"),
                      ("ipykernel", "ipykernel")]:
        try:
            __import__(mod)
        except ImportError:
            return f"{mod} is not installed (pip install {hint})"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=f"browser test needs: {_missing()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout}s")


EVIL = ("it&#39;s <script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\"> "
        "<a href=\"javascript:window.__xss = 3\">free</a> https://example.com/" + "a" * 300)
KEYS = "12121s1u2121212s1212"   # 20 keys, typed 10 ms apart: faster than anyone types


def _store_until(path, check, timeout: float = 90.0, what: str = "the store"):
    """Poll the store (a fresh connection each time, as another process sees it) until ``check`` holds."""
    end = time.time() + timeout
    while True:
        store = ReviewStore(path)
        try:
            value = check(store)
        finally:
            store.close()
        if value:
            return value
        if time.time() > end:
            raise AssertionError(f"{what} did not reach the review store within {timeout}s")
        time.sleep(0.2)


def _marks(page) -> list:
    return page.eval_on_selector_all(
        ".vw-text mark", "ms => ms.map(m => [m.title, getComputedStyle(m).backgroundColor])")


def _check_layout(page) -> None:
    """What the reviewer sees before the first decision: whole button labels, the label model's probabilities
    in their own section under the LF votes, and a grey "adjudicate (0)"."""
    buttons = page.eval_on_selector_all(
        ".vw-review button", "bs => bs.map(b => [b.innerText.trim(), b.scrollWidth <= b.clientWidth + 1])")
    assert ["unsure [u]", True] in [list(b) for b in buttons], buttons
    assert all(fits for _, fits in buttons), buttons
    votes = page.locator(".vw-votes").first
    model = page.locator(".vw-model").first
    assert "label model" in model.inner_text()
    assert "0." not in votes.inner_text()                 # no probability beside an LF's vote
    v, m = votes.bounding_box(), model.bounding_box()
    assert m["y"] >= v["y"] + v["height"] - 1, (v, m)   # below the votes, not beside them
    adjudicate = page.locator("button.vw-adjudicate").first
    assert adjudicate.inner_text().strip() == "adjudicate (0)"
    assert "mod-danger" not in (adjudicate.get_attribute("class") or "")


@pytest.mark.slow
def test_click_in_jupyterlab_reaches_the_store(tmp_path):
    """A reviewer's session in real JupyterLab, and the store checked after each step.

    Click a class; refit twice (the report stays until the next decision); type 20 keys
    30 ms apart (each lands, in order, on the next sample); hostile text renders inert and
    wraps; adjudicate a disagreement; see the queue held by others, refreshed by itself once their
    leases end; accept an LF suggestion (not proposed again); one colour per LF throughout.
    """
    import jupytext
    from playwright.sync_api import sync_playwright

    work = tmp_path / "lab"
    work.mkdir()
    jupytext.write(jupytext.read(ROOT / "examples" / "review" / "review.py"), work / "review.ipynb")
    store_path = tmp_path / "browser.sqlite"
    port, token = _free_port(), "votewise-test"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOTEWISE_ROOT": str(ROOT),
           "VOTEWISE_REVIEW_STORE": str(store_path), "VOTEWISE_REVIEWER": "browser",
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jcfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "jsettings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "jws")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/status?token={token}", 30)
        with sync_playwright() as pw:
            # A persistent context is how Playwright takes a fresh --user-data-dir.
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "chrome-profile"), executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page()
            page.goto(f"{base}/lab/tree/review.ipynb?token={token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                                   timeout=40_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            button = page.locator("button.vw-label-1").first
            button.wait_for(state="visible", timeout=60_000)
            marks = _marks(page)
            shown = page.locator(".vw-id").first.inner_text()
            _check_layout(page)
            button.click()
            (first,) = _store_until(store_path, lambda s: s.decisions(), what="the click")
            assert (first.label, first.reviewer, f"id {first.sample_id}") == (1, "browser", shown)

            # Refit twice: the report is shown and stays while the reviewer reads it.
            page.locator("button.vw-next-batch").first.click()
            page.wait_for_function("() => (document.querySelector('.vw-report') || {}).innerText"
                                   "?.includes('refit on 1 labels (1 new)')", timeout=60_000)
            page.locator("button.vw-next-batch").first.click()
            page.wait_for_function("() => (document.querySelector('.vw-report') || {}).innerText"
                                   "?.includes('refit on 1 labels (0 new)')", timeout=60_000)
            _store_until(store_path, lambda s: len(s.queued_ids()) == 30, what="two more batches")
            time.sleep(1.0)
            assert "refit on 1 labels" in page.locator(".vw-report").first.inner_text()
            marks += _marks(page)

            # 20 keys, 10 ms apart: all applied, in order, each to the next sample of the queue.
            store = ReviewStore(store_path)
            decided = {d.sample_id for d in store.decisions()}
            queue = store.queue_state()
            expected = sorted((sid for sid in queue if sid not in decided), key=lambda sid: -queue[sid]["priority"])
            store.close()
            page.locator(".vw-keys input").first.click()
            page.keyboard.type(KEYS, delay=10)
            try:
                log = _store_until(store_path, lambda s: len(s.decisions()) >= 21 and s.decisions(), timeout=90,
                                   what="20 typed keys")
            except AssertionError as exc:
                # Say what did arrive, and what the box and the widget's message show.
                got = [(d.kind, d.label) for d in ReviewStore(store_path).decisions()[1:]]
                box = page.evaluate("() => JSON.stringify(document.querySelector('.vw-keys input').value)")
                shown = page.locator(".vw-sample").first.inner_text()[:200]
                raise AssertionError(f"{exc}: {len(got)} arrived {got}; box {box}; shown {shown!r}") from None
            want = [("skip", None) if k == "s" else ("unsure", None) if k == "u" else ("label", int(k) - 1)
                    for k in KEYS]
            assert [(d.kind, d.label) for d in log[1:]] == want
            assert [d.sample_id for d in log[1:]] == expected[:20]
            time.sleep(1.0)
            assert len(ReviewStore(store_path).decisions()) == 21   # nothing doubled either
            # The shortcut box never shows the keys typed in it.
            assert page.evaluate("() => document.querySelector('.vw-keys input').value") == ""
            page.wait_for_function("() => !(document.querySelector('.vw-report') || {}).innerText", timeout=10_000)
            marks += _marks(page)

            # Hostile text from the data: entities decoded, markup inert, long URL wrapped.
            store = ReviewStore(store_path)
            store.put_sample("evil", EVIL, priority=1e9, payload={"spans": [[57, 61, "keyword_free"]]})
            store.close()
            page.locator("button.vw-skip").first.click()
            page.wait_for_function("() => document.querySelector('.vw-id')?.innerText === 'id evil'",
                                   timeout=30_000)
            box = page.locator(".vw-text").first
            assert box.locator("script, img, a").count() == 0
            assert page.evaluate("() => window.__xss") is None
            assert box.inner_text().startswith("it's <script>")
            assert page.evaluate("() => { const b = document.querySelector('.vw-text');"
                                 " return b.scrollWidth <= b.clientWidth + 1; }")
            assert page.locator(".vw-legend").first.inner_text().strip() == "keyword_free"

            # Adjudication: two reviewers disagree; the adjudicator sees both and settles it.
            store = ReviewStore(store_path)
            store.put_sample("adj", "two reviewers disagree here", needed=2)
            store.record("adj", 0, reviewer="ann")
            store.record("adj", 1, reviewer="bob", note="it has a link")
            store.close()
            page.locator("button.vw-adjudicate").first.click()
            page.wait_for_function("() => document.querySelector('.vw-id')?.innerText === 'id adj'", timeout=30_000)
            reviews = page.locator(".vw-reviews").first.inner_text()
            assert "ann" in reviews and "bob" in reviews and "it has a link" in reviews
            page.locator("button.vw-label-1").first.click()
            _store_until(store_path, lambda s: s.resolved_labels().get("adj") == 1 and not s.to_adjudicate(),
                         what="the adjudication")
            adj = [d for d in ReviewStore(store_path).reviews_of("adj") if d.kind == "adjudication"]
            assert [(d.reviewer, d.label) for d in adj] == [("browser", 1)]

            # Everything open is leased to someone else: the widget says so; refresh after the leases end.
            store = ReviewStore(store_path)
            held = store.checkout("other", 1000, lease_seconds=4)
            store.close()
            page.wait_for_function("() => document.querySelector('.vw-empty')?.innerText.includes('Nothing to"
                                   " adjudicate')", timeout=30_000)
            page.locator("button.vw-adjudicate").first.click()   # back to review
            page.wait_for_function("() => document.querySelector('.vw-empty')?.innerText.includes("
                                   f"'{len(held)} samples are leased to other reviewers')", timeout=30_000)
            # No click: the view looks again by itself once the first of those leases ends.
            page.wait_for_function("() => document.querySelector('.vw-id')", timeout=30_000)
            again = page.locator(".vw-id").first.inner_text()
            assert again[3:] in {s.sample_id for s in held}
            page.locator("button.vw-refresh").first.click()   # refresh keeps the sample leased to this reviewer
            time.sleep(0.5)
            assert page.locator(".vw-id").first.inner_text() == again

            # An accepted LF suggestion is added once and not proposed again. Which rows the keys above
            # labelled depends on the label model's queue, so three reviews sharing an n-gram make sure
            # there is something to suggest.
            from sources import read_wrench

            train = read_wrench(ROOT / "tests" / "data" / "youtube").train.data
            store = ReviewStore(store_path)
            decided = {d.sample_id for d in store.decisions()}
            plugs = [str(i) for i, t in train["text"].items()
                     if "check out my channel" in str(t).lower() and str(i) not in decided][:3]
            for sid in plugs:
                store.put_sample(sid, str(train.loc[sid, "text"]))
                store.record(sid, 1, reviewer="ann")
            store.close()
            page.locator("button.vw-suggest").first.click()
            page.locator("button.vw-accept").first.wait_for(state="visible", timeout=60_000)
            row = page.locator(".vw-suggestions .widget-html").first.inner_text()
            ngram = row.split("'")[1]
            page.locator("button.vw-accept").first.click()
            page.wait_for_function("() => document.querySelector('.vw-message')?.innerText.includes('added LF')",
                                   timeout=60_000)
            time.sleep(1.0)
            assert f"'{ngram}' ->" not in page.locator(".vw-suggestions").first.inner_text()

            # One colour per LF for the whole session, and keyword marks survive whole-text spans.
            colours: dict = {}
            for title, colour in marks:
                colours.setdefault(title, set()).add(colour)
            assert marks and all(len(c) == 1 for c in colours.values()), colours
            assert any(t != "short_comment" for t in colours), colours
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
