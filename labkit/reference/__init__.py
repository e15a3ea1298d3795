"""Reference implementations of the whole student API (``shared/design/STUDENT_API.md``).

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
