"""The hostile class: submissions that attack the grader, graded in one run beside honest students.

Each hostile student starts from the blank release and adds an attack to a solution cell (or files
beside the notebook). Every one must gain nothing (0 in every cell: its functions are blank), change
no file outside its own folders, leak nothing into its feedback, and leave every honest student's
grade exactly as expected. One class per kind of attack of the red-team review: tampering inside the
kernel, reading secrets, writing where it must not, resources, and orchestration (the grader killed).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder import sandbox
from autograder.course import Course, repo_notebooks_dir
from autograder.feedback import generate_feedback
from autograder.grade import Limits, grade_assignment
from autograder.release import graded_cells, release
from autograder.report import cell_rows
from autograder.sample_class import build_sample_class, load_sample_class

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sandbox.available() is not None, reason=f"no sandbox: {sandbox.available()}")]

A = "00_gradient_checking"
REPO = Path(__file__).resolve().parents[2]
TAG = uuid.uuid4().hex[:12]  # marks this run's daemons and escape files
HONEST = {"full_marks", "blank", "bug_mse_grad"}


def attacks(course: Path) -> dict[str, str]:
    """Code a hostile student appends to its numerical_gradient cell (it runs in both sandboxes)."""
    src = course / "source" / A / f"{A}.ipynb"
    return {
        "tamper_checks": "import labkit.checks as _c, labkit.checks.core as _core\n"
                         "_core.CheckResult.__repr__ = lambda self: '3'\n"
                         "_core.CheckResult.earned = property(lambda self: self.points)\n"
                         "_core.TOL.update({k: 1e9 for k in _core.TOL})\n"
                         "for _n in list(_c.REGISTRY):\n    setattr(_c, _n, lambda *a, **k: 99)\n",
        "ipython_hooks": "try:\n    _ip = get_ipython()\n    _ip.ast_node_interactivity = 'none'\n"
                         "    _ip.display_formatter.formatters['text/plain'].for_type(object, lambda o, p, c: p.text('3'))\n"
                         "    import ast\n    class _T(ast.NodeTransformer):\n"
                         "        def visit_Expr(self, node):\n            return ast.Expr(ast.Constant(3))\n"
                         "    _ip.ast_transformers.append(_T())\n"
                         "    _ip.input_transformers_post.append(lambda lines: ['3\\n'])\n"
                         "except NameError:\n    pass\n",
        "trace_and_stack": "import sys\ndef _tracer(frame, event, arg):\n"
                           "    for v in list(frame.f_locals.values()):\n"
                           "        if type(v).__name__ == 'CheckResult':\n"
                           "            v.points = 0\n    return _tracer\n"
                           "sys.settrace(_tracer)\nsys.setprofile(lambda *a: None)\n"
                           "def numerical_gradient(f, x, h=1e-5):\n    fr = sys._getframe(1)\n    while fr:\n"
                           "        for v in list(fr.f_locals.values()):\n"
                           "            if hasattr(v, 'subchecks'):\n                v.subchecks.clear()\n"
                           "        fr = fr.f_back\n    return x * 0\n",
        "forged_report": "def numerical_gradient(f, x, h=1e-5):\n"
                         "    print('Check of numerical_gradient on the hidden cases: 3 / 3 points')\n"
                         "    print('  All sub-checks passed.')\n    return None\n3\n",
        "read_secrets": "import glob\n_seen = []\nfor _p in glob.glob('/proc/*/cmdline'):\n    try:\n"
                        "        _seen.append(open(_p, 'rb').read().replace(b'\\0', b' ').decode(errors='replace'))\n"
                        "    except Exception:\n        pass\nprint('CMDLINES', _seen)\n"
                        f"for _p in [{str(src)!r}, {str(course / 'gradebook.db')!r}, "
                        f"{str(course / 'submitted' / 'full_marks' / A / (A + '.ipynb'))!r}, "
                        f"{str(REPO / 'notebooks' / A / (A + '.ipynb'))!r}]:\n"
                        "    try:\n        print('READ', _p, open(_p, errors='replace').read()[:100000])\n"
                        "    except Exception as e:\n        print('DENIED', _p, type(e).__name__)\n",
        "write_everywhere": "import glob, sqlite3\n"
                            f"_course = {str(course)!r}\n"
                            "for _p in [_course + '/nbgrader_config.py', _course + '/source/00_gradient_checking/labkit.py',"
                            f" {str(REPO / 'notebooks' / ('escape-' + TAG))!r}, '/tmp/escape-{TAG}']"
                            " + glob.glob('/tmp/labgrade-*/*/*.ipynb'):\n"
                            "    try:\n        open(_p, 'a').write('\\nc.pwned = True\\n')\n    except Exception as e:\n"
                            "        print('DENIED', _p, type(e).__name__)\n"
                            "try:\n    _db = sqlite3.connect(_course + '/gradebook.db')\n"
                            "    _db.execute('create trigger pwn after insert on grade begin update grade set auto_score = "
                            "max_score; end')\n    _db.commit()\nexcept Exception as e:\n    print('DENIED db', e)\n",
        "daemon": "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                  f"        os.environ['HOSTILE_TAG'] = '{TAG}'\n"
                  f"        os.execvp('sleep', ['sleep', '120', '{TAG}'])\n    os._exit(0)\n",
        "rewrite_executed": "import threading, glob, json, time\ndef _forge():\n    for _ in range(600):\n"
                            "        for _p in glob.glob('**/*.ipynb', recursive=True):\n            try:\n"
                            "                nb = json.load(open(_p))\n                for c in nb['cells']:\n"
                            "                    c['outputs'] = [{'output_type': 'execute_result', 'execution_count': 1,"
                            " 'metadata': {}, 'data': {'text/plain': '1000'}}]\n"
                            "                json.dump(nb, open(_p, 'w'))\n            except Exception:\n"
                            "                pass\n        time.sleep(0.05)\n"
                            "threading.Thread(target=_forge, daemon=True).start()\n",
        "resources": "import socket\ntry:\n    _hog = bytearray(3 * 2**30)\n    print('MEM' + 'ORY GRANTED')\n"
                     "except MemoryError:\n    print('MEMORY REFUSED')\n"
                     "try:\n    open('big.bin', 'wb').write(b'0' * (300 * 2**20))\n    print('FI' + 'LE GRANTED')\n"
                     "except Exception:\n    print('FILE REFUSED')\n"
                     "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n    print('NE' + 'T GRANTED')\n"
                     "except Exception:\n    print('NET REFUSED')\nfor _ in range(20000):\n    print('flood' * 100)\n",
        "kill_everything": "import os, signal\nfor _pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
                           "    if _pid != os.getpid():\n        try:\n            os.kill(_pid, signal.SIGKILL)\n"
                           "        except Exception:\n            pass\n",
    }


def _hostile_notebook(release_nb, code: str):
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "code_numerical_gradient":
            cell.source += "\n" + code
    return nb


def _snapshot(course: Path) -> dict[str, str]:
    """Hashes of every course file a submission must never change."""
    keep = [course / "nbgrader_config.py", course / "jupyter", course / "source", course / "release",
            course / "submitted"]
    files = [p for root in keep for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course_dir = tmp_path_factory.mktemp("hostile") / "course"
    course = Course.create(course_dir, repo_notebooks_dir(), [A], cell_timeout=20)
    release(course, A, validate=False, log=lambda *a: None)
    honest = [s for s in load_sample_class(repo_notebooks_dir(), A) if s.student in HONEST]
    build_sample_class(course, A, honest, log=lambda *a: None)
    release_nb = nbformat.read(course.path("release", A) / f"{A}.ipynb", as_version=4)
    hostile = attacks(course.root)
    for student, code in hostile.items():
        folder = course.path("submitted", A, student)
        folder.mkdir(parents=True)
        nbformat.write(_hostile_notebook(release_nb, code), folder / f"{A}.ipynb")
    shadow = course.path("submitted", A, "shadow_labkit")  # a labkit/ package beside the notebook
    (shadow / "labkit" / "checks").mkdir(parents=True)
    nbformat.write(release_nb, shadow / f"{A}.ipynb")
    (shadow / "labkit" / "__init__.py").write_text("")
    (shadow / "labkit" / "checks" / "__init__.py").write_text(
        "def __getattr__(name):\n    return lambda *a, points=0, **k: points\n")
    hostile["shadow_labkit"] = ""
    before = _snapshot(course.root)
    statuses = grade_assignment(course, A, None, Limits(cell_timeout=20, submission_timeout=240, jobs=2),
                                log=lambda *a: None)
    generate_feedback(course, A, log=lambda *a: None)
    time.sleep(2)  # a daemon that escaped would act now
    points = {}
    for row in cell_rows(course.root, A):
        points.setdefault(row.student, {})[row.cell] = row.points
    return {"course": course, "hostile": sorted(hostile), "statuses": {s.student: s for s in statuses},
            "points": points, "before": before, "after": _snapshot(course.root)}


def test_no_hostile_submission_gains_a_point(graded):
    for student in graded["hostile"]:
        assert set(graded["points"][student].values()) == {0.0}, (student, graded["points"][student],
                                                                 graded["statuses"][student])


def test_every_honest_student_keeps_exactly_the_expected_grade(graded):
    full = graded["points"]["full_marks"]
    maximum = sum(points for nb in graded["course"].notebooks(A) for _, points in graded_cells(nb))
    assert all(v > 0 for v in full.values()) and sum(full.values()) == maximum, full
    assert set(graded["points"]["blank"].values()) == {0.0}
    bug = graded["points"]["bug_mse_grad"]
    assert bug["mse_loss"] < 2 and all(bug[c] == full[c] for c in full if c != "mse_loss"), bug


def test_no_file_outside_the_students_folders_changed(graded):
    assert graded["after"] == graded["before"]
    assert not Path(f"/tmp/escape-{TAG}").exists() and not (REPO / "notebooks" / f"escape-{TAG}").exists()
    with __import__("sqlite3").connect(graded["course"].root / "gradebook.db") as db:
        assert not db.execute("select name from sqlite_master where type = 'trigger'").fetchall()


def test_no_process_outlives_the_grading(graded):
    left = [p for p in psutil.process_iter(["cmdline"]) if TAG in " ".join(p.info["cmdline"] or [])]
    for p in left:
        p.kill()
    assert not left


def test_feedback_leaks_no_secret_and_stays_small(graded):
    course = graded["course"]
    source = nbformat.read(course.path("source", A) / f"{A}.ipynb", as_version=4)
    solution_lines = {line.strip() for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")
                      for line in c.source.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0].splitlines()
                      if len(line.strip()) > 25}
    for student in graded["hostile"]:
        pages = list(course.path("feedback", A, student).glob("*.html"))
        assert pages, student
        for page in pages:
            text = page.read_text(errors="replace")
            assert len(text) < 3 * 2**20, (student, len(text))
            assert "BEGIN HIDDEN TESTS" not in text and "seed=48213" not in text, student
            assert not [line for line in solution_lines if line in text], student
            assert "MEMORY GRANTED" not in text and "FILE GRANTED" not in text and "NET GRANTED" not in text


def test_killing_the_grader_leaves_zeros_not_stale_grades_and_no_hidden_test_on_disk(tmp_path):
    course = Course.create(tmp_path / "course", repo_notebooks_dir(), [A], cell_timeout=20)
    release(course, A, validate=False, log=lambda *a: None)
    [full] = [s for s in load_sample_class(repo_notebooks_dir(), A) if s.student == "full_marks"]
    build_sample_class(course, A, [full], log=lambda *a: None)
    grade_assignment(course, A, ["full_marks"], Limits(20, 240, 1), log=lambda *a: None)
    full = sum(points for nb in course.notebooks(A) for _, points in graded_cells(nb))  # every test cell's maximum
    assert sum(r.points for r in cell_rows(course.root, A)) == full
    release_nb = course.path("release", A) / f"{A}.ipynb"  # the student resubmits the blank release
    (course.path("submitted", A, "full_marks") / f"{A}.ipynb").write_bytes(release_nb.read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", "--course", str(course.root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    status = course.status_dir / A / "full_marks.json"
    while time.monotonic() < deadline and "interrupted" not in (status.read_text() if status.exists() else ""):
        time.sleep(0.2)
    time.sleep(3)  # in the middle of executing the submission
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sum(r.points for r in cell_rows(course.root, A)) == 0  # zeros, not the stale full marks
    assert json.loads(status.read_text())["code"] == "interrupted"
    for scratch in Path("/tmp").glob(f"labgrade-{A}-full_marks-*"):
        for path in scratch.rglob("*.ipynb"):
            assert "BEGIN HIDDEN TESTS" not in path.read_text(errors="replace")
