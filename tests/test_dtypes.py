"""Claim: every dtype numpy hands us computes as its native equivalent.

Big-endian arrays compute (and return) in the machine's byte order with the same
promotion rules as native ones: ``'>f2'`` is float16 and becomes float32 like ``'<f2'``.
Mixed precision accumulates in the result dtype in every realisation: a float32 kernel
applied to float64 data with a folding boundary is as exact in the matrix realisation as
in the direct and FFT ones.
"""

import numpy as np
import pytest

import convops

METHODS = ("direct", "fft", "matrix")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("code", [">f2", ">f4", ">f8", ">c8", ">c16", ">i4", "<f2"])
def test_big_endian_kernels_and_inputs(method, code):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((2, 2, 3)) * 4).astype(code)
    x = (rng.standard_normal((2, 9)) * 4).astype(code)
    native = np.dtype(code).newbyteorder("=")
    op = convops.ConvOperator(w, (2, 9), padding=1, method=method)
    ref = convops.ConvOperator(w.astype(native), (2, 9), padding=1, method=method)
    assert op.dtype == ref.dtype and op.dtype.isnative
    for got, want in (
        (op.apply(x), ref.apply(x.astype(native))),
        (op.H.apply(x[:, :9]), ref.H.apply(x[:, :9].astype(native))),
    ):
        assert got.dtype == want.dtype and got.dtype.isnative
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert op.matrix().dtype.isnative


def test_big_endian_float16_is_promoted_like_little_endian():
    rng = np.random.default_rng(1)
    w = rng.standard_normal(5)
    x = rng.standard_normal(40)
    exact = np.correlate(x, w, mode="valid")
    for code in (">f2", "<f2"):
        y = convops.conv(x.astype(code), w.astype(code))
        assert y.dtype == np.float32
        wq, xq = w.astype(code).astype(np.float64), x.astype(code).astype(np.float64)
        # float32 arithmetic on the float16 values: errors near float32 rounding, not float16's
        np.testing.assert_allclose(y, np.correlate(xq, wq, mode="valid"), rtol=1e-5, atol=1e-5)
        assert np.abs(y - exact).max() < 0.05


@pytest.mark.parametrize("boundary", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("adjoint", [False, True])
def test_mixed_precision_accumulates_in_the_result_dtype(boundary, adjoint):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 3)).astype(np.float32)
    ops = {
        m: convops.ConvOperator(w, (6, 6), padding=2, boundary=boundary, method=m) for m in METHODS
    }
    A = {m: (op.H if adjoint else op) for m, op in ops.items()}
    x = rng.standard_normal(A["direct"].input_shape)
    # the exact answer: float64 arithmetic on the float32 kernel's values
    exact = convops.ConvOperator(
        w.astype(np.float64), (6, 6), padding=2, boundary=boundary, method="direct"
    )
    want = (exact.H if adjoint else exact).apply(x)
    for method, op in A.items():
        got = op.apply(x)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13, err_msg=method)
