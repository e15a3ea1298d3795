"""The seeds of the hidden cases: an HMAC of student, assignment and test cell under the course's secret.

Hidden test cells hold no seed (``checks.X(X, points=P, cases="hidden")``): the checks ask
``labkit.checks.HIDDEN_SEEDS``, which the grader sets, per submission, to the seeds of that student.
Each seed is ``HMAC-SHA256(secret, "<student>/<assignment>/<grade_id>")`` (its first 4 bytes), so two
students get different hidden cases and nobody without the secret can draw them.

The secret is 32 random bytes in ``<course>/labgrade/secret/hidden_cases.key`` (mode 0600), created
on first use by ``labgrade grade``. It never leaves the main process: a grading task (local thread or
Dask worker) carries the derived seeds of its one submission, and nothing the grader writes (the
release, the student kit, feedback, reports, logs) holds it. Keep it with the gradebook: a new
secret gives every student new hidden cases (grades change when a course is graded again).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "labgrade/secret/hidden_cases.key"


def course_secret(root: Path) -> bytes:
    """The course's secret, created (32 random bytes, readable by its owner only) on first use."""
    path = Path(root) / SECRET_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode() + b"\n")
        finally:
            os.close(fd)
    text = path.read_text().strip()
    if len(text) < 32:
        raise ValueError(f"{path} does not hold a secret (delete it to create a new one)")
    return text.encode()


def hidden_seed(secret: bytes, student: str, assignment: str, grade_id: str) -> int:
    """The seed of the hidden cases of ``grade_id`` for ``student`` (31 bits)."""
    digest = hmac.new(secret, f"{student}/{assignment}/{grade_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def seeds_for(root: Path, student: str, assignment: str, grade_ids) -> dict[str, int]:
    """The seeds of one submission: each test cell's grade_id and each check's name (the same by convention)."""
    from labkit import checks

    secret = course_secret(root)
    names = set(grade_ids) | set(checks.REGISTRY) | set(checks.ANSWERS)
    return {name: hidden_seed(secret, student, assignment, name) for name in sorted(names)}


class SeedProvider:
    """``HIDDEN_SEEDS``'s provider for one submission: ``grade_id -> seed`` from the derived table."""

    def __init__(self, seeds: dict[str, int]):
        self.seeds = dict(seeds)

    def __call__(self, name: str) -> int:
        if name not in self.seeds:
            raise KeyError(f"no hidden seed for {name!r} in this grading task")
        return self.seeds[name]
