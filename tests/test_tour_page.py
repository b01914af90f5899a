"""The tour as one page: ``convops tour`` writes ``index.html`` beside its figures.

Claims: the page exists; every file it references exists (relative paths, in the tour's
folder) and nothing is fetched from elsewhere; it has every tutorial's headings, in order,
every figure and animation the tour lists, and what the tutorials print; the tour's last line
points to it; a failing tutorial is shown as failed.  The markdown subset the tutorials use
renders as CommonMark says.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import convops.tutorials as tutorials
from convops.tutorials import page

SEED_ROW = "1 2 3 0 4 5 6 0 7 8 9 0 0 0 0 0"  # row 0 of the seed matrix, as printed


class PageParser(HTMLParser):
    """Collects headings (level, text, id), references, <pre> texts and tags seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str, str | None]] = []
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()
        self.pres: list[str] = []
        self.tags: set[str] = set()
        self._heading: list | None = None
        self._pre: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for name in ("src", "href"):
            if a.get(name):
                self.refs.append((tag, name, a[name]))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), [], a.get("id")]
        if tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if self._heading is not None and tag == f"h{self._heading[0]}":
            level, parts, anchor = self._heading
            self.headings.append((level, " ".join("".join(parts).split()), anchor))
            self._heading = None
        if tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1].append(data)
        if self._pre is not None:
            self._pre.append(data)


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def markdown_headings(text: str) -> list[str]:
    """The ATX headings of a markdown text, inline markup removed (written independently)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            text = m[2].replace("`", "").replace("**", "")
            # *emphasis* (a star not inside a word, as in "C*y", which stays)
            out.append(re.sub(r"(?<!\w)\*(\S(?:.*?\S)?)\*(?!\w)", r"\1", text))
    return out


@pytest.fixture(scope="module")
def tour_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    stream = io.StringIO()
    status = tutorials.tour(out, stream=stream)
    text = stream.getvalue()
    assert status == 0, text[-3000:]
    return out.resolve(), text


def test_the_page_exists_and_the_last_line_points_to_it(tour_run):
    out, text = tour_run
    index = out / page.PAGE_NAME
    assert index.is_file() and index.stat().st_size > 0
    last = text.rstrip().splitlines()[-1]
    assert last.endswith(str(index)), last
    assert "index.html" in last


def test_every_reference_is_a_file_beside_it_and_nothing_is_fetched(tour_run):
    out, _ = tour_run
    parsed = parse(out / page.PAGE_NAME)
    assert not {"script", "iframe", "link"} & parsed.tags, "the page needs no script or link"
    local = []
    for tag, attr, value in parsed.refs:
        parts = urlsplit(value)
        if value.startswith("#"):
            assert value[1:] in parsed.ids, f"anchor {value} is not on the page"
            continue
        assert not parts.scheme and not parts.netloc, f"<{tag} {attr}={value!r}> leaves the page"
        target = (out / unquote(parts.path)).resolve()
        assert target.is_file(), f"<{tag} {attr}={value!r}>: {target} does not exist"
        assert out in target.parents, f"{value} is outside the tour's folder"
        local.append(target)
    assert local, "the page references its figures"


def test_every_file_the_tour_lists_is_on_the_page(tour_run):
    out, text = tour_run
    listing = text.split("Files written")[1]
    listed = [Path(p) for p in re.findall(r"^\s+[\d.]+ (?:B|kB|MB)\s+(.+)$", listing, re.M)]
    assert len(listed) >= 12
    parsed = parse(out / page.PAGE_NAME)
    shown = {(out / unquote(v)).resolve() for tag, attr, v in parsed.refs if tag == "img"}
    for path in listed:
        assert path.resolve() in shown, f"{path.name} is listed by the tour but not shown"
    assert any(p.suffix == ".gif" for p in shown), "the animations are on the page"


def test_every_tutorial_heading_is_on_the_page_in_order(tour_run):
    out, _ = tour_run
    parsed = parse(out / page.PAGE_NAME)
    on_page = [text for _, text, _ in parsed.headings]
    expected = []
    for number in range(1, len(tutorials.TUTORIALS) + 1):
        for cell in tutorials.read_cells(tutorials.tutorial_path(number)):
            if cell.kind == "markdown":
                expected += markdown_headings(cell.markdown_text())
    assert len(expected) >= 2 * len(tutorials.TUTORIALS)
    positions = []
    for heading in expected:
        assert heading in on_page, f"heading {heading!r} is missing"
        positions.append(on_page.index(heading, positions[-1] + 1 if positions else 0))
    assert positions == sorted(positions), "the headings are out of order"
    # one <h1> (the page's title); the tutorials' own "#" headings are <h2>, all with anchors
    assert [lvl for lvl, _, _ in parsed.headings].count(1) == 1
    assert all(anchor for lvl, _, anchor in parsed.headings if lvl > 1)
    tutorial_titles = [t for lvl, t, _ in parsed.headings if lvl == 2]
    assert len(tutorial_titles) == len(tutorials.TUTORIALS)


def test_what_the_tutorials_print_is_on_the_page(tour_run):
    out, _ = tour_run
    parsed = parse(out / page.PAGE_NAME)
    outputs = "\n".join(parsed.pres)
    assert SEED_ROW in outputs
    assert "[figure]" in outputs and "[animation]" in outputs


def test_a_failing_tutorial_is_shown_failed(tmp_path, monkeypatch):
    bad = tmp_path / "t01_bad.py"
    bad.write_text(
        "# %% [markdown]\n# # Tutorial 1: bad\n\n# %% a true claim\nprint('one is one')\n"
        "# %% a false claim\nassert 1 + 1 == 3\n"
    )
    monkeypatch.setattr(tutorials, "tutorial_path", lambda which: bad)
    stream = io.StringIO()
    assert tutorials.tour(tmp_path / "out", only=[1], stream=stream) == 1
    html = (tmp_path / "out" / page.PAGE_NAME).read_text(encoding="utf-8")
    assert "This tutorial failed here" in html and "AssertionError" in html
    assert "one is one" in html and "stopped: tutorial 1 failed" in html
    assert stream.getvalue().rstrip().endswith(str((tmp_path / "out" / page.PAGE_NAME).resolve()))


def test_a_cell_prints_to_the_terminal_and_to_the_page(tmp_path, capsys):
    script = tmp_path / "t.py"
    script.write_text("# %% [markdown]\n# # T\n\n# %% save\nprint('hello')\n")
    rec = page.TourRecorder(tmp_path)
    rec.begin(1, "t", "T", script)
    cells = tutorials.read_cells(script)
    rec.markdown(cells[0])
    with rec.code(cells[1]):
        print("hello")
        (tmp_path / "a.png").write_bytes(b"\x89PNG")
    assert capsys.readouterr().out == "hello\n"
    record = rec.tutorials[0].cells[1]
    assert record.output == "hello\n" and record.files == [tmp_path / "a.png"]
    written = rec.write()
    assert written == tmp_path / "index.html"
    assert '<img src="a.png"' in written.read_text(encoding="utf-8")


def test_recording_before_begin_is_refused(tmp_path):
    rec = page.TourRecorder(tmp_path)
    cell = tutorials.Cell("markdown", "", "# x\n", 1)
    with pytest.raises(RuntimeError, match="begin"):
        rec.markdown(cell)


# ----------------------------------------------------------------------------------------
# the markdown the tutorials use, rendered (expected HTML written by hand from CommonMark)
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*a* and **b** and `c`", "<p><em>a</em> and <strong>b</strong> and <code>c</code></p>\n"),
        ("    y = Σ w·x", "<pre><code>y = Σ w·x\n</code></pre>\n"),
        ("* one\n* two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"),
        ("<x> & <Ax, y>", "<p>&lt;x&gt; &amp; &lt;Ax, y&gt;</p>\n"),
        (
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n"
            "<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n",
        ),
    ],
)
def test_markdown_renders_as_commonmark(text, expected):
    assert page.render_markdown(text) == expected


def test_headings_move_down_one_level_and_get_unique_anchors():
    ids: set[str] = set()
    html = page.render_markdown(
        "# Tutorial 1: A·Aᵀ\n\n## Part\n\n## Part", id_prefix="t1-", ids=ids
    )
    assert html == (
        '<h2 id="t1-tutorial-1-a-aᵀ">Tutorial 1: A·Aᵀ</h2>\n'
        '<h3 id="t1-part">Part</h3>\n'
        '<h3 id="t1-part-2">Part</h3>\n'
    )
    assert ids == {"t1-tutorial-1-a-aᵀ", "t1-part", "t1-part-2"}
    assert page.render_markdown("###### deep").startswith("<h6")  # never past <h6>
