"""Claim: the three realisations (matrix, direct, fft) are one linear map and its adjoint.

Each is compared, forward and adjoint, with a brute-force dense matrix written from the
definition (tests/reference.py), on hypothesis-drawn geometries: 1D/2D/3D, stride 1–3, every
padding syntax, dilation 1–3, all four boundaries, flip, channels with groups, in float32,
float64 and complex128.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import dense_of_geometry, tolerance

from convops import ConvOperator
from convops.testing import strategies as cst

METHODS = ["matrix", "direct", "fft"]


@pytest.mark.parametrize("method", METHODS)
@given(
    spec=cst.conv_specs(),
    dtype=st.sampled_from(["float32", "float64", "complex128"]),
    seed=st.integers(0, 2**31),
)
def test_forward_and_adjoint_match_dense_reference(method, spec, dtype, seed):
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal(spec.kernel_shape)
    if dtype == "complex128":
        kernel = kernel + 1j * rng.standard_normal(spec.kernel_shape)
    kernel = kernel.astype(dtype)
    op = ConvOperator(kernel, spec.input_shape, method=method, **spec.kwargs)
    R = dense_of_geometry(
        kernel.astype(np.complex128 if dtype == "complex128" else np.float64), op.geometry
    )
    assert op.shape == R.shape
    assert op.output_shape == op.geometry.conv_output_shape

    x = rng.standard_normal(spec.input_shape).astype(dtype)
    y = rng.standard_normal(op.output_shape).astype(dtype)
    scale = max(1.0, np.abs(kernel).sum())
    atol = tolerance(dtype, R.size) * scale * 10

    fx = op.apply(x)
    assert fx.shape == op.output_shape and fx.dtype == np.dtype(dtype)
    np.testing.assert_allclose(fx.ravel(), R @ x.ravel(), atol=atol, rtol=0)

    ay = op.H.apply(y)
    assert ay.shape == op.input_shape and ay.dtype == np.dtype(dtype)
    np.testing.assert_allclose(ay.ravel(), R.conj().T @ y.ravel(), atol=atol, rtol=0)
    np.testing.assert_allclose(op.T @ y.ravel(), R.T @ y.ravel(), atol=atol, rtol=0)


@pytest.mark.parametrize("method", METHODS)
@given(spec=cst.conv_specs(max_ndim=2), seed=st.integers(0, 2**31))
def test_complex_input_with_real_kernel(method, spec, seed):
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal(spec.kernel_shape)
    op = ConvOperator(kernel, spec.input_shape, method=method, **spec.kwargs)
    R = dense_of_geometry(kernel, op.geometry)
    x = rng.standard_normal(spec.input_shape) + 1j * rng.standard_normal(spec.input_shape)
    y = rng.standard_normal(op.output_shape) + 1j * rng.standard_normal(op.output_shape)
    np.testing.assert_allclose((op @ x.ravel()), R @ x.ravel(), atol=1e-10)
    np.testing.assert_allclose((op.H @ y.ravel()), R.T @ y.ravel(), atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
@given(spec=cst.conv_specs(), seed=st.integers(0, 2**31))
def test_matmat_and_batched_apply_match_columns(method, spec, seed):
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal(spec.kernel_shape)
    op = ConvOperator(kernel, spec.input_shape, method=method, **spec.kwargs)
    R = dense_of_geometry(kernel, op.geometry)
    X = rng.standard_normal((op.shape[1], 3))
    Y = rng.standard_normal((op.shape[0], 2))
    np.testing.assert_allclose(op.matmat(X), R @ X, atol=1e-10)
    np.testing.assert_allclose(op @ X, R @ X, atol=1e-10)
    np.testing.assert_allclose(op.rmatmat(Y), R.T @ Y, atol=1e-10)
    xb = rng.standard_normal((2, 3) + op.input_shape)
    out = op.apply(xb)
    assert out.shape == (2, 3) + op.output_shape
    np.testing.assert_allclose(out.reshape(6, -1), xb.reshape(6, -1) @ R.T, atol=1e-10)


def test_matmat_runs_the_batch_in_one_call(monkeypatch):
    """matmat hands all columns to the realisation at once (no loop over columns)."""
    from convops import operators

    op = ConvOperator(np.ones((3, 3)), (6, 6), method="fft")
    calls = []
    real = operators.REALISATIONS["fft"].forward

    def spy(x, *args):
        calls.append(x.shape)
        return real(x, *args)

    monkeypatch.setattr(operators.REALISATIONS["fft"], "forward", spy)
    op.matmat(np.ones((36, 5)))
    assert calls == [(5, 1, 6, 6)]


@given(spec=cst.conv_specs(), seed=st.integers(0, 2**31))
def test_realisations_agree_with_each_other_in_float32(spec, seed):
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal(spec.kernel_shape).astype(np.float32)
    x = rng.standard_normal(spec.input_shape).astype(np.float32)
    outs = [
        ConvOperator(kernel, spec.input_shape, method=m, **spec.kwargs).apply(x) for m in METHODS
    ]
    y = rng.standard_normal(outs[0].shape).astype(np.float32)
    backs = [
        ConvOperator(kernel, spec.input_shape, method=m, **spec.kwargs).H.apply(y) for m in METHODS
    ]
    scale = np.abs(kernel).sum() * 4
    for o in outs[1:]:
        assert o.dtype == np.float32
        np.testing.assert_allclose(o, outs[0], atol=1e-5 * scale, rtol=0)
    for b in backs[1:]:
        np.testing.assert_allclose(b, backs[0], atol=1e-5 * scale, rtol=0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "kernel_shape, input_shape", [((3, 3), (40, 40)), ((4, 2, 3, 3), (2, 20, 20))]
)
def test_results_do_not_alias_reused_work_arrays(method, kernel_shape, input_shape, monkeypatch):
    """The realisations reuse work arrays between calls; what they return must be fresh."""
    from dataclasses import replace

    from convops.realisations import workspace

    rng = np.random.default_rng(7)
    w = rng.standard_normal(kernel_shape)
    op = ConvOperator(w, input_shape, padding=1, stride=2, method=method)
    R = dense_of_geometry(w, op.geometry)
    x1, x2 = rng.standard_normal((2,) + input_shape)
    y1 = op.apply(x1)
    b1 = op.H.apply(y1)
    y2 = op.apply(x2)  # would overwrite y1 or b1 if they shared memory with a work array
    op.H.apply(y2)
    np.testing.assert_allclose(y1.ravel(), R @ x1.ravel(), atol=1e-10)
    np.testing.assert_allclose(b1.ravel(), R.T @ y1.ravel(), atol=1e-10)
    monkeypatch.setattr(
        workspace, "_config", replace(workspace.get_config(), scratch_max_bytes=0)
    )  # reuse switched off: same results
    np.testing.assert_allclose(op.apply(x1), y1, atol=1e-12)
    np.testing.assert_allclose(op.H.apply(y1), b1, atol=1e-12)


@pytest.mark.parametrize(
    "input_shape, kernel_shape, kwargs",
    [
        # "valid" adjoints are full convolutions: the direct realisation's lines are exactly
        # the output's, so reads off a line's end carry into the next line's zero padding
        ((1, 9, 11, 12), (1, 1, 3, 4, 5), dict(padding="valid")),
        ((1, 9, 11, 12), (1, 1, 3, 4, 5), dict(padding="valid", dilation=(1, 2, 1))),
        ((1, 13, 14, 15), (1, 1, 3, 2, 4), dict(padding="valid", stride=(1, 2, 3))),
        ((1, 10, 12, 9), (1, 1, 3, 5, 2), dict(padding=((1, 0), (3, 1), (0, 2)))),
        ((2, 17, 19), (3, 2, 5, 7), dict(padding="valid", dilation=(2, 1))),
        ((2, 17, 19), (3, 2, 5, 7), dict(padding="same")),
        ((1, 16, 21), (1, 1, 4, 6), dict(padding="valid", stride=2, boundary="reflect")),
    ],
)
def test_direct_lines_carry_into_zero_padding(input_shape, kernel_shape, kwargs):
    rng = np.random.default_rng(7)
    kernel = rng.standard_normal(kernel_shape)
    op = ConvOperator(kernel, input_shape, method="direct", **kwargs)
    R = dense_of_geometry(kernel, op.geometry)
    x = rng.standard_normal(input_shape)
    y = rng.standard_normal(op.output_shape)
    np.testing.assert_allclose(op.apply(x).ravel(), R @ x.ravel(), atol=1e-11)
    np.testing.assert_allclose(op.H.apply(y).ravel(), R.T @ y.ravel(), atol=1e-11)


@pytest.mark.parametrize("row_gemm", [True, False])
@pytest.mark.parametrize(
    "input_shape, kernel_shape, kwargs",
    [
        ((4, 9, 11), (6, 4, 3, 3), dict(padding=1)),
        ((4, 9, 11), (6, 2, 3, 4), dict(padding="same", groups=2, dilation=(2, 1))),
        ((3, 7, 8, 9), (5, 3, 3, 2, 3), dict(padding="valid")),
        (
            (2, 6, 7, 8),
            (4, 2, 3, 3, 3),
            dict(padding=((1, 0), (2, 1), (0, 2)), boundary="circular"),
        ),
        ((3, 12, 13), (8, 3, 5, 5), dict(padding=2, stride=1)),
        ((3, 12, 13), (8, 3, 5, 5), dict(padding=2, stride=2)),
    ],
)
def test_channel_gemm_im2col_and_row_wise_agree_with_reference(
    row_gemm, input_shape, kernel_shape, kwargs, monkeypatch
):
    """Both ways of forming the channel GEMM (full im2col, or one kernel row at a time)."""
    from dataclasses import replace

    from convops.realisations import workspace

    monkeypatch.setattr(workspace, "_config", replace(workspace.get_config(), row_gemm=row_gemm))
    rng = np.random.default_rng(11)
    kernel = rng.standard_normal(kernel_shape)
    batch = 2
    op = ConvOperator(kernel, input_shape, method="direct", **kwargs)
    R = dense_of_geometry(kernel, op.geometry)
    x = rng.standard_normal((batch,) + input_shape)
    y = rng.standard_normal((batch,) + op.output_shape)
    fx = op.apply(x)
    ay = op.H.apply(y)
    for b in range(batch):
        np.testing.assert_allclose(fx[b].ravel(), R @ x[b].ravel(), atol=1e-11)
        np.testing.assert_allclose(ay[b].ravel(), R.T @ y[b].ravel(), atol=1e-11)
