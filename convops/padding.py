"""The boundary padding map ``P`` and its transpose (the fold).

``P`` takes the input ``x`` of spatial size ``n`` to the part ``x̃`` of the padded input
that the output reads (``geometry.padded_extent``).  Its transpose adds every padded
entry back onto the input entry it was read from: for ``"zeros"`` that is a crop, for
``"circular"``, ``"reflect"`` and ``"replicate"`` the border is folded back onto the
wrapped, mirrored or edge entries.  Both realisations of the sliding window (direct and
fft) use this pair, so the adjoint of a non-zero boundary is exact in both.
"""

from __future__ import annotations

import numpy as np

from .geometry import ConvGeometry

__all__ = ["pad", "fold"]

_NUMPY_MODE = {"zeros": "constant", "circular": "wrap", "reflect": "reflect", "replicate": "edge"}


def pad(x: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """Apply ``P``: ``(B, C, *n)`` → ``(B, C, *padded_extent)``."""
    widths = [(0, 0), (0, 0)]
    crop = [slice(None), slice(None)]
    for (lo, _), n, ext in zip(geometry.padding, geometry.spatial_in, geometry.padded_extent):
        widths.append((lo, max(ext - lo - n, 0)))
        crop.append(slice(0, ext))
    if all(w == (0, 0) for w in widths):
        return x[tuple(crop)]
    return np.pad(x, widths, mode=_NUMPY_MODE[geometry.boundary])[tuple(crop)]


def fold(xp: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """Apply ``Pᵀ``: ``(B, C, *padded_extent)`` → ``(B, C, *n)``, summing folded entries."""
    out = xp
    for axis in range(geometry.ndim):
        ax = axis + 2
        n, ext = geometry.spatial_in[axis], geometry.padded_extent[axis]
        lo = geometry.padding[axis][0]
        moved = np.moveaxis(out, ax, 0)
        folded = np.zeros((n,) + moved.shape[1:], dtype=out.dtype)
        end = min(lo + n, ext)
        if end > lo:
            folded[: end - lo] = moved[lo:end]
        if geometry.boundary != "zeros":
            border = np.concatenate([np.arange(0, min(lo, ext)), np.arange(lo + n, ext)])
            if border.size:
                src = geometry.pad_source_index(axis)[border]
                # the border is at most a few kernel widths: add.at on it is cheap
                np.add.at(folded, src, moved[border])
        out = np.moveaxis(folded, 0, ax)
    return out
