"""Adding an assignment is adding a folder: the pipeline discovers it, with no change to the code.

A notebooks folder with two assignments made from the toy one: ``toy_lab`` with a sample class and
``zz_lab`` (the same notebook under another name) without one. ``labgrade release`` releases both;
``labgrade demo`` runs the one that has a sample class, and only that one.
"""
from __future__ import annotations

import json
import shutil

import pytest

from autograder import cli

from .conftest import TOY, TOY_NOTEBOOKS

pytestmark = pytest.mark.slow


@pytest.fixture
def notebooks(tmp_path):
    root = tmp_path / "notebooks"
    shutil.copytree(TOY_NOTEBOOKS / TOY, root / TOY)
    sample = json.loads((root / TOY / "sample_class.json").read_text())
    sample["students"] = [s for s in sample["students"] if s["student"] in ("full_marks", "bug_mean")]
    (root / TOY / "sample_class.json").write_text(json.dumps(sample))
    other = root / "zz_lab"
    shutil.copytree(TOY_NOTEBOOKS / TOY, other, ignore=shutil.ignore_patterns("sample_class.json"))
    (other / f"{TOY}.ipynb").rename(other / "zz_lab.ipynb")
    (root / "not_an_assignment").mkdir()  # no notebook of its own name
    return root


def test_release_and_demo_discover_the_assignments_of_a_notebooks_folder(notebooks, tmp_path, capsys):
    course = tmp_path / "course"
    common = ["--course", str(course), "--notebooks", str(notebooks)]
    assert cli.main(["release", *common, "--no-validate"]) == 0
    assert sorted(p.name for p in (course / "release").iterdir()) == [TOY, "zz_lab"]
    assert (course / "release" / "zz_lab" / "zz_lab.ipynb").is_file()
    assert sorted(p.name for p in (course / "kit" / "notebooks").iterdir()) == [TOY, "zz_lab"]  # the student kit
    assert len(list((course / "kit").glob("labkit_student-*.whl"))) == 1

    assert cli.main(["demo", *common, "--cell-timeout", "5", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert f"sample class {TOY}: all 2 students got the expected outcome" in out
    assert "zz_lab" not in out.split("[3/6]")[1]  # released above, but it has no sample class
    assert sorted(p.name for p in (course / "labgrade" / "reports").iterdir()) == [
        f"{TOY}_cells.csv", f"{TOY}_totals.csv"]
    assert not list(course.rglob("sample_class.json"))

    assert cli.main(["build-sample", *common, "--assignment", "zz_lab"]) == 2
    assert "'zz_lab' has no sample class" in capsys.readouterr().err
