"""Reference implementations of the whole student API (``docs/student_api.md``).

Plain PyTorch, device- and dtype-agnostic, validated against the PyTorch / scikit-learn built-ins
in ``tests/reference``. One module per topic; everything is re-exported here so that
``labkit.reference.affine_forward`` is the reference of the student's ``affine_forward``.
"""
from __future__ import annotations

from ..gradcheck import numerical_gradient, numerical_gradient_array, rel_error  # noqa: F401
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from .init import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .schedules import *  # noqa: F401,F403
from .augment import *  # noqa: F401,F403
from .practice import *  # noqa: F401,F403


# The answer key refuses to run inside a graded function (labkit/_student_code.py): the checks score
# such a call 0 and name it. Every public function and class of the submodules is guarded (and bound
# here again), and so are the three graded functions that labkit.gradcheck implements.
from .. import _student_code as _guard  # noqa: E402
from .. import gradcheck as _gradcheck  # noqa: E402

for _module in (layers, losses, activations, init, norm, regularization, optim, schedules, augment, practice):  # noqa: F405
    _guard.guard_module(_module, _module.__all__, "labkit.reference")
    globals().update({_name: getattr(_module, _name) for _name in _module.__all__})
_GRADCHECK_GRADED = ["numerical_gradient", "numerical_gradient_array", "rel_error"]
_guard.guard_module(_gradcheck, _GRADCHECK_GRADED, "labkit.gradcheck")
globals().update({_name: getattr(_gradcheck, _name) for _name in _GRADCHECK_GRADED})
