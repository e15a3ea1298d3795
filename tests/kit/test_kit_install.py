"""The student kit alone: a fresh virtual environment holding only the kit's wheel (no repository on the
path) runs each release notebook with the source's solutions pasted in (nbval: every cell, every
visible check passes, every experiment runs), and a blank release gets from every visible check its
report, the same as the full package's, with no traceback.

Cheap by construction: the environment is made without pip (``venv --without-pip``, well under a
second), the wheel is unpacked into it, and the kit's third-party dependencies (torch, jupyter, ...)
come from this environment's site-packages through a ``.pth`` line (a plain path: the editable
install of the repository that lives there is not activated). What is tested is the kit's own code.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import is_grade, is_solution

from autograder.sample_class import Student, submission

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kit_env(kit_course, tmp_path_factory):
    """(python of a fresh venv holding only the kit, a folder outside the repository to run in)."""
    _, kit, _ = kit_course
    env = tmp_path_factory.mktemp("kitenv") / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    wheel, = kit.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(purelib)
    (purelib / "_kit_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path_factory.mktemp("kitwork")
    probe = subprocess.run([str(python), "-c", PROBE], cwd=work, capture_output=True, text=True, env=_env())
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["labkit"].startswith(str(purelib)) and found["kit"], found
    assert str(ROOT) not in found["path"] and found["autograder"] is None, found  # no repository on the path
    return python, work


PROBE = """import importlib.util, json, sys, labkit, labkit.checks.frozen as f
print(json.dumps({"labkit": labkit.__file__, "kit": f.active(), "path": sys.path,
                  "autograder": str(importlib.util.find_spec("autograder"))
                  if importlib.util.find_spec("autograder") else None}))"""


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH", "VIRTUAL_ENV")}
    return dict(env, OMP_NUM_THREADS="1", MPLBACKEND="Agg")


def _notebooks(kit: Path):
    for release in sorted((kit / "notebooks").glob("*/*.ipynb")):
        source = ROOT / "notebooks" / release.parent.name / release.name
        yield release, source


def test_release_notebooks_with_the_solutions_pass_every_visible_check_in_the_kit_alone(kit_course, kit_env):
    _, kit, _ = kit_course
    python, work = kit_env
    paths = []
    for release, source in _notebooks(kit):
        nb = submission(nbformat.read(release, as_version=4), nbformat.read(source, as_version=4),
                        Student("solutions", "full solution"))
        # proof that the kernel runs the kit's labkit, answering from frozen results
        nb.cells.insert(0, nbformat.v4.new_code_cell("import labkit.checks.frozen as _kit\nassert _kit.active()"))
        path = work / "solved" / release.parent.name / release.name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        paths.append(str(path))
    assert paths
    run = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          "--nbval-lax", "--nbval-current-env", "--rootdir", str(work), *paths],
                         cwd=work, capture_output=True, text=True, env=_env(), timeout=1800)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-6000:] + run.stderr[-2000:]


BLANK_RUNNER = r'''
import json, sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
meta = lambda c: c.metadata.get("nbgrader", {})
first = next(i for i, c in enumerate(nb.cells) if meta(c).get("solution"))
# the setup cells, then each solution cell (the blank stubs) and test cell: no experiment
keep = [c for i, c in enumerate(nb.cells) if c.cell_type == "code" and (i < first or meta(c).get("solution")
        or (meta(c).get("grade") and not meta(c).get("solution")))]
nb.cells = keep
NotebookClient(nb, kernel_name=sys.argv[3], allow_errors=True, timeout=300).execute()
reports = {meta(c)["grade_id"]: c.outputs for c in nb.cells if meta(c).get("grade") and not meta(c).get("solution")}
json.dump(reports, open(sys.argv[2], "w"))
'''


def _blank_reports(python: Path, notebook: Path, work: Path, tag: str) -> dict:
    kernels = work / f"kernels-{tag}" / "kernels" / tag
    kernels.mkdir(parents=True, exist_ok=True)
    (kernels / "kernel.json").write_text(json.dumps(
        {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python",
         "display_name": tag}))
    out = work / f"blank-{tag}.json"
    env = dict(_env(), JUPYTER_PATH=str(work / f"kernels-{tag}"))
    run = subprocess.run([str(python), "-c", BLANK_RUNNER, str(notebook), str(out), tag], cwd=work,
                         capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text())


def _shown(outputs) -> tuple:
    """What the student sees: the printed text (however the kernel split it into messages), the value."""
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    errors = [(o["ename"], o["evalue"]) for o in outputs if o["output_type"] == "error"]
    return text, [o["data"]["text/plain"] for o in outputs if o["output_type"] == "execute_result"], errors


def test_a_blank_release_fails_every_visible_check_cleanly_with_the_full_packages_report(kit_course, kit_env):
    _, kit, _ = kit_course
    python, work = kit_env
    for release, _ in _notebooks(kit):
        in_kit = _blank_reports(python, release, work, "kit")
        full = _blank_reports(Path(sys.executable), release, work, "full")
        assert in_kit and set(in_kit) == set(full)
        for grade_id, outputs in in_kit.items():
            if grade_id.startswith("q_"):
                # a question left blank: its answer cell raised, as in the full package (the release's stub
                # of a solution cell is nbgrader's `raise NotImplementedError()`): the same output there
                assert _shown(outputs) == _shown(full[grade_id]), grade_id
                continue
            assert [o["output_type"] for o in outputs if o["output_type"] == "error"] == [], (grade_id, outputs)
            text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
            assert "Traceback" not in text and ("not implemented yet" in text or "not recorded yet" in text), text
            value = [o["data"]["text/plain"] for o in outputs if o["output_type"] == "execute_result"]
            assert value == ["0"], (grade_id, outputs)
            assert _shown(outputs) == _shown(full[grade_id]), f"{grade_id}: the kit's report differs from the full package's"
