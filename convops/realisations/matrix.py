"""The matrix realisation: ``A`` as an explicit ``scipy.sparse.csr_array``.

Row ``(co, o)`` of ``A`` (C order over ``(C_out, *m)``) holds, for each input channel
``ci`` of the group of ``co`` and each kernel tap ``t``, the entry
``w[co, ci, t]`` at column ``(ci, P(o·s + t·d))`` (C order over ``(C_in, *n)``), where
``P`` maps a padded index to the input index it reads (:meth:`ConvGeometry.source_table`).
One spatial axis gives a Toeplitz band, two a block-Toeplitz matrix with Toeplitz blocks,
three a third level; circular boundaries make the blocks circulant.

How it is built (no Python loop over rows or entries).  The rows of one output channel
and one output index ``o₀`` on the first spatial axis form a *slab*.  A slab's column
pattern is built vectorised: the per-axis ``(m, k)`` tables of source indices are
broadcast over the remaining axes, the input channels and the taps, and the entries that
read the zero border are dropped.  Every ``o₀`` whose taps all read inside the input
without wrapping (all but a few kernel widths at the borders) has the same pattern
shifted by ``s₀·(o₀ − o₀')`` input rows, so those slabs are written as one broadcast
addition of the shifts to one pattern, straight into the CSR arrays (``indptr`` from the
per-row counts, ``indices`` in int32 when they fit).  The few border slabs are built one
by one.  With ``"zeros"`` the columns of each row come out sorted and distinct; the other
boundaries fold several taps onto one column, and those duplicates are summed once.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..geometry import ConvGeometry
from ..structure import structural_nnz
from .contract import RealisationCache
from .workspace import check_work

__all__ = ["adjoint", "adjoint_matrix_of", "build", "forward", "matrix_of"]


#: Entries of the border slabs gathered in one vectorised step; more are done in chunks.
BORDER_CHUNK_ENTRIES = 1 << 22


def _slabs(
    q0: np.ndarray, rest_col: np.ndarray, rest_valid: np.ndarray, cin_g: int, n_sp: int, row0: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns, flat tap indices and per-row counts of the slabs with first-axis sources ``q0``.

    ``q0`` is ``(r, k₀)``: the first-axis source index of each tap for ``r`` values of
    ``o₀`` at once.  Entries are ordered as in CSR rows: ``o₀`` outermost, then the rows
    ``(o₁, …)``, then the input channel ``ci``, then the taps ``(t₀, t₁, …)``;
    ``rest_col``/``rest_valid`` are the ``(m₁…, k₁…)`` column offsets and validity of the
    remaining axes.  Returns the columns and taps of the valid entries (flat, in that
    order) and the entry count of every row, shape ``(r·Π m_rest,)``.
    """
    Dm = rest_col.ndim // 2
    m_rest, k_rest = rest_col.shape[:Dm], rest_col.shape[Dm:]
    r, k0 = q0.shape
    K_rest = int(np.prod(k_rest, dtype=np.int64))
    ones, tail = (1,) * Dm, (1,) * len(k_rest)
    shape = (r, *m_rest, cin_g, k0, *k_rest)
    col = (
        (np.arange(cin_g, dtype=np.int64) * n_sp).reshape((1, *ones, cin_g, 1, *tail))
        + (q0.astype(np.int64) * row0).reshape((r, *ones, 1, k0, *tail))
        + rest_col.reshape((1, *m_rest, 1, 1, *k_rest))
    )
    valid = (q0 >= 0).reshape((r, *ones, 1, k0, *tail)) & rest_valid.reshape(
        (1, *m_rest, 1, 1, *k_rest)
    )
    tap = np.arange(cin_g * k0 * K_rest, dtype=np.int64).reshape((1, *ones, cin_g, k0, *k_rest))
    col, valid = np.broadcast_arrays(col, valid)
    tap = np.broadcast_to(tap, shape)
    counts = valid.reshape(r * int(np.prod(m_rest, dtype=np.int64)), -1).sum(axis=1)
    if valid.all():
        return col.reshape(-1), tap.reshape(-1), counts
    return col[valid], tap[valid], counts


def build(kernel: np.ndarray, geometry: ConvGeometry) -> sp.csr_array:
    """The CSR matrix of the convolution ``A`` (always ``A``, whatever ``geometry.transposed``).

    ``kernel`` is the canonical ``(C_out, C_in/groups, *k)`` array with ``flip`` applied.
    Time and memory are proportional to the stored entries (plus one ``indptr`` entry per
    row): the interior slabs are one pattern shifted, the border slabs are gathered in
    chunks of :data:`BORDER_CHUNK_ENTRIES`, and the output channels repeat channel 0's
    columns with their group's offset.
    """
    D = geometry.ndim
    n, m, k = geometry.spatial_in, geometry.spatial_out, geometry.kernel_size
    g = geometry.groups
    cout, cin = geometry.out_channels, geometry.in_channels
    cin_g, cout_g = cin // g, cout // g
    n_sp = int(np.prod(n, dtype=np.int64))
    rows = cout * int(np.prod(m, dtype=np.int64))
    cols = cin * n_sp
    nnz_max = rows * cin_g * int(np.prod(k, dtype=np.int64))
    index_dtype = np.int32 if max(cols, nnz_max) < 2**31 - 1 else np.int64
    zeros = geometry.boundary == "zeros"

    strides_in = [int(np.prod(n[a + 1 :], dtype=np.int64)) for a in range(D)]
    # the remaining axes' column offsets and validity, shape (m₁…, k₁…)
    Dm = D - 1
    rest_col = np.zeros((1,) * (2 * Dm), dtype=np.int64)
    rest_valid = np.ones((1,) * (2 * Dm), dtype=bool)
    for a in range(1, D):
        shape = [1] * (2 * Dm)
        shape[a - 1], shape[Dm + a - 1] = m[a], k[a]
        tab = geometry.source_table(a).reshape(shape)
        rest_valid = rest_valid & (tab >= 0)
        rest_col = rest_col + tab.astype(np.int64) * strides_in[a]
    rest_col = np.broadcast_to(rest_col, m[1:] + k[1:])
    rest_valid = np.broadcast_to(rest_valid, m[1:] + k[1:])
    rows_per_slab = int(np.prod(m[1:], dtype=np.int64))
    slab_entries = rows_per_slab * cin_g * int(np.prod(k, dtype=np.int64))

    # first axis: the o₀ whose taps all read inside the input (no padding, no wrap, no
    # fold) form one contiguous "interior" range, found from the geometry in O(1): o₀·s₀ −
    # lo₀ >= 0 and o₀·s₀ − lo₀ + d₀·(k₀ − 1) <= n₀ − 1.  An interior o₀'s slab is the first
    # interior slab's pattern shifted by s₀·(o₀ − o₀') input rows.  The border o₀ (a few
    # kernel widths) are gathered in chunks of at most BORDER_CHUNK_ENTRIES entries.
    s0, d0, lo0 = geometry.stride[0], geometry.dilation[0], geometry.padding[0][0]
    first = min(m[0], -(-lo0 // s0))
    last = (n[0] - 1 + lo0 - d0 * (k[0] - 1)) // s0  # the last interior o₀ (may be < first)
    stop = max(first, min(m[0], last + 1))
    chunk = max(1, BORDER_CHUNK_ENTRIES // max(slab_entries, 1))
    pieces: list[tuple[int, int, bool]] = []  # (first o₀, stop, interior?)
    for a, b in ((0, first), (stop, m[0])):
        pieces += [(c, min(c + chunk, b), False) for c in range(a, b, chunk)]
    if stop > first:
        pieces.append((first, stop, True))
    pieces.sort()
    taps0 = np.arange(k[0], dtype=np.int64) * d0

    def first_axis_table(a: int, b: int) -> np.ndarray:
        # the (b − a, k₀) source indices of rows a..b−1, mapped by the boundary
        o = np.arange(a, b, dtype=np.int64)[:, None] * s0
        return geometry.boundary_index(0, o + taps0[None, :])

    slabs = [
        _slabs(
            first_axis_table(a, a + 1 if inner else b),
            rest_col,
            rest_valid,
            cin_g,
            n_sp,
            strides_in[0],
        )
        for a, b, inner in pieces
    ]

    # where each piece's entries start in channel 0's part of the CSR arrays
    sizes = [
        col.size * (b - a if inner else 1)
        for (a, b, inner), (col, _, _) in zip(pieces, slabs, strict=True)
    ]
    per_channel = int(sum(sizes))
    nnz = cout * per_channel
    rows0 = rows // cout
    indptr_all = np.empty(rows + 1, dtype=index_dtype)
    indptr_all[0] = 0
    indptr = indptr_all[1:].reshape(cout, rows0)  # row ends, channel by channel
    indices = np.empty((cout, per_channel), dtype=index_dtype)
    data = np.empty((cout, per_channel), dtype=kernel.dtype)
    flat_kernel = kernel.reshape(cout, -1)
    pos = 0
    for (a, b, inner), (col, tap, cnt), size in zip(pieces, slabs, sizes, strict=True):
        r0, r1 = a * rows_per_slab, b * rows_per_slab
        if inner:  # (rows of the run, entries of one slab): one pattern, shifted rows apart
            R, L = b - a, col.size
            block = indices[0, pos : pos + size].reshape(R, L)
            # consecutive interior rows both read inside the input, so the shift fits the
            # index dtype whenever there are two of them
            step = s0 * strides_in[0] if R > 1 else 0
            shifts = np.arange(R, dtype=index_dtype) * index_dtype(step)
            np.add(col.astype(index_dtype)[None, :], shifts[:, None], out=block)
            data[:, pos : pos + size].reshape(cout, R, L)[...] = flat_kernel[:, tap][:, None, :]
            # row ends: the slab's own, shifted by a slab per o₀ (no per-row counts needed)
            ends = np.cumsum(cnt).astype(index_dtype) + index_dtype(pos)
            np.add(
                (np.arange(R, dtype=index_dtype) * index_dtype(L))[:, None],
                ends[None, :],
                out=indptr[0, r0:r1].reshape(R, rows_per_slab),
            )
        else:
            indices[0, pos : pos + size] = col
            data[:, pos : pos + size] = flat_kernel[:, tap]
            indptr[0, r0:r1] = np.cumsum(cnt) + pos
        pos += size
    if cout > 1:  # channel c's rows end c·per_channel entries later
        offsets = (np.arange(1, cout, dtype=np.int64) * per_channel).astype(index_dtype)
        np.add(indptr[:1], offsets[:, None], out=indptr[1:])
    # the other output channels repeat channel 0's columns, shifted to their group's inputs
    if cout > 1:
        group_offset = ((np.arange(1, cout) // cout_g) * (cin_g * n_sp)).astype(index_dtype)
        np.add(indices[:1], group_offset[:, None], out=indices[1:])

    A = sp.csr_array((data.reshape(nnz), indices.reshape(nnz), indptr_all), shape=(rows, cols))
    if zeros:
        A.has_sorted_indices = True
        A.has_canonical_format = True
        return A
    A.sum_duplicates()  # folded taps that land on one column add up (and rows get sorted)
    return A


def _apply(matrix: sp.csr_array, v: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    batch = v.shape[0]
    if batch == 1:
        return np.asarray(matrix @ v.reshape(-1)).reshape((1,) + out_shape)
    res = matrix @ v.reshape(batch, -1).T
    return np.asarray(res).T.reshape((batch,) + out_shape)


def matrix_of(kernel: np.ndarray, geometry: ConvGeometry, cache: RealisationCache) -> sp.csr_array:
    """The CSR matrix of ``A`` in ``kernel.dtype``, built once and kept in ``cache.matrices``.

    One matrix per dtype: a float32 kernel applied to float64 data is built (and its
    folded border taps summed) in float64, so the result is as exact as the other
    realisations'.  The build is refused up front when its entries would exceed
    ``max_work_bytes``.
    """
    key = kernel.dtype.str
    A = cache.matrices.get(key)
    if A is None:
        g = geometry
        # indptr (one entry per row) and the per-axis (m, k) source tables come first
        tables = sum(m * k for m, k in zip(g.spatial_out, g.kernel_size, strict=True))
        check_work(8 * (g.shape[0] + 1) + 3 * 8 * tables, "building this matrix")
        nnz = structural_nnz(geometry)
        index_bytes = 4 if max(geometry.shape[1], nnz) < 2**31 - 1 else 8
        # entries and indices, twice (the build, then the duplicates summed for folds)
        check_work(2 * nnz * (kernel.dtype.itemsize + index_bytes), "building this matrix")
        A = cache.matrices[key] = build(kernel, geometry)
    return A


def adjoint_matrix_of(
    kernel: np.ndarray, geometry: ConvGeometry, cache: RealisationCache
) -> sp.csr_array:
    """The CSR matrix of ``Aᴴ`` in ``kernel.dtype``, built once from ``A`` (``cache.adjoint_matrices``)."""
    key = kernel.dtype.str
    AH = cache.adjoint_matrices.get(key)
    if AH is None:
        # a CSR copy of the transpose: 10–40% faster than multiplying by the CSC view
        AH = cache.adjoint_matrices[key] = sp.csr_array(matrix_of(kernel, geometry, cache).conj().T)
    return AH


def forward(
    x: np.ndarray,
    kernel: np.ndarray,
    geometry: ConvGeometry,
    cache: RealisationCache | None = None,
) -> np.ndarray:
    """``y = A x`` for ``x`` of shape ``(B, C_in, *n)`` via the CSR matrix (kept in ``cache``)."""
    A = matrix_of(kernel, geometry, RealisationCache() if cache is None else cache)
    return _apply(A, x, (geometry.out_channels,) + geometry.spatial_out)


def adjoint(
    y: np.ndarray,
    kernel: np.ndarray,
    geometry: ConvGeometry,
    cache: RealisationCache | None = None,
) -> np.ndarray:
    """``x = A* y`` for ``y`` of shape ``(B, C_out, *m)`` via the CSR matrix of ``A*``."""
    AH = adjoint_matrix_of(kernel, geometry, RealisationCache() if cache is None else cache)
    return _apply(AH, y, (geometry.in_channels,) + geometry.spatial_in)
