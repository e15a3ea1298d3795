"""What was graded from what: resumable grading (``labgrade grade`` grades only what is missing or changed).

``<course>/labgrade/ledger/<assignment>.jsonl``: one line per finished grading, written by the main
process after the student's grades and status, ``{"student": ..., "key": ...}``; the last line of a
student wins. The key is a hash of the submission's files, the assignment's source folder (the
notebooks and their hidden tests, the support files) and the limits that change a grade. A student
is up to date when their status is final (not 'interrupted': a run stopped before it finished them)
and their last key is the current one; everyone else is graded again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from . import status as st

LEDGER_DIR = Path("labgrade") / "ledger"


def _hash_folder(h, folder: Path) -> None:
    if not folder.is_dir():
        h.update(b"<absent>")
        return
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            h.update(f"L {rel} -> {os.readlink(path)}\n".encode())
        elif path.is_file():
            h.update(f"F {rel} {path.stat().st_size}\n".encode())
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)


def source_hash(course, assignment: str, limits) -> str:
    """The assignment's source folder, the limits that change a grade, and the course's secret (a new
    secret draws new hidden cases: autograder.secret; only an HMAC of it enters the key)."""
    from .secret import course_secret

    h = hashlib.sha256()
    _hash_folder(h, course.path("source", assignment))
    h.update(f"|{limits.cell_timeout}|{limits.submission_timeout}|{limits.sandbox}".encode())
    h.update(hmac.new(course_secret(course.root), b"labgrade ledger", hashlib.sha256).digest())
    return h.hexdigest()


def submission_key(course, assignment: str, student: str, source: str) -> str:
    """The submission's content hash, plus the source's."""
    h = hashlib.sha256(source.encode())
    _hash_folder(h, course.path("submitted", assignment, student))
    return h.hexdigest()


class Ledger:
    def __init__(self, course, assignment: str):
        self.course, self.assignment = course, assignment
        self.path = course.root / LEDGER_DIR / f"{assignment}.jsonl"
        self.keys: dict[str, str] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                    self.keys[entry["student"]] = entry["key"]
                except (ValueError, KeyError, TypeError):  # a line cut short by a kill
                    continue

    def up_to_date(self, student: str, key: str) -> bool:
        if self.keys.get(student) != key:
            return False
        status = st.SubmissionStatus.load(self.course.status_dir, self.assignment, student)
        return status is not None and status.code != st.INTERRUPTED

    def record(self, student: str, key: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(json.dumps({"student": student, "key": key}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.keys[student] = key
