"""The bundled sample classes: one per assignment, as data (the format is in sample_class/__init__).

Every bug is one a student really makes, in one function that no other graded cell calls, so the
student loses points in that function's test cell only: the check gives partial credit (the
sub-checks that still pass), and the points stated are the ones labkit.checks gives (measured with
the checks of 2026-11; update them here when a check's scoring changes). ``labgrade demo`` grades the class and compares every student's
points and status with ``expect``; tests/autograder/test_end_to_end.py does the same.
"""
from __future__ import annotations

SAMPLE_CLASSES = {
    "00_gradient_checking": {
        "assignment": "00_gradient_checking",
        "students": [
            {"student": "full_marks", "story": "the instructor's solution",
             "expect": {"status": "ok"}},
            {"student": "blank", "story": "the release, unchanged", "blank": True,
             "expect": {"status": "errors", "zero": "all"}},
            {"student": "bug_affine_backward", "story": "dw transposed: x.T @ dout, shape (D, M)",
             "patches": [{"cell": "code_affine_backward",
                          "replace": [["dw = dout.T @ x_flat", "dw = x_flat.T @ dout"]]}],
             # credit for dx and db and the no-mutation and dtype sub-checks; dw's shape and gradient
             # sub-checks fail; the notebook's later training cell (ungraded) then raises: status "errors"
             "expect": {"status": "errors", "points": {"affine_backward": 2.3333}}},
            {"student": "bug_mse_grad", "story": "mse_loss gradient misses the factor 2",
             "patches": [{"cell": "code_mse_loss",
                          "replace": [["dpred = 2 * diff / diff.numel()",
                                       "dpred = diff / diff.numel()"]]}],
             "expect": {"status": "ok", "points": {"mse_loss": 1.2}}},  # the loss is still right
            {"student": "bug_hinge_counts_label", "story": "hinge loss sums the correct class too",
             "patches": [{"cell": "code_multiclass_hinge_loss",
                          "replace": [["margins = torch.where(wrong, (scores - correct + margin)"
                                       ".clamp(min=0), torch.zeros_like(scores))",
                                       "margins = (scores - correct + margin).clamp(min=0)"]]}],
             "expect": {"status": "ok", "points": {"multiclass_hinge_loss": 2}}},  # dscores right
            {"student": "bug_softmax_overflow", "story": "softmax without the max shift: "
                                                        "overflows for large scores",
             "patches": [{"cell": "code_softmax_cross_entropy",
                          "replace": [["shifted = scores - scores.max(dim=1, keepdim=True).values",
                                       "shifted = scores"]]}],
             "expect": {"status": "ok", "points": {"softmax_cross_entropy": 4.5}}},  # fails 1e4 only
            {"student": "timeout", "story": "waits in l1_loss's cell for a flag nothing sets",
             "patches": [{"cell": "code_l1_loss",
                          "prepend": "import time\nconverged = False\nwhile not converged:  "
                                     "# nothing in the loop ever sets it\n    time.sleep(0.1)"}],
             "expect": {"status": "timeout", "zero": ["l1_loss"]}},
            {"student": "crash", "story": "its softmax cell kills the kernel (as the OOM killer "
                                          "would)",
             "patches": [{"cell": "code_softmax_cross_entropy",
                          "prepend": "import os\nos._exit(1)"}],
             "expect": {"status": "kernel-died", "zero_from": "softmax_cross_entropy"}},
            {"student": "garbage", "story": "uploads a file that is not a notebook",
             "raw": "<html>Jupyter: could not save the notebook</html>",
             "expect": {"status": "unreadable", "zero": "all"}},
        ],
    },
}
