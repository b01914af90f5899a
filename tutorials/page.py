"""The tour as one web page: ``index.html`` beside the figures that ``convops tour`` writes.

:class:`TourRecorder` is what the tour runner (:func:`convops.tutorials.tour`) hands to
:func:`convops.tutorials.run_tutorial`: it keeps each tutorial's cells in order, the text each
code cell printed and the files it wrote, and :meth:`TourRecorder.write` turns them into one
self-contained page.  The page needs no network and no script: the style sheet is inline, the
figures and animations are the files beside it (linked by relative paths, so the folder can be
moved or zipped), and GIFs play in any browser.

The markdown cells are rendered with markdown-it-py, the CommonMark parser that also renders
the tutorials in the documentation (through MyST), so both read the same.  Headings move down
one level (the page's own title is the only ``<h1>``) and get ``id`` anchors.
"""

from __future__ import annotations

import html
import io
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from . import Cell

__all__ = [
    "IMAGE_SUFFIXES",
    "PAGE_NAME",
    "CellRecord",
    "TourRecorder",
    "TutorialRecord",
    "render_markdown",
    "render_page",
    "snapshot",
]

#: File name of the page, written into the tour's output folder.
PAGE_NAME = "index.html"
#: Files shown as pictures on the page (others are linked).
IMAGE_SUFFIXES = frozenset({".png", ".gif", ".jpg", ".jpeg", ".svg", ".webp"})


@dataclass
class CellRecord:
    """One cell as the tour ran it: its text, what it printed and the files it wrote."""

    kind: str  # "markdown" or "code"
    title: str
    source: str
    output: str = ""
    files: list[Path] = field(default_factory=list)
    error: str = ""


@dataclass
class TutorialRecord:
    """One tutorial of the tour: which it is, and its cells in order."""

    number: int
    name: str
    title: str
    script: Path
    cells: list[CellRecord] = field(default_factory=list)
    seconds: float = 0.0
    failed: str = ""


def snapshot(folder: Path) -> dict[Path, int]:
    """The files in ``folder`` (not its subfolders) with their modification times.

    Taken before and after every code cell, so it stays one directory listing however large
    the tree under ``--out`` is; the tutorials write their figures into ``out`` itself.
    Empty if the folder does not exist.
    """
    if not folder.is_dir():
        return {}
    return {p: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()}


class _Tee(io.TextIOBase):
    """A text stream that writes to ``target`` and keeps a copy (the cell's printed output)."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", None) or "utf-8"


class TourRecorder:
    """Collects what a tour shows, cell by cell, and writes it as ``index.html``.

    Parameters
    ----------
    out : path
        The tour's output folder: the figures are there, and the page is written there.

    Notes
    -----
    The runner calls :meth:`begin` before each tutorial, :meth:`markdown` for each text cell,
    runs each code cell inside :meth:`code` (which copies what the cell prints while it still
    reaches the terminal, and notes the files that appeared or changed under ``out``),
    :meth:`fail` when a tutorial raised, and :meth:`write` at the end.
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out)
        self.tutorials: list[TutorialRecord] = []
        self._started = time.perf_counter()
        self._tutorial_started = self._started

    def begin(self, number: int, name: str, title: str, script: str | os.PathLike[str]) -> None:
        """Start recording tutorial ``number`` (``name`` is its module name)."""
        self.tutorials.append(TutorialRecord(number, name, title, Path(script)))
        self._tutorial_started = time.perf_counter()

    def _current(self) -> TutorialRecord:
        if not self.tutorials:
            raise RuntimeError("TourRecorder.begin() must be called before recording cells")
        return self.tutorials[-1]

    def markdown(self, cell: Cell) -> None:
        """Record a text cell (its markdown, without the leading ``#`` of each line)."""
        self._current().cells.append(CellRecord("markdown", cell.title, cell.markdown_text()))

    @contextmanager
    def code(self, cell: Cell) -> Iterator[None]:
        """Run a code cell inside this block: its output and new files are recorded."""
        record = CellRecord("code", cell.title, cell.source.strip("\n"))
        tutorial = self._current()
        tutorial.cells.append(record)
        before = snapshot(self.out)
        tee = _Tee(sys.stdout)
        try:
            with redirect_stdout(tee):
                yield
        finally:
            record.output = tee.copy.getvalue()
            after = snapshot(self.out)
            changed = [p for p, t in after.items() if before.get(p) != t and p.name != PAGE_NAME]
            # in the order written (the figure a cell saves first comes first), names break ties
            record.files = sorted(changed, key=lambda p: (after[p], p.name))
            tutorial.seconds = time.perf_counter() - self._tutorial_started

    def fail(self, message: str) -> None:
        """Mark the current tutorial as failed with ``message`` (e.g. the traceback)."""
        tutorial = self._current()
        tutorial.failed = message
        tutorial.seconds = time.perf_counter() - self._tutorial_started

    def write(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the page (default ``out/index.html``) and return its path."""
        target = self.out / PAGE_NAME if path is None else Path(path)
        page = render_page(
            self.tutorials, base=target.parent, seconds=time.perf_counter() - self._started
        )
        target.write_text(page, encoding="utf-8")
        return target


# ----------------------------------------------------------------------------------------
# markdown and HTML
# ----------------------------------------------------------------------------------------
_PARSER: MarkdownIt | None = None


def _parser() -> MarkdownIt:
    global _PARSER
    if _PARSER is None:
        from markdown_it import MarkdownIt

        # CommonMark plus tables; raw HTML in a tutorial is shown as text, never interpreted
        _PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")
    return _PARSER


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-") or "section"


def render_markdown(
    text: str, *, shift: int = 1, id_prefix: str = "", ids: set[str] | None = None
) -> str:
    """Render CommonMark (with tables) to HTML.

    Parameters
    ----------
    text : str
        The markdown.
    shift : int
        Headings move down this many levels (``#`` becomes ``<h2>`` with the default 1), at
        most to ``<h6>``.
    id_prefix : str
        Prefix of the ``id`` each heading gets (its text, lower case, non-word runs as ``-``).
    ids : set of str, optional
        Ids already used on the page; new ones are added, and a repeated one gets ``-2``, ``-3``…

    Returns
    -------
    str
        The HTML fragment.  Raw HTML in ``text`` is escaped, not passed through.
    """
    md = _parser()
    used = set() if ids is None else ids
    tokens = md.parse(text)
    for i, token in enumerate(tokens):
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + shift, 6)
            token.tag = f"h{level}"
        if token.type == "heading_open":
            inline = tokens[i + 1]
            plain = "".join(c.content for c in (inline.children or []) if c.content)
            base = id_prefix + _slug(plain or inline.content)
            anchor, n = base, 1
            while anchor in used:
                n += 1
                anchor = f"{base}-{n}"
            used.add(anchor)
            token.attrSet("id", anchor)
    rendered: str = md.renderer.render(tokens, md.options, {})
    return rendered


def _href(path: Path, base: Path) -> str:
    try:
        rel = path.resolve().relative_to(base.resolve())
    except ValueError:  # outside the page's folder: an absolute file URL still opens offline
        return path.resolve().as_uri()
    return quote(rel.as_posix())


def _render_file(path: Path, base: Path) -> str:
    href = html.escape(_href(path, base), quote=True)
    name = html.escape(path.name)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return (
            f'<figure><a href="{href}"><img src="{href}" alt="{name}" loading="lazy"></a>'
            f"<figcaption>{name}</figcaption></figure>"
        )
    return f'<p class="file">file: <a href="{href}">{name}</a></p>'


def _render_cell(cell: CellRecord, base: Path, prefix: str, ids: set[str]) -> str:
    if cell.kind == "markdown":
        return render_markdown(cell.source, id_prefix=prefix, ids=ids)
    parts = []
    summary = html.escape(cell.title) if cell.title else "code"
    parts.append(
        f'<details class="code"><summary>{summary}</summary>'
        f'<pre><code class="language-python">{html.escape(cell.source)}</code></pre></details>'
    )
    if cell.output.strip():
        parts.append(f'<pre class="output">{html.escape(cell.output.rstrip())}</pre>')
    parts.extend(_render_file(p, base) for p in cell.files)
    return "\n".join(parts)


_STYLE = """
:root { color-scheme: light dark; --fg: #1d2330; --bg: #ffffff; --muted: #5b6476;
        --box: #f4f6f9; --line: #d8dde6; --accent: #2f5fb3; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e3e7ee; --bg: #15181d; --muted: #9aa3b2; --box: #1f242c; --line: #343b47;
          --accent: #8ab4ff; }
  figure img { background: #fff; }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg);
       font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header, main, footer { max-width: 64rem; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 1.5rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 2rem; margin: 0.5rem 0; }
h2 { font-size: 1.6rem; margin-top: 3rem; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.25rem; margin-top: 2rem; }
a { color: var(--accent); }
nav ul { columns: 2; padding-left: 1.5rem; }
section { border-bottom: 1px solid var(--line); padding-bottom: 1.5rem; }
.meta, .file, figcaption, summary { color: var(--muted); font-size: 0.9rem; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
            font-size: 0.85rem; }
pre { background: var(--box); border: 1px solid var(--line); border-radius: 6px;
      padding: 0.6rem 0.8rem; overflow-x: auto; line-height: 1.35; }
pre.output { border-left: 4px solid var(--accent); }
p code, li code, td code { background: var(--box); padding: 0 0.2em; border-radius: 3px; }
details.code { margin: 0.8rem 0 0.3rem; }
details.code summary { cursor: pointer; }
figure { margin: 1rem 0; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
table { border-collapse: collapse; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 0.25rem 0.6rem; }
.failed { border: 2px solid #c0392b; padding: 0 1rem; border-radius: 6px; }
footer { padding: 1.5rem 1.25rem 3rem; }
"""


def render_page(tutorials: list[TutorialRecord], *, base: Path, seconds: float = 0.0) -> str:
    """The whole page for the recorded ``tutorials``; file links are relative to ``base``."""
    from convops import __version__

    ids: set[str] = set()
    toc, sections = [], []
    for tut in tutorials:
        anchor = _slug(tut.name)
        ids.add(anchor)
        status = " — failed" if tut.failed else ""
        toc.append(
            f'<li><a href="#{anchor}">Tutorial {tut.number}: {html.escape(tut.title)}</a>'
            f"{status}</li>"
        )
        body = [_render_cell(c, base, f"{anchor}-", ids) for c in tut.cells]
        if not any(c.kind == "markdown" for c in tut.cells):
            body.insert(0, f"<h2>Tutorial {tut.number}: {html.escape(tut.title)}</h2>")
        if tut.failed:
            body.append(
                '<div class="failed"><p><strong>This tutorial failed here.</strong></p>'
                f"<pre>{html.escape(tut.failed.rstrip())}</pre></div>"
            )
        script = html.escape(str(tut.script))
        sections.append(
            f'<section id="{anchor}">\n'
            + "\n".join(body)
            + f'\n<p class="meta">Tutorial {tut.number} ran in {tut.seconds:.1f} s; '
            f"its script: <code>{script}</code></p>\n</section>"
        )
    failed = [t for t in tutorials if t.failed]
    outcome = (
        f"stopped: tutorial {failed[0].number} failed"
        if failed
        else "every claim on it was checked by an assert as it ran"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>convops tour</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>convops tour</h1>
<p class="meta">{len(tutorials)} tutorial(s), run by <code>convops tour</code> with convops
{html.escape(__version__)} in {seconds:.1f} s; {outcome}.  Each code cell's source is folded
above what it printed (click “code” or its title to open it).</p>
<nav><ul>
{chr(10).join(toc)}
</ul></nav>
</header>
<main>
{chr(10).join(sections)}
</main>
<footer class="meta">Written by <code>convops tour</code>; the figures and animations are the
files beside this page.</footer>
</body>
</html>
"""
