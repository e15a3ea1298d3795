"""Every explorer of labkit.widgets renders in JupyterLab and redraws when a slider is dragged.

One notebook holds one cell per explorer (``labkit.widgets.<name>()`` as the cell's last line, as in
the course notebooks). After Run All, each explorer's first visible slider is dragged with the mouse
(40 pixels, towards the middle of its track); its readout must change, and so must the picture: the
<img> gets a new PNG from the kernel, and a screenshot of the picture differs from the one before.
"""
from __future__ import annotations

import nbformat
import pytest

from labkit import widgets

from . import labui
from .conftest import screenshot_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXPLORERS = sorted(name for name in widgets.__all__ if name.endswith("_explorer"))
NOTEBOOK = "widgets/explorers.ipynb"
REDRAW_S = 60


@pytest.fixture(scope="module")
def explorers_page(jupyterlab, browser):
    """The explorers' notebook, open and run in JupyterLab: (page, explorer name -> cell locator)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3 (ipykernel)"}})
    nb.cells = [nbformat.v4.new_code_cell("from labkit import widgets")]
    nb.cells += [nbformat.v4.new_code_cell(f"widgets.{name}()") for name in EXPLORERS]
    path = jupyterlab.root / NOTEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    try:
        labui.open_notebook(page, jupyterlab, NOTEBOOK)
        labui.run_all_cells(page, len(nb.cells), REDRAW_S * 2)
        labui.hide_left_sidebar(page)
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        yield page, {name: cells.nth(i + 1) for i, name in enumerate(EXPLORERS)}
    finally:
        page.close()
        jupyterlab.close_sessions()


def test_the_explorers_are_discovered():
    assert EXPLORERS and all(callable(getattr(widgets, name)) for name in EXPLORERS)


@pytest.mark.parametrize("name", EXPLORERS)
def test_dragging_a_slider_redraws_the_explorers_figure(name, explorers_page):
    page, cells = explorers_page
    cell = cells[name]
    assert labui.stderr_outputs(page) == [], "an explorer's cell shows an error"
    image = cell.locator("img.widget-image")
    image.wait_for(state="visible", timeout=REDRAW_S * 1000)
    slider = cell.locator(".widget-slider").filter(has=page.locator(".noUi-handle"))
    slider = slider.locator("visible=true").first
    handle = slider.locator(".noUi-handle").first
    readout = slider.locator(".widget-readout")
    src_before, value_before = image.get_attribute("src"), readout.inner_text()
    picture_before = image.screenshot()  # (scrolls the picture into view)

    handle.scroll_into_view_if_needed()
    box, track = handle.bounding_box(), slider.locator(".noUi-base").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    towards_middle = 40 if x < track["x"] + track["width"] / 2 else -40  # (never against an end)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + towards_middle, y, steps=8)
    page.mouse.up()

    page.wait_for_function("([img, src]) => img.getAttribute('src') !== src && img.complete",
                           arg=[image.element_handle(), src_before], timeout=REDRAW_S * 1000)
    assert readout.inner_text() != value_before, "the slider did not move"
    assert image.screenshot() != picture_before, "the picture did not change"
    assert not any("could not draw" in text for text in cell.locator(".widget-html").all_inner_texts())
    cell.screenshot(path=screenshot_path(f"widget_{name}"))
