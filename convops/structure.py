"""The structure of a convolution's matrix, read from the geometry alone.

Which structure the matrix has (Toeplitz, block Toeplitz, circulant, …), how many entries
it stores, and how many (output, tap) pairs of the transposed convolution land on each
pixel (the overlap counts behind the checkerboard).  Nothing here builds the matrix: each
count is separable over the axes and computed from the per-axis ``(m, k)`` tables of
:meth:`ConvGeometry.source_table <convops.geometry.ConvGeometry.source_table>`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from ._validate import validate_bool
from .geometry import ConvGeometry

__all__ = ["describe_structure", "geometry_of", "overlap_counts", "structural_nnz"]


def geometry_of(op: object, name: str = "op") -> ConvGeometry:
    """The geometry of a :class:`~convops.ConvOperator` or of a geometry itself."""
    if isinstance(op, ConvGeometry):
        return op
    geometry = getattr(op, "geometry", None)
    if isinstance(geometry, ConvGeometry):
        return geometry
    raise TypeError(
        f"{name} must be a convops.ConvOperator or ConvGeometry; got {type(op).__name__}"
    )


def structural_nnz(geometry: ConvGeometry) -> int:
    """Number of stored entries of the convolution's matrix, from the geometry alone.

    Row ``(co, o)`` has one column per input channel of its group and per distinct input
    position its taps read (padding zeros read nothing; other boundaries may fold two taps
    onto one position).  The columns factorise over the axes, so the count is
    ``C_out · C_in/groups · Π_axes Σ_o (distinct positions read by row o on that axis)``,
    computed from per-axis ``(m, k)`` tables without building the matrix.
    """
    g = geometry
    total = g.out_channels * (g.in_channels // g.groups)
    for a in range(g.ndim):
        table = np.sort(g.source_table(a), axis=1)
        valid = table >= 0
        distinct = int(valid[:, :1].sum()) + int(
            (valid[:, 1:] & (np.diff(table, axis=1) != 0)).sum()
        )
        total *= distinct
    return int(total)


def _axes_text(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else ",".join(map(str, values))


def describe_structure(geometry: ConvGeometry) -> str:
    """A sentence naming the matrix structure of the geometry's operator."""
    g = geometry
    D = g.ndim
    square = all(
        lo + hi == d * (k - 1)
        for (lo, hi), d, k in zip(g.padding, g.dilation, g.kernel_size, strict=True)
    )
    unit = all(s == 1 for s in g.stride)
    circulant = g.boundary == "circular" and unit and square
    if circulant:
        base = {
            1: "circulant",
            2: "block circulant with circulant blocks (BCCB)",
            3: "three-level block circulant",
        }[D]
    else:
        base = {
            1: "Toeplitz",
            2: "block Toeplitz with Toeplitz blocks (BTTB)",
            3: "three-level block Toeplitz",
        }[D]
    parts = [base]
    if g.boundary == "circular" and not circulant:
        parts.append("plus wrap-around entries where the circular padding reads the far edge")
    elif g.boundary in ("reflect", "replicate"):
        parts.append(f"plus {g.boundary} corrections: padded taps fold onto the border columns")
    if not unit:
        parts.append(
            f"keeping every s-th row of the stride-1 matrix (stride {_axes_text(g.stride)})"
        )
    if any(d > 1 for d in g.dilation):
        parts.append(
            f"with d-1 zeros between taps in each band (dilation {_axes_text(g.dilation)})"
        )
    text = ", ".join(parts)
    if g.multichannel:
        grid = f"a {g.out_channels}x{g.in_channels} grid of channel blocks"
        if g.groups > 1:
            grid += f", block-diagonal over {g.groups} groups (zero blocks between groups)"
        text = f"{grid}; each block (co, ci) is {text}"
    if g.transposed:
        text = f"the conjugate transpose of a convolution matrix: {text}"
    return text[0].upper() + text[1:]


def _axis_counts(g: ConvGeometry, axis: int) -> np.ndarray:
    """On one axis, how many ``(o, t)`` land on each input index (after the boundary map)."""
    hits = g.source_table(axis)
    return np.bincount(hits[hits >= 0], minlength=g.spatial_in[axis])


def overlap_counts(op: object, *, channels: bool = False) -> np.ndarray:
    r"""How many (input position, tap) pairs of the transposed convolution hit each output pixel.

    The transposed convolution scatters ``w[t]·y[o]`` onto ``x̃[o·s + t·d]`` and folds the
    padding back, so output pixel ``i`` (an input pixel of the convolution) receives
    ``c[i] = #{(o, t) : P(o·s + t·d) = i}`` contributions.  These are the row sums of
    ``Aᵀ``'s pattern — the column sums of ``A``'s — counted with multiplicity (for the
    matrix of an all-ones kernel they are exactly the column sums, also when a reflect or
    circular boundary folds two taps of one output onto one pixel).  The count is separable:
    the outer product of the per-axis counts, each a ``bincount`` of the ``(m, k)`` table of
    source indices, so it is computed without the matrix.

    With a 3×3 kernel and stride 2 the counts alternate (1, 2 per axis: the checkerboard
    of Odena, Dumoulin & Olah, 2016); with a 4×4 kernel and stride 2 they are 2 per axis in
    the interior, fewer at zero-padded borders, and 2 everywhere with a circular boundary
    and ``lo + hi = k − s``.

    Parameters
    ----------
    op : ConvOperator or ConvGeometry
        The convolution or its transpose (the same counts).
    channels : bool
        ``False``: the spatial counts for one channel pair, shape ``spatial_in``.
        ``True``: shape ``(C_in, *spatial_in)`` for a multi-channel operator, the column
        sums of ``A``'s full pattern: each input channel receives from the
        ``C_out/groups`` output channels of its group, so the spatial counts times that.

    Returns
    -------
    ndarray of int64
    """
    g = geometry_of(op)
    validate_bool(channels, "channels")
    per_axis = [_axis_counts(g, a) for a in range(g.ndim)]
    counts = functools.reduce(np.multiply.outer, per_axis).astype(np.int64)
    if channels and g.multichannel:
        counts = np.broadcast_to(
            counts * (g.out_channels // g.groups), (g.in_channels, *counts.shape)
        ).copy()
    return counts
