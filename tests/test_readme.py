"""Claim: the documented examples are true, and the README describes the tree as it is.

- the README's code examples run as doctests, and so do the examples in the docstrings of
  :mod:`convops.functional` (``conv`` … ``conv_transpose3d``, the explicit matrices);
- the README's quick start and the CLI output it shows are what CI runs and the CLI prints;
- its Layout section lists every module of the package, and nothing that is not there.
"""

import ast
import doctest
import inspect
import re
import subprocess
import sys
from pathlib import Path

import convops.functional

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_readme_examples_run():
    result = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted >= 15
    assert result.failed == 0


def test_functional_docstring_examples_run():
    finder = doctest.DocTestFinder()
    tests = {t.name.rsplit(".", 1)[-1]: t for t in finder.find(convops.functional) if t.examples}
    documented = {
        "conv",
        "conv_transpose",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "conv_matrix",
        "conv_transpose_matrix",
    }
    assert documented <= set(tests), f"no Examples: {sorted(documented - set(tests))}"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for name in sorted(documented):
        runner.run(tests[name])
    result = runner.summarize(verbose=False)
    assert result.attempted >= 50
    assert result.failed == 0


def test_functional_docstrings_are_in_the_source():
    """Each public function's docstring is written where it is defined (editors, help() and
    documentation tools read the source), with the numpydoc sections."""
    tree = ast.parse(Path(convops.functional.__file__).read_text(encoding="utf-8"))
    docs = {
        node.name: ast.get_docstring(node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in convops.functional.__all__
    }
    assert set(docs) == set(convops.functional.__all__)
    for name, doc in docs.items():
        # nothing replaces it at import time
        assert inspect.cleandoc(getattr(convops.functional, name).__doc__) == doc, name
        for section in ("Parameters", "Returns", "Examples"):
            assert f"\n{section}\n" in doc, (name, section)
    for ndim in (1, 2, 3):
        for name in (f"conv{ndim}d", f"conv_transpose{ndim}d"):
            assert "\nNotes\n" in docs[name] and "\nSee Also\n" in docs[name], name
            assert f"{ndim}D" in docs[name].splitlines()[0], name


def test_readme_quick_start_commands():
    text = README.read_text(encoding="utf-8")
    assert 'pip install ".[test]" && convops tour' in text
    assert "\npytest\n" in text
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\npytest\n" in ci and 'pip install ".[test]"' in ci


def test_readme_contributing_checks_are_what_ci_runs():
    text = README.read_text(encoding="utf-8")
    contributing = text.split("## Contributing", 1)[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in contributing and "pre-commit install" in contributing
    for command in ("ruff check .", "ruff format --check .", "mypy", "pytest"):
        assert f"\n{command}\n" in contributing and command in ci, command


def test_readme_cli_output_block_is_what_the_cli_prints():
    text = README.read_text(encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "convops", "matrix", "--input", "4x4", "--kernel", "3x3"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() and "```text\n" + out.strip() + "\n```" in text


def _layout_entries() -> set[str]:
    """The paths the README's Layout section names, from the indentation of its tree."""
    section = README.read_text(encoding="utf-8").split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    stack: list[str] = []
    paths = set()
    for line in section.splitlines():
        match = re.match(r"^    ( *)(\S+)", line)
        if not match or not re.fullmatch(r"[\w.]+(/|\.py)", match[2]):
            continue  # prose, or the continuation of a description
        level = len(match[1]) // 2
        stack[level:] = [match[2]]
        paths.add("".join(stack))
    return paths


def test_readme_layout_matches_the_tree():
    listed = _layout_entries()
    package = ROOT / "convops"
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
        # a subpackage's __init__.py is named by its folder
        and not (path.name == "__init__.py" and path.parent != package)
    }
    folders = {
        path.relative_to(ROOT).as_posix() + "/"
        for path in [package, *package.rglob("*")]
        if path.is_dir() and (path / "__init__.py").is_file()
    }
    tree = modules | folders
    listed_package = {p for p in listed if p.startswith("convops/")}
    assert tree == listed_package, (
        f"not in the README's Layout: {sorted(tree - listed_package)}; "
        f"listed but not in the tree: {sorted(listed_package - tree)}"
    )
    for top in ("tutorials/", "tests/", "benchmarks/"):
        assert top in listed and (ROOT / top).is_dir(), top


def test_readme_commands_parse():
    """Every ``convops …`` command the README shows is one the parser accepts."""
    from convops import cli

    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"`(convops (?:matrix|animate|check|explore|norm) [^`]+)`", text)
    block = re.search(r"```text\n(convops tour.*?)```", text, re.S)
    assert block is not None
    for line in block.group(1).splitlines():
        commands.append(re.split(r"\s{3,}", line)[0])
    assert len(commands) >= 8 and any(c.startswith("convops norm") for c in commands)
    parser = cli.build_parser()
    for command in commands:
        argv = re.sub(r"\[[^]]*\]", "", command).split()[1:]  # without the optional parts
        parser.parse_args(argv)


def test_readme_norm_command_prints_a_tight_interval(capsys):
    """The ``convops norm`` line of the README's norms section: the full-shape form of the
    ResNet-18 layer, within the 0.1–3 % the section claims."""
    from convops import cli

    text = README.read_text(encoding="utf-8")
    command = re.search(r"From the shell: `(convops norm [^`]+)`", text)
    assert command is not None
    assert cli.main(command.group(1).split()[1:]) == 0
    out = capsys.readouterr().out
    assert "(64, 56, 56) -> (64, 28, 28)" in out
    gap = float(re.search(r"upper/lower = ([0-9.]+)", out).group(1))
    assert 1.0 <= gap <= 1.03


def _script_blocks() -> list[str]:
    """The README's ```python blocks written as scripts (not doctests)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if not b.lstrip().startswith(">>>")]


def test_readme_framework_examples_run():
    """The README's examples with PyTorch (or Keras) run, where the framework is installed."""
    import importlib.util

    import numpy as np
    import pytest

    blocks = _script_blocks()
    assert any("from_torch" in b for b in blocks)
    ran = 0
    for block in blocks:
        needs = re.findall(r"^import (\w+)", block, re.M)
        if any(importlib.util.find_spec(name) is None for name in needs):
            continue
        exec(compile(block, "README.md", "exec"), {"np": np})
        ran += 1
    if not ran:
        pytest.skip("the README's framework examples need PyTorch")
