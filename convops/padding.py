"""The boundary padding map ``P`` and its transpose (the fold).

``P`` takes the input ``x`` of spatial size ``n`` to the part ``x̃`` of the padded input
that the output reads (``geometry.padded_extent``).  Its transpose adds every padded
entry back onto the input entry it was read from: for ``"zeros"`` that is a crop, for
``"circular"``, ``"reflect"`` and ``"replicate"`` the border is folded back onto the
wrapped, mirrored or edge entries.  Both realisations of the sliding window (direct and
fft) use this pair, so the adjoint of a non-zero boundary is exact in both.

Both maps cost one copy of the interior plus work on the border (a few kernel widths):
``pad`` copies ``x`` once into the padded buffer and fills the border from it, axis by
axis; ``fold`` adds the border back onto the interior, axis by axis, and copies the
interior out once.  (``numpy.pad`` followed by a crop, and a fold through fresh arrays per
axis, each made one full copy per axis.)
"""

from __future__ import annotations

import numpy as np

from .geometry import ConvGeometry

__all__ = ["fold", "pad"]


def _lead(axis: int, index: object) -> tuple:
    """An index tuple for arrays ``(B, C, *spatial)`` that applies ``index`` on ``axis``."""
    return (slice(None),) * (2 + axis) + (index,)


def _fits(geometry: ConvGeometry) -> bool:
    """Whether the whole input lies inside the padded extent on every axis."""
    return all(
        lo + n <= ext
        for (lo, _), n, ext in zip(
            geometry.padding, geometry.spatial_in, geometry.padded_extent, strict=True
        )
    )


def pad(x: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """Apply ``P``: ``(B, C, *n)`` → ``(B, C, *padded_extent)``.

    The border entry at padded index ``p`` on an axis takes the value of input entry
    ``q = geometry.pad_source_index(axis)[p]`` (zero where ``q = -1``).  When no padded
    entry is read the result is a view of ``x`` (treat it as read-only).
    """
    D = geometry.ndim
    ext = geometry.padded_extent
    lows = [lo for lo, _ in geometry.padding]
    if not any(lows) and all(e <= n for e, n in zip(ext, geometry.spatial_in, strict=True)):
        return x[(slice(None), slice(None)) + tuple(slice(0, e) for e in ext)]
    if not _fits(geometry):
        # part of the input is never read (or the padding exceeds the extent): gather per
        # axis through the source index, which handles every case
        out = x
        for a in range(D):
            src = geometry.pad_source_index(a)
            taken = np.take(out, np.maximum(src, 0), axis=2 + a)
            if (src < 0).any():
                taken[_lead(a, src < 0)] = 0
            out = taken
        return np.ascontiguousarray(out)
    zeros = geometry.boundary == "zeros"
    out = (np.zeros if zeros else np.empty)(x.shape[:2] + ext, dtype=x.dtype)
    out[
        (slice(None), slice(None))
        + tuple(slice(lo, lo + n) for lo, n in zip(lows, geometry.spatial_in, strict=True))
    ] = x
    if zeros:
        return out
    # fill the border axis by axis from the interior already in place (as numpy.pad does):
    # once axis a is filled, its border rows carry the right values into later axes
    for a in range(D):
        lo, n = lows[a], geometry.spatial_in[a]
        border = np.concatenate([np.arange(0, lo), np.arange(lo + n, ext[a])])
        if border.size:
            src = geometry.pad_source_index(a)[border] + lo
            out[_lead(a, border)] = out[_lead(a, src)]
    return out


def fold(xp: np.ndarray, geometry: ConvGeometry, overwrite: bool = False) -> np.ndarray:
    """Apply ``Pᵀ``: ``(B, C, *padded_extent)`` → ``(B, C, *n)``, summing folded entries.

    With ``overwrite=True`` the border sums are accumulated inside ``xp`` (which is then
    garbage); otherwise ``xp`` is left untouched.
    """
    D = geometry.ndim
    ext = geometry.padded_extent
    n_all = geometry.spatial_in
    lows = [lo for lo, _ in geometry.padding]
    if geometry.boundary == "zeros":
        out = np.zeros(xp.shape[:2] + n_all, dtype=xp.dtype)
        dst, src = [], []
        for lo, n, e in zip(lows, n_all, ext, strict=True):
            end = max(min(lo + n, e), lo)
            dst.append(slice(0, end - lo))
            src.append(slice(lo, end))
        if all(s.stop > s.start for s in src):
            out[(slice(None), slice(None)) + tuple(dst)] = xp[
                (slice(None), slice(None)) + tuple(src)
            ]
        return out
    if not _fits(geometry):
        # general case: per axis, scatter-add every padded position onto its source
        out = xp
        for a in range(D):
            srcs = geometry.pad_source_index(a)
            moved = np.moveaxis(out, 2 + a, 0)
            folded = np.zeros((n_all[a],) + moved.shape[1:], dtype=xp.dtype)
            keep = srcs >= 0
            np.add.at(folded, srcs[keep], moved[keep])
            out = np.moveaxis(folded, 0, 2 + a)
        return np.ascontiguousarray(out)
    work = xp if overwrite else xp.copy()
    # axis by axis: add each border slab onto the interior slab it was read from (the border
    # is a few kernel widths, so a loop over its positions is short); the interior view of
    # this axis then carries the folded values into the next axes
    view = work
    for a in range(D):
        lo, n = lows[a], n_all[a]
        srcs = geometry.pad_source_index(a)
        for p in list(range(0, lo)) + list(range(lo + n, ext[a])):
            target = view[_lead(a, lo + srcs[p])]
            np.add(target, view[_lead(a, p)], out=target)
        view = view[_lead(a, slice(lo, lo + n))]
    return np.ascontiguousarray(view)
