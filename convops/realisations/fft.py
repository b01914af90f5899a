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

* The multiplier is computed once per operator and kept in the ``cache`` shared by ``A``
  and ``A*`` (``A*`` keeps its conjugate beside it, so neither direction conjugates per
  call).
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
  (:data:`WORKERS`, :data:`THREADS_MIN_POINTS`), and every batch column and channel in
  one transform call; products are formed in place.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft

from .direct import _scratch
from ..geometry import ConvGeometry
from ..padding import fold as fold_padding
from ..padding import pad

__all__ = ["forward", "adjoint", "spectrum", "WORKERS"]

#: Threads for ``scipy.fft`` (``-1`` = all cores).
WORKERS = -1

#: Transforms of fewer points than this run on one thread: starting the workers costs
#: more than they save (a 270² grid takes 0.7 ms on one thread, 1.2 ms with two).
THREADS_MIN_POINTS = 1 << 18


def _workers(array: np.ndarray) -> int:
    return WORKERS if array.size >= THREADS_MIN_POINTS else 1


def _axes(geometry: ConvGeometry) -> tuple[int, ...]:
    return tuple(range(-geometry.ndim, 0))


def spectrum(kernel: np.ndarray, geometry: ConvGeometry, real: bool, shift=None) -> np.ndarray:
    """Ĥ on the FFT grid, shape ``(C_out, C_in/groups, *grid)``.

    ``real=True`` gives the half spectrum of ``rfftn`` (for a real kernel acting on real
    data), ``real=False`` the full spectrum.  ``shift`` (one int per axis, default 0) gives
    the spectrum of the correlation with the input shifted by ``shift``:
    ``Ĥ(f) · e^{−2πi f·shift/N}``, i.e. the dilated kernel placed at ``(t·d − shift) mod N``.
    """
    grid = geometry.fft_shape
    shift = (0,) * geometry.ndim if shift is None else tuple(shift)
    wd = np.zeros(kernel.shape[:2] + grid, dtype=kernel.dtype)
    where = np.ix_(*[(np.arange(k) * d - sh) % N for k, d, sh, N in zip(geometry.kernel_size, geometry.dilation, shift, grid)])
    wd[(slice(None), slice(None)) + where] = kernel
    axes = _axes(geometry)
    if real:
        return np.conj(sfft.rfftn(wd, s=grid, axes=axes, workers=WORKERS))
    # Σ_j w[j] e^{+2πi f j / N} = conj(FFT(conj(w)))
    return np.conj(sfft.fftn(np.conj(wd), s=grid, axes=axes, workers=WORKERS))


def _mix_channels(h: np.ndarray, z: np.ndarray, geometry: ConvGeometry, adjoint: bool) -> np.ndarray:
    """Per frequency, multiply the channel vector by Ĥ's block (or its conjugate transpose).

    ``h`` is ``(C_out, C_in/groups, *F)``, ``z`` is ``(B, C, *F)``; ``geometry`` needs only
    ``in_channels``, ``out_channels`` and ``groups``.
    """
    if geometry.in_channels == 1 and geometry.out_channels == 1:
        return z * (np.conj(h[0, 0]) if adjoint else h[0, 0])
    return _mix_blocks(_blocks(h, geometry.groups, adjoint), z)


def _blocks(h: np.ndarray, groups: int, adjoint: bool) -> np.ndarray:
    """Ĥ as one contiguous block per frequency and group: ``(F, g, C_out', C_in')``."""
    cout_g = h.shape[0] // groups
    cin_g = h.shape[1]
    nf = int(np.prod(h.shape[2:]))
    blocks = h.reshape(groups, cout_g, cin_g, nf).transpose(3, 0, 1, 2)  # (F, g, Co, Ci)
    if adjoint:
        blocks = np.conj(np.swapaxes(blocks, 2, 3))  # (F, g, Ci, Co)
    return np.ascontiguousarray(blocks)


def _mix_blocks(blocks: np.ndarray, z: np.ndarray) -> np.ndarray:
    nf, g, c_out, c_in = blocks.shape
    batch = z.shape[0]
    freq = z.shape[2:]
    zz = z.reshape(batch, g, c_in, nf).transpose(3, 1, 2, 0)  # (F, g, c, B)
    out = np.matmul(blocks, zz)  # (F, g, c', B)
    return out.transpose(3, 1, 2, 0).reshape((batch, g * c_out) + freq)


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
        for a, (s, N) in enumerate(zip(geometry.stride, geometry.fft_shape))
    )
    scale = int(np.prod([s for s, f in zip(geometry.stride, fold) if f], dtype=np.int64))
    return fold, scale


def _multiplier(kernel, geometry, real, shift, adjoint, cache):
    """The cached multiplier of one direction: Ĥ (single channel ``(1, 1, *F)``) or its blocks.

    Ĥ itself is computed once (:func:`spectrum`); the adjoint's conjugate is derived from
    it.  The forward multiplier carries the ``1/Π s`` of the folded axes (see :func:`forward`).
    """
    cache = {} if cache is None else cache
    base = ("fft-spectrum", real, kernel.dtype.str, shift)
    if base not in cache:
        cache[base] = spectrum(kernel, geometry, real, shift)
    key = base + ("adjoint" if adjoint else "forward",)
    if key not in cache:
        h = cache[base]
        _, scale = _plan(geometry, real)
        if not adjoint and scale != 1:
            h = h / scale
        if geometry.in_channels == 1 and geometry.out_channels == 1:
            h = np.conj(h) if adjoint else h
        else:
            h = _blocks(h, geometry.groups, adjoint)
        cache[key] = h
    return cache[key]


def _read_extent(geometry: ConvGeometry) -> tuple[int, ...]:
    """Zero boundary: how many leading input entries are ever read, per axis."""
    return tuple(min(n, e - lo) for n, e, (lo, _) in zip(geometry.spatial_in, geometry.padded_extent, geometry.padding))


def _fft_inplace(view: np.ndarray, axis: int, inverse: bool) -> None:
    """A complex DFT along ``axis`` written back into ``view`` (any strides)."""
    res = (sfft.ifft if inverse else sfft.fft)(view, axis=axis, workers=_workers(view), overwrite_x=True)
    same = res.ctypes.data == view.ctypes.data and res.strides == view.strides
    if not same:  # scipy.fft wrote into a copy (it normally writes in place)
        view[...] = res


def _transform(src: np.ndarray, lengths, real: bool) -> np.ndarray:
    """The DFT over the spatial axes, each zero-padded to ``lengths``, axis by axis.

    The last axis goes first (``rfft`` for real data) into a new array; the result is
    placed in a spectrum-sized work array (reused across calls, see
    :func:`convops.direct._scratch`) once and the other axes are transformed in place,
    each pass only over the lines that hold data so far (a pruned ``rfftn``: the lines of
    pure zero padding are never transformed, and no padded copy is made per axis).
    """
    D = len(lengths)
    R = (sfft.rfft if real else sfft.fft)(src, n=lengths[-1], axis=-1, workers=_workers(src))
    if D == 1:
        return R
    L = R.shape[R.ndim - D: -1]
    if tuple(L) == tuple(lengths[:-1]):
        Z = R
    else:
        # a reused buffer: a fresh spectrum-sized array costs its page faults on every call
        Z = _scratch("fft-spectrum", R.shape[: R.ndim - D] + tuple(lengths[:-1]) + R.shape[-1:], R.dtype)
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
            Z = Z.reshape(Z.shape[:pos] + (strides[a], Z.shape[pos] // strides[a]) + Z.shape[pos + 1:]).sum(axis=pos)
            _fft_inplace(Z, a - D, inverse=True)
            Z = Z[(Ellipsis, slice(0, -(-keep[a].stop // strides[a]))) + (slice(None),) * (D - 1 - a)]
        else:
            _fft_inplace(Z, a - D, inverse=True)
            Z = Z[(Ellipsis, keep[a]) + (slice(None),) * (D - 1 - a)]
    if real:
        Z = sfft.irfft(Z, n=last_length, axis=-1, workers=_workers(Z))[..., keep[-1]]
    return Z


def _split_shapes(spatial, fold, strides):
    """Shapes that broadcast a replicated axis: ``(1, L)`` for the data, ``(s, L)`` for Ĥ."""
    data, mult = [], []
    for L, f, s in zip(spatial, fold, strides):
        data += [1, L] if f else [L]
        mult += [s, L] if f else [L]
    return tuple(data), tuple(mult)


def forward(x: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``y = A x`` for ``x`` of shape ``(B, C_in, *n)``; the multiplier is kept in ``cache``.

    With stride ``s`` dividing the grid ``N`` on an axis, only the kept outputs ``z[o·s]``
    are inverted: they are the length-``N/s`` inverse DFT of the spectrum folded onto
    ``N/s`` frequencies, ``Σ_j Z(f + j·N/s) / s`` (aliasing), which costs ``1/s`` of the
    inverse transform on that axis.
    """
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
        Z = _mix_blocks(mult, Z)
    keep = tuple(slice(0, (mi - 1) * si + 1, si) for mi, si in zip(m, st))
    Z = _inverse(Z, keep, fold, st, grid[-1], real)
    # a complex result may still be a view of the reused work array: always copy it out
    return np.ascontiguousarray(Z, dtype=dtype) if real else np.array(Z, dtype=dtype, copy=True)


def adjoint(y: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``x = A* y`` for ``y`` of shape ``(B, C_out, *m)``; the multiplier is kept in ``cache``.

    With stride ``s`` dividing the grid ``N`` on an axis, the zero insertion is not done:
    the DFT of ``y`` zero-inserted at ``o·s`` is the length-``N/s`` DFT of ``y`` repeated
    ``s`` times (spectral replication), which costs ``1/s`` of that transform.
    """
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
    insert = [s > 1 and not f for s, f in zip(st, fold)]
    if any(insert):
        # zero insertion only on the axes that cannot replicate in frequency
        z = np.zeros(y.shape[:2] + tuple((mi - 1) * s + 1 if ins else mi for mi, s, ins in zip(m, st, insert)), dtype=y.dtype)
        z[lead + tuple(slice(None, None, s) if ins else slice(None) for s, ins in zip(st, insert))] = y
    else:
        z = y
    lengths = tuple(N // s if f else N for N, s, f in zip(grid, st, fold))
    Y = _transform(z, lengths, real)
    single = geometry.in_channels == 1 and geometry.out_channels == 1
    if any(fold):
        # replicate: Ŷ_N(f) = Ŷ_{N/s}(f mod N/s), broadcast against Ĥ split as (s, N/s)
        data_shape, mult_shape = _split_shapes(Y.shape[2:], fold, st)
        full = Y.shape[:2] + tuple(L * s if f else L for L, s, f in zip(Y.shape[2:], st, fold))
        Yr = Y.reshape(Y.shape[:2] + data_shape)
        if single:
            Y = (mult.reshape((1, 1) + mult_shape) * Yr).reshape(full)
        else:
            Y = _mix_blocks(mult, np.broadcast_to(Yr, Y.shape[:2] + mult_shape).reshape(full))
    elif single:
        Y = np.multiply(Y, mult, out=Y) if np.result_type(Y, mult) == Y.dtype else Y * mult
    else:
        Y = _mix_blocks(mult, Y)
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
