"""The overlap of a transposed convolution drawn: the checkerboard of kernel placements.

:func:`plot_overlap` draws :func:`convops.structure.overlap_counts` — how many
(input position, tap) pairs of the transposed convolution land on each output pixel —
as an image (2-D) or bars (1-D), and says in the title whether the counts are even away
from the zero-padded borders.
"""

from __future__ import annotations

from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.ticker import MaxNLocator

from ..geometry import ConvGeometry
from ..structure import geometry_of, overlap_counts
from ._common import (
    CELL_GID,
    geometry_summary,
    new_axes,
    side_colorbar,
    text_colors,
    tight_layout,
    validate_auto_flag,
)

__all__ = ["plot_overlap"]


def _interior(g: ConvGeometry, axis: int) -> slice:
    """Input indices that every tap of some output reaches: away from the padded borders."""
    lo = g.padding[axis][0]
    span = g.span[axis] - 1
    start = max(0, span - lo)
    stop = min(g.spatial_in[axis], (g.spatial_out[axis] - 1) * g.stride[axis] - lo + 1)
    return slice(start, max(start, stop))


def plot_overlap(
    op: Any,
    ax: Axes | None = None,
    *,
    annotate: bool | Literal["auto"] = "auto",
    cmap: str | Colormap = "viridis",
    title: str | None = None,
) -> Axes:
    """Draw :func:`overlap_counts`: kernel placements of the transposed convolution per pixel.

    2-D: an image of the counts on the transposed convolution's output grid (the
    convolution's input), with a discrete colour bar and the counts printed in the cells
    when the grid is small; 1-D: a bar chart.  The title says whether the counts are even in
    the interior (away from zero-padded borders) — the checkerboard of a 3×3 kernel with
    stride 2, its absence for 4×4 with stride 2.  Multi-channel operators show the counts
    of one channel pair.

    Parameters
    ----------
    op : ConvOperator or ConvGeometry
        The convolution or its transpose.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    annotate : bool or "auto"
        Print counts in the cells (``"auto"``: up to 40 per axis).
    cmap : str or Colormap
        Colour map of the counts.
    title : str, optional
        Default: the geometry and the verdict (even/uneven); ``""`` for none.

    Returns
    -------
    matplotlib.axes.Axes
    """
    g = geometry_of(op)
    if g.ndim == 3:
        raise ValueError(
            "plot_overlap draws 1-D and 2-D geometries; for 3-D use overlap_counts(op) and draw a slice"
        )
    annotate = validate_auto_flag(annotate, "annotate")  # type: ignore[assignment]
    counts = overlap_counts(g)
    interior = counts[tuple(_interior(g, a) for a in range(g.ndim))]
    if interior.size == 0:
        verdict = "no interior away from the borders"
    elif interior.min() == interior.max():
        verdict = f"even: {int(interior.min())} in the interior"
        if counts.min() == counts.max():
            verdict = f"even: {int(counts.min())} everywhere"
    else:
        verdict = (
            f"uneven (checkerboard): {int(interior.min())}–{int(interior.max())} in the interior"
        )
    if title is None:
        title = f"overlap of the transposed convolution ({geometry_summary(g)})\n{verdict}"
    show = annotate is True or (annotate == "auto" and max(counts.shape) <= 40)
    cmax = int(counts.max())
    cm = plt.get_cmap(cmap, cmax + 1)
    norm = colors.BoundaryNorm(np.arange(-0.5, cmax + 1.5), cm.N)
    if g.ndim == 1:
        n = counts.size
        fig, ax, created = new_axes(ax, (max(5.0, min(0.3 * n + 2, 14.0)), 3.4))
        ax.bar(
            np.arange(n),
            counts,
            color=cm(norm(counts)),
            edgecolor="0.3",
            linewidth=0.5,
            gid="convops.overlap",
        )
        if show:
            for i, c in enumerate(counts):  # one label per bar
                ax.text(i, c, str(int(c)), ha="center", va="bottom", fontsize=8, gid=CELL_GID)
        ax.set_xlabel("output position i of the transposed convolution (input index of A)")
        ax.set_ylabel("(input position, tap) pairs")
        ax.set_ylim(0, cmax * 1.18 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(-0.6, n - 0.4)
    else:
        R, C = counts.shape
        cell_in = float(np.clip(min(7.0 / C, 6.0 / R), 0.05, 0.4))
        fig, ax, created = new_axes(ax, (C * cell_in + 2.2, R * cell_in + 1.6))
        im = ax.imshow(
            counts,
            cmap=cm,
            norm=norm,
            interpolation="nearest",
            aspect="equal",
            gid="convops.overlap",
        )
        if show:
            bbox = ax.get_window_extent()
            cell_pt = min(bbox.width / C, bbox.height / R) / fig.dpi * 72
            size = float(np.clip(0.45 * cell_pt, 4, 10))
            tc = text_colors(cm, norm, counts)
            r, c = np.indices(counts.shape).reshape(2, -1)
            for i, j in zip(r, c, strict=True):  # one Text per pixel of a small grid
                ax.text(
                    j,
                    i,
                    str(int(counts[i, j])),
                    ha="center",
                    va="center",
                    fontsize=size,
                    color=tc[i, j],
                    gid=CELL_GID,
                )
        ax.set_xlabel("column (axis 1)")
        ax.set_ylabel("row (axis 0)")
        ticks = np.arange(0, cmax + 1, max(1, (cmax + 1) // 10))
        side_colorbar(fig, im, ax, "(input position, tap) pairs", ticks=ticks)
    if title:
        ax.set_title(title, fontsize=10)
    if created:
        tight_layout(fig)
    return ax
