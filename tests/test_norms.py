"""Claims about singular values and norm bounds (convops.spectral.norms and .bounds), each
checked against numpy's dense SVD of the operator's matrix, or an independent construction:

- ``singular_values`` is exact for every block-circulant geometry (circular boundary,
  ``lo + hi = d·(k − 1)``, input divisible by the stride), strides, dilation, groups and
  1D/2D/3D included, for ``op`` and ``op.H``; ``return_frequencies`` says which plane-wave
  subspace each value lives on;
- ``norm_bounds`` brackets the norm on every geometry (``lower <= dense <= upper``),
  witnesses ``lower``, and is exact where the geometry is block-circulant;
- the embeddings its upper bound rests on are what the docstrings say (a submatrix of the
  circular convolution, the padding map's norm);
- bad input is refused by name.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import convops
import convops.spectral.bounds as bounds
from convops import ConvOperator, norm_bounds, operator_norm, singular_values
from convops.spectral import NormBounds, padding_map_norm
from convops.testing import strategies as cst

RNG = np.random.default_rng(20240714)


def _rand(shape, complex_=False, rng=RNG):
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if complex_ else a


def _dense_norm(op) -> float:
    """‖A‖ by LAPACK on the dense matrix of the kernel's values in double precision (a
    float32 kernel's operator is the one of those values, exactly)."""
    wide = np.result_type(op.kernel.dtype, np.float64)
    exact = ConvOperator.from_geometry(op.kernel.astype(wide), op.geometry)
    return float(np.linalg.norm(exact.toarray(), 2))


# ----------------------------------------------------------------------------------------
# singular values of block-circulant geometries
# ----------------------------------------------------------------------------------------
@st.composite
def circulant_ops(draw):
    """A block-circulant operator: circular, lo + hi = d·(k − 1), n divisible by s."""
    ndim = draw(st.integers(1, 3))
    k = [draw(st.integers(1, 3 if ndim < 3 else 2)) for _ in range(ndim)]
    d = [draw(st.integers(1, 2)) for _ in range(ndim)]
    s = [draw(st.integers(1, 3)) for _ in range(ndim)]
    most = {1: 6, 2: 3, 3: 2}[ndim]
    n, pads = [], []
    for ka, da, sa in zip(k, d, s, strict=True):
        span = da * (ka - 1)
        na = sa * draw(st.integers(1, most))
        while span > 2 * na:  # circular padding is at most n per side
            na += sa
        lo = draw(st.integers(max(0, span - na), min(span, na)))
        n.append(na)
        pads.append((lo, span - lo))
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 3))
    multichannel = draw(st.booleans()) or groups > 1
    complex_ = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kshape = ((cout, cin // groups) if multichannel else ()) + tuple(k)
    shape = ((cin,) if multichannel else ()) + tuple(n)
    kwargs = dict(
        padding=tuple(pads),
        stride=tuple(s),
        dilation=tuple(d),
        boundary="circular",
        flip=draw(st.booleans()),
    )
    if multichannel:
        kwargs["groups"] = groups
    op = ConvOperator(_rand(kshape, complex_, rng), shape, **kwargs)
    return op.H if draw(st.booleans()) else op


@given(circulant_ops())
def test_singular_values_equal_dense_svd_on_strided_circular_geometries(op):
    dense = np.linalg.svd(op.toarray(), compute_uv=False)
    sv = singular_values(op)
    assert sv.shape == dense.shape == (min(op.shape),)
    assert np.all(np.diff(sv) <= 0)
    np.testing.assert_allclose(sv, dense, rtol=0, atol=1e-12 * max(dense[0], 1e-300))
    np.testing.assert_allclose(singular_values(op.H), sv, rtol=0, atol=1e-13 * max(sv[0], 1))


@given(circulant_ops())
def test_each_value_lives_on_its_frequency_and_group(op):
    """The values given for frequency f and group g are the singular values of A on the
    subspace of inputs ``x[c, q·s + r] = e^{2πi f·q/M}`` (one per channel c of the group and
    phase r), built here from plane waves and the dense matrix, not from the blocks."""
    values, freqs, groups = singular_values(op, return_frequencies=True)
    np.testing.assert_array_equal(values, singular_values(op))
    g = op.geometry.transpose() if op.transposed else op.geometry
    M = [n // s for n, s in zip(g.spatial_in, g.stride, strict=True)]
    assert freqs.shape == (len(values), g.ndim) and groups.shape == (len(values),)
    assert np.all((freqs >= 0) & (freqs < np.array(M))) and set(groups) <= set(range(g.groups))
    dense = (op.H if op.transposed else op).toarray()
    cin_g = g.in_channels // g.groups
    for key in {(tuple(f), int(gr)) for f, gr in zip(freqs, groups, strict=True)}:
        f, gr = key
        basis = []
        for c in range(gr * cin_g, (gr + 1) * cin_g):
            for r in np.ndindex(*g.stride):
                x = np.zeros((g.in_channels, *g.spatial_in), dtype=complex)
                # polyphase position q·s + r of the circulant's input, which is A's input
                # shifted by lo: A reads x[i] at circulant position (i + lo) mod n
                grids = np.meshgrid(*[np.arange(m) for m in M], indexing="ij")
                phase = np.exp(
                    2j * np.pi * sum(fa * q / m for fa, q, m in zip(f, grids, M, strict=True))
                )
                pos = tuple(
                    (q * s + ra - lo) % n
                    for q, s, ra, (lo, _), n in zip(
                        grids, g.stride, r, g.padding, g.spatial_in, strict=True
                    )
                )
                x[(c,) + pos] = phase / math.sqrt(math.prod(M))
                basis.append(x.ravel())
        Q = np.array(basis).T
        assert np.allclose(Q.conj().T @ Q, np.eye(Q.shape[1]))
        expected = np.linalg.svd(dense @ Q, compute_uv=False)
        got = np.sort(values[(freqs == f).all(axis=1) & (groups == gr)])[::-1]
        np.testing.assert_allclose(got, expected[: len(got)], atol=1e-12 * max(values[0], 1))


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(boundary="zeros", padding=1), "boundary='zeros'"),
        (dict(boundary="circular", padding=1, stride=3), "divisible by stride"),
        (dict(boundary="circular", padding=(1, 2)), "lo \\+ hi"),
    ],
)
def test_other_geometries_are_refused_pointing_to_norm_bounds(kwargs, reason):
    op = ConvOperator(np.ones((2, 1, 3)), (1, 8), **kwargs)
    with pytest.raises(ValueError, match=reason) as info:
        singular_values(op)
    assert "norm_bounds" in str(info.value) and "operator_norm" in str(info.value)


def test_operator_norm_is_exact_on_strided_circular_geometries():
    op = ConvOperator(
        _rand((6, 4, 3, 3), rng=np.random.default_rng(100)),
        (4, 12, 10),
        stride=2,
        padding=1,
        boundary="circular",
    )
    dense = _dense_norm(op)
    assert operator_norm(op) == pytest.approx(dense, rel=1e-12)
    assert operator_norm(op.H, method="exact") == pytest.approx(dense, rel=1e-12)


def test_singular_values_refuse_non_finite_kernels():
    w = np.ones((2, 1, 3))
    w[0, 0, 1] = np.nan
    op = ConvOperator(w, (1, 8), padding=1, boundary="circular")
    with pytest.raises(ValueError, match="non-finite"):
        singular_values(op)
    with pytest.raises(ValueError, match="non-finite"):
        norm_bounds(op)


# ----------------------------------------------------------------------------------------
# norm_bounds brackets the norm on every geometry
# ----------------------------------------------------------------------------------------
def _check_bounds(op, b: NormBounds, dense: float) -> None:
    assert isinstance(b, NormBounds)
    # lower: witnessed, never above the truth beyond the rounding of one product
    assert b.lower <= dense * (1 + 1e-12) + 1e-300
    # upper: proven, never below the truth (its rounding margin is included)
    assert b.upper >= dense * (1 - 1e-14)
    assert b.witness.shape == op.input_shape and not b.witness.flags.writeable
    if not np.iscomplexobj(op.kernel):
        assert not np.iscomplexobj(b.witness)
    image = op.apply(b.witness.astype(np.result_type(op.dtype, b.witness.dtype)))
    ratio = np.linalg.norm(image) / np.linalg.norm(b.witness)
    tol = 1e-5 if op.dtype in (np.float32, np.complex64) else 1e-12
    # (the FFT realisation leaves rounding noise of order eps·Σ|w| even where A = 0)
    assert ratio == pytest.approx(b.lower, rel=tol, abs=tol * float(np.abs(op.kernel).sum()))
    assert b.applications >= 1 and b.upper_method and b.lower_method
    assert 0 <= b.rounding < 1e-9


@pytest.mark.parametrize(
    "small_block, terms, mean",
    [
        (bounds.SMALL_BLOCK, "auto", 0.0),
        (0, "pairs", 0.0),
        (0, "direct", 0.0),
        (0, "pairs", 2.0),
    ],
    ids=["eigensolvers", "cholesky-pairs", "cholesky-direct", "cholesky-strong-mean"],
)
@given(op=cst.operators(dtypes=("float64", "complex128", "float32")))
def test_lower_le_dense_norm_le_upper_on_every_geometry(op, small_block, terms, mean):
    """small_block=0 sends every block through the Cholesky certification, with the Gram
    matrices formed from the tap pairs or from the blocks; a kernel shifted by twice its
    standard deviation (a strong mean) has most blocks certified by their trace bound."""
    if mean:
        w = np.asarray(op.kernel)
        op = ConvOperator.from_geometry(w + mean * (float(np.std(w)) + 1e-3), op.geometry)
    dense = _dense_norm(op)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "SMALL_BLOCK", small_block)
        patch.setattr(bounds, "LANCZOS_BLOCK", 0 if small_block == 0 else bounds.LANCZOS_BLOCK)
        patch.setattr(bounds, "GRAM_TERMS", terms)
        b = norm_bounds(op)
    _check_bounds(op, b, dense)
    if b.exact:
        assert b.lower == b.upper == pytest.approx(dense, rel=1e-12, abs=1e-300)


_LARGE_DENSE: dict = {}  # dense norms of the cases below, computed once


@pytest.mark.parametrize(
    "patch",
    [
        {},  # every block through an eigensolver
        {"SMALL_BLOCK": 0},  # Cholesky certification below a level
        {"SMALL_BLOCK": 0, "GRAM_KEEP_BYTES": 0, "GRAM_CHUNK": 1},  # recomputed, row by row
        {"SMALL_BLOCK": 0, "EXACT_FIRST": 1, "ESTIMATE_STEPS": 0},  # a poor level: many raises
        {"SMALL_BLOCK": 0, "EXACT_FIRST": 0},  # no level at first: every block raises it
        {"SMALL_BLOCK": 0, "GRAM_TERMS": "direct"},  # Gram matrices from the blocks
        # a Lanczos level too low for its block's Cholesky check: the eigensolver instead
        {"SMALL_BLOCK": 0, "LANCZOS_BLOCK": 0},  # every block solved by Lanczos
        {"SMALL_BLOCK": 0, "LANCZOS_BLOCK": 0, "BLOCK_RESIDUAL": 0.9},
    ],
)
@pytest.mark.parametrize("mean", [0.0, 2.0], ids=["zero-mean", "strong-mean"])
@pytest.mark.parametrize(
    "kshape, shape, kwargs",
    [
        ((256, 256, 2), (256, 3), dict(padding=1)),  # blocks of side 256
        ((260, 70, 3), (70, 8), dict(padding=1, stride=4)),  # 260 x 280 blocks
        ((64, 32, 3, 3), (32, 6, 5), dict(padding=1, stride=2)),
        ((60, 30, 3, 3), (30, 4, 4), dict(padding=1, boundary="reflect")),
    ],
    ids=["side-256", "260x280", "strided-2d", "reflect"],
)
def test_large_block_certification_paths(kshape, shape, kwargs, patch, mean):
    """A strong mean (twice the standard deviation) makes the low frequencies dominate:
    most blocks are then certified by their trace bound."""
    w = _rand(kshape, rng=np.random.default_rng(len(kshape))) + mean
    op = ConvOperator(w, shape, **kwargs)
    key = (kshape, shape, tuple(sorted(kwargs.items())), mean)
    if key not in _LARGE_DENSE:
        _LARGE_DENSE[key] = _dense_norm(op)
    dense = _LARGE_DENSE[key]
    with pytest.MonkeyPatch.context() as mp:
        for name, value in patch.items():
            mp.setattr(bounds, name, value)
        b = norm_bounds(op)
    _check_bounds(op, b, dense)


# ----------------------------------------------------------------------------------------
# the Gram matrices of the polyphase blocks: their spectra and their rounding
# ----------------------------------------------------------------------------------------
def _all_frequencies(M):
    mesh = np.meshgrid(*[np.arange(m) for m in M], indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1).astype(np.int64)


def _forward_geometry_and_kernel(op):
    g = op.geometry.transpose() if op.transposed else op.geometry
    wide = np.result_type(op.kernel.dtype, np.float64)
    return g, g.canonical_kernel(np.asarray(op.kernel).astype(wide))


@pytest.mark.parametrize("terms", ["pairs", "direct"])
@given(op=circulant_ops())
def test_gram_matrices_hold_the_squared_singular_values(op, terms):
    """On a block-circulant geometry the Gram matrices of every frequency, formed from the
    tap pairs or from the blocks, have the squared singular values of the dense matrix (the
    blocks leave out the phases no tap lands on, whose singular values are zero)."""
    g, w = _forward_geometry_and_kernel(op)
    emb = bounds.Embedding("rows", g.spatial_in, g.stride, 1.0)
    freqs = _all_frequencies([n // s for n, s in zip(g.spatial_in, g.stride, strict=True)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "GRAM_TERMS", terms)
        source = bounds._Grams(w, g, emb, len(freqs))
    assert source.mode == terms
    grams = source.grams(freqs)
    eig = np.sort(np.linalg.eigvalsh(grams.reshape(-1, *grams.shape[2:])).ravel())[::-1]
    dense = np.linalg.svd(op.toarray(), compute_uv=False) ** 2
    assert eig.size <= dense.size
    full = np.zeros(dense.size)
    full[: eig.size] = eig
    np.testing.assert_allclose(full, dense, rtol=0, atol=1e-12 * max(dense[0], 1e-300))


@pytest.mark.parametrize("terms", ["pairs", "direct"])
@given(op=cst.operators(dtypes=("float64", "complex128")))
def test_gram_rounding_stays_within_its_stated_bound(op, terms):
    """``|Ĝ(f) − G(f)| <= γ·Ā`` entrywise, the claim the certified bound rests on, against
    ``G(f) = B(f)B(f)ᴴ`` (or ``BᴴB``) formed in extended precision from the taps
    themselves, with ``Ā = V Vᴴ`` (or ``Vᴴ V``) for ``V`` the sums of the taps' moduli in
    each polyphase column; the trace bounds are never below the traces."""
    g, w = _forward_geometry_and_kernel(op)
    emb = bounds.embeddings(g)[0]
    M = [N // s for N, s in zip(emb.grid, emb.stride, strict=True)]
    freqs = _all_frequencies(M)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "GRAM_TERMS", terms)
        source = bounds._Grams(w, g, emb, len(freqs))
    grams = source.grams(freqs)
    # the reference: every tap at offset ⌊q/s⌋ of phase q mod s, q = (t·d) mod N
    G = g.groups
    cout, cin_g = w.shape[:2]
    layout = []
    for k, d, s, N in zip(g.kernel_size, g.dilation, emb.stride, emb.grid, strict=True):
        q = (np.arange(k) * d) % N
        used = np.unique(q % s)
        layout.append((q // s, np.searchsorted(used, q % s), used.size))
    R = math.prod(n for _, _, n in layout)
    B = np.zeros((len(freqs), cout, cin_g, R), dtype=np.clongdouble)
    V = np.zeros((cout, cin_g, R), dtype=np.longdouble)
    two_pi = 8 * np.arctan(np.longdouble(1))
    for t in np.ndindex(*g.kernel_size):
        turns = sum(
            (freqs[:, a].astype(np.longdouble) * layout[a][0][t[a]]) / M[a] for a in range(g.ndim)
        )
        phase = np.cos(two_pi * turns) + 1j * np.sin(two_pi * turns)
        r = int(
            np.ravel_multi_index(
                [int(layout[a][1][t[a]]) for a in range(g.ndim)], [n for _, _, n in layout]
            )
        )
        tap = w[(slice(None), slice(None)) + t].astype(np.clongdouble)
        B[..., r] += phase[:, None, None] * tap
        V[..., r] += np.abs(w[(slice(None), slice(None)) + t])
    B = B.reshape(len(freqs), G, cout // G, cin_g * R)
    V = V.reshape(G, cout // G, cin_g * R)
    BH = np.conj(np.swapaxes(B, 2, 3))
    if source.wide:
        exact, bar = B @ BH, V @ np.swapaxes(V, 1, 2)
    else:
        exact, bar = BH @ B, np.swapaxes(V, 1, 2) @ V
    assert grams.shape == exact.shape
    error = np.abs(grams.astype(np.clongdouble) - exact)
    assert np.all(error <= source.gamma * bar[None] * (1 + 1e-6) + 1e-300)
    traces = source.trace_bounds(freqs)
    if traces is not None:
        assert np.all(traces >= np.einsum("fgii->fg", exact).real.astype(float) * (1 - 1e-15))


@given(op=cst.operators(dtypes=("float64", "complex128")))
def test_polyphase_kernel_summed_is_the_block_at_frequency_zero(op):
    """``summed=True`` (the Collatz–Wielandt prediction's block) equals the sum of the
    offsets' matrices, and the block at frequency 0 of :func:`polyphase_blocks`."""
    from convops.spectral.norms import polyphase_blocks, polyphase_kernel

    g, w = _forward_geometry_and_kernel(op)
    emb = bounds.embeddings(g)[0]
    args = (w, g.dilation, emb.stride, emb.grid, g.groups)
    _, W = polyphase_kernel(*args, used_only=True)
    zero, S = polyphase_kernel(*args, used_only=True, summed=True)
    assert S.shape == (1, *W.shape[1:]) and not np.any(zero)
    np.testing.assert_allclose(S[0], W.sum(axis=0), rtol=1e-13, atol=1e-13)
    first = polyphase_blocks(*args, used_only=True)[0]  # (G, C_out/G, columns)
    np.testing.assert_allclose(
        S[0].reshape(first.shape), first, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(w).sum())
    )


def _hermitian(rng, n, shift):
    b = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    h = b @ np.conj(b.T)
    return h - shift * float(np.linalg.eigvalsh(h)[-1]) * np.eye(n)


@pytest.mark.parametrize("through", ["ctypes", "numpy"])
@given(n=st.integers(1, 40), shift=st.sampled_from([0.0, -1e-3, 0.3, 1.1]), seed=st.integers(0, 99))
def test_cholesky_succeeds_exactly_on_positive_definite_matrices(through, n, shift, seed):
    """OpenBLAS's zpotrf through ctypes (where found) and numpy's fallback agree with
    numpy's own cholesky, on matrices well inside, near and outside the cone."""
    from convops.spectral import _blas_threads

    h = _hermitian(np.random.default_rng(seed), n, shift)
    try:
        np.linalg.cholesky(h)
        expected = True
    except np.linalg.LinAlgError:
        expected = False
    with pytest.MonkeyPatch.context() as patch:
        if through == "numpy":
            patch.setattr(_blas_threads, "_potrf_found", [None])
        elif _blas_threads._potrf() is None:
            pytest.skip("no OpenBLAS zpotrf found through ctypes here")
        assert _blas_threads.cholesky_succeeds(np.array(h)) is expected


def test_potrf_found_through_ctypes_passes_its_own_check():
    from convops.spectral import _blas_threads

    fn = _blas_threads._potrf()
    if fn is None:
        pytest.skip("no OpenBLAS zpotrf found through ctypes here")
    assert _blas_threads._checked(fn)
    assert _blas_threads._potrf() is fn  # looked up once


@pytest.mark.parametrize("workers", [None, 1, 2])
def test_parallel_lapack_maps_in_order_on_one_blas_thread_each(workers):
    from convops.spectral import _blas_threads

    setters = _blas_threads._setters()

    def work(i):
        counts = [setter(1) for setter in setters]  # this thread's count, left at 1
        return i * i, counts

    with _blas_threads.parallel_lapack(workers) as pmap:
        results = pmap(work, range(9))
    assert [r for r, _ in results] == [i * i for i in range(9)]
    if workers != 1 and _blas_threads._cores() > 1:
        assert all(counts == [1] * len(setters) for _, counts in results)


def test_norm_bounds_does_not_depend_on_the_factorisations_running_side_by_side():
    """The parallel Cholesky checks of a chunk give the same bounds as one after another."""
    from contextlib import contextmanager

    @contextmanager
    def serial(workers=None):
        yield lambda fn, items: [fn(item) for item in items]

    w = _rand((256, 256, 2), rng=np.random.default_rng(2))
    op = ConvOperator(w, (256, 3), padding=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "SMALL_BLOCK", 0)
        side_by_side = norm_bounds(op)
        patch.setattr(bounds, "parallel_lapack", serial)
        one_by_one = norm_bounds(op)
    assert side_by_side.upper == one_by_one.upper
    assert side_by_side.lower == one_by_one.lower


def test_single_threaded_blas_sets_one_thread_and_restores_the_count():
    from convops.spectral import _blas_threads

    setters = _blas_threads._setters()
    if not setters:
        pytest.skip("no loaded OpenBLAS has openblas_set_num_threads_local")

    def count(setter):  # the calling thread's count, left as it is
        value = setter(1)
        setter(value)
        return value

    original = [setter(2) for setter in setters]  # a known count for this thread
    try:
        with _blas_threads.single_threaded_blas():
            inside = [count(setter) for setter in setters]
        after = [count(setter) for setter in setters]
    finally:
        for setter, count in zip(setters, original, strict=True):
            setter(count)
    assert inside == [1] * len(setters)
    assert after == [2] * len(setters)


@given(op=cst.operators(dtypes=("float64",), boundaries=("zeros", "circular")))
def test_nonnegative_kernels_are_tight(op):
    """All taps >= 0, one group: the Collatz–Wielandt bound closes the gap (to about rtol).

    With several groups the witness lives in one group's block and the others start from the
    positive floor, so the bound may stay a few per cent loose (documented in bounds.py)."""
    assume(op.geometry.groups == 1)
    op = ConvOperator.from_geometry(np.abs(op.kernel) + 0.01, op.geometry)
    dense = _dense_norm(op)
    b = norm_bounds(op, rtol=1e-4)
    _check_bounds(op, b, dense)
    assert b.upper <= dense * (1 + 2e-3)


@given(circulant_ops())
def test_block_circulant_bounds_are_exact(op):
    dense = _dense_norm(op)
    b = norm_bounds(op)
    assert b.exact and b.lower == b.upper
    assert b.upper == pytest.approx(dense, rel=1e-12, abs=1e-300)
    _check_bounds(op, b, dense)


@pytest.mark.parametrize("transpose", [False, True])
def test_tight_on_a_zero_padded_strided_layer(transpose):
    op = ConvOperator(
        _rand((8, 4, 3, 3), rng=np.random.default_rng(101)), (4, 24, 24), stride=2, padding=1
    )
    op = op.H if transpose else op
    dense = _dense_norm(op)
    b = norm_bounds(op, rtol=1e-3)
    _check_bounds(op, b, dense)
    assert b.gap < 1.03 and b.upper < dense * 1.03
    assert "restriction" in b.upper_method and "Lanczos" in b.lower_method


def test_zero_operators_are_exact():
    zero_kernel = ConvOperator(np.zeros((2, 3, 3)), (3, 9))
    only_padding = ConvOperator(np.ones(1), (1,), padding=1, stride=2)  # reads no input
    for op in (zero_kernel, only_padding, only_padding.H):
        assert _dense_norm(op) == 0
        b = norm_bounds(op)
        assert b.exact and b.lower == b.upper == 0 and b.gap == 1.0


def test_applications_are_counted(monkeypatch):
    """Every product with A or Aᴴ norm_bounds makes is in its count."""
    calls = []
    original = ConvOperator.apply

    def counting(self, x):
        calls.append(1)
        return original(self, x)

    op = ConvOperator(
        _rand((4, 2, 3, 3), rng=np.random.default_rng(102)), (2, 12, 12), stride=2, padding=1
    )
    for kernel in (op.kernel, np.abs(op.kernel)):  # Lanczos only; with Collatz–Wielandt
        calls.clear()
        monkeypatch.setattr(ConvOperator, "apply", counting)
        b = norm_bounds(ConvOperator.from_geometry(kernel, op.geometry))
        monkeypatch.setattr(ConvOperator, "apply", original)
        assert b.applications == len(calls) > 0


def test_maxiter_limits_the_lanczos_steps():
    op = ConvOperator(
        _rand((4, 2, 3, 3), rng=np.random.default_rng(103)),
        (2, 16, 16),
        padding=1,
        boundary="reflect",
    )
    b = norm_bounds(op, maxiter=2, rtol=1e-9)
    # two Lanczos steps (two products each), the witness evaluation, and at most 8 power
    # steps (two products each) of a Collatz–Wielandt bound
    assert "2 steps" in b.lower_method
    assert b.applications <= 2 * 2 + 2 + 2 * 8
    assert b.lower <= _dense_norm(op) <= b.upper


def test_rng_makes_results_repeat():
    op = ConvOperator(
        _rand((3, 2, 3), rng=np.random.default_rng(104)), (2, 40), padding=1, boundary="replicate"
    )
    a, b = norm_bounds(op, rng=3), norm_bounds(op, rng=3)
    assert a.lower == b.lower and a.upper == b.upper
    np.testing.assert_array_equal(a.witness, b.witness)
    c = norm_bounds(op, rng=np.random.default_rng(4))
    assert c.lower <= _dense_norm(op) <= c.upper


def test_progress_is_reported():
    messages = []
    op = ConvOperator(_rand((3, 2, 3, 3), rng=np.random.default_rng(105)), (2, 20, 20), padding=1)
    norm_bounds(op, progress=messages.append, rtol=1e-8)
    assert any("embedding" in m for m in messages) and any("Lanczos" in m for m in messages)


def test_str_states_the_interval_and_the_methods():
    b = norm_bounds(
        ConvOperator(_rand((3, 2, 3), rng=np.random.default_rng(106)), (2, 30), padding=1)
    )
    text = str(b)
    assert f"{b.lower:.9g} <= ||A|| <= {b.upper:.9g}" in text
    assert b.upper_method in text and b.lower_method in text


# ----------------------------------------------------------------------------------------
# the facts the upper bound rests on
# ----------------------------------------------------------------------------------------
def _padding_matrix(g, axis):
    """P_axis on the read positions, from the geometry's boundary map (one 1 per row)."""
    pos = bounds._read_positions(g, axis)
    src = g.boundary_index(axis, pos)
    P = np.zeros((len(pos), g.spatial_in[axis]))
    rows = np.nonzero(src >= 0)[0]
    P[rows, src[rows]] = 1
    return P


@given(cst.geometries())
def test_padding_map_norm_is_the_dense_norm_of_each_axis(g):
    norms = padding_map_norm(g)
    assert len(norms) == g.ndim
    for axis, value in enumerate(norms):
        P = _padding_matrix(g, axis)
        assert value == pytest.approx(np.linalg.norm(P, 2) if P.any() else 0.0, rel=1e-12)
    if g.boundary == "zeros":
        assert all(v in (0.0, 1.0) for v in norms)


@given(op=cst.operators(dtypes=("float64",), boundaries=("zeros",), multichannel=True))
def test_zero_padding_is_a_submatrix_of_the_circular_convolution(op):
    """A = R·C_N·J: rows o < m of the strided circular convolution on the embedding's grid,
    columns at (i + lo) mod N (zero columns for inputs the window never reads)."""
    g = op.geometry.transpose() if op.transposed else op.geometry
    (emb,) = bounds.embeddings(g)
    spans = [e - 1 for e in g.span]
    assume(all(sp <= N for sp, N in zip(spans, emb.grid, strict=True)))
    circ = ConvOperator(
        op.kernel,
        (g.in_channels, *emb.grid),
        stride=g.stride,
        dilation=g.dilation,
        groups=g.groups,
        flip=g.flip,
        boundary="circular",
        padding=[(0, sp) for sp in spans],
    )
    C = circ.toarray().reshape(g.out_channels, *circ.output_shape[1:], g.in_channels, *emb.grid)
    A = (
        (op.H if op.transposed else op)
        .toarray()
        .reshape(g.out_channels, *g.spatial_out, g.in_channels, *g.spatial_in)
    )
    read = [
        min(n, e - lo)
        for n, e, (lo, _) in zip(g.spatial_in, g.padded_extent, g.padding, strict=True)
    ]
    cols = [
        (np.arange(r) + lo) % N for r, (lo, _), N in zip(read, g.padding, emb.grid, strict=True)
    ]
    D = g.ndim
    sub = C  # rows o < m, then the input columns, axis by axis
    for a in range(D):
        sub = np.take(sub, np.arange(g.spatial_out[a]), axis=1 + a)
    for a in range(D):
        sub = np.take(sub, cols[a], axis=2 + D + a)
    np.testing.assert_allclose(A[(Ellipsis,) + tuple(slice(0, r) for r in read)], sub, atol=1e-12)
    for a, (r, n) in enumerate(zip(read, g.spatial_in, strict=True)):
        assert not A.take(np.arange(r, n), axis=2 + D + a).any()  # never-read inputs


def test_circular_rows_bound_on_a_size_not_divisible_by_the_stride():
    """n = 9, stride 2: rows of the stride-1 circular convolution on 9, each once."""
    op = ConvOperator(
        _rand((3, 2, 3), rng=np.random.default_rng(107)),
        (2, 9),
        stride=2,
        padding=1,
        boundary="circular",
    )
    (rows, *_) = bounds.embeddings(op.geometry)
    assert rows.kind == "rows" and rows.stride == (1,) and rows.factor == 1.0
    full = ConvOperator(op.kernel, (2, 9), padding=1, boundary="circular")
    A = op.toarray().reshape(3, 5, 18)
    F = full.toarray().reshape(3, 9, 18)
    np.testing.assert_array_equal(A, F[:, [0, 2, 4, 6, 8]])
    assert norm_bounds(op).upper >= np.linalg.norm(F.reshape(27, 18), 2) * (1 - 1e-14)


# ----------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------
OP = ConvOperator(np.ones((2, 1, 3)), (1, 10), padding=1)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(rtol=0), ValueError, ["rtol=0", "between 0 and 1"]),
        (dict(rtol=1.0), ValueError, ["rtol=1.0"]),
        (dict(rtol="1e-3"), TypeError, ["rtol", "'1e-3'"]),
        (dict(rtol=float("nan")), ValueError, ["rtol", "finite"]),
        (dict(maxiter=0), ValueError, ["maxiter=0", ">= 1"]),
        (dict(maxiter=2.5), TypeError, ["maxiter", "2.5"]),
        (dict(maxiter=True), TypeError, ["maxiter", "True"]),
        (dict(rng=-1), ValueError, ["rng=-1", ">= 0"]),
        (dict(rng="seed"), TypeError, ["rng", "'seed'", "Generator"]),
        (dict(progress="print"), TypeError, ["progress", "callable"]),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, exc, words):
    with pytest.raises(exc) as info:
        norm_bounds(OP, **kwargs)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=4),
        st.just(np.ones((3, 3))),
        st.just(OP.matrix()),
        st.just(OP.factors().product()),
        st.just(OP.geometry),
    )
)
def test_anything_but_a_conv_operator_is_refused(value):
    with pytest.raises(TypeError, match=r"op must be a convops\.ConvOperator"):
        norm_bounds(value)


@given(
    st.one_of(
        st.floats(allow_nan=True), st.integers(-5, 5), st.booleans(), st.none(), st.text(max_size=3)
    )
)
def test_rtol_outside_the_open_unit_interval_is_refused(value):
    if isinstance(value, float) and 0 < value < 1:
        assert norm_bounds(OP, rtol=value).lower <= norm_bounds(OP, rtol=value).upper
        return
    with pytest.raises((ValueError, TypeError), match="rtol"):
        norm_bounds(OP, rtol=value)


def test_a_lanczos_basis_beyond_the_memory_limit_is_refused():
    op = ConvOperator(np.ones((2, 1, 3)), (1, 4000), padding=1)
    with convops.configure(max_work_bytes=100_000), pytest.raises(ValueError) as info:
        norm_bounds(op)
    assert "max_work_bytes" in str(info.value) and "norm_bounds" in str(info.value)


def test_singular_values_beyond_the_memory_limit_are_refused_before_any_work():
    op = ConvOperator(
        np.ones((64, 64, 3, 3, 3)), (64, 256, 256, 256), padding=1, boundary="circular"
    )
    with pytest.raises(ValueError, match=r"singular_values.*max_work_bytes"):
        singular_values(op)


def test_docstring_examples_run():
    import doctest

    assert doctest.testmod(bounds).failed == 0


# ----------------------------------------------------------------------------------------
# the benchmark's reference methods (benchmarks/norms.py), against a dense SVD
# ----------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "norms.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmark_norms", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SMALL_LAYERS = [  # (kernel shape, input shape, stride, padding, boundary)
    ((4, 3, 3, 3), (3, 9, 9), 1, 1, "zeros"),
    ((6, 3, 3, 3), (3, 10, 10), 2, 1, "zeros"),
    ((3, 4, 5, 5), (4, 8, 8), 1, 2, "zeros"),
    ((4, 2, 1, 1), (2, 6, 6), 2, 0, "zeros"),
    ((4, 3, 3, 3), (3, 8, 8), 1, 1, "circular"),
]


@pytest.mark.parametrize("kshape, shape, stride, padding, boundary", SMALL_LAYERS)
def test_reference_methods_against_a_dense_svd(bench, kshape, shape, stride, padding, boundary):
    w = _rand(kshape, rng=np.random.default_rng(sum(kshape) + stride))
    op = ConvOperator(w, shape, stride=stride, padding=padding, boundary=boundary)
    dense = _dense_norm(op)
    n, k = shape[-1], kshape[-1]
    # reshaped matrix: exactly the SVD of W.reshape(C_out, -1)
    assert bench.reshaped_norm(w) == pytest.approx(np.linalg.norm(w.reshape(kshape[0], -1), 2))
    # power iteration: a Rayleigh quotient, never above (and not far below, here)
    power = bench.power_iteration(op)
    assert dense * 0.9 <= power <= dense * (1 + 1e-12)
    # Singla & Feizi, Araujo et al. (even sampled, on these cases), Gram iteration on the
    # grid n + k − 1: upper bounds
    assert bench.singla_feizi(w) >= dense * (1 - 1e-12)
    assert bench.araujo(w) >= dense * (1 - 1e-12)
    big = -(-(n + k - 1) // stride) * stride  # n + k − 1 rounded up to the stride
    assert bench.gram_iteration(w, (big,) * 2, stride=stride) >= dense * (1 - 1e-12)


@pytest.mark.parametrize("stride", [1, 2])
def test_gram_iteration_converges_to_the_circular_norm_from_above(bench, stride):
    w = _rand((4, 3, 3, 3), rng=np.random.default_rng(7))
    # the strided circular convolution on 8×8 (block-circulant: exact singular values)
    circular = ConvOperator(w, (3, 8, 8), padding=1, boundary="circular", stride=stride)
    exact = float(singular_values(circular)[0])
    values = [bench.gram_iteration(w, (8, 8), steps=t, stride=stride) for t in (1, 3, 6, 10)]
    assert all(v >= exact * (1 - 1e-12) for v in values)
    assert np.all(np.diff(values) <= 1e-12 * exact) and values[-1] <= exact * (1 + 1e-3)


def test_reshaped_norm_and_gram_on_n_are_not_bounds(bench):
    # a 3×3 kernel on a 1×1 input with padding 1 uses only its centre tap: the reshaped
    # matrix's norm is larger than the operator's
    w = _rand((3, 2, 3, 3), rng=np.random.default_rng(8))
    tiny = ConvOperator(w, (2, 1, 1), padding=1)
    assert bench.reshaped_norm(w) > _dense_norm(tiny) * 1.1
    # an all-positive kernel on 10×10: it is smaller (the issue of pytorch#99149)
    big = ConvOperator(np.abs(w), (2, 10, 10), padding=1)
    assert bench.reshaped_norm(np.abs(w)) < _dense_norm(big) * 0.9
    # Gram iteration on the input grid bounds the circular convolution, not this
    # zero-padded one
    w = np.array([[[[0.7, -0.4, 1.4], [-0.9, 0.8, -0.7], [0.2, -1.8, 0.5]]]])
    op = ConvOperator(w, (1, 3, 3), padding=1)
    assert bench.gram_iteration(w, (3, 3), steps=10) < _dense_norm(op) * 0.8
    assert bench.gram_iteration(w, (5, 5), steps=10) >= _dense_norm(op)


def test_benchmark_quick_run_reports_every_layer_and_method(tmp_path):
    out = tmp_path / "norms.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["meta"]["quick"] is True
    rows = data["rows"]
    names = {r["layer"] for r in rows}
    assert len(rows) == 3 * len(names) == 15  # every quick layer, every kernel kind
    for r in rows:
        truth = r["truth"]
        assert r["lower"] <= truth * (1 + 1e-12) and r["upper"] >= truth * (1 - 1e-14)
        assert r["applications"] > 0 and r["seconds"] > 0 and r["time_in_applications"] > 0
        m = {name: v["value"] for name, v in r["methods"].items()}
        assert set(m) == {"reshaped", "power", "singla", "araujo", "gram(n)", "gram(n+k-1)"}
        assert m["power"] <= truth * (1 + 1e-12)
        assert m["singla"] >= truth * (1 - 1e-12) and m["gram(n+k-1)"] >= truth * (1 - 1e-12)
    assert {t["kind"] for t in data["targets"]} == {"random", "mean", "positive"}
    for table in ("### convops' interval", "### The published methods", "### Targets"):
        assert table in proc.stdout


# ----------------------------------------------------------------------------------------
# the command line: convops norm
# ----------------------------------------------------------------------------------------
def _cli(argv, capsys):
    from convops import cli

    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _interval(out: str) -> tuple[float, float]:
    line = next(ln for ln in out.splitlines() if ln.startswith("||A||_2"))
    if "(exact)" in line:
        value = float(line.split("=")[1].split()[0])
        return value, value
    lo, hi = line.split("[", 1)[1].split("]", 1)[0].split(",")
    return float(lo), float(hi)


@pytest.mark.parametrize("transpose", [False, True])
def test_cli_norm_prints_an_interval_around_the_dense_norm(capsys, transpose):
    argv = [
        "norm",
        "--input",
        "10x9",
        "--kernel",
        "3x3",
        "--channels",
        "2:4",
        "--stride",
        "2",
        "--padding",
        "1",
        "--boundary",
        "replicate",
        "--seed",
        "3",
    ]
    status, out, _ = _cli(argv + (["--transpose"] if transpose else []), capsys)
    assert status == 0
    # the documented default kernel: standard normal values from the seed, C order
    w = np.random.default_rng(3).standard_normal(4 * 2 * 9).reshape(4, 2, 3, 3)
    op = ConvOperator(w, (2, 10, 9), stride=2, padding=1, boundary="replicate")
    lo, hi = _interval(out)
    dense = _dense_norm(op)
    assert lo <= dense * (1 + 1e-9) and hi >= dense * (1 - 1e-9)
    b = norm_bounds(op.H if transpose else op, rng=3)
    assert f"[{b.lower:.10g}, {b.upper:.10g}]" in out
    assert out.splitlines()[0] == str((op.H if transpose else op).geometry)
    assert f"upper: {b.upper_method}" in out and f"lower: {b.lower_method}" in out
    assert "products with A or A*" in out and " s" in out


def test_cli_norm_of_a_block_circulant_geometry_is_exact(capsys):
    argv = [
        "norm",
        "--input",
        "16x16",
        "--kernel",
        "3x3",
        "--boundary",
        "circular",
        "--padding",
        "1",
        "--stride",
        "2",
        "--values",
        "1,2,3,4,5,6,7,8,9",
    ]
    status, out, _ = _cli(argv, capsys)
    assert status == 0 and "(exact)" in out
    op = ConvOperator(
        np.arange(1.0, 10).reshape(3, 3), (16, 16), boundary="circular", padding=1, stride=2
    )
    value, _ = _interval(out)
    assert value == pytest.approx(_dense_norm(op), rel=1e-9)


def test_cli_norm_reports_progress_on_stderr(capsys, monkeypatch):
    from convops import cli

    monkeypatch.setattr(cli, "NORM_PROGRESS_AFTER", 0.0)  # as if it were a long computation
    status, out, err = _cli(
        [
            "norm",
            "--input",
            "24x24",
            "--kernel",
            "3x3",
            "--channels",
            "3:3",
            "--padding",
            "1",
            "--rtol",
            "1e-9",
        ],
        capsys,
    )
    assert status == 0
    assert "Lanczos step 10" in err and "circulant embedding" in err and " s]" in err
    assert "Lanczos step" not in out  # stdout holds the result only


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--rtol", "0"], ["rtol=0.0", "between 0 and 1"]),
        (["--maxiter", "0"], ["maxiter=0", ">= 1"]),
        (["--seed", "-1"], ["--seed=-1", ">= 0"]),
        (["--boundary", "wrap"], ["boundary='wrap'"]),
    ],
)
def test_cli_norm_refuses_bad_arguments_in_one_line(capsys, extra, words):
    status, out, err = _cli(["norm", "--input", "8", "--kernel", "3", *extra], capsys)
    assert status == 2 and not out
    assert err.startswith("convops: error:") and err.count("\n") == 1
    for w in words:
        assert w in err, (w, err)
