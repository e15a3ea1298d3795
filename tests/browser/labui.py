"""Driving JupyterLab 4 through its user interface: open a notebook, run all cells, save, read outputs.

Everything is done as a student would (menus, keyboard, mouse); the state is read from the page
(prompts, the kernel indicator, outputs) and from the saved file. Every wait is bounded.
"""
from __future__ import annotations

import re
import time

import nbformat

STDERR = 'application/vnd.jupyter.stderr'   # JupyterLab renders tracebacks and stderr as this type
KERNEL_IDLE = '.jp-Notebook-ExecutionIndicator[data-status="idle"]'


def ms(seconds: float) -> float:
    return seconds * 1000


def code_cells_to_run(nb) -> int:
    """How many cells "Run All" executes (JupyterLab skips empty code cells)."""
    return sum(1 for cell in nb.cells if cell.cell_type == "code" and cell.source.strip())


def open_notebook(page, lab, relpath: str, timeout_s: float = 90) -> None:
    """Open ``relpath`` (relative to the server's root) alone in JupyterLab; wait for an idle kernel."""
    page.goto(lab.notebook_url(relpath), timeout=ms(timeout_s))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=ms(timeout_s))
    page.wait_for_function(  # a kernel is connected (its name in the toolbar) and idle
        """() => {
            const name = document.querySelector('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName');
            const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
            return name && status && !/^\\s*(No Kernel)?\\s*$/.test(name.textContent)
                && status.getAttribute('data-status') === 'idle';
        }""", timeout=ms(timeout_s), polling=200)


def menu(page, top: str, item: str, timeout_s: float = 30) -> None:
    """Click ``top`` in the menu bar, then ``item`` in its menu once that item is enabled."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                 has_text=re.compile(f"^{re.escape(item)}$")).click(timeout=ms(timeout_s))


def run_all_cells(page, expected: int, timeout_s: float) -> float:
    """Run > Run All Cells; wait until ``expected`` cells show an execution count and the kernel is
    idle. Returns the seconds it took."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    started = time.monotonic()
    for attempt in range(2):
        menu(page, "Run", "Run All Cells")
        try:  # the first cell is queued or runs within seconds (a click too early is lost: again)
            page.wait_for_function(
                """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
                        .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))""",
                timeout=ms(15), polling=100)
            break
        except PlaywrightTimeout:
            if attempt:
                raise AssertionError("Run > Run All Cells started no cell (twice)") from None
    try:
        page.wait_for_function(
            """n => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
                    .filter(p => /\\[\\d+\\]/.test(p.textContent)).length >= n""",
            arg=expected, timeout=ms(timeout_s), polling=250)
        page.wait_for_selector(KERNEL_IDLE, timeout=ms(timeout_s))
    except PlaywrightTimeout:
        prompts = page.eval_on_selector_all(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt",
                                            "els => els.map(e => e.textContent).join(' ')")
        raise AssertionError(f"Run All did not finish within {timeout_s:g} s: {expected} cells to run, "
                             f"prompts: {prompts}; kernel: {kernel_status(page)}") from None
    return time.monotonic() - started


def kernel_status(page) -> str:
    return page.eval_on_selector_all(".jp-Notebook-ExecutionIndicator",
                                     "els => els.map(e => e.getAttribute('data-status')).join(',')")


def stderr_outputs(page) -> list[str]:
    """The text of every error or stderr output shown in the notebook."""
    return page.eval_on_selector_all(f'.jp-Notebook .jp-OutputArea-output[data-mime-type="{STDERR}"]',
                                     "els => els.map(e => e.innerText)")


def save(page, timeout_s: float = 30) -> None:
    """Ctrl+S, then wait until the notebook's tab is no longer marked as modified."""
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})  # command mode, focus in it
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)", timeout=ms(timeout_s))


def error_outputs(nb) -> list[str]:
    """'cell N: ename: evalue' for every error output of a saved notebook."""
    return [f"cell {i}: {out.ename}: {out.evalue}" for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" for out in cell.get("outputs", []) if out.output_type == "error"]


def read(path):
    return nbformat.read(path, as_version=4)


def hide_left_sidebar(page) -> None:
    """Click the open tab of the left side bar (the file browser) to fold it: more room for the notebook."""
    current = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if current.count():
        current.first.click()
        page.wait_for_selector(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current", state="detached",
                               timeout=10_000)
