"""The frequency-domain realisation: multiplication by the kernel spectrum.

On the FFT grid ``N`` (``geometry.fft_shape``, at least the padded extent per axis) the
cross-correlation of the padded input with the dilated kernel ``w_d`` is

    Ŷ(f) = Ĥ(f) · X̂(f),    Ĥ(f) = Σ_j w_d[j] · e^{+2πi f·j/N}

(for a real kernel Ĥ = conj(FFT(w_d))).  ``A`` is then: pad (boundary) → zero-pad to ``N``
→ DFT → × Ĥ → inverse DFT → keep ``o·s`` for ``o < m`` (crop and subsample).  ``A*`` runs
the chain backwards with conj(Ĥ): zero-insert ``y`` at ``o·s`` → DFT → × conj(Ĥ) →
inverse DFT → crop to the padded extent → fold the padding back.

For channels Ĥ is a ``C_out/groups × C_in/groups`` block per group and frequency; ``A``
multiplies each frequency's input channels by that block, ``A*`` by its conjugate
transpose.  Real data use ``rfftn``/``irfftn``; complex data the full transforms.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft

from .geometry import ConvGeometry
from .padding import fold, pad

__all__ = ["forward", "adjoint", "spectrum", "WORKERS"]

#: Threads for ``scipy.fft`` (``-1`` = all cores).
WORKERS = -1


def _axes(geometry: ConvGeometry) -> tuple[int, ...]:
    return tuple(range(-geometry.ndim, 0))


def spectrum(kernel: np.ndarray, geometry: ConvGeometry, real: bool) -> np.ndarray:
    """Ĥ on the FFT grid, shape ``(C_out, C_in/groups, *grid)``.

    ``real=True`` gives the half spectrum of ``rfftn`` (for a real kernel acting on real
    data), ``real=False`` the full spectrum.
    """
    grid = geometry.fft_shape
    wd = np.zeros(kernel.shape[:2] + grid, dtype=kernel.dtype)
    wd[(slice(None), slice(None)) + tuple(slice(0, e, d) for e, d in zip(geometry.span, geometry.dilation))] = kernel
    axes = _axes(geometry)
    if real:
        return np.conj(sfft.rfftn(wd, s=grid, axes=axes, workers=WORKERS))
    # Σ_j w[j] e^{+2πi f j / N} = conj(FFT(conj(w)))
    return np.conj(sfft.fftn(np.conj(wd), s=grid, axes=axes, workers=WORKERS))


def _mix_channels(h: np.ndarray, z: np.ndarray, geometry: ConvGeometry, adjoint: bool) -> np.ndarray:
    """Per frequency, multiply the channel vector by Ĥ's block (or its conjugate transpose)."""
    if geometry.in_channels == 1 and geometry.out_channels == 1:
        return z * (np.conj(h[0, 0]) if adjoint else h[0, 0])
    g = geometry.groups
    cout_g, cin_g = h.shape[:2]
    cout_g //= g
    freq = h.shape[2:]
    nf = int(np.prod(freq))
    batch = z.shape[0]
    blocks = h.reshape(g, cout_g, cin_g, nf).transpose(3, 0, 1, 2)  # (F, g, Co, Ci)
    if adjoint:
        blocks = np.conj(np.swapaxes(blocks, 2, 3))  # (F, g, Ci, Co)
    cin = blocks.shape[3]
    zz = z.reshape(batch, g, cin, nf).transpose(3, 1, 2, 0)  # (F, g, c, B)
    out = np.matmul(blocks, zz)  # (F, g, c', B)
    return out.transpose(3, 1, 2, 0).reshape((batch, g * blocks.shape[2]) + freq)


def _is_real(*arrays: np.ndarray) -> bool:
    return not any(np.iscomplexobj(a) for a in arrays)


def _cached_spectrum(kernel, geometry, real, cache):
    key = ("spectrum", real, kernel.dtype.str)
    if cache is None:
        return spectrum(kernel, geometry, real)
    if key not in cache:
        cache[key] = spectrum(kernel, geometry, real)
    return cache[key]


def forward(x: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``y = A x`` for ``x`` of shape ``(B, C_in, *n)``; the spectrum is kept in ``cache``."""
    real = _is_real(x, kernel)
    h = _cached_spectrum(kernel, geometry, real, cache)
    grid, axes = geometry.fft_shape, _axes(geometry)
    xp = pad(x, geometry)
    if real:
        z = sfft.irfftn(_mix_channels(h, sfft.rfftn(xp, s=grid, axes=axes, workers=WORKERS), geometry, False), s=grid, axes=axes, workers=WORKERS)
    else:
        z = sfft.ifftn(_mix_channels(h, sfft.fftn(xp, s=grid, axes=axes, workers=WORKERS), geometry, False), s=grid, axes=axes, workers=WORKERS)
    keep = tuple(slice(0, (m - 1) * s + 1, s) for m, s in zip(geometry.spatial_out, geometry.stride))
    dtype = np.result_type(x.dtype, kernel.dtype)
    return np.ascontiguousarray(z[(slice(None), slice(None)) + keep], dtype=dtype)


def adjoint(y: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``x = A* y`` for ``y`` of shape ``(B, C_out, *m)``; the spectrum is kept in ``cache``."""
    real = _is_real(y, kernel)
    h = _cached_spectrum(kernel, geometry, real, cache)
    grid, axes = geometry.fft_shape, _axes(geometry)
    dtype = np.result_type(y.dtype, kernel.dtype)
    z = np.zeros(y.shape[:2] + grid, dtype=dtype)
    keep = tuple(slice(0, (m - 1) * s + 1, s) for m, s in zip(geometry.spatial_out, geometry.stride))
    z[(slice(None), slice(None)) + keep] = y
    if real:
        xp = sfft.irfftn(_mix_channels(h, sfft.rfftn(z, s=grid, axes=axes, workers=WORKERS), geometry, True), s=grid, axes=axes, workers=WORKERS)
    else:
        xp = sfft.ifftn(_mix_channels(h, sfft.fftn(z, s=grid, axes=axes, workers=WORKERS), geometry, True), s=grid, axes=axes, workers=WORKERS)
    crop = tuple(slice(0, e) for e in geometry.padded_extent)
    return fold(np.asarray(xp[(slice(None), slice(None)) + crop], dtype=dtype), geometry)
