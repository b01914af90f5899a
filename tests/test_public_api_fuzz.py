"""Claim: every public parameter is validated under the name the user typed.

A hypothesis fuzzer calls the public API with one argument replaced by an arbitrary value
(wrong types, bools, floats, NaN, huge and negative numbers, strings, None, object and
string arrays).  Each call either returns a correct result or raises a ``ValueError`` /
``TypeError`` whose message names the parameter — never an ``IndexError``, an
``OverflowError``, numpy's own messages or a silently accepted wrong value.

A second fuzzer passes the array arguments in every memory layout numpy hands out
(non-contiguous, read-only, Fortran-order, big-endian) and checks the result equals the
one for a plain C-contiguous native copy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convops
from convops import spectral
from convops.testing import dot_test

X2 = np.arange(36.0).reshape(6, 6)
K2 = np.arange(1.0, 10).reshape(3, 3)
X4 = np.ones((1, 2, 6, 6))
W4 = np.ones((4, 2, 3, 3))
OP = convops.ConvOperator(K2, (6, 6))

#: Values that are wrong for most parameters; each call below must refuse or accept them
#: cleanly.
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(allow_nan=True),
    st.text(max_size=6),
    st.just(object()),
    st.just(np.array(["a", "b"])),
    st.just(np.array([object(), 1], dtype=object)),
    st.lists(st.one_of(st.integers(-3, 3), st.booleans(), st.floats(-2, 2), st.none()), max_size=4),
    st.tuples(st.integers(-3, 5), st.integers(-3, 5)),
    st.just(()),
    st.just(np.float64(2.0)),
    st.just(np.int64(2)),
    st.just(np.bool_(True)),
)


def _dot_test_verdict(**kwargs: Any) -> str:
    """A dot test that fails its (tiny) tolerance has still answered correctly."""
    try:
        dot_test(OP, **{"rng": 0, **kwargs})
    except AssertionError:
        return "failed"
    return "passed"


# (description, how to call with the value, the parameter's name as the user typed it)
CALLS: list[tuple[str, Callable[[Any], Any], str]] = [
    ("ConvOperator stride", lambda v: convops.ConvOperator(K2, (6, 6), stride=v), "stride"),
    ("ConvOperator padding", lambda v: convops.ConvOperator(K2, (6, 6), padding=v), "padding"),
    ("ConvOperator dilation", lambda v: convops.ConvOperator(K2, (6, 6), dilation=v), "dilation"),
    ("ConvOperator groups", lambda v: convops.ConvOperator(W4, (2, 6, 6), groups=v), "groups"),
    ("ConvOperator boundary", lambda v: convops.ConvOperator(K2, (6, 6), boundary=v), "boundary"),
    ("ConvOperator flip", lambda v: convops.ConvOperator(K2, (6, 6), flip=v), "flip"),
    ("ConvOperator method", lambda v: convops.ConvOperator(K2, (6, 6), method=v), "method"),
    ("ConvOperator input_shape", lambda v: convops.ConvOperator(K2, v), "input_shape"),
    ("ConvOperator kernel", lambda v: convops.ConvOperator(v, (6, 6)), "kernel"),
    ("conv x", lambda v: convops.conv(v, K2), "x"),
    ("conv stride", lambda v: convops.conv(X2, K2, stride=v), "stride"),
    (
        "conv_transpose output_padding",
        lambda v: convops.conv_transpose(X2, K2, stride=2, output_padding=v),
        "output_padding",
    ),
    ("conv2d stride", lambda v: convops.conv2d(X4, W4, stride=v), "stride"),
    ("conv2d padding", lambda v: convops.conv2d(X4, W4, padding=v), "padding"),
    ("conv2d groups", lambda v: convops.conv2d(X4, W4, groups=v), "groups"),
    (
        "conv2d padding_mode",
        lambda v: convops.conv2d(X4, W4, padding=1, padding_mode=v),
        "padding_mode",
    ),
    ("conv2d bias", lambda v: convops.conv2d(X4, W4, bias=v), "bias"),
    (
        "conv_transpose2d output_padding",
        lambda v: convops.conv_transpose2d(
            X4[:, :2], np.ones((2, 2, 3, 3)), stride=2, output_padding=v
        ),
        "output_padding",
    ),
    (
        "conv_transpose2d dilation",
        lambda v: convops.conv_transpose2d(X4[:, :2], np.ones((2, 2, 3, 3)), dilation=v),
        "dilation",
    ),
    ("conv_matrix input_shape", lambda v: convops.conv_matrix(K2, v), "input_shape"),
    ("kernel_spectrum shape", lambda v: convops.kernel_spectrum(K2, v), "shape"),
    (
        "kernel_spectrum dilation",
        lambda v: convops.kernel_spectrum(K2, (8, 8), dilation=v),
        "dilation",
    ),
    ("kernel_spectrum flip", lambda v: convops.kernel_spectrum(K2, (8, 8), flip=v), "flip"),
    (
        "kernel_spectrum centered",
        lambda v: convops.kernel_spectrum(K2, (8, 8), centered=v),
        "centered",
    ),
    ("operator_norm rtol", lambda v: convops.operator_norm(OP, rtol=v), "rtol"),
    (
        "operator_norm rng",
        lambda v: convops.operator_norm(convops.ConvOperator(np.ones(3), (900,)), rng=v),
        "rng",
    ),
    ("singular_values op", lambda v: convops.singular_values(v), "op"),
    (
        "strided_conv_spectrum stride",
        lambda v: spectral.strided_conv_spectrum(np.fft.fft2(X2), K2, stride=v),
        "stride",
    ),
    ("dot_test rtol", lambda v: _dot_test_verdict(rtol=v), "rtol"),
    ("dot_test atol", lambda v: _dot_test_verdict(atol=v), "atol"),
    ("dot_test rng", lambda v: _dot_test_verdict(rng=v), "rng"),
    ("apply x", lambda v: OP.apply(v), "x"),
    ("matvec x", lambda v: OP.matvec(v), "x"),
]


def _accepted_correctly(name: str, value: Any, result: Any) -> None:
    """An accepted value must have meant something sensible: the call returned a result."""
    assert result is not None, (name, value)


@pytest.mark.parametrize("name, call, param", CALLS, ids=[c[0] for c in CALLS])
@given(value=JUNK)
def test_every_parameter_is_refused_by_name_or_accepted(name, call, param, value):
    # a small memory limit: values that ask for real work beyond it are refused fast, by
    # the documented limit, instead of running (or exhausting the test machine)
    with warnings.catch_warnings(), convops.configure(max_work_bytes=2**27):
        warnings.simplefilter("ignore")  # e.g. the FFT realisation's non-finite warning
        try:
            result = call(value)
        except (ValueError, TypeError) as exc:
            # a shape that is valid on its own but does not fit the kernel is named as "the input"
            names = (param, "input") if param in ("x", "input_shape") else (param,)
            names += ("max_work_bytes",)
            assert any(n in str(exc) for n in names), (
                f"{name}: {type(exc).__name__} does not name {param!r}: {exc}"
            )
            return
    _accepted_correctly(name, value, result)


@pytest.mark.parametrize("flag", [True, np.True_])
def test_bools_are_not_sizes(flag):
    with pytest.raises(TypeError, match="input_shape"):
        convops.ConvOperator(np.ones(3), (flag, 5))
    with pytest.raises(TypeError, match="stride"):
        convops.ConvOperator(np.ones(3), (5,), stride=flag)


def test_padding_mode_is_named_as_typed():
    with pytest.raises(ValueError, match="padding_mode='wrap'") as info:
        convops.conv2d(X4, W4, padding=1, padding_mode="wrap")
    assert "boundary" not in str(info.value)


# ----------------------------------------------------------------------------------------
# memory layouts
# ----------------------------------------------------------------------------------------
LAYOUTS = ("plain", "fortran", "strided", "readonly", "bigendian")


def _layout(a: np.ndarray, layout: str) -> np.ndarray:
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    if layout == "readonly":
        b = a.copy()
        b.setflags(write=False)
        return b
    if layout == "bigendian":
        return a.astype(a.dtype.newbyteorder(">"))
    return a


@given(
    layout_x=st.sampled_from(LAYOUTS),
    layout_w=st.sampled_from(LAYOUTS),
    method=st.sampled_from(["direct", "fft", "matrix"]),
    dtype=st.sampled_from(["float32", "float64", "complex128"]),
    boundary=st.sampled_from(["zeros", "reflect"]),
)
def test_every_memory_layout_gives_the_plain_result(layout_x, layout_w, method, dtype, boundary):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6)).astype(dtype)
    w = rng.standard_normal((3, 2, 3, 2)).astype(dtype)
    kw = dict(padding=1, boundary=boundary, method=method)
    want = convops.ConvOperator(w, (2, 7, 6), **kw)
    got = convops.ConvOperator(_layout(w, layout_w), (2, 7, 6), **kw)
    xl = _layout(x, layout_x)
    tol = 1e-4 if dtype == "float32" else 1e-12
    for a, b in (
        (got.apply(xl), want.apply(x)),
        (got.H.apply(want.apply(xl)), want.H.apply(want.apply(x))),
    ):
        assert a.dtype == b.dtype and a.dtype.isnative
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())
    assert dot_test(got, rng=1) < (1e-4 if dtype == "float32" else 1e-10)
