"""The direct (spatial) realisation: the sliding window.

``A`` gathers: each output is the inner product of the kernel with the window of the
padded input it covers.  ``A*`` scatters: each value of ``y`` times the (conjugated)
kernel is laid onto the padded input grid, then the padding is folded back
(:func:`convops.padding.fold`).

Arrays are ``(B, C, *spatial)``; ``cache`` is unused (the signature is shared with the
other realisations, which keep a spectrum or a matrix there); the kernel is the geometry's canonical
``(C_out, C_in/groups, *k)`` array with ``flip`` applied.

Single-channel: a loop over the ``prod(k)`` kernel taps, each a strided view of the whole
image (no per-pixel Python).  Channels: im2col (all taps of all input channels of a group
stacked) and one batched GEMM over the groups, chunked over the batch so the gathered
columns stay within :data:`IM2COL_BUDGET_BYTES`.
"""

from __future__ import annotations

import numpy as np

from .geometry import ConvGeometry
from .padding import fold, pad

__all__ = ["forward", "adjoint", "IM2COL_BUDGET_BYTES"]

#: Largest im2col buffer (bytes) built at once; larger batches are processed in chunks.
IM2COL_BUDGET_BYTES = 256 * 2**20


def _single_channel(geometry: ConvGeometry) -> bool:
    return geometry.in_channels == 1 and geometry.out_channels == 1


def _batch_chunks(batch: int, bytes_per_item: int):
    step = max(1, IM2COL_BUDGET_BYTES // max(bytes_per_item, 1))
    for start in range(0, batch, step):
        yield slice(start, min(start + step, batch))


def forward(x: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``y = A x`` for ``x`` of shape ``(B, C_in, *n)``; returns ``(B, C_out, *m)``."""
    xp = pad(x, geometry)
    batch = x.shape[0]
    m = geometry.spatial_out
    dtype = np.result_type(x.dtype, kernel.dtype)
    if _single_channel(geometry):
        w = kernel[0, 0]
        y = np.zeros((batch, 1) + m, dtype=dtype)
        tmp = np.empty_like(y)
        for t, sl in geometry.tap_slices():
            np.multiply(xp[(slice(None), slice(None)) + sl], w[t], out=tmp)
            y += tmp
        return y

    g = geometry.groups
    cin_g = geometry.in_channels // g
    cout_g = geometry.out_channels // g
    ntaps = int(np.prod(geometry.kernel_size))
    npix = int(np.prod(m))
    w = kernel.reshape(g, cout_g, cin_g * ntaps)
    y = np.empty((batch, g, cout_g, npix), dtype=dtype)
    for chunk in _batch_chunks(batch, cin_g * g * ntaps * npix * dtype.itemsize):
        xc = xp[chunk]
        nb = xc.shape[0]
        cols = np.empty((nb, g, cin_g, ntaps) + m, dtype=dtype)
        for i, (_, sl) in enumerate(geometry.tap_slices()):
            cols[:, :, :, i] = xc[(slice(None), slice(None)) + sl].reshape((nb, g, cin_g) + m)
        y[chunk] = np.matmul(w, cols.reshape(nb, g, cin_g * ntaps, npix))
    return y.reshape((batch, geometry.out_channels) + m)


def adjoint(y: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``x = A* y`` for ``y`` of shape ``(B, C_out, *m)``; returns ``(B, C_in, *n)``."""
    batch = y.shape[0]
    m = geometry.spatial_out
    dtype = np.result_type(y.dtype, kernel.dtype)
    wc = kernel.conj() if np.iscomplexobj(kernel) else kernel
    xp = np.zeros((batch, geometry.in_channels) + geometry.padded_extent, dtype=dtype)
    if _single_channel(geometry):
        w = wc[0, 0]
        tmp = np.empty((batch, 1) + m, dtype=dtype)
        for t, sl in geometry.tap_slices():
            np.multiply(y, w[t], out=tmp)
            xp[(slice(None), slice(None)) + sl] += tmp
        return fold(xp, geometry)

    g = geometry.groups
    cin_g = geometry.in_channels // g
    cout_g = geometry.out_channels // g
    ntaps = int(np.prod(geometry.kernel_size))
    npix = int(np.prod(m))
    wh = np.swapaxes(wc.reshape(g, cout_g, cin_g * ntaps), 1, 2)  # (g, cin_g·K, cout_g)
    yr = y.reshape(batch, g, cout_g, npix)
    for chunk in _batch_chunks(batch, cin_g * g * ntaps * npix * dtype.itemsize):
        cols = np.matmul(wh, yr[chunk])  # (nb, g, cin_g·K, M)
        nb = cols.shape[0]
        cols = cols.reshape((nb, geometry.in_channels, ntaps) + m)
        xc = xp[chunk]
        for i, (_, sl) in enumerate(geometry.tap_slices()):
            xc[(slice(None), slice(None)) + sl] += cols[:, :, i]
    return fold(xp, geometry)
