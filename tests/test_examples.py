"""Claims about the example scripts in examples/: each runs, exits 0 and shows what it says.

The scripts are run as a user runs them (a fresh ``python examples/<name>.py``), and their
printed claims are read back and checked here against bounds of this file's own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
UPSAMPLING = EXAMPLES / "frequency_domain_upsampling.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=EXAMPLES
    )


def test_every_example_is_described_in_the_readme():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for script in sorted(EXAMPLES.glob("*.py")):
        assert f"`{script.name}`" in readme, script.name


def test_frequency_domain_upsampling_learns_the_conv_transpose_kernel():
    pytest.importorskip("torch")
    done = _run(str(UPSAMPLING))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    claims = dict(re.findall(r"^OK: (.+?): relative error (\S+) \(bound", out, re.MULTILINE))
    assert "FAILED" not in out
    bounds = {
        "the frequency layer learns the teacher's kernel": 1e-4,
        "the spatial layer learns the same kernel as the frequency layer": 1e-4,
        "on new inputs the two trained layers' outputs agree": 1e-4,
        "given the same kernel, it equals the periodic ConvTranspose2d": 1e-5,
        "away from the first 2 rows and columns it equals the plain ConvTranspose2d": 1e-5,
        "with the input zero-padded by 1 it equals the plain ConvTranspose2d everywhere": 1e-5,
    }
    assert claims.keys() == bounds.keys(), out
    for text, bound in bounds.items():
        assert float(claims[text]) < bound, text
    # the loss falls by many orders of magnitude for both layers
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+(\S+)$", out, re.MULTILINE)
    first, last = rows[0], rows[-1]
    for col in (1, 2):
        assert float(last[col]) < 1e-8 * float(first[col]), rows
    # the boundary: the wrapped-around rows do differ from the plain (zero-boundary) layer
    wrapped = re.search(r"differ from the plain ConvTranspose2d by up to (\S+) of", out)
    assert wrapped is not None and float(wrapped.group(1)) > 0.01


def test_frequency_domain_upsampling_without_torch_says_so_and_exits_0():
    # None in sys.modules makes `import torch` fail as if torch were not installed
    code = (
        "import sys, runpy; sys.modules['torch'] = None; "
        f"runpy.run_path({str(UPSAMPLING)!r}, run_name='__main__')"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and "needs PyTorch" in lines[0], done.stdout
