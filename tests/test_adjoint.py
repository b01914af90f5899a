"""Claim: A* is the adjoint of A — ⟨Ax, y⟩ = ⟨x, A*y⟩ — for every realisation, real and complex;
.H is the conjugate transpose and .T the plain transpose."""

import numpy as np
import pytest
from hypothesis import given
from scipy.sparse.linalg import LinearOperator

from convops import ConvOperator, conv, conv_transpose
from convops.testing import dot_test
from convops.testing import strategies as cst


@given(op=cst.operators())
def test_dot_test_holds_for_drawn_operators(op):
    # some drawn geometries read only zero padding (A = 0): the FFT's rounding noise then
    # needs an absolute floor, at the operator's scale ‖A‖ <= Σ|w| · (taps folded per entry)
    eps = np.finfo(op.dtype).eps
    atol = 100 * eps * np.abs(op.kernel).sum() * 8
    dot_test(op, rng=0, atol=atol)
    dot_test(op.H, rng=1, atol=atol)


@pytest.mark.parametrize("method", ["matrix", "direct", "fft"])
def test_complex_kernel_adjoint_conjugates(method):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    op = ConvOperator(w, (6, 5), padding=1, stride=(1, 2), method=method)
    dot_test(op)
    A = op.toarray()
    np.testing.assert_allclose(op.H.toarray(), A.conj().T, atol=1e-12)
    np.testing.assert_allclose(op.T.toarray(), A.T, atol=1e-12)
    # the plain transpose is NOT the adjoint of a complex operator: the dot test must catch it
    fake = LinearOperator(op.shape, matvec=op.matvec, rmatvec=op.T.matvec, dtype=op.dtype)
    with pytest.raises(AssertionError, match="dot test failed"):
        dot_test(fake, rng=0)


def test_adjoint_of_adjoint_is_the_convolution():
    op = ConvOperator(np.arange(6.0).reshape(2, 3), (5, 5), stride=2, padding=(1, (0, 2)))
    back = op.H.H
    assert back.input_shape == op.input_shape and back.output_shape == op.output_shape
    assert not back.geometry.transposed and op.H.geometry.transposed
    x = np.random.default_rng(1).standard_normal(op.input_shape)
    np.testing.assert_array_equal(back.apply(x), op.apply(x))
    assert op.H.input_shape == op.output_shape and op.H.output_shape == op.input_shape


def test_conv_transpose_is_the_adjoint_of_conv_with_the_same_parameters():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 2))
    params = dict(stride=(2, 3), padding=((1, 0), 2), dilation=(1, 2), boundary="reflect")
    x = rng.standard_normal((7, 9))
    y = rng.standard_normal(conv(x, w, **params).shape)
    out_pad = tuple(
        xs - ts for xs, ts in zip(x.shape, conv_transpose(y, w, **params).shape, strict=True)
    )
    xt = conv_transpose(y, w, output_padding=out_pad, **params)
    assert xt.shape == x.shape
    assert np.isclose(np.vdot(y, conv(x, w, **params)), np.vdot(xt, x), rtol=1e-12)


def test_output_padding_beyond_stride_crops_the_convolution():
    """With dilation > stride, output_padding may reach the stride: conv_transpose is then the
    adjoint of conv cropped to the given output length (PyTorch's semantics)."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal(3)
    y = rng.standard_normal(5)
    x = conv_transpose(y, w, stride=1, dilation=3, output_padding=2)
    assert x.shape == (4 + 6 + 2 + 1,)
    A = np.array([conv(e, w, dilation=3) for e in np.eye(x.size)]).T  # (7, 13)
    assert A.shape[0] == 7  # the natural output is longer than y …
    np.testing.assert_allclose(x, A[:5].T @ y, atol=1e-12)  # … and is cropped to y's length


def test_dot_test_flags_a_zero_operator_with_noisy_adjoint_unless_atol_allows():
    noise = 1e-17
    op = LinearOperator(
        (3, 3), matvec=lambda v: np.zeros(3), rmatvec=lambda v: noise * v[::-1], dtype=float
    )
    with pytest.raises(AssertionError):
        dot_test(op, rng=0)
    dot_test(op, rng=0, atol=1e-15)


def test_dot_test_reports_the_figures():
    bad = LinearOperator(
        (3, 4), matvec=lambda v: np.ones(3) * v.sum(), rmatvec=lambda v: np.zeros(4), dtype=float
    )
    with pytest.raises(AssertionError) as info:
        dot_test(bad, rng=0)
    assert "<Ax, y>" in str(info.value) and "relative error" in str(info.value)


def test_the_adjoint_is_built_once_and_its_adjoint_is_the_operator():
    op = ConvOperator(np.ones((3, 3)), (6, 6))
    assert op.H is op.H and op.H.H is op
