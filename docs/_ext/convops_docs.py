"""The convops documentation's own Sphinx extension: what is generated at build time.

- ``tutorials/``: for each tutorial of ``convops.tutorials.TUTORIALS`` (in order; a new
  tutorial appears without editing the docs), a notebook built from its percent-format script
  with the cell splitter ``convops tour`` uses (``convops.tutorials.read_cells``), plus the
  tutorials' index page.  myst-nb executes them.  A first, hidden cell makes the kernel run the
  script as ``convops tour`` does (the Agg backend; figures written to ``convops-output`` in
  the kernel's temporary working folder) and shows below each cell every picture that cell
  wrote: the PNGs of ``save_figure`` and the GIF animations, in the order written.  The
  scripts stay plain Python.
- ``api/``: the API reference's index, listing the public modules (``convops``, each public
  subpackage, and a few single modules, see :data:`EXTRA_MODULES`); autosummary then writes one
  page per name in each module's ``__all__``.
- MathJax: ``tex-svg.js`` copied from the ``django-static-mathjax`` wheel into ``_static``.
- The ``convops-tutorial-list`` directive: links to the tutorials, for the landing page.
- The ``convops-cli`` directive: the help of ``convops`` and of each subcommand, formatted by
  ``convops.cli.build_parser()`` itself (so the page cannot drift from the command).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
import shutil
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

import convops
import convops.tutorials as tutorials

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
TUTORIAL_DIR = "tutorials"
API_DIR = "api"
#: Subpackages of convops that are machinery, not API (the realisations are reached through
#: ``ConvOperator(method=...)``).
INTERNAL_SUBPACKAGES = frozenset({"realisations"})
#: Single modules documented besides ``convops`` and its public subpackages: the text helpers
#: the tutorials use, the cost model behind ``method="auto"``, the tutorials' machinery and
#: the tour's page.
EXTRA_MODULES = ("convops.text", "convops.cost", "convops.tutorials", "convops.tutorials.page")
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".svg")


def api_modules() -> list[str]:
    """The modules of the API reference, in order.

    ``convops``; its public subpackages; the modules ``convops.__all__`` names (a module that
    is a public name, such as ``convops.grad``); then :data:`EXTRA_MODULES`.
    """
    packages = [
        f"convops.{m.name}"
        for m in pkgutil.iter_modules(convops.__path__)
        if m.ispkg and not m.name.startswith("_") and m.name not in INTERNAL_SUBPACKAGES
    ]
    named = [
        getattr(convops, name).__name__
        for name in convops.__all__
        if isinstance(getattr(convops, name), types.ModuleType)
    ]
    found = ["convops", *sorted(packages), *sorted(named), *EXTRA_MODULES]
    return list(dict.fromkeys(found))


# ----------------------------------------------------------------------------------------
# generated sources
# ----------------------------------------------------------------------------------------
def _write_if_changed(path: Path, text: str) -> None:
    # an unchanged file keeps its mtime, so Sphinx does not re-read (and re-execute) it
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


_HOOK = """\
# Added by the docs build (docs/_ext/convops_docs.py), hidden from the page: run the script as
# `convops tour` does, and show below each cell the pictures it wrote, in the order written.
# Everything lives inside this function, so the tutorial's own names are untouched.
def _convops_docs_hook(out, suffixes):
    import os
    from pathlib import Path

    import matplotlib
    from IPython import get_ipython
    from IPython.display import Image, display

    matplotlib.use("Agg")  # as under `convops tour`: save_figure saves and closes
    os.environ["CONVOPS_OUT"] = out
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    def pictures():
        return {p: p.stat().st_mtime_ns for p in folder.iterdir() if p.suffix.lower() in suffixes}

    seen = pictures()

    def show_new_pictures(result=None):
        now = pictures()
        new = [p for p, t in now.items() if seen.get(p) != t]
        for p in sorted(new, key=lambda p: (now[p], p.name)):
            display(Image(filename=str(p)))
        seen.update(now)

    get_ipython().events.register("post_run_cell", show_new_pictures)
"""


def tutorial_notebook(script: Path, out: str = tutorials.DEFAULT_OUT) -> nbformat.NotebookNode:
    """The notebook of one tutorial script, plus the hidden hook cell (figures to ``out``).

    ``out`` is relative to the kernel's working directory, a temporary folder
    (``nb_execution_in_temp``): the page then prints the paths a reader's own run prints.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    hook = nbformat.v4.new_code_cell(
        f"{_HOOK}\n\n_convops_docs_hook({out!r}, {IMAGE_SUFFIXES!r})\ndel _convops_docs_hook\n",
        metadata={"tags": ["remove-cell"]},
    )
    nb.cells.append(hook)
    for cell in tutorials.read_cells(script):
        if cell.kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.markdown_text()))
        else:
            meta = {"title": cell.title} if cell.title else {}
            nb.cells.append(nbformat.v4.new_code_cell(cell.source.strip("\n"), metadata=meta))
    for i, c in enumerate(nb.cells):  # stable ids: the same script gives the same file
        c["id"] = f"cell-{i}"
    return nb


def generate_tutorials(app: Sphinx) -> None:
    folder = DOCS / TUTORIAL_DIR
    folder.mkdir(exist_ok=True)
    names = []
    for number, tut in enumerate(tutorials.TUTORIALS, 1):
        script = tutorials.tutorial_path(number)
        nb = tutorial_notebook(script)
        _write_if_changed(folder / f"{tut.name}.ipynb", nbformat.writes(nb) + "\n")
        names.append(tut.name)
    for stale in folder.glob("*.ipynb"):  # a tutorial that was removed or renamed
        if stale.stem not in names:
            stale.unlink()
    rows = "\n".join(
        f"{i}. {{doc}}`{tut.title} <{tut.name}>` — `{tutorials.tutorial_path(i).name}`"
        for i, tut in enumerate(tutorials.TUTORIALS, 1)
    )
    toctree = "\n".join(names)
    _write_if_changed(
        folder / "index.md",
        f"""# Tutorials

Each tutorial is a percent-format script in the repository's `tutorials/` folder (installed as
`convops.tutorials`).  These pages are those scripts, executed when the documentation was built:
the narrative, the code, what it printed and the figures and animations it wrote.  Every claim
is an `assert` against an independent computation, so a page that built is a page whose claims
held.  The same scripts run in the terminal with `convops tour`, which also writes them as one
page, `index.html`, beside the figures.

{rows}

```{{toctree}}
:hidden:
:maxdepth: 1

{toctree}
```
""",
    )


def generate_api_index() -> None:
    modules = api_modules()
    listing = "\n".join(f"   {m}" for m in modules)
    _write_if_changed(
        DOCS / API_DIR / "index.rst",
        f"""API reference
=============

Every public name, one page each, from the docstrings.  ``import convops`` gives the
top-level names; ``convops.plotting`` (matplotlib) is imported on its own.

.. autosummary::
   :toctree: generated

{listing}
""",
    )


def copy_mathjax(app: Sphinx) -> None:
    """Copy MathJax 3's ``tex-svg.js`` (one file, fonts inside) into the built ``_static``."""
    dist = metadata.distribution("django-static-mathjax")
    source = Path(str(dist.locate_file("mathjax/static/mathjax/es5/tex-svg.js")))
    licence = Path(str(dist.locate_file("mathjax/static/mathjax/LICENSE")))
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / "tex-svg.js")
    shutil.copyfile(licence, target / "LICENSE")


def public_names(module_name: str) -> dict[str, list[str]]:
    """A module's ``__all__``, sorted into what each page shows: every name gets its page."""
    module = importlib.import_module(module_name)
    groups: dict[str, list[str]] = {
        "classes": [],
        "exceptions": [],
        "functions": [],
        "data": [],
        "modules": [],
    }
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            groups["modules"].append(name)
        elif isinstance(obj, type):
            groups["exceptions" if issubclass(obj, BaseException) else "classes"].append(name)
        elif callable(obj):
            groups["functions"].append(name)
        else:
            groups["data"].append(name)
    return groups


def on_config_inited(app: Sphinx, config: Config) -> None:
    generate_api_index()
    generate_tutorials(app)
    # the module template (docs/_templates/autosummary/module.rst) reads this
    config.autosummary_context["convops_api"] = {m: public_names(m) for m in api_modules()}


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(app)


# ----------------------------------------------------------------------------------------
# directives
# ----------------------------------------------------------------------------------------
class CommandLineHelp(SphinxDirective):
    """The help of ``convops`` and of each subcommand, as ``build_parser()`` formats it.

    One section per subcommand (title ``convops NAME``, its one-line help, then the full
    ``convops NAME --help`` text as a literal block), so the page is the parser's own text.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        from convops.cli import build_parser

        parser = build_parser()
        result: list[nodes.Node] = [self._help(parser)]
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        summaries = {a.dest: a.help or "" for a in sub._choices_actions}
        for name, subparser in sub.choices.items():
            section = nodes.section(ids=[f"convops-{name}"], names=[f"convops {name}"])
            section += nodes.title("", f"convops {name}")
            if summaries.get(name):
                section += nodes.paragraph(
                    "", summaries[name][0].upper() + summaries[name][1:] + "."
                )
            section += self._help(subparser)
            result.append(section)
        return result

    @staticmethod
    def _help(parser: argparse.ArgumentParser) -> nodes.Node:
        # a fixed width, so the page does not depend on the terminal that built it
        with _columns(90):
            text = parser.format_help()
        block = nodes.literal_block(text, text, classes=["convops-cli-help"])
        block["language"] = "text"
        return block


@contextmanager
def _columns(width: int) -> Iterator[None]:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


class TutorialList(SphinxDirective):
    """A numbered list of links to the tutorial pages, in the order of ``TUTORIALS``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        items = nodes.enumerated_list(enumtype="arabic")
        for tut in tutorials.TUTORIALS:
            ref = addnodes.pending_xref(
                "",
                refdomain="std",
                reftype="doc",
                reftarget=f"/{TUTORIAL_DIR}/{tut.name}",
                refexplicit=True,
                refwarn=True,
            )
            ref += nodes.inline("", tut.title)
            items += nodes.list_item("", nodes.paragraph("", "", ref))
        return [items]


# ----------------------------------------------------------------------------------------
# references to convops' own names
# ----------------------------------------------------------------------------------------
_MISSING = object()
_documented: dict[int, str] = {}


def _walk(obj: Any, names: list[str]) -> Any:
    """``obj.names[0].names[1]…`` as Python evaluates it (submodules imported as needed)."""
    for name in names:
        nxt = getattr(obj, name, _MISSING)
        if nxt is _MISSING and isinstance(obj, types.ModuleType):
            try:
                nxt = importlib.import_module(f"{obj.__name__}.{name}")
            except ImportError:
                return _MISSING
        if nxt is _MISSING:
            return _MISSING
        obj = nxt
    return obj


def _lookup_object(dotted: str, module: str | None = None) -> Any:
    """The object ``dotted`` names, absolute or within ``module``; ``_MISSING`` if none."""
    parts = dotted.split(".")
    if module is not None:
        root = sys.modules.get(module)
        return _MISSING if root is None else _walk(root, parts)
    try:
        root = importlib.import_module(parts[0])
    except ImportError:
        return _MISSING
    return _walk(root, parts[1:])


def _by_identity(env: Any) -> dict[int, str]:
    """``id(obj)`` -> documented full name, for the documented classes, functions, methods."""
    if not _documented:
        for fullname, entry in env.get_domain("py").objects.items():
            if entry.objtype in {"class", "function", "method", "property"} and not entry.aliased:
                obj = _lookup_object(fullname)
                if obj is not _MISSING:
                    _documented.setdefault(id(obj), fullname)
    return _documented


def reset_documented(app: Sphinx, env: Any) -> None:
    _documented.clear()  # the objects documented in this build are known once all are read


def resolve_convops_reference(
    app: Sphinx, env: Any, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve a reference to a convops object that Sphinx did not find under that name.

    - The object is documented under another name (``convops.geometry.make_geometry`` is
      documented as ``convops.make_geometry``; a docstring may also use a name imported into
      its module): link to that page.  Functions, classes and methods are matched by
      identity; data never (equal values may be one object).
    - The object exists but is not part of the API reference (an internal of
      ``convops.realisations``, a module constant): show the name as code, unlinked.
    - The name does not exist in convops (a typo, a renamed function): leave it unresolved,
      so that the nitpicky build fails on it.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    module = node.get("py:module") or ""
    klass = node.get("py:class") or ""
    # (module the name is looked up in, or None for an absolute name; the dotted name)
    candidates: list[tuple[str | None, str]] = [(None, target)]
    if module:
        if klass:
            candidates.append((module, f"{klass}.{target}"))
        candidates.append((module, target))
    # the docstring was written in the module that defines the documented object: its names
    # (imported ones included) are in scope there
    page = node.get("refdoc", "").rpartition("/")[2]
    for owner in (f"{module}.{klass}" if klass else "", page):
        if owner.startswith("convops"):
            defined_in = getattr(_lookup_object(owner), "__module__", None)
            if isinstance(defined_in, str) and defined_in.startswith("convops"):
                candidates.append((defined_in, target))
    documented = _by_identity(env)
    exists = False
    for where, name in candidates:
        if where is None and not name.startswith("convops"):
            continue
        obj = _lookup_object(name, where)
        if obj is _MISSING:
            continue
        exists = True
        if callable(obj) or isinstance(obj, property):
            fullname = documented.get(id(obj))
            if fullname is not None:
                entry = env.get_domain("py").objects[fullname]
                return make_refnode(
                    app.builder, node["refdoc"], entry.docname, entry.node_id, contnode
                )
    return contnode if exists else None


def class_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """A class's own ``__init__`` signature where a base's ``__new__(*args, **kwargs)`` hid it.

    (scipy's ``LinearOperator`` defines ``__new__``, which autodoc prefers.)  Annotations are
    dropped, as ``autodoc_typehints = "none"`` does elsewhere.
    """
    if what != "class" or signature != "(*args, **kwargs)" or "__init__" not in vars(obj):
        return None
    sig = inspect.signature(obj.__init__)
    params = [
        p.replace(annotation=inspect.Parameter.empty) for p in list(sig.parameters.values())[1:]
    ]
    plain = sig.replace(parameters=params, return_annotation=inspect.Signature.empty)
    return str(plain), return_annotation


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", on_config_inited)
    app.connect("build-finished", on_build_finished)
    app.connect("env-updated", reset_documented)
    app.connect("missing-reference", resolve_convops_reference)
    app.connect("autodoc-process-signature", class_signature)
    app.add_directive("convops-tutorial-list", TutorialList)
    app.add_directive("convops-cli", CommandLineHelp)
    return {"version": convops.__version__, "parallel_read_safe": True, "parallel_write_safe": True}
