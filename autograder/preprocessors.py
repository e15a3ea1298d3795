"""nbgrader preprocessors the course configuration plugs into nbgrader's own steps.

RobustExecute    (autograde) nbgrader's Execute, but the notebook always finishes: when the kernel
                 dies or stops answering, that cell and every later code cell get an error output
                 (so they score 0 and say why) instead of the whole notebook being thrown away.
                 Cells tagged ``experiment`` are not run (they carry no points, and no graded cell
                 depends on them): grading costs the graded cells, not the experiments.
HideHiddenTests  (feedback) removes the hidden test regions from the cells shown to the student,
                 and their lines from tracebacks, but keeps the outputs: the checks' messages.
StatusBanner     (feedback) puts a note at the top when the student's run timed out or crashed.
"""
from __future__ import annotations

import re

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_markdown_cell, new_output
from traitlets import Unicode

from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor

from .status import (ABNORMAL, KERNEL_DIED_ENAME, KERNEL_STUCK_ENAME, NOT_RUN_ENAME,
                     SubmissionStatus, cell_label)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

EXPERIMENT_TAG = "experiment"  # a code cell the grader does not run (docs/authoring_notebooks.md)
EXPERIMENT_NOTE = ("[experiment: not re-run by the autograder, it carries no points; "
                   "your own run shows its plots and its claim]\n")


def is_experiment(cell) -> bool:
    """True for a code cell tagged ``experiment``."""
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.get("cell_type") == "code" and isinstance(tags, list) and EXPERIMENT_TAG in tags


def without_experiments(nb):
    """A copy of ``nb`` whose experiment cells are emptied (for validating the graded cells only)."""
    import nbformat

    copy = nbformat.from_dict(nb)
    for cell in copy.cells:
        if is_experiment(cell):
            cell.source, cell.outputs = "", []
    return copy


def error_output(ename: str, evalue: str):
    """An error output as a kernel would send it (nbgrader scores a cell holding one 0)."""
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class RobustExecute(Execute):
    """Execute every cell; after a dead or unresponsive kernel, mark the remaining cells as not run.

    A cell that runs past ``timeout`` is interrupted as in nbgrader (it gets a CellTimeoutError
    output) and the next cells still run. If the interrupted kernel does not come back, or the
    kernel process dies (``os._exit``, a segfault, the OOM killer), nbclient raises; nbgrader would
    then drop the notebook and every grade in it. Here the notebook is kept: what ran before keeps
    its outputs and points, the rest scores 0 with a message saying why.
    """

    def preprocess(self, nb, resources=None, km=None):
        self._stopped = None  # why the kernel can no longer run cells, once it cannot
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if is_experiment(cell):
            cell.outputs = [new_output("stream", name="stdout", text=EXPERIMENT_NOTE)]
            return cell, resources
        if self._stopped is not None:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [error_output(NOT_RUN_ENAME, f"not run: {self._stopped}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = f"the kernel died while running {cell_label(cell, index)}"
            cell.outputs.append(error_output(KERNEL_DIED_ENAME, self._stopped))
        except CellTimeoutError:
            self._stopped = (f"the kernel stopped responding in {cell_label(cell, index)} "
                             "(it did not come back after an interrupt)")
            cell.outputs.append(error_output(KERNEL_STUCK_ENAME, self._stopped))
        self.log.warning("%s; the cells after it are marked as not run", self._stopped)
        return cell, resources


class HideHiddenTests(ClearHiddenTests):
    """nbgrader's ClearHiddenTests for feedback: hide the test code, keep what the tests printed.

    The lines of a hidden region are also replaced in the cell's tracebacks (IPython quotes the
    source lines around the failing one), so an error never reveals them.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        hidden = self._hidden_lines(cell.source)
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if hidden and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output.traceback = [self._scrub(entry, hidden) for entry in output.traceback]
        return cell, resources

    def _hidden_lines(self, source: str) -> list[str]:
        """The hidden regions' lines, delimiters included (stripped, non-blank)."""
        lines, inside = [], False
        for line in source.splitlines():
            if self.begin_test_delimeter in line:
                inside = True
            if inside and line.strip():
                lines.append(line.strip())
            if self.end_test_delimeter in line:
                inside = False
        return lines

    @staticmethod
    def _scrub(entry: str, hidden: list[str]) -> str:
        kept = []
        for line in entry.split("\n"):
            plain = _ANSI.sub("", line)
            kept.append("      (hidden test)" if any(h in plain for h in hidden) else line)
        return "\n".join(kept)


class StatusBanner(NbGraderPreprocessor):
    """Feedback: a note at the top of the notebook when grading did not run normally."""

    status_dir = Unicode("", help="Folder of labgrade's per-student status files").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        status = None
        if self.status_dir:
            status = SubmissionStatus.load(self.status_dir, info.get("assignment", ""),
                                           info.get("student", ""))
        outcome = status.notebooks.get(info.get("notebook", "")) if status else None
        if outcome is not None and outcome.code in ABNORMAL:
            nb.cells.insert(0, new_markdown_cell(
                "<div class=\"alert alert-danger\"><b>Grading note: this notebook did not run "
                f"normally.</b> {outcome.message[:1].upper()}{outcome.message[1:]}.<br>A cell that did not finish, or "
                "did not run, scores 0; so do the tests that needed what it should have defined. "
                "Make sure every cell of your notebook runs quickly from a fresh kernel "
                "(Kernel &rarr; Restart and run all) before you submit.</div>"))
        return nb, resources
