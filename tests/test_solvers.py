"""Claim: the operators drive scipy's iterative solvers (lsqr, lsmr, cg, svds) like any
LinearOperator, and the answers match dense linear algebra."""

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator, cg, lsmr, lsqr, svds

from convops import ConvOperator

METHODS = ["matrix", "direct", "fft"]


@pytest.mark.parametrize("method", METHODS)
def test_lsqr_and_lsmr_recover_x_from_a_well_posed_convolution(method):
    rng = np.random.default_rng(0)
    # "full" padding: a tall, well-conditioned Toeplitz system (kernel with a dominant tap)
    w = np.array([[0.1, 0.2, 0.1], [0.2, 3.0, 0.2], [0.1, 0.2, 0.1]])
    A = ConvOperator(w, (12, 10), padding="full", method=method)
    x = rng.standard_normal(A.shape[1])
    y = A @ x
    np.testing.assert_allclose(lsqr(A, y, atol=1e-12, btol=1e-12, iter_lim=500)[0], x, atol=1e-8)
    np.testing.assert_allclose(lsmr(A, y, atol=1e-12, btol=1e-12, maxiter=500)[0], x, atol=1e-8)


@pytest.mark.parametrize("method", METHODS)
def test_cg_on_the_normal_operator_converges(method):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((2, 1, 3, 3)) * 0.3  # one input channel, two output channels
    A = ConvOperator(w, (1, 10, 9), padding=1, boundary="circular", method=method)
    N = A.H @ A + 0.1 * aslinearoperator(np.eye(A.shape[1]))  # a LinearOperator product
    x = rng.standard_normal(A.shape[1])
    b = N @ x
    sol, info = cg(N, b, rtol=1e-12, maxiter=1000)
    assert info == 0
    M = A.toarray()
    np.testing.assert_allclose(
        sol, np.linalg.solve(M.T @ M + 0.1 * np.eye(M.shape[1]), b), atol=1e-8
    )


@pytest.mark.parametrize("method", METHODS)
def test_svds_top_singular_values_match_dense_svd(method):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 2, 3, 3))
    A = ConvOperator(w, (2, 8, 7), stride=(2, 1), padding=1, method=method)
    dense = np.linalg.svd(A.toarray(), compute_uv=False)
    top = np.sort(svds(A, k=4, return_singular_vectors=False, random_state=0))[::-1]
    np.testing.assert_allclose(top, dense[:4], rtol=1e-8)


def test_complex_operator_in_lsqr():
    rng = np.random.default_rng(3)
    w = np.array([2.0 + 0.5j, 0.3 - 0.2j, 0.1j])
    A = ConvOperator(w, (20,), padding="full", method="fft")
    x = rng.standard_normal(20) + 1j * rng.standard_normal(20)
    sol = lsqr(A, A @ x, atol=1e-13, btol=1e-13)[0]
    np.testing.assert_allclose(sol, x, atol=1e-8)
