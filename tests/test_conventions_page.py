"""Claim: every statement of the conventions page holds, with every library installed here.

The page (``docs/conventions.md``) is executed when the documentation is built, where the
documentation's environment may lack PyTorch, Keras, JAX or PyLops (each cell then says so).
This runs the same cells in the test environment, in order and in one namespace, as the
notebook would: wherever a library is installed, its row of the table is checked.
"""

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "conventions.md"
CELL = re.compile(r"^```\{code-cell\} python\n(.*?)^```", re.S | re.M)


def cells() -> list[str]:
    return CELL.findall(PAGE.read_text(encoding="utf-8"))


def test_the_page_has_a_cell_per_library():
    text = "\n".join(cells())
    for library in ("torch", "keras", "jax", "pylops", "scipy"):
        assert f'installed("{library}")' in text or f"import {library}" in text, library
    assert len(cells()) >= 10


def test_every_cell_of_the_conventions_page_runs():
    namespace: dict = {"__name__": "conventions_page"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, source in enumerate(cells(), 1):
            try:
                exec(compile(source, f"{PAGE.name}, cell {number}", "exec"), namespace)
            except Exception as exc:  # name the cell: the traceback points into the page
                pytest.fail(f"cell {number} of {PAGE.name} raised {exc!r}\n{source}")
    out = printed.getvalue()
    # each installed library's cell reached its final statement
    expected = {
        "torch": "PyTorch: conv2d = A",
        "keras": "Keras: Conv2D('same', strides=2)",
        "jax": "JAX: conv_transpose(transpose_kernel=True) = S.H",
        "pylops": "PyLops Convolve2D(offset=o)",
    }
    for library, words in expected.items():
        if importlib.util.find_spec(library) is not None:
            if library == "keras" and not any(
                importlib.util.find_spec(b) for b in ("jax", "torch", "tensorflow")
            ):
                continue
            assert words in out, (library, out[-2000:])
