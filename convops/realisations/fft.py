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

What makes it fast (each exact, not an approximation):

* The multiplier is computed once per operator and kept in the
  :class:`~convops.realisations.contract.RealisationCache` shared by ``A`` and ``A*``
  (``fft_spectra``; ``A*`` keeps its conjugate beside it in ``fft_multipliers``, so neither
  direction conjugates per call).
* Zero boundary: the input is not padded at all.  It is placed at the grid's origin and
  the low padding ``lo`` moves into the multiplier instead (the dilated kernel sits at
  ``(t·d − lo) mod N``, i.e. Ĥ times the phase ``e^{−2πi f·lo/N}``).  The grid still holds
  no wrap-around the outputs read: the input reads ``x[o·s + t·d − lo]`` lie in
  ``[−lo, E − lo)``; the negative ones wrap to ``[N − lo, N)``, which is zero because only
  the first ``min(n, E − lo) <= N − lo`` entries of ``x`` (the ones that are read) are
  placed.  The adjoint then crops ``[0, n)`` directly: no pad and no fold.
* Pruned separable transforms: the last axis first (``rfft`` for real data), the other
  axes in place in one spectrum-sized work array, each pass only over the lines that
  hold data (never over the zero padding); the inverse runs first axes first and keeps
  only the lines of the output after each pass.
* Strides: where ``s`` divides the grid, ``A`` folds the spectrum onto ``N/s``
  frequencies and inverts there (only the kept outputs ``z[o·s]`` are computed) and
  ``A*`` replicates the length-``N/s`` spectrum of ``y`` instead of zero-inserting.
* ``next_fast_len`` grids (``geometry.fft_shape``), all cores for large grids
  (:func:`convops.realisations.workspace.transform_workers`: the ``fft_workers`` setting
  from :data:`~convops.realisations.workspace.FFT_THREADS_MIN_POINTS` points on), and every
  batch column and channel in one transform call; products are formed in place.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import scipy.fft as sfft

from ..geometry import ConvGeometry
from ..padding import fold as fold_padding
from ..padding import pad
from .contract import RealisationCache
from .workspace import Purpose, scratch, transform_workers

__all__ = [
    "adjoint",
    "dilated_kernel",
    "dilated_spectrum",
    "forward",
    "group_blocks",
    "mix_blocks",
    "spectrum",
]


def dilated_kernel(
    w: np.ndarray,
    dilation: Sequence[int],
    grid: Sequence[int],
    *,
    shift: Sequence[int] | None = None,
) -> np.ndarray:
    """The dilated kernel ``w_d`` on the grid ``N``, in ``w``'s own dtype.

    Tap ``t`` of the last ``len(grid)`` axes of ``w`` lands at ``(t·d − shift) mod N``; any
    leading axes (e.g. ``(C_out, C_in/groups)``) are kept.  Taps whose dilated position
    passes ``N`` wrap around and add up (the exponentials of :func:`dilated_spectrum` are
    ``N``-periodic), so any grid is allowed; callers that need ``N >= d·(k − 1) + 1``
    check it themselves.

    Parameters
    ----------
    w : ndarray
        ``(..., *k)``: the taps on the last ``len(grid)`` axes.
    dilation : sequence of int
        ``d >= 1`` per spatial axis.
    grid : sequence of int
        ``N`` per spatial axis.
    shift : sequence of int, optional
        One int per spatial axis (default 0): the kernel is moved ``shift`` positions back.

    Returns
    -------
    ndarray
        ``(..., *N)``, dtype of ``w``.
    """
    D = len(grid)
    shift = (0,) * D if shift is None else tuple(shift)
    ksize = w.shape[w.ndim - D :]
    wd = np.zeros(w.shape[: w.ndim - D] + tuple(grid), dtype=w.dtype)
    if all(d * (k - 1) < n for d, k, n in zip(dilation, ksize, grid, strict=True)):
        # distinct grid points: one assignment
        where = np.ix_(
            *[
                (np.arange(k) * d - sh) % n
                for k, d, sh, n in zip(ksize, dilation, shift, grid, strict=True)
            ]
        )
        wd[(Ellipsis,) + where] = w
    else:  # aliasing: several taps share a grid point
        for t in np.ndindex(*ksize):
            at = tuple(
                (ti * d - sh) % n for ti, d, sh, n in zip(t, dilation, shift, grid, strict=True)
            )
            wd[(Ellipsis,) + at] += w[(Ellipsis,) + t]
    return wd


def dilated_spectrum(
    w: np.ndarray,
    dilation: Sequence[int],
    grid: Sequence[int],
    *,
    shift: Sequence[int] | None = None,
    real: bool = False,
) -> np.ndarray:
    r"""The spectrum of the dilated kernel on the grid ``N``: the forward multiplier Ĥ.

    .. math:: \hat H(f) = \sum_t w[\ldots, t]\, e^{+2\pi i\, f\cdot(t d - \mathrm{shift})/N}

    over the last ``len(grid)`` axes of ``w`` (leading axes, e.g. ``(C_out, C_in/groups)``,
    are kept).  The circular cross-correlation ``y[o] = Σ_t w[t]·x[(o + t·d − shift) mod N]``
    is then ``Ŷ = Ĥ·X̂``.  Taps whose dilated position passes ``N`` wrap around and add up
    (see :func:`dilated_kernel`).  For a real kernel Ĥ = conj(FFT(w_d)).

    The transform runs in ``w``'s precision (complex64 for a float32 or complex64 ``w``,
    complex128 for float64); cast ``w`` first for another one.

    Parameters
    ----------
    w, dilation, grid
        As for :func:`dilated_kernel`: the taps ``(..., *k)``, ``d`` and ``N`` per axis.
    shift : sequence of int, optional
        One int per spatial axis (default 0): Ĥ times the phase ``e^{−2πi f·shift/N}``,
        i.e. the dilated kernel placed at ``(t·d − shift) mod N``.
    real : bool
        ``True``: the half spectrum of ``rfftn`` (last axis ``N // 2 + 1``), for a real
        ``w`` acting on real data; ``False``: the full spectrum.

    Returns
    -------
    ndarray, complex
        ``(..., *N)`` (the last axis ``N // 2 + 1`` when ``real``).
    """
    if real and np.iscomplexobj(w):
        raise ValueError("dilated_spectrum(real=True) needs a real kernel")
    wd = dilated_kernel(w, dilation, grid, shift=shift)
    axes = tuple(range(-len(grid), 0))
    workers = transform_workers(wd.size)
    if real:
        return np.conj(sfft.rfftn(wd, s=tuple(grid), axes=axes, workers=workers))
    # Σ_j w_d[j] e^{+2πi f j / N} is N times the inverse DFT: ifftn with norm="forward"
    return sfft.ifftn(wd, s=tuple(grid), axes=axes, norm="forward", workers=workers)


def spectrum(
    kernel: np.ndarray,
    geometry: ConvGeometry,
    real: bool,
    shift: Sequence[int] | None = None,
) -> np.ndarray:
    """Ĥ on the FFT grid, shape ``(C_out, C_in/groups, *grid)``.

    ``real=True`` gives the half spectrum of ``rfftn`` (for a real kernel acting on real
    data), ``real=False`` the full spectrum.  ``shift`` (one int per axis, default 0) gives
    the spectrum of the correlation with the input shifted by ``shift``:
    ``Ĥ(f) · e^{−2πi f·shift/N}``, i.e. the dilated kernel placed at ``(t·d − shift) mod N``.
    This is :func:`dilated_spectrum` of the geometry's canonical kernel on
    ``geometry.fft_shape``.
    """
    return dilated_spectrum(kernel, geometry.dilation, geometry.fft_shape, shift=shift, real=real)


def group_blocks(h: np.ndarray, groups: int, adjoint: bool) -> np.ndarray:
    """Ĥ as one contiguous block per frequency and group.

    Parameters
    ----------
    h : ndarray
        ``(C_out, C_in/groups, *F)``: the kernel spectrum.
    groups : int
        ``G``, dividing ``C_out``.
    adjoint : bool
        ``False``: the blocks ``Ĥ_g(f)``, ``(F, G, C_out/G, C_in/G)``; ``True``: their
        conjugate transposes ``Ĥ_g(f)ᴴ``, ``(F, G, C_in/G, C_out/G)``.

    Returns
    -------
    ndarray
        C-contiguous, ``F = Π F_a`` frequencies first.
    """
    cout_g = h.shape[0] // groups
    cin_g = h.shape[1]
    nf = int(np.prod(h.shape[2:]))
    blocks = h.reshape(groups, cout_g, cin_g, nf).transpose(3, 0, 1, 2)  # (F, g, Co, Ci)
    if adjoint:
        blocks = np.conj(np.swapaxes(blocks, 2, 3))  # (F, g, Ci, Co)
    return np.ascontiguousarray(blocks)


def mix_blocks(blocks: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Per frequency and group, the block times the group's channel vector.

    ``out[b, g·c' + i, f] = Σ_j blocks[f, g, i, j] · z[b, g·c + j, f]``.

    Parameters
    ----------
    blocks : ndarray
        ``(F, G, c', c)`` (from :func:`group_blocks`).
    z : ndarray
        ``(B, G·c, *F)`` with ``Π F = F``.

    Returns
    -------
    ndarray
        ``(B, G·c', *F)``.
    """
    nf, g, c_out, c_in = blocks.shape
    batch = z.shape[0]
    freq = z.shape[2:]
    zz = z.reshape(batch, g, c_in, nf).transpose(3, 1, 2, 0)  # (F, g, c, B)
    out = np.matmul(blocks, zz)  # (F, g, c', B)
    return out.transpose(3, 1, 2, 0).reshape((batch, g * c_out, *freq))


def _is_real(*arrays: np.ndarray) -> bool:
    return not any(np.iscomplexobj(a) for a in arrays)


def _plan(geometry: ConvGeometry, real: bool) -> tuple[tuple[bool, ...], int]:
    """Which axes fold/replicate in frequency (stride > 1 dividing the grid), and ``Π s``.

    The last axis of a real transform never does: its half spectrum lacks the negative
    frequencies that folding and replication need.
    """
    D = geometry.ndim
    fold = tuple(
        s > 1 and N % s == 0 and (not real or a < D - 1)
        for a, (s, N) in enumerate(zip(geometry.stride, geometry.fft_shape, strict=True))
    )
    scale = int(
        np.prod([s for s, f in zip(geometry.stride, fold, strict=True) if f], dtype=np.int64)
    )
    return fold, scale


def _multiplier(
    kernel: np.ndarray,
    geometry: ConvGeometry,
    real: bool,
    shift: tuple[int, ...],
    adjoint: bool,
    cache: RealisationCache,
) -> np.ndarray:
    """The cached multiplier of one direction: Ĥ (single channel ``(1, 1, *F)``) or its blocks.

    Ĥ itself is computed once (:func:`spectrum`, kept in ``cache.fft_spectra``); the
    adjoint's conjugate is derived from it.  The forward multiplier carries the ``1/Π s``
    of the folded axes (see :func:`forward`).
    """
    base = (real, kernel.dtype.str, shift)
    if base not in cache.fft_spectra:
        cache.fft_spectra[base] = spectrum(kernel, geometry, real, shift)
    key = (*base, adjoint)
    if key not in cache.fft_multipliers:
        h = cache.fft_spectra[base]
        _, scale = _plan(geometry, real)
        if not adjoint and scale != 1:
            h = h / scale
        if geometry.in_channels == 1 and geometry.out_channels == 1:
            h = np.conj(h) if adjoint else h
        else:
            h = group_blocks(h, geometry.groups, adjoint)
        cache.fft_multipliers[key] = h
    return cache.fft_multipliers[key]


def _read_extent(geometry: ConvGeometry) -> tuple[int, ...]:
    """Zero boundary: how many leading input entries are ever read, per axis."""
    return tuple(
        min(n, e - lo)
        for n, e, (lo, _) in zip(
            geometry.spatial_in, geometry.padded_extent, geometry.padding, strict=True
        )
    )


def _fft_inplace(view: np.ndarray, axis: int, inverse: bool) -> None:
    """A complex DFT along ``axis`` written back into ``view`` (any strides)."""
    res = (sfft.ifft if inverse else sfft.fft)(
        view, axis=axis, workers=transform_workers(view.size), overwrite_x=True
    )
    same = res.ctypes.data == view.ctypes.data and res.strides == view.strides
    if not same:  # scipy.fft wrote into a copy (it normally writes in place)
        view[...] = res


def _transform(src: np.ndarray, lengths, real: bool) -> np.ndarray:
    """The DFT over the spatial axes, each zero-padded to ``lengths``, axis by axis.

    The last axis goes first (``rfft`` for real data) into a new array; the result is
    placed in a spectrum-sized work array (reused across calls, see
    :func:`convops.realisations.workspace.scratch`) once and the other axes are transformed in place,
    each pass only over the lines that hold data so far (a pruned ``rfftn``: the lines of
    pure zero padding are never transformed, and no padded copy is made per axis).
    """
    D = len(lengths)
    R = (sfft.rfft if real else sfft.fft)(
        src, n=lengths[-1], axis=-1, workers=transform_workers(src.size)
    )
    if D == 1:
        return R
    L = R.shape[R.ndim - D : -1]
    if tuple(L) == tuple(lengths[:-1]):
        Z = R
    else:
        # a reused buffer: a fresh spectrum-sized array costs its page faults on every call
        Z = scratch(
            Purpose.SPECTRUM, R.shape[: R.ndim - D] + tuple(lengths[:-1]) + R.shape[-1:], R.dtype
        )
        Z[(Ellipsis,) + tuple(slice(0, l) for l in L) + (slice(None),)] = R
    for a in range(D - 2, -1, -1):
        view = Z[(Ellipsis,) + tuple(slice(0, l) for l in L[:a]) + (slice(None),) * (D - a)]
        if L[a] < lengths[a]:
            view[(Ellipsis, slice(L[a], None)) + (slice(None),) * (D - 1 - a)] = 0
        _fft_inplace(view, a - D, inverse=False)
    return Z


def _inverse(Z: np.ndarray, keep, fold, strides, last_length: int, real: bool) -> np.ndarray:
    """The inverse DFT over the spatial axes, keeping only ``keep[a]`` (slices) per axis.

    First axes first, in place: each pass runs only over the lines later passes keep.
    A folded axis keeps ``z[o·s]`` by inverting the spectrum folded onto ``N/s``
    frequencies (its ``1/s`` is already in the multiplier).
    """
    D = len(keep)
    for a in range(D - 1 if real else D):
        pos = Z.ndim - D + a
        if fold[a]:
            Z = Z.reshape(
                Z.shape[:pos] + (strides[a], Z.shape[pos] // strides[a]) + Z.shape[pos + 1 :]
            ).sum(axis=pos)
            _fft_inplace(Z, a - D, inverse=True)
            Z = Z[
                (Ellipsis, slice(0, -(-keep[a].stop // strides[a]))) + (slice(None),) * (D - 1 - a)
            ]
        else:
            _fft_inplace(Z, a - D, inverse=True)
            Z = Z[(Ellipsis, keep[a]) + (slice(None),) * (D - 1 - a)]
    if real:
        Z = sfft.irfft(Z, n=last_length, axis=-1, workers=transform_workers(Z.size))[..., keep[-1]]
    return Z


def _split_shapes(spatial, fold, strides):
    """Shapes that broadcast a replicated axis: ``(1, L)`` for the data, ``(s, L)`` for Ĥ."""
    data, mult = [], []
    for L, f, s in zip(spatial, fold, strides, strict=True):
        data += [1, L] if f else [L]
        mult += [s, L] if f else [L]
    return tuple(data), tuple(mult)


def _all_finite(a: np.ndarray) -> bool:
    # one cheap reduction decides almost always: NaN and inf survive a sum; a non-finite
    # sum of finite values (overflow) is settled by the exact, slower test
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(a)):
            return True
    return bool(np.isfinite(a).all())


def _warn_if_non_finite(data: np.ndarray, kernel: np.ndarray) -> None:
    """Warn that one non-finite value spreads over every output of the FFT realisation."""
    for what, a in (("input", data), ("kernel", kernel)):
        if not _all_finite(a):
            warnings.warn(
                f"the {what} holds non-finite values (NaN or inf): the FFT realisation mixes "
                "every value into every frequency, so every output becomes NaN; use "
                "method='direct' (or 'matrix') to keep them where the linear algebra puts them",
                RuntimeWarning,
                stacklevel=4,
            )
            return


def forward(
    x: np.ndarray,
    kernel: np.ndarray,
    geometry: ConvGeometry,
    cache: RealisationCache | None = None,
) -> np.ndarray:
    """``y = A x`` for ``x`` of shape ``(B, C_in, *n)``; the multiplier is kept in ``cache``.

    With stride ``s`` dividing the grid ``N`` on an axis, only the kept outputs ``z[o·s]``
    are inverted: they are the length-``N/s`` inverse DFT of the spectrum folded onto
    ``N/s`` frequencies, ``Σ_j Z(f + j·N/s) / s`` (aliasing), which costs ``1/s`` of the
    inverse transform on that axis.
    """
    cache = RealisationCache() if cache is None else cache
    _warn_if_non_finite(x, kernel)
    real = _is_real(x, kernel)
    grid, D = geometry.fft_shape, geometry.ndim
    dtype = np.result_type(x.dtype, kernel.dtype)
    m, st = geometry.spatial_out, geometry.stride
    if geometry.boundary == "zeros":
        used = _read_extent(geometry)
        if min(used) <= 0:  # every output reads only zero padding
            return np.zeros((x.shape[0], geometry.out_channels) + m, dtype=dtype)
        src = x[(slice(None), slice(None)) + tuple(slice(0, u) for u in used)]
        shift = tuple(lo for lo, _ in geometry.padding)
    else:
        src, shift = pad(x, geometry), (0,) * D
    mult = _multiplier(kernel, geometry, real, shift, False, cache)
    fold, _ = _plan(geometry, real)
    Z = _transform(src, grid, real)
    if geometry.in_channels == 1 and geometry.out_channels == 1:
        Z = np.multiply(Z, mult, out=Z) if np.result_type(Z, mult) == Z.dtype else Z * mult
    else:
        Z = mix_blocks(mult, Z)
    keep = tuple(slice(0, (mi - 1) * si + 1, si) for mi, si in zip(m, st, strict=True))
    Z = _inverse(Z, keep, fold, st, grid[-1], real)
    # a complex result may still be a view of the reused work array: always copy it out
    return np.ascontiguousarray(Z, dtype=dtype) if real else np.array(Z, dtype=dtype, copy=True)


def adjoint(
    y: np.ndarray,
    kernel: np.ndarray,
    geometry: ConvGeometry,
    cache: RealisationCache | None = None,
) -> np.ndarray:
    """``x = A* y`` for ``y`` of shape ``(B, C_out, *m)``; the multiplier is kept in ``cache``.

    With stride ``s`` dividing the grid ``N`` on an axis, the zero insertion is not done:
    the DFT of ``y`` zero-inserted at ``o·s`` is the length-``N/s`` DFT of ``y`` repeated
    ``s`` times (spectral replication), which costs ``1/s`` of that transform.
    """
    cache = RealisationCache() if cache is None else cache
    _warn_if_non_finite(y, kernel)
    real = _is_real(y, kernel)
    grid, D = geometry.fft_shape, geometry.ndim
    dtype = np.result_type(y.dtype, kernel.dtype)
    lead = (slice(None), slice(None))
    n, m, st = geometry.spatial_in, geometry.spatial_out, geometry.stride
    zeros = geometry.boundary == "zeros"
    if zeros:
        used = _read_extent(geometry)
        if min(used) <= 0:
            return np.zeros((y.shape[0], geometry.in_channels) + n, dtype=dtype)
        shift, keep = tuple(lo for lo, _ in geometry.padding), used
    else:
        shift, keep = (0,) * D, geometry.padded_extent
    mult = _multiplier(kernel, geometry, real, shift, True, cache)
    fold, _ = _plan(geometry, real)
    insert = [s > 1 and not f for s, f in zip(st, fold, strict=True)]
    if any(insert):
        # zero insertion only on the axes that cannot replicate in frequency
        z = np.zeros(
            y.shape[:2]
            + tuple(
                (mi - 1) * s + 1 if ins else mi for mi, s, ins in zip(m, st, insert, strict=True)
            ),
            dtype=y.dtype,
        )
        z[
            lead
            + tuple(
                slice(None, None, s) if ins else slice(None)
                for s, ins in zip(st, insert, strict=True)
            )
        ] = y
    else:
        z = y
    lengths = tuple(N // s if f else N for N, s, f in zip(grid, st, fold, strict=True))
    Y = _transform(z, lengths, real)
    single = geometry.in_channels == 1 and geometry.out_channels == 1
    if any(fold):
        # replicate: Ŷ_N(f) = Ŷ_{N/s}(f mod N/s), broadcast against Ĥ split as (s, N/s)
        data_shape, mult_shape = _split_shapes(Y.shape[2:], fold, st)
        full = Y.shape[:2] + tuple(
            L * s if f else L for L, s, f in zip(Y.shape[2:], st, fold, strict=True)
        )
        Yr = Y.reshape(Y.shape[:2] + data_shape)
        if single:
            Y = (mult.reshape((1, 1) + mult_shape) * Yr).reshape(full)
        else:
            Y = mix_blocks(mult, np.broadcast_to(Yr, Y.shape[:2] + mult_shape).reshape(full))
    elif single:
        Y = np.multiply(Y, mult, out=Y) if np.result_type(Y, mult) == Y.dtype else Y * mult
    else:
        Y = mix_blocks(mult, Y)
    Y = _inverse(Y, tuple(slice(0, k) for k in keep), (False,) * D, st, grid[-1], real)
    if not real:
        Y = Y.copy()  # it may still be a view of the reused work array
    if not zeros:
        return fold_padding(Y, geometry, overwrite=True).astype(dtype, copy=False)
    if tuple(used) == tuple(n):
        return np.ascontiguousarray(Y, dtype=dtype)
    out = np.zeros(y.shape[:1] + (geometry.in_channels,) + n, dtype=dtype)  # unread tail: 0
    out[lead + tuple(slice(0, u) for u in used)] = Y
    return out
