"""What happened to one submission while it was graded: ok, errors, a timeout, a dead kernel...

One JSON file per student and assignment, ``<course>/labgrade/status/<assignment>/<student>.json``,
written by the grading step and read by the feedback (a banner) and the report (a column).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Error names written into a cell's outputs by autograder.preprocessors.RobustExecute, and by
# nbgrader's Execute when a cell runs past its time limit.
TIMEOUT_ENAME = "CellTimeoutError"
KERNEL_DIED_ENAME = "KernelDied"
KERNEL_STUCK_ENAME = "KernelNotResponding"
NOT_RUN_ENAME = "CellNotRun"

# Outcomes, mildest first: a submission's outcome is the worst outcome of its notebooks.
OK = "ok"                      # every cell ran (wrong answers still lose points)
ERRORS = "errors"              # some cells raised an error (unfinished or broken code)
TIMEOUT = "timeout"            # a cell ran past the per-cell limit and was interrupted
KERNEL_DIED = "kernel-died"    # the kernel died; the cells after it were not run
UNREADABLE = "unreadable"      # a submitted notebook is not a readable notebook
MISSING = "missing"            # no submission, or a notebook of the assignment is missing
WALL_CLOCK = "wall-clock"      # the whole submission ran past its limit and was stopped
FAILED = "grader-failed"       # nbgrader itself could not grade it (see the grading log)
INTERRUPTED = "interrupted"    # grading started but did not finish (labgrade was stopped): 0 points
INTERRUPTED_MESSAGE = "grading started but did not finish (0 points until `labgrade grade` runs again)"
SEVERITY = [OK, ERRORS, TIMEOUT, KERNEL_DIED, UNREADABLE, MISSING, WALL_CLOCK, FAILED, INTERRUPTED]
ABNORMAL = set(SEVERITY[2:])   # outcomes worth a banner at the top of the feedback


def worst(codes) -> str:
    """The most severe of some outcome codes (``ok`` for none)."""
    return max(codes, key=SEVERITY.index, default=OK)


@dataclass
class Outcome:
    """One outcome code and the sentence that explains it to a student."""
    code: str = OK
    message: str = "every cell ran"


@dataclass
class SubmissionStatus:
    """A student's outcome for one assignment: the worst of its notebooks', and each of them."""
    student: str
    assignment: str
    code: str = OK
    message: str = "every cell ran"
    notebooks: dict[str, Outcome] = field(default_factory=dict)
    seconds: float = 0.0

    def summarise(self) -> None:
        """Set ``code`` and ``message`` from the worst of the notebooks' outcomes."""
        self.code = worst(o.code for o in self.notebooks.values())
        named = len(self.notebooks) > 1
        self.message = "; ".join(f"{nb}: {o.message}" if named else o.message
                                 for nb, o in sorted(self.notebooks.items()) if o.code == self.code)

    def save(self, status_dir: Path) -> Path:
        path = Path(status_dir) / self.assignment / f"{self.student}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, status_dir: Path, assignment: str, student: str) -> SubmissionStatus | None:
        path = Path(status_dir) / assignment / f"{student}.json"
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        data["notebooks"] = {k: Outcome(**v) for k, v in data.get("notebooks", {}).items()}
        return cls(**data)


def _cells(count: int) -> str:
    return "1 cell" if count == 1 else f"{count} cells"


def cell_label(cell, index: int) -> str:
    """'cell 7 (code_clip)': 1-based position, plus the nbgrader id when the cell has one."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1} ({grade_id})" if grade_id else f"cell {index + 1}"


def notebook_outcome(nb, cell_timeout: float | None = None) -> Outcome:
    """Read an executed (autograded) notebook's outputs and say what happened while it ran."""
    errors, timed_out, died, stuck, not_run = [], [], [], [], 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        enames = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        label = cell_label(cell, index)
        if NOT_RUN_ENAME in enames:
            not_run += 1
        elif KERNEL_DIED_ENAME in enames:
            died.append(label)
        elif KERNEL_STUCK_ENAME in enames:
            stuck.append(label)
        elif TIMEOUT_ENAME in enames:
            timed_out.append(label)
        elif enames:
            errors.append(f"{label}: {enames[0]}")
    after = f"; {_cells(not_run)} after it did not run (0 points)" if not_run else ""
    if died:
        return Outcome(KERNEL_DIED, f"the kernel died while running {died[0]}{after}")
    if stuck or timed_out:
        limit = f"within {cell_timeout:g} s" if cell_timeout else "in time"
        parts = [f"{label} did not finish {limit} and was interrupted" for label in timed_out]
        parts += [f"the kernel stopped responding in {label}{after}" for label in stuck]
        return Outcome(TIMEOUT, "; ".join(parts))
    if errors:
        shown = ", ".join(errors[:3]) + (", ..." if len(errors) > 3 else "")
        return Outcome(ERRORS, f"{_cells(len(errors))} raised an error ({shown})")
    return Outcome()
