"""Smoke test of benchmarks/bench_reference.py: the script imports, every section builds its rows, one
row of each section runs at tiny sizes and returns finite timings, and every public reference name has
a row or a "no built-in" note. Nothing is compared with a time threshold."""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest
import torch

BENCH_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_reference.py"


def load_benchmark():
    """The benchmark script as a module (benchmarks/ is not a package)."""
    name = "bench_reference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH_PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[name]


bench = load_benchmark()


def assert_finite_timing(timing):
    assert isinstance(timing, bench.Timing), timing  # a string would say why the row was skipped
    for value in (timing.ref_wall, timing.builtin_wall, timing.ref_cpu, timing.builtin_cpu):
        assert math.isfinite(value) and value >= 0.0


@pytest.mark.parametrize("section", list(bench.SECTIONS))
def test_first_row_of_each_section_runs_at_tiny_sizes_and_returns_finite_timings(section, device):
    rows = bench.build_rows(section, device, sizes=bench.TINY)
    if section == "07":  # augmentation: no built-in without torchvision, every name has a note instead
        assert rows == [] and bench.NO_BUILTIN["07"]
        return
    if not rows:
        assert device.type != "cpu", f"section {section} has no row on the CPU"
        pytest.skip(f"section {section} runs on the CPU only")
    assert all(row.section == section and row.needs for row in rows)
    assert_finite_timing(bench.run_row(rows[0], warmup=0, repeats=1))


def test_every_reference_name_has_a_row_or_a_no_builtin_note():
    assert bench.uncovered_names() == []


def test_main_prints_a_grouped_table_header_and_summary_for_a_subset_of_sections(capsys):
    results = bench.main(["--quick", "--only", "06,07", "--repeats", "1", "--cpu-time", "--cpu-only"])
    out = capsys.readouterr().out
    assert results and all(row.section == "06" for row, _ in results)
    for _, timing in results:
        assert_finite_timing(timing)
    assert f"torch {torch.__version__}" in out and "dtype: float32" in out and "threads:" in out
    assert "[06] learning-rate schedules" in out and "[07] data augmentation" in out
    assert "summary (wall clock)" in out and "summary (cpu clock)" in out
    assert "torchvision" in out  # the "no built-in" note of section 07


def test_only_rejects_an_unknown_section():
    with pytest.raises(SystemExit):
        bench.main(["--only", "42"])
