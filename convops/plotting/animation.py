r"""The conv-arithmetic animations drawn (Dumoulin & Visin, 2016), and saved as GIF or MP4.

:func:`animate` builds the story of a 1-D or 2-D single-channel convolution — the gather
of ``A``, the scatter or the fractionally strided view of ``A*`` — with
:mod:`convops.plotting.animation_frames` and draws it on one figure: the grids side by
side (stacked in 1-D), the kernel footprint, the highlighted cell, the running values, a
caption per frame and a legend.  It returns a :class:`ConvAnimation`, a matplotlib
``FuncAnimation`` whose figure, frame count and result are documented attributes.
:func:`save_animation` writes one to a file.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from .._validate import (
    as_numeric_array,
    validate_bool,
    validate_int,
    validate_number,
)
from ..operators import ConvOperator
from ..realisations.workspace import check_work
from ..text import format_value
from ._common import validate_auto_flag
from .animation_frames import (
    COPY,
    DATA,
    INSERT,
    PAD,
    Grid,
    Story,
    grid_extents,
    story_bytes,
    story_forward,
    story_fractional,
    story_scatter,
)

__all__ = ["ConvAnimation", "animate", "save_animation"]

_VALUE_GID = "convops.running-value"

#: ``values="auto"`` prints values when no grid has more cells per axis than this.
AUTO_VALUES_LIMIT = {1: 40, 2: 12}

#: Milliseconds between frames when an animation does not say (matplotlib's default).
DEFAULT_INTERVAL = 200.0

_STYLE: dict[tuple[str | None, int], dict[str, Any]] = {
    ("input", DATA): dict(facecolor="#9ecae1", edgecolor="#3f6e93"),
    ("output", DATA): dict(facecolor="white", edgecolor="#2c7a4b"),
    ("kernel", DATA): dict(facecolor="#fdd49e", edgecolor="#b35806"),
    (None, PAD): dict(facecolor="#eeeeee", edgecolor="#9a9a9a", hatch="///"),
    (None, COPY): dict(facecolor="#dbe9f6", edgecolor="#8fb0cf", hatch="///"),
    (None, INSERT): dict(facecolor="white", edgecolor="#3f6e93", linestyle=(0, (2, 2))),
}
_FOOT = dict(facecolor="#e6550d", alpha=0.45, edgecolor="#a63603", linewidth=1.2)
_DONE = dict(facecolor="#bfe5c6", edgecolor="#2c7a4b")
_MARK: dict[str, dict[str, Any]] = {
    "output": dict(facecolor="#74c476", edgecolor="black", linewidth=2.2),
    "input": dict(facecolor="#fdae6b", edgecolor="black", linewidth=2.2),
}
#: The styles a story's legend names (see :class:`~convops.plotting.animation_frames.Story`).
_LEGEND_STYLE: dict[str, dict[str, Any]] = {
    "input": _STYLE[("input", DATA)],
    "pad": _STYLE[(None, PAD)],
    "copy": _STYLE[(None, COPY)],
    "insert": _STYLE[(None, INSERT)],
    "footprint": _FOOT,
    "mark-output": _MARK["output"],
    "mark-input": _MARK["input"],
    "done": _DONE,
}


class ConvAnimation(animation.FuncAnimation):
    """A matplotlib ``FuncAnimation`` of a conv-arithmetic picture, made by :func:`animate`.

    Frame 0 is on the figure from the start, so the figure alone is a complete picture
    (``anim.figure.savefig(...)``); showing or saving the animation plays every frame.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure the animation draws on.
    frame_count : int
        Number of frames.
    result : ndarray
        The output the picture computes, equal to ``op.apply(data)``.
    interval : float
        Milliseconds between frames.
    """

    figure: Figure
    frame_count: int
    result: np.ndarray
    interval: float

    def __init__(
        self,
        figure: Figure,
        draw: Callable[[int], list[Artist]],
        frame_count: int,
        result: np.ndarray,
        interval: float,
    ) -> None:
        self.figure = figure
        self.frame_count = frame_count
        self.result = result
        self.interval = interval
        self._paint = draw
        super().__init__(
            figure,
            self.draw_frame,
            frames=range(frame_count),
            init_func=lambda: self.draw_frame(0),
            interval=max(int(interval), 1),
            blit=False,
            repeat=True,
            cache_frame_data=False,
        )
        self.draw_frame(0)

    def draw_frame(self, frame: int) -> list[Artist]:
        """Draw frame ``frame`` (``0 … frame_count − 1``) on :attr:`figure`.

        Returns the artists that change from frame to frame.
        """
        frame = validate_int(frame, "frame", minimum=0)
        if frame >= self.frame_count:
            raise ValueError(
                f"frame={frame!r} is not allowed: this animation has {self.frame_count} "
                f"frames, 0 to {self.frame_count - 1}"
            )
        return self._paint(frame)

    def __del__(self) -> None:
        # matplotlib warns when an animation is garbage-collected before it rendered, the
        # usual sign of a lost reference; here frame 0 is on the figure from the start, so
        # keeping only the figure or the result is no mistake.  At interpreter exit the
        # warnings machinery is already torn down, and nobody is left to warn.
        if sys.is_finalizing():
            return
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Animation was deleted without rendering", category=UserWarning
            )
            super().__del__()


# ----------------------------------------------------------------------------------------
# drawing a story
# ----------------------------------------------------------------------------------------
def _cells(kind_mask: np.ndarray, origin: tuple[float, float], **style: Any) -> PatchCollection:
    """Unit squares on the ``True`` cells of ``kind_mask``, the grid's corner at ``origin``."""
    r, c = np.nonzero(kind_mask)
    rects = [Rectangle((origin[0] + cc, origin[1] + rr), 1, 1) for rr, cc in zip(r, c, strict=True)]
    return PatchCollection(rects, match_original=False, **style)


def _grid_text(
    ax: Axes,
    grid: Grid,
    origin: tuple[float, float],
    cell_pt: float,
    show: bool,
    precision: int,
    one_d: bool,
) -> None:
    """The grid's title, its static values and the source ``x[·]`` of its copied cells."""
    x0, y0 = origin
    ax.text(x0, y0 - 0.25, grid.title, ha="left", va="bottom", fontsize=9, fontweight="bold")
    if show and grid.values is not None:
        vs = cell_pt * 0.34
        r, c = np.nonzero((grid.kind == DATA) | (grid.kind == COPY))
        for rr, cc in zip(r, c, strict=True):  # one Text per cell of a small grid
            copy = grid.kind[rr, cc] == COPY
            ax.text(
                x0 + cc + 0.5,
                y0 + rr + 0.55,
                format_value(grid.values[rr, cc].real, precision),
                ha="center",
                va="center",
                fontsize=vs,
                color="0.35" if copy else "black",
                fontstyle="italic" if copy else "normal",
                zorder=8,
            )
    if grid.source is not None and cell_pt >= 20:
        r, c = np.nonzero(grid.kind == COPY)
        s0, s1 = grid.source
        for rr, cc in zip(r, c, strict=True):  # label each copied cell with its source
            label = f"x[{s1[rr, cc]}]" if one_d else f"x[{s0[rr, cc]},{s1[rr, cc]}]"
            ax.text(
                x0 + cc + 0.5,
                y0 + rr + 0.05,
                label,
                ha="center",
                va="top",
                fontsize=max(cell_pt * 0.19, 5.0),
                color="#24496b",
                zorder=8,
            )


def _render(story: Story, *, show: bool, precision: int, interval: float) -> ConvAnimation:
    """Lay the story's grids out on a new figure and animate its frames."""
    L, R, K = story.left, story.right, story.kernel
    # sizes in points of the text bands: two title lines and a grid title above the grids,
    # a caption and two legend rows below them
    top_pt, bottom_pt = 54.0, 62.0
    origin: dict[str, tuple[float, float]]
    width: float
    if story.one_d:  # rows stacked: input, output, kernel
        width = max(L.shape[1], R.shape[1], K.shape[1])
        cell_in = float(np.clip(12.0 / width, 0.12, 0.45))
        gap = 1.0 + 16.0 / (cell_in * 72)  # room for the next grid's title
        origin = {"left": (0.0, 0.0), "right": (0.0, 1.0 + gap), "kernel": (0.0, 2.0 + 2 * gap)}
        height = 3.0 + 2 * gap
    else:  # side by side: input, output, kernel
        gap = 2.0
        right_x = L.shape[1] + gap
        kernel_x = right_x + R.shape[1] + gap
        origin = {"left": (0.0, 0.0), "right": (right_x, 0.0), "kernel": (kernel_x, 0.0)}
        width = kernel_x + K.shape[1]
        height = max(L.shape[0], R.shape[0], K.shape[0])
        cell_in = float(np.clip(min(12.0 / width, 6.5 / height), 0.12, 0.45))
    cell_pt = cell_in * 72
    fig_w = max((width + 1.0) * cell_in, 8.0)
    fig_h = height * cell_in + (top_pt + bottom_pt) / 72
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    # limits in cell units with the figure's aspect: cells come out square
    y_top = -top_pt / cell_pt
    ax.set_xlim(-0.5, -0.5 + fig_w / cell_in)
    ax.set_ylim(y_top + fig_h / cell_in, y_top)
    complex_ = any(np.iscomplexobj(gr.values) for gr in (L, K) if gr.values is not None)
    show = show and not complex_

    for name, grid in (("left", L), ("right", R), ("kernel", K)):
        for kind in (DATA, PAD, COPY, INSERT):
            mask = grid.kind == kind
            if mask.any():
                style = _STYLE[(grid.role, kind) if kind == DATA else (None, kind)]
                ax.add_collection(_cells(mask, origin[name], linewidth=0.8, **style))
        _grid_text(ax, grid, origin[name], cell_pt, show, precision, story.one_d)
    ax.text(
        -0.3, y_top + 4 / cell_pt, story.title, ha="left", va="top", fontsize=9, linespacing=1.3
    )
    caption_y = height + 6 / cell_pt
    caption = ax.text(-0.3, caption_y, "", ha="left", va="top", fontsize=9)
    handles = [
        Patch(label=label, **{k: v for k, v in _LEGEND_STYLE[key].items() if k != "linewidth"})
        for label, key in story.legend
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(-0.45, caption_y + 16 / cell_pt),
        bbox_transform=ax.transData,
        ncol=3,
        fontsize=8,
        frameon=False,
        handlelength=1.5,
        columnspacing=1.2,
        borderaxespad=0.0,
    )

    foot_grid, mark_grid = (L, R) if story.foot_on == "left" else (R, L)
    foot_origin, mark_origin = (
        (origin["left"], origin["right"])
        if story.foot_on == "left"
        else (origin["right"], origin["left"])
    )
    r_origin = origin["right"]
    dynamic: list[Artist] = []

    def draw_frame(f: int) -> list[Artist]:
        for artist in dynamic:
            artist.remove()
        dynamic.clear()
        # the right grid's values so far
        vals = story.running[f]
        done = ~np.isnan(vals.real) if np.iscomplexobj(vals) else ~np.isnan(vals)
        done_style = _DONE if R.role == "output" else {}
        if done.any():
            dynamic.append(
                ax.add_collection(
                    _cells(done & (R.kind == DATA), r_origin, linewidth=0.8, **done_style)
                )
            )
        if show and cell_pt >= 10:
            r, c = np.nonzero(done)
            for rr, cc in zip(r, c, strict=True):  # one Text per computed cell of a small grid
                dynamic.append(
                    ax.text(
                        r_origin[0] + cc + 0.5,
                        r_origin[1] + rr + 0.55,
                        format_value(vals[rr, cc].real, precision),
                        ha="center",
                        va="center",
                        fontsize=cell_pt * 0.34,
                        zorder=8,
                        gid=_VALUE_GID,
                    )
                )
        # highlighted cell and kernel footprint
        mr, mc = story.mark[f]
        mx0, my0 = mark_origin[0] + mc, mark_origin[1] + mr
        dynamic.append(ax.add_patch(Rectangle((mx0, my0), 1, 1, zorder=5, **_MARK[mark_grid.role])))
        cells = story.foot[f]
        fx0, fy0 = foot_origin
        covered = np.zeros(foot_grid.kind.size, dtype=bool)
        covered[np.ravel_multi_index(cells.T, foot_grid.shape)] = True
        dynamic.append(
            ax.add_collection(
                _cells(covered.reshape(foot_grid.shape), foot_origin, zorder=5, **_FOOT)
            )
        )
        if show and cell_pt >= 14:
            for (rr, cc), v in zip(cells, story.corner[f], strict=True):  # one label per tap
                dynamic.append(
                    ax.text(
                        fx0 + cc + 0.95,
                        fy0 + rr + 0.95,
                        format_value(v.real, precision),
                        ha="right",
                        va="bottom",
                        fontsize=cell_pt * 0.2,
                        color="#7f2704",
                        zorder=7,
                    )
                )
        # dashed outline of the footprint's extent and lines to the highlighted cell
        r0, c0 = cells.min(axis=0)
        r1, c1 = cells.max(axis=0) + 1
        dynamic.append(
            ax.add_patch(
                Rectangle(
                    (fx0 + c0, fy0 + r0),
                    c1 - c0,
                    r1 - r0,
                    fill=False,
                    edgecolor="#a63603",
                    linestyle="--",
                    linewidth=1.2,
                    zorder=6,
                )
            )
        )
        if story.one_d:  # foot grid above or below the mark grid
            fy = fy0 + (r1 if fy0 < my0 else r0)
            my = my0 + (0 if fy0 < my0 else 1)
            pairs = [((fx0 + c0, fy), (mx0, my)), ((fx0 + c1, fy), (mx0 + 1, my))]
        else:  # foot grid left or right of the mark grid
            fx = fx0 + (c1 if fx0 < mx0 else c0)
            mx = mx0 + (0 if fx0 < mx0 else 1)
            pairs = [((fx, fy0 + r0), (mx, my0)), ((fx, fy0 + r1), (mx, my0 + 1))]
        dynamic.append(
            ax.add_collection(
                LineCollection(pairs, colors="0.45", linestyles="--", linewidths=0.9, zorder=6)
            )
        )
        caption.set_text(f"frame {f + 1}/{story.frame_count}:  {story.captions[f]}")
        return [*dynamic, caption]

    return ConvAnimation(fig, draw_frame, story.frame_count, story.result, interval)


def _default_data(shape: tuple[int, ...], data: Any, name: str) -> np.ndarray:
    if data is None:
        # small integers (0…3) keep every sum readable, as in Dumoulin & Visin's pictures
        return np.random.default_rng(0).integers(0, 4, size=shape).astype(float)
    arr = as_numeric_array(data, name)
    if arr.shape != tuple(shape):
        raise ValueError(
            f"{name} of shape {arr.shape} does not fit: the operator's input has shape {tuple(shape)}"
        )
    return arr


# ----------------------------------------------------------------------------------------
# the public views
# ----------------------------------------------------------------------------------------
def animate(
    op: ConvOperator,
    *,
    fractional: bool = False,
    data: Any = None,
    values: bool | Literal["auto"] = "auto",
    precision: int = 1,
    interval: float = 700,
) -> ConvAnimation:
    r"""The conv-arithmetic picture (Dumoulin & Visin, 2016) of a 1-D or 2-D convolution.

    Drawn on one figure, for any stride, padding ``(lo, hi)``, dilation and boundary:

    * **convolution** (``op.geometry.transposed`` False), one frame per output position
      ``o`` (C order): the input padded to ``x̃`` (padding cells hatched: grey for zeros,
      blue with the source index ``x[·]`` and its value for circular/reflect/replicate),
      the kernel footprint ``o·s + t·d`` (dilation gaps visible, weights in the cells'
      corners) and the output cell being computed, with
      ``y[o] = Σ_t w[t]·x̃[o·s + t·d]`` written out;
    * **transposed convolution**, scatter view (default), one frame per *input* position
      ``o`` of ``y``: ``w[t]·y[o]`` laid onto the padded output grid at ``o·s + t·d``
      with a running sum; the padding cells are then cropped (zeros) or folded onto the
      input entries they copy;
    * **transposed convolution**, ``fractional=True``, one frame per output position ``i``:
      the "fractionally strided" equivalent — ``y`` with ``s − 1`` zeros inserted between
      entries, shifted by ``d·(k − 1) − lo`` (and padded up to ``d·(k − 1) − hi`` plus any
      ``output_padding``), convolved with the flipped kernel at stride 1:
      ``x[i] = Σ_u w[k − 1 − u]·z̃[i + u·d]``.  Zero boundary only.

    Values are printed when the grids are small (``values="auto"``); complex kernels are
    drawn without values.  The frame count is ``prod(m)`` for the convolution and the
    scatter view and ``prod(n)`` for the fractional view (``m``, ``n``: spatial sizes of
    the convolution's output and input).

    Parameters
    ----------
    op : ConvOperator
        Single-channel, 1-D or 2-D; ``op.H`` / ``op.T`` for the transposed views.
    fractional : bool
        Transposed operators only: the fractionally strided view instead of the scatter.
    data : array_like, optional
        The operator's input (shape ``op.input_shape``); default small random integers.
    values : bool or "auto"
        Print values in the cells (``"auto"``: when every grid has at most 12 cells per
        axis in 2-D, 40 in 1-D).
    precision : int
        Decimals of non-integer values (``>= 0``).
    interval : float
        Milliseconds between frames, a positive number.

    Returns
    -------
    ConvAnimation
        A :class:`matplotlib.animation.FuncAnimation` with the attributes ``figure`` (the
        Figure it draws on, frame 0 already drawn), ``frame_count`` (int), ``result``
        (the output the picture computes, equal to ``op.apply(data)``), ``interval`` and
        the method ``draw_frame(i)``, which draws frame ``i`` on ``figure``.

    Raises
    ------
    TypeError
        If ``op`` is not a ConvOperator, or a flag or number is of the wrong type.
    ValueError
        For 3-D or multi-channel operators, ``fractional=True`` on a convolution or a
        non-zero boundary, ``data`` of the wrong shape, a negative ``precision`` or an
        ``interval`` that is not positive.

    Examples
    --------
    >>> import numpy as np, convops
    >>> from convops.plotting import animate, save_animation
    >>> A = convops.ConvOperator(np.ones((3, 3)), (5, 5), stride=2, padding=1)
    >>> anim = animate(A)           # 9 frames: one per output of the 3×3 output
    >>> anim.frame_count
    9
    >>> anim.figure.savefig("first_frame.png")    # doctest: +SKIP
    >>> anim = animate(A.H)         # 9 frames: one per input of the transposed conv
    >>> anim = animate(A.H, fractional=True)   # 25 frames: one per output pixel
    """
    if not isinstance(op, ConvOperator):
        raise TypeError(f"op must be a convops.ConvOperator; got {type(op).__name__}")
    g = op.geometry
    if g.ndim == 3:
        raise ValueError(
            f"animate draws 1-D and 2-D geometries; this operator is 3-D (input {g.spatial_in}). "
            "Animate a 2-D slice instead, e.g. ConvOperator(op.kernel[i], op.geometry.spatial_in[1:], "
            "stride=..., padding=...) with the last two axes' parameters"
        )
    if g.multichannel:
        raise ValueError(
            f"animate draws single-channel convolutions; this kernel has shape {g.kernel_shape} "
            f"(C_out={g.out_channels}, C_in/groups={g.in_channels // g.groups}). Animate one "
            "channel pair: ConvOperator(op.kernel[co, ci], op.geometry.spatial_in, stride=..., padding=...)"
        )
    fractional = validate_bool(fractional, "fractional")
    if fractional and not g.transposed:
        raise ValueError(
            "fractional=True is the view of a transposed convolution; pass op.H (or op.T)"
        )
    values = validate_auto_flag(values, "values")  # type: ignore[assignment]
    precision = validate_int(precision, "precision", minimum=0)
    interval = validate_number(interval, "interval", minimum=0, exclusive=True)
    x = _default_data(op.input_shape, data, "data")
    # every frame keeps the grid it fills: refuse what would not fit before building it
    check_work(story_bytes(g, fractional), "the frames of this animation")
    show = values is True or (
        values == "auto" and max(grid_extents(g, fractional)) <= AUTO_VALUES_LIMIT[g.ndim]
    )
    show = show and not (np.iscomplexobj(op.kernel) or np.iscomplexobj(x))  # no room for a+bj
    if not g.transposed:
        story = story_forward(g, op.kernel, x, precision, show)
    elif fractional:
        story = story_fractional(g, op.kernel, x, precision, show)
    else:
        story = story_scatter(g, op.kernel, x, precision, show)
    return _render(story, show=show, precision=precision, interval=interval)


def _interval_of(anim: animation.Animation) -> float:
    """Milliseconds between frames: a ConvAnimation's own, else its timer's."""
    if isinstance(anim, ConvAnimation):
        return anim.interval
    return float(getattr(anim.event_source, "interval", DEFAULT_INTERVAL))


def save_animation(
    anim: animation.Animation,
    path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    dpi: float = 100,
) -> Path:
    """Write an animation to a GIF (Pillow) or an MP4 (ffmpeg) file.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        For example from :func:`animate`.
    path : str or os.PathLike
        Ending in ``.gif`` or ``.mp4``.
    fps : float, optional
        Frames per second, a positive number; default from the animation's interval.
    dpi : float
        Resolution of the frames, a positive number.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        For an ``anim`` that is not an Animation, or a ``path``, ``fps`` or ``dpi`` of the
        wrong type.
    ValueError
        For another suffix, or an ``fps`` or ``dpi`` that is not positive.
    RuntimeError
        For ``.mp4`` when ffmpeg is not installed.
    """
    if not isinstance(anim, animation.Animation):
        raise TypeError(f"anim must be a matplotlib Animation; got {type(anim).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    path = Path(path)
    if fps is None:
        fps = 1000.0 / max(_interval_of(anim), 1.0)
    fps = validate_number(fps, "fps", minimum=0, exclusive=True)
    dpi = validate_number(dpi, "dpi", minimum=0, exclusive=True)
    suffix = path.suffix.lower()
    writer: animation.AbstractMovieWriter
    if suffix == ".gif":
        writer = animation.PillowWriter(fps=fps)  # type: ignore[arg-type]  # stubs: int; any > 0 works
    elif suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise RuntimeError(
                "writing MP4 needs ffmpeg, which matplotlib cannot find on this machine; "
                "install ffmpeg or save a .gif instead"
            )
        writer = animation.FFMpegWriter(fps=fps)  # type: ignore[arg-type]
    else:
        raise ValueError(f"path={str(path)!r} must end in .gif or .mp4; got suffix {path.suffix!r}")
    anim.save(str(path), writer=writer, dpi=dpi)
    return path
