r"""The kernel direction: ``w ↦ conv(x, w)`` for a fixed input ``x``, and its adjoint.

A convolution is linear in its kernel as well as in its input.  For a fixed (padded) input
``x̃`` the map ``A_x: w ↦ y`` and its adjoint ``A_x*: y ↦ w̄`` are, per spatial axis with
stride ``s`` and dilation ``d`` and with ``b`` the batch of ``x``,

.. math::

    y[b, c_o, o] = \sum_{i, t} w[c_o, i, t]\; \tilde x[b, g c_i' + i, o s + t d],
    \qquad
    \bar w[c_o, i, t] = \sum_{b, o} \overline{\tilde x[b, g c_i' + i, o s + t d]}\; y[b, c_o, o],

where ``g`` is the group of ``c_o`` and ``c_i' = C_in/groups``.  The row of ``A_x`` for output
``(b, c_o, o)`` holds the *patch* of ``x̃`` that output reads (the im2col or "unfold" matrix of
``x``), and ``A_x*`` correlates ``x̃`` with ``y``: it is the weight gradient of a convolution
layer, ``torch.nn.grad.conv2d_weight``.  The boundary mode pads the fixed ``x`` once, so every
boundary is as easy as the zero one.  With ``flip=True`` the kernel is reversed on every
spatial axis before it is applied (so the adjoint's result is reversed too).

Three realisations, each a pair ``forward(w, x, geometry, cache)`` /
``adjoint(y, x, geometry, cache)`` (the :class:`KernelRealisation` protocol), agree to rounding:

- :data:`MATRIX`: the explicit CSR im2col matrix (:func:`build_matrix`); ``A*`` is a CSR copy
  of its conjugate transpose.
- :data:`DIRECT`: ``A`` is the sliding-window convolution of :mod:`convops.realisations.direct`
  (the several kernels of one call stacked as extra output channels).  ``A*`` reads the
  patches of ``x̃`` as a strided view: with channels it copies them in chunks of at most
  :data:`~convops.realisations.direct.IM2COL_BUDGET_BYTES` (im2col) and contracts each chunk
  with ``y`` in one BLAS product; with one input channel per output channel (single
  channel, depthwise) it contracts each tap's view with ``y`` directly, copying nothing.
- :data:`FFT`: on the FFT grid ``N`` (``geometry.fft_shape``) the spectrum ``X̂`` of ``x̃`` is
  computed once and kept; ``A`` multiplies it by the kernel spectrum
  ``Ĥ(f) = Σ_t w[t] e^{+2πi f·t d/N}`` and inverts, keeping ``o·s``; ``A*`` zero-inserts ``y``
  at ``o·s``, transforms it and forms the cross-spectrum ``S = conj(X̂)·Ŷ / |N|`` (summed
  over the batch), whose inverse transform is the circular cross-correlation of ``x̃`` and
  ``y``, read at the taps only: ``w̄[t] = Σ_f S(f) e^{−2πi f·t d/N}``.  Both ``Ĥ`` and that
  read-out are small dense DFT matrices per axis (``F × k``), not grid-sized transforms.

Arrays: ``x`` is ``(N, C_in, *n)``; kernels are ``(B, C_out, C_in/groups, *k)`` in the user's
tap order (``flip`` is applied here), ``y`` is ``(B, N, C_out, *m)``; ``B`` counts the kernels
(or outputs) of one call: the columns of a ``matmat``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import scipy.fft as sfft
import scipy.sparse as sp
from numpy.lib.stride_tricks import sliding_window_view

from ..geometry import ConvGeometry
from ..padding import pad
from . import direct
from .direct import IM2COL_BUDGET_BYTES
from .workspace import check_work, transform_workers

__all__ = [
    "DIRECT",
    "FFT",
    "KERNEL_REALISATIONS",
    "MATRIX",
    "KernelCache",
    "KernelRealisation",
    "build_matrix",
    "flip_taps",
    "patches",
    "work_bytes",
]


@dataclass(eq=False)
class KernelCache:
    """What the kernel realisations keep between calls, per operator (``A`` and ``A*`` share it).

    Every value depends only on the fixed ``x`` and the geometry.

    Attributes
    ----------
    matrices : dict
        matrix: the CSR im2col matrix of ``A``, keyed by its dtype string.
    adjoint_matrices : dict
        matrix: CSR copies of ``Aᴴ``, keyed the same way.
    spectra : dict
        fft: the spectrum ``X̂`` of the padded ``x`` on the FFT grid, keyed by
        ``(real, dtype string)`` (``real``: the half spectrum of ``rfftn``).
    """

    matrices: dict[str, sp.csr_array] = field(default_factory=dict)
    adjoint_matrices: dict[str, sp.csr_array] = field(default_factory=dict)
    spectra: dict[tuple[bool, str], np.ndarray] = field(default_factory=dict)


class KernelRealisation(Protocol):
    """A realisation of the kernel map ``A_x: w ↦ conv(x, w)`` and of its adjoint.

    ``forward`` takes kernels ``(B, C_out, C_in/groups, *k)`` and returns ``(B, N, C_out, *m)``;
    ``adjoint`` takes ``(B, N, C_out, *m)`` and returns ``(B, C_out, C_in/groups, *k)``.  Both
    compute in ``numpy.result_type`` of their arguments and ``x`` and return fresh arrays.
    ``x`` is ``(N, C_in, *n)``; ``geometry`` the convolution's (its ``flip`` is applied by the
    realisation); ``cache`` the operator's :class:`KernelCache`.
    """

    def forward(
        self, w: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        """``y = A_x w``."""
        ...

    def adjoint(
        self, y: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        """``w̄ = A_x* y``."""
        ...


# ----------------------------------------------------------------------------------------
# shared pieces
# ----------------------------------------------------------------------------------------
def flip_taps(w: np.ndarray, ndim: int) -> np.ndarray:
    """``w`` reversed on its last ``ndim`` axes (a view)."""
    return w[(Ellipsis,) + (slice(None, None, -1),) * ndim]


def _canonical(w: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """The kernels as the cross-correlation applies them (reversed when ``flip``)."""
    return flip_taps(w, geometry.ndim) if geometry.flip else w


def _dims(geometry: ConvGeometry) -> tuple[int, int, int, int, int]:
    """``(groups, C_out/groups, C_in/groups, taps, outputs)``."""
    g = geometry.groups
    return (
        g,
        geometry.out_channels // g,
        geometry.in_channels // g,
        math.prod(geometry.kernel_size),
        math.prod(geometry.spatial_out),
    )


def patches(xp: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """The patches ``x̃[b, c, o·s + t·d]`` as a strided view ``(N, C, *m, *k)`` of ``xp``.

    ``xp`` is the padded input ``(N, C, *padded_extent)`` (:func:`convops.padding.pad`); the
    view shares its memory (nothing is copied).
    """
    D = geometry.ndim
    windows = sliding_window_view(xp, geometry.span, axis=tuple(range(2, 2 + D)))
    # the windows start at every padded position; keep o·s, and the taps t·d of each window
    index = (
        (slice(None), slice(None))
        + tuple(slice(None, None, s) for s in geometry.stride)
        + tuple(slice(None, None, d) for d in geometry.dilation)
    )
    return windows[index]


def work_bytes(geometry: ConvGeometry, batch: int, columns: int, dtype, method: str) -> int:
    """Memory (bytes) one application to ``columns`` kernels or outputs may need, at most.

    From the shapes alone (Python integers): the kernels and outputs of the call, the padded
    ``x``, and what the realisation works on — ``"direct"`` the im2col chunk (at most
    :data:`~convops.realisations.direct.IM2COL_BUDGET_BYTES`) or the forward's work arrays;
    ``"fft"`` the spectra of ``x``, of the outputs and of the kernels on the FFT grid
    (complex), twice; ``"matrix"`` nothing more (its build is checked on its own).
    """
    dt = np.dtype(dtype)
    item = dt.itemsize
    complex_item = item if dt.kind == "c" else 2 * item
    _, _, cin_g, taps, m = _dims(geometry)
    cin, cout = geometry.in_channels, geometry.out_channels
    columns = max(int(columns), 1)
    batch = max(int(batch), 1)
    padded = math.prod(geometry.padded_extent)
    total = columns * (cout * cin_g * taps + batch * cout * m) * item
    total += batch * cin * padded * item
    if method == "direct":
        total += min(IM2COL_BUDGET_BYTES, batch * cin * taps * m * item)
        total += 2 * batch * (cin + columns * cout) * padded * item
    elif method == "fft":
        grid = math.prod(geometry.fft_shape)
        total += (
            2
            * (batch * cin + columns * batch * cout + columns * cout * cin_g)
            * grid
            * complex_item
        )
    return total


def _all_finite(a: np.ndarray) -> bool:
    # one reduction decides almost always (NaN and inf survive a sum); an overflowing sum
    # of finite values is settled by the exact test
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(a)):
            return True
    return bool(np.isfinite(a).all())


def _warn_if_non_finite(**arrays: np.ndarray) -> None:
    for what, a in arrays.items():
        if not _all_finite(a):
            warnings.warn(
                f"the {what} holds non-finite values (NaN or inf): the FFT realisation mixes "
                "every value into every frequency, so every output becomes NaN; use "
                "method='direct' (or 'matrix') to keep them where the linear algebra puts them",
                RuntimeWarning,
                stacklevel=5,
            )
            return


# ----------------------------------------------------------------------------------------
# matrix: the im2col matrix of x
# ----------------------------------------------------------------------------------------
def structural_nnz(geometry: ConvGeometry, batch: int) -> int:
    """Entries of the im2col matrix that do not read the zero padding (all, otherwise)."""
    cin_g = geometry.in_channels // geometry.groups
    per_output = 1
    for a in range(geometry.ndim):
        per_output *= int((geometry.source_table(a) >= 0).sum())
    # per_output counts (o, t) pairs over all axes: Π_a (valid pairs on axis a)
    return batch * geometry.out_channels * cin_g * per_output


def build_matrix(x: np.ndarray, geometry: ConvGeometry) -> sp.csr_array:
    """The CSR matrix of ``A_x``: the im2col ("unfold") matrix of ``x``, one block per channel.

    Rows are the outputs ``(b, c_o, o)`` (C order over ``(N, C_out, *m)``), columns the kernel
    entries ``(c_o, i, u)`` (C order over the kernel's shape, in the user's tap order ``u``;
    ``flip`` reads tap ``t = k − 1 − u``).  Row ``(b, c_o, o)`` holds, at the columns of
    output channel ``c_o``, the patch of ``x̃`` that output reads: the value
    ``x[b, g·C_in/G + i, P(o·s + t·d)]`` with ``P`` the boundary map
    (:meth:`ConvGeometry.source_table`); taps that read the zero padding are not stored.
    So the matrix is block-diagonal over the output channels, each block the im2col matrix of
    the group's input channels, repeated per batch item.

    Built vectorised: the per-axis source tables are broadcast into the flat source index of
    every (output, tap) pair, ``x`` is gathered at those indices once, and the column indices
    follow from the channel and tap numbers (each row's columns come out sorted and distinct).
    """
    n_batch = x.shape[0]
    D = geometry.ndim
    G, cout_g, cin_g, T, M = _dims(geometry)
    m, k, n = geometry.spatial_out, geometry.kernel_size, geometry.spatial_in
    n_flat = math.prod(n)
    cout = geometry.out_channels
    rows = n_batch * cout * M
    cols = cout * cin_g * T
    nnz = structural_nnz(geometry, n_batch)
    index_bytes = 4 if max(cols, nnz) < 2**31 - 1 else 8
    check_work(2 * nnz * (x.dtype.itemsize + index_bytes), "building this im2col matrix")

    # flat source index and validity of every (o, u) pair, shape (*m, *k)
    src = np.zeros((1,) * (2 * D), dtype=np.int64)
    valid = np.ones((1,) * (2 * D), dtype=bool)
    for a in range(D):
        tab = geometry.source_table(a)  # (m_a, k_a), canonical taps t
        if geometry.flip:
            tab = tab[:, ::-1]  # user tap u reads canonical tap k − 1 − u
        shape = [1] * (2 * D)
        shape[a], shape[D + a] = m[a], k[a]
        tab = tab.reshape(shape)
        valid = valid & (tab >= 0)
        src = src + np.maximum(tab, 0) * math.prod(n[a + 1 :])
    src = np.broadcast_to(src, m + k).reshape(M, T)
    valid = np.broadcast_to(valid, m + k).reshape(M, T)

    # values[b, g, j, o, i, u] = x[b, g·cin_g + i, src[o, u]]: one gather, then broadcast
    # over the group's output channels j (each holds the same patches)
    values = x.reshape(n_batch, G, cin_g, n_flat)[..., src]  # (N, G, cin_g, M, T)
    values = np.broadcast_to(
        values.transpose(0, 1, 3, 2, 4)[:, :, None], (n_batch, G, cout_g, M, cin_g, T)
    )
    # columns[c_o, i, u] = c_o·(cin_g·T) + i·T + u, the same for every batch item and output
    col = (
        np.arange(cout, dtype=np.int64).reshape(G, cout_g, 1, 1, 1) * (cin_g * T)
        + np.arange(cin_g, dtype=np.int64).reshape(1, 1, 1, cin_g, 1) * T
        + np.arange(T, dtype=np.int64).reshape(1, 1, 1, 1, T)
    )
    col = np.broadcast_to(col, (G, cout_g, M, cin_g, T))
    keep = np.broadcast_to(valid[:, None, :], (M, cin_g, T))
    index_dtype = np.int32 if index_bytes == 4 else np.int64
    if keep.all():
        data = values.reshape(-1)
        indices = np.broadcast_to(col, (n_batch,) + col.shape).reshape(-1).astype(index_dtype)
    else:
        mask = np.broadcast_to(keep, (n_batch, G, cout_g, M, cin_g, T))
        data = values[mask]
        indices = np.broadcast_to(col, (n_batch,) + col.shape)[mask].astype(index_dtype)
    per_row = np.broadcast_to(keep.reshape(M, -1).sum(axis=1), (n_batch * cout, M))
    indptr = np.zeros(rows + 1, dtype=index_dtype)
    np.cumsum(per_row.reshape(-1), out=indptr[1:])
    A = sp.csr_array((np.ascontiguousarray(data), indices, indptr), shape=(rows, cols))
    A.has_sorted_indices = True
    A.has_canonical_format = True
    return A


def matrix_of(x: np.ndarray, geometry: ConvGeometry, cache: KernelCache) -> sp.csr_array:
    """The CSR matrix of ``A_x`` in ``x.dtype``, built once and kept in ``cache.matrices``."""
    key = x.dtype.str
    if key not in cache.matrices:
        cache.matrices[key] = build_matrix(x, geometry)
    return cache.matrices[key]


def adjoint_matrix_of(x: np.ndarray, geometry: ConvGeometry, cache: KernelCache) -> sp.csr_array:
    """The CSR matrix of ``A_xᴴ``, built once from ``A_x`` (``cache.adjoint_matrices``)."""
    key = x.dtype.str
    if key not in cache.adjoint_matrices:
        cache.adjoint_matrices[key] = sp.csr_array(matrix_of(x, geometry, cache).conj().T)
    return cache.adjoint_matrices[key]


class MatrixKernel:
    """The matrix realisation: products with the CSR im2col matrix and its adjoint."""

    @staticmethod
    def forward(
        w: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        A = matrix_of(x, geometry, cache)
        dtype = np.result_type(x.dtype, w.dtype)
        cols = w.shape[0]
        out = np.asarray(A @ w.reshape(cols, -1).T, dtype=dtype).T
        return np.ascontiguousarray(out).reshape(
            (cols, x.shape[0], geometry.out_channels) + geometry.spatial_out
        )

    @staticmethod
    def adjoint(
        y: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        AH = adjoint_matrix_of(x, geometry, cache)
        dtype = np.result_type(x.dtype, y.dtype)
        cols = y.shape[0]
        out = np.asarray(AH @ y.reshape(cols, -1).T, dtype=dtype).T
        return np.ascontiguousarray(out).reshape((cols,) + _kernel_shape(geometry))


def _kernel_shape(geometry: ConvGeometry) -> tuple[int, ...]:
    """``(C_out, C_in/groups, *k)``, also for a single-channel geometry."""
    return (
        geometry.out_channels,
        geometry.in_channels // geometry.groups,
    ) + geometry.kernel_size


# ----------------------------------------------------------------------------------------
# direct: the sliding window for A, the patches contracted with y for A*
# ----------------------------------------------------------------------------------------
def _stack_kernels(w: np.ndarray, geometry: ConvGeometry) -> tuple[np.ndarray, ConvGeometry]:
    """Several kernels as one: the ``B`` kernels become ``B·C_out`` output channels.

    Output channel ``(g, b, j)`` (group outermost, as the convolution's groups need) is
    kernel ``b``'s channel ``g·C_out/G + j``; the geometry is the same convolution with
    ``B·C_out`` outputs.
    """
    cols = w.shape[0]
    if cols == 1:
        return w[0], geometry
    G, cout_g, cin_g, _, _ = _dims(geometry)
    k = geometry.kernel_size
    stacked = (
        w.reshape((cols, G, cout_g, cin_g) + k)
        .swapaxes(0, 1)
        .reshape((G * cols * cout_g, cin_g) + k)
    )
    return stacked, replace(
        geometry, out_channels=cols * geometry.out_channels, multichannel=True, transposed=False
    )


def _unstack_outputs(y: np.ndarray, cols: int, geometry: ConvGeometry) -> np.ndarray:
    """``(N, G·B·C_out/G, *m)`` of :func:`_stack_kernels`' convolution → ``(B, N, C_out, *m)``."""
    G, cout_g, _, _, _ = _dims(geometry)
    n_batch = y.shape[0]
    m = geometry.spatial_out
    D = geometry.ndim
    y = y.reshape((n_batch, G, cols, cout_g) + m)
    order = (2, 0, 1, 3) + tuple(range(4, 4 + D))
    return np.ascontiguousarray(y.transpose(order)).reshape(
        (cols, n_batch, geometry.out_channels) + m
    )


def _row_chunks(n_batch: int, rows: int, bytes_per_row: int):
    """Slices ``(batch, first output axis)`` whose im2col stays within the budget."""
    per_item = bytes_per_row * rows
    if per_item <= IM2COL_BUDGET_BYTES:
        step = max(1, IM2COL_BUDGET_BYTES // max(per_item, 1))
        for b0 in range(0, n_batch, step):
            yield slice(b0, min(b0 + step, n_batch)), slice(0, rows)
        return
    step = max(1, IM2COL_BUDGET_BYTES // max(bytes_per_row, 1))
    for b in range(n_batch):
        for r0 in range(0, rows, step):
            yield slice(b, b + 1), slice(r0, min(r0 + step, rows))


class DirectKernel:
    """The direct realisation: the sliding window for ``A``, im2col and one GEMM for ``A*``."""

    @staticmethod
    def forward(
        w: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        dtype = np.result_type(x.dtype, w.dtype)
        cols = w.shape[0]
        # A_x w is the convolution of x with w: the sliding window of the input direction,
        # every kernel of the call at once as extra output channels (one GEMM for them all)
        stacked, g = _stack_kernels(
            np.ascontiguousarray(_canonical(w, geometry), dtype=dtype), geometry
        )
        y = direct.forward(x.astype(dtype, copy=False), stacked, g, None)
        return _unstack_outputs(y, cols, geometry)

    @staticmethod
    def adjoint(
        y: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        r"""``w̄[c_o, i, t] = Σ_{b, o} conj(x̃[b, g·C_in/G + i, o·s + t·d]) · y[b, c_o, o]``.

        With channels, the patches of the padded ``x`` are gathered, chunk by chunk, into a
        ``(G, C_in/G · T, L)`` array (``L`` the chunk's outputs) and contracted with the
        matching ``(G, B · C_out/G, L)`` part of ``y`` in one batched BLAS product.  With one
        input channel per output channel (single channel, depthwise) each tap is one
        contraction of its strided view of ``x̃`` with ``y``.
        """
        dtype = np.result_type(x.dtype, y.dtype)
        G, cout_g, cin_g, T, _ = _dims(geometry)
        cols, n_batch = y.shape[:2]
        D = geometry.ndim
        m = geometry.spatial_out
        acc = np.zeros((G, cols * cout_g, cin_g * T), dtype=dtype)
        if n_batch == 0:
            return _adjoint_result(acc, cols, geometry)
        xp = pad(x.astype(dtype, copy=False), geometry)
        V = patches(xp, geometry)  # (N, C_in, *m, *k), a view
        complex_ = dtype.kind == "c"
        if cin_g == 1 and cout_g == 1:
            # one input channel per output (single channel, depthwise): no GEMM to gain, so
            # per tap one contraction of the strided view with y, nothing copied (an im2col
            # copy would write and read T times the input: measured 3.5× slower at 1024² 11×11)
            yc = np.conj(y) if complex_ else y
            spatial = "xyz"[:D]
            one = cols == 1 and n_batch == 1 and G == 1
            # einsum's loops over length-1 axes cost ~1.6× on a single image: drop them
            subscripts = f"{spatial},{spatial}->" if one else f"nc{spatial},bnc{spatial}->bc"
            if one:
                V, yc = V[0, 0], yc[0, 0, 0]
            for flat, t in enumerate(np.ndindex(*geometry.kernel_size)):
                r = np.einsum(subscripts, V[(Ellipsis,) + t], yc)
                acc[:, :, flat] = (np.conj(r) if complex_ else r).T
            return _adjoint_result(acc, cols, geometry)
        rest = math.prod(m[1:])
        # move the taps before the outputs: (N, C_in, *k, *m) — still a view
        V = V.transpose((0, 1) + tuple(range(2 + D, 2 + 2 * D)) + tuple(range(2, 2 + D)))
        yv = y.reshape((cols, n_batch, G, cout_g, m[0], rest))
        for bs, rs in _row_chunks(n_batch, m[0], geometry.in_channels * T * rest * dtype.itemsize):
            nb, nr = bs.stop - bs.start, rs.stop - rs.start
            L = nb * nr * rest
            # im2col of the chunk: (G, cin_g, *k, nb, rows, *m_rest), one strided copy
            part = V[(bs, slice(None)) + (slice(None),) * D + (rs,)]
            cols_buf = np.empty((G, cin_g) + geometry.kernel_size + (nb, nr) + m[1:], dtype=dtype)
            order = (1,) + tuple(range(2, 2 + D)) + (0,) + tuple(range(2 + D, 2 + 2 * D))
            cols_buf.reshape((G * cin_g,) + cols_buf.shape[2:])[...] = part.transpose(order)
            im2col = cols_buf.reshape(G, cin_g * T, L)
            # the chunk of y as (G, B·cout_g, L)
            yc = yv[:, bs, :, :, rs, :].transpose(2, 0, 3, 1, 4, 5).reshape(G, cols * cout_g, L)
            if complex_:
                # Σ conj(P)·y = conj(Σ P·conj(y)): conjugate the smaller operand
                acc += np.conj(np.matmul(np.conj(yc), im2col.swapaxes(1, 2)))
            else:
                acc += np.matmul(yc, im2col.swapaxes(1, 2))
        return _adjoint_result(acc, cols, geometry)


def _adjoint_result(acc: np.ndarray, cols: int, geometry: ConvGeometry) -> np.ndarray:
    """``(G, B·C_out/G, C_in/G·T)`` → ``(B, C_out, C_in/G, *k)`` in the user's tap order."""
    G, cout_g, cin_g, _, _ = _dims(geometry)
    k = geometry.kernel_size
    out = acc.reshape((G, cols, cout_g, cin_g) + k).swapaxes(0, 1)
    out = out.reshape((cols, geometry.out_channels, cin_g) + k)
    return np.ascontiguousarray(_canonical(out, geometry))


# ----------------------------------------------------------------------------------------
# fft: X̂ kept, the kernel spectrum and the read-out at the taps as small DFT matrices
# ----------------------------------------------------------------------------------------
def _tap_dft(geometry: ConvGeometry, real: bool, dtype: np.dtype) -> list[np.ndarray]:
    """Per axis, ``E_a[f, t] = exp(+2πi f·t·d / N_a)``: ``(F_a, k_a)``.

    ``F_a = N_a``, except the last axis of a real transform (``N // 2 + 1`` frequencies).
    ``Ĥ(f) = Σ_t w[t] Π_a E_a[f_a, t_a]`` is then the kernel spectrum (the forward
    multiplier of :func:`convops.realisations.fft.dilated_spectrum`).
    """
    grid = geometry.fft_shape
    D = geometry.ndim
    cdtype = np.result_type(dtype, np.complex64)
    mats = []
    for a, (N, k, d) in enumerate(zip(grid, geometry.kernel_size, geometry.dilation, strict=True)):
        F = N // 2 + 1 if (real and a == D - 1) else N
        f = np.arange(F, dtype=np.int64)[:, None]
        t = np.arange(k, dtype=np.int64)[None, :] * d
        # the phase from the exact integer (f·t·d mod N), so rounding does not grow with N
        mats.append(np.exp(2j * np.pi * ((f * t) % N) / N).astype(cdtype))
    return mats


def _contract_axes(a: np.ndarray, mats: list[np.ndarray], lead: int) -> np.ndarray:
    """Multiply axis ``lead + i`` of ``a`` by ``mats[i]`` (``(out, in)``), for every ``i``."""
    for i, E in enumerate(mats):
        axis = lead + i
        a = np.moveaxis(np.tensordot(a, E, axes=([axis], [1])), -1, axis)
    return a


def x_spectrum(x: np.ndarray, geometry: ConvGeometry, real: bool, cache: KernelCache) -> np.ndarray:
    """``X̂``: the spectrum of the padded ``x`` on the FFT grid, ``(N, C_in, *F)``, kept."""
    key = (real, x.dtype.str)
    if key not in cache.spectra:
        xp = pad(x, geometry)
        axes = tuple(range(2, 2 + geometry.ndim))
        grid = geometry.fft_shape
        workers = transform_workers(math.prod(xp.shape[:2]) * math.prod(grid))
        if real:
            X = sfft.rfftn(xp, s=grid, axes=axes, workers=workers)
        else:
            X = sfft.fftn(xp, s=grid, axes=axes, workers=workers)
        X.setflags(write=False)
        cache.spectra[key] = X
    return cache.spectra[key]


class FFTKernel:
    """The FFT realisation: ``X̂`` kept; ``A`` multiplies it by ``Ĥ``; ``A*`` forms ``conj(X̂)·Ŷ``."""

    @staticmethod
    def forward(
        w: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        r"""``Ŷ = Ĥ·X̂`` per group block, inverted on the grid and read at ``o·s``.

        ``Ĥ[c_o, i, f] = Σ_t w[c_o, i, t] e^{+2πi f·t d/N}`` is formed with one small DFT
        matrix per axis; per frequency the group block ``Ĥ_g(f)`` (``C_out/G × C_in/G``)
        multiplies the group's input channels of every batch item.
        """
        _warn_if_non_finite(input=x, kernel=w)
        dtype = np.result_type(x.dtype, w.dtype)
        real = dtype.kind != "c"
        G, cout_g, cin_g, _, _ = _dims(geometry)
        cols, n_batch = w.shape[0], x.shape[0]
        D = geometry.ndim
        X = x_spectrum(x.astype(dtype, copy=False), geometry, real, cache)  # (N, C_in, *F)
        F = X.shape[2:]
        nf = math.prod(F)
        H = _contract_axes(
            _canonical(w, geometry).astype(X.dtype, copy=False), _tap_dft(geometry, real, dtype), 3
        )  # (B, C_out, cin_g, *F)
        if cin_g == 1 and cout_g == 1:
            # one input channel per output (single channel, depthwise): a pointwise product
            Z = H[:, None, :, 0] * X[None, :, :]  # (B, N, C_out, *F), with G = C_in = C_out
        else:
            Hm = H.reshape(cols, G, cout_g, cin_g, nf).transpose(4, 1, 0, 2, 3)
            Hm = Hm.reshape(nf, G, cols * cout_g, cin_g)
            Xm = X.reshape(n_batch, G, cin_g, nf).transpose(3, 1, 2, 0)  # (F, G, cin_g, N)
            Zm = np.matmul(Hm, Xm).reshape(nf, G, cols, cout_g, n_batch)
            Z = Zm.transpose(2, 4, 1, 3, 0).reshape((cols, n_batch, geometry.out_channels) + F)
        axes = tuple(range(3, 3 + D))
        grid = geometry.fft_shape
        workers = transform_workers(Z.size)
        keep = tuple(
            slice(0, (mi - 1) * s + 1, s)
            for mi, s in zip(geometry.spatial_out, geometry.stride, strict=True)
        )
        if real:
            z = sfft.irfftn(Z, s=grid, axes=axes, workers=workers, overwrite_x=True)
        else:
            z = sfft.ifftn(Z, s=grid, axes=axes, workers=workers, overwrite_x=True)
        return np.ascontiguousarray(z[(Ellipsis,) + keep], dtype=dtype)

    @staticmethod
    def adjoint(
        y: np.ndarray, x: np.ndarray, geometry: ConvGeometry, cache: KernelCache
    ) -> np.ndarray:
        r"""``w̄[t] = Σ_f S(f) e^{−2πi f·t d/N}`` with ``S = Σ_b conj(X̂)·Ŷ / |N|``.

        ``Ŷ`` is the spectrum of ``y`` zero-inserted at ``o·s`` on the grid; ``S`` is formed
        per frequency and group as ``Ŷ_g(f) · X̂_g(f)ᴴ`` over the batch (one batched product);
        the inverse transform of ``S`` (the circular cross-correlation of ``x̃`` and ``y``) is
        evaluated only at the taps, with one small DFT matrix per axis.  For real data the
        half spectrum counts its inner frequencies twice and the real part is kept.
        """
        _warn_if_non_finite(input=x, output=y)
        dtype = np.result_type(x.dtype, y.dtype)
        real = dtype.kind != "c"
        G, cout_g, cin_g, _, _ = _dims(geometry)
        cols, n_batch = y.shape[:2]
        D = geometry.ndim
        if n_batch == 0:
            return np.zeros((cols,) + _kernel_shape(geometry), dtype=dtype)
        X = x_spectrum(x.astype(dtype, copy=False), geometry, real, cache)
        F = X.shape[2:]
        nf = math.prod(F)
        grid = geometry.fft_shape
        st = geometry.stride
        m = geometry.spatial_out
        if any(s > 1 for s in st):
            # zero insertion: y[o] sits at o·s of the grid
            z = np.zeros(
                y.shape[:3] + tuple((mi - 1) * s + 1 for mi, s in zip(m, st, strict=True)),
                dtype=dtype,
            )
            z[(Ellipsis,) + tuple(slice(None, None, s) for s in st)] = y
        else:
            z = y.astype(dtype, copy=False)
        axes = tuple(range(3, 3 + D))
        workers = transform_workers(math.prod(z.shape[:3]) * math.prod(grid))
        Y = (sfft.rfftn if real else sfft.fftn)(z, s=grid, axes=axes, workers=workers)
        if cin_g == 1 and cout_g == 1:
            S = np.einsum("bn...,n...->b...", Y, np.conj(X))[:, :, None]  # (B, C, 1, *F)
        else:
            Ym = Y.reshape(cols, n_batch, G, cout_g, nf).transpose(4, 2, 0, 3, 1)
            Ym = Ym.reshape(nf, G, cols * cout_g, n_batch)
            Xc = np.conj(X).reshape(n_batch, G, cin_g, nf).transpose(3, 1, 0, 2)  # (F, G, N, cin_g)
            Sm = np.matmul(Ym, Xc).reshape(nf, G, cols, cout_g, cin_g)
            S = Sm.transpose(2, 1, 3, 4, 0).reshape((cols, geometry.out_channels, cin_g) + F)
        mats = [np.conj(E).T for E in _tap_dft(geometry, real, dtype)]  # (k_a, F_a)
        if real:
            # the half spectrum: inner frequencies stand for f and −f (count them twice)
            N_last = grid[-1]
            weight = np.full(F[-1], 2.0)
            weight[0] = 1.0
            if N_last % 2 == 0:
                weight[-1] = 1.0
            mats[-1] = mats[-1] * weight[None, :]
        w = _contract_axes(S, mats, 3) / math.prod(grid)
        if real:
            w = w.real
        out = _canonical(w, geometry)
        return np.ascontiguousarray(out, dtype=dtype)


MATRIX = MatrixKernel()
DIRECT = DirectKernel()
FFT = FFTKernel()

#: The three realisations of the kernel map by name (``KernelOperator``'s ``method``).
KERNEL_REALISATIONS: dict[str, KernelRealisation] = {"matrix": MATRIX, "direct": DIRECT, "fft": FFT}
