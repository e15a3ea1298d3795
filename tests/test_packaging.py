"""environment.yml and pyproject.toml declare the same pinned dependencies; the entry point exists."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_deps() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = list(data["project"]["dependencies"]) + list(data["project"]["optional-dependencies"]["dev"])
    return {d.replace(" ", "") for d in deps}


def _environment_pip_deps() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    deps = set()
    for line in lines:
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-\[\]]+==[^\s#]+)\s*$", line)
        if m:
            deps.add(m.group(1))
    return deps


def test_environment_yml_and_pyproject_list_the_same_pinned_packages():
    assert _pyproject_deps() == _environment_pip_deps()


def test_every_dependency_is_pinned():
    assert all("==" in d for d in _pyproject_deps())


def test_environment_installs_the_project_itself_and_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert "- -e ." in text and "python=3.11" in text


def test_labgrade_has_help():
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage" in out.stdout.lower()
