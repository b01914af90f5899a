"""Claims about the frequency domain (convops.spectral), each checked against an independent
reference: brute-force DFT sums written from the formula, the spatial (direct) realisation,
the operator's sparse matrix, and numpy's dense SVD.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convops
from convops import ConvOperator, kernel_spectrum, operator_norm, singular_values
from convops.geometry import make_geometry
from convops.spectral import (
    MATRIX_LIMIT,
    circular_conv_spectrum,
    circular_conv_transpose_spectrum,
    factors,
    strided_conv_spectrum,
    strided_conv_transpose_spectrum,
)
from convops.testing import dot_test
from convops.testing import strategies as cst

RNG = np.random.default_rng(20240605)


def _rand(shape, complex_=False, rng=RNG):
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if complex_ else a


def _brute_spectrum(w, grid, dilation, sign, freqs=None):
    """Σ_t w[..., t]·exp(sign·2πi f·t·d/N), one frequency and one tap at a time."""
    D = len(grid)
    freqs = freqs or [np.arange(n) for n in grid]
    out = np.zeros(w.shape[: w.ndim - D] + tuple(grid), dtype=complex)
    for idx in itertools.product(*map(range, grid)):
        f = [fr[i] for fr, i in zip(freqs, idx, strict=True)]
        total = 0
        for t in itertools.product(*map(range, w.shape[w.ndim - D :])):
            phase = sum(
                fa * ta * da / na for fa, ta, da, na in zip(f, t, dilation, grid, strict=True)
            )
            total = total + w[(Ellipsis,) + t] * np.exp(sign * 2j * np.pi * phase)
        out[(Ellipsis,) + idx] = total
    return out


# ----------------------------------------------------------------------------------------
# kernel_spectrum is the DFT sum of its docstring
# ----------------------------------------------------------------------------------------
SPECTRUM_CASES = [
    ((3,), (7,), (1,)),
    ((3,), (8,), (3,)),
    ((2, 3), (4, 7), (2, 1)),
    ((2, 1, 3), (3, 2, 5), (1, 1, 2)),
    ((2, 3, 2), (5,), (2,)),  # multichannel 1D: (C_out, C_in/groups, k)
    ((3, 2, 2, 2), (3, 4), (1, 2)),  # multichannel 2D
]


@pytest.mark.parametrize("kshape, grid, dilation", SPECTRUM_CASES)
@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("complex_", [False, True])
def test_kernel_spectrum_is_the_dft_sum(kshape, grid, dilation, flip, complex_):
    w = _rand(kshape, complex_)
    got = kernel_spectrum(w, grid, dilation=dilation, flip=flip)
    # cross-correlation: e^{+2πi f t d/N}; convolution (flip): e^{−2πi f t d/N}
    want = _brute_spectrum(w, grid, dilation, -1 if flip else +1)
    assert got.shape == w.shape[: w.ndim - len(grid)] + grid
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("grid", [(6,), (7,), (4, 5)])
def test_kernel_spectrum_centred_puts_frequency_zero_at_n_over_2(grid):
    w = _rand((3,) * len(grid), complex_=True)
    got = kernel_spectrum(w, grid, centered=True)
    # index i holds frequency i − N//2 (so index N//2 is f = 0)
    freqs = [np.arange(n) - n // 2 for n in grid]
    np.testing.assert_allclose(
        got, _brute_spectrum(w, grid, (1,) * len(grid), +1, freqs), atol=1e-12
    )


def test_kernel_spectrum_real_kernel_conventions():
    w = np.array([1.0, 2.0, 3.0])
    wd = np.zeros(8)
    wd[[0, 2, 4]] = w
    np.testing.assert_allclose(
        kernel_spectrum(w, (8,), dilation=2), np.conj(np.fft.fft(wd)), atol=1e-13
    )
    np.testing.assert_allclose(
        kernel_spectrum(w, (8,), dilation=2, flip=True), np.fft.fft(wd), atol=1e-13
    )


def test_kernel_spectrum_is_the_multiplier_the_fft_realisation_uses():
    from convops.realisations import fft as fft_mod

    w = _rand((4, 2, 3, 2), complex_=True)
    g = make_geometry(w.shape, (4, 6, 7), stride=2, padding=1, dilation=(1, 2), groups=2, flip=True)
    got = kernel_spectrum(g.canonical_kernel(w), g.fft_shape, dilation=g.dilation)
    np.testing.assert_allclose(
        got, fft_mod.spectrum(g.canonical_kernel(w), g, real=False), atol=1e-12
    )


@pytest.mark.parametrize(
    "kshape, shape, kwargs, match",
    [
        ((3,), (2,), {}, "at least the dilated kernel extent"),
        ((3,), (4,), {"dilation": 2}, "= 5"),
        ((3, 3), (5,), {}, "does not fit"),
        ((3,), (5,), {"dilation": 0}, "dilation"),
    ],
)
def test_kernel_spectrum_refuses_bad_input(kshape, shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        kernel_spectrum(np.ones(kshape), shape, **kwargs)


# ----------------------------------------------------------------------------------------
# the factor chain multiplies to the operator's matrix, forward and adjoint
# ----------------------------------------------------------------------------------------
@given(cst.operators(dtypes=("float64", "complex128")))
def test_factor_chain_multiplies_to_the_matrix(op):
    chain = op.factors()
    want = op.matrix().toarray()
    scale = max(1.0, np.abs(want).max())
    np.testing.assert_allclose(chain.matrix(), want, atol=1e-11 * scale)
    x = _rand(op.shape[1], complex_=True)
    y = _rand(op.shape[0], complex_=True)
    prod = chain.product()
    np.testing.assert_allclose(prod @ x, want @ x, atol=1e-10 * scale * np.abs(x).sum())
    np.testing.assert_allclose(prod.H @ y, want.conj().T @ y, atol=1e-10 * scale * np.abs(y).sum())


@given(cst.operators(dtypes=("float64", "complex128"), max_ndim=2))
def test_every_factor_is_its_matrix_and_passes_the_dot_test(op):
    for f in factors(op):
        x = _rand(f.shape[1], complex_=True)
        np.testing.assert_allclose(f.matvec(x), f.matrix() @ x, atol=1e-10 * (1 + np.abs(x).sum()))
        dot_test(f, rng=0, atol=1e-13)


def test_factor_chain_with_output_padding_and_float32():
    # conv_transpose's output_padding: the adjoint of a convolution cropped to output_size
    w = RNG.standard_normal((2, 3, 3, 2)).astype(np.float32)
    g = make_geometry(w.shape, (3, 9, 6), stride=2, dilation=(3, 1), padding=1, output_size=(2, 2))
    assert g.natural_output_length() == (3, 4)
    op = ConvOperator.from_geometry(w, g.transpose(), method="direct")
    np.testing.assert_allclose(op.factors().matrix(), op.matrix().toarray(), atol=1e-5)


def test_factor_chain_formula_and_order():
    op = ConvOperator(np.ones((2, 3, 3)), (3, 6), stride=2, padding=1)
    assert str(op.factors()) == "A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P"
    assert str(op.H.factors()) == "Aᴴ = Pᵀ · Zᵀ · F⁻¹ · diag(Ĥ)ᴴ · F · Cᵀ · Sᵀ"
    chain = op.factors()
    assert [f.symbol for f in chain] == ["P", "Z", "F", "diag(Ĥ)", "F⁻¹", "C", "S"]
    assert "A = S · C" in repr(chain)
    # shapes chain up: each factor's output is the next one's input
    assert chain[0].input_shape == op.input_shape and chain[-1].output_shape == op.output_shape
    for a, b in itertools.pairwise(chain):
        assert a.output_shape == b.input_shape


def test_dense_dft_matrix_is_refused_when_large():
    op = ConvOperator(np.ones(3), (3000,), padding=1)
    with pytest.raises(ValueError, match="MATRIX_LIMIT"):
        op.factors()[2].matrix()
    assert 3000**2 > MATRIX_LIMIT
    x = _rand(3000)
    np.testing.assert_allclose(op.factors().product() @ x, op @ x, atol=1e-10)


# ----------------------------------------------------------------------------------------
# spectrum in, spectrum out = spatial circular conv / conv_transpose
# ----------------------------------------------------------------------------------------
def _circular_op(kernel, grid_shape, stride, dilation, groups, flip):
    D = kernel.ndim - 2 if kernel.ndim == len(grid_shape) + 1 else len(grid_shape)
    ks = kernel.shape[kernel.ndim - D :]
    dil = (dilation,) * D if isinstance(dilation, int) else dilation
    pads = [((d * (k - 1), 0) if flip else (0, d * (k - 1))) for d, k in zip(dil, ks, strict=True)]
    return ConvOperator(
        kernel,
        grid_shape,
        stride=stride,
        padding=pads,
        dilation=dilation,
        groups=groups,
        boundary="circular",
        flip=flip,
        method="direct",
    )


SPECTRAL_CASES = [
    # kernel shape, input shape (N divisible by 12 so that strides 1–4 all divide), dilation, groups
    ((3,), (12,), 1, 1),
    ((2,), (24,), 3, 1),
    ((4, 2, 3), (4, 12), 2, 2),
    ((3, 2), (12, 12), (1, 2), 1),
    ((2, 3, 2, 2), (3, 12, 24), 1, 1),
    ((2, 2, 2), (12, 12, 12), 1, 1),
    ((2, 1, 2, 1, 2), (2, 12, 12, 12), (1, 1, 2), 2),
]


@pytest.mark.parametrize("kshape, shape, dilation, groups", SPECTRAL_CASES)
@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("flip", [False, True])
def test_spectral_folding_and_replication_equal_spatial_circular_conv(
    kshape, shape, dilation, groups, stride, flip
):
    complex_ = len(shape) < 3
    w = _rand(kshape, complex_)
    op = _circular_op(w, shape, stride, dilation, groups, flip)
    D = op.geometry.ndim
    axes = tuple(range(-D, 0))
    x = _rand(op.input_shape, complex_)
    Y = strided_conv_spectrum(
        np.fft.fftn(x, axes=axes), w, stride, dilation=dilation, groups=groups, flip=flip
    )
    np.testing.assert_allclose(np.fft.ifftn(Y, axes=axes), op.apply(x), atol=1e-10)
    y = _rand(op.output_shape, complex_=True)
    X = strided_conv_transpose_spectrum(
        np.fft.fftn(y, axes=axes), w, stride, dilation=dilation, groups=groups, flip=flip
    )
    np.testing.assert_allclose(np.fft.ifftn(X, axes=axes), op.H.apply(y), atol=1e-10)
    if stride == 1:
        np.testing.assert_allclose(
            circular_conv_spectrum(
                np.fft.fftn(x, axes=axes), w, dilation=dilation, groups=groups, flip=flip
            ),
            Y,
        )
        np.testing.assert_allclose(
            circular_conv_transpose_spectrum(
                np.fft.fftn(y, axes=axes), w, dilation=dilation, groups=groups, flip=flip
            ),
            X,
        )


@given(
    n=st.integers(3, 13),
    k=st.integers(1, 3),
    d=st.integers(1, 2),
    s=st.integers(1, 4),
    flip=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_spectral_folding_any_divisible_size(n, k, d, s, flip, seed):
    rng = np.random.default_rng(seed)
    N = n * s
    if N < d * (k - 1) + 1:
        return
    w = _rand((k,), True, rng)
    x = _rand((N,), True, rng)
    op = _circular_op(w, (N,), s, d, 1, flip)
    np.testing.assert_allclose(
        np.fft.ifft(strided_conv_spectrum(np.fft.fft(x), w, s, dilation=d, flip=flip)),
        op @ x,
        atol=1e-10,
    )


@pytest.mark.parametrize("n, stride, pad", [(7, 2, 1), (10, 3, 2), (13, 4, 3)])
def test_size_not_divisible_by_stride_is_refused_naming_the_padding(n, stride, pad):
    with pytest.raises(ValueError, match=rf"Zero-pad x by {pad} at the end \(to {n + pad}\)"):
        strided_conv_spectrum(np.ones(n), np.ones(2), stride)
    # the 2D case names the offending axis
    with pytest.raises(ValueError, match="axis 1"):
        strided_conv_spectrum(np.ones((2, 12, n)), np.ones((3, 2, 2, 2)), stride)
    # after that padding, it works (circular convolution on the padded grid)
    x = np.concatenate([RNG.standard_normal(n), np.zeros(pad)])
    y = np.fft.ifft(strided_conv_spectrum(np.fft.fft(x), np.ones(2), stride)).real
    np.testing.assert_allclose(
        y, _circular_op(np.ones(2), (n + pad,), stride, 1, 1, False) @ x, atol=1e-12
    )


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_linear_conv_by_zero_padding_first(stride):
    # zero-padded (linear) conv = circular conv on a grid N >= n + lo + hi, cropped to m
    x, w = RNG.standard_normal((5, 6)), RNG.standard_normal((3, 2))
    lo, hi = (1, 0), (2, 1)
    want = convops.conv(x, w, stride=stride, padding=((lo[0], hi[0]), (lo[1], hi[1])))
    N = [-(-(n + a + b) // stride) * stride for n, a, b in zip(x.shape, lo, hi, strict=True)]
    xz = np.zeros(N)
    xz[lo[0] : lo[0] + 5, lo[1] : lo[1] + 6] = x
    y = np.fft.ifft2(strided_conv_spectrum(np.fft.fft2(xz), w, stride)).real
    np.testing.assert_allclose(y[: want.shape[0], : want.shape[1]], want, atol=1e-12)


def test_spectral_functions_refuse_mismatched_channels():
    with pytest.raises(ValueError, match="groups"):
        circular_conv_spectrum(np.ones((3, 8)), np.ones((2, 3, 2)), groups=2)
    with pytest.raises(ValueError, match="output channels"):
        circular_conv_transpose_spectrum(np.ones((3, 8)), np.ones((2, 3, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        circular_conv_spectrum(np.ones((8,)), np.ones((1, 1, 1, 2)))
    with pytest.raises(ValueError, match="kernel extent"):
        circular_conv_spectrum(np.ones(4), np.ones(3), dilation=2)


# ----------------------------------------------------------------------------------------
# singular values of circular convolutions = SVD of the dense matrix
# ----------------------------------------------------------------------------------------
SVD_CASES = [
    ((3, 2, 3), (2, 7), dict(padding=(1, 1))),
    ((2, 3, 3), (3, 6), dict(padding=(0, 4), dilation=2)),
    ((4, 1, 3), (2, 5), dict(padding=(2, 0), groups=2)),
    ((3, 2, 3), (2, 2), dict(padding=(2, 2), dilation=2)),  # n < kernel extent: taps alias
    ((2, 3, 3, 2), (3, 4, 5), dict(padding=((1, 1), (0, 1)))),
    ((4, 2, 2, 3), (4, 3, 4), dict(padding=((0, 2), (1, 3)), dilation=(2, 2), groups=2, flip=True)),
    ((3, 1, 2, 2, 2), (3, 3, 3, 4), dict(padding=1 and ((1, 0), (0, 1), (1, 0)), groups=3)),
    ((2, 2, 2, 2, 1), (2, 3, 2, 3), dict(padding=((0, 1), (1, 0), (0, 0)))),
    ((3, 3), (5, 6), dict(padding="same")),  # single channel
]


@pytest.mark.parametrize("kshape, shape, kwargs", SVD_CASES)
@pytest.mark.parametrize("complex_", [False, True])
def test_singular_values_equal_dense_svd(kshape, shape, kwargs, complex_):
    op = ConvOperator(_rand(kshape, complex_), shape, boundary="circular", **kwargs)
    dense = np.linalg.svd(op.toarray(), compute_uv=False)
    for o in (op, op.H):
        sv = singular_values(o)
        assert sv.shape == dense.shape
        assert np.all(np.diff(sv) <= 0)
        np.testing.assert_allclose(sv, dense, atol=1e-12 * dense[0])
        assert operator_norm(o) == pytest.approx(dense[0], rel=1e-13)


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(boundary="zeros", padding=1), "boundary='zeros'"),
        (dict(boundary="circular", padding=1, stride=3), "divisible by stride"),
        (dict(boundary="circular", padding=(1, 2)), "lo \\+ hi"),
    ],
)
def test_singular_values_refuse_other_geometries(kwargs, reason):
    op = ConvOperator(np.ones((2, 1, 3)), (1, 8), **kwargs)
    with pytest.raises(ValueError, match=reason) as info:
        singular_values(op)
    assert "operator_norm" in str(info.value)
    with pytest.raises(ValueError, match="operator_norm"):
        operator_norm(op, method="exact")


# ----------------------------------------------------------------------------------------
# operator_norm: exact, dense, or a Lanczos value within rtol and never above the norm
# ----------------------------------------------------------------------------------------
NORM_CASES = [
    ((2, 3, 3), (3, 90), dict(stride=2, padding=1)),
    ((3, 2, 3, 3), (2, 12, 10), dict(stride=(2, 3), padding=((1, 2), (0, 1)))),
    ((2, 1, 2, 2, 2), (2, 6, 5, 4), dict(stride=2, padding=1, groups=2)),
    ((4, 2, 3), (2, 40), dict(stride=4, padding=3, dilation=2, boundary="reflect")),
    ((5,), (300,), dict(stride=3, padding=2)),
]


@pytest.mark.parametrize("kshape, shape, kwargs", NORM_CASES)
@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("rtol", [1e-3, 1e-6])
def test_lanczos_norm_is_within_rtol_and_never_above(kshape, shape, kwargs, complex_, rtol):
    op = ConvOperator(_rand(kshape, complex_), shape, **kwargs)
    exact = np.linalg.svd(op.toarray(), compute_uv=False)[0]
    for o in (op, op.H):
        est = operator_norm(o, rtol=rtol, method="lanczos")
        assert est <= exact * (1 + 1e-12)
        assert est >= exact * (1 - rtol)
        assert operator_norm(o) == pytest.approx(exact, rel=1e-12)  # auto: dense when small


def test_operator_norm_auto_uses_lanczos_for_large_operators():
    op = ConvOperator(_rand((5,)), (1100,), stride=2, padding=2)  # 550 x 1100: past DENSE_SVD_LIMIT
    assert min(op.shape) > convops.spectral.DENSE_SVD_LIMIT
    exact = np.linalg.svd(op.toarray(), compute_uv=False)[0]
    est = operator_norm(op, rtol=1e-6)
    assert exact * (1 - 1e-6) <= est <= exact * (1 + 1e-12)


def test_operator_norm_of_a_generic_linear_operator():
    chain = ConvOperator(_rand((3, 3)), (6, 7), stride=2, padding=1).factors()
    op = chain.product()
    assert operator_norm(op) == pytest.approx(np.linalg.norm(chain.matrix(), 2), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(rtol=0), ValueError),
        (dict(rtol=1.5), ValueError),
        (dict(rtol="x"), TypeError),
        (dict(method="svd"), ValueError),
    ],
)
def test_operator_norm_refuses_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        operator_norm(ConvOperator(np.ones(3), (8,)), **kwargs)


def test_docstring_examples_run():
    import doctest

    import convops.spectral

    assert doctest.testmod(convops.spectral).failed == 0
