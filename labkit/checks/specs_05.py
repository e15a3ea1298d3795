"""Specs of notebook 05 (optimizers): seven update rules judged step for step against ``torch.optim``,
and gradient clipping by global norm and by value.

A rule's case feeds it a drawn sequence of gradients (``T`` of 12 to 18 steps) and compares the weights
after every step with the trajectory of the ``torch.optim`` class it is named after, with the same
hyper-parameters (kind ``trajectory``, see ``trajectory.py``). The main cases state every
hyper-parameter (non-default values, weight decay on and off where the contract has it); a probe
leaves ``config`` empty to check the defaults. The hints name the symptom: which known mistake the
trajectory matches, or at which step it leaves the optimizer's.
"""
from __future__ import annotations

import math

import torch

from .answers import Answer
from .spec import Case, Diagnosis, Probe, Spec
from .trajectory import divergence_diagnosis, optim_trajectory

__all__ = ["SPECS", "ANSWERS", "DEFAULTS", "torch_optimizer"]

#: the contract's defaults of every rule (docs/student_api.md, section 05)
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2, "weight_decay": 0.0},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "sgd_nesterov": {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "adagrad": {"learning_rate": 1e-2, "eps": 1e-10},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "eps": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
}
OPTIMIZERS = ("torch.optim.SGD", "torch.optim.Adagrad", "torch.optim.RMSprop", "torch.optim.Adam", "torch.optim.AdamW")


def torch_optimizer(rule: str, hyper: dict) -> tuple[type, dict]:
    """The ``torch.optim`` class of ``rule`` and its keyword arguments for the contract's ``hyper``."""
    h = {**DEFAULTS[rule], **hyper}
    if rule in ("sgd", "sgd_momentum", "sgd_nesterov"):
        kw = {"lr": h["learning_rate"], "weight_decay": h["weight_decay"]}
        if rule != "sgd":
            kw.update(momentum=h["momentum"], nesterov=rule == "sgd_nesterov")
        return torch.optim.SGD, kw
    if rule == "adagrad":
        return torch.optim.Adagrad, {"lr": h["learning_rate"], "eps": h["eps"]}
    if rule == "rmsprop":
        return torch.optim.RMSprop, {"lr": h["learning_rate"], "alpha": h["decay_rate"], "eps": h["eps"]}
    cls = torch.optim.Adam if rule == "adam" else torch.optim.AdamW
    return cls, {"lr": h["learning_rate"], "betas": (h["beta1"], h["beta2"]), "eps": h["eps"],
                 "weight_decay": h["weight_decay"]}


def _case(rule: str, w0, dws, hyper) -> Case:
    cls, kw = torch_optimizer(rule, hyper)
    return Case((w0, dws, hyper), expect=optim_trajectory(cls, kw, w0, dws))


def _gradients(d, shape, steps, scale):
    """A drift the momentum methods can build on, plus noise that changes sign from step to step."""
    drift = d.randn(*shape)
    return scale * (drift + 0.7 * d.randn(steps, *shape))


def _hyper(rule: str, d, i: int) -> dict:
    """Case i's hyper-parameters: every key stated, non-default values, weight decay off in case 0."""
    wd = [0.0, d.choice([0.05, 0.1]), d.choice([0.01, 0.3])][i]
    if rule == "sgd":
        return {"learning_rate": d.choice([0.05, 0.1, 0.2]), "weight_decay": wd}
    if rule in ("sgd_momentum", "sgd_nesterov"):
        return {"learning_rate": d.choice([0.02, 0.05]), "momentum": d.choice([0.5, 0.8, 0.95]), "weight_decay": wd}
    if rule == "adagrad":
        return {"learning_rate": d.choice([0.1, 0.3, 0.5]), "eps": [1e-10, 0.1, 1e-3][i]}
    if rule == "rmsprop":
        return {"learning_rate": d.choice([0.01, 0.03]), "decay_rate": [0.9, d.choice([0.5, 0.8]), 0.99][i],
                "eps": [1e-8, 0.1, 1e-3][i]}
    hyper = {"learning_rate": d.choice([0.01, 0.05]), "beta1": [0.9, d.choice([0.5, 0.8]), 0.7][i],
             "beta2": [0.999, d.choice([0.9, 0.99]), 0.95][i], "eps": [1e-8, 0.1, 1e-3][i]}
    hyper["weight_decay"] = wd if rule == "adam" else [0.01, d.choice([0.1, 0.2]), 0.5][i]
    return hyper


def _rule_cases(rule: str):
    def cases(d):
        shapes = [(d.choice([3, 5, 7]),), (d.choice([2, 3]), d.choice([3, 4])), (d.choice([6, 10]),)]
        scales = [1.0, d.choice([0.3, 3.0]), d.choice([0.1, 10.0])]
        out = []
        for i, (shape, scale) in enumerate(zip(shapes, scales)):
            steps = d.choice([12, 15, 18])  # every rule of the catalogue shows its bug within a few steps
            out.append(_case(rule, d.randn(*shape), _gradients(d, shape, steps, scale), _hyper(rule, d, i)))
        return out
    return cases


def _defaults_probe(rule: str) -> Probe:
    def case(d):
        shape = (d.choice([4, 6]),)
        return _case(rule, d.randn(*shape), _gradients(d, shape, 30, 1.0), {})
    hint = "with an empty config the trajectory differs: a default differs from the contract's table"
    return Probe("applies the contract's defaults when config is empty", case, weight=1.0, hint=hint,
                 diagnoses=[Diagnosis(hint, lambda ev: True)])


# --- known mistakes, as alternative trajectories -------------------------------------------------

def _drive(step):
    """The weights of an alternative rule ``step(w, g, state, h, t) -> w`` over a case."""
    def trajectory(case: Case, rule: str):
        w0, dws, hyper = case.args[:3]
        h = {**DEFAULTS[rule], **hyper}
        w, state, out = w0.clone(), {}, []
        for t, g in enumerate(dws, start=1):
            w = step(w, g, state, h, t)
            out.append(w.clone())
        return torch.stack(out)
    return trajectory


def _sgd_family(momentum_on=True, nesterov=False, dampening=False, keep=True, decay_after=False, lr=None,
                decay=True):
    def step(w, g, s, h, t):
        rate = h["learning_rate"] if lr is None else lr
        wd = h.get("weight_decay", 0.0) if decay else 0.0
        if not decay_after:
            g = g + wd * w
        if momentum_on:
            mu = h["momentum"]
            v = s.get("v") if keep else None
            if dampening:  # an exponential average started at 0
                v = mu * (torch.zeros_like(w) if v is None else v) + (1 - mu) * g
            else:
                v = g.clone() if v is None else mu * v + g
            s["v"] = v
            g = g + mu * v if nesterov else v
        w = w - rate * g
        return w - rate * wd * w if decay_after else w
    return step


def _adagrad_like(sqrt=True, eps_inside=False, keep=True, leaky=None, swapped=False):
    def step(w, g, s, h, t):
        c = s.get("c", torch.zeros_like(w)) if keep else torch.zeros_like(w)
        if leaky is None:
            c = c + g * g
        else:
            rho = h["decay_rate"]
            c = (1 - rho) * c + rho * g * g if swapped else rho * c + (1 - rho) * g * g
        s["c"] = c
        denom = (c + h["eps"]).sqrt() if eps_inside else (c.sqrt() if sqrt else c) + h["eps"]
        return w - h["learning_rate"] * g / denom
    return step


def _adam_like(correct=True, eps_inside=False, t_stuck=False, decoupled=None, decay_unscaled=False):
    def step(w, g, s, h, t):
        lr, b1, b2, wd = h["learning_rate"], h["beta1"], h["beta2"], h["weight_decay"]
        dec = decoupled
        if not dec:  # L2: the decay term joins the gradient
            g = g + wd * w
        m = b1 * s.get("m", torch.zeros_like(w)) + (1 - b1) * g
        v = b2 * s.get("v", torch.zeros_like(w)) + (1 - b2) * g * g
        s["m"], s["v"] = m, v
        k = 1 if t_stuck else t
        mh, vh = (m / (1 - b1 ** k), v / (1 - b2 ** k)) if correct else (m, v)
        step_ = mh / ((vh + h["eps"]).sqrt() if eps_inside else vh.sqrt() + h["eps"])
        if dec:
            w = w * (1 - (wd if decay_unscaled else lr * wd))
        return w - lr * step_
    return step


def _known(hint: str, step, rule: str) -> Diagnosis:
    alt = _drive(step)
    return Diagnosis(hint, lambda ev: ev.matches(lambda c, w: alt(c, rule)), output="weights")


def _with(rule, hyper, **changes):
    return {**DEFAULTS[rule], **hyper, **changes}


LR_IGNORED = "the trajectory is the one of the default learning rate: config's learning_rate is not read"
NO_DECAY = "the trajectory is the one without weight decay: config's weight_decay is ignored"
DECAY_AFTER = ("the trajectory matches a decay applied to the new weights after the step: torch.optim.SGD adds the "
               "decay term to the gradient before everything else")


def _sgd_diagnoses(rule: str) -> list[Diagnosis]:
    mom, nest = rule != "sgd", rule == "sgd_nesterov"
    found = [_known(LR_IGNORED, _sgd_family(mom, nest, lr=1e-2), rule),
             _known(NO_DECAY, _sgd_family(mom, nest, decay=False), rule),
             _known(DECAY_AFTER, _sgd_family(mom, nest, decay_after=True), rule)]
    if mom:
        found += [_known("the trajectory is plain SGD's: the velocity does not survive from one step to the next "
                         "(keep it in config)", _sgd_family(False), rule),
                  _known("the velocity is an average that weights the new gradient by (1 - momentum) (dampening); "
                         "torch.optim.SGD's velocity does not", _sgd_family(True, nest, dampening=True), rule)]
    if nest:
        found.append(_known("the trajectory is the one of standard momentum: the Nesterov look-ahead is missing",
                            _sgd_family(True, False), rule))
    if rule == "sgd_momentum":
        found.append(_known("the trajectory is the one of Nesterov momentum: standard momentum steps along the "
                            "velocity alone", _sgd_family(True, True), rule))
    return found + [divergence_diagnosis()]


EPS_INSIDE = "the trajectory matches eps added inside the square root: torch adds it to the square root"


def _adagrad_diagnoses() -> list[Diagnosis]:
    return [_known("the steps are far too small: the accumulated sum is used without its square root",
                   _adagrad_like(sqrt=False), "adagrad"),
            _known(EPS_INSIDE, _adagrad_like(eps_inside=True), "adagrad"),
            _known("the trajectory matches a sum that restarts at every step: keep the accumulated squares in config",
                   _adagrad_like(keep=False), "adagrad"),
            divergence_diagnosis()]


def _rmsprop_diagnoses() -> list[Diagnosis]:
    return [_known("the two weights of the running average are swapped: decay_rate belongs to the old average",
                   _adagrad_like(leaky=True, swapped=True), "rmsprop"),
            _known(EPS_INSIDE, _adagrad_like(leaky=True, eps_inside=True), "rmsprop"),
            _known("the trajectory is AdaGrad's: the squared gradients are summed, not averaged with decay_rate",
                   _adagrad_like(), "rmsprop"),
            _known("the trajectory matches an average that restarts at every step: keep it in config",
                   _adagrad_like(leaky=True, keep=False), "rmsprop"),
            divergence_diagnosis()]


def _adam_diagnoses(rule: str) -> list[Diagnosis]:
    dec = rule == "adamw"
    found = [_known("the trajectory is Adam's without bias correction: the first steps are too large",
                    _adam_like(correct=False, decoupled=dec), rule),
             _known("the bias correction uses t = 1 at every step: the step counter must grow (keep it in config)",
                    _adam_like(t_stuck=True, decoupled=dec), rule),
             _known(EPS_INSIDE, _adam_like(eps_inside=True, decoupled=dec), rule)]
    if dec:
        found += [_known("the trajectory is Adam's with the decay added to the gradient (L2): AdamW decouples the "
                         "decay from the adaptive step", _adam_like(decoupled=False), rule),
                  _known("the decoupled decay is not scaled by the learning rate, as torch.optim.AdamW's is",
                         _adam_like(decoupled=True, decay_unscaled=True), rule)]
    else:
        found.append(_known("the trajectory is AdamW's: Adam's weight_decay is an L2 term added to the gradient, "
                            "not a decoupled shrinking of the weights", _adam_like(decoupled=True), rule))
    return found + [divergence_diagnosis()]


def _rule_spec(rule: str, diagnoses: list[Diagnosis]) -> Spec:
    cls, _ = torch_optimizer(rule, {})
    name = f"torch.optim.{cls.__name__}" + ("(momentum=...)" if rule == "sgd_momentum" else
                                            "(momentum=..., nesterov=True)" if rule == "sgd_nesterov" else "")
    return Spec(rule, "trajectory", _rule_cases(rule), outputs=("weights",), forbid=OPTIMIZERS,
                weights={"weights": 4.0}, probes=[_defaults_probe(rule)], diagnoses=diagnoses,
                hints={"weights": f"the weights leave {name}'s trajectory"})


# --- clipping ----------------------------------------------------------------------------------

def _grad_list(d, scale):
    shapes = [(d.choice([3, 4]), d.choice([2, 5])), (d.choice([4, 6]),), (2, 2, d.choice([2, 3]))]
    return [d.randn(*s, scale=scale) for s in shapes[: d.choice([2, 3])]]


def _norm_cases(d):
    big = _grad_list(d, 3.0)
    total = math.sqrt(sum(float((g * g).sum()) for g in big))
    small = _grad_list(d, 0.1)
    one = [d.randn(d.choice([5, 8]), scale=2.0)]
    return [(big, total / d.choice([3.0, 10.0])), (small, 5.0 + d.rand(1).item()), (one, d.choice([0.5, 1.0])),
            (_grad_list(d, 1.0), d.choice([0.25, 2.0]))]


def _value_cases(d):
    return [(_grad_list(d, 2.0), d.choice([0.5, 1.0])), (_grad_list(d, 0.1), 1.0),
            ([d.randn(d.choice([6, 9]), scale=5.0)], d.choice([0.1, 2.5]))]


def _per_tensor_norm(grads, max_norm):
    return [g * min(1.0, max_norm / (float(g.norm()) + 1e-6)) for g in grads]


SPECS = [
    _rule_spec("sgd", _sgd_diagnoses("sgd")),
    _rule_spec("sgd_momentum", _sgd_diagnoses("sgd_momentum")),
    _rule_spec("sgd_nesterov", _sgd_diagnoses("sgd_nesterov")),
    _rule_spec("adagrad", _adagrad_diagnoses()),
    _rule_spec("rmsprop", _rmsprop_diagnoses()),
    _rule_spec("adam", _adam_diagnoses("adam")),
    _rule_spec("adamw", _adam_diagnoses("adamw")),
    Spec("clip_grad_norm", "list", _norm_cases, outputs=("clipped", "total_norm"),
         forbid=("torch._foreach_norm", "torch._foreach_mul_"), weights={"clipped": 3.0, "total_norm": 1.0},
         hints={"clipped": "the clipped gradients differ from torch.nn.utils.clip_grad_norm_'s",
                "total_norm": "the total norm differs: it is the norm of all the gradients together, before "
                              "clipping"},
         diagnoses=[Diagnosis("each tensor is clipped by its own norm: the norm is global, over the whole list",
                              lambda ev: ev.matches(lambda c, w: torch.cat([g.reshape(-1) for g in
                                                                            _per_tensor_norm(*c.args)])),
                              output="clipped"),
                    Diagnosis("the total norm is the sum of the per-tensor norms; it is the norm of all the entries",
                              lambda ev: ev.matches(lambda c, w: sum(g.norm() for g in c.args[0])),
                              output="total_norm"),
                    Diagnosis("the total norm is the one after clipping; return the norm before clipping",
                              lambda ev: ev.matches(lambda c, w: torch.clamp(w, max=c.args[1])),
                              output="total_norm")],
         probes=[Probe("an all-zero gradient stays zero (no NaN)",
                       lambda d: ([torch.zeros(3, 2, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)], 1.0),
                       hint="all-zero gradients give NaN or change: a division by a norm of 0?")]),
    Spec("clip_grad_value", "list", _value_cases, outputs=("clipped",),
         forbid=("torch._foreach_clamp_min_", "torch._foreach_clamp_max_"),
         hints={"clipped": "the clipped gradients differ from torch.nn.utils.clip_grad_value_'s"},
         diagnoses=[Diagnosis("only the upper bound is applied: entries below -clip_value pass unchanged",
                              lambda ev: ev.matches(lambda c, w: torch.cat([g.clamp(max=c.args[1]).reshape(-1)
                                                                            for g in c.args[0]]))),
                    Diagnosis("entries are clipped by magnitude but lose their sign",
                              lambda ev: ev.matches(lambda c, w: w.abs()))]),
]


# --- answered questions ------------------------------------------------------------------------

ANSWERS = [
    Answer("q_momentum_gain", "number", 10.0, abs_tol=0.05,
           explain="A constant gradient g makes the velocity grow as g(1 + mu + mu^2 + ...), a geometric series "
                   "that tends to g / (1 - mu): with mu = 0.9 every step ends up 10 times the plain SGD step.",
           wrong=(0.9, 1.0, 9.0, 1.9, 0.1, 100.0), right=(10, 10.0, 9.99)),
    Answer("q_adagrad_ratio", "number", math.sqrt(2), rel_tol=0.01,
           explain="With a constant gradient the accumulated sum after t steps is t g^2, so the step is "
                   "lr / sqrt(t): from step 500 to step 1000 it shrinks by sqrt(2) = 1.414.",
           wrong=(2.0, 1.0, 0.5, 0.707), right=(1.414, 1.41421)),
    Answer("q_adam_first_step", "number", 1.0, abs_tol=0.01,
           explain="With the bias correction, m_hat = g and v_hat = g^2 at t = 1, so the first step is "
                   "lr * g / |g| = lr: 1.0 in units of lr, whatever the gradient's scale.",
           wrong=(0.1, 3.16, 0.316, 10.0, 0.0), right=(1, 1.0, 0.999)),
    Answer("q_adamw_factor", "number", (1 - 0.01 * 0.1) ** 100, rel_tol=1e-3,
           explain="With a zero data gradient AdamW's Adam part does nothing and every step multiplies the weights "
                   "by (1 - lr * weight_decay) = 0.999: after 100 steps 0.999^100 = 0.905, for every weight.",
           wrong=(0.9, 0.0, 1.0, 0.366, 0.99), right=(0.905, 0.9048)),
]
