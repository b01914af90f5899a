"""Claim: the benchmark suite runs and reports every case (no timing is asserted).

``benchmarks/run.py --quick`` is run as a subprocess, as a user would, so the script cannot
rot; its JSON must hold the expected cases with positive times and outputs that agree
with the float64 references.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeat", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(out.read_text()), proc.stdout


def test_quick_run_covers_every_group(quick_run):
    data, _ = quick_run
    groups = {c["group"] for c in data["cases"]}
    assert groups == {"2d", "3d", "channels", "matrix", "batch"}
    single = [c for c in data["cases"] if c["group"] == "2d"]
    assert {(c["k"], c["stride"], c["direction"]) for c in single} >= {
        (k, s, d) for k in (3, 11) for s in (1, 2) for d in ("forward", "adjoint")
    }
    assert {c["dtype"] for c in single} == {"float64", "float32"}
    assert data["meta"]["quick"] is True


def test_every_time_is_positive_and_every_output_agrees(quick_run):
    data, _ = quick_run
    for case in data["cases"]:
        times = case["times_ms"]
        assert times and all(t > 0 for t in times.values()), case
        assert case["mismatch"] == [], case
    for case in data["cases"]:
        if case["group"] in ("2d", "3d", "channels"):
            assert {"convops_direct", "convops_fft", "convops_auto"} <= set(case["times_ms"])
            assert case["auto"] in ("direct", "fft")
        if case["group"] in ("2d", "3d"):
            assert {"scipy_fftconvolve", "scipy_ndimage"} <= set(case["times_ms"])
        if case["group"] == "matrix":
            assert case["nnz"] > 0 and case["nnz_per_s"] > 0


def test_targets_and_table_are_reported(quick_run):
    data, stdout = quick_run
    names = " ".join(t["target"] for t in data["targets"])
    for word in ("auto", "adjoint", "matrix build"):
        assert word in names
    for target in data["targets"]:
        assert target["worst"] > 0 and target["cases"] > 0
    assert "| case |" in stdout and "Targets" in stdout


def test_paired_ratio_is_the_median_of_per_round_ratios():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import run

    # a slow spell doubles both sides of round 2: the paired ratio does not move
    assert run.paired([1.0, 2.0, 1.0], [2.0, 4.0, 2.0]) == pytest.approx(0.5)
    assert run.paired([1.0, 3.0, 2.0], [1.0, 1.0, 1.0]) == pytest.approx(2.0)
    assert run.paired([], [1.0]) is None and run.paired([1.0], [1.0, 2.0]) is None


def test_adjoint_forward_script_runs_on_a_subset():
    script = ROOT / "benchmarks" / "adjoint_forward.py"
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            "--filter",
            "'n': 64",
            "--filter",
            "'k': 3",
            "--filter",
            "'stride': 2",
            "--filter",
            "valid",
            "--filter",
            "float32",
            "--seconds",
            "0.01",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("64^3 k3 s2 valid float32")]
    assert {ln.split()[5].rstrip(":") for ln in lines} == {"direct", "fft"}
    assert "adjoint / forward over 2 operators" in proc.stdout


def test_channel_gemm_script_runs_quick():
    script = ROOT / "benchmarks" / "channel_gemm.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and all(
        "forward im2col" in ln and "adjoint im2col" in ln for ln in lines
    )
