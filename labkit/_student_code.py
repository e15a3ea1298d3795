"""Knowing when a student's code is running, so that the answer key can refuse to help it.

The checks run a student's function inside :func:`running_student_code`. While it runs, every
function of ``labkit.reference`` (and the graded functions of ``labkit.gradcheck``) records the call
and raises :class:`ForbiddenCall` instead of answering; the check then scores 0 and names the call.
Helpers that a check hands to the student's code on purpose (the reference of a graded function the
student's function calls) are wrapped in :func:`allowed`.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
from typing import Callable

__all__ = ["ForbiddenCall", "running_student_code", "answer_key", "allowed", "guard_module", "refused"]

_LOG: contextvars.ContextVar[list | None] = contextvars.ContextVar("labkit_student_code", default=None)


class ForbiddenCall(RuntimeError):
    """A graded function called something its exercise forbids."""


@contextlib.contextmanager
def running_student_code(log: list):
    """Inside this block, calls to the answer key are appended to ``log`` and refused."""
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


def answer_key(fn: Callable, qualname: str) -> Callable:
    """``fn``, refusing to run when student code calls it (``qualname`` is the name reported).

    Calls from labkit's own modules (one reference built on another) are not the student's and pass.
    """
    if getattr(fn, "__labkit_answer_key__", False):
        return fn

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        log = _LOG.get()
        if log is not None and not sys._getframe(1).f_globals.get("__name__", "").startswith("labkit."):
            log.append(qualname)
            raise ForbiddenCall(f"{qualname} is the answer key: graded functions may not call it")
        return fn(*args, **kwargs)

    guarded.__labkit_answer_key__ = True
    return guarded


def refused(qualname: str) -> None:
    """Record that student code asked for the answer key ``qualname`` (where there is none to call: the
    student kit, the grader's sandboxes): the check then scores 0 and names it, as for a call."""
    log = _LOG.get()
    if log is not None and qualname not in log:
        log.append(qualname)


def allowed(fn: Callable) -> Callable:
    """``fn`` run as the check's own code, even when called from inside a student's function."""

    @functools.wraps(fn)
    def trusted(*args, **kwargs):
        token = _LOG.set(None)
        try:
            return fn(*args, **kwargs)
        finally:
            _LOG.reset(token)

    return trusted


def guard_module(module, names, prefix: str) -> None:
    """Replace each function ``names`` of ``module`` by its :func:`answer_key` version, in place."""
    for name in names:
        value = getattr(module, name, None)
        if callable(value) and not isinstance(value, type):
            setattr(module, name, answer_key(value, f"{prefix}.{name}"))
        elif isinstance(value, type) and not getattr(value, "__labkit_answer_key__", False):
            init = value.__init__
            value.__init__ = answer_key(init, f"{prefix}.{name}")
            value.__labkit_answer_key__ = True
