"""The built documentation site (docs/): what a reader finds there.

These tests read a site already built by ``sphinx-build -W --keep-going docs DIR``; they
run when ``CONVOPS_DOCS_HTML`` names that folder (``.ci/run`` builds the site, then runs this
file with it set) and skip otherwise, as they do where Sphinx is not installed.

Claims: a page per tutorial (of ``convops.tutorials.TUTORIALS``) with its headings and as many
pictures as the script writes, every picture present; a page per public name; the command-line
page carries every subcommand and option of the parser; the Performance page carries the
README's table; the landing page shows the seed matrix and an animation; maths is rendered by
a local MathJax; no page, style sheet or script loads anything from the network; and no
internal link points to a missing page or anchor.
"""

from __future__ import annotations

import argparse
import os
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import convops
import convops.tutorials as tutorials
from convops.cli import build_parser

pytest.importorskip("sphinx")
ROOT = Path(__file__).resolve().parents[1]
SITE_VAR = "CONVOPS_DOCS_HTML"
SEED_ROW = "1 2 3 0 4 5 6 0 7 8 9 0 0 0 0 0"  # row 0 of the seed matrix, as printed
API_MODULES = ("convops", "convops.plotting", "convops.spectral", "convops.testing")


@pytest.fixture(scope="module")
def site() -> Path:
    folder = os.environ.get(SITE_VAR)
    if not folder:
        pytest.skip(f"set {SITE_VAR} to a built site (.ci/run builds one and sets it)")
    path = Path(folder).resolve()
    assert (path / "index.html").is_file(), f"{path} is not a built site"
    return path


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []
        self.headings: list[str] = []
        self.text: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key):
                self.refs.append((tag, key, a[key]))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = []

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            # the theme adds a "#" permalink inside each heading
            self.headings.append(" ".join("".join(self._heading).split()).rstrip("#").strip())
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


_pages: dict[Path, Page] = {}


def page(path: Path) -> Page:
    if path not in _pages:
        p = Page()
        p.feed(path.read_text(encoding="utf-8"))
        _pages[path] = p
    return _pages[path]


def html_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not {".doctrees", "_static"} & set(p.parts))


def images_of(site: Path, path: Path) -> list[Path]:
    return [
        (path.parent / unquote(urlsplit(v).path)).resolve()
        for tag, key, v in page(path).refs
        if tag == "img" and key == "src" and not v.startswith("data:")
    ]


def written_by(script: Path) -> list[str]:
    """The picture files a tutorial script names (read from its source, not run)."""
    return re.findall(r"[\"'](\d\d_\w+\.(?:png|gif))[\"']", script.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------------------
def test_a_page_per_tutorial_with_its_headings_and_pictures(site):
    for number, tut in enumerate(tutorials.TUTORIALS, 1):
        path = site / "tutorials" / f"{tut.name}.html"
        assert path.is_file(), f"no page for tutorial {number}"
        script = tutorials.tutorial_path(number)
        headings = [
            line.lstrip("#").strip()
            for cell in tutorials.read_cells(script)
            if cell.kind == "markdown"
            for line in cell.markdown_text().splitlines()
            if re.match(r"#{1,6} ", line)
        ]
        for heading in headings:
            plain = heading.replace("`", "").replace("**", "")
            assert plain in page(path).headings, f"{tut.name}: heading {heading!r} missing"
        pictures = images_of(site, path)
        for picture in pictures:
            assert picture.is_file() and picture.stat().st_size > 0, picture
        names = written_by(script)
        gifs = [n for n in names if n.endswith(".gif")]
        assert len(pictures) >= len(names), f"{tut.name}: {len(pictures)} pictures, writes {names}"
        assert sum(p.suffix == ".gif" for p in pictures) >= len(gifs), f"{tut.name}: animations"
        assert "Traceback" not in "".join(page(path).text), f"{tut.name} shows an error"


def test_the_tutorials_index_lists_them_in_order(site):
    text = (site / "tutorials" / "index.html").read_text(encoding="utf-8")
    positions = [text.find(f'href="{t.name}.html"') for t in tutorials.TUTORIALS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_a_page_per_public_name(site):
    for module_name in API_MODULES:
        module = __import__(module_name, fromlist=["__all__"])
        assert (site / "api" / "generated" / f"{module_name}.html").is_file(), module_name
        for name in module.__all__:
            path = site / "api" / "generated" / f"{module_name}.{name}.html"
            assert path.is_file(), f"no page for {module_name}.{name}"


def test_the_maths_is_rendered_by_a_local_mathjax(site):
    path = site / "api" / "generated" / "convops.ConvOperator.html"
    text = path.read_text(encoding="utf-8")
    assert 'class="math' in text and r"\sum" in text
    scripts = [v for tag, key, v in page(path).refs if tag == "script"]
    mathjax = [v for v in scripts if "mathjax" in v.lower()]
    assert mathjax, "no MathJax script on a page with maths"
    for v in mathjax:
        assert (path.parent / urlsplit(v).path).resolve().is_file(), v


def test_the_command_line_page_is_the_parser(site):
    text = " ".join("".join(page(site / "cli.html").text).split())
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in sub.choices.items():
        assert f"convops {name}" in text, name
        for action in subparser._actions:
            for option in action.option_strings:
                assert option in text, f"convops {name} {option}"


def test_the_performance_page_has_the_readme_table(site):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Performance", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 5
    text = " ".join("".join(page(site / "performance.html").text).split())
    for row in rows:
        # every cell's text, markup removed, is on the page
        for cell in row.strip("|").split("|"):
            plain = cell.replace("`", "").replace("**", "").strip()
            assert plain in text, plain
    assert "python benchmarks/run.py" in text


def test_the_landing_page_shows_the_seed_matrix_and_an_animation(site):
    index = site / "index.html"
    text = "".join(page(index).text)
    assert SEED_ROW in text and "Aᵀ (16 × 4)" in text
    assert any(p.suffix == ".gif" and p.is_file() for p in images_of(site, index))
    for tut in tutorials.TUTORIALS:
        assert f"tutorials/{tut.name}.html" in index.read_text(encoding="utf-8"), tut.name


def test_nothing_is_loaded_from_the_network(site):
    for path in html_files(site):
        for tag, key, value in page(path).refs:
            if tag == "a":
                continue  # a link the reader may follow; not loaded with the page
            parts = urlsplit(value)
            assert parts.scheme in ("", "data", "file") and not parts.netloc, (
                f"{path.relative_to(site)}: <{tag} {key}={value!r}>"
            )
    for css in (site / "_static").rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"@import\s+(url\()?\s*['\"]?(https?:)?//", text), css
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            assert not re.match(r"(https?:)?//", url), f"{css.name}: url({url})"


def test_no_internal_link_points_to_a_missing_page_or_anchor(site):
    broken = []
    for path in html_files(site):
        for _tag, _key, value in page(path).refs:
            parts = urlsplit(value)
            if parts.scheme or parts.netloc or value.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site)}: {value}")
                continue
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in page(target).ids:
                    broken.append(f"{path.relative_to(site)}: {value} (no such anchor)")
    assert not broken, "\n".join(broken[:40])


def test_every_public_module_of_convops_is_in_the_reference(site):
    # what the docs' extension lists: convops and its public subpackages (and more)
    listed = (site / "api" / "index.html").read_text(encoding="utf-8")
    for module_name in API_MODULES:
        assert f"{module_name}.html" in listed, module_name
    assert convops.__version__ in (site / "index.html").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------
# the Conventions page's PyTorch column (run wherever PyTorch is installed)
# ----------------------------------------------------------------------------------------
def test_pytorch_same_split_and_strided_same_refusal():
    torch = pytest.importorskip("torch")
    import numpy as np

    F = torch.nn.functional
    rng = np.random.default_rng(0)
    for k in (2, 3, 4, 5):
        x, w = rng.standard_normal(10), rng.standard_normal(k)
        with warnings.catch_warnings():  # PyTorch notes that even kernels need a padded copy
            warnings.simplefilter("ignore", UserWarning)
            theirs = F.conv1d(
                torch.tensor(x[None, None]), torch.tensor(w[None, None]), padding="same"
            )
        np.testing.assert_allclose(convops.conv(x, w, padding="same"), theirs[0, 0].numpy())
    with pytest.raises(RuntimeError):
        F.conv1d(torch.zeros(1, 1, 8), torch.zeros(1, 1, 3), stride=2, padding="same")
    with pytest.raises(ValueError):
        convops.conv(np.zeros(8), np.zeros(3), stride=2, padding="same")
