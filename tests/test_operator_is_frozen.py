"""Claim: an operator never changes behind the user's back.

The operator keeps its own read-only copy of the kernel, so writing into the array the user
passed changes nothing; ``op.kernel`` is read-only; ``op.matrix()`` returns a new matrix
each call, so changing it cannot corrupt the cache; results never alias the operator's
work arrays.  After every such mutation the dot test holds and the three realisations agree.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convops
from convops.testing import dot_test
from convops.testing import strategies as cst

METHODS = ("direct", "fft", "matrix")


def _probe(op, rng):
    x = rng.standard_normal(op.shape[1])
    y = rng.standard_normal(op.shape[0])
    if np.iscomplexobj(op.kernel):
        x = x + 1j * rng.standard_normal(op.shape[1])
        y = y + 1j * rng.standard_normal(op.shape[0])
    return x, y


@given(spec=cst.conv_specs(max_ndim=3), method=st.sampled_from(METHODS), data=st.data())
def test_writing_into_every_array_changes_nothing(spec, method, data):
    kernel = data.draw(cst.kernels(spec.kernel_shape))
    original = kernel.copy()
    op = convops.ConvOperator(kernel, spec.input_shape, method=method, **spec.kwargs)
    reference = convops.ConvOperator(original, spec.input_shape, method="matrix", **spec.kwargs)
    rng = np.random.default_rng(0)
    x, y = _probe(op, rng)
    before = (op @ x, op.H @ y)

    kernel[...] = 7.0  # the array the user passed in
    M = op.matrix()  # a matrix the user received
    M.data *= 2
    op.H.matrix().data[:] = 0
    out = op @ x  # a result the user received, then overwritten
    out[...] = np.nan
    with pytest.raises(ValueError):
        op.kernel[...] = 0  # the operator's own copy is read-only

    after = (op @ x, op.H @ y)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(op.kernel, original.astype(op.dtype))
    tol = 1e-4 if op.dtype in (np.float32, np.complex64) else 1e-10
    np.testing.assert_allclose(
        op.matrix().toarray(), reference.matrix().toarray(), rtol=tol, atol=tol
    )
    np.testing.assert_allclose(
        after[0], reference @ x, rtol=tol, atol=tol * max(1.0, np.abs(after[0]).max())
    )
    # geometries whose outputs read only zero padding have A = 0: the FFT's rounding noise
    # then needs an absolute floor at the operator's scale (as in tests/test_adjoint.py)
    dot_test(op, rng=1, atol=100 * np.finfo(op.dtype).eps * np.abs(original).sum() * 8)


@pytest.mark.parametrize("method", METHODS)
def test_channels_cached_adjoint_follows_no_write(method):
    """The multi-channel case of the issue: the forward and its cached adjoint stay adjoint."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 3, 3, 3))
    op = convops.ConvOperator(w, (3, 8, 8), padding=1, method=method)
    op.H @ rng.standard_normal(op.shape[0])  # build the adjoint's cache
    w *= -5
    assert dot_test(op, rng=2) < 1e-10
    np.testing.assert_allclose(op.toarray(), op.H.toarray().conj().T)


def test_factors_do_not_expose_the_cache():
    op = convops.ConvOperator(np.array([1.0, 2.0, 3.0]), (8,), method="fft")
    x = np.arange(8.0)
    want = op @ x
    chain = op.factors()
    for factor in chain:
        for value in vars(factor).values():
            if isinstance(value, np.ndarray) and value.flags.writeable:
                value[...] = 0
    np.testing.assert_array_equal(op @ x, want)
