r"""One interactive view of a small convolution: the picture, the matrix and the spectrum, linked.

:func:`explore` draws, side by side, the padded input ``x̃``, the output ``y``, the matrix
of the operator (with its Toeplitz block lines, :func:`~convops.plotting.plot_matrix`) and
the kernel spectrum (:func:`~convops.plotting.plot_spectrum`), and links them: pointing at
a cell of one highlights what it stands for in the others.  What is highlighted is
computed by :class:`~convops.plotting.explore_model.ExploreModel` from the geometry's own
tables; this module draws it and turns mouse events and widgets into calls of
:class:`Explorer`'s methods.

Where it runs: any matplotlib backend.  With an interactive one (a desktop window,
``convops explore``; or a notebook with ipympl, ``%matplotlib widget``) the mouse and the
controls work; with a non-interactive one (Agg, ``%matplotlib inline``) the figure is the
static view, with a line saying how to get the interactive one.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import Event, MouseEvent
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle
from matplotlib.text import Text
from matplotlib.widgets import CheckButtons, RadioButtons, TextBox

from .._validate import (
    as_numeric_array,
    shape_tuple,
    validate_bool,
    validate_choice,
    validate_int,
)
from ..geometry import BOUNDARIES, ConvGeometry, make_geometry
from ..operators import ConvOperator
from ..spectral import kernel_spectrum
from ..text import format_value
from ._common import geometry_summary, validate_auto_flag
from .explore_model import (
    COPY,
    DATA,
    GRID_LIMIT,
    MATRIX_LIMIT,
    PAD,
    ExploreModel,
    Highlight,
    check_explorable,
)
from .matrix import plot_matrix
from .spectrum import plot_spectrum

__all__ = ["GRID_LIMIT", "MATRIX_LIMIT", "Explorer", "explore"]

#: The parameters :meth:`Explorer.set_params` (and the controls) change.
PARAMS = (
    "input_shape",
    "kernel_shape",
    "stride",
    "padding",
    "dilation",
    "boundary",
    "flip",
    "transposed",
    "kernel",
    "data",
)

#: The parameters typed into text boxes (in the command line's syntax).
TEXT_CONTROLS = ("input_shape", "kernel_shape", "stride", "padding", "dilation")

#: ``gid`` of the explorer's artists (tests and users find them by it).
GID = {
    "pointed": "convops.explore.pointed",
    "footprint": "convops.explore.footprint",
    "reached": "convops.explore.reached",
    "copies": "convops.explore.copies",
    "tap": "convops.explore.tap",
    "row": "convops.explore.row",
    "column": "convops.explore.column",
    "entry": "convops.explore.entry",
    "frequency": "convops.explore.frequency",
    "info": "convops.explore.info",
    "hint": "convops.explore.hint",
    "error": "convops.explore.error",
    "title": "convops.explore.title",
}

FIG_WIDTH = 14.0
_PANEL_HEIGHT = 5.2  # inches of the panels
_MAX_CELL = 0.6  # inches: larger grid cells only waste room
_MAX_MATRIX_CELL = 0.42
_BELOW = 1.95  # inches between the controls and the panels: texts, legend, tick labels
_CONTROLS = 1.45  # inches below everything for the controls

# the colours of convops.plotting.animate, so that both pictures read the same way
_INPUT: dict[str, Any] = dict(facecolor="#9ecae1", edgecolor="#3f6e93")
_OUTPUT: dict[str, Any] = dict(facecolor="white", edgecolor="#2c7a4b")
_PADZERO: dict[str, Any] = dict(facecolor="#eeeeee", edgecolor="#9a9a9a", hatch="///")
_PADCOPY: dict[str, Any] = dict(facecolor="#dbe9f6", edgecolor="#8fb0cf", hatch="///")
_POINTED: dict[str, Any] = dict(facecolor="#ffe066", edgecolor="black", linewidth=2.2)
_FOOT: dict[str, Any] = dict(facecolor="#e6550d", alpha=0.45, edgecolor="#a63603", linewidth=1.2)
_REACHED: dict[str, Any] = dict(facecolor="#74c476", alpha=0.6, edgecolor="#2c7a4b", linewidth=1.2)
_COPIES: dict[str, Any] = dict(facecolor="none", edgecolor="#24496b", linewidth=1.6, linestyle="--")
_ENTRY: dict[str, Any] = dict(facecolor="none", edgecolor="#d62728", linewidth=1.6)
_BAND: dict[str, Any] = dict(facecolor="#ffe066", alpha=0.45, edgecolor="none")


# ----------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------
def is_interactive_canvas(figure: Figure) -> bool:
    """Whether ``figure`` is on a canvas that delivers mouse events (a window or ipympl).

    Desktop backends name their GUI framework (``required_interactive_framework``);
    the notebook backends (ipympl's ``widget``, ``nbagg``, WebAgg) are WebAgg canvases.
    Agg, the inline backend and the file backends are neither.
    """
    canvas = figure.canvas
    if getattr(canvas, "required_interactive_framework", None):
        return True
    return any(c.__name__ == "FigureCanvasWebAggCore" for c in type(canvas).__mro__)


def _shape_text(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


def _ints_text(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def _padding_text(value: Any, ndim: int) -> str:
    """A padding argument in the command line's syntax (``1``, ``same``, ``0:1,1``).

    In 1-D a bare pair ``(lo, hi)`` is one axis' widths (``LO:HI``); in 2-D a pair of ints
    is one width per axis (``1,2``), as :func:`~convops.geometry.make_geometry` reads them.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        if ndim == 1 and len(value) == 2 and all(isinstance(v, (int, np.integer)) for v in value):
            return f"{value[0]}:{value[1]}"
        parts = []
        for entry in value:
            if isinstance(entry, (tuple, list)):
                parts.append(f"{entry[0]}:{entry[1]}")
            else:
                parts.append(str(entry))
        return ",".join(parts)
    return str(value)


def _cells(
    cells: Sequence[tuple[int, int]] | np.ndarray, gid: str | None = None, **style: Any
) -> PatchCollection:
    """Unit squares centred on ``(row, col)`` cells (the imshow convention)."""
    rects = [Rectangle((c - 0.5, r - 0.5), 1, 1) for r, c in cells]
    coll = PatchCollection(rects, match_original=False, **style)
    if gid is not None:
        coll.set_gid(gid)
    return coll


def _name_of(letter: str, index: Sequence[int]) -> str:
    return f"{letter}[{','.join(map(str, index))}]"


def _wrap(lines: Sequence[str], width: int = 175) -> str:
    out: list[str] = []
    for line in lines:
        if line:
            out.extend(textwrap.wrap(line, width, subsequent_indent="    ") or [""])
    return "\n".join(out)


# ----------------------------------------------------------------------------------------
# the explorer
# ----------------------------------------------------------------------------------------
class Explorer:
    """The interactive view made by :func:`explore`: its figure, its operator, what is highlighted.

    The view is driven by a few methods, which the mouse and the controls call and which
    scripts and tests may call directly:

    * :meth:`point_output` / :meth:`point_input` — an entry of the operator's output or
      input (for ``A``: ``y`` and ``x``; for ``Aᴴ``: ``x`` and ``y``);
    * :meth:`point_entry` — an entry ``(row, column)`` of ``op.matrix()``;
    * :meth:`clear` — no highlight;
    * :meth:`set_params` — rebuild the view for other geometry parameters.

    In the panels, cell ``(row, col)`` of a grid (the padded input ``x̃``, the output
    ``y``; a 1-D geometry is one row) and entry ``(row, col)`` of the matrix are centred on
    the data coordinates ``(col, row)``, as in ``imshow``; :attr:`axes` names the panels.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    operator : ConvOperator
        The operator drawn (``A``, or ``A.H`` when transposed).
    model : ExploreModel
        Its incidence table and values.
    highlight : Highlight or None
        What is highlighted now.
    error : str or None
        The message of the last refused :meth:`set_params` (shown in the figure), else None.
    """

    def __init__(
        self,
        params: dict[str, Any],
        *,
        spectrum: bool,
        controls: bool | str,
        precision: int,
    ) -> None:
        self._params = dict(params)
        self._spectrum = spectrum
        self._precision = precision
        operator, model = self._build(self._params)  # raises: explore() refuses bad input
        self.operator: ConvOperator = operator
        self.model: ExploreModel = model
        self.highlight: Highlight | None = None
        self.error: str | None = None
        self._pinned = False
        self._last_target: tuple[Any, ...] | None = None
        self._syncing = False
        self._view_axes: list[Axes] = []
        self._axes: dict[str, Axes] = {}
        self._dynamic: list[Any] = []
        self._spectrum_values: np.ndarray | None = None

        figure = plt.figure(figsize=(FIG_WIDTH, 1.0))  # height set below, once controls known
        self.figure: Figure = figure
        self._interactive = is_interactive_canvas(figure)
        self._background: Any = None
        self._capturing = False
        self._controls = self._interactive if controls == "auto" else bool(controls)
        self._base = _CONTROLS if self._controls else 0.1
        height = self._base + _BELOW + _PANEL_HEIGHT + 0.8
        figure.set_size_inches(FIG_WIDTH, height)
        self._height = height
        self._title = figure.text(
            0.012, 1 - 0.12 / height, "", ha="left", va="top", fontsize=11, gid=GID["title"]
        )
        self._info = figure.text(
            0.012,
            (self._base + 1.3) / height,
            "",
            ha="left",
            va="top",
            fontsize=9.5,
            linespacing=1.35,
            gid=GID["info"],
        )
        # the error takes the hint's place, above the controls it is about
        self._error_text = figure.text(
            0.012,
            (self._base + 0.06) / height,
            "",
            ha="left",
            va="bottom",
            fontsize=9.5,
            color="#b2182b",
            linespacing=1.3,
            gid=GID["error"],
        )
        self._hint = figure.text(
            0.012,
            (self._base + 0.12) / height,
            "",
            ha="left",
            va="bottom",
            fontsize=9,
            color="0.3",
            style="italic",
            gid=GID["hint"],
        )
        self._legend()
        self._widgets: dict[str, Any] = {}
        if self._controls:
            self._make_controls()
        self._draw()
        canvas = figure.canvas
        self._cids = [
            canvas.mpl_connect("motion_notify_event", self._on_motion),
            canvas.mpl_connect("button_press_event", self._on_click),
            canvas.mpl_connect("draw_event", self._on_draw),
        ]

    # --- read-only views of the state ---------------------------------------------------
    @property
    def axes(self) -> Mapping[str, Axes]:
        """The panels: ``"x"`` (the padded input grid ``x̃``), ``"y"``, ``"matrix"``,
        and ``"spectrum"`` when drawn."""
        return MappingProxyType(self._axes)

    @property
    def params(self) -> Mapping[str, Any]:
        """The parameters of the view drawn (as :meth:`set_params` takes them)."""
        return MappingProxyType(self._params)

    @property
    def adjoint(self) -> bool:
        """Whether the operator drawn is the transposed convolution ``Aᴴ``."""
        return self.model.adjoint

    @property
    def controls(self) -> Mapping[str, Any]:
        """The matplotlib widgets by parameter: TextBoxes ``"input_shape"``,
        ``"kernel_shape"``, ``"stride"``, ``"padding"``, ``"dilation"``, RadioButtons
        ``"boundary"``, CheckButtons ``"transposed"`` (empty when drawn without controls)."""
        return MappingProxyType(self._widgets)

    @property
    def pinned(self) -> bool:
        """Whether a click pinned the highlight (hovering then changes nothing)."""
        return self._pinned

    # --- building -----------------------------------------------------------------------
    def _build(
        self, p: dict[str, Any], keep_data: bool = False
    ) -> tuple[ConvOperator, ExploreModel]:
        """The operator and model of parameters ``p``; ``keep_data``: the data stays only
        while it fits the operator's input (else the default data)."""
        op = ConvOperator(
            p["kernel"],
            p["input_shape"],
            stride=p["stride"],
            padding=p["padding"],
            dilation=p["dilation"],
            boundary=p["boundary"],
            flip=p["flip"],
        )
        if p["transposed"]:
            op = op.H
        check_explorable(op.geometry)
        if keep_data and p["data"] is not None and np.shape(p["data"]) != op.input_shape:
            p["data"] = None
        return op, ExploreModel(op, p["data"], self._precision)

    def set_params(self, **params: Any) -> bool:
        """Rebuild the view with some parameters changed (what the controls do).

        Parameters
        ----------
        **params
            Any of ``input_shape``, ``kernel_shape``, ``stride``, ``padding``,
            ``dilation``, ``boundary``, ``flip``, ``transposed``, ``kernel`` (values; its
            shape becomes the kernel shape) and ``data`` (the operator's input), with the
            meanings of :func:`explore`.  A new ``kernel_shape`` without ``kernel`` resets
            the kernel to ``1, 2, …, k``; a new shape of the operator's input without
            ``data`` resets the data to the default.

        Returns
        -------
        bool
            True when the view was rebuilt.  False when the library refused the
            combination: its message is shown in the figure and kept in :attr:`error`,
            and the view keeps the last geometry that worked.

        Raises
        ------
        TypeError
            For a name that is not a parameter.
        """
        unknown = sorted(set(params) - set(PARAMS))
        if unknown:
            raise TypeError(
                f"set_params() got unknown parameter(s) {', '.join(unknown)}; "
                f"use {', '.join(PARAMS)}"
            )
        new = dict(self._params)
        new.update(params)
        try:
            new = _complete(new, self._params, params)
            op, model = self._build(new, keep_data="data" not in params)
        except (ValueError, TypeError) as exc:
            self.error = str(exc)
            self._show_error()
            self._sync_controls(new)
            return False
        self._params = new
        self.operator, self.model = op, model
        self.error = None
        self.highlight = None
        self._pinned = False
        self._last_target = None
        self._sync_controls(new)
        self._draw()
        return True

    # --- pointing -------------------------------------------------------------------------
    def point_output(self, index: int | Sequence[int]) -> Highlight:
        """Point at entry ``index`` (flat or a multi-index) of the operator's output.

        Highlights the entry, its row of the matrix and the (input, tap) pairs it sums:
        for ``A`` the footprint of the kernel on ``x̃`` (tap weights in the corners,
        padding copies linked to the input they copy); for ``Aᴴ`` the entries of ``y``
        whose scattered kernels land on it.  The sum is written out below the panels.
        """
        m = self.model
        flat = m.flat_index(index, self.operator.output_shape, "index")
        h = m.point_x(flat) if m.adjoint else m.point_y(flat)
        return self._show(h)

    def point_input(self, index: int | Sequence[int]) -> Highlight:
        """Point at entry ``index`` of the operator's input: its column and the outputs it reaches.

        For ``A`` (an entry of ``x``) the outputs it reaches are where the transposed
        convolution scatters it; for ``Aᴴ`` (an entry of ``y``) they are the cells its
        kernel is laid on.
        """
        m = self.model
        flat = m.flat_index(index, self.operator.input_shape, "index")
        h = m.point_y(flat) if m.adjoint else m.point_x(flat)
        return self._show(h)

    def point_entry(self, row: int, col: int) -> Highlight:
        """Point at entry ``(row, col)`` of ``op.matrix()``: the (output, input, tap) it stands for."""
        m = self.model
        rows, cols = self.operator.shape
        r = validate_int(row, "row")
        c = validate_int(col, "col")
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(f"(row, col)=({row!r}, {col!r}) is outside the {rows}×{cols} matrix")
        y_flat, x_flat = m.entry_pair(r, c)
        return self._show(m.point_pair(y_flat, x_flat))

    def clear(self) -> None:
        """Remove the highlight (and release a pinned one)."""
        self.highlight = None
        self._pinned = False
        self._last_target = None
        self._clear_dynamic()
        self._info.set_text(self._idle_text())
        self._refresh()

    # --- mouse events ---------------------------------------------------------------------
    def _target(self, event: MouseEvent) -> tuple[Any, ...] | None:
        """What the mouse is over: ``("x̃"|"y"|"entry"|"frequency", cell)`` or None."""
        ax = event.inaxes
        if ax is None or event.xdata is None or event.ydata is None:
            return None
        col, row = round(event.xdata), round(event.ydata)
        m = self.model
        if ax is self._axes.get("x"):
            R, C = m.padded_shape
            return ("x̃", (row, col)) if 0 <= row < R and 0 <= col < C else None
        if ax is self._axes.get("y"):
            shape = (1, *m.conv.spatial_out) if m.one_d else m.conv.spatial_out
            return ("y", (row, col)) if 0 <= row < shape[0] and 0 <= col < shape[1] else None
        if ax is self._axes.get("matrix"):
            rows, cols = self.operator.shape
            return ("entry", (row, col)) if 0 <= row < rows and 0 <= col < cols else None
        if ax is self._axes.get("spectrum") and self._spectrum_values is not None:
            N = self._spectrum_values.shape
            f: tuple[float, ...]
            if m.one_d:
                f = (float(event.xdata),)
            else:
                f = (float(event.ydata), float(event.xdata))
            idx = tuple(
                int(np.clip(round(v * n) + n // 2, 0, n - 1)) for v, n in zip(f, N, strict=True)
            )
            return ("frequency", idx)
        return None

    def _apply(self, target: tuple[Any, ...]) -> None:
        kind, cell = target
        m = self.model
        if kind == "x̃":
            k = m.kind[cell]
            if k == PAD:
                self._show(m.point_padding(cell))
            else:
                self._show(m.point_x(int(m.source[cell])), padded_cell=cell)
        elif kind == "y":
            self._show(m.point_y(int(np.ravel_multi_index(m.spatial(cell), m.conv.spatial_out))))
        elif kind == "entry":
            self.point_entry(*cell)
        elif kind == "frequency":
            self._show_frequency(cell)

    def _toolbar_busy(self) -> bool:
        toolbar = getattr(self.figure.canvas, "toolbar", None)
        return bool(getattr(toolbar, "mode", ""))

    def _on_motion(self, event: Event) -> None:
        if self._pinned or not isinstance(event, MouseEvent):
            return
        target = self._target(event)
        if target is None or target == self._last_target:
            return
        self._last_target = target
        self._apply(target)

    def _on_click(self, event: Event) -> None:
        if not isinstance(event, MouseEvent) or self._toolbar_busy():
            return
        if event.inaxes is not None and event.inaxes not in self._view_axes:
            return  # a control's axes: the widget handles it
        target = self._target(event)
        if target is None or (self._pinned and target == self._last_target):
            self.clear()
            return
        self._pinned = False
        self._last_target = target
        self._apply(target)
        self._pinned = True

    # --- drawing ------------------------------------------------------------------------------
    def _layout(self) -> dict[str, Axes]:
        """New panel axes: the grids (2-D side by side, 1-D stacked) above the spectrum on
        the left, the matrix on the right.  Both grids get the same cell size."""
        fig, m, H = self.figure, self.model, self._height
        bottom = (self._base + _BELOW) / H
        top = bottom + _PANEL_HEIGHT / H
        outer = fig.add_gridspec(
            1,
            2,
            left=0.045,
            right=0.985,
            bottom=bottom,
            top=top,
            width_ratios=[1.0, 1.05],
            wspace=0.16,
        )
        ratios = ([0.8, 1.0] if m.one_d else [1.55, 1.0]) if self._spectrum else [1.0]
        left = outer[0, 0].subgridspec(len(ratios), 1, height_ratios=ratios, hspace=0.45)
        box = left[0, 0].get_position(fig)
        x0, y1 = box.x0 * FIG_WIDTH, box.y1 * H  # inches: the grids' region's top left
        w, h = box.width * FIG_WIDTH, box.height * H
        R, C = m.padded_shape
        if m.one_d:
            n_out = m.conv.spatial_out[0]
            gap = 0.6  # the lower strip's title and the upper one's tick labels
            cell = min(w / max(C, n_out), (h - gap) / 2, _MAX_CELL)
            rects = {
                "x": (x0, y1 - cell, C * cell, cell),
                "y": (x0, y1 - 2 * cell - gap, n_out * cell, cell),
            }
        else:
            m0, m1 = m.conv.spatial_out
            gap = 0.4  # the output grid's row labels
            cell = min((w - gap) / (C + m1), h / max(R, m0), _MAX_CELL)
            rects = {
                "x": (x0, y1 - R * cell, C * cell, R * cell),
                "y": (x0 + C * cell + gap, y1 - m0 * cell, m1 * cell, m0 * cell),
            }
        axes: dict[str, Axes] = {}
        for name, (ax0, ay0, aw, ah) in rects.items():
            axes[name] = fig.add_axes((ax0 / FIG_WIDTH, ay0 / H, aw / FIG_WIDTH, ah / H))
        self._cell_pt = 72.0 * cell
        if self._spectrum:
            axes["spectrum"] = fig.add_subplot(left[len(ratios) - 1, 0])
        # the matrix in its slot, cells at most _MAX_MATRIX_CELL (a 5×7 matrix need not fill it)
        slot = outer[0, 1].get_position(fig)
        rows, cols = self.operator.shape
        mw = min(slot.width * FIG_WIDTH, cols * _MAX_MATRIX_CELL)
        mh = min(slot.height * H, rows * _MAX_MATRIX_CELL)
        mx = slot.x0 + (slot.width - mw / FIG_WIDTH) / 2
        my = slot.y1 - mh / H
        axes["matrix"] = fig.add_axes((mx, my, mw / FIG_WIDTH, mh / H))
        return axes

    def _draw(self) -> None:
        """(Re)draw every panel for the current operator."""
        fig = self.figure
        before = set(fig.axes)
        for ax in self._view_axes:
            ax.remove()
        self._view_axes = []
        self._dynamic = []
        self._error_text.set_text("")
        self._hint.set_visible(True)
        axes = self._layout()
        self._axes = axes
        m = self.model
        op = self.operator
        self._draw_grid_x(axes["x"])
        self._draw_grid_y(axes["y"])
        plot_matrix(op, ax=axes["matrix"], colorbar=False, title="")
        rows, cols = op.shape
        name = "Aᴴ" if m.adjoint else "A"
        side_r, side_c = ("x", "y") if m.adjoint else ("y", "x")
        axes["matrix"].set_title(
            f"matrix of {name}: {rows}×{cols}\nrow = an entry of {side_r}, column = an entry of {side_c}",
            fontsize=9.5,
        )
        if self._spectrum:
            self._draw_spectrum(axes["spectrum"])
        else:
            self._spectrum_values = None
        self._view_axes = [a for a in fig.axes if a not in before or a in axes.values()]
        self._title.set_text(self._title_text())
        self._info.set_text(self._idle_text())
        self._hint.set_text(self._hint_text())
        self._background = None
        if self._interactive:
            fig.canvas.draw_idle()

    def _grid_axes(self, ax: Axes, R: int, C: int) -> None:
        # a little beyond the outer cells, so that their edges are not clipped
        ax.set_xlim(-0.52, C - 0.48)
        ax.set_ylim(R - 0.48, -0.52)
        ax.set_aspect("equal")
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.tick_params(length=0, labelsize=7, pad=1)

    def _draw_grid_x(self, ax: Axes) -> None:
        """The padded input ``x̃``: data cells, zero padding, copies (labelled with their source)."""
        m = self.model
        R, C = m.padded_shape
        self._grid_axes(ax, R, C)
        for kind, style in ((DATA, _INPUT), (PAD, _PADZERO), (COPY, _PADCOPY)):
            cells = np.argwhere(m.kind == kind)
            if len(cells):
                ax.add_collection(_cells(cells, linewidth=0.8, **style))
        pads = m.conv.padding
        lo = [0, pads[0][0]] if m.one_d else [pads[0][0], pads[1][0]]
        n = (1, *m.conv.spatial_in) if m.one_d else m.conv.spatial_in
        # the input itself, outlined: the padding around it is not part of x
        ax.add_patch(
            Rectangle(
                (lo[1] - 0.5, lo[0] - 0.5),
                n[1],
                n[0],
                fill=False,
                edgecolor="#24496b",
                linewidth=1.8,
                zorder=4,
            )
        )
        ax.set_xticks(np.arange(n[1]) + lo[1], [str(i) for i in range(n[1])])
        if m.one_d:
            ax.set_yticks([])
        else:
            ax.set_yticks(np.arange(n[0]) + lo[0], [str(i) for i in range(n[0])])
        cell_pt = self._cell_pt_x = self._cell_pt
        xv = np.asarray(m.x)
        values = xv.reshape(n)
        if cell_pt >= 9:
            size = min(0.36 * cell_pt, 11.0)
            for r, c in np.argwhere(m.kind != PAD):  # one Text per cell of a small grid
                src = int(m.source[r, c])
                copy = m.kind[r, c] == COPY
                if copy and m.adjoint:
                    text = ""  # Aᴴ folds what lands here back onto the source: no value of its own
                else:
                    text = format_value(values.reshape(-1)[src], self._precision)
                if text:
                    ax.text(
                        c,
                        r + 0.05,
                        text,
                        ha="center",
                        va="center",
                        fontsize=size,
                        color="0.35" if copy else "black",
                        fontstyle="italic" if copy else "normal",
                        zorder=8,
                    )
                if copy and cell_pt >= 30:  # else only when highlighted: the cells get busy
                    idx = m.x_index(src)
                    ax.text(
                        c,
                        r - 0.42,
                        f"x[{','.join(map(str, idx))}]",
                        ha="center",
                        va="top",
                        fontsize=max(cell_pt * 0.18, 5.0),
                        color="#24496b",
                        zorder=8,
                    )
        if m.adjoint:
            fate = "cropped" if m.conv.boundary == "zeros" else "folded onto the entry it copies"
            what = f"output x = Aᴴ y, on the padded grid x̃\n(what lands on the padding is {fate})"
        else:
            what = "input x, padded to x̃"
        ax.set_title(what, fontsize=9.5)

    def _draw_grid_y(self, ax: Axes) -> None:
        """The convolution's output ``y`` (the transposed convolution's input)."""
        m = self.model
        shape = (1, *m.conv.spatial_out) if m.one_d else m.conv.spatial_out
        R, C = shape
        self._grid_axes(ax, R, C)
        ax.add_collection(_cells(np.argwhere(np.ones(shape, bool)), linewidth=1.0, **_OUTPUT))
        ax.set_xticks(np.arange(C), [str(i) for i in range(C)])
        if m.one_d:
            ax.set_yticks([])
        else:
            ax.set_yticks(np.arange(R), [str(i) for i in range(R)])
        cell_pt = self._cell_pt_y = self._cell_pt
        if cell_pt >= 9:
            size = min(0.36 * cell_pt, 11.0)
            values = np.asarray(m.y).reshape(shape)
            for r, c in np.argwhere(np.ones(shape, bool)):  # one Text per output cell
                ax.text(
                    c,
                    r + 0.05,
                    format_value(values[r, c], self._precision),
                    ha="center",
                    va="center",
                    fontsize=size,
                    zorder=8,
                )
        ax.set_title("input y" if m.adjoint else "output y = A x", fontsize=9.5)

    def _draw_spectrum(self, ax: Axes) -> None:
        op, g = self.operator, self.model.conv
        plot_spectrum(op, ax=ax, stride=1)  # |Ĥ| (|conj Ĥ| for Aᴴ) on the operator's FFT grid
        h = kernel_spectrum(op.kernel, g.fft_shape, dilation=g.dilation, flip=g.flip, centered=True)
        self._spectrum_values = np.conj(h) if self.model.adjoint else h
        name = "conj(Ĥ)" if self.model.adjoint else "Ĥ"
        grid = "×".join(map(str, g.fft_shape))
        ax.set_title(
            f"kernel spectrum |{name}| on the FFT grid N = {grid}\n"
            f"{'Aᴴ' if self.model.adjoint else 'A'} multiplies the DFT by {name}",
            fontsize=9.5,
        )
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)

    def _title_text(self) -> str:
        m, op = self.model, self.operator
        g = m.conv
        shapes = f"input {_shape_text(g.spatial_in)} → output {_shape_text(g.spatial_out)}"
        if m.adjoint:
            what = (
                f"x = Aᴴ y, the transposed convolution (adjoint of A): {geometry_summary(g)}; "
                f"A: {shapes}; Aᴴ is {op.shape[0]}×{op.shape[1]}"
            )
        else:
            what = f"y = A x, a convolution: {geometry_summary(g)}; {shapes}; A is {op.shape[0]}×{op.shape[1]}"
        return "convops.plotting.explore — " + what

    def _idle_text(self) -> str:
        adj = self.model.adjoint
        return _wrap(
            [
                "Point at a cell: an entry of "
                + ("x (an output of Aᴴ)" if adj else "y (an output)")
                + " shows its row of the matrix and what it sums; an entry of "
                + ("y (an input of Aᴴ)" if adj else "x (an input)")
                + " shows its column and the outputs it reaches; a matrix entry shows the "
                "(output, input, kernel tap) it stands for.",
                "Values: "
                + (
                    "y is example data (integers 0…3), x = Aᴴ y."
                    if adj
                    else "x is example data (integers 0…3), y = A x; the kernel is w."
                ),
            ]
        )

    def _hint_text(self) -> str:
        if self._interactive:
            hint = "Hover to highlight; click to pin (click again to release)." + (
                " Controls: type a value and press Enter." if self._controls else ""
            )
        else:
            import matplotlib

            hint = (
                f"Static picture (matplotlib backend {matplotlib.get_backend()!r} has no mouse). "
                "For the interactive view: in Jupyter or VS Code, %matplotlib widget "
                "(pip install 'convops[interactive]'); on a desktop:\n    " + self.command_line()
            )
        return hint

    def command_line(self) -> str:
        """The ``convops explore`` command that opens this view in a window."""
        p = self._params
        parts = [
            "convops explore",
            f"--input {_shape_text(p['input_shape'])}",
            f"--kernel {_shape_text(np.shape(p['kernel']))}",
        ]
        if p["stride"] != 1:
            parts.append(f"--stride {_ints_text(p['stride'])}")
        if p["padding"] != 0:
            parts.append(f"--padding {_padding_text(p['padding'], len(p['input_shape']))}")
        if p["dilation"] != 1:
            parts.append(f"--dilation {_ints_text(p['dilation'])}")
        if p["boundary"] != "zeros":
            parts.append(f"--boundary {p['boundary']}")
        if p["flip"]:
            parts.append("--flip")
        if p["transposed"]:
            parts.append("--transpose")
        return " ".join(parts)

    def _legend(self) -> None:
        handles = [
            Patch(label="pointed at", **_POINTED),
            Patch(label="kernel taps (weight in corner)", **_FOOT),
            Patch(label="linked cells (tap in corner)", **_REACHED),
            Patch(label="input a padding cell copies", **_COPIES),
            Patch(label="zero padding", **_PADZERO),
            Patch(label="padding copy (circular, reflect, replicate)", **_PADCOPY),
            Patch(label="matrix entries involved", **_ENTRY),
        ]
        self._legend_artist = self.figure.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.008, (self._base + 0.45) / self._height),
            ncol=len(handles),
            fontsize=8,
            frameon=False,
            handlelength=1.6,
            columnspacing=1.4,
        )

    # --- the highlight -------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Show a new highlight: blit it over a cached background where the canvas can.

        A full redraw of a figure with a thousand texts takes a good fraction of a second,
        too slow to follow the mouse; the highlight is a few dozen artists.  On a
        non-interactive canvas nothing is drawn now (``savefig`` draws everything).
        """
        if not self._interactive:
            return
        canvas = self.figure.canvas
        if not canvas.supports_blit:
            canvas.draw_idle()
            return
        if self._background is None:
            changing = [a for a in [*self._dynamic, self._info] if a.get_visible()]
            for a in changing:
                a.set_visible(False)
            self._capturing = True
            try:
                canvas.draw()
            finally:
                self._capturing = False
            self._background = canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[attr-defined]
            for a in changing:
                a.set_visible(True)
        canvas.restore_region(self._background)  # type: ignore[attr-defined]
        for a in sorted([*self._dynamic, self._info], key=lambda a: a.get_zorder()):
            self.figure.draw_artist(a)
        canvas.blit(self.figure.bbox)

    def _on_draw(self, event: Event) -> None:
        if not self._capturing:  # a full redraw (expose, resize): the cached background is stale
            self._background = None

    def _clear_dynamic(self) -> None:
        for artist in self._dynamic:
            artist.remove()
        self._dynamic = []

    def _add(self, ax: Axes, artist: Any) -> None:
        if isinstance(artist, PatchCollection | LineCollection):
            ax.add_collection(artist)
        elif isinstance(artist, Rectangle):
            ax.add_patch(artist)
        self._dynamic.append(artist)

    def _text(self, ax: Axes, *args: Any, **kwargs: Any) -> Text:
        t = ax.text(*args, **kwargs)
        self._dynamic.append(t)
        return t

    def _show(self, h: Highlight, padded_cell: tuple[int, int] | None = None) -> Highlight:
        """Draw highlight ``h`` (and the padded cell pointed at, if any)."""
        self._clear_dynamic()
        self.highlight = h
        m = self.model
        ax_x, ax_y, ax_m = self._axes["x"], self._axes["y"], self._axes["matrix"]
        conv_x = m.adjoint == (h.pointed == "output")  # the pointed cell is an entry of x
        # --- the grids
        taps_on_x: dict[tuple[int, int], list[complex]] = {}
        taps_on_y: dict[tuple[int, int], list[complex]] = {}
        for t in h.terms:
            y_idx = t.input if m.adjoint else t.output
            assert y_idx is not None  # every term has its entry of y
            taps_on_x.setdefault(m.lifted(t.padded), []).append(t.weight)
            taps_on_y.setdefault(m.lifted(y_idx), []).append(t.weight)
        pointed_y = h.pointed in ("output", "input") and not conv_x
        pointed_x = h.pointed in ("output", "input") and conv_x
        # kernel taps on x̃: the footprint of an output, or where an input is read
        if h.terms:
            self._add(ax_x, _cells(list(taps_on_x), GID["footprint"], zorder=5, **_FOOT))
        if pointed_y or h.pointed in ("entry", "padding"):
            self._corner_labels(ax_x, taps_on_x, self._cell_pt_x)
        # the entries of x involved, and the padding cells that copy them
        xs = {tuple(i) for i in (h.outputs if m.adjoint else h.inputs)}
        copies: list[tuple[int, int]] = []
        for i in sorted(xs):
            flat = int(np.ravel_multi_index(i, m.conv.spatial_in))
            data = np.argwhere((m.source == flat) & (m.kind == DATA))
            copy = np.argwhere((m.source == flat) & (m.kind == COPY))
            if pointed_x or h.pointed == "entry":
                self._add(ax_x, _cells(data, GID["pointed"], zorder=6, **_POINTED))
            if len(copy) and (pointed_x or h.pointed == "entry"):
                copies.extend(map(tuple, copy))
            elif pointed_y or h.pointed == "padding":
                # a tap on a copy cell reads this entry: outline it and draw the link
                on_copy = [c for c in taps_on_x if m.kind[c] == COPY and m.source[c] == flat]
                if on_copy:
                    self._add(ax_x, _cells(data, GID["copies"], zorder=7, **_COPIES))
                    self._copy_links(ax_x, on_copy, tuple(data[0]), i)
        if copies:
            self._add(ax_x, _cells(copies, GID["copies"], zorder=7, **_COPIES))
        if padded_cell is not None or h.pointed == "padding":
            cell = padded_cell if padded_cell is not None else m.lifted(h.index)
            self._add(ax_x, _cells([cell], None, zorder=6, **_POINTED))
        # the entries of y
        if pointed_y:
            y_cell = m.lifted(h.index)
            self._add(ax_y, _cells([y_cell], GID["pointed"], zorder=6, **_POINTED))
        else:
            ys = list(taps_on_y)
            if ys:
                style = _POINTED if h.pointed == "entry" else _REACHED
                gid = GID["pointed"] if h.pointed == "entry" else GID["reached"]
                self._add(ax_y, _cells(ys, gid, zorder=5, **style))
                if h.pointed != "entry":
                    self._corner_labels(ax_y, taps_on_y, self._cell_pt_y)
            if h.pointed == "entry" and not ys:
                self._add(
                    ax_y,
                    _cells(
                        [m.lifted(m.y_index(m.entry_pair(*h.index)[0]))],
                        GID["pointed"],
                        zorder=5,
                        **_POINTED,
                    ),
                )
        # --- the matrix
        rows, cols = self.operator.shape
        if h.pointed in ("output", "entry"):
            for r in h.rows:
                self._add(
                    ax_m, Rectangle((-0.5, r - 0.5), cols, 1, zorder=2.5, gid=GID["row"], **_BAND)
                )
        if h.pointed in ("input", "entry"):
            for c in h.columns:
                self._add(
                    ax_m,
                    Rectangle((c - 0.5, -0.5), 1, rows, zorder=2.5, gid=GID["column"], **_BAND),
                )
        if h.entries:
            self._add(
                ax_m, _cells([(r, c) for r, c in h.entries], GID["entry"], zorder=4, **_ENTRY)
            )
        if h.pointed == "entry":
            r, c = h.index
            self._add(
                ax_m,
                Rectangle(
                    (c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.4, zorder=5
                ),
            )
        self._info.set_text(_wrap(h.lines))
        self._refresh()
        return h

    def _copy_links(
        self,
        ax: Axes,
        copies: list[tuple[int, int]],
        source: tuple[int, int],
        index: tuple[int, ...],
    ) -> None:
        """Arcs from padding cells to the input entry they copy, and its name in each cell."""
        for r, c in copies:  # the copies one footprint reads: at most k per axis
            arrow = FancyArrowPatch(
                (c, r),
                (source[1], source[0]),
                connectionstyle="arc3,rad=-0.35",
                arrowstyle="-|>",
                mutation_scale=9,
                color="#24496b",
                linewidth=1.0,
                linestyle="--",
                zorder=9,
                gid=GID["copies"],
            )
            ax.add_patch(arrow)
            self._dynamic.append(arrow)
            if 16 <= self._cell_pt_x < 30:  # from 30 pt on, every copy names its source anyway
                self._text(
                    ax,
                    c,
                    r - 0.45,
                    _name_of("x", index),
                    ha="center",
                    va="top",
                    fontsize=max(self._cell_pt_x * 0.2, 5.0),
                    color="#24496b",
                    fontweight="bold",
                    zorder=9,
                )

    def _corner_labels(
        self, ax: Axes, taps: dict[tuple[int, int], list[complex]], cell_pt: float
    ) -> None:
        """The tap weight(s) in the lower right corner of each cell (when they fit)."""
        if cell_pt < 16:
            return
        for (r, c), weights in taps.items():  # at most one label per cell of a small grid
            text = "+".join(format_value(w, self._precision) for w in weights)
            self._text(
                ax,
                c + 0.46,
                r + 0.46,
                text,
                ha="right",
                va="bottom",
                fontsize=max(cell_pt * 0.26, 5.5),
                color="#7f2704",
                fontweight="bold",
                zorder=9,
                gid=GID["tap"],
            )

    def _show_frequency(self, idx: tuple[int, ...]) -> None:
        """Write out the spectrum's value at centred index ``idx`` and mark it."""
        assert self._spectrum_values is not None
        self._clear_dynamic()
        self.highlight = None
        h = self._spectrum_values
        N = h.shape
        f = [(i - n // 2) / n for i, n in zip(idx, N, strict=True)]
        value = complex(h[idx])
        name = "conj(Ĥ)" if self.model.adjoint else "Ĥ"
        fs = ", ".join(f"{v:+.3f}" for v in f)
        ax = self._axes["spectrum"]
        if self.model.one_d:
            marker = ax.plot([f[0]], [abs(value)], "o", color="#d62728", gid=GID["frequency"])
        else:
            marker = ax.plot(
                [f[1]], [f[0]], "s", mfc="none", mec="#d62728", mew=2, gid=GID["frequency"]
            )
        self._dynamic.extend(marker)
        self._info.set_text(
            _wrap(
                [
                    f"{name}(f) at f = ({fs}) cycles/sample: {format_value(value, 3)}, "
                    f"|{name}| = {abs(value):.3f}, arg = {np.angle(value):+.3f} rad",
                    "On the FFT grid N the operator is a pointwise product: the DFT of the "
                    f"padded input times {name}, before the crop"
                    + (
                        " and the stride's subsampling"
                        if any(s > 1 for s in self.model.conv.stride)
                        else ""
                    )
                    + (
                        " (Aᴴ: zero insertion, then × conj(Ĥ), then the fold)."
                        if self.model.adjoint
                        else "."
                    ),
                ]
            )
        )
        self._refresh()

    def _show_error(self) -> None:
        message = " ".join((self.error or "").split())
        self._hint.set_visible(False)
        self._error_text.set_text(
            _wrap(
                [
                    f"Cannot draw this: {message} — the view still shows the last geometry that worked."
                ],
                190,
            )
        )
        self._refresh()

    # --- the controls ------------------------------------------------------------------------
    def _make_controls(self) -> None:
        fig, H = self.figure, self._height
        p = self._params
        row_y = 0.78 / H
        box_h = 0.3 / H
        x = 0.75
        for name in TEXT_CONTROLS:
            ax = fig.add_axes((x / FIG_WIDTH, row_y, 1.05 / FIG_WIDTH, box_h))
            label = name.replace("_shape", "")
            box = TextBox(ax, label + " ", initial=_control_text(name, p))
            box.label.set_fontsize(9)
            box.text_disp.set_fontsize(9)
            box.on_submit(self._submitter(name))
            self._widgets[name] = box
            x += 1.95
        fig.text(
            0.75 / FIG_WIDTH,
            0.36 / H,
            "sizes: 5x5 or 7 · stride, dilation: 2 or 1,2 · padding: 1, valid, same, full, "
            "1,2 or 0:1,1:0 (LO:HI per axis) · press Enter to apply",
            fontsize=8,
            color="0.35",
        )
        ax = fig.add_axes((10.4 / FIG_WIDTH, 0.1 / H, 1.35 / FIG_WIDTH, 1.2 / H))
        ax.set_title("boundary", fontsize=9, pad=2)
        radio = RadioButtons(ax, list(BOUNDARIES), active=BOUNDARIES.index(p["boundary"]))
        for t in radio.labels:
            t.set_fontsize(8.5)
        radio.on_clicked(self._on_boundary)
        self._widgets["boundary"] = radio
        ax = fig.add_axes((11.95 / FIG_WIDTH, 0.35 / H, 1.9 / FIG_WIDTH, 0.55 / H))
        check = CheckButtons(ax, ["adjoint Aᴴ\n(transposed conv.)"], [bool(p["transposed"])])
        for t in check.labels:
            t.set_fontsize(8.5)
        check.on_clicked(self._on_adjoint)
        self._widgets["transposed"] = check

    def _submitter(self, name: str) -> Callable[[str], None]:
        def submit(text: str) -> None:
            box = self._widgets[name]
            if not box.capturekeystrokes:  # set programmatically: matplotlib shows a cursor
                box.cursor.set_visible(False)
            if not self._syncing:
                self._apply_controls()

        return submit

    def _on_boundary(self, label: str | None) -> None:
        if not self._syncing:
            self._apply_controls()

    def _on_adjoint(self, label: str | None) -> None:
        if not self._syncing:
            self._apply_controls()

    def _apply_controls(self) -> None:
        """Rebuild from what every control shows (a refused value stays until it is fixed)."""
        w = self._widgets
        values: dict[str, Any] = {}
        try:
            for name in TEXT_CONTROLS:
                values[name] = _parse_control(name, w[name].text)
        except ValueError as exc:
            self.error = str(exc)
            self._show_error()
            return
        values["boundary"] = w["boundary"].value_selected
        values["transposed"] = bool(w["transposed"].get_status()[0])
        changed = {k: v for k, v in values.items() if not _same_value(k, v, self._params)}
        if changed or self.error is not None:
            self.set_params(**changed)

    def _sync_controls(self, p: dict[str, Any]) -> None:
        """Show ``p`` in the controls without triggering them."""
        if not self._widgets:
            return
        self._syncing = True
        try:
            for name in TEXT_CONTROLS:
                box = self._widgets[name]
                try:
                    same = _same_value(name, _parse_control(name, box.text), p)
                except ValueError:
                    same = False
                if not same:
                    box.set_val(_control_text(name, p))
            radio = self._widgets["boundary"]
            if radio.value_selected != p["boundary"] and p["boundary"] in BOUNDARIES:
                radio.set_active(BOUNDARIES.index(p["boundary"]))
            check = self._widgets["transposed"]
            if bool(check.get_status()[0]) != bool(p["transposed"]):
                check.set_active(0)
        finally:
            self._syncing = False


# ----------------------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------------------
def _parse_control(name: str, text: str) -> Any:
    """A control's text as the parameter value, in the command line's syntax."""
    from ..syntax import parse_ints, parse_padding, parse_shape

    parse = {
        "input_shape": parse_shape,
        "kernel_shape": parse_shape,
        "stride": parse_ints,
        "padding": parse_padding,
        "dilation": parse_ints,
    }[name]
    try:
        return parse(text)
    except ValueError as exc:
        label = name.replace("_shape", "")
        raise ValueError(f"{label}: {exc}") from None


def _control_text(name: str, p: Mapping[str, Any]) -> str:
    """Parameter ``name`` of ``p`` as its control shows it."""
    if name == "input_shape":
        return _shape_text(p["input_shape"])
    if name == "kernel_shape":
        return _shape_text(np.shape(p["kernel"]))
    if name == "padding":
        return _padding_text(p["padding"], len(p["input_shape"]))
    return _ints_text(p[name])


def _same_value(name: str, value: Any, p: Mapping[str, Any]) -> bool:
    """Whether a control's value already is the parameter (``(5, 5)`` and ``[5, 5]``; for
    stride, padding and dilation: the same normalised widths, ``1:2`` and ``(1, 2)`` in 1-D)."""
    current = np.shape(p["kernel"]) if name == "kernel_shape" else p[name]
    if name in ("stride", "padding", "dilation"):
        base = dict(stride=p["stride"], padding=p["padding"], dilation=p["dilation"])
        try:
            a = make_geometry(np.shape(p["kernel"]), p["input_shape"], **base)
            b = make_geometry(np.shape(p["kernel"]), p["input_shape"], **{**base, name: value})
        except (ValueError, TypeError):
            return False
        return bool(getattr(a, name) == getattr(b, name))
    if isinstance(value, (tuple, list)) and isinstance(current, (tuple, list)):
        return _normal(value) == _normal(current)
    return bool(type(value) is type(current) and value == current)


def _normal(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(_normal(v) for v in value)
    return value


def _complete(new: dict[str, Any], old: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Fill in the kernel values and the data that the changed parameters leave open."""
    out = dict(new)
    if "kernel" in given:
        out["kernel"] = as_numeric_array(given["kernel"], "kernel")
    elif "kernel_shape" in given:
        shape = shape_tuple(given["kernel_shape"], "kernel_shape")
        if shape != np.shape(old["kernel"]):
            out["kernel"] = _default_kernel(shape)
    out["kernel_shape"] = tuple(np.shape(out["kernel"]))
    out["input_shape"] = shape_tuple(out["input_shape"], "input_shape")
    out["boundary"] = validate_choice(out["boundary"], "boundary", BOUNDARIES)
    out["flip"] = validate_bool(out["flip"], "flip")
    out["transposed"] = validate_bool(out["transposed"], "transposed")
    if "data" not in given and out["transposed"] != old["transposed"]:
        out["data"] = None  # the data is the operator's input: x for A, y for Aᴴ
    return out


def _default_kernel(shape: Any) -> np.ndarray:
    """``1, 2, …, k`` in C order (the command line's default kernel)."""
    shape = shape_tuple(shape, "kernel_shape")
    return np.arange(1, math.prod(shape) + 1, dtype=float).reshape(shape)


def explore(
    op: ConvOperator | None = None,
    *,
    input_shape: Sequence[int] | None = None,
    kernel_shape: Sequence[int] | None = None,
    kernel: Any = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    boundary: str = "zeros",
    flip: bool = False,
    transposed: bool = False,
    data: Any = None,
    spectrum: bool = True,
    controls: bool | Literal["auto"] = "auto",
    precision: int = 2,
) -> Explorer:
    r"""One view of a small convolution that links the picture, the matrix and the spectrum.

    The figure shows, side by side (1-D: the grids stacked left of the matrix):

    * the input padded to ``x̃`` (zero padding hatched grey; circular, reflect or replicate
      padding hatched blue, each cell a copy of the input entry named in it), with example
      values;
    * the output ``y = A x``;
    * the matrix of the operator, :func:`~convops.plotting.plot_matrix` with its Toeplitz
      block lines (rows: outputs, columns: inputs; for ``Aᴴ`` the transpose);
    * optionally the kernel spectrum ``|Ĥ|`` on the operator's FFT grid
      (:func:`~convops.plotting.plot_spectrum`).

    Pointing (hover, or click to pin) at

    * an **output** entry highlights its row of the matrix and the (input, tap) pairs it
      sums — for ``A`` the kernel's footprint ``o·s + t·d`` on ``x̃`` with the weights in the
      cells' corners, a padding copy linked to the input entry it copies — and writes the
      sum out: ``y[o] = Σₜ w[t]·x̃[o·s + t·d] = … = value``;
    * an **input** entry highlights its column and the outputs it reaches: for ``A`` the
      scatter of the transposed convolution;
    * a **matrix entry** highlights the (output, input, kernel tap) it stands for
      (several taps when a padding copy reads the same input twice; none for a
      structural zero);
    * the spectrum writes out ``Ĥ(f)`` at that frequency.

    The controls (drawn by default on interactive backends) change the input size, the
    kernel size, stride, padding, dilation, boundary and the adjoint switch, in the command
    line's syntax (``5x5``, ``1,2``, ``0:1,1:0``); the view is rebuilt from
    :class:`~convops.ConvOperator`, and a combination the library refuses shows the
    library's own message in the figure.  On a non-interactive backend (Agg, inline)
    the figure is the static view with a line saying how to get the interactive one:
    ``%matplotlib widget`` in Jupyter or VS Code (``pip install 'convops[interactive]'``
    installs ipympl), or ``convops explore …`` on a desktop.

    Small geometries only: at most :data:`MATRIX_LIMIT` (64) rows and 64 columns of the
    matrix and :data:`GRID_LIMIT` (64) cells along each axis of the padded input, because
    every entry is drawn as a cell large enough to point at.  1-D and 2-D, single channel.

    Parameters
    ----------
    op : ConvOperator, optional
        The operator to explore (``A``, or ``A.H`` for the transposed convolution).  Or
        give the geometry with the keyword arguments below instead.
    input_shape : tuple of int
        The convolution's input size (1 or 2 axes); with ``transposed`` still the
        convolution's input (the transposed convolution's output), as on the command line.
    kernel_shape : tuple of int
        The kernel size; the kernel is ``1, 2, …, k`` in C order unless ``kernel`` is given.
    kernel : array_like
        The kernel values (their shape is the kernel size).
    stride, padding, dilation, boundary, flip
        As for :class:`~convops.ConvOperator`.
    transposed : bool
        Explore the transposed convolution ``Aᴴ`` (the adjoint switch of the controls).
    data : array_like, optional
        The operator's input (``x`` for ``A``, ``y`` for ``Aᴴ``), shown in the grids; default
        integers 0…3 from a fixed seed, as :func:`~convops.plotting.animate` uses.
    spectrum : bool
        Draw the kernel spectrum panel.
    controls : bool or "auto"
        Draw the controls; ``"auto"``: on interactive backends only.
    precision : int
        Decimals of non-integer values.

    Returns
    -------
    Explorer
        ``explorer.figure`` is the matplotlib Figure; ``point_output``, ``point_input``,
        ``point_entry``, ``set_params`` drive it, ``highlight`` says what is highlighted.

    Raises
    ------
    TypeError
        For an ``op`` that is not a ConvOperator, an ``op`` together with geometry
        arguments, or arguments of the wrong type.
    ValueError
        For a 3-D or multi-channel geometry, one beyond the size limits, or parameters the
        library refuses (its message).

    Examples
    --------
    >>> import numpy as np, convops
    >>> from convops.plotting import explore
    >>> ex = explore(input_shape=(5, 5), kernel_shape=(3, 3), stride=2, padding=1)
    >>> h = ex.point_output((1, 1))        # y[1,1]: its row of A and the 3×3 footprint
    >>> h.rows, len(h.columns)
    ((4,), 9)
    >>> ex.figure.savefig("explore.png")   # doctest: +SKIP
    """
    spectrum = validate_bool(spectrum, "spectrum")
    controls = validate_auto_flag(controls, "controls")  # type: ignore[assignment]
    precision = validate_int(precision, "precision", minimum=0)
    values = dict(
        stride=stride,
        padding=padding,
        dilation=dilation,
        boundary=boundary,
        flip=flip,
        transposed=transposed,
    )
    defaults = dict(stride=1, padding=0, dilation=1, boundary="zeros", flip=False, transposed=False)
    given_geometry = [
        k
        for k, v in (
            ("input_shape", input_shape),
            ("kernel_shape", kernel_shape),
            ("kernel", kernel),
        )
        if v is not None
    ] + [k for k, v in values.items() if not (type(v) is type(defaults[k]) and v == defaults[k])]
    if op is not None:
        if not isinstance(op, ConvOperator):
            raise TypeError(
                f"op must be a convops.ConvOperator (or None, with geometry arguments); got "
                f"{type(op).__name__}"
            )
        if given_geometry:
            raise TypeError(
                "explore takes an operator or geometry arguments, not both; got op and "
                + ", ".join(sorted(given_geometry))
            )
        params = _params_of(op)
    else:
        if input_shape is None:
            raise TypeError(
                "explore needs an operator, explore(op), or input_shape= and kernel_shape= "
                "(or kernel=)"
            )
        if kernel is None and kernel_shape is None:
            raise TypeError("explore needs kernel_shape= (values 1, 2, …, k) or kernel= (values)")
        if kernel is not None:
            w = as_numeric_array(kernel, "kernel")
            if kernel_shape is not None and tuple(kernel_shape) != w.shape:
                raise ValueError(
                    f"kernel_shape={tuple(kernel_shape)!r} does not match kernel of shape {w.shape}"
                )
        else:
            w = _default_kernel(kernel_shape)
        params = dict(
            input_shape=shape_tuple(input_shape, "input_shape"),
            kernel_shape=tuple(w.shape),
            kernel=w,
            stride=stride,
            padding=padding,
            dilation=dilation,
            boundary=boundary,
            flip=validate_bool(flip, "flip"),
            transposed=validate_bool(transposed, "transposed"),
        )
    params["data"] = data
    return Explorer(params, spectrum=spectrum, controls=controls, precision=precision)


def _params_of(op: ConvOperator) -> dict[str, Any]:
    """The parameters of an existing operator, in :meth:`Explorer.set_params`' terms."""
    g: ConvGeometry = op.geometry
    if g.output_shape != op.output_shape:  # pragma: no cover - the operator keeps them equal
        raise AssertionError
    if g.natural_output_length() != g.spatial_out:
        raise ValueError(
            f"explore rebuilds the view from the geometry's parameters; this operator's output "
            f"is cropped to {g.spatial_out} (output_padding of conv_transpose), which those "
            "parameters cannot express"
        )

    def per_axis(values: tuple[int, ...]) -> int | tuple[int, ...]:
        return values[0] if len(set(values)) == 1 else values

    pads = g.padding
    if len(set(pads)) == 1 and pads[0][0] == pads[0][1]:
        padding: Any = pads[0][0]
    else:
        padding = tuple(lo if lo == hi else (lo, hi) for lo, hi in pads)
    return dict(
        input_shape=g.spatial_in if not g.multichannel else g.conv_input_shape,
        kernel_shape=tuple(op.kernel.shape),
        kernel=op.kernel,
        stride=per_axis(g.stride),
        padding=padding,
        dilation=per_axis(g.dilation),
        boundary=g.boundary,
        flip=g.flip,
        transposed=g.transposed,
    )
