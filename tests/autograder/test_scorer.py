"""Trusted scoring against hostile solution cells: a submission gains nothing it did not earn, reads no
secret, writes nowhere, reaches no network, and one broken function costs that function only."""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
import torch

from autograder import sandbox, wire
from autograder.scorer import ScoreLimits, score_notebook
from autograder.scorer import TestCell as Cell

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "notebooks" / "00_gradient_checking" / "00_gradient_checking.ipynb"
SANDBOX = sandbox.available() is None
pytestmark = pytest.mark.slow


def _source_nb() -> dict:
    return json.loads(SOURCE.read_text())


def graded_cells() -> list[Cell]:
    return [Cell(c["metadata"]["nbgrader"]["grade_id"], "".join(c["source"]), c["metadata"]["nbgrader"]["points"])
            for c in _source_nb()["cells"] if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")]


FULL = {c.grade_id: float(c.max_points) for c in graded_cells()}


def submission(folder: Path, patches: dict[str, str] | None = None, blank: bool = False) -> Path:
    """The source notebook as a student would submit it: each patch is code appended to a solution cell."""
    nb = _source_nb()
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and cell["cell_type"] == "code":
            src = "".join(cell["source"])
            cell["source"] = src.split("### BEGIN HIDDEN TESTS")[0]  # the release holds no hidden tests
        if meta.get("solution"):
            name = meta["grade_id"].removeprefix("code_")
            src = "".join(cell["source"])
            if blank:
                src = f"def {name}(*args, **kwargs):\n    raise NotImplementedError()\n"
            cell["source"] = src + "\n" + (patches or {}).get(name, "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "submission.ipynb").write_text(json.dumps(nb))
    return folder / "submission.ipynb"


def score(tmp_path, patches=None, blank=False, cell_timeout=20, hide=()):
    work = tmp_path / "work"
    path = submission(work, patches, blank)
    limits = ScoreLimits(cell_timeout=cell_timeout, start_timeout=120, output_cap=20_000, sandbox=SANDBOX)
    return score_notebook(Path(path.name), graded_cells(), work, limits, hide=list(hide))


def points(result) -> dict[str, float]:
    return {k: v.points for k, v in result.cells.items()}


def test_a_full_solution_scores_full_marks_in_the_sandbox(tmp_path):
    if not SANDBOX:
        pytest.skip(f"no sandbox here: {sandbox.available()}")
    result = score(tmp_path)
    assert result.sandboxed and not result.problem and points(result) == FULL, result


def test_a_blank_release_scores_zero_everywhere(tmp_path):
    result = score(tmp_path, blank=True)
    assert set(points(result).values()) == {0.0}
    assert all("not implemented yet" in c.report for name, c in result.cells.items() if not name.startswith("q_"))
    assert all("should be a number" in c.report or "should be one of" in c.report or c.error
               for name, c in result.cells.items() if name.startswith("q_"))  # a question left unanswered


WRONG_MSE = "def mse_loss(pred, target):\n    return (pred * 0).sum(), pred * 0\n"
TAMPER = {
    "patched_checks": WRONG_MSE + "import labkit.checks as _c, labkit.checks.core as _core\n"
                                  "_c.mse_loss = lambda *a, **k: 2.0\n"
                                  "_core.CheckResult.earned = property(lambda self: self.points)\n"
                                  "_core.TOL['value'] = 1e9\n",
    "patched_torch": WRONG_MSE + "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n",
    "forged_report": "def mse_loss(pred, target):\n    print('Check of mse_loss on the hidden cases: 2 / 2 points')\n"
                     "    return (pred * 0).sum(), pred * 0\n",
    "lying_tensor": "class _Lie(torch.Tensor):\n    def __eq__(self, o): return True\n    def __sub__(self, o): "
                    "return torch.zeros(self.shape)\n"
                    "def mse_loss(pred, target):\n    return (pred * 0).sum().as_subclass(_Lie), (pred * 0).as_subclass(_Lie)\n",
    "settrace": WRONG_MSE + "import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)\n",
    "fake_handle": "def mse_loss(pred, target):\n    return {'__handle__': 1}, {'__callback__': 1}\n",
}


@pytest.fixture(scope="module")
def honest_wrong_mse(tmp_path_factory):
    """What the wrong mse_loss earns without any tampering (the sub-checks it honestly passes)."""
    return points(score(tmp_path_factory.mktemp("honest"), {"mse_loss": WRONG_MSE}))["mse_loss"]


@pytest.mark.parametrize("attack", sorted(TAMPER))
def test_tampering_from_a_solution_cell_gains_nothing(tmp_path, attack, honest_wrong_mse):
    result = score(tmp_path, {"mse_loss": TAMPER[attack]})
    got = points(result)
    assert got["mse_loss"] <= honest_wrong_mse < FULL["mse_loss"], result.cells["mse_loss"].report
    assert {k: v for k, v in got.items() if k != "mse_loss"} == {k: v for k, v in FULL.items() if k != "mse_loss"}


def test_secrets_are_out_of_reach_and_nothing_is_written_outside(tmp_path):
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    (course / "source" / "secret.txt").write_text("HIDDEN-SEED-48213")
    marker = f"/tmp/labgrade-escape-{uuid.uuid4().hex}"
    spy = (f"for p in [{str(SOURCE)!r}, {str(course / 'source' / 'secret.txt')!r}, '/etc/hostname']:\n"
           "    try:\n        print('READ', p, open(p).read()[:2000])\n    except Exception as e:\n"
           "        print('DENIED', p, type(e).__name__)\n"
           f"for p in [{marker!r}, {str(ROOT / 'escape.txt')!r}]:\n"
           "    try:\n        open(p, 'w').write('x')\n    except Exception as e:\n        print('DENIED', p)\n")
    result = score(tmp_path, {"rel_error": spy}, hide=[course])
    if SANDBOX:
        assert "BEGIN SOLUTION" not in result.student_output and "HIDDEN-SEED" not in result.student_output
    assert not Path(marker).exists() or not SANDBOX
    assert not (ROOT / "escape.txt").exists() or not SANDBOX
    assert points(result) == FULL


def test_no_network(tmp_path):
    if not SANDBOX:
        pytest.skip("the network is closed by the sandbox")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(30)
    port = server.getsockname()[1]
    reached = []
    threading.Thread(target=lambda: reached.append(_accept(server)), daemon=True).start()
    code = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=3).send(b'leak')\n"
            "except Exception as e:\n    print('NONET', type(e).__name__)\n" % port)
    result = score(tmp_path, {"l1_loss": code})
    server.close()
    assert "NONET" in result.student_output and not [r for r in reached if r]


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


BROKEN = {  # (patch of one function, the function that must lose its points, what must be said)
    "hang_in_function": ("def l1_loss(pred, target):\n    while True:\n        pass\n", "l1_loss"),
    "exit_in_function": ("import os\ndef l1_loss(pred, target):\n    os._exit(0)\n", "l1_loss"),
    "ignores_the_alarm": ("import signal\ndef l1_loss(pred, target):\n    signal.signal(signal.SIGALRM, "
                          "signal.SIG_IGN)\n    while True:\n        pass\n", "l1_loss"),
    "hang_in_cell": ("while True:\n    pass\n", None),
    "exit_in_cell": ("import os\nos._exit(1)\n", "l1_loss"),
    "memory_hog": ("def l1_loss(pred, target):\n    return bytearray(16 * 2**30), None\n", "l1_loss"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_one_broken_function_costs_its_own_points_only(tmp_path, case):
    patch, loser = BROKEN[case]
    result = score(tmp_path, {"l1_loss": patch}, cell_timeout=4)
    got = points(result)
    if loser:
        assert got[loser] == 0.0, result.cells[loser]
    assert {k: v for k, v in got.items() if k != "l1_loss"} == {k: v for k, v in FULL.items() if k != "l1_loss"}


@pytest.mark.skipif(sandbox._pids_cgroup(8) is None, reason="no pids cgroup can be made here")
def test_a_fork_bomb_is_contained_and_costs_its_own_points_only(tmp_path):
    bomb = "import os\ndef l1_loss(pred, target):\n    while True:\n        try:\n            os.fork()\n" \
           "        except OSError:\n            pass\n"
    result = score(tmp_path, {"l1_loss": bomb}, cell_timeout=4)
    got = points(result)
    assert got["l1_loss"] == 0.0
    assert {k: v for k, v in got.items() if k != "l1_loss"} == {k: v for k, v in FULL.items() if k != "l1_loss"}


def test_a_flood_of_output_is_capped(tmp_path):
    result = score(tmp_path, {"rel_error": "for _ in range(200000):\n    print('x' * 100)\n"})
    assert len(result.student_output) <= 20_000 + 200 and "cut" in result.student_output
    assert points(result) == FULL


def test_processes_the_submission_starts_die_with_it(tmp_path):
    tag = uuid.uuid4().hex
    code = ("import subprocess, os\nsubprocess.Popen(['sleep', '300', %r], start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(300)\n" % tag)
    result = score(tmp_path, {"rel_error": code})
    assert points(result)["rel_error"] == FULL["rel_error"]
    time.sleep(0.5)
    left = [p for p in psutil.process_iter(["cmdline"]) if tag in " ".join(p.info["cmdline"] or [])]
    if SANDBOX:
        assert not left, left
    for p in left:
        p.kill()


class Sub(torch.Tensor):
    """A tensor subclass a hostile process might send."""


def test_the_wire_refuses_objects_and_tensor_subclasses():
    import io

    buf = io.BytesIO()
    torch.save({"x": torch.zeros(2).as_subclass(Sub)}, buf)
    data = buf.getvalue()
    with pytest.raises(wire.WireError):
        wire.receive(io.BytesIO(len(data).to_bytes(8, "little") + data))
    assert type(wire.encode(torch.zeros(2).as_subclass(Sub), keep=lambda o: 1)) is torch.Tensor
    with pytest.raises(wire.WireError):
        wire.receive(io.BytesIO((wire.MAX_BYTES + 1).to_bytes(8, "little")))


ANSWER_KEY_CALLS = {  # a graded function that asks the answer key, spelled four ways
    "mse_loss": "def mse_loss(pred, target):\n    from labkit.reference import mse_loss as _m\n    return _m(pred, target)\n",
    "l1_loss": "def l1_loss(pred, target):\n    import importlib\n"
               "    return importlib.import_module('labkit.reference').l1_loss(pred, target)\n",
    "affine_forward": "def affine_forward(x, w, b):\n    import sys\n"
                      "    return getattr(sys.modules['labkit.reference'], 'affine_forward')(x, w, b)\n",
    "rel_error": "def rel_error(a, b):\n    from labkit import gradcheck\n    return gradcheck.rel_error(a, b)\n",
}
# the answer key's code copied at the top of a cell: the student's process holds no reference to copy
COPIED = {"softmax_cross_entropy": "del softmax_cross_entropy\nimport types, labkit.reference as _R\n"
                                   "_f = _R.softmax_cross_entropy.__wrapped__\n"
                                   "softmax_cross_entropy = types.FunctionType(_f.__code__, _f.__globals__)\n"}


def test_a_submission_calling_the_answer_key_scores_0_on_those_functions_with_the_call_named(tmp_path):
    result = score(tmp_path, patches={**ANSWER_KEY_CALLS, **COPIED})
    got = points(result)
    for name in ANSWER_KEY_CALLS:
        assert got[name] == 0, (name, result.cells[name].report)
        where = "gradcheck" if name == "rel_error" else "reference"
        assert f"calls labkit.{where}.{name} (the answer key)" in result.cells[name].report, result.cells[name].report
    if SANDBOX:  # without the sandbox the student's process imports the instructor's full labkit
        assert got["softmax_cross_entropy"] == 0, result.cells["softmax_cross_entropy"].report
    untouched = [g for g in FULL if g not in ANSWER_KEY_CALLS and g not in COPIED and g != "affine_backward"]
    assert all(got[g] == FULL[g] for g in untouched), got


def test_a_graded_helper_is_the_reference_run_by_the_trusted_side(tmp_path):
    """numerical_gradient_array calls numerical_gradient: graded with the reference helper, which the
    trusted side runs (a callback calling the student's closure back), never with the student's own."""
    one_sided = ("def numerical_gradient(f, x, h=1e-5):\n    g = torch.zeros_like(x)\n    fx = float(f(x))\n"
                 "    for i in range(x.numel()):\n        z = x.clone()\n        z.view(-1)[i] += h\n"
                 "        g.view(-1)[i] = (float(f(z)) - fx) / h\n    return g\n")
    result = score(tmp_path, patches={"numerical_gradient": one_sided})
    got = points(result)
    assert got["numerical_gradient"] < FULL["numerical_gradient"]
    assert got["numerical_gradient_array"] == FULL["numerical_gradient_array"], result.cells["numerical_gradient_array"].report
