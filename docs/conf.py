"""Sphinx configuration of the convops documentation.

Build (after ``pip install ".[docs]"``), warnings as errors:

    sphinx-build -W --keep-going docs docs/_build/html

What is generated at build time (never committed; see .gitignore) by the local extension
``docs/_ext/convops_docs.py``:

- ``docs/tutorials/``: one notebook per tutorial in ``convops.tutorials.TUTORIALS``, read from
  its percent-format script by jupytext and executed by myst-nb (one source: the scripts);
- ``docs/api/``: the API reference, one page per public name, by autosummary from the
  docstrings (numpydoc).

The built site needs no network: MathJax is served from ``_static`` (a copy from the
``django-static-mathjax`` wheel, MathJax 3 with SVG output, so no web fonts either), the
theme ships its own scripts and icon font, and no page loads anything from elsewhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

from numpydoc.xref import DEFAULT_LINKS

import convops

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "convops"
author = "the convops authors"
copyright = "the convops authors, BSD-3-Clause"
version = release = convops.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "convops_docs",
]

# quotes stay as written: the pages show the tutorials' and the README's text as it is
smartquotes = False
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]
html_static_path = ["_static"]  # the extension adds MathJax's file
html_css_files = ["convops.css"]

# ---- warnings: every broken reference to convops' own names fails the build -------------
nitpicky = True
# no intersphinx (it would fetch inventories from the network): the types of other libraries
# and of the standard library are left unresolved on purpose
_OTHER_LIBRARIES = [
    *("numpy", "np", "scipy", "matplotlib", "PIL", "IPython", "typing", "typing_extensions"),
    *("collections", "os", "pathlib", "argparse", "io", "concurrent", "threading"),
    *("contextlib", "dataclasses", "enum", "abc", "types"),
]
_THEIR_TYPES = [  # as type hints and numpydoc types name them, unqualified
    *("Path", "TextIO", "Iterator", "Sequence", "Callable", "Mapping", "Literal", "Any"),
    *("Figure", "Axes", "FuncAnimation", "LinearOperator", "ArrayLike", "NDArray"),
    *("DTypeLike", "PathLike", "Generator", "csr_array", "ndarray", "dtype"),
]
_PLAIN_WORDS = [  # Python's own types and the words of numpydoc type descriptions
    *("None", "True", "False", "bool", "boolean", "int", "float", "complex", "str", "string"),
    *("bytes", "list", "tuple", "dict", "set", "frozenset", "object", "type", "slice"),
    *("callable", "iterable", "sequence", "generator", "contextmanager", "namedtuple"),
    *("array", "array_like", "array-like", "scalar", "optional", "default", "file", "path"),
    *("path-like", "number", "shape"),
]
nitpick_ignore_regex = [
    # numpydoc's built-in aliases point to intersphinx targets
    (r"py:.*|std:.*", r"(python|numpy|scipy|matplotlib):.*"),
    (r"py:.*", rf"({'|'.join(_OTHER_LIBRARIES)})(\..*)?"),
    (r"py:.*", rf"({'|'.join(_THEIR_TYPES)}|{'|'.join(_PLAIN_WORDS)})"),
]

# ---- API reference -------------------------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's page lists exactly its __all__
# convops re-exports its names from the modules that define them
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc sections state the types; signatures stay readable
autodoc_member_order = "bysource"
autodoc_default_options = {"exclude-members": "__init__, __new__"}
numpydoc_show_class_members = False  # the class template documents the class's own members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"  # only the names below become links; other words stay text
# numpydoc's own aliases point into the Python and NumPy docs through intersphinx, which is
# not used: the standard names stay plain (unlinked) names, convops' classes become links
numpydoc_xref_aliases = {
    key: value if ":" not in value else key for key, value in DEFAULT_LINKS.items()
} | {
    name: f"convops.{name}" for name in convops.__all__ if isinstance(getattr(convops, name), type)
}

# ---- notebooks: the tutorials, the landing page, the conventions ---------------------------
nb_execution_mode = "force"  # always run them: a page shows what this convops computes
nb_execution_raise_on_error = True  # a tutorial whose assert fails fails the build
nb_execution_timeout = 600
nb_execution_in_temp = True  # files a page writes go to a temporary folder, not into docs/
nb_merge_streams = True
nb_execution_show_tb = True
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# ---- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"convops {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "use_edit_page_button": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "icon_links": [],
    "show_prev_next": True,
    # the landing page uses the whole width for the example; other pages list their sections
    "secondary_sidebar_items": {"**": ["page-toc"], "index": []},
}
# pages without sections of their own need no navigation column
html_sidebars = {page: [] for page in ("index", "conventions", "performance", "cli", "benchmarks")}
html_show_sourcelink = False
html_copy_source = False
# MathJax 3 (SVG output: no web fonts) from _static; the extension puts tex-svg.js there
mathjax_path = "mathjax/tex-svg.js"
mathjax3_config = {"svg": {"fontCache": "global"}, "options": {"enableMenu": False}}
