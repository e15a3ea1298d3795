"""The student's side of trusted scoring: run in the sandbox, it defines the student's functions and
answers calls with plain data (``autograder.wire``). It is untrusted: nothing it says is believed
beyond being data, and the scores are computed by the trusted process that talks to it.

    python -m autograder.student_server NOTEBOOK --cell-timeout S --output-cap BYTES

It executes the notebook's setup cells (the code cells before the first solution cell) and its
solution cells, never the test cells or the experiments; IPython magics and shell lines are
skipped. Then it serves requests on stdin/stdout until told ``bye``:

``call``     run a function (by name, or a method of an object it keeps) the way a check runs student
             code (``labkit.checks.runner.call_student``) and answer with the result, the exception,
             the inputs it changed, the forbidden calls seen, and the state of each dict argument
             (a state dict such as ``bn_param`` is mirrored back)
``getattr``  an attribute of an object it keeps
``output``   what the student's code printed (capped)

While a student function runs, a callable of the trusted side is called back over the same pipes.
"""
from __future__ import annotations

import argparse
import builtins
import io
import json
import linecache
import os
import signal
import sys

__all__ = ["main"]


class _Output(io.TextIOBase):
    """Everything the student's code prints, kept up to ``cap`` characters."""

    def __init__(self, cap: int):
        self.cap, self.parts, self.size, self.dropped = cap, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        tail = f"\n[... {self.dropped} more characters of output cut]" if self.dropped else ""
        return "".join(self.parts) + tail


def _cells(path: str):
    """(index, source) of the setup cells and the solution cells, in order."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    seen_solution = False
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if meta.get("solution"):
            seen_solution = True
            yield i, source
        elif not seen_solution and not meta.get("grade"):
            yield i, source


def _plain_python(source: str) -> str:
    """The cell without IPython magics and shell escapes (they mean nothing outside a kernel)."""
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


class Server:
    def __init__(self, wire_in, wire_out, cell_timeout: int):
        from autograder import wire

        self.wire, self.inp, self.out = wire, wire_in, wire_out
        self.cell_timeout = cell_timeout
        self.namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.kept: dict[int, object] = {}

    def keep(self, obj) -> int:
        self.kept[len(self.kept) + 1] = obj
        return len(self.kept)

    def resolve(self, ref: dict):
        if "__handle__" in ref:
            if ref["__handle__"] not in self.kept:
                raise self.wire.WireError("unknown handle")
            return self.kept[ref["__handle__"]]
        n = ref["__callback__"]

        def call_back(*args, **kwargs):
            self.wire.send(self.out, {"op": "callback", "id": n, "args": self.encode(args),
                                      "kwargs": self.encode(kwargs)})
            while True:  # the check's function may call the student's back (a helper given a closure)
                reply = self.wire.receive(self.inp)
                if reply.get("op") in ("call", "getattr"):
                    self.wire.send(self.out, self.handle(reply))
                    continue
                break
            if reply.get("op") == "callback_result":
                for arg, state in zip(args, reply.get("mirror") or ()):  # a state dict it updated, updated here
                    if type(arg) is dict and type(state) is dict:
                        arg.clear()
                        arg.update(self.decode(state))
                return self.decode(reply["value"])
            raise RuntimeError(f"a function of the check failed: {reply.get('message', '')}")

        return call_back

    def encode(self, value):
        return self.wire.encode(value, self.keep)

    def decode(self, value):
        return self.wire.decode(value, self.resolve)

    def run_cells(self, path: str, skip: set[int]) -> list[str]:
        errors = []
        for index, source in _cells(path):
            if index in skip:
                errors.append(f"cell {index}: not run (it stopped the process before)")
                continue
            self.wire.send(self.out, {"op": "progress", "cell": index})  # who to blame if the process dies
            name = f"<cell {index}>"
            code_text = _plain_python(source)
            linecache.cache[name] = (len(code_text), None, code_text.splitlines(True), name)
            signal.alarm(self.cell_timeout)
            try:
                exec(compile(code_text, name, "exec"), self.namespace)
            except (Exception, SystemExit, _Timeout) as exc:
                what = "timed out" if isinstance(exc, _Timeout) else f"{type(exc).__name__}: {exc}"
                errors.append(f"cell {index}: {what}"[:300])
            finally:
                signal.alarm(0)
        return errors

    def target(self, request):
        t = request["target"]
        if "name" in t:
            if t["name"] not in self.namespace:
                raise NameError(f"name {t['name']!r} is not defined by the notebook's solution cells")
            return self.namespace[t["name"]]
        return getattr(self.decode({"__handle__": t["handle"]}), t["attr"])

    def call(self, request) -> dict:
        from labkit.checks.runner import Call, _resolve, call_student

        seen: list = []
        try:
            fn = self.target(request)
            args, kwargs = self.decode(request["args"]), self.decode(request["kwargs"])
            forbidden = {_resolve(n): n for n in request.get("forbid", [])}
            # a graded helper the function calls: the reference, run by the trusted side (a callback);
            # this process holds no answer key (the sandbox binds labkit without labkit.reference)
            helpers = self.decode(request.get("helpers") or {})
            if type(helpers) is not dict or not all(type(k) is str and callable(v) for k, v in helpers.items()):
                raise self.wire.WireError("helpers must be named callbacks")
        except Exception as exc:
            call = Call(exception=exc, error=f"{type(exc).__name__}: {exc}")
            args, kwargs = (), {}
        else:
            nested = signal.getitimer(signal.ITIMER_REAL)[0] > 0  # a call made while a callback waits
            if not nested:
                signal.alarm(self.cell_timeout)
            try:
                call = call_student(fn, tuple(args), kwargs, names=request.get("names", []), forbidden=forbidden,
                                    seen=seen, helpers=helpers or None)
            except _Timeout:
                call = Call(exception=TimeoutError(), error=f"TimeoutError: the call took over {self.cell_timeout} s")
            finally:
                if not nested:
                    signal.alarm(0)
        exc = call.exception
        return {"op": "result", "value": self.encode(call.value), "error": call.error, "changed": call.changed,
                "rng_changed": bool(call.rng_changed),
                "seen": seen, "exc_type": type(exc).__name__ if exc is not None else "",
                "exc_message": str(exc)[:2000] if exc is not None else "",
                "mirror": [self.encode(a) if type(a) is dict else None for a in args]}

    def serve(self) -> None:
        while True:
            request = self.wire.receive(self.inp)
            op = request.get("op")
            if op == "bye":
                return
            self.wire.send(self.out, self.handle(request))

    def handle(self, request) -> dict:
        """The reply to one request (also while a callback is waiting for the check)."""
        op = request.get("op")
        try:
            if op == "call":
                return self.call(request)
            if op == "getattr":
                return {"op": "result", "value": self.encode(self.target(request))}
            if op == "output":
                return {"op": "result", "value": sys.stdout.text()}
            return {"op": "error", "message": f"unknown request {op!r}"}
        except Exception as exc:
            return {"op": "error", "message": f"{type(exc).__name__}: {exc}"[:2000]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.student_server")
    parser.add_argument("notebook")
    parser.add_argument("--cell-timeout", type=int, default=60)
    parser.add_argument("--output-cap", type=int, default=100_000)
    parser.add_argument("--skip", type=int, action="append", default=[], help="a cell index not to run")
    args = parser.parse_args(argv)
    # The protocol keeps the real stdin/stdout; the student's code gets a capped buffer and no stdin.
    wire_in = os.fdopen(os.dup(0), "rb", buffering=0)
    wire_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0), os.dup2(devnull, 1), os.dup2(devnull, 2)
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr = _Output(args.output_cap)
    signal.signal(signal.SIGALRM, _alarm)
    server = Server(wire_in, wire_out, args.cell_timeout)
    import torch  # noqa: F401  (before the student's code, so the cells' time is theirs)
    from autograder import wire

    errors = server.run_cells(args.notebook, set(args.skip))
    defined = sorted(n for n, v in server.namespace.items() if callable(v) and not n.startswith("_"))
    wire.send(wire_out, {"op": "ready", "defined": defined, "cell_errors": errors})
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
