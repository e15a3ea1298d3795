"""The references as a catalogue entry may call them: unguarded (labkit/_student_code.py refuses the
guarded ones inside a check, which is what the cheats of the catalogues prove)."""
from __future__ import annotations

from types import SimpleNamespace

import labkit.reference as _reference


def _unguarded(value):
    return getattr(value, "__wrapped__", value) if getattr(value, "__labkit_answer_key__", False) else value


RAW = SimpleNamespace(**{name: _unguarded(getattr(_reference, name)) for name in dir(_reference)
                         if not name.startswith("_")})
