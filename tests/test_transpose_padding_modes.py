"""Claim: ``conv_transpose{1,2,3}d(..., padding_mode=m)`` is the exact adjoint of
``conv{1,2,3}d(..., padding_mode=m)`` with the same weight, for every padding mode.

- it equals the conjugate transpose of the dense matrix of ``conv{1,2,3}d(padding_mode=m)``,
  that matrix probed column by column through ``conv{1,2,3}d`` itself, and the brute-force
  matrix of tests/reference.py, on hypothesis-drawn geometries (strides, paddings, dilations,
  groups, output_padding, complex weights);
- where PyTorch is installed: it equals autograd's input gradient of the padded convolution
  (``F.pad(mode=m)`` then ``conv2d``), while PyTorch's own ``ConvTranspose2d`` refuses every
  mode but zeros (the docstring's claim);
- at the border the fold adds the scattered values back onto the entries the padding copied;
- ``padding_mode`` not in the list is refused by name (tests/test_grad.py covers its classes).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import dense_of_geometry

import convops
from convops.testing import strategies as cst


@st.composite
def transposed_problems(draw):
    """A convolution with channels (no flip: conv{1,2,3}d has none), a weight, and ``y``."""
    spec = draw(cst.conv_specs(multichannel=True, flip=False))
    g = spec.geometry()
    complex_ = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    w = rng.standard_normal(spec.kernel_shape)
    y = rng.standard_normal((2,) + g.conv_output_shape)
    if complex_:
        w = w + 1j * rng.standard_normal(spec.kernel_shape)
        y = y + 1j * rng.standard_normal(y.shape)
    return spec, g, w, y


def _transpose_arguments(g):
    """conv_transpose's arguments for the adjoint of the convolution of geometry ``g``."""
    natural = tuple(
        (m - 1) * s - lo - hi + e
        for m, s, (lo, hi), e in zip(g.spatial_out, g.stride, g.padding, g.span, strict=True)
    )
    output_padding = tuple(n - q for n, q in zip(g.spatial_in, natural, strict=True))
    return dict(
        stride=g.stride,
        padding=g.padding,
        dilation=g.dilation,
        groups=g.groups,
        output_padding=output_padding,
    )


@given(problem=transposed_problems(), method=st.sampled_from(["direct", "fft", "matrix"]))
def test_conv_transpose_is_the_conjugate_transpose_of_the_padded_conv(problem, method):
    _, g, w, y = problem
    D = g.ndim
    conv = getattr(convops, f"conv{D}d")
    conv_t = getattr(convops, f"conv_transpose{D}d")
    mode = g.boundary
    kw = dict(stride=g.stride, padding=g.padding, dilation=g.dilation, groups=g.groups)
    # the dense matrix of conv{D}d(padding_mode=mode), probed column by column
    eye = np.eye(int(np.prod(g.conv_input_shape))).reshape((-1,) + g.conv_input_shape)
    probed = conv(eye, w, padding_mode=mode, method="direct", **kw).reshape(len(eye), -1).T
    R = dense_of_geometry(w, g)  # the brute-force matrix, from the definition
    np.testing.assert_allclose(probed, R, atol=1e-12)
    got = conv_t(y, w, padding_mode=mode, method=method, **_transpose_arguments(g))
    assert got.shape == (2,) + g.conv_input_shape
    want = y.reshape(2, -1) @ R.conj()  # each row: R^H y
    tol = 1e-10 * max(1.0, np.abs(w).sum())
    np.testing.assert_allclose(got.reshape(2, -1), want, atol=tol, rtol=0)


@pytest.mark.parametrize("mode", ["circular", "reflect", "replicate"])
@pytest.mark.parametrize("D", [1, 2, 3])
def test_matches_torch_autograd_through_the_padding(mode, D):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(D)
    x = rng.standard_normal((2, 4) + (7,) * D)
    w = rng.standard_normal((6, 2) + (3,) * D)
    kw = dict(stride=2, dilation=1, groups=2)
    tx = torch.tensor(x, requires_grad=True)
    out = getattr(F, f"conv{D}d")(F.pad(tx, (2, 2) * D, mode=mode), torch.tensor(w), **kw)
    y = rng.standard_normal(tuple(out.shape))
    (auto,) = torch.autograd.grad(out, tx, torch.tensor(y))
    conv_t = getattr(convops, f"conv_transpose{D}d")
    # n = 7 = (m − 1)·2 − 4 + 2 + 1 + output_padding with m = 5: output_padding = 0
    ours = conv_t(y, w, padding=2, padding_mode=mode, **kw)
    np.testing.assert_allclose(ours, auto.numpy(), atol=1e-12)
    with pytest.raises(
        ValueError, match=f'Only "zeros" padding mode is supported for ConvTranspose{D}d'
    ):
        getattr(torch.nn, f"ConvTranspose{D}d")(1, 1, 3, padding_mode=mode)


def test_the_fold_adds_the_border_back_onto_the_copied_entries():
    """1D, kernel [1], padding 2, y = the padded positions' numbers: what lands where."""
    w = np.ones((1, 1, 1))
    y = np.arange(1.0, 10.0).reshape(1, 1, 9)  # the padded grid of n = 5: positions −2…6
    fold = {
        m: convops.conv_transpose1d(y, w, padding=2, padding_mode=m)[0, 0]
        for m in ("zeros", "circular", "reflect", "replicate")
    }
    np.testing.assert_array_equal(fold["zeros"], [3, 4, 5, 6, 7])  # the border is cropped
    # circular: padded −2, −1 wrap to 3, 4; padded 5, 6 to 0, 1
    np.testing.assert_array_equal(fold["circular"], [3 + 8, 4 + 9, 5, 6 + 1, 7 + 2])
    # reflect: −2, −1 mirror to 2, 1; 5, 6 to 3, 2
    np.testing.assert_array_equal(fold["reflect"], [3, 4 + 2, 5 + 1 + 9, 6 + 8, 7])
    # replicate: −2, −1 and 5, 6 all land on the edge entries
    np.testing.assert_array_equal(fold["replicate"], [3 + 1 + 2, 4, 5, 6, 7 + 8 + 9])


def test_zeros_is_the_default_and_unchanged():
    rng = np.random.default_rng(0)
    y, w = rng.standard_normal((1, 3, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    kw = dict(stride=2, padding=1, output_padding=1)
    np.testing.assert_array_equal(
        convops.conv_transpose2d(y, w, **kw),
        convops.conv_transpose2d(y, w, padding_mode="zeros", **kw),
    )


def test_a_padding_too_wide_for_the_mode_is_refused_by_name():
    y, w = np.ones((1, 1, 4)), np.ones((1, 1, 3))
    # n = (4 − 1) − 2·2 + 2 + 1 = 2: reflect padding allows at most n − 1 = 1 per side
    with pytest.raises(ValueError, match=r"boundary='reflect'.*at most 1"):
        convops.conv_transpose1d(y, w, padding=2, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"padding_mode='wrap' is not allowed"):
        convops.conv_transpose1d(y, w, padding_mode="wrap")
