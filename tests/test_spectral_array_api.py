"""Claims about the spectral functions on arrays of other libraries (PyTorch, JAX).

- they compute on torch tensors and JAX arrays the numbers they compute on numpy arrays (the
  numpy path is checked against brute-force DFT sums and the spatial convolution in
  tests/test_spectral.py), and on torch tensors what PyTorch's own (circularly padded)
  convolution and transposed convolution compute;
- the result is of the operands' library, dtype rule (float32 → complex64, float64 →
  complex128) and device;
- autograd differentiates through them, to the kernel and to the spectrum
  (``torch.autograd.gradcheck``; ``jax.grad`` agrees with torch);
- numpy arrays beside a tensor follow the tensor (library, device, precision);
- bad input gets the numpy path's errors, and arrays the computation cannot take a clear one.

Every test skips cleanly where its library is not installed.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convops.spectral import (
    circular_conv_spectrum,
    circular_conv_transpose_spectrum,
    kernel_spectrum,
    strided_conv_spectrum,
    strided_conv_transpose_spectrum,
)

COMPLEX = {"float32": np.complex64, "float64": np.complex128}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tensors this small gain nothing from threads; on a busy machine they cost 10× more."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# single precision: a few units of rounding of the largest value; double: likewise
ATOL = {"float32": 5e-6, "float64": 1e-13}


# ----------------------------------------------------------------------------------------
# drawn calls: shapes, strides, dilations, channels and groups the functions support
# ----------------------------------------------------------------------------------------
@st.composite
def spectral_calls(draw, max_ndim: int = 2):
    """A valid call: kernel, the spectrum X of the convolution's input, Y of its output."""
    D = draw(st.integers(1, max_ndim))
    ks = tuple(draw(st.lists(st.integers(1, 3), min_size=D, max_size=D)))
    dil = tuple(draw(st.lists(st.integers(1, 2), min_size=D, max_size=D)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=D, max_size=D)))
    # s·M at least the dilated extent, sometimes more
    M = tuple(
        -(-(d * (k - 1) + 1) // s) + draw(st.integers(0, 2))
        for k, d, s in zip(ks, dil, stride, strict=True)
    )
    N = tuple(s * m for s, m in zip(stride, M, strict=True))
    multichannel = draw(st.booleans())
    if multichannel:
        groups = draw(st.integers(1, 2))
        cout_g, cin_g = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        kshape = (groups * cout_g, cin_g, *ks)
        xshape, yshape = (groups * cin_g, *N), (groups * cout_g, *M)
        ynshape = (groups * cout_g, *N)  # the output of a circular (stride-1) convolution
    else:
        groups, kshape, xshape, yshape, ynshape = 1, ks, N, M, N
    dtype = draw(st.sampled_from(["float32", "float64"]))
    complex_kernel = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.standard_normal(kshape)
    if complex_kernel:
        w = w + 1j * rng.standard_normal(kshape)
    w = w.astype(COMPLEX[dtype] if complex_kernel else dtype)
    axes = tuple(range(-D, 0))
    X = np.fft.fftn(rng.standard_normal(xshape), axes=axes).astype(COMPLEX[dtype])
    Y = np.fft.fftn(rng.standard_normal(yshape), axes=axes).astype(COMPLEX[dtype])
    Yn = np.fft.fftn(rng.standard_normal(ynshape), axes=axes).astype(COMPLEX[dtype])
    kwargs = dict(dilation=dil, groups=groups, flip=draw(st.booleans()))
    centered = draw(st.booleans())
    return types.SimpleNamespace(
        w=w, X=X, Y=Y, Yn=Yn, stride=stride, kwargs=kwargs, N=N, dtype=dtype, centered=centered
    )


def _calls(c, to):
    """Every function on the drawn call, with the arrays passed through ``to``."""
    w, X, Y, Yn, kw = to(c.w), to(c.X), to(c.Y), to(c.Yn), c.kwargs
    out = {
        "kernel_spectrum": kernel_spectrum(
            w, c.N, dilation=kw["dilation"], flip=kw["flip"], centered=c.centered
        ),
        "strided_conv_spectrum": strided_conv_spectrum(X, w, c.stride, **kw),
        "strided_conv_transpose_spectrum": strided_conv_transpose_spectrum(Y, w, c.stride, **kw),
    }
    out["circular_conv_spectrum"] = circular_conv_spectrum(X, w, **kw)
    out["circular_conv_transpose_spectrum"] = circular_conv_transpose_spectrum(Yn, w, **kw)
    return out


def _same_numbers(got: dict, want: dict, dtype: str) -> None:
    assert got.keys() == want.keys()
    for name, a in got.items():
        b = want[name]
        assert tuple(a.shape) == b.shape, name
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(np.asarray(a), b, rtol=0, atol=ATOL[dtype] * scale, err_msg=name)


# ----------------------------------------------------------------------------------------
# the same numbers, the same kind, dtype and device
# ----------------------------------------------------------------------------------------
@given(spectral_calls())
@settings(deadline=None)
def test_torch_tensors_give_the_numpy_numbers_as_tensors_of_the_dtype_rule(c):
    torch = pytest.importorskip("torch")
    want = _calls(c, lambda a: a)
    got = _calls(c, torch.from_numpy)
    expected = {"float32": torch.complex64, "float64": torch.complex128}[c.dtype]
    for name, a in got.items():
        assert type(a) is torch.Tensor, name
        assert a.dtype == expected, name
        assert a.device == torch.device("cpu"), name
        assert want[name].dtype == COMPLEX[c.dtype], name  # and numpy follows the same rule
    _same_numbers({k: v.numpy() for k, v in got.items()}, want, c.dtype)


@given(spectral_calls(), st.booleans())
@settings(deadline=None, max_examples=8)  # JAX compiles each new shape: fewer, slower draws
def test_jax_arrays_give_the_numpy_numbers_as_jax_arrays(c, x64):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    if c.dtype == "float64" and not x64:
        # without jax_enable_x64 JAX itself stores float64 data as float32
        c.dtype, c.w, c.X, c.Y, c.Yn = "float32", *(_single(a) for a in (c.w, c.X, c.Y, c.Yn))
    with jax.enable_x64(x64):
        want = _calls(c, lambda a: a)
        got = _calls(c, jnp.asarray)
        for name, a in got.items():
            assert isinstance(a, jax.Array), name
            assert a.dtype == COMPLEX[c.dtype], name
        _same_numbers(got, want, c.dtype)


def _single(a: np.ndarray) -> np.ndarray:
    return a.astype(np.complex64 if np.iscomplexobj(a) else np.float32)


@pytest.mark.parametrize("kdtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("sdtype", ["float32", "float64", "complex64", "complex128"])
def test_torch_result_dtype_is_the_complex_of_the_operands_precision(kdtype, sdtype):
    torch = pytest.importorskip("torch")
    w = torch.ones((2, 1, 3), dtype=getattr(torch, kdtype))
    X = torch.ones((1, 8), dtype=getattr(torch, sdtype))
    double = any(t in ("float64", "complex128") for t in (kdtype, sdtype))
    want = torch.complex128 if double else torch.complex64
    assert strided_conv_spectrum(X, w, 2).dtype == want
    assert strided_conv_transpose_spectrum(X[:, :4].expand(2, 4), w, 2).dtype == want
    # numpy's own rule on the same dtypes
    np_out = strided_conv_spectrum(np.ones((1, 8), sdtype), np.ones((2, 1, 3), kdtype), 2)
    assert np_out.dtype == (np.complex128 if double else np.complex64)
    assert kernel_spectrum(w, 8).dtype == (
        torch.complex128 if kdtype in ("float64", "complex128") else torch.complex64
    )


@pytest.mark.parametrize("half", ["float16", "bfloat16", "complex32"])
@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_torch_half_precisions_compute_in_single_precision(half):
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.0, -2.0, 0.5]).to(getattr(torch, half))
    single = w.to(torch.complex64 if half == "complex32" else torch.float32)
    X = torch.fft.fft(torch.arange(8.0))
    got = strided_conv_spectrum(X, w, 2)
    assert got.dtype == torch.complex64
    assert torch.equal(got, strided_conv_spectrum(X, single, 2))
    assert kernel_spectrum(w, 8).dtype == torch.complex64


def test_device_is_kept():
    # the meta device holds no data but is not the CPU: the arrays the functions create (the
    # zero padding of the kernel, the frequency indices of a dilation) must go there too;
    # torch refuses to concatenate a CPU tensor with a meta one
    torch = pytest.importorskip("torch")
    meta = torch.device("meta")
    w = torch.empty((4, 1, 3, 2), device=meta)
    Y = torch.empty((4, 3, 5), dtype=torch.complex64, device=meta)
    X = strided_conv_transpose_spectrum(Y, w, (2, 2), dilation=(2, 1), groups=2)
    assert X.device == meta and X.shape == (2, 6, 10) and X.dtype == torch.complex64
    assert strided_conv_spectrum(X, w, 2, dilation=(2, 1), groups=2).device == meta
    assert kernel_spectrum(w, (6, 10), dilation=(2, 1), centered=True).device == meta


# ----------------------------------------------------------------------------------------
# against PyTorch's own convolution: an external truth for the torch path
# ----------------------------------------------------------------------------------------
TORCH_CASES = [
    # kernel shape (C_out, C_in/groups, *k), M (output grid), stride, dilation, groups
    ((3, 2, 3), (5,), 2, 1, 1),
    ((4, 1, 2), (4,), 3, 2, 2),
    ((2, 3, 3, 2), (4, 3), (2, 1), (1, 2), 1),
    ((4, 2, 4, 4), (3, 3), 2, 1, 2),
]


@pytest.mark.parametrize("kshape, M, stride, dilation, groups", TORCH_CASES)
def test_torch_path_equals_torch_conv_with_circular_padding(kshape, M, stride, dilation, groups):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    D = len(M)
    s = (stride,) * D if isinstance(stride, int) else stride
    d = (dilation,) * D if isinstance(dilation, int) else dilation
    N = tuple(si * mi for si, mi in zip(s, M, strict=True))
    g = torch.Generator().manual_seed(7)
    w = torch.randn(kshape, generator=g, dtype=torch.float64)
    x = torch.randn((groups * kshape[1], *N), generator=g, dtype=torch.float64)
    y = torch.randn((kshape[0], *M), generator=g, dtype=torch.float64)
    conv = {1: F.conv1d, 2: F.conv2d}[D]
    conv_t = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[D]
    fftn, ifftn = torch.fft.fftn, torch.fft.ifftn
    dims = tuple(range(-D, 0))
    # forward: the circular cross-correlation, periodic extension of d·(k − 1) at the end
    ext = [di * (ki - 1) for di, ki in zip(d, kshape[2:], strict=True)]
    pads = [p for e in reversed(ext) for p in (0, e)]
    want = conv(F.pad(x[None], pads, mode="circular"), w, stride=s, dilation=d, groups=groups)[0]
    got = ifftn(strided_conv_spectrum(fftn(x, dim=dims), w, s, dilation=d, groups=groups), dim=dims)
    torch.testing.assert_close(got.real, want, rtol=0, atol=1e-12)
    # transposed: PyTorch's transposed convolution, its overhang wrapped around onto N
    full = conv_t(y[None], w, stride=s, dilation=d, groups=groups)[0]
    for axis, n in zip(range(1, D + 1), N, strict=True):
        full = F.pad(full, [0, 0] * (D - axis) + [0, -full.shape[axis] % n])
        full = full.unflatten(axis, (-1, n)).sum(axis)
    X = strided_conv_transpose_spectrum(fftn(y, dim=dims), w, s, dilation=d, groups=groups)
    torch.testing.assert_close(ifftn(X, dim=dims).real, full, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------------------
# autograd: gradcheck for the kernel and the spectrum
# ----------------------------------------------------------------------------------------
GRAD_CASES = [
    # kernel shape, spectrum-in shape of the forward function, stride, dilation, groups, flip
    ((3,), (6,), 2, 1, 1, False),
    ((2,), (6,), 3, 2, 1, True),
    ((2, 2, 2), (2, 4), 2, 1, 1, False),
    ((4, 1, 2), (2, 6), 2, 2, 2, True),
    ((2, 1, 2, 2), (1, 2, 4), (2, 1), (1, 2), 1, False),
]


@pytest.mark.parametrize("kshape, xshape, stride, dilation, groups, flip", GRAD_CASES)
@pytest.mark.parametrize("complex_kernel", [False, True])
def test_gradcheck_through_every_function(
    kshape, xshape, stride, dilation, groups, flip, complex_kernel
):
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(3)

    def rand(shape, dtype):
        return torch.randn(shape, generator=g, dtype=dtype, requires_grad=True)

    w = rand(kshape, torch.complex128 if complex_kernel else torch.float64)
    X = rand(xshape, torch.complex128)
    kw = dict(dilation=dilation, groups=groups, flip=flip)
    multichannel = len(kshape) == len(xshape) + 1
    grid = xshape[1:] if multichannel else xshape
    # the spectra the transposed functions take: C_out channels, on M resp. on N
    Y = strided_conv_spectrum(X.detach(), w.detach(), stride, **kw).requires_grad_(True)
    Yn = rand((kshape[0], *grid) if multichannel else grid, torch.complex128)

    def check(fn, *inputs):
        assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7)

    check(lambda Xi, wi: strided_conv_spectrum(Xi, wi, stride, **kw), X, w)
    check(lambda Yi, wi: strided_conv_transpose_spectrum(Yi, wi, stride, **kw), Y, w)
    check(lambda Xi, wi: circular_conv_spectrum(Xi, wi, **kw), X, w)
    check(lambda Yi, wi: circular_conv_transpose_spectrum(Yi, wi, **kw), Yn, w)
    check(lambda wi: kernel_spectrum(wi, grid, dilation=dilation, flip=flip, centered=True), w)


def test_gradient_reaches_the_kernel_as_documented():
    # strided_conv_transpose_spectrum's docstring example: each tap of w lands on 4 outputs
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.0, 2.0, 1.0], requires_grad=True)
    X = strided_conv_transpose_spectrum(torch.fft.fft(torch.ones(4)), w, 2)
    assert X.dtype == torch.complex64 and X.shape == (8,)
    torch.fft.ifft(X).real.sum().backward()
    torch.testing.assert_close(w.grad, torch.tensor([4.0, 4.0, 4.0]))


def test_jax_grad_equals_torch_autograd():
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(5)
    w = rng.standard_normal((4, 1, 2, 3)).astype(np.float32)
    Y = np.fft.fft2(rng.standard_normal((4, 3, 2))).astype(np.complex64)

    def loss(xp_ifftn, wi, Yi):
        X = strided_conv_transpose_spectrum(Yi, wi, (2, 3), dilation=(1, 2), groups=2)
        return (xp_ifftn(X, axes=(-2, -1)).real ** 2).sum()

    gj = jax.grad(lambda wi: loss(jax.numpy.fft.ifftn, wi, jax.numpy.asarray(Y)))(
        jax.numpy.asarray(w)
    )
    wt = torch.from_numpy(w).requires_grad_(True)
    loss(lambda a, axes: torch.fft.ifftn(a, dim=axes), wt, torch.from_numpy(Y)).backward()
    np.testing.assert_allclose(np.asarray(gj), wt.grad.numpy(), rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------------
# numpy operands beside a tensor follow the tensor
# ----------------------------------------------------------------------------------------
def test_numpy_operands_follow_the_tensor_library_device_and_precision():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    w64 = rng.standard_normal((2, 2, 3))
    X = torch.fft.fft(torch.randn(2, 12, dtype=torch.float32))  # complex64
    got = strided_conv_spectrum(X, w64, 3)
    assert type(got) is torch.Tensor and got.dtype == torch.complex64
    assert torch.equal(got, strided_conv_spectrum(X, torch.from_numpy(w64).float(), 3))
    # a list, a complex numpy kernel (stays complex), numpy spectrum with a tensor kernel
    assert torch.equal(
        strided_conv_spectrum(X[0], [1.0, 2.0], 3),
        strided_conv_spectrum(X[0], torch.tensor([1.0, 2.0]), 3),
    )
    wc = w64 + 1j * rng.standard_normal(w64.shape)
    got_c = strided_conv_spectrum(X, wc, 3)
    assert got_c.dtype == torch.complex64
    assert torch.equal(got_c, strided_conv_spectrum(X, torch.from_numpy(wc).to(torch.complex64), 3))
    Xn = np.fft.fft(rng.standard_normal((2, 12)))  # complex128 numpy
    wt = torch.from_numpy(w64)  # float64 tensor: double precision
    got_t = strided_conv_transpose_spectrum(Xn[:, :4], wt, 3)
    assert type(got_t) is torch.Tensor and got_t.dtype == torch.complex128
    np.testing.assert_allclose(
        got_t.numpy(), strided_conv_transpose_spectrum(Xn[:, :4], w64, 3), atol=1e-12
    )


# ----------------------------------------------------------------------------------------
# bad input: the numpy path's errors, and clear ones for arrays that cannot be taken
# ----------------------------------------------------------------------------------------
BAD_CALLS = [
    (lambda X, w: strided_conv_spectrum(X[0, :7], w[0, 0], 2), "stride=2 does not divide"),
    (lambda X, w: strided_conv_spectrum(X, w, 2, groups=2), "groups"),
    (lambda X, w: strided_conv_transpose_spectrum(X, w, 2), "output channels"),
    (lambda X, w: circular_conv_spectrum(X[:, :2], w, dilation=3), "kernel extent"),
    (lambda X, w: circular_conv_spectrum(X[0], w), "does not fit"),
    (lambda X, w: kernel_spectrum(w, (2,)), "at least the dilated kernel extent"),
    (lambda X, w: kernel_spectrum(w[..., :0], (8,)), "is empty"),
    (lambda X, w: kernel_spectrum(w, 10**12), "max_work_bytes"),
]


@pytest.mark.parametrize("call, match", BAD_CALLS)
def test_validation_errors_are_those_of_the_numpy_path(call, match):
    torch = pytest.importorskip("torch")
    X, w = np.ones((3, 8), complex), np.ones((2, 3, 3))
    with pytest.raises(ValueError, match=match) as on_numpy:
        call(X, w)
    with pytest.raises(ValueError) as on_torch:
        call(torch.from_numpy(X), torch.from_numpy(w))
    assert str(on_torch.value) == str(on_numpy.value)


@given(
    param=st.sampled_from(["stride", "dilation", "groups", "flip"]),
    value=st.one_of(
        st.integers(-3, 0), st.floats(allow_nan=False), st.text(max_size=2), st.booleans()
    ),
)
@settings(deadline=None)
def test_bad_parameters_get_the_numpy_error_on_tensors(param, value):
    torch = pytest.importorskip("torch")
    if param == "flip" and isinstance(value, bool):
        return  # a valid flip
    kwargs = {param: value}
    outcomes = []
    for to in (np.asarray, torch.from_numpy):
        X, w = to(np.ones((2, 8), complex)), to(np.ones((2, 2, 2)))
        with pytest.raises((TypeError, ValueError)) as info:
            strided_conv_spectrum(X, w, **kwargs)
        outcomes.append((type(info.value), str(info.value)))
    assert outcomes[0] == outcomes[1]
    assert param in outcomes[0][1]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_torch_integer_and_bool_arrays_are_refused_not_computed_in_float64(dtype):
    torch = pytest.importorskip("torch")
    w = torch.ones(3, dtype=getattr(torch, dtype))
    with pytest.raises(TypeError, match=rf"kernel has dtype torch\.{dtype}.*kernel\.to\(torch"):
        kernel_spectrum(w, 8)
    with pytest.raises(TypeError, match=rf"X has dtype torch\.{dtype}"):
        strided_conv_spectrum(torch.ones(8, dtype=getattr(torch, dtype)), torch.ones(3), 2)


def test_arrays_of_two_libraries_are_refused():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(TypeError, match=r"different libraries \(X is a torch\.Tensor, kernel is"):
        strided_conv_spectrum(torch.ones(8), jnp.ones(3), 2)


def test_operands_on_two_devices_are_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="kernel is on device meta but Y is on device cpu"):
        strided_conv_transpose_spectrum(torch.ones(4), torch.ones(3, device="meta"), 2)


def test_sparse_tensors_are_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"layout torch\.sparse_coo.*to_dense"):
        circular_conv_spectrum(torch.ones(8).to_sparse(), torch.ones(3))


def test_a_namespace_without_fft_is_refused():
    # an array-API array whose namespace lacks the fft extension (array_api_compat asks the
    # array itself for its namespace)
    class NoFFTArray:
        shape, ndim, dtype = (8,), 1, np.float64

        def __array_namespace__(self, api_version=None):
            return types.SimpleNamespace(__name__="nofft")

    with pytest.raises(TypeError, match="'nofft' has no fft extension"):
        kernel_spectrum(NoFFTArray(), 8)


def test_an_fft_the_device_cannot_run_becomes_a_clear_error(monkeypatch):
    torch = pytest.importorskip("torch")
    import array_api_compat.torch.fft as tfft

    def refuse(*args, **kwargs):
        raise RuntimeError("fft_c2c not implemented for 'SomeDevice'\nmore detail")

    monkeypatch.setattr(tfft, "ifftn", refuse)
    with pytest.raises(
        TypeError,
        match=r"kernel: torch\.Tensor's fft\.ifftn cannot take a "
        r"torch\.complex64 array on device cpu \(fft_c2c not implemented",
    ):
        kernel_spectrum(torch.ones(3), 8)
