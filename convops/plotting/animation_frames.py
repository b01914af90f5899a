r"""What each conv-arithmetic animation shows, frame by frame, as arrays (no drawing).

The pictures of Dumoulin & Visin (2016) tell three stories, one frame per step:

* the **gather** of the convolution ``y = A x``: one frame per output ``o``,
  ``y[o] = Σ_t w[t]·x̃[o·s + t·d]`` on the padded input ``x̃``;
* the **scatter** of the transposed convolution ``x = A* y``: one frame per input ``o``
  of ``y``, ``x̃[o·s + t·d] += w̄[t]·y[o]``, the padding then cropped or folded back;
* the **fractionally strided** view of the transposed convolution: ``y`` with ``s − 1``
  zeros between entries, padded, convolved with the flipped kernel at stride 1.

A :class:`Story` holds everything a renderer needs: the grids (cell kinds and printed
values), the kernel footprint and the highlighted cell of every frame, the running
values of the right-hand grid, the captions and the legend, computed with numpy alone.
The drawing is :mod:`convops.plotting.animation`'s job.

The cells a footprint covers are positions ``o·s + t·d`` of the padded grid (that is
where the picture draws them); the input entries they read are the geometry's
:meth:`~convops.geometry.ConvGeometry.source_table`, from which the stories compute
every value and their results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..geometry import ConvGeometry, make_geometry
from ..text import format_value
from ._common import geometry_summary

__all__ = [
    "COPY",
    "DATA",
    "INSERT",
    "PAD",
    "Grid",
    "Story",
    "full_padded_geometry",
    "grid_extents",
    "story_bytes",
    "story_forward",
    "story_fractional",
    "story_scatter",
]

#: Cell kinds: an entry of the data, zero padding, a padded copy of an input entry
#: (circular, reflect, replicate), a zero inserted between entries (fractional view).
DATA, PAD, COPY, INSERT = 0, 1, 2, 3

#: Sums with more terms than this are not written out in the captions.
MAX_TERMS = 9


@dataclass
class Grid:
    """One grid of the picture, always 2-D (a 1-D geometry is one row)."""

    title: str
    role: Literal["input", "output", "kernel"]  # the colours of its data cells
    kind: np.ndarray  # (R, C) of DATA, PAD, COPY, INSERT
    values: np.ndarray | None = None  # static values printed in data/copy cells
    source: tuple[np.ndarray, np.ndarray] | None = None  # input index of each cell (-1: zero)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of cells."""
        rows, cols = self.kind.shape
        return rows, cols


@dataclass
class Story:
    """Everything one animation shows, frame by frame, as arrays.

    ``legend`` pairs a label with the name of a style the renderer knows: ``"input"``,
    ``"pad"``, ``"copy"``, ``"insert"``, ``"footprint"``, ``"mark-output"``,
    ``"mark-input"``, ``"done"``.
    """

    left: Grid
    right: Grid
    kernel: Grid
    foot_on: Literal["left", "right"]  # the grid the kernel footprint lies on
    foot: np.ndarray  # (F, K, 2) cells of the footprint
    corner: np.ndarray  # (F, K) numbers printed in the footprint cells' corners
    mark: np.ndarray  # (F, 2) highlighted cell on the other grid
    running: np.ndarray  # (F, R, C) values of the right grid after each frame (NaN: none yet)
    captions: list[str]
    title: str
    result: np.ndarray  # what the operator returns for the shown data
    one_d: bool
    legend: list[tuple[str, str]]

    @property
    def frame_count(self) -> int:
        """Number of frames ``F``."""
        return len(self.captions)


# ----------------------------------------------------------------------------------------
# the grids and the index tables, from the geometry
# ----------------------------------------------------------------------------------------
def _lift(values: Sequence[Any], one_d: bool, dummy: Any) -> tuple[Any, ...]:
    """Per-axis parameters of a 1-D geometry as a 2-D one with a leading axis of size 1."""
    return (dummy, *values) if one_d else tuple(values)


def full_padded_geometry(g: ConvGeometry) -> ConvGeometry:
    """A stride-1 twin of ``g`` whose outputs read the whole padded input, ``n + lo + hi``.

    ``g.pad_source_index`` covers the padded positions some output of ``g`` reads (a
    stride may leave the last ones unread); the picture draws all of ``x̃``, so it asks
    this twin, whose :attr:`~convops.geometry.ConvGeometry.padded_extent` is
    ``n + lo + hi``.  Built by :func:`~convops.geometry.make_geometry`, which validates it.
    """
    return make_geometry(
        g.kernel_size,
        g.spatial_in,
        padding=g.padding,
        dilation=g.dilation,
        boundary=g.boundary,
    )


def _fractional_extent(g: ConvGeometry) -> tuple[int, ...]:
    """Length ``n + d·(k − 1)`` of the zero-inserted, padded ``z̃`` per axis."""
    return tuple(n + e - 1 for n, e in zip(g.spatial_in, g.span, strict=True))


def story_bytes(g: ConvGeometry, fractional: bool) -> int:
    """Memory (bytes) a story of ``g`` keeps, estimated from the shapes before it is built.

    A story stores, for each of its ``F`` frames, the values of the grid being filled and
    the kernel footprint: ``F × (cells + 2·K)`` numbers, with ``F`` the outputs of ``A``
    (the gather), of ``A*``'s inputs (the scatter) or of the zero-inserted grid's outputs
    (the fractional view), so it grows with frames × cells.
    """
    padded = math.prod(n + lo + hi for n, (lo, hi) in zip(g.spatial_in, g.padding, strict=True))
    n, m = math.prod(g.spatial_in), math.prod(g.spatial_out)
    cells = padded + n + m + (math.prod(_fractional_extent(g)) if fractional else 0)
    frames = n if fractional else m  # the fractional view has a frame per output of A*
    taps = math.prod(g.kernel_size)
    return 8 * frames * (cells + 2 * taps) + 8 * cells


def grid_extents(g: ConvGeometry, fractional: bool) -> list[int]:
    """The sizes per axis that decide whether values fit in the cells (``values="auto"``).

    The padded input, the convolution's output and, for the fractional view, ``z̃``.
    """
    sizes = [*full_padded_geometry(g).padded_extent, *g.spatial_out]
    if fractional:
        sizes += _fractional_extent(g)
    return sizes


def _padded_grid(
    g: ConvGeometry,
    one_d: bool,
    x2: np.ndarray | None,
    role: Literal["input", "output"],
    title: str,
) -> Grid:
    """The padded input grid ``x̃`` (``n + lo + hi`` per axis) with kinds and values."""
    twin = full_padded_geometry(g)
    src = _lift(
        [twin.pad_source_index(a) for a in range(g.ndim)], one_d, np.zeros(1, dtype=np.int64)
    )
    pads = _lift(g.padding, one_d, (0, 0))
    n = _lift(g.spatial_in, one_d, 1)
    inside = [
        (np.arange(s.size) >= lo) & (np.arange(s.size) < lo + nn)
        for s, (lo, _), nn in zip(src, pads, n, strict=True)
    ]
    data = inside[0][:, None] & inside[1][None, :]
    outside = PAD if g.boundary == "zeros" else COPY
    kind = np.where(data, DATA, outside)
    s0, s1 = np.broadcast_arrays(src[0][:, None], src[1][None, :])
    values = None
    if x2 is not None:
        valid = (s0 >= 0) & (s1 >= 0)
        values = np.where(valid, x2[np.maximum(s0, 0), np.maximum(s1, 0)], 0)
    return Grid(title, role, kind, values, (s0, s1))


def _source_pairs(g: ConvGeometry, one_d: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(F, K)`` row and column input indices read by output ``f``'s tap ``t`` (-1: zero).

    The outer product of the per-axis :meth:`~convops.geometry.ConvGeometry.source_table`
    s, outputs and taps each in C order (the frame order and ``w.ravel()``'s order).
    """
    s0, s1 = _lift(
        [g.source_table(a) for a in range(g.ndim)], one_d, np.zeros((1, 1), dtype=np.int64)
    )
    (m0, k0), (m1, k1) = s0.shape, s1.shape
    full = (m0, m1, k0, k1)
    rows = np.broadcast_to(s0[:, None, :, None], full).reshape(m0 * m1, k0 * k1)
    cols = np.broadcast_to(s1[None, :, None, :], full).reshape(m0 * m1, k0 * k1)
    return rows, cols


def _gather(x2: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``x2[rows, cols]``, zero where an index is -1 (the zero padding)."""
    valid = (rows >= 0) & (cols >= 0)
    return np.where(valid, x2[np.maximum(rows, 0), np.maximum(cols, 0)], 0)


def _kernel_lifted(
    g: ConvGeometry, kernel: np.ndarray, one_d: bool, conjugate: bool, flipped: bool
) -> np.ndarray:
    """The cross-correlation kernel the picture shows, as a 2-D grid."""
    w = g.canonical_kernel(kernel)[0, 0]
    if conjugate:
        w = np.conj(w)
    if flipped:
        w = w[(slice(None, None, -1),) * w.ndim]
    return w.reshape(1, -1) if one_d else w


def _tap_offsets(k: tuple[int, ...], d: tuple[int, ...]) -> np.ndarray:
    """``(K, 2)`` offsets ``t·d`` of the taps in C order."""
    t0, t1 = np.indices(k).reshape(2, -1)
    return np.stack([t0 * d[0], t1 * d[1]], axis=-1)


def _footprints(
    m: tuple[int, ...], s: tuple[int, ...], taps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every output index ``o`` in C order, ``(F, 2)``, and the grid cells its taps cover,
    ``o·s + taps``, ``(F, K, 2)`` (``taps`` from :func:`_tap_offsets`)."""
    oo = np.stack(np.unravel_index(np.arange(int(np.prod(m))), m), axis=-1)
    return oo, (oo * np.array(s))[:, None, :] + taps[None]


def _placements(
    g: ConvGeometry, one_d: bool, kernel_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's placements on the padded grid: outputs ``o`` and cells ``o·s + t·d``."""
    m = _lift(g.spatial_out, one_d, 1)
    s = _lift(g.stride, one_d, 1)
    d = _lift(g.dilation, one_d, 1)
    return _footprints(m, s, _tap_offsets(kernel_shape, d))


def _running_in_order(final: np.ndarray) -> np.ndarray:
    """``(F, R, C)``: cell values revealed one per frame in C order (NaN before)."""
    F = final.size
    order = np.arange(F).reshape(final.shape)
    return np.where(order[None] <= np.arange(F)[:, None, None], final[None], np.nan)


def _idx(cell: np.ndarray, one_d: bool) -> str:
    return str(int(cell[1])) if one_d else f"{int(cell[0])},{int(cell[1])}"


def _sum_terms(weights: np.ndarray, values: np.ndarray, precision: int) -> str | None:
    """``w·v + w·v + …`` for a caption, or None when there are too many terms."""
    if len(weights) > MAX_TERMS:
        return None

    def fmt(v: complex) -> str:
        text = format_value(v, precision)
        return f"({text})" if text.startswith("-") else text

    terms = [f"{fmt(w)}·{fmt(v)}" for w, v in zip(weights, values, strict=True)]
    return " + ".join(terms)


def _padding_legend(g: ConvGeometry, zeros: str, copies: str) -> list[tuple[str, str]]:
    return [(zeros, "pad")] if g.boundary == "zeros" else [(copies, "copy")]


def _kernel_title(g: ConvGeometry) -> str:
    return "kernel w" + (" (flipped)" if g.flip else "")


# ----------------------------------------------------------------------------------------
# the three stories
# ----------------------------------------------------------------------------------------
def story_forward(
    g: ConvGeometry, kernel: np.ndarray, x: np.ndarray, precision: int, show: bool
) -> Story:
    """Gather: one frame per output ``y[o] = Σ_t w[t]·x̃[o·s + t·d]``.

    Parameters
    ----------
    g : ConvGeometry
        A single-channel 1-D or 2-D convolution (not transposed).
    kernel : ndarray
        Its kernel, as the operator holds it (``flip`` not yet applied).
    x : ndarray
        The input, shape ``g.spatial_in``.
    precision : int
        Decimals of non-integer values in the captions.
    show : bool
        Write the sums out in the captions.
    """
    one_d = g.ndim == 1
    x2 = x.reshape(1, -1) if one_d else x
    left = _padded_grid(g, one_d, x2, "input", "input x, padded to x̃")
    w = _kernel_lifted(g, kernel, one_d, conjugate=False, flipped=False)
    m = _lift(g.spatial_out, one_d, 1)
    oo, foot = _placements(g, one_d, w.shape)
    read = _gather(x2, *_source_pairs(g, one_d))  # (F, K): what each tap of each output reads
    flat = np.zeros(len(oo), dtype=np.result_type(read, w))
    for t, wt in enumerate(w.ravel()):  # loop over taps, vectorised over outputs
        flat += wt * read[:, t]
    y = flat.reshape(m)
    captions = []
    for f, o in enumerate(oo):  # one caption per frame
        expr = _sum_terms(w.ravel(), read[f], precision) if show else None
        head = f"y[{_idx(o, one_d)}] = Σₜ w[t]·x̃[{_idx(o, one_d)}·s + t·d]"
        value = f" = {expr} = {format_value(y[tuple(o)], precision)}" if expr else ""
        captions.append(head + value)
    legend = [("input x", "input")]
    legend += _padding_legend(g, "zero padding", f"{g.boundary} padding: copy of x[·]")
    legend += [
        ("kernel footprint (weights in corners)", "footprint"),
        ("output being computed", "mark-output"),
    ]
    return Story(
        left=left,
        right=Grid("output y", "output", np.full(m, DATA)),
        kernel=Grid(_kernel_title(g), "kernel", np.full(w.shape, DATA), w),
        foot_on="left",
        foot=foot,
        corner=np.broadcast_to(w.ravel(), foot.shape[:2]),
        mark=oo,
        running=_running_in_order(y),
        captions=captions,
        title=f"convolution y = A x: gather, one frame per output\n{geometry_summary(g)}",
        result=y.reshape(g.spatial_out),
        one_d=one_d,
        legend=legend,
    )


def story_scatter(
    g: ConvGeometry, kernel: np.ndarray, yv: np.ndarray, precision: int, show: bool
) -> Story:
    """Scatter: one frame per input ``y[o]``: ``x̃[o·s + t·d] += w̄[t]·y[o]``, then fold.

    ``g`` is the transposed geometry; ``yv`` has shape ``g.spatial_out``; the other
    parameters as in :func:`story_forward`.  The running sum is drawn on the padded
    grid; the result adds each product onto the input entry it lands on
    (``source_table``), so the padding's products are cropped (zeros) or folded onto the
    entries they copy.
    """
    one_d = g.ndim == 1
    y2 = yv.reshape(1, -1) if one_d else yv
    right = _padded_grid(g, one_d, None, "output", "output x̃ (running sum)")
    w = _kernel_lifted(g, kernel, one_d, conjugate=True, flipped=False)
    oo, foot = _placements(g, one_d, w.shape)
    F = len(oo)
    products = y2[oo[:, 0], oo[:, 1]][:, None] * w.ravel()[None, :]
    acc = np.zeros(right.shape, dtype=products.dtype)
    touched = np.zeros(right.shape, dtype=bool)
    running = np.empty((F, *right.shape), dtype=products.dtype)
    captions = []
    for f in range(F):  # frames: each adds one placed kernel (its taps hit distinct cells)
        acc[foot[f, :, 0], foot[f, :, 1]] += products[f]
        touched[foot[f, :, 0], foot[f, :, 1]] = True
        running[f] = np.where(touched, acc, np.nan)
        o = _idx(oo[f], one_d)
        cap = f"x̃[{o}·s + t·d] += w[t]·y[{o}]"
        if show:
            cap += f",  y[{o}] = {format_value(y2[tuple(oo[f])], precision)}"
        captions.append(cap)
    rows, cols = _source_pairs(g, one_d)
    valid = (rows >= 0) & (cols >= 0)
    x = np.zeros(_lift(g.spatial_in, one_d, 1), dtype=products.dtype)
    np.add.at(x, (rows[valid], cols[valid]), products[valid])
    fold = "cropped" if g.boundary == "zeros" else "folded onto x[·] they copy"
    captions[-1] += f";  then the padding cells are {fold}"
    legend = [("input y", "input"), ("input being scattered", "mark-input")]
    legend += _padding_legend(g, "padding (cropped)", "padding: folded onto x[·]")
    legend += [("kernel × y[o] (products in corners)", "footprint"), ("running sum", "done")]
    return Story(
        left=Grid("input y", "input", np.full(y2.shape, DATA), y2),
        right=right,
        kernel=Grid(_kernel_title(g), "kernel", np.full(w.shape, DATA), w),
        foot_on="right",
        foot=foot,
        corner=products,
        mark=oo,
        running=running,
        captions=captions,
        title=f"transposed convolution x = Aᵀ y: scatter, one frame per input\n{geometry_summary(g)}",
        result=x.reshape(g.spatial_in),
        one_d=one_d,
        legend=legend,
    )


def story_fractional(
    g: ConvGeometry, kernel: np.ndarray, yv: np.ndarray, precision: int, show: bool
) -> Story:
    """Fractionally strided: zero-insert ``y``, pad by ``d·(k−1) − lo`` / ``− hi``, convolve.

    ``x[i] = Σ_u w̄[k−1−u]·z̃[i + u·d]`` where ``z̃`` is ``y`` with ``s − 1`` zeros between
    entries, shifted by ``L = d·(k−1) − lo`` (cut instead when ``L < 0``).  Zero boundary
    only; parameters as in :func:`story_scatter`.
    """
    if g.boundary != "zeros":
        raise ValueError(
            f"fractional=True draws the zero-padded equivalence (zero-inserted input, direct "
            f"convolution with the flipped kernel); boundary={g.boundary!r} folds the padding "
            "instead: use the scatter view (fractional=False)"
        )
    one_d = g.ndim == 1
    y2 = yv.reshape(1, -1) if one_d else yv
    n = _lift(g.spatial_in, one_d, 1)
    m = _lift(g.spatial_out, one_d, 1)
    s = _lift(g.stride, one_d, 1)
    d = _lift(g.dilation, one_d, 1)
    lo = [p[0] for p in _lift(g.padding, one_d, (0, 0))]
    shift = [e - 1 - ll for e, ll in zip(_lift(g.span, one_d, 1), lo, strict=True)]
    inserted = [(mm - 1) * ss + 1 for mm, ss in zip(m, s, strict=True)]  # y zero-inserted
    axes = []
    for a, length in enumerate(_lift(_fractional_extent(g), one_d, 1)):
        q = np.arange(length) - shift[a]
        inside = (q >= 0) & (q < inserted[a])
        axes.append((q, inside, inside & (q % s[a] == 0)))
    (q0, in0, da0), (q1, in1, da1) = axes
    data = da0[:, None] & da1[None, :]
    kind = np.where(data, DATA, np.where(in0[:, None] & in1[None, :], INSERT, PAD))
    V = np.where(data, y2[np.clip(q0 // s[0], 0, m[0] - 1)][:, np.clip(q1 // s[1], 0, m[1] - 1)], 0)
    w = _kernel_lifted(g, kernel, one_d, conjugate=True, flipped=True)
    taps = _tap_offsets(w.shape, d)
    x = np.zeros(n, dtype=np.result_type(V, w))
    for (a, b), wt in zip(taps, w.ravel(), strict=True):  # taps, vectorised over outputs
        x += wt * V[a : a + n[0], b : b + n[1]]
    ii, foot = _footprints(n, (1, 1), taps)
    captions = []
    for f, i_cell in enumerate(ii):  # one caption per frame
        i = _idx(i_cell, one_d)
        cells = foot[f]
        expr = _sum_terms(w.ravel(), V[cells[:, 0], cells[:, 1]], precision) if show else None
        head = f"x[{i}] = Σᵤ w_flipped[u]·z̃[{i} + u·d]"
        value = f" = {expr} = {format_value(x[tuple(i_cell)], precision)}" if expr else ""
        captions.append(head + value)
    shifts = ", ".join(str(v) for v in (shift[1:] if one_d else shift))
    title = (
        "transposed convolution as a fractionally strided one, one frame per output\n"
        f"z̃ = y with s−1 zeros between entries, shifted by d·(k−1)−lo = {shifts};  {geometry_summary(g)}"
    )
    legend = [
        ("input y", "input"),
        ("inserted zero", "insert"),
        ("zero padding", "pad"),
        ("flipped kernel footprint", "footprint"),
        ("output being computed", "mark-output"),
    ]
    return Story(
        left=Grid("z̃: y zero-inserted and padded", "input", kind, V),
        right=Grid("output x", "output", np.full(n, DATA)),
        kernel=Grid("kernel w, flipped", "kernel", np.full(w.shape, DATA), w),
        foot_on="left",
        foot=foot,
        corner=np.broadcast_to(w.ravel(), foot.shape[:2]),
        mark=ii,
        running=_running_in_order(x),
        captions=captions,
        title=title,
        result=x.reshape(g.spatial_in),
        one_d=one_d,
        legend=legend,
    )
