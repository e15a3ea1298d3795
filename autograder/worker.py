"""A submission's notebooks, executed for presentation, inside the sandbox (autograder.grade starts it).

    python -m autograder.worker NOTEBOOK.ipynb... --cell-timeout 60 --out executed/

Each notebook is executed with nbclient and nbgrader's Execute semantics (RobustExecute: a cell past
its time limit is interrupted, a dead or stuck kernel marks the remaining cells as not run) in a
kernel started inside the same sandbox, and written to ``--out``. Its test cells hold no test code
(the grader blanked them): the scores come from the trusted scorer, and this run only produces what
the student sees in the feedback: the outputs of their own cells. Nothing here is trusted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import fastimport  # noqa: F401  (first: before anything imports nbformat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--cell-timeout", type=int, required=True, help="seconds per cell")
    parser.add_argument("--out", type=Path, required=True, help="folder for the executed notebooks")
    parser.add_argument("--kernel", default="python3", help="the kernel to run (default: %(default)s)")
    args = parser.parse_args(argv)

    import nbformat

    from autograder.preprocessors import RobustExecute

    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        execute = RobustExecute(timeout=args.cell_timeout, kernel_name=args.kernel)  # nbgrader's defaults
        try:
            nb, _ = execute.preprocess(nb, {"metadata": {"path": str(path.parent)}})
        except Exception as err:  # the kernel would not even start: say so in the first code cell
            print(f"{path.name}: {type(err).__name__}: {err}", file=sys.stderr)
        nbformat.write(nb, args.out / path.name)
        print(f"executed {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
