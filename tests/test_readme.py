"""Claim: the README's code examples are true (they run as doctests here)."""

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run():
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 15
    assert result.failed == 0


def test_readme_quick_start_commands():
    text = README.read_text()
    assert 'pip install ".[test]" && convops tour' in text
    assert "\npython -m pytest\n" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python -m pytest" in ci and 'pip install ".[test]"' in ci


def test_readme_cli_output_block_is_what_the_cli_prints():
    import subprocess
    import sys

    text = README.read_text()
    out = subprocess.run(
        [sys.executable, "-m", "convops", "matrix", "--input", "4x4", "--kernel", "3x3"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert out.strip() and "```text\n" + out.strip() + "\n```" in text
