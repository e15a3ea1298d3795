"""Trusted scoring: the instructor's test cells run here, against proxies of the student's functions.

The submission's setup and solution cells run in a sandboxed process (``autograder.student_server``
under ``autograder.sandbox``). This process never runs student code: it executes each test cell of
the course's *source* notebook (hidden tests included) with ``checks`` and, for every other name the
cell uses, a :class:`Remote` proxy. A check calls a proxy like any student function; the call crosses
as plain data (``autograder.wire``), a callable of the check is called back, a state dict the
student's function updates (``bn_param``, an optimizer's ``config``) is mirrored back, and an object
the student's code keeps (a layer's cache, an ``EarlyStopping`` instance) stays on the student's side
behind a handle. A cell's points are its last value's ``earned``, clamped to [0, max points]; a cell
that raises or leaves no check result scores 0.

    result = score_notebook(submitted_notebook, test_cells, workdir, limits)
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import sandbox as sandboxing
from . import wire

__all__ = ["TestCell", "CellScore", "NotebookScore", "ScoreLimits", "score_notebook", "Remote", "StudentProcess"]

REPORT_CAP = 20_000  # characters of a check's printed report kept for feedback
MAX_RESTARTS = 3  # a student's process that died or hung is started again for the next cell, this often


@dataclass
class TestCell:
    grade_id: str
    source: str
    max_points: float


@dataclass
class CellScore:
    grade_id: str
    points: float
    max_points: float
    report: str = ""
    error: str = ""


@dataclass
class NotebookScore:
    cells: dict[str, CellScore] = field(default_factory=dict)
    student_output: str = ""
    cell_errors: list[str] = field(default_factory=list)
    problem: str = ""  # why the student's process could not be used at all (every cell then scores 0)
    sandboxed: bool = True
    seconds: float = 0.0


@dataclass
class ScoreLimits:
    cell_timeout: int = 60  # seconds for the solution cells' setup, and for each call
    start_timeout: int = 120  # seconds for the student's process to start and run its cells
    output_cap: int = 100_000  # characters of the student's own printed output kept
    sandbox: bool = True
    sandbox_limits: sandboxing.SandboxLimits = field(default_factory=sandboxing.SandboxLimits)


class StudentGone(RuntimeError):
    """The student's process died, hung past a limit or broke the protocol; it has been killed."""

    def __init__(self, message: str, culprit: int | None = None):
        super().__init__(message)
        self.culprit = culprit  # the setup or solution cell that was running, when it died starting


class _DeadlineReader:
    def __init__(self, fd: int):
        self.fd, self.deadline = fd, None

    def read(self, n: int) -> bytes:
        wait = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            raise TimeoutError("the student's code did not answer in time")
        return os.read(self.fd, min(n, 1 << 20))


class StudentProcess:
    """One sandboxed ``student_server`` and the conversation with it."""

    def __init__(self, notebook: Path, workdir: Path, limits: ScoreLimits, hide: list[Path] = (),
                 skip: set[int] = frozenset()):
        self.limits = limits
        argv = [sys.executable, "-m", "autograder.student_server", notebook.name,
                "--cell-timeout", str(limits.cell_timeout), "--output-cap", str(limits.output_cap)]
        argv += [f"--skip={i}" for i in sorted(skip)]
        if limits.sandbox:
            cmd = sandboxing.wrap(argv, workdir, hide=list(hide), limits=limits.sandbox_limits)
            cwd = None
        else:
            cmd, cwd = argv, workdir
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True,
                                     env=None if limits.sandbox else _plain_env())
        self.reader = _DeadlineReader(self.proc.stdout.fileno())
        self.callbacks: dict[int, Callable] = {}
        self.dead = ""
        self.culprit: int | None = None  # the cell running when the process died while starting
        deadline = time.monotonic() + limits.start_timeout
        while True:
            try:
                message = self._receive(max(0.0, deadline - time.monotonic()))
            except StudentGone:
                self.dead = f"{self.dead} (in cell {self.culprit})" if self.culprit is not None else self.dead
                raise StudentGone(self.dead, self.culprit) from None
            if message.get("op") == "progress" and type(message.get("cell")) is int:
                self.culprit = message["cell"]
                continue
            break
        self.ready = message
        self.culprit = None
        if self.ready.get("op") != "ready":
            self.kill("it did not start")

    # conversation --------------------------------------------------------------------------
    def _receive(self, timeout: float) -> dict:
        self.reader.deadline = time.monotonic() + timeout
        try:
            message = wire.receive(self.reader)
        except (wire.WireError, TimeoutError, OSError) as exc:
            self.kill(str(exc))
            raise StudentGone(self.dead) from None
        if type(message) is not dict:
            self.kill("it sent something that is not a message")
            raise StudentGone(self.dead)
        return message

    def request(self, message: dict, timeout: float | None = None) -> dict:
        if self.dead:
            raise StudentGone(self.dead)
        timeout = self.limits.cell_timeout + 5 if timeout is None else timeout
        try:
            wire.send(self.proc.stdin, message)
        except (OSError, ValueError):
            self.kill("it stopped listening")
            raise StudentGone(self.dead) from None
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(max(0.0, deadline - time.monotonic()))
            if reply.get("op") != "callback":
                return reply
            self._answer_callback(reply)

    def _answer_callback(self, request: dict) -> None:
        fn = self.callbacks.get(request.get("id"))
        try:
            if fn is None:
                raise RuntimeError("unknown callback")
            args, kwargs = self.decode(request.get("args", ())), self.decode(request.get("kwargs", {}))
            value = fn(*args, **kwargs)
            # a state dict the check's function updated (a reference helper given bn_param) is mirrored back
            reply = {"op": "callback_result", "value": self.encode(value),
                     "mirror": [self.encode(a) if type(a) is dict else None for a in args]}
        except StudentGone:
            raise
        except Exception as exc:
            reply = {"op": "callback_error", "message": f"{type(exc).__name__}: {exc}"[:500]}
        wire.send(self.proc.stdin, reply)

    def encode(self, value):
        def callback(fn):
            self.callbacks[len(self.callbacks) + 1] = fn
            return len(self.callbacks)

        def refuse(obj):
            raise wire.WireError(f"cannot send a {type(obj).__name__} to the student's process")

        return wire.encode(value, refuse, callback)

    def decode(self, value):
        return wire.decode(value, lambda ref: Remote(self, {"handle": ref["__handle__"], "attr": "__call__"},
                                                     ref["__handle__"])
                           if "__handle__" in ref else _refused(ref))

    def kill(self, why: str) -> None:
        if not self.dead:
            self.dead = f"the student's process was stopped: {why}"
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def close(self) -> None:
        if not self.dead and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                wire.send(self.proc.stdin, {"op": "bye"})
                self.proc.wait(timeout=5)
        self.kill("grading is over")


def _refused(ref):
    raise wire.WireError("the student's process may not send a callback reference")


def _plain_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABGRADE", "JUPYTER"))}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    return env


_STOPPING = {"SystemExit", "KeyboardInterrupt", "GeneratorExit"}


class RemoteError(Exception):
    """An exception raised by the student's code on the other side (its type was not a builtin)."""


def _exception(type_name: str, message: str) -> BaseException:
    kind = getattr(builtins, type_name, None)
    if isinstance(kind, type) and issubclass(kind, BaseException) and type_name not in _STOPPING:
        try:
            return kind(message)
        except Exception:
            pass
    return RemoteError(f"{type_name}: {message}")


class Remote(wire.Handle):
    """A student's function, or an object kept by the student's process, as the trusted side sees it."""

    def __init__(self, process: StudentProcess, target: dict, handle: int = 0):
        super().__init__(handle)
        self._process, self._target = process, target

    def __repr__(self) -> str:
        return f"<student's {self._target.get('name') or 'object'} (sandboxed)>"

    def __labkit_call__(self, args, kwargs, *, names, forbidden, seen, helpers):
        from labkit.checks.runner import Call

        process = self._process
        try:
            reply = process.request({"op": "call", "target": self._target, "args": process.encode(tuple(args)),
                                     "kwargs": process.encode(dict(kwargs)), "names": list(names),
                                     "forbid": sorted(set(forbidden.values())),
                                     "helpers": process.encode(dict(helpers or {}))})
            if reply.get("op") != "result":
                raise StudentGone(str(reply.get("message", "the student's process could not run the call"))[:300])
            value = process.decode(reply.get("value"))
            for arg, state in zip(args, reply.get("mirror") or ()):
                if type(arg) is dict and type(state) is dict:
                    arg.clear()
                    arg.update(process.decode(state))
        except (StudentGone, wire.WireError) as exc:
            return Call(exception=_exception("RuntimeError", str(exc)), error=str(exc)[:300])
        allowed = set(forbidden.values())
        for name in reply.get("seen") or ():
            if type(name) is str and (name in allowed or name.startswith("labkit.")) and name not in seen:
                seen.append(name[:120])
        exc_type = str(reply.get("exc_type") or "")
        exception = _exception(exc_type, str(reply.get("exc_message", ""))) if exc_type else None
        changed = [str(c)[:60] for c in (reply.get("changed") or ())][:20]
        return Call(value=value, exception=exception, error=str(reply.get("error") or "")[:2000], changed=changed,
                    rng_changed=reply.get("rng_changed") is True)

    def __labkit_value__(self):
        """The value itself (a student's answer to a question), fetched as plain data."""
        reply = self._process.request({"op": "getattr", "target": self._target})
        if reply.get("op") != "result":
            raise RemoteError(str(reply.get("message", "the value could not be read"))[:300])
        return self._process.decode(reply.get("value"))

    def __call__(self, *args, **kwargs):
        """Called directly by trusted code (a schedule, a predict function): the value, or the exception."""
        call = self.__labkit_call__(args, kwargs, names=[], forbidden={}, seen=[], helpers=None)
        if call.exception is not None:
            raise call.exception
        return call.value

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        reply = self._process.request({"op": "getattr", "target": {"handle": self.id, "attr": attr}})
        if reply.get("op") != "result":
            raise AttributeError(f"{attr}: {reply.get('message', '')}"[:300])
        value = self._process.decode(reply.get("value"))
        if isinstance(value, Remote):  # a method: call it through its owner, so the call is named
            return Remote(self._process, {"handle": self.id, "attr": attr}, value.id)
        return value


class _ThreadStdout(io.TextIOBase):
    """sys.stdout for a process that scores several submissions at once (one thread each): what a
    check prints goes to the buffer of the thread that runs it, never into another student's report."""

    def __init__(self, real):
        self.real, self.local = real, threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        buffer = getattr(self.local, "buffer", None)
        return (buffer if buffer is not None else self.real).write(text)

    def flush(self) -> None:
        if getattr(self.local, "buffer", None) is None:
            self.real.flush()


_STDOUT_LOCK = threading.Lock()


@contextlib.contextmanager
def _captured_stdout():
    """What this thread prints inside the block, as a StringIO (other threads print as before)."""
    with _STDOUT_LOCK:
        if not isinstance(sys.stdout, _ThreadStdout):
            sys.stdout = _ThreadStdout(sys.stdout)
        router = sys.stdout
    buffer = io.StringIO()
    router.local.buffer = buffer
    try:
        yield buffer
    finally:
        router.local.buffer = None


def _names_used(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)}


def run_test_cell(source: str, namespace: dict):
    """Execute a test cell; return the value of its last expression (None when it ends otherwise)."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<test cell>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<test cell>", "eval"), namespace)


def trusted_namespace(source_notebooks: list[Path], support: Path | None = None) -> dict:
    """What the instructor's test cells may use besides the student's functions: the imports of the
    source notebooks' setup cells (the code cells before the first solution cell), run here, with the
    assignment's support folder importable (e.g. ``from labkit import checks``, ``import toychecks``)."""
    import json

    if support is not None and str(support) not in sys.path:
        sys.path.append(str(support))
    namespace: dict = {}
    for path in source_notebooks:
        for cell in json.loads(Path(path).read_text()).get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution"):
                break
            if cell.get("cell_type") != "code" or meta.get("grade"):
                continue
            source = "".join(cell.get("source", ""))
            lines = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
            imports = [n for n in ast.parse(lines).body if isinstance(n, (ast.Import, ast.ImportFrom))]
            exec(compile(ast.Module(body=imports, type_ignores=[]), str(path), "exec"), namespace)
    namespace.pop("__builtins__", None)
    return namespace


def score_cell(cell: TestCell, process: StudentProcess | None, problem: str = "",
               namespace: dict | None = None) -> CellScore:
    from labkit import checks
    from labkit.checks.answers import AnswerResult
    from labkit.checks.core import CheckResult

    score = CellScore(cell.grade_id, 0.0, float(cell.max_points))
    if process is None:
        score.error = problem or "the student's functions could not be loaded"
        return score
    trusted = namespace if namespace is not None else {"checks": checks}
    namespace = {"__builtins__": builtins, **trusted}
    for name in _names_used(cell.source) - set(trusted) - set(dir(builtins)):
        namespace[name] = Remote(process, {"name": name})
    with _captured_stdout() as printed:
        try:
            value = run_test_cell(cell.source, namespace)
        except Exception as exc:
            score.error = f"{type(exc).__name__}: {exc}"[:500]
            value = None
    score.report = printed.getvalue()[:REPORT_CAP]
    if type(value) in (CheckResult, AnswerResult, int, float):
        earned = float(value.earned) if type(value) in (CheckResult, AnswerResult) else float(value)
        score.points = min(max(earned, 0.0), score.max_points) if earned == earned else 0.0
    elif not score.error:
        score.error = "the test cell produced no check result"
    return score


def score_notebook(notebook: Path, cells: list[TestCell], workdir: Path, limits: ScoreLimits | None = None,
                   hide: list[Path] = (), namespace: dict | None = None, deadline: float | None = None) -> NotebookScore:
    """Start the student's process on ``notebook`` (a copy inside ``workdir``) and score every test cell.

    ``namespace``: what the test cells use besides the student's functions (default: ``checks``);
    past ``deadline`` (a ``time.monotonic()`` value) the remaining cells score 0."""
    limits = limits or ScoreLimits()
    started = time.monotonic()
    result = NotebookScore(sandboxed=limits.sandbox)
    process, restarts, skip = None, MAX_RESTARTS, set()

    def start():
        nonlocal process, restarts
        while True:
            try:
                process, result.problem = StudentProcess(Path(notebook), Path(workdir), limits, hide, skip), ""
                result.cell_errors = [str(e)[:300] for e in (process.ready.get("cell_errors") or [])][:50]
                return
            except StudentGone as exc:
                process, result.problem = None, str(exc)
                if exc.culprit is None or exc.culprit in skip or restarts <= 0:
                    return
                skip.add(exc.culprit)  # a cell that kills the process: start again without it
                restarts -= 1

    start()
    for cell in cells:
        if deadline is not None and time.monotonic() > deadline:
            if process is not None:
                process.kill("the submission's time was up")
            result.cells[cell.grade_id] = score_cell(cell, None, "the submission's time was up")
            continue
        if process is not None and process.dead and restarts > 0:  # a hang or a crash costs one cell only
            restarts -= 1
            start()
        alive = process is not None and not process.dead
        result.cells[cell.grade_id] = score_cell(cell, process if alive else None,
                                                 result.problem or (process.dead if process else ""), namespace)
    if process is not None and not process.dead:
        with contextlib.suppress(StudentGone):
            reply = process.request({"op": "output"}, timeout=10)
            text = reply.get("value") if reply.get("op") == "result" else ""
            result.student_output = str(text)[:limits.output_cap + 200] if type(text) is str else ""
    if process is not None:
        process.close()
    result.seconds = round(time.monotonic() - started, 2)
    return result
