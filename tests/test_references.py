"""Claim: convops matches external references — scipy.signal, the seed's printed matrices,
and (where installed) PyTorch's conv*d / conv_transpose*d."""

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given
from hypothesis import strategies as st

import convops
from convops import conv, conv_matrix, conv_transpose, conv_transpose_matrix

METHODS = ["matrix", "direct", "fft"]

# The 3×3 kernel 1..9 on a 4×4 image, the example of the transposed-convolution literature:
# its matrices as printed there, typed in by hand.
PRINTED_A = np.array(
    [
        [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
        [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0],
        [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9],
    ]
)
PRINTED_B = np.array(
    [
        [1, 0, 0, 0],
        [2, 1, 0, 0],
        [3, 2, 0, 0],
        [0, 3, 0, 0],
        [4, 0, 1, 0],
        [5, 4, 2, 1],
        [6, 5, 3, 2],
        [0, 6, 0, 3],
        [7, 0, 4, 0],
        [8, 7, 5, 4],
        [9, 8, 6, 5],
        [0, 9, 0, 6],
        [0, 0, 7, 0],
        [0, 0, 8, 7],
        [0, 0, 9, 8],
        [0, 0, 0, 9],
    ]
)
PRINTED_AB = np.array(
    [[285, 186, 154, 94], [186, 285, 106, 154], [154, 106, 285, 186], [94, 154, 186, 285]]
)
PRINTED_BA_ROWS = {  # the rows of BA the literature prints (the rest are elided with ⋮)
    0: [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
    1: [2, 5, 8, 3, 8, 14, 17, 6, 14, 23, 26, 9, 0, 0, 0, 0],
    2: [3, 8, 13, 6, 12, 23, 28, 12, 21, 38, 43, 18, 0, 0, 0, 0],
    13: [0, 0, 0, 0, 8, 23, 38, 21, 32, 68, 83, 42, 56, 113, 128, 63],
    14: [0, 0, 0, 0, 9, 26, 43, 24, 36, 77, 94, 48, 63, 128, 145, 72],
    15: [0, 0, 0, 0, 0, 9, 18, 27, 0, 36, 45, 54, 0, 63, 72, 81],
}
PRINTED_KERNEL = np.arange(1, 10).reshape(3, 3)


def test_seed_matrix_its_transpose_and_products():
    A = conv_matrix(PRINTED_KERNEL, (4, 4))
    B = conv_transpose_matrix(PRINTED_KERNEL, (4, 4))
    np.testing.assert_array_equal(A.toarray(), PRINTED_A)
    np.testing.assert_array_equal(B.toarray(), PRINTED_B)
    np.testing.assert_array_equal((A @ B).toarray(), PRINTED_AB)
    BA = (B @ A).toarray()
    for row, values in PRINTED_BA_ROWS.items():
        np.testing.assert_array_equal(BA[row], values)
    assert not np.array_equal((A @ B).toarray(), np.eye(4))


@pytest.mark.parametrize("method", METHODS)
def test_seed_operator_and_its_adjoint(method):
    op = convops.ConvOperator(PRINTED_KERNEL, (4, 4), method=method)
    np.testing.assert_allclose(op.toarray(), PRINTED_A)
    np.testing.assert_allclose(op.H @ np.eye(4), PRINTED_B, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@given(
    ndim=st.integers(1, 3),
    mode=st.sampled_from(["full", "valid"]),
    flip=st.booleans(),
    cplx=st.booleans(),
    seed=st.integers(0, 2**31),
    data=st.data(),
)
def test_matches_scipy_signal(method, ndim, mode, flip, cplx, seed, data):
    rng = np.random.default_rng(seed)
    k = tuple(data.draw(st.integers(1, 4)) for _ in range(ndim))
    n = tuple(ki + data.draw(st.integers(0, 5)) for ki in k)
    x = rng.standard_normal(n)
    w = rng.standard_normal(k) + (1j * rng.standard_normal(k) if cplx else 0)
    ref = (ss.convolve if flip else ss.correlate)(x, w, mode=mode, method="direct")
    if not flip and cplx:
        ref = ss.convolve(
            x, w[(slice(None, None, -1),) * ndim], mode=mode
        )  # correlate conjugates w
    got = conv(x, w, padding=mode, flip=flip, method=method)
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_scipy_same_differs_for_even_kernels_and_ours_is_pytorchs_rule():
    """Convention: "same" pads lo = total // 2 (PyTorch); scipy's "same" crop differs by one for even k."""
    x = np.arange(8.0)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    ours = conv(x, w, padding="same", flip=True)
    full = ss.convolve(x, w, "full")
    # total padding 3: lo = 1, hi = 2, i.e. the full result from index k - 1 - lo = 2
    np.testing.assert_allclose(ours, full[2:10])
    assert not np.allclose(ours, ss.convolve(x, w, "same"))
    w3 = np.array([1.0, -2.0, 5.0])  # odd kernels agree with scipy
    np.testing.assert_allclose(conv(x, w3, padding="same", flip=True), ss.convolve(x, w3, "same"))


def test_conv_transpose_of_valid_correlation_is_full_convolution():
    """The textbook identity: the adjoint of 'valid' cross-correlation is 'full' convolution."""
    rng = np.random.default_rng(4)
    w, y = rng.standard_normal((3, 2)), rng.standard_normal((5, 6))
    np.testing.assert_allclose(conv_transpose(y, w), ss.convolve(y, w, "full"), atol=1e-12)


# ---------------------------------------------------------------------------------------
# PyTorch (optional)
# ---------------------------------------------------------------------------------------
torch_cases = st.fixed_dictionaries(
    {
        "ndim": st.integers(1, 3),
        "groups": st.sampled_from([1, 2]),
        "cin_g": st.integers(1, 2),
        "cout_g": st.integers(1, 2),
        "k": st.integers(1, 3),
        "stride": st.integers(1, 3),
        "dilation": st.integers(1, 2),
        "padding": st.integers(0, 2),
        "batched": st.booleans(),
        "bias": st.booleans(),
        "seed": st.integers(0, 2**31),
    }
)


@pytest.mark.parametrize("method", METHODS)
@given(case=torch_cases)
def test_conv_nd_matches_torch(method, case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    D, g = case["ndim"], case["groups"]
    rng = np.random.default_rng(case["seed"])
    cin, cout = g * case["cin_g"], g * case["cout_g"]
    size = 7 if D < 3 else 5
    x = rng.standard_normal(((2,) if case["batched"] else ()) + (cin,) + (size,) * D)
    w = rng.standard_normal((cout, cin // g) + (case["k"],) * D)
    b = rng.standard_normal(cout) if case["bias"] else None
    args = (case["stride"], case["padding"], case["dilation"], g)
    ref = getattr(F, f"conv{D}d")(
        torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b), *args
    ).numpy()
    got = getattr(convops, f"conv{D}d")(x, w, b, *args, method=method)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
@given(case=torch_cases, output_padding=st.integers(0, 2))
def test_conv_transpose_nd_matches_torch(method, case, output_padding):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    D, g = case["ndim"], case["groups"]
    s, d = case["stride"], case["dilation"]
    op_ = output_padding % max(s, d)
    rng = np.random.default_rng(case["seed"])
    cin_t, cout_t = g * case["cout_g"], g * case["cin_g"]
    y = rng.standard_normal(((2,) if case["batched"] else ()) + (cin_t,) + (4,) * D)
    w = rng.standard_normal((cin_t, cout_t // g) + (case["k"],) * D)
    b = rng.standard_normal(cout_t) if case["bias"] else None
    n = (4 - 1) * s - 2 * case["padding"] + d * (case["k"] - 1) + op_ + 1
    if n < 1:
        return
    args = (s, case["padding"], op_, g, d)
    ref = getattr(F, f"conv_transpose{D}d")(
        torch.tensor(y), torch.tensor(w), None if b is None else torch.tensor(b), *args
    ).numpy()
    got = getattr(convops, f"conv_transpose{D}d")(y, w, b, *args, method=method)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=1e-10)


@pytest.mark.parametrize("mode", ["circular", "reflect", "replicate"])
@pytest.mark.parametrize("method", METHODS)
def test_padding_modes_match_torch(mode, method):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 7))
    w = rng.standard_normal((4, 3, 3, 2))
    pads = (2, 1)  # (H, W) symmetric, as nn.Conv2d's padding with padding_mode
    conv_t = torch.nn.Conv2d(3, 4, (3, 2), padding=pads, padding_mode=mode, bias=False).double()
    with torch.no_grad():
        conv_t.weight.copy_(torch.tensor(w))
        ref = conv_t(torch.tensor(x)).numpy()
    got = convops.conv2d(x, w, padding=pads, padding_mode=mode, method=method)
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_torch_complex_conv_transpose_is_the_plain_transpose():
    """PyTorch's conv_transpose does not conjugate a complex weight; convops' does (it is the
    adjoint). The two agree once the weight is conjugated."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    w = rng.standard_normal((1, 1, 3)) + 1j * rng.standard_normal((1, 1, 3))
    y = rng.standard_normal((1, 1, 5)) + 1j * rng.standard_normal((1, 1, 5))
    ref = F.conv_transpose1d(torch.tensor(y), torch.tensor(w)).numpy()
    assert not np.allclose(convops.conv_transpose1d(y, w), ref)
    np.testing.assert_allclose(convops.conv_transpose1d(y, w.conj()), ref, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_large_grids_that_take_the_threaded_and_blocked_paths(method):
    """400² outputs exceed the direct realisation's threading threshold and its cache blocks."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((404, 404))
    w = rng.standard_normal((5, 5))
    y = conv(x, w, padding="valid", method=method)
    np.testing.assert_allclose(y, ss.correlate(x, w, "valid", method="fft"), atol=1e-9)
    back = conv_transpose(y, w, method=method)  # adjoint of valid correlation = full convolution
    np.testing.assert_allclose(back, ss.convolve(y, w, "full", method="fft"), atol=1e-9)
