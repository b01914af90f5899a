"""Claims about ``convops.from_torch`` (where PyTorch is installed; skipped cleanly otherwise).

- For hypothesis-drawn ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d`` modules (channels,
  groups, stride, padding as ints, tuples, ``"valid"`` and ``"same"``, dilation,
  ``padding_mode``, ``output_padding``, bias on and off, float32, float64, complex64 and
  complex128, batched and unbatched inputs, ``input_shape`` with or without ``C_in``):
  ``apply`` equals the module's output minus its bias (``bias="return"``: plus the returned
  bias equals the output), the operator's dtype is the weight's, and ``.H`` equals the
  vector-Jacobian product from ``torch.autograd``; a transposed module's output shape is
  torch's.
- ``output_size`` gives what ``module(y, output_size=...)`` gives.
- The returned operator passes ``dot_test``; it keeps a copy of the weight and bias.
- float16 and bfloat16 weights compute in float32, with the weight's values.
- The docstring's examples run.
- Bad input (other modules and objects, a lazy module before its first run, a meta module,
  unsupported padding modes, missing, wrong-length, wrong-channel and too-small input shapes,
  a bias refused, bad ``bias`` values, out-of-range ``output_size``): a TypeError or
  ValueError naming what was received and what is accepted; where the module itself would
  fail on such an input, torch is checked to refuse it too.
"""

from __future__ import annotations

import doctest
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convops
from convops.testing import dot_test

torch = pytest.importorskip("torch")

MODES = ("zeros", "reflect", "replicate", "circular")
DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}


# ----------------------------------------------------------------------------------------
# drawing modules
# ----------------------------------------------------------------------------------------
@dataclass
class Case:
    module: object
    ndim: int
    transposed: bool
    channels: int
    spatial: tuple[int, ...]
    batch: int | None  # None: unbatched
    dtype: str
    rng: np.random.Generator

    def input(self) -> torch.Tensor:
        lead = () if self.batch is None else (self.batch,)
        return random_tensor(self.rng, lead + (self.channels, *self.spatial), self.dtype)


def random_tensor(rng: np.random.Generator, shape, dtype: str) -> torch.Tensor:
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return torch.from_numpy(a).to(DTYPES[dtype])


def tolerances(dtype: str) -> dict[str, float]:
    return (
        {"rtol": 1e-4, "atol": 1e-5}
        if dtype in ("float32", "complex64")
        else {"rtol": 1e-10, "atol": 1e-11}
    )


@st.composite
def cases(draw, transposed: bool | None = None, dtypes=tuple(DTYPES)) -> Case:
    ndim = draw(st.integers(1, 3))
    small = ndim == 3  # 3D stays small: the file runs in seconds
    if transposed is None:
        transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 2 if small else 4)) for _ in range(ndim))
    d = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    dtype = draw(st.sampled_from(dtypes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    bias = draw(st.booleans())
    kw: dict = dict(kernel_size=k, dilation=d, groups=groups, bias=bias, dtype=DTYPES[dtype])

    if not transposed:
        form = draw(st.sampled_from(["int", "tuple", "valid", "same"]))
        s = (1,) * ndim if form == "same" else tuple(draw(st.integers(1, 3)) for _ in range(ndim))
        if form == "int":
            p0 = draw(st.integers(0, 2))
            padding: object = p0
            pads = [(p0, p0)] * ndim
        elif form == "tuple":
            pt = tuple(draw(st.integers(0, 2)) for _ in range(ndim))
            padding, pads = pt, [(p, p) for p in pt]
        elif form == "valid":
            padding, pads = "valid", [(0, 0)] * ndim
        else:  # torch's split of d·(k − 1), stated independently of convops
            padding = "same"
            pads = [
                (di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2)
                for di, ki in zip(d, k, strict=True)
            ]
        mode = draw(st.sampled_from(MODES))
        spatial = []
        for (lo, hi), ki, di in zip(pads, k, d, strict=True):
            least = max(1, di * (ki - 1) + 1 - lo - hi)
            if mode == "reflect":
                least = max(least, lo + 1, hi + 1)
            elif mode == "circular":
                least = max(least, lo, hi)
            spatial.append(least + draw(st.integers(0, 2 if small else 4)))
        cls = getattr(torch.nn, f"Conv{ndim}d")
        module = cls(cin, cout, stride=s, padding=padding, padding_mode=mode, **kw)
        channels = cin
    else:
        s = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
        pt = tuple(draw(st.integers(0, 2)) for _ in range(ndim))
        padding = draw(st.sampled_from([pt, pt[0]]))  # a tuple, or an int for every axis
        pt = (padding,) * ndim if isinstance(padding, int) else pt
        out_pad = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d, strict=True))
        spatial = []
        for si, pi, ki, di, oi in zip(s, pt, k, d, out_pad, strict=True):
            # the output (m − 1)·s − 2p + d·(k − 1) + output_padding + 1 must be >= 1
            need = 2 * pi - di * (ki - 1) - oi
            least = max(1, 1 + -(-need // si))
            spatial.append(least + draw(st.integers(0, 2 if small else 3)))
        cls = getattr(torch.nn, f"ConvTranspose{ndim}d")
        module = cls(cin, cout, stride=s, padding=padding, output_padding=out_pad, **kw)
        channels = cin
    # weights drawn here, from the example's own generator (no global torch RNG)
    with torch.no_grad():
        module.weight.copy_(random_tensor(rng, tuple(module.weight.shape), dtype))
        if module.bias is not None:
            module.bias.copy_(random_tensor(rng, tuple(module.bias.shape), dtype))
    batch = draw(st.sampled_from([None, 1, 2]))
    return Case(module, ndim, transposed, channels, tuple(spatial), batch, dtype, rng)


def shape_argument(case: Case, form: str):
    if form == "spatial":
        return case.spatial
    if form == "int" and case.ndim == 1:
        return case.spatial[0]
    return (case.channels, *case.spatial)


# ----------------------------------------------------------------------------------------
# apply equals the module, .H equals autograd's vector-Jacobian product
# ----------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@settings(deadline=None)
@given(case=cases(), form=st.sampled_from(["full", "spatial", "int"]), data=st.data())
def test_apply_is_the_module_without_its_bias_and_H_is_the_vjp(case, form, data):
    m = case.module
    x = case.input().requires_grad_(True)
    y = m(x)
    has_bias = m.bias is not None
    choice = "return" if has_bias else data.draw(st.sampled_from(["refuse", "drop", "return"]))
    result = convops.from_torch(m, shape_argument(case, form), bias=choice)
    if choice == "return":
        op, b = result
    else:
        op, b = result, None
    if not has_bias:
        assert b is None
    tol = tolerances(case.dtype)

    # shapes and dtype: those of the module and of its weight
    unbatched_out = tuple(y.shape[-(case.ndim + 1) :])
    assert op.input_shape == (case.channels, *case.spatial)
    assert op.output_shape == unbatched_out
    assert op.dtype == np.dtype(case.dtype)

    out = op.apply(x.detach().numpy())
    assert out.dtype == np.dtype(case.dtype)
    expected = y.detach().numpy()
    if has_bias:
        np.testing.assert_array_equal(b, m.bias.detach().numpy())
        assert b.shape == (unbatched_out[0],) and b.dtype == np.dtype(case.dtype)
        out = out + b.reshape((-1,) + (1,) * case.ndim)
    np.testing.assert_allclose(out, expected, **tol)

    # the adjoint: torch.autograd.grad(m(x), x, v) is A^H v (the bias has no part in it)
    v = random_tensor(case.rng, tuple(y.shape), case.dtype)
    (vjp,) = torch.autograd.grad(y, x, v)
    np.testing.assert_allclose(op.H.apply(v.numpy()), vjp.numpy(), **tol)


@settings(deadline=None, max_examples=15)
@given(case=cases(transposed=True, dtypes=("float32", "float64")), data=st.data())
def test_output_size_picks_the_output_padding_as_torch_does(case, data):
    m = case.module
    y = case.input()
    smallest = [
        (mi - 1) * s - 2 * p + d * (k - 1) + 1
        for mi, s, p, d, k in zip(
            case.spatial, m.stride, m.padding, m.dilation, m.kernel_size, strict=True
        )
    ]
    # torch's valid sizes are smallest … smallest + stride − 1, and at least 1
    assume(all(lo + s - 1 >= 1 for lo, s in zip(smallest, m.stride, strict=True)))
    size = [
        data.draw(st.integers(max(1, lo), lo + s - 1))
        for lo, s in zip(smallest, m.stride, strict=True)
    ]
    # as torch takes it: the spatial sizes, or with the channel (and batch) entries in front
    form = data.draw(st.sampled_from(["spatial", "channels", "batch"]))
    lead = {"spatial": [], "channels": [m.out_channels], "batch": [3, m.out_channels]}[form]
    given_size = lead + size
    expected = m(y, output_size=size).detach().numpy()
    op = convops.from_torch(m, (case.channels, *case.spatial), bias="drop", output_size=given_size)
    assert op.output_shape == tuple(expected.shape[-(case.ndim + 1) :])
    if m.bias is not None:
        expected = expected - m.bias.detach().numpy().reshape((-1,) + (1,) * case.ndim)
    np.testing.assert_allclose(op.apply(y.numpy()), expected, **tolerances(case.dtype))


@settings(deadline=None, max_examples=10)
@given(case=cases(dtypes=("float64", "complex128")))
def test_the_returned_operator_passes_the_dot_test(case):
    op = convops.from_torch(case.module, case.spatial, bias="drop")
    # an operator whose outputs read only zero padding is 0: the FFT's rounding noise then
    # needs an absolute floor at the operator's scale (as in tests/test_adjoint.py)
    atol = 100 * np.finfo(op.dtype).eps * np.abs(op.kernel).sum() * 8
    dot_test(op, rng=0, atol=atol)
    dot_test(op.H, rng=1, atol=atol)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_reflect_same_and_even_kernels_match_torch():
    """A fixed case beside the drawn ones: reflect padding at its widest (n − 1 per side),
    and "same" with an even kernel (the odd pixel after), in 2D."""
    rng = np.random.default_rng(0)
    for kw, shape in [
        (dict(kernel_size=(5, 3), padding=(3, 1), padding_mode="reflect"), (4, 2)),
        (dict(kernel_size=(4, 2), padding="same", dilation=(1, 3), padding_mode="zeros"), (6, 5)),
        (dict(kernel_size=(4, 2), padding="same", padding_mode="circular"), (3, 2)),
    ]:
        m = torch.nn.Conv2d(2, 3, bias=False, dtype=torch.float64, **kw)
        x = torch.from_numpy(rng.standard_normal((2, *shape)))
        op = convops.from_torch(m, shape)
        np.testing.assert_allclose(op.apply(x.numpy()), m(x).detach().numpy(), rtol=1e-12)


def test_the_operator_keeps_copies_of_weight_and_bias():
    m = torch.nn.Conv1d(1, 1, 3, dtype=torch.float64)
    op, b = convops.from_torch(m, (1, 5), bias="return")
    x = np.arange(5.0)[None]
    before, b_before = op.apply(x), b.copy()
    with torch.no_grad():
        m.weight.mul_(2.0)
        m.bias.add_(1.0)
    np.testing.assert_array_equal(op.apply(x), before)
    np.testing.assert_array_equal(b, b_before)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights_compute_in_float32(dtype):
    m = torch.nn.Conv2d(2, 3, 3, padding=1, bias=False).to(dtype)
    op = convops.from_torch(m, (2, 5, 5))
    assert op.dtype == np.float32
    x = torch.randn(2, 5, 5, generator=torch.Generator().manual_seed(0))
    # the module's weight, exactly, convolved in float32
    expected = torch.nn.functional.conv2d(x, m.weight.detach().float(), padding=1)
    np.testing.assert_allclose(op.apply(x.numpy()), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_subclasses_work_and_an_overridden_forward_is_flagged():
    class Plain(torch.nn.Conv2d):
        pass

    class Doubled(torch.nn.ConvTranspose1d):
        def forward(self, x, output_size=None):
            return 2 * super().forward(x, output_size)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        op = convops.from_torch(Plain(1, 2, 3, bias=False, dtype=torch.float64), (4, 4))
    assert op.output_shape == (2, 2, 2)
    with pytest.warns(UserWarning, match="overrides ConvTranspose1d.forward"):
        convops.from_torch(Doubled(1, 1, 2, bias=False), (3,))


def test_lazy_modules_work_once_run():
    m = torch.nn.LazyConv2d(4, 3, bias=False, dtype=torch.float64)
    x = torch.randn(2, 6, 6, dtype=torch.float64)
    y = m(x)
    op = convops.from_torch(m, (6, 6))
    np.testing.assert_allclose(op.apply(x.numpy()), y.detach().numpy(), rtol=1e-12)


def test_docstring_examples_run():
    from convops.bridges import torch_modules

    (test,) = [t for t in doctest.DocTestFinder().find(torch_modules.from_torch) if t.examples]
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 10
    assert result.failed == 0


# ----------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------
NOT_CONVOLUTIONS = [
    pytest.param(lambda: torch.nn.Linear(3, 2), "Linear", id="Linear"),
    pytest.param(lambda: torch.nn.BatchNorm2d(3), "BatchNorm2d", id="BatchNorm2d"),
    pytest.param(lambda: torch.nn.MaxPool2d(2), "MaxPool2d", id="MaxPool2d"),
    pytest.param(lambda: torch.nn.Sequential(torch.nn.ReLU()), "Sequential", id="Sequential"),
    pytest.param(lambda: torch.zeros(1, 1, 3, 3), "Tensor", id="tensor"),
    pytest.param(lambda: np.zeros((1, 1, 3, 3)), "ndarray", id="ndarray"),
    pytest.param(lambda: torch.nn.functional.conv2d, "builtin_function_or_method", id="F.conv2d"),
    pytest.param(lambda: "Conv2d", "str", id="str"),
    pytest.param(lambda: None, "NoneType", id="None"),
]


@pytest.mark.parametrize(("make", "name"), NOT_CONVOLUTIONS)
def test_other_modules_and_objects_are_refused(make, name):
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.Conv1d/2d/3d") as info:
        convops.from_torch(make(), (3, 4, 4))
    assert name in str(info.value)


def test_a_convolution_inside_a_container_is_pointed_to():
    seq = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3)))
    with pytest.raises(TypeError, match=r"Sequential.*get_submodule\('1\.0'\)"):
        convops.from_torch(seq, (1, 4, 4))


def test_a_lazy_module_before_its_first_run_is_refused():
    with pytest.raises(ValueError, match=r"LazyConvTranspose2d.*not initialised.*run it once"):
        convops.from_torch(torch.nn.LazyConvTranspose2d(3, 2), (3, 4, 4))


def test_a_module_on_the_meta_device_is_refused():
    m = torch.nn.Conv2d(1, 1, 3, bias=False, device="meta")
    with pytest.raises(ValueError, match=r"Conv2d.weight is on the 'meta' device"):
        convops.from_torch(m, (4, 4))


@pytest.mark.parametrize("mode", ["symmetric", "constant", 0, None])
def test_an_unsupported_padding_mode_is_refused(mode):
    m = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    m.padding_mode = mode  # torch's constructor refuses these; a changed attribute is read
    with pytest.raises(ValueError, match=r"Conv2d\.padding_mode=.*use one of 'zeros'"):
        convops.from_torch(m, (4, 4))
    if mode == "symmetric":  # F.pad has no such mode: the module cannot run either
        with pytest.raises((ValueError, NotImplementedError, RuntimeError)):
            m(torch.zeros(1, 4, 4))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_a_transposed_module_with_a_padding_mode_is_refused_as_torch_does(mode):
    m = torch.nn.ConvTranspose2d(1, 1, 3, bias=False)
    m.padding_mode = mode
    with pytest.raises(ValueError, match=rf"padding_mode='{mode}'.*only 'zeros'.*\.H"):
        convops.from_torch(m, (1, 4, 4))
    with pytest.raises(ValueError):
        m(torch.zeros(1, 4, 4))


def test_a_module_with_a_bias_is_refused_by_default():
    m = torch.nn.Conv3d(1, 2, 2)
    with pytest.raises(
        ValueError, match=r"has a bias.*bias='drop'.*bias='return'.*None, None, None\]"
    ):
        convops.from_torch(m, (3, 3, 3))


@given(
    bias=st.one_of(
        st.text(max_size=8).filter(lambda t: t not in ("refuse", "drop", "return")),
        st.integers(),
        st.booleans(),
        st.none(),
    )
)
def test_bad_bias_values_are_refused(bias):
    m = torch.nn.Conv1d(1, 1, 2, bias=False)
    with pytest.raises(
        ValueError, match=r"bias=.*is not allowed; use one of 'refuse', 'drop', 'return'"
    ):
        convops.from_torch(m, (4,), bias=bias)


def test_a_missing_input_shape_says_what_to_pass():
    m = torch.nn.Conv2d(3, 8, 3, bias=False)
    with pytest.raises(
        ValueError, match=r"input_shape is required.*input_shape=\(3, 32, 32\).*\(32, 32\)"
    ):
        convops.from_torch(m)


@settings(deadline=None)
@given(
    ndim=st.integers(1, 3),
    transposed=st.booleans(),
    cin=st.integers(1, 3),
    data=st.data(),
)
def test_wrong_input_shapes_are_refused(ndim, transposed, cin, data):
    name = ("ConvTranspose" if transposed else "Conv") + f"{ndim}d"
    m = getattr(torch.nn, name)(cin, 2, 1, bias=False)
    kind = data.draw(st.sampled_from(["channels", "length", "entries", "type"]))
    if kind == "channels":
        c = data.draw(st.integers(1, 6).filter(lambda c: c != cin))
        shape = (c,) + (4,) * ndim
        error, match = ValueError, rf"has {c} channels, but the {name} takes {cin}"
    elif kind == "length":
        length = data.draw(st.integers(0, 6).filter(lambda n: n not in (ndim, ndim + 1)))
        shape = (4,) * length
        error = ValueError
        match = "is empty" if length == 0 else rf"has {length} entries; a {name} takes"
    elif kind == "entries":
        bad = data.draw(st.integers(-3, 0))
        shape = (cin,) + (4,) * (ndim - 1) + (bad,)
        error, match = ValueError, "every size must be >= 1"
    else:
        junk = data.draw(st.sampled_from([1.5, "4", None, True, np.float64(2.0)]))
        shape = (4,) * (ndim - 1) + (junk,)
        error, match = TypeError, "input_shape must be a tuple of ints"
    with pytest.raises(error, match=match) as info:
        convops.from_torch(m, shape)
    assert "input_shape" in str(info.value)


@settings(deadline=None)
@given(
    ndim=st.integers(1, 3),
    k=st.integers(2, 5),
    dilation=st.integers(1, 3),
    padding=st.integers(0, 2),
    mode=st.sampled_from(MODES),
    data=st.data(),
)
def test_inputs_too_small_for_the_kernel_or_the_padding_are_refused_as_torch_does(
    ndim, k, dilation, padding, mode, data
):
    m = getattr(torch.nn, f"Conv{ndim}d")(
        1, 1, k, padding=padding, dilation=dilation, padding_mode=mode, bias=False
    )
    least = max(1, dilation * (k - 1) + 1 - 2 * padding)
    if mode == "reflect":
        least = max(least, padding + 1)
    elif mode == "circular":
        least = max(least, padding)
    if least == 1:
        return  # every size fits this module
    small = data.draw(st.integers(1, least - 1))
    shape = (6,) * (ndim - 1) + (small,)
    with pytest.raises(ValueError, match=r"input_shape=.* is too small for the Conv") as info:
        convops.from_torch(m, shape)
    assert f"needs size >= {least}" in str(info.value)
    with pytest.raises(RuntimeError):  # torch cannot run it either
        m(torch.zeros((1, *shape)))


@settings(deadline=None)
@given(
    ndim=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 3), k=st.integers(1, 3)
)
def test_a_transposed_input_whose_output_would_be_empty_is_refused_as_torch_does(
    ndim, stride, padding, k
):
    m = getattr(torch.nn, f"ConvTranspose{ndim}d")(
        1, 1, k, stride=stride, padding=padding, bias=False
    )
    # the output length at m = 1 is k − 2p: refused when it is below 1
    if k - 2 * padding >= 1:
        return
    with pytest.raises(ValueError, match=r"input_shape=.* is too small for the ConvTranspose"):
        convops.from_torch(m, (1,) * ndim)
    with pytest.raises(RuntimeError):
        m(torch.zeros((1, 1, *(1,) * ndim)))


@settings(deadline=None)
@given(stride=st.integers(1, 3), offset=st.sampled_from([-2, -1, 0, 1, 2]))
def test_output_size_out_of_range_is_refused_as_torch_does(stride, offset):
    m = torch.nn.ConvTranspose1d(1, 1, 3, stride=stride, bias=False)
    smallest = (5 - 1) * stride + 3
    size = smallest + (stride - 1 if offset > 0 else 0) + offset
    ok = smallest <= size <= smallest + stride - 1
    if ok:
        assert convops.from_torch(m, (5,), output_size=(size,)).output_shape == (1, size)
        return
    with pytest.raises(ValueError, match=r"output_size=.* is not allowed.*range from"):
        convops.from_torch(m, (5,), output_size=(size,))
    with pytest.raises(ValueError):
        m(torch.zeros(1, 1, 5), output_size=[size])


def test_output_size_is_for_transposed_modules_and_its_channels_are_checked():
    with pytest.raises(ValueError, match=r"output_size=.* is for transposed modules"):
        convops.from_torch(torch.nn.Conv1d(1, 1, 3, bias=False), (5,), output_size=(3,))
    m = torch.nn.ConvTranspose1d(1, 2, 3, bias=False)
    with pytest.raises(ValueError, match="names 3 channels, but the ConvTranspose1d has 2"):
        convops.from_torch(m, (5,), output_size=(3, 7))
    with pytest.raises(ValueError, match=r"output_size=\(1, 7, 7, 7\) has 4 entries"):
        convops.from_torch(m, (5,), output_size=(1, 7, 7, 7))


def test_an_output_padding_torch_refuses_is_refused():
    m = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, bias=False)
    m.output_padding = (2, 0)
    with pytest.raises(ValueError, match=r"output_padding=\(2, 0\).*max\(stride, dilation\) = 2"):
        convops.from_torch(m, (4, 4))
    with pytest.raises(RuntimeError):
        m(torch.zeros(1, 4, 4))
