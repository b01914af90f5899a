"""What the views share: new axes, a quiet tight layout, text colours and the geometry summary.

Every view of :mod:`convops.plotting` draws with matplotlib's object-oriented API; the
helpers here keep the views' common habits in one place: draw into a given ``Axes`` or
a fresh figure, lay the figure out without warnings about colour-bar dividers, print
black text on light cells and white on dark ones, and title a picture with the same
one-line summary of its geometry.
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colorbar import Colorbar
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from mpl_toolkits.axes_grid1 import make_axes_locatable  # type: ignore[import-untyped]

from ..geometry import ConvGeometry

__all__ = [
    "CELL_GID",
    "geometry_summary",
    "new_axes",
    "root_figure",
    "side_colorbar",
    "text_colors",
    "tight_layout",
    "validate_auto_flag",
]

#: The ``gid`` of the texts printed in matrix and overlap cells (tests and users find them by it).
CELL_GID = "convops.cell"

#: Relative luminance weights of sRGB (ITU-R BT.709): a cell brighter than ½ gets black text.
_LUMINANCE = np.array([0.2126, 0.7152, 0.0722])


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """``(figure, axes, created)``: the given axes, or a fresh figure with one axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Where the caller was asked to draw.
    figsize : (float, float)
        Size in inches of the figure made when ``ax`` is None.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : matplotlib.axes.Axes
    created : bool
        Whether the figure is new (then the view lays it out itself).
    """
    if ax is None:
        fig, new = plt.subplots(figsize=figsize)
        return fig, new, True
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}")
    return root_figure(ax), ax, False


def root_figure(ax: Axes) -> Figure:
    """The :class:`~matplotlib.figure.Figure` that holds ``ax`` (the top one, for a subfigure)."""
    fig = ax.get_figure(root=True)
    if fig is None:
        raise ValueError("ax is not on a figure; pass an Axes of a matplotlib Figure")
    return fig


def tight_layout(fig: Figure) -> None:
    """``fig.tight_layout()`` without its warnings about axes it cannot place.

    The colour bars sit in axes made by ``make_axes_locatable``, which tight layout
    cannot move; it warns about them although the result is right.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()


def side_colorbar(
    fig: Figure,
    mappable: ScalarMappable,
    ax: Axes,
    label: str,
    *,
    pad: float = 0.1,
    ticks: Any = None,
) -> Colorbar:
    """A slim colour bar right of ``ax`` (its own axes, so ``ax`` keeps its aspect).

    Parameters
    ----------
    fig : Figure
        The figure of ``ax``.
    mappable : ScalarMappable
        What the bar explains, e.g. the image drawn on ``ax``.
    ax : Axes
        The axes the bar stands beside.
    label : str
        The bar's label (8 pt, as its tick labels).
    pad : float
        Gap between ``ax`` and the bar, in inches.
    ticks : array_like, optional
        Tick positions (default: matplotlib's choice).
    """
    cax = make_axes_locatable(ax).append_axes("right", size=0.15, pad=pad)
    cb = fig.colorbar(mappable, cax=cax, ticks=ticks)
    cb.set_label(label, fontsize=8)
    cb.ax.tick_params(labelsize=8)
    return cb


def text_colors(cm: Colormap, norm: Normalize, values: np.ndarray) -> np.ndarray:
    """Black text on light cells, white on dark ones (relative luminance of the cell).

    Parameters
    ----------
    cm, norm : Colormap, Normalize
        How the cells are coloured.
    values : ndarray
        The cells' values.

    Returns
    -------
    ndarray of str
        ``"black"`` or ``"white"`` per value, the shape of ``values``.
    """
    rgba = cm(norm(values))
    lum = rgba[..., :3] @ _LUMINANCE
    return np.where(lum > 0.5, "black", "white")


def geometry_summary(g: ConvGeometry) -> str:
    """One line naming a geometry's kernel, stride, padding and what differs from the defaults.

    ``"k=3×3, stride 2, padding 1"``; one number stands for every axis when they agree;
    dilation, boundary, flip and groups appear only when they are not the defaults.
    """

    def fmt(t: tuple[int, ...]) -> str:
        return "×".join(map(str, t))

    def same(t: tuple[int, ...]) -> str:  # one number when every axis agrees
        return str(t[0]) if len(set(t)) == 1 else fmt(t)

    if len(set(g.padding)) == 1 and g.padding[0][0] == g.padding[0][1]:
        pads = str(g.padding[0][0])
    else:
        pads = ", ".join(f"({lo},{hi})" if lo != hi else str(lo) for lo, hi in g.padding)
    parts = [f"k={fmt(g.kernel_size)}", f"stride {same(g.stride)}", f"padding {pads}"]
    if any(d != 1 for d in g.dilation):
        parts.append(f"dilation {same(g.dilation)}")
    if g.boundary != "zeros":
        parts.append(f"boundary {g.boundary!r}")
    if g.flip:
        parts.append("flip")
    if g.groups != 1:
        parts.append(f"groups {g.groups}")
    return ", ".join(parts)


def validate_auto_flag(value: object, name: str) -> bool | str:
    """``value`` must be ``True``, ``False`` or ``"auto"`` (print values in the cells, or not)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value == "auto":
        return "auto"
    raise ValueError(f"{name}={value!r} is not allowed: use True, False or 'auto'") from None
