"""Claim: a ChannelsLastOperator is its channels-first operator, seen through (..., C) arrays.

Without Keras (``tests/test_from_keras.py`` checks the wrapper against Keras' layers): the
wrapper's results are the inner operator's with the channel axis moved, its matrix is the
inner matrix with rows and columns permuted, its adjoint is the wrapper of the inner adjoint,
and the spectral tools, which need the channels-first operator, say how to get it.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convops
from convops.bridges import ChannelsLastOperator
from convops.testing import dot_test
from convops.testing import strategies as cst


@given(spec=cst.conv_specs(multichannel=True, max_ndim=2), batch=st.integers(0, 2))
def test_the_wrapper_moves_the_channel_axis_and_nothing_else(spec, batch):
    inner = convops.ConvOperator(
        np.random.default_rng(0).standard_normal(spec.kernel_shape), spec.input_shape, **spec.kwargs
    )
    op = ChannelsLastOperator(inner)
    assert op.channels_first is inner
    assert op.input_shape == inner.input_shape[1:] + inner.input_shape[:1]
    assert op.output_shape == inner.output_shape[1:] + inner.output_shape[:1]
    x = np.random.default_rng(1).standard_normal((batch, *inner.input_shape))
    got = op.apply(np.moveaxis(x, 1, -1))
    np.testing.assert_allclose(got, np.moveaxis(inner.apply(x), 1, -1), atol=1e-12)
    y = np.random.default_rng(2).standard_normal((batch, *inner.output_shape))
    np.testing.assert_allclose(
        op.H.apply(np.moveaxis(y, 1, -1)), np.moveaxis(inner.H.apply(y), 1, -1), atol=1e-12
    )
    # the matrix, entry by entry: (C order over the channels-last shapes) against the inner one
    dense_inner = inner.toarray().reshape(inner.output_shape + inner.input_shape)
    ndim = len(inner.input_shape) - 1
    moved = np.moveaxis(np.moveaxis(dense_inner, 0, ndim), ndim + 1, -1)
    np.testing.assert_array_equal(op.toarray(), moved.reshape(op.shape))
    np.testing.assert_array_equal(op.matrix().toarray(), op.toarray())
    assert op.H.H is op
    dot_test(op, rng=0, atol=1e-12 * (1 + np.abs(inner.kernel).sum()))


def test_the_spectral_tools_point_to_the_channels_first_operator():
    inner = convops.ConvOperator(np.ones((2, 3, 3, 3)), (3, 8, 8), padding=1)
    op = ChannelsLastOperator(inner)
    for tool in (convops.norm_bounds, convops.singular_values):
        with pytest.raises(TypeError, match=r"pass op\.channels_first"):
            tool(op)
    # operator_norm takes any LinearOperator (dense or Lanczos on it)
    assert convops.operator_norm(op) == pytest.approx(convops.operator_norm(inner), rel=1e-12)
    # and the channels-first operator's norm is the wrapper's (a permutation of rows, columns)
    b = convops.norm_bounds(op.channels_first)
    dense = np.linalg.norm(op.toarray(), 2)
    assert b.lower <= dense * (1 + 1e-12) and dense <= b.upper * (1 + 1e-12)
