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

from conftest import ROOT  # noqa: E402
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def _missing() -> str | None:
    if CHROMIUM is None:
        return "no chromium on PATH (apt-get install -y chromium)"
    for mod, hint in [("jupyterlab", "jupyterlab"), ("playwright", "playwright"), ("jupytext", "jupytext"),
                      ("ipywidgets", "ipywidgets"), ("ipykernel", "ipykernel")]:
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


def test_click_in_jupyterlab_reaches_the_store(tmp_path):
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
            button.wait_for(state="visible", timeout=40_000)
            shown = page.locator(".vw-id").first.inner_text()
            button.click()
            deadline = time.time() + 15
            labels: dict = {}
            while time.time() < deadline and not labels:
                if store_path.exists():
                    labels = ReviewStore(store_path).resolved_labels()
                time.sleep(0.2)
            browser.close()
        assert labels, "the click did not reach the review store"
        (sid, label), = labels.items()
        assert label == 1 and shown == f"id {sid}"
        decision = ReviewStore(store_path).decisions()[0]
        assert decision.reviewer == "browser"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
