"""A graded function's check, declared: what to call, on which cases, against what, and what can go wrong.

A :class:`Spec` is data. The generic runner (``runner.py``) turns it into sub-checks: every output
against the reference; every gradient of a backward also against centred differences of the
student's own forward; extra :class:`Probe` cases (keyword arguments honoured, extremes, rules the
notebook states); inputs not modified in place; dtype and device kept for float32 and float64;
forbidden calls; an exception shown once. A :class:`Diagnosis` turns a measured symptom into a hint.
A state dict argument (``bn_param``) is declared with ``Spec.state``: the runner copies it for every
call, grades the declared keys after the call and replays a case's ``before`` calls with one shared dict.

Kinds (``Spec.kind``) and what the student's callables return:

``function``  ``fn(*args) -> outputs`` (one value, or a tuple named by ``outputs``)
``loss``      ``fn(pred, target, ...) -> (loss, dpred)``
``forward``   ``forward(*args) -> (out, cache)``; ``out`` is compared, the cache is free
``backward``  checked as the pair ``(forward, backward)``: ``backward(dout, forward(*args)[1])``
              returns one gradient per name in ``grads`` (in the order of the forward's arguments)
``random``    ``fn(*args, generator=g) -> outputs`` drawn at random: never compared with the reference's
              draws. The reference gives only the outputs' shapes; each :class:`Statistic` judges a
              property of the draws within an interval derived from the sample size (``stats.py``),
              and the runner adds the rules of explicit randomness: equal generator states give equal
              draws, different ones different draws, the global RNG is left alone; with ``dtype_arg``
              the dtype (and device) asked for comes back
``trajectory`` an update rule ``rule(w, dw, config) -> (next_w, config)`` stepped over a sequence of
              gradients; the weights after every step are compared (``trajectory.py``)
``list``      ``fn(*args) -> outputs`` where an output may be a list of tensors, each shaped like the
              matching tensor of the first (list) argument (``trajectory.py``)

See ``docs/student_api.md`` ("How to write a check") for a complete example.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

__all__ = ["Spec", "Probe", "Diagnosis", "Case", "Draw", "Evidence", "Statistic"]

KINDS = ("function", "loss", "forward", "backward", "random", "trajectory", "list")


@dataclass
class Case:
    """The inputs of one call; ``expect`` replaces the reference's outputs when given."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    expect: Any = None
    dout: Any = None  # a backward's upstream gradient (drawn by the runner)
    seed: int | None = None  # a random function's generator seed (drawn by the runner)
    before: list = field(default_factory=list)  # earlier calls (argument tuples) sharing the state dict (Spec.state)

    @classmethod
    def of(cls, value) -> Case:
        return value if isinstance(value, Case) else cls(tuple(value))


class Draw:
    """Seeded random inputs for the cases of one check (never the global RNG)."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(int(seed))

    def randn(self, *shape: int, scale: float = 1.0, dtype=torch.float64) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=self.generator, dtype=dtype)

    def rand(self, *shape: int, dtype=torch.float64) -> torch.Tensor:
        return torch.rand(*shape, generator=self.generator, dtype=dtype)

    def randint(self, low: int, high: int, shape: Sequence[int]) -> torch.Tensor:
        return torch.randint(low, high, tuple(shape), generator=self.generator)

    def choice(self, options: Sequence):
        return options[int(torch.randint(len(options), (1,), generator=self.generator))]

    def permutation(self, n: int) -> list[int]:
        return torch.randperm(n, generator=self.generator).tolist()


@dataclass
class Evidence:
    """What one output's sub-check measured: for each case, the inputs, what came back and what was expected."""

    output: str
    cases: list[Case]
    got: list[torch.Tensor]
    want: list[torch.Tensor]

    def matches(self, transform: Callable[[Case, torch.Tensor], torch.Tensor], tol: str = "diagnosis") -> bool:
        """True when, on every case, the output equals ``transform(case, expected)`` within ``TOL[tol]``."""
        from .core import TOL, StudentError, scaled_error

        tol = TOL[tol]
        try:
            return bool(self.got) and all(
                g.shape == w.shape and scaled_error(g, torch.as_tensor(transform(c, w), dtype=torch.float64)) <= tol
                for c, g, w in zip(self.cases, self.got, self.want))
        except (StudentError, RuntimeError, ValueError, TypeError, IndexError):
            return False

    def holds(self, predicate: Callable[[Case, torch.Tensor, torch.Tensor], bool]) -> bool:
        """True when ``predicate(case, got, expected)`` holds on every case."""
        try:
            return bool(self.got) and all(bool(predicate(c, g, w)) for c, g, w in zip(self.cases, self.got, self.want))
        except (RuntimeError, ValueError, TypeError, IndexError):
            return False

    def matches_fn(self, other: Callable, tol: str = "diagnosis") -> bool:
        """True when the output equals ``other(*args, **kwargs)`` (an alternative, wrong formula)."""
        return self.matches(lambda c, w: other(*c.args, **c.kwargs), tol)


@dataclass
class Diagnosis:
    """A named bug: when ``when(evidence)`` holds for a failed output, ``hint`` is printed."""

    hint: str
    when: Callable[[Evidence], bool]
    output: str | None = None  # the output it applies to (None: any)


@dataclass
class Probe:
    """An extra case with its own sub-check: a keyword argument honoured, an extreme, a stated rule.

    By default the reference (or ``expect(case)``) gives the expected outputs, compared within
    ``TOL[tol]``. ``raises`` instead requires that exception type. A probe is judged only when the
    value sub-checks passed (``after_values``), so one bug is not charged twice.
    """

    name: str
    case: Callable[[Draw], Any]
    expect: Callable[[Case], Any] | None = None
    raises: type[BaseException] | None = None
    tol: str = "value"
    weight: float = 1.0
    outputs: tuple[str, ...] | None = None
    hint: str = ""
    diagnoses: list[Diagnosis] = field(default_factory=list)
    after_values: bool = True


@dataclass
class Statistic:
    """A property of a random function's draws (kind ``random``), judged on every case.

    ``measure(case, outputs) -> (value, low, high)``: ``outputs`` are the student's outputs on the case
    as plain float64 CPU tensors (``spec.outputs`` order); the property holds when ``low <= value <=
    high``. The interval comes from the sample size, so that a correct function fails it with a
    probability below ``TOL["false_failure"]`` (build it with ``labkit.checks.stats``); an exact
    property (a bound) uses a fixed interval. Diagnoses see the values as ``Evidence.got`` and the
    centres of the intervals as ``Evidence.want`` (one 0-d tensor per case). ``requires`` names statistics
    whose failure already explains this one's (a law too wide also leaves its bound): then it is SKIPped.
    """

    name: str
    measure: Callable[[Case, tuple], tuple[float, float, float]]
    weight: float = 1.0
    hint: str = ""
    diagnoses: list[Diagnosis] = field(default_factory=list)
    requires: tuple[str, ...] = ()  # statistics (by name) that must pass before this one is judged


@dataclass
class Spec:
    """The check of one graded function: the same name is the nbgrader ``grade_id`` and the reference."""

    name: str
    kind: str
    cases: Callable[[Draw], list]
    outputs: tuple[str, ...]
    reference: Callable | None = None  # default: labkit.reference.<name> (<forward>/<name> for a backward)
    tol: str = "value"
    weights: dict[str, float] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    hints: dict[str, str] = field(default_factory=dict)  # the default hint of each output
    forbid: tuple[str, ...] = ()  # qualified names of torch functions the student may not call
    calls: tuple[str, ...] = ()  # graded functions it may call: graded with their references instead
    returns_float: bool = False  # the (single) output must be a Python float
    returns_int: bool = False  # every output must be a Python int
    keeps_dtype: bool = True
    forward: str | None = None  # backward: the name of its forward
    grads: tuple[str, ...] = ()  # backward: the forward's argument each gradient belongs to
    statistics: list[Statistic] = field(default_factory=list)  # random: the properties of the draws
    generator: str = "generator"  # random: the keyword argument that takes the torch.Generator
    dtype_arg: str | None = None  # random: the keyword argument naming the dtype to return (else: kept)
    device_arg: str | None = None  # random: the keyword argument naming the device to return
    # A state dict argument the function updates in place (``bn_param``): (its name, the keys it may change).
    # Only those keys may change (the in-place sub-check ignores them). For a forward or a function they are
    # also outputs: the last names of ``outputs``, read from the dict after the call. A case's ``before``
    # calls run first with the same dict (each one's dict entries set before its call).
    state: tuple[str, tuple[str, ...]] | None = None
    # turns the student's callable (and the reference) into the one the cases call: e.g. a schedule
    # judged over a range of steps, a class driven by a sequence (see labkit/checks/sequences.py)
    adapt: Callable | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"spec {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "backward" and (not self.forward or len(self.grads) != len(self.outputs)):
            raise ValueError(f"spec {self.name}: a backward names its forward and one argument per gradient")
        if self.kind == "random":
            if not self.statistics:
                raise ValueError(f"spec {self.name}: a random function is judged by statistics=[...]")
            if any(p.expect is None and p.raises is None for p in self.probes):
                raise ValueError(f"spec {self.name}: a random function's probe needs expect= or raises= "
                                 "(the reference's draws are not the student's)")
        elif self.statistics:
            raise ValueError(f"spec {self.name}: statistics are for kind 'random'")
        if self.state is not None and self.kind != "backward" and \
                tuple(self.outputs[len(self.outputs) - len(self.state[1]):]) != tuple(self.state[1]):
            raise ValueError(f"spec {self.name}: the state keys {self.state[1]} end the outputs")

    @property
    def returned(self) -> int:
        """How many of ``outputs`` the function returns (the rest are read from its state dict)."""
        if self.state is None or self.kind == "backward":
            return len(self.outputs)
        return len(self.outputs) - len(self.state[1])

    @property
    def arity(self) -> int:
        """How many student callables the check takes."""
        return 2 if self.kind == "backward" else 1

    def weight(self, output: str) -> float:
        return self.weights.get(output, 2.0)
