"""Hidden cases per student: seeds are an HMAC of student, assignment and cell under the course's secret,
created once, kept in the course directory, sent to the grading threads as derived seeds only."""
from __future__ import annotations

import stat
import threading

import torch

from autograder.secret import SECRET_FILE, SeedProvider, course_secret, hidden_seed, seeds_for
from labkit import checks


def test_the_secret_is_created_once_readable_by_its_owner_only(tmp_path):
    secret = course_secret(tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert course_secret(tmp_path) == secret and len(secret) >= 64
    assert course_secret(tmp_path / "other") != secret


def test_two_students_get_different_hidden_cases_and_the_same_student_the_same(tmp_path):
    a = seeds_for(tmp_path, "alice", "00_x", ["mse_loss"])
    b = seeds_for(tmp_path, "bob", "00_x", ["mse_loss"])
    assert a == seeds_for(tmp_path, "alice", "00_x", ["mse_loss"])
    assert a["mse_loss"] != b["mse_loss"] and set(checks.REGISTRY) <= set(a)
    assert seeds_for(tmp_path, "alice", "01_y", ["mse_loss"])["mse_loss"] != a["mse_loss"]
    secret = course_secret(tmp_path)
    assert a["mse_loss"] == hidden_seed(secret, "alice", "00_x", "mse_loss")
    assert secret.decode() not in repr(a)


def test_each_grading_thread_draws_its_own_students_hidden_cases(tmp_path):
    """The scorer grades several submissions in threads: each sets the provider in its own context."""
    name = "mse_loss"
    students = {s: seeds_for(tmp_path, s, "00_x", [name]) for s in ("alice", "bob", "carol")}
    seen, barrier = {}, threading.Barrier(len(students))

    def grade(student):
        token = checks.HIDDEN_SEEDS.set(SeedProvider(students[student]))
        try:
            barrier.wait()
            result = checks.mse_loss(lambda p, t: ((p - t) ** 2).mean(), points=1, cases="hidden", quiet=True)
            seen[student] = (checks.hidden_seed(name), result.seed)
        finally:
            checks.HIDDEN_SEEDS.reset(token)

    threads = [threading.Thread(target=grade, args=(s,)) for s in students]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for student, (drawn, used) in seen.items():
        assert drawn == used == students[student][name] & 0x7FFFFFFF
    assert len({used for _, used in seen.values()}) == len(students)
    assert checks.HIDDEN_SEEDS.get() is None  # nothing leaks into the main thread's context


def test_a_new_secret_regrades_everyone_and_the_ledger_key_does_not_hold_it(tmp_path):
    from types import SimpleNamespace

    from autograder import ledger
    from autograder.grade import Limits

    (tmp_path / "source").mkdir()
    course = SimpleNamespace(root=tmp_path, path=lambda step, assignment: tmp_path / step)
    before = ledger.source_hash(course, "00_x", Limits())
    assert before == ledger.source_hash(course, "00_x", Limits())
    secret = course_secret(tmp_path)
    assert secret.decode() not in before
    (tmp_path / SECRET_FILE).unlink()
    assert ledger.source_hash(course, "00_x", Limits()) != before
