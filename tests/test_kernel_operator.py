"""Claims about ``KernelOperator``, the convolution as a linear map of its kernel.

- its three realisations (matrix, direct, fft) are one map and its adjoint: each equals a
  brute-force dense im2col matrix written from the definition (below), forward, adjoint and
  plain transpose, on hypothesis-drawn geometries (1D/2D/3D, strides, dilations, every
  padding syntax and boundary, channels with groups, flip, batches, four dtypes);
- ``KernelOperator(x, …) @ w`` equals ``ConvOperator(w, …) @ x``;
- the dot test holds; ``matrix()`` equals the operator probed column by column;
- a batch of inputs stacks the outputs and sums in the adjoint; ``.H``/``.T``/``matmat`` and
  the attributes behave as ``ConvOperator``'s; the operator keeps its own copy of ``x``;
- the adjoint is the gradient of ½‖conv(x, w) − y‖² (finite differences);
- bad input is refused with ConvOperator's messages;
- ``benchmarks/kernel_gradient.py --quick`` runs and its outputs agree (no timing asserted).
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import source_index

import convops
from convops import ConvOperator, KernelOperator
from convops.testing import dot_test
from convops.testing import strategies as cst

METHODS = ("matrix", "direct", "fft")
DTYPES = ("float32", "float64", "complex64", "complex128")
ROOT = Path(__file__).resolve().parents[1]


def dense_kernel_matrix(x: np.ndarray, geometry) -> np.ndarray:
    """The matrix of ``w ↦ conv(x, w)`` from the definition, ``x`` of shape ``(N, C_in, *n)``.

    Scalar loops over every batch item, output, channel and tap; the boundary rules of
    ``reference.source_index``.  Columns are the kernel's entries in C order over
    ``(C_out, C_in/groups, *k)``, in the user's tap order (``flip`` reads tap ``k − 1 − u``).
    """
    g = geometry
    n_batch = x.shape[0]
    cout, G = g.out_channels, g.groups
    cin_g, cout_g = g.in_channels // G, cout // G
    k, m, n = g.kernel_size, g.spatial_out, g.spatial_in
    K = np.zeros(
        (n_batch * cout * math.prod(m), cout * cin_g * math.prod(k)),
        dtype=np.result_type(x.dtype, np.float64),
    )
    for b, co, o in itertools.product(
        range(n_batch), range(cout), itertools.product(*map(range, m))
    ):
        row = np.ravel_multi_index((b, co) + o, (n_batch, cout) + m)
        for i in range(cin_g):
            for u in itertools.product(*map(range, k)):
                t = tuple(kk - 1 - uu for kk, uu in zip(k, u, strict=True)) if g.flip else u
                src = [
                    source_index(
                        o[a] * g.stride[a] + t[a] * g.dilation[a] - g.padding[a][0],
                        n[a],
                        g.boundary,
                    )
                    for a in range(g.ndim)
                ]
                if any(q is None for q in src):
                    continue
                col = np.ravel_multi_index((co, i) + u, (cout, cin_g) + k)
                K[row, col] += x[(b, (co // cout_g) * cin_g + i) + tuple(src)]
    return K


def _random(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _tolerance(dtype, scale: float) -> float:
    single = np.dtype(dtype) in (np.float32, np.complex64)
    return (2e-4 if single else 1e-10) * max(scale, 1.0)


@st.composite
def kernel_problems(draw, **spec_options):
    """A drawn geometry with an input ``x`` (batched or not) of a drawn dtype."""
    spec = draw(cst.conv_specs(**spec_options))
    dtype = draw(st.sampled_from(DTYPES))
    batch = draw(st.sampled_from([None, 1, 2]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    shape = spec.input_shape if batch is None else (batch,) + spec.input_shape
    return Problem(spec, _random(rng, shape, dtype), rng, batch is not None)


class Problem:
    """A drawn geometry, its input ``x`` and whether ``x`` carries a batch axis."""

    def __init__(self, spec, x, rng, batched):
        self.spec, self.x, self.rng, self.batched = spec, x, rng, batched

    def __iter__(self):
        return iter((self.spec, self.x, self.rng))

    def __repr__(self):
        return f"Problem({self.spec!r}, x of shape {self.x.shape} {self.x.dtype}, batched={self.batched})"

    def op(self, method, x=None):
        """The KernelOperator of this problem (``batched`` given: (N, C, L) is ambiguous)."""
        x = self.x if x is None else x
        return KernelOperator(
            x, self.spec.kernel_shape, method=method, batched=self.batched, **self.spec.kwargs
        )


def _as_batch(x, spec):
    """``x`` as ``(N, C_in, *n)``: the reference's layout."""
    x = x if x.ndim == len(spec.input_shape) + 1 else x[None]
    return x if spec.geometry().multichannel else x[:, None]


@given(problem=kernel_problems())
def test_three_realisations_match_the_dense_im2col_matrix(problem):
    spec, x, rng = problem
    R = dense_kernel_matrix(_as_batch(x, spec), spec.geometry())
    w = _random(rng, spec.kernel_shape, x.dtype)
    y = _random(rng, R.shape[0], x.dtype)
    scale = float(np.abs(x).max()) * math.prod(spec.kernel_shape)
    atol = _tolerance(x.dtype, scale)
    for method in METHODS:
        op = problem.op(method)
        assert op.shape == R.shape and op.method == method
        assert op.input_shape == spec.kernel_shape
        out = op.apply(w)
        assert out.shape == op.output_shape and out.dtype == x.dtype
        np.testing.assert_allclose(out.ravel(), R @ w.ravel(), atol=atol, rtol=0, err_msg=method)
        back = op.H @ y
        assert back.dtype == x.dtype
        np.testing.assert_allclose(back, R.conj().T @ y, atol=atol, rtol=0, err_msg=method)
        np.testing.assert_allclose(op.T @ y, R.T @ y, atol=atol, rtol=0, err_msg=method)


@given(problem=kernel_problems(), method=st.sampled_from(METHODS))
def test_kernel_operator_at_w_is_conv_operator_at_x(problem, method):
    spec, x, rng = problem
    w = _random(rng, spec.kernel_shape, x.dtype)
    op = problem.op(method)
    conv = ConvOperator(w, spec.input_shape, method="direct", **spec.kwargs)
    want = conv.apply(x)  # a batch of x stacks as apply's batch axis does
    assert (op @ w.ravel()).shape == (want.size,)
    np.testing.assert_allclose(
        op @ w.ravel(), want.ravel(), atol=_tolerance(x.dtype, np.abs(want).max()), rtol=0
    )


@given(problem=kernel_problems(), method=st.sampled_from(METHODS))
def test_dot_test_holds(problem, method):
    x = problem.x
    op = problem.op(method)
    # geometries whose outputs read only zero padding give A = 0: rounding needs a floor
    atol = 100 * np.finfo(op.dtype).eps * float(np.abs(x).sum())
    dot_test(op, rng=0, atol=atol)
    dot_test(op.H, rng=1, atol=atol)


@given(problem=kernel_problems(max_ndim=2), method=st.sampled_from(METHODS))
def test_matrix_equals_the_operator_probed_column_by_column(problem, method):
    x = problem.x
    op = problem.op(method)
    probed = np.stack([op @ e for e in np.eye(op.shape[1], dtype=op.dtype)], axis=1)
    M = op.matrix()
    assert M.format == "csr" and M.shape == op.shape
    tol = _tolerance(op.dtype, float(np.abs(x).max()))
    np.testing.assert_allclose(M.toarray(), probed, atol=tol, rtol=0)
    np.testing.assert_allclose(op.toarray(), probed, atol=tol, rtol=0)
    probed_h = np.stack([op.H @ e for e in np.eye(op.shape[0], dtype=op.dtype)], axis=1)
    np.testing.assert_allclose(op.H.matrix().toarray(), probed_h, atol=tol, rtol=0)
    np.testing.assert_allclose(probed_h, probed.conj().T, atol=tol, rtol=0)


def test_the_matrix_rows_are_the_patches():
    """The 2×2 kernel on the 3×3 image 1..9: row o is the 2×2 patch at o (the docstring)."""
    x = np.arange(1.0, 10.0).reshape(3, 3)
    K = KernelOperator(x, (2, 2))
    patches = [x[i : i + 2, j : j + 2].ravel() for i in range(2) for j in range(2)]
    np.testing.assert_array_equal(K.matrix().toarray(), np.array(patches))
    assert K.matrix().toarray().astype(int).tolist() == [
        [1, 2, 4, 5],
        [2, 3, 5, 6],
        [4, 5, 7, 8],
        [5, 6, 8, 9],
    ]
    # zero padding leaves the taps that read the border unstored
    Z = KernelOperator(x, (2, 2), padding=1, method="matrix").matrix()
    assert Z.nnz == 9 * 4 and Z.shape == (16, 4)
    # another boundary stores every tap: the patch of the reflect-padded image
    xr = np.pad(x, 1, mode="reflect")
    R = KernelOperator(x, (2, 2), padding=1, boundary="reflect").matrix()
    want = [xr[i : i + 2, j : j + 2].ravel() for i in range(4) for j in range(4)]
    np.testing.assert_array_equal(R.toarray(), np.array(want))


@pytest.mark.parametrize("method", METHODS)
def test_batched_x_stacks_outputs_and_the_adjoint_sums_over_the_batch(method):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 7, 6))
    ks = (6, 2, 3, 2)
    kw = dict(stride=(2, 1), padding=1, groups=2, boundary="replicate")
    op = KernelOperator(x, ks, method=method, **kw)
    assert op.batched and op.output_shape[0] == 3
    singles = [KernelOperator(xb, ks, method=method, **kw) for xb in x]
    assert not singles[0].batched
    w = rng.standard_normal(ks)
    np.testing.assert_allclose(op.apply(w), np.stack([s.apply(w) for s in singles]), atol=1e-12)
    y = rng.standard_normal(op.output_shape)
    np.testing.assert_allclose(
        op.H.apply(y), sum(s.H.apply(yb) for s, yb in zip(singles, y, strict=True)), atol=1e-12
    )


@pytest.mark.parametrize("method", METHODS)
def test_matmat_and_batched_apply_match_columns(method):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 9, 8))
    op = KernelOperator(x, (4, 3, 3, 3), padding=(1, (0, 2)), dilation=(1, 2), method=method)
    R = op.toarray()
    W = rng.standard_normal((op.shape[1], 3))
    Y = rng.standard_normal((op.shape[0], 2))
    np.testing.assert_allclose(op.matmat(W), R @ W, atol=1e-11)
    np.testing.assert_allclose(op @ W, R @ W, atol=1e-11)
    np.testing.assert_allclose(op.rmatmat(Y), R.T @ Y, atol=1e-11)
    np.testing.assert_allclose(op.rmatvec(Y[:, 0]), R.T @ Y[:, 0], atol=1e-11)
    wb = rng.standard_normal((2, 5) + op.input_shape)
    out = op.apply(wb)
    assert out.shape == (2, 5) + op.output_shape
    np.testing.assert_allclose(out.reshape(10, -1), wb.reshape(10, -1) @ R.T, atol=1e-11)


@pytest.mark.parametrize("method", METHODS)
def test_complex_x_H_conjugates_and_T_does_not(method):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 6)) + 1j * rng.standard_normal((7, 6))
    op = KernelOperator(x, (3, 2), padding=1, stride=(1, 2), method=method)
    dot_test(op)
    A = op.toarray()
    np.testing.assert_allclose(op.H.toarray(), A.conj().T, atol=1e-12)
    np.testing.assert_allclose(op.T.toarray(), A.T, atol=1e-12)
    np.testing.assert_allclose(op.T.T.toarray(), A, atol=1e-12)
    np.testing.assert_allclose(op.H.T.toarray(), A.conj(), atol=1e-12)
    y = rng.standard_normal(op.shape[0]) + 1j * rng.standard_normal(op.shape[0])
    np.testing.assert_allclose(op.T @ y, A.T @ y, atol=1e-12)
    assert op.H is op.H and op.H.H is op and op.adjoint() is op.H
    assert op.H.transposed and not op.transposed
    assert op.H.input_shape == op.output_shape and op.H.output_shape == op.input_shape


def test_attributes_and_auto_method():
    x = np.ones((2, 3, 16, 16))
    op = KernelOperator(x, (4, 3, 3, 3), padding="same")
    assert op.method in ("direct", "fft")
    assert op.input_shape == op.kernel_shape == (4, 3, 3, 3)
    assert op.output_shape == (2, 4, 16, 16) and op.shape == (2 * 4 * 256, 4 * 27)
    assert op.geometry.conv_input_shape == (3, 16, 16) and not op.geometry.transposed
    assert op.H.geometry.transposed and op.H.geometry.transpose() == op.geometry
    assert op.dtype == np.float64 and op.batched
    assert "KernelOperator" in repr(op) and "KernelOperator.H" in repr(op.H)
    single = KernelOperator(np.ones((9, 9)), (3, 3))
    assert single.output_shape == (7, 7) and not single.batched
    assert KernelOperator(np.ones((5, 9, 9)), (3, 3)).output_shape == (5, 7, 7)  # a batch


def test_batched_settles_a_batch_of_1d_multichannel_inputs():
    """(N, C_in, L) with a (C_out, C_in, k) kernel: as many axes as the kernel."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 10))
    w = rng.standard_normal((2, 3, 3))
    as_3d = KernelOperator(x, w.shape)  # read as a single-channel 3-D input (ConvOperator's rule)
    assert not as_3d.batched and as_3d.output_shape == (1, 1, 8) and not as_3d.geometry.multichannel
    op = KernelOperator(x, w.shape, batched=True)
    assert op.batched and op.output_shape == (2, 2, 8)
    np.testing.assert_allclose(op.apply(w), convops.conv1d(x, w), atol=1e-12)


def test_dtype_rules():
    x32 = np.ones((6, 6), dtype=np.float32)
    op = KernelOperator(x32, (3, 3))
    assert op.dtype == np.float32
    assert op.apply(np.ones((3, 3), dtype=np.float32)).dtype == np.float32
    assert op.apply(np.ones((3, 3))).dtype == np.float64
    assert op.apply(np.ones((3, 3), dtype=np.complex64)).dtype == np.complex64
    assert op.H.apply(np.ones((4, 4), dtype=np.complex128)).dtype == np.complex128
    assert KernelOperator(np.ones((6, 6), dtype=int), (3, 3)).dtype == np.float64
    assert KernelOperator(np.ones((6, 6), dtype=np.float16), (3, 3)).dtype == np.float32
    # a float64 kernel on float32 data is computed in float64 by every realisation
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 3))
    exact = ConvOperator(w, (8, 8), padding=1, boundary="reflect").apply(x.astype(np.float64))
    for method in METHODS:
        got = KernelOperator(x, (3, 3), padding=1, boundary="reflect", method=method).apply(w)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12, err_msg=method)


@given(problem=kernel_problems(max_ndim=2), method=st.sampled_from(METHODS))
def test_the_operator_keeps_its_own_copy_of_x(problem, method):
    spec, x, rng = problem
    original = x.copy()
    op = problem.op(method)
    w = _random(rng, spec.kernel_shape, x.dtype)
    y = _random(rng, op.output_shape, x.dtype)
    before = (op.apply(w), op.H.apply(y))
    x[...] = 7  # the array the user passed
    M = op.matrix()
    M.data[:] = 0  # a matrix the user received
    with pytest.raises(ValueError):
        op.x[...] = 0  # the operator's own copy is read-only
    after = (op.apply(w), op.H.apply(y))
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(op.x, original)


@pytest.mark.parametrize("method", METHODS)
def test_empty_batches_give_empty_results(method):
    op = KernelOperator(np.zeros((0, 2, 7, 7)), (4, 2, 3, 3), padding=1, method=method)
    assert op.output_shape == (0, 4, 7, 7) and op.shape == (0, 72)
    assert op.apply(np.ones((4, 2, 3, 3))).shape == (0, 4, 7, 7)
    grad = op.H.apply(np.zeros((0, 4, 7, 7)))
    assert grad.shape == (4, 2, 3, 3) and not grad.any()  # an empty sum
    full = KernelOperator(np.ones((2, 7, 7)), (4, 2, 3, 3), method=method)
    assert full.apply(np.zeros((0, 4, 2, 3, 3))).shape == (0, 4, 5, 5)
    assert full.matmat(np.zeros((72, 0))).shape == (100, 0)
    assert full.rmatmat(np.zeros((100, 0))).shape == (72, 0)


@pytest.mark.parametrize("method", METHODS)
@given(problem=kernel_problems(max_ndim=2, multichannel=True))
def test_adjoint_is_the_gradient_of_the_least_squares_loss(method, problem):
    """∇ ½‖A_x w − y‖² = A_x*(A_x w − y), against central finite differences (float64)."""
    x, rng = problem.x, problem.rng
    x = x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)
    op = problem.op(method, x)
    w = rng.standard_normal(op.shape[1])
    y = rng.standard_normal(op.shape[0])

    def loss(v):
        return 0.5 * float(np.linalg.norm(op @ v - y) ** 2)

    grad = op.H @ (op @ w - y)
    h = 1e-6
    fd = np.empty(op.shape[1])
    for j in range(op.shape[1]):  # one central difference per kernel entry
        e = np.zeros(op.shape[1])
        e[j] = h
        fd[j] = (loss(w + e) - loss(w - e)) / (2 * h)
    # for complex x the real gradient of a loss in a real w is the real part of A*(Aw − y)
    np.testing.assert_allclose(grad.real, fd, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(fd).max()))


@pytest.mark.filterwarnings("error")
def test_fft_warns_that_a_nan_spreads():
    x = np.ones((8, 8))
    x[3, 3] = np.nan
    direct = KernelOperator(x, (3, 3), method="direct").apply(np.ones((3, 3)))
    assert np.isnan(direct[1:4, 1:4]).all() and np.isfinite(direct[5:, 5:]).all()
    with pytest.raises(RuntimeWarning, match="non-finite"):
        KernelOperator(x, (3, 3), method="fft").apply(np.ones((3, 3)))


# ----------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------
BAD_PARAMETERS = [
    dict(stride=0),
    dict(stride=(1, -1)),
    dict(stride=1.5),
    dict(stride=(1, 2, 3)),
    dict(dilation=0),
    dict(dilation=2.0),
    dict(padding=-1),
    dict(padding="sam"),
    dict(padding=(1, 2, 3)),
    dict(padding=((1, 2, 3), 0)),
    dict(boundary="wrap"),
    dict(method="gpu"),
    dict(padding="same", stride=2),
    dict(padding=5, boundary="circular"),
    dict(padding=4, boundary="reflect"),
    dict(flip="yes"),
    dict(groups=2),
    dict(groups=0),
]


@given(kwargs=st.sampled_from(BAD_PARAMETERS))
def test_bad_parameters_are_refused_with_conv_operators_messages(kwargs):
    with pytest.raises((ValueError, TypeError)) as conv_info:
        ConvOperator(np.ones((3, 3)), (4, 4), **kwargs)
    with pytest.raises(conv_info.type) as kernel_info:
        KernelOperator(np.ones((4, 4)), (3, 3), **kwargs)
    assert str(kernel_info.value) == str(conv_info.value)


@given(
    kernel_shape=st.lists(st.integers(1, 4), min_size=1, max_size=5).map(tuple),
    x_shape=st.lists(st.integers(1, 6), min_size=0, max_size=6).map(tuple),
)
def test_any_shapes_are_accepted_or_refused_by_name(kernel_shape, x_shape):
    """Every pair of shapes either builds an operator that passes the dot test or raises a
    ValueError that names x or the kernel (never an IndexError or a numpy message)."""
    try:
        op = KernelOperator(np.ones(x_shape), kernel_shape, method="direct")
    except ValueError as exc:
        text = str(exc)
        assert any(word in text for word in ("x of shape", "kernel", "input_shape")), text
        return
    dot_test(op, rng=0)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: KernelOperator(np.ones((4, 4)), (3, 3, 3, 3, 3, 3)), ValueError, ["x of shape"]),
        (lambda: KernelOperator(np.ones((4, 4)), (3, 3), batched="yes"), TypeError, ["batched"]),
        (lambda: KernelOperator(np.ones(4), (3,), batched=True), ValueError, ["batched=True"]),
        (lambda: KernelOperator(np.ones((4, 4)), (3, 0)), ValueError, ["kernel_shape", ">= 1"]),
        (lambda: KernelOperator(np.ones((4, 4)), "33"), TypeError, ["kernel_shape"]),
        (lambda: KernelOperator(np.array(["a"]), (1,)), TypeError, ["x must be a numeric"]),
        (lambda: KernelOperator(np.ones((2, 4)), (3, 3)), ValueError, ["kernel does not fit"]),
        (
            lambda: KernelOperator(np.ones((2, 4, 4)), (3, 3, 3, 3)),
            ValueError,
            ["expects 3 input channels", "has 2"],
        ),
    ],
)
def test_bad_shapes_are_named(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert info.value.__cause__ is None


def test_shapes_that_do_not_match_the_operator():
    op = KernelOperator(np.ones((5, 6)), (3, 3))
    with pytest.raises(ValueError, match=r"w of shape \(2, 3\) does not end with .*\(3, 3\)"):
        op.apply(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"y of shape \(3, 3\) does not end with"):
        op.H.apply(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"x of shape \(8,\) does not fit this 12x9 operator"):
        op.matvec(np.ones(8))
    with pytest.raises(ValueError, match=r"X of shape \(8, 2\)"):
        op.matmat(np.ones((8, 2)))
    with pytest.raises(ValueError, match="does not fit this 9x12"):
        op.rmatvec(np.ones(9))


def test_dense_form_over_the_limit_is_refused():
    op = KernelOperator(np.ones((2, 16, 16)), (4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"max_bytes=1000.*op\.matrix\(\)"):
        op.toarray(max_bytes=1000)
    assert op.todense().shape == (4 * 14 * 14, 72)


def test_work_over_the_memory_limit_is_refused_before_allocating():
    op = KernelOperator(np.ones((64, 64)), (3, 3), method="direct")
    with convops.configure(max_work_bytes=1000):
        with pytest.raises(ValueError, match="max_work_bytes=1000"):
            op.apply(np.ones((3, 3)))
        with pytest.raises(ValueError, match="max_work_bytes=1000"):
            KernelOperator(np.ones((64, 64)), (3, 3), method="matrix").matrix()


# ----------------------------------------------------------------------------------------
# the picture and the benchmark
# ----------------------------------------------------------------------------------------
def test_plot_matrix_draws_the_patches_as_rows():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from convops.plotting import plot_matrix
    from convops.plotting._common import CELL_GID

    x = np.arange(1, 17).reshape(4, 4)
    op = KernelOperator(x, (2, 2))
    ax = plot_matrix(op)
    texts = [t for t in ax.texts if t.get_gid() == CELL_GID]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in texts}
    M = op.toarray()
    assert len(cells) == np.count_nonzero(M)
    for (r, c), text in cells.items():
        assert text == str(int(M[r, c]))
    rows = [lab.get_text() for lab in ax.get_yticklabels()]
    cols = [lab.get_text() for lab in ax.get_xticklabels()]
    assert rows[:2] == ["y[0,0]", "y[0,1]"] and cols == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]"]
    assert "im2col" in ax.get_title()
    plt.close(ax.figure)
    ax = plot_matrix(op.H)
    assert ax.get_yticklabels()[0].get_text() == "w[0,0]"
    plt.close(ax.figure)


def test_kernel_gradient_benchmark_quick_run(tmp_path):
    out = tmp_path / "quick.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "kernel_gradient.py"),
            "--quick",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["meta"]["quick"] is True and data["cases"]
    for case in data["cases"]:
        assert {"convops_direct", "convops_fft", "convops_auto", "scipy_correlate"} <= set(
            case["times_ms"]
        )
        assert all(t > 0 for t in case["times_ms"].values())
        assert case["mismatch"] == [], case
    assert "| case |" in proc.stdout


def test_docstring_examples_run():
    import doctest

    from convops import kernel_operator
    from convops.realisations import kernel

    for module in (kernel_operator, kernel):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0
    assert doctest.testmod(kernel_operator).attempted >= 5


def test_auto_chooses_by_the_estimated_cost():
    """Small kernels go direct, large kernels on large grids go through the FFT (the model)."""
    from convops.kernel_operator import choose_kernel_method

    big = convops.make_geometry((11, 11), (1024, 1024), padding=5)
    small = convops.make_geometry((3, 3), (64, 64), padding=1)
    assert choose_kernel_method(big, 1, np.dtype(np.float64)) == "fft"
    assert choose_kernel_method(small, 1, np.dtype(np.float64)) == "direct"
    assert KernelOperator(np.zeros((1024, 1024)), (11, 11), padding=5).method == "fft"
    assert KernelOperator(np.zeros((64, 64)), (3, 3), padding=1).method == "direct"
