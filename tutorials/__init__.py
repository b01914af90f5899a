"""The convops tutorials: numbered percent-format scripts, and the machinery of ``convops tour``.

Each tutorial is a plain Python script in the percent format (``# %%`` code cells and
``# %% [markdown]`` text cells).  The scripts live in the repository's top-level
``tutorials/`` folder, which pyproject's ``package-dir`` installs as the package
``convops.tutorials``, so that ``convops tour`` finds them after any install.  Run one

- as a script: ``python path/to/t01_convolution_as_a_matrix.py [--out DIR]``
  (``convops tour --list`` prints the paths);
- from Python: ``convops.tutorials.run_tutorial(1, out="DIR")``;
- as a notebook: open it in VS Code (Python extension: "Run Cell") or convert it with
  ``jupytext --to notebook t01_convolution_as_a_matrix.py``.

Figures go to the folder named by ``--out``, else the environment variable ``CONVOPS_OUT``,
else ``./convops-output`` (never into the package).  Every claim a tutorial makes is an
``assert`` against an independent computation (dense numpy algebra, scipy, brute force,
finite differences), so a tutorial that stops telling the truth fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .page import TourRecorder

__all__ = [
    "DEFAULT_OUT",
    "ENV_VAR",
    "TUTORIALS",
    "Cell",
    "Tutorial",
    "output_dir",
    "read_cells",
    "run_tutorial",
    "save_figure",
    "tour",
    "tutorial_path",
]

#: Environment variable naming the output folder.
ENV_VAR = "CONVOPS_OUT"
#: Output folder when neither ``--out`` nor ``CONVOPS_OUT`` is given (relative to the cwd).
DEFAULT_OUT = "convops-output"


@dataclass(frozen=True)
class Tutorial:
    """One tutorial: its module name (the script's file stem) and its title."""

    name: str
    title: str


#: The tutorials in the order they are meant to be read.
TUTORIALS: tuple[Tutorial, ...] = (
    Tutorial("t01_convolution_as_a_matrix", "Convolution as a matrix"),
    Tutorial("t02_transpose_is_the_adjoint", "The transpose is the adjoint"),
    Tutorial("t03_strides_and_upsampling", "Strides and upsampling"),
    Tutorial("t04_frequency_domain", "The frequency domain"),
    Tutorial("t05_solving_with_the_operators", "Solving with the operators"),
    Tutorial("t06_linear_in_the_weights", "Linear in the weights"),
    Tutorial(
        "t07_how_far_can_a_convolution_stretch", "How much can a convolution stretch a vector?"
    ),
)


def _lookup(which: int | str) -> Tutorial:
    """A tutorial by number (1-based), module name or unambiguous prefix of it."""
    if isinstance(which, int) and not isinstance(which, bool):
        if 1 <= which <= len(TUTORIALS):
            return TUTORIALS[which - 1]
        raise ValueError(f"tutorial number {which} does not exist; there are 1 to {len(TUTORIALS)}")
    if isinstance(which, str):
        hits = [t for t in TUTORIALS if t.name == which] or [
            t for t in TUTORIALS if t.name.startswith(which)
        ]
        if len(hits) == 1:
            return hits[0]
    names = ", ".join(t.name for t in TUTORIALS)
    raise ValueError(
        f"tutorial {which!r} is not known; use a number 1 to {len(TUTORIALS)} or one of {names}"
    )


def tutorial_path(which: int | str) -> Path:
    """Path of a tutorial's script in the installed ``convops.tutorials`` package.

    In an editable install (or a clone) that is the repository's ``tutorials/`` folder.
    """
    tut = _lookup(which)
    return Path(str(resources.files(__name__).joinpath(f"{tut.name}.py")))


# ----------------------------------------------------------------------------------------
# what tutorials call: where to write, and how to save a figure
# ----------------------------------------------------------------------------------------
def output_dir(out: str | os.PathLike[str] | None = None) -> Path:
    """The folder a tutorial writes to, created if needed.

    ``out`` if given; else ``--out DIR`` on the command line of a script run directly
    (``python t01_....py --out DIR``); else ``$CONVOPS_OUT``; else ``./convops-output``.
    """
    if out is None and _running_as_script():
        parsed, _ = _argv_parser().parse_known_args(sys.argv[1:])
        out = parsed.out
    if out is None:
        out = os.environ.get(ENV_VAR) or DEFAULT_OUT
    path = Path(out).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _running_as_script() -> bool:
    """Whether ``__main__`` is one of the tutorial scripts (here or a copy elsewhere)."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is not None and Path(main_file).stem in {t.name for t in TUTORIALS}


def _argv_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--out")
    return p


def _interactive_backend() -> bool:
    """True inside Jupyter/VS Code notebooks, where open figures are shown after the cell."""
    import matplotlib

    backend = matplotlib.get_backend().lower()
    return "inline" in backend or "ipympl" in backend or "widget" in backend or "nbagg" in backend


def save_figure(
    fig: Figure, name: str, out: str | os.PathLike[str] | None = None, *, dpi: int = 110
) -> Path:
    """Save ``fig`` as ``name`` in :func:`output_dir`, print where, and close it.

    In a notebook the figure is left open so it is shown below the cell.
    """
    import matplotlib.pyplot as plt

    path = output_dir(out) / name
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    print(f"  [figure] {path}")
    if not _interactive_backend():
        plt.close(fig)
    return path


# ----------------------------------------------------------------------------------------
# reading and running percent-format scripts
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell of a percent-format script."""

    kind: str  # "code" or "markdown"
    title: str  # text after "# %%" (code cells), "" if none
    source: str
    lineno: int  # 1-based line of the first source line in the file

    def markdown_text(self) -> str:
        """The text of a markdown cell without the leading ``#`` of each line."""
        lines = []
        for line in self.source.splitlines():
            if line.startswith("# "):
                line = line[2:]
            elif line.startswith("#"):
                line = line[1:]
            lines.append(line)
        return "\n".join(lines).strip("\n")


def read_cells(path: str | os.PathLike[str]) -> list[Cell]:
    """Split a percent-format script into cells (text before the first marker is a code cell)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    cells: list[Cell] = []
    kind, title, start = "code", "", 1
    buf: list[str] = []

    def flush() -> None:
        if any(line.strip() for line in buf):
            cells.append(Cell(kind, title, "\n".join(buf) + "\n", start))

    for i, line in enumerate(lines, 1):
        if line.startswith("# %%"):
            flush()
            marker = line[4:].strip()
            kind = "markdown" if "[markdown]" in marker else "code"
            title = marker.replace("[markdown]", "").strip()
            start, buf = i + 1, []
        else:
            buf.append(line)
    flush()
    return cells


def _snapshot(folder: Path) -> dict[Path, int]:
    if not folder.exists():
        return {}
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@contextmanager
def _environment(out: Path) -> Iterator[None]:
    old = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(out)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = old


def _render_markdown(text: str, stream: TextIO) -> None:
    """Markdown for a terminal: headings underlined, the rest as written."""
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#"):
            heading = stripped.lstrip("#").strip()
            level = len(stripped) - len(stripped.lstrip("#"))
            print(file=stream)
            print(heading, file=stream)
            print(("=" if level == 1 else "-") * len(heading), file=stream)
        else:
            print(line, file=stream)


def run_tutorial(
    which: int | str,
    out: str | os.PathLike[str] | None = None,
    *,
    narrate: bool = False,
    stream: TextIO | None = None,
    slow_seconds: float = 1.0,
    recorder: TourRecorder | None = None,
) -> list[Path]:
    """Run one tutorial cell by cell, in a fresh namespace; return the files it wrote.

    Parameters
    ----------
    which : int or str
        Tutorial number (1-based) or module name.
    out : path, optional
        Output folder (default: ``$CONVOPS_OUT`` or ``./convops-output``).
    narrate : bool
        Print the markdown cells and a progress line before each titled code cell
        (``convops tour`` does); otherwise only the tutorial's own output appears.
    stream : file, optional
        Where narration goes (default ``sys.stdout``).
    slow_seconds : float
        Code cells that take longer than this report their time when narrating.
    recorder : convops.tutorials.page.TourRecorder, optional
        Also records every cell, what it printed and the files it wrote (for the tour's
        ``index.html``).

    Returns
    -------
    list of Path
        Files created or modified under ``out`` while it ran, sorted.

    Raises
    ------
    AssertionError
        When a claim of the tutorial does not hold (or any error of its code).
    """
    stream = sys.stdout if stream is None else stream
    path = tutorial_path(which)
    out_path = output_dir(
        out if out is not None else (os.environ.get(ENV_VAR) or DEFAULT_OUT)
    ).resolve()
    before = _snapshot(out_path)
    namespace = {"__name__": "__tutorial__", "__file__": str(path), "__builtins__": __builtins__}
    cells = read_cells(path)
    code_cells = sum(c.kind == "code" for c in cells)
    step = 0
    with _environment(out_path):
        for cell in cells:
            if cell.kind == "markdown":
                if narrate:
                    _render_markdown(cell.markdown_text(), stream)
                if recorder is not None:
                    recorder.markdown(cell)
                continue
            step += 1
            if narrate and cell.title:
                print(f"\n>> [{step}/{code_cells}] {cell.title}", file=stream, flush=True)
            # pad with newlines so tracebacks and asserts point at the script's own lines
            code = compile("\n" * (cell.lineno - 1) + cell.source, str(path), "exec")
            start = time.perf_counter()
            with nullcontext() if recorder is None else recorder.code(cell):
                exec(code, namespace)  # our own tutorial script, cell by cell
            elapsed = time.perf_counter() - start
            sys.stdout.flush()
            if narrate and elapsed > slow_seconds:
                print(f"   ({elapsed:.1f} s)", file=stream, flush=True)
    after = _snapshot(out_path)
    return sorted(p for p, t in after.items() if before.get(p) != t)


def tour(
    out: str | os.PathLike[str] = DEFAULT_OUT,
    *,
    only: Sequence[int] | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
) -> int:
    """Run the tutorials in order, narrating; list the files written. Returns an exit status.

    This is ``convops tour``.  Status 0 when every tutorial ran and all its assertions
    held, 1 otherwise (the failing tutorial's traceback is printed).  The whole tour is also
    written as one page, ``index.html`` in ``out`` (:mod:`convops.tutorials.page`), also
    when a tutorial failed; the last line printed names it.
    """
    stream = sys.stdout if stream is None else stream
    import matplotlib

    if not _interactive_backend():
        matplotlib.use("Agg")
    out_path = output_dir(out).resolve()
    numbers = list(only) if only is not None else list(range(1, len(TUTORIALS) + 1))
    rule = "#" * 78
    print(
        f"convops tour: {len(numbers)} tutorial(s); figures and animations go to {out_path}",
        file=stream,
    )
    written: list[Path] = []
    start_all = time.perf_counter()
    status = 0
    from .page import TourRecorder

    recorder = TourRecorder(out_path)  # the same tour as one page, index.html beside the figures
    for count, number in enumerate(numbers, 1):
        tut = TUTORIALS[number - 1]
        print(
            f"\n{rule}\n# Tutorial {number}: {tut.title}   ({count}/{len(numbers)})\n"
            f"# script: {tutorial_path(number)}\n{rule}",
            file=stream,
            flush=True,
        )
        start = time.perf_counter()
        recorder.begin(number, tut.name, tut.title, tutorial_path(number))
        try:
            files = run_tutorial(
                number, out_path, narrate=not quiet, stream=stream, recorder=recorder
            )
        except Exception:  # report and stop: a tutorial that fails is a bug worth seeing in full
            print(f"\nTutorial {number} ({tut.name}) FAILED:", file=stream)
            traceback.print_exc(file=stream)
            recorder.fail(traceback.format_exc())
            status = 1
            break
        written.extend(files)
        print(
            f"\n-- tutorial {number} done in {time.perf_counter() - start:.1f} s, "
            f"{len(files)} file(s) written",
            file=stream,
            flush=True,
        )
    files = sorted(set(written))
    print(f"\n{rule}", file=stream)
    print(
        f"Tour {'finished' if status == 0 else 'stopped'} in {time.perf_counter() - start_all:.1f} s. "
        f"Files written ({len(files)}):",
        file=stream,
    )
    for p in files:
        print(f"  {_size(p):>9}  {p}", file=stream)
    if status == 0:
        print(
            "Open the PNGs and GIFs in any image viewer; the scripts above open as notebooks "
            "(VS Code, or jupytext --to notebook).",
            file=stream,
        )
    page = recorder.write()
    print(f"The whole tour as one page (opens offline in any browser): {page}", file=stream)
    stream.flush()
    return status


def _size(path: Path) -> str:
    n = path.stat().st_size
    return (
        f"{n} B" if n < 1024 else (f"{n / 1024:.1f} kB" if n < 1024**2 else f"{n / 1024**2:.1f} MB")
    )
