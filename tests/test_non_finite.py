"""Claim: non-finite values do not surprise.

NaN and inf propagate as the linear algebra says in the direct and matrix realisations: an
output is non-finite where its window reads a non-finite input.  The FFT realisation
spreads one NaN or inf over every output (every frequency mixes every input), so it warns
with a ``RuntimeWarning`` that names the cure (``method="direct"``); ``method="auto"``
documents this.  Finite data never warns.
"""

import warnings

import numpy as np
import pytest

import convops


def _window_hits(op, bad):
    """Outputs whose window reads a flagged input: the non-zero pattern of A applied to it."""
    pattern = op.matrix().copy()
    pattern.data[:] = 1.0
    return (pattern @ bad.reshape(-1).astype(float)).reshape(op.output_shape) > 0


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("adjoint", [False, True])
def test_fft_warns_and_names_the_cure(value, adjoint):
    op = convops.ConvOperator(np.ones((3, 3)), (16, 16), padding=1, method="fft")
    A = op.H if adjoint else op
    x = np.ones(A.input_shape)
    x[3, 4] = value
    with pytest.warns(RuntimeWarning, match=r"non-finite.*method='direct'"):
        y = A.apply(x)
    assert not np.isfinite(y).all()


@pytest.mark.parametrize("method", ["direct", "matrix"])
@pytest.mark.parametrize("adjoint", [False, True])
def test_direct_and_matrix_keep_non_finite_values_where_they_belong(method, adjoint):
    op = convops.ConvOperator(np.ones((3, 3)), (12, 12), padding=1, stride=2, method=method)
    A = op.H if adjoint else op
    x = np.ones(A.input_shape)
    bad = np.zeros(A.input_shape, dtype=bool)
    bad[2, 3] = True
    x[bad] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about: the result is the exact one
        with np.errstate(invalid="ignore"):
            y = A.apply(x)
    np.testing.assert_array_equal(~np.isfinite(y), _window_hits(A, bad))


def test_a_non_finite_kernel_warns_in_the_fft_realisation():
    w = np.ones((3, 3))
    w[1, 1] = np.nan
    op = convops.ConvOperator(w, (8, 8), method="fft")
    with pytest.warns(RuntimeWarning, match="non-finite"):
        op @ np.ones(64)


@pytest.mark.parametrize("method", ["direct", "fft", "matrix"])
def test_finite_data_never_warns(method):
    op = convops.ConvOperator(np.ones((3, 3)), (16, 16), method=method)
    x = np.full(256, 1e300)  # finite, but its sum overflows: no false alarm either
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):
            op @ x
            op.H @ np.ones(op.shape[0])


def test_auto_documents_the_choice():
    doc = convops.ConvOperator.__doc__
    assert "non-finite" in doc and "method" in doc
