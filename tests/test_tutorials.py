"""Claims about the tutorials.

- every tutorial runs headless (Agg, from conftest) and all its asserts hold;
- it writes the figures it promises into the output folder it is given, and nothing into
  the package;
- the scripts are percent-format notebooks (markdown and code cells) in the top-level
  ``tutorials/`` folder, shipped as the package ``convops.tutorials``, so ``convops tour``
  finds them after a non-editable install;
- a script runs on its own, ``python path/to/tNN_....py --out DIR`` (that is how the
  tests run them; ``convops tour`` runs them cell by cell through ``run_tutorial``).
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import convops
import convops.tutorials as tutorials

#: What each tutorial must write (at least).
EXPECTED = {
    1: {
        "01_matrix_A_and_transpose.png",
        "01_block_toeplitz_5x5.png",
        "01_padding_stride_dilation.png",
        "01_explore.png",
    },
    2: {"02_scatter.png"},
    3: {
        "03_conv_stride2.gif",
        "03_transposed_scatter.gif",
        "03_transposed_fractional.gif",
        "03_zero_insertion.png",
        "03_checkerboard.png",
    },
    4: {
        "04_spectra.png",
        "04_circular_vs_linear.png",
        "04_dft_diagonalises.png",
        "04_folding_replication.png",
        "04_spectrum_stride2.png",
    },
    5: {"05_gradient_descent.png", "05_deconvolution.png"},
    6: {"06_im2col_matrix.png", "06_reflect_fold.png"},
    7: {
        "07_singular_values_per_frequency.png",
        "07_stride_folding.png",
        "07_zero_padding_bounds.png",
        "07_step_size.png",
    },
}
PACKAGE_DIR = Path(tutorials.__file__).parent
#: What is installed: the convops package and its tutorials (in a clone, the top-level
#: tutorials/ folder beside convops/; installed, convops/tutorials/ inside it).
INSTALLED_DIRS = {Path(convops.__file__).parent, PACKAGE_DIR}


def _package_files():
    return {
        p
        for folder in INSTALLED_DIRS
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("number", range(1, len(tutorials.TUTORIALS) + 1))
def test_tutorial_runs_and_writes_its_figures(number, tmp_path, monkeypatch, capsys):
    """Run the script as ``python tNN_....py --out DIR`` does (as ``__main__``, in-process)."""
    out = tmp_path / "out"
    path = tutorials.tutorial_path(number)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(tutorials.ENV_VAR, raising=False)
    monkeypatch.setattr(sys, "argv", [str(path), "--out", str(out)])
    before = _package_files()
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out
    files = sorted(out.iterdir())
    names = {f.name for f in files}
    assert EXPECTED[number] <= names, f"missing: {EXPECTED[number] - names}"
    for f in files:
        assert f.stat().st_size > 0
        with Image.open(f) as im:
            assert np.asarray(im.convert("L")).std() > 1, f"{f.name} looks blank"
    assert printed.strip(), "a tutorial prints its key results"
    assert not (tmp_path / tutorials.DEFAULT_OUT).exists(), "--out was ignored"
    assert not {p for p in _package_files() - before if p.suffix != ".py"}, (
        "a tutorial wrote into the package"
    )


def test_run_tutorial_narrates_and_returns_the_files(tmp_path, monkeypatch):
    """``run_tutorial`` (what ``convops tour`` calls) runs cell by cell in the output folder it is given."""
    import io

    script = tmp_path / "t01_small.py"
    script.write_text(
        "# %% [markdown]\n# # Tutorial 1: small\n# Some *text*.\n\n"
        "# %% make a figure\nimport os\nimport matplotlib.pyplot as plt\n"
        "from convops.tutorials import output_dir, save_figure\n"
        "fig, ax = plt.subplots()\nax.plot([0, 1], [1, 0])\nsave_figure(fig, 'small.png')\n"
        "assert output_dir() == output_dir(os.environ['CONVOPS_OUT'])\n"
    )
    monkeypatch.setattr(tutorials, "tutorial_path", lambda which: script)
    monkeypatch.delenv(tutorials.ENV_VAR, raising=False)
    stream = io.StringIO()
    files = tutorials.run_tutorial(1, out=tmp_path / "o", narrate=True, stream=stream)
    assert [f.name for f in files] == ["small.png"] and files[0].stat().st_size > 0
    text = stream.getvalue()
    assert "Tutorial 1: small\n=================" in text and "Some *text*." in text
    assert ">> [1/1] make a figure" in text
    assert tutorials.ENV_VAR not in os.environ  # restored afterwards


def test_tutorials_are_percent_format_notebooks():
    assert len(tutorials.TUTORIALS) >= 5
    for number, tut in enumerate(tutorials.TUTORIALS, 1):
        path = tutorials.tutorial_path(number)
        assert path.is_file() and path.name.startswith(f"t{number:02d}_")
        assert path.stem == tut.name and tutorials.tutorial_path(tut.name) == path
        assert path.parent == PACKAGE_DIR
        cells = tutorials.read_cells(path)
        assert cells[0].kind == "markdown" and cells[0].markdown_text().startswith(
            f"# Tutorial {number}:"
        )
        assert sum(c.kind == "markdown" for c in cells) >= 4
        assert sum(c.kind == "code" for c in cells) >= 4
        text = path.read_text(encoding="utf-8")
        assert "assert " in text
        assert text.count("# %%") == len(cells)


def test_read_cells_splits_markdown_and_code(tmp_path):
    script = tmp_path / "t.py"
    script.write_text(
        "# %% [markdown]\n# # Title\n# text\n\n# %% step one\nx = 1\n\n# %%\ny = x + 1\n"
    )
    cells = tutorials.read_cells(script)
    assert [(c.kind, c.title, c.lineno) for c in cells] == [
        ("markdown", "", 2),
        ("code", "step one", 6),
        ("code", "", 9),
    ]
    assert cells[0].markdown_text() == "# Title\ntext"


def test_tutorials_ship_in_the_package(tmp_path):
    """The scripts live in the top-level tutorials/ folder and a wheel ships them as
    convops.tutorials, beside every subpackage of convops (none left out of pyproject)."""
    import zipfile

    from setuptools import find_packages

    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(root),
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("convops-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for tut in tutorials.TUTORIALS:
        assert f"convops/tutorials/{tut.name}.py" in names
    assert "convops/py.typed" in names
    for package in find_packages(where=str(root), include=["convops*"]):
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    assert tutorials.tutorial_path(1).read_text(encoding="utf-8").startswith("# %% [markdown]")


def test_output_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(tutorials.ENV_VAR, raising=False)
    assert (
        tutorials.output_dir() == Path("convops-output") and (tmp_path / "convops-output").is_dir()
    )
    monkeypatch.setenv(tutorials.ENV_VAR, str(tmp_path / "env"))
    assert tutorials.output_dir() == tmp_path / "env"
    assert tutorials.output_dir(tmp_path / "arg") == tmp_path / "arg"


def test_unknown_tutorial_is_refused():
    with pytest.raises(ValueError, match="tutorial number 9"):
        tutorials.run_tutorial(9)
    with pytest.raises(ValueError, match="not known"):
        tutorials.tutorial_path("t99")


def test_a_failing_claim_fails_the_tour(tmp_path, monkeypatch):
    """The tour reports a tutorial whose assert fails and returns status 1."""
    import io

    bad = tmp_path / "t01_bad.py"
    bad.write_text(
        "# %% [markdown]\n# # Tutorial 1: bad\n\n# %% a false claim\nassert 1 + 1 == 3\n"
    )
    monkeypatch.setattr(tutorials, "tutorial_path", lambda which: bad)
    stream = io.StringIO()
    assert tutorials.tour(tmp_path / "out", only=[1], stream=stream) == 1
    assert "FAILED" in stream.getvalue() and "AssertionError" in stream.getvalue()


def test_tutorial_2_runs_without_pytorch(tmp_path, monkeypatch, capsys):
    """PyTorch is optional: with it unimportable, tutorial 2 skips the comparison and still holds."""

    class NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("PyTorch hidden by the test")

    for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [NoTorch(), *sys.meta_path])
    files = tutorials.run_tutorial(2, out=tmp_path)
    assert "PyTorch is not installed" in capsys.readouterr().out
    assert EXPECTED[2] <= {f.name for f in files}
