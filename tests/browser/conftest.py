"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and a JupyterLab server.

Chromium is the Debian package (``/usr/bin/chromium``, installed by ``make test`` as root when it is
missing; ``CHROMIUM=/path`` picks another); Playwright's own browser download is never used. The
browser and the server live for one test module, so nothing of theirs runs during other tests. Without
the ``playwright`` package or a Chromium the tests are skipped, and the reason names what is missing.

JupyterLab runs on a free port of 127.0.0.1 with a random token, in a temporary root, with its own
settings, workspaces, configuration and runtime folders (nothing of the user's is read or written):
every notebook cell is rendered (no windowing), news and update checks are off. It is stopped at the
end (the kernels it started with it). Every wait is bounded.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("LABKIT_SCREENSHOTS", ROOT / "build" / "screenshots"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_S = 90   # JupyterLab answering on its port
_BROWSERS = []        # the browsers open now (a failed test's screenshots)
LAB_SETTINGS = {
    # every cell in the DOM, so that the tests see every prompt and output
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news or update check (the machine is offline; nothing pops up over the notebook)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


def chromium_executable() -> str | None:
    """$CHROMIUM if set, else Debian's Chromium; None when it is not there."""
    candidates = [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else \
        ["/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Debian's) for one test module (gone before the next module's tests)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the Python package 'playwright' (pip install -e '.[dev]')")
    executable = chromium_executable()
    if executable is None:
        pytest.skip(f"browser tests need Debian's 'chromium' package "
                    f"({os.environ.get('CHROMIUM') or '/usr/bin/chromium'} not found): "
                    "`apt-get install chromium` (make test does it as root), or set CHROMIUM=/path")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, timeout=60_000)
        _BROWSERS.append(browser)
        try:
            yield browser
        finally:
            _BROWSERS.remove(browser)
            browser.close()


@pytest.fixture
def page(browser):
    """A new tab (1280 x 860) for one test; closed after it (after a failure's screenshot)."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    yield page
    page.close()


def offline_context(browser, **kwargs):
    """A browser context in which every request that is not local is aborted (and recorded)."""
    context = browser.new_context(**kwargs)
    context.blocked = []

    def route(route):
        url = route.request.url
        local = url.startswith(("file:", "data:", "blob:", "about:")) or \
            url.split("/")[2].split(":")[0] in ("127.0.0.1", "localhost")
        if local:
            route.continue_()
        else:
            context.blocked.append(url)
            route.abort()

    context.route("**/*", route)
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    root: Path
    url: str
    token: str
    process: subprocess.Popen

    def notebook_url(self, relpath: str) -> str:
        return f"{self.url}/lab/tree/{relpath}?token={self.token}&reset"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def close_sessions(self) -> None:
        """Shut down every notebook's kernel (between tests: one kernel at a time on 2 cores)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")


@pytest.fixture(scope="module")
def jupyterlab(browser, tmp_path_factory):
    """A JupyterLab server for one test module, serving an empty temporary root."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root, settings = base / "root", base / "settings"
    root.mkdir()
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    scripts = str(Path(sys.executable).parent)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_DATA_DIR=str(base / "data"), IPYTHONDIR=str(base / "ipython"),
               PATH=os.pathsep.join([scripts, os.environ.get("PATH", "")]), OMP_NUM_THREADS="1")
    env.pop("JUPYTER_PATH", None)  # the environment's own kernels and lab extensions
    env.pop("MPLBACKEND", None)    # notebooks draw inline, as for a student
    port, token = free_port(), secrets.token_hex(16)
    log = open(base / "jupyterlab.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(root, f"http://127.0.0.1:{port}", token, process)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({process.returncode}):\n"
                                   f"{(base / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                lab.api("status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_S} s:\n"
                                       f"{(base / 'jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield lab
    finally:
        _stop(lab)
        log.close()


def _stop(lab: Lab) -> None:
    """Shut the server down (its kernels with it); kill what it started if anything is left."""
    import psutil

    try:
        started = psutil.Process(lab.process.pid).children(recursive=True)  # kernels, terminals
    except psutil.NoSuchProcess:
        started = []
    if lab.process.poll() is None:
        try:
            lab.api("shutdown", method="POST")
        except Exception:  # noqa: BLE001 - already gone or not answering: signals below
            pass
        try:
            lab.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(lab.process.pid, signal.SIGTERM)
            try:
                lab.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(lab.process.pid, signal.SIGKILL)
                lab.process.wait(timeout=10)
    for proc in started:  # kernels run in sessions of their own: none may outlive the tests
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot: build/screenshots/<name>.png (or $LABKIT_SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test leaves a screenshot of every page open: build/screenshots/FAILED_*.png."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call") and _BROWSERS:
        pages = [p for browser in _BROWSERS for ctx in browser.contexts for p in ctx.pages]
        for i, page in enumerate(pages):
            try:
                page.screenshot(path=screenshot_path(f"FAILED_{item.name}_{i}"))
            except Exception:  # noqa: BLE001 - a screenshot must not hide the failure
                pass
