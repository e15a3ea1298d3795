"""The docstring examples of labkit's public modules run (each public helper has one)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

matplotlib.use("Agg")

import labkit

MODULES = ["labkit"] + sorted(m.name for m in pkgutil.walk_packages(labkit.__path__, "labkit."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    extra = {"torch": importlib.import_module("torch")}
    tests = [t for t in finder.find(module, name, extraglobs=extra) if t.examples]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
