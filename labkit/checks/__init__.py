"""The checks that grade student functions: ``checks.<function>(student callables, points=P, seed=S)``.

Each prints a readable report on stdout and returns a ``CheckResult`` whose text form is the points
earned (nbgrader's partial credit). The same name everywhere: ``checks.affine_forward`` checks the
student's ``affine_forward``. Visible self-checks use the default seed; hidden tests pass another.

Example
-------
>>> from labkit import checks
>>> checks.affine_forward(affine_forward, points=3)      # doctest: +SKIP
"""
from __future__ import annotations

from .core import TOL, Check, CheckResult, SubCheck  # noqa: F401
from .gradients import numerical_gradient, numerical_gradient_array  # noqa: F401
from .gradients import rel_error_check as rel_error  # noqa: F401
from .layers import affine_backward, affine_forward  # noqa: F401
from .losses import (  # noqa: F401
    binary_cross_entropy_with_logits,
    l1_loss,
    mse_loss,
    multiclass_hinge_loss,
    softmax_cross_entropy,
)
