"""Claim: ConvOperator behaves as documented — shapes, attributes, dtypes, matrix(), the
explicit matrices and their structure, and the PyTorch-style functional wrappers."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given

import convops
from convops import ConvOperator, conv, conv_matrix, conv_transpose, conv_transpose_matrix
from convops.testing import strategies as cst


@given(op=cst.operators(max_ndim=2))
def test_matrix_equals_the_operator_probed_column_by_column(op):
    cols = op @ np.eye(op.shape[1])  # column j is op applied to the j-th unit vector
    M = op.matrix()
    assert isinstance(M, sp.csr_array) and M.shape == op.shape
    np.testing.assert_allclose(
        M.toarray(), cols, atol=1e-5 if op.dtype in (np.float32, np.complex64) else 1e-12
    )


@given(spec=cst.conv_specs())
def test_conv_transpose_matrix_is_the_conjugate_transpose(spec):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(spec.kernel_shape) + 1j * rng.standard_normal(spec.kernel_shape)
    A = conv_matrix(w, spec.input_shape, **spec.kwargs)
    B = conv_transpose_matrix(w, spec.input_shape, **spec.kwargs)
    assert isinstance(B, sp.csr_array)
    np.testing.assert_array_equal(B.toarray(), A.toarray().conj().T)
    assert A.has_sorted_indices


def test_toeplitz_and_block_circulant_structure():
    w = np.arange(1.0, 4.0)
    T = conv_matrix(w, (6,), padding="full").toarray()
    # Toeplitz: constant along diagonals
    assert all(len(set(np.diag(T, k))) == 1 for k in range(-T.shape[0] + 1, T.shape[1]))
    C = conv_matrix(w, (5,), padding=(0, 2), boundary="circular").toarray()
    # circulant: each row is the previous one rolled by one
    for i in range(1, 5):
        np.testing.assert_array_equal(C[i], np.roll(C[i - 1], 1))
    # 2D: 4x4 blocks, block (i, j) depends on j - i only, and each block is Toeplitz
    A = conv_matrix(np.arange(1.0, 10.0).reshape(3, 3), (6, 6)).toarray()
    blocks = A.reshape(4, 4, 6, 6).transpose(0, 2, 1, 3)
    for i in range(4):
        for j in range(6):
            off = j - i
            np.testing.assert_array_equal(
                blocks[i, j], blocks[0, off] if 0 <= off < 6 else blocks[i, j]
            )
    assert np.array_equal(blocks[1, 1], blocks[0, 0])


def test_attributes_and_geometry():
    op = ConvOperator(np.ones((4, 3, 3, 3)), (6, 10, 12), stride=2, padding="valid", groups=2)
    assert op.input_shape == (6, 10, 12) and op.output_shape == (4, 4, 5)
    assert op.shape == (4 * 4 * 5, 6 * 10 * 12)
    assert op.H.input_shape == op.output_shape and op.H.output_shape == op.input_shape
    assert op.geometry.stride == (2, 2) and op.geometry.padding == ((0, 0), (0, 0))
    assert op.method in ("direct", "fft") and op.H.method == op.method
    assert op.kernel.shape == (4, 3, 3, 3)
    assert "stride=(2, 2)" in str(op.geometry)
    g = convops.make_geometry((3, 3), (5, 5), padding="same", dilation=2)
    assert g.padding == ((2, 2), (2, 2)) and g.spatial_out == (5, 5)
    g = convops.make_geometry((4,), (8,), padding="same")
    assert g.padding == ((1, 2),)  # total 3, lo = 3 // 2 (PyTorch)


@pytest.mark.parametrize(
    "kernel_dtype, x_dtype, out_dtype",
    [
        ("float32", "float32", "float32"),
        ("float64", "float32", "float64"),
        ("float32", "float64", "float64"),
        ("int64", "int64", "float64"),
        ("int32", "bool", "float64"),
        ("float16", "float16", "float32"),
        ("float32", "complex64", "complex64"),
        ("complex128", "float32", "complex128"),
        ("float64", "int8", "float64"),
    ],
)
@pytest.mark.parametrize("method", ["matrix", "direct", "fft"])
def test_result_dtypes(kernel_dtype, x_dtype, out_dtype, method):
    w = np.array([[1, 2], [3, 4]]).astype(kernel_dtype)
    x = np.arange(12).reshape(3, 4).astype(x_dtype)
    op = ConvOperator(w, (3, 4), method=method)
    expected_op_dtype = {"int64": "float64", "int32": "float64", "float16": "float32"}.get(
        kernel_dtype, kernel_dtype
    )
    assert op.dtype == np.dtype(expected_op_dtype)
    y = op.apply(x)
    assert y.dtype == np.dtype(out_dtype)
    assert op.H.apply(y).dtype == np.dtype(out_dtype)
    # values are right in every dtype (hand-computed first entry: 1·0 + 2·1 + 3·4 + 4·5)
    assert np.isclose(y[0, 0], 34 if x_dtype != "bool" else 1 * 0 + 2 * 1 + 3 * 1 + 4 * 1)


def test_single_channel_functional_round_trip_shapes():
    x = np.random.default_rng(0).standard_normal((9, 8))
    w = np.ones((3, 2))
    for s in (1, 2, 3):
        y = conv(x, w, stride=s, padding=1)
        m = tuple((n + 2 - k) // s + 1 for n, k in zip(x.shape, w.shape, strict=True))
        assert y.shape == m
        back = conv_transpose(y, w, stride=s, padding=1)
        assert back.shape == tuple(
            (mi - 1) * s - 2 + (k - 1) + 1 for mi, k in zip(m, w.shape, strict=True)
        )


def test_unbatched_and_batched_torch_layout():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 7, 7))
    w = rng.standard_normal((5, 3, 3, 3))
    b = np.arange(5.0)
    y1 = convops.conv2d(x, w, b, padding=1)
    yb = convops.conv2d(x[None], w, b, padding=1)
    assert y1.shape == (5, 7, 7) and yb.shape == (1, 5, 7, 7)
    np.testing.assert_allclose(yb[0], y1)
    no_bias = convops.conv2d(x, w, padding=1)
    np.testing.assert_allclose(
        y1 - no_bias, np.broadcast_to(b[:, None, None], y1.shape), atol=1e-12
    )
    t = convops.conv_transpose2d(y1, w, padding=1)
    assert t.shape == (3, 7, 7)


def test_spectrum_is_cached_once_and_shared_with_the_adjoint(monkeypatch):
    from convops.realisations import fft

    calls = []
    real = fft.spectrum
    monkeypatch.setattr(fft, "spectrum", lambda *a, **k: calls.append(1) or real(*a, **k))
    op = ConvOperator(np.ones((5, 5)), (32, 32), method="fft")
    x = np.ones((32, 32))
    for _ in range(3):
        y = op.apply(x)
        op.H.apply(y)
    assert len(calls) == 1


def test_importing_convops_does_not_import_matplotlib_or_hypothesis():
    import subprocess
    import sys

    code = "import sys, convops, convops.testing; print('matplotlib' in sys.modules, 'hypothesis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


@given(spec=cst.conv_specs())
def test_fft_grid_covers_the_padded_input_and_prefers_stride_multiples(spec):
    from scipy.fft import next_fast_len

    g = spec.geometry()
    for e, s, N in zip(g.padded_extent, g.stride, g.fft_shape, strict=True):
        assert N >= e and next_fast_len(N, real=True) == N
        if N % s:  # only when no multiple of s within 25 % of the fast length exists
            assert s * next_fast_len(-(-e // s), real=True) > 1.25 * next_fast_len(e, real=True)


def test_fft_grid_example_128_cubed_stride_2():
    g = convops.make_geometry((9, 9, 9), (128, 128, 128), stride=2, padding=4)
    assert g.padded_extent == (135,) * 3 and g.fft_shape == (144,) * 3  # 135 is fast but odd
