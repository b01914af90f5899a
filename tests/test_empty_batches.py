"""Claim: zero-size batches give empty results of the right shape, in every realisation.

PyTorch returns a ``(0, C_out, *m)`` tensor for a ``(0, C_in, *n)`` input; so do
``conv1d`` … ``conv_transpose3d``, ``apply`` with an empty leading batch axis, and
``matmat``/``rmatmat`` with zero columns.  Zero spatial sizes and zero channels stay refused.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convops
from convops.testing import strategies as cst

METHODS = ("direct", "fft", "matrix")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_functional_empty_batch(ndim, method):
    conv = getattr(convops, f"conv{ndim}d")
    conv_t = getattr(convops, f"conv_transpose{ndim}d")
    x = np.zeros((0, 2) + (7,) * ndim)
    w = np.ones((4, 2) + (3,) * ndim)
    y = conv(x, w, stride=2, padding=1, method=method)
    assert y.shape == (0, 4) + (4,) * ndim and y.dtype == np.float64
    xt = conv_t(y, w, stride=2, padding=1, output_padding=0, method=method)
    assert xt.shape == (0, 2) + (7,) * ndim
    # the example of the issue, exactly
    assert convops.conv1d(np.zeros((0, 1, 7)), np.ones((1, 1, 3)), method=method).shape == (0, 1, 5)


@pytest.mark.parametrize("method", METHODS)
def test_functional_empty_batch_with_bias(method):
    y = convops.conv2d(
        np.zeros((0, 1, 5, 5)), np.ones((3, 1, 3, 3)), bias=np.ones(3), method=method
    )
    assert y.shape == (0, 3, 3, 3)


@given(
    op=cst.operators(max_ndim=3),
    batch=st.sampled_from([(0,), (2, 0), (0, 3)]),
    adjoint=st.booleans(),
)
def test_apply_and_matmat_with_nothing_in_them(op, batch, adjoint):
    A = op.H if adjoint else op
    out = A.apply(np.zeros(batch + A.input_shape, dtype=A.dtype))
    assert out.shape == batch + A.output_shape
    assert out.dtype == A.dtype
    rows, cols = A.shape
    assert A.matmat(np.zeros((cols, 0), dtype=A.dtype)).shape == (rows, 0)
    assert A.rmatmat(np.zeros((rows, 0), dtype=A.dtype)).shape == (cols, 0)
    assert (A @ np.zeros((cols, 0))).shape == (rows, 0)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: convops.conv1d(np.zeros((1, 1, 0)), np.ones((1, 1, 3))), ["input", ">= 1"]),
        (lambda: convops.conv1d(np.zeros((1, 0, 7)), np.ones((1, 0, 3))), [">= 1"]),
        (lambda: convops.ConvOperator(np.ones(3), (0,)), ["input_shape", ">= 1"]),
    ],
)
def test_zero_spatial_sizes_and_channels_stay_refused(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)
