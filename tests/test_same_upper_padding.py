"""Claim: ``padding="same_upper"`` is TensorFlow's ``"SAME"`` rule, with any stride and dilation.

- the geometry's ``(lo, hi)`` per axis is ``total = max((ceil(n/s) − 1)·s + d·(k − 1) + 1 − n,
  0)``, ``lo = total // 2`` (written out here independently, and found by brute force as the
  least padding with ``ceil(n/s)`` outputs, the odd pixel after);
- the output has ``ceil(n / s)`` entries per axis, and with stride 1 the operator is
  ``"same"``'s;
- the operator equals ``jax.lax.conv_general_dilated(padding="SAME")`` (channels, groups,
  strides, dilations), and its ``.H`` equals JAX's vector-Jacobian product;
- under every boundary, in every realisation, it and its ``.H`` equal numpy's padding (wrap,
  reflect, edge) followed by a valid convolution in JAX, and the transpose of that map;
- it is accepted wherever ``"same"`` is (``conv``, ``conv1d..3d``, ``conv_transpose``,
  ``ConvOperator(...).H``, the CLI's ``--padding``), refused by ``conv_transpose1d..3d`` as
  every string is, and listed in the messages that list the paddings.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convops
from convops import cli, syntax
from convops.geometry import make_geometry

# numpy's names for the boundaries' padded border (PyTorch's padding_mode names)
NUMPY_PAD_MODES = {
    "zeros": "constant",
    "circular": "wrap",
    "reflect": "reflect",
    "replicate": "edge",
}


def tf_same(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's ``"SAME"`` (lo, hi), typed in from its documentation."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def least_same_padding(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """The least total padding whose output length is ceil(n / s), split with the odd after."""
    want = -(-n // s)
    span = d * (k - 1) + 1
    total = 0
    while n + total < span or (n + total - span) // s + 1 < want:
        total += 1
    return total // 2, (total + 1) // 2


axis_params = st.tuples(
    st.integers(1, 40), st.integers(1, 7), st.integers(1, 6), st.integers(1, 4)
)  # n, k, s, d


@given(axes=st.lists(axis_params, min_size=1, max_size=3))
def test_padding_is_the_formula_and_the_least_padding(axes):
    n, k, s, d = (tuple(a[i] for a in axes) for i in range(4))
    g = make_geometry(k, n, stride=s, padding="same_upper", dilation=d)
    expected = tuple(tf_same(*a) for a in axes)
    assert g.padding == expected
    assert g.padding == tuple(least_same_padding(*a) for a in axes)
    assert g.spatial_out == tuple(math.ceil(ni / si) for ni, si in zip(n, s, strict=True))


@given(axes=st.lists(axis_params, min_size=1, max_size=3), cin=st.integers(1, 3))
def test_stride_one_is_pytorch_same(axes, cin):
    n = tuple(a[0] for a in axes)
    k = tuple(a[1] for a in axes)
    d = tuple(a[3] for a in axes)
    kernel = np.random.default_rng(0).standard_normal((2, cin, *k))
    upper = convops.ConvOperator(kernel, (cin, *n), padding="same_upper", dilation=d)
    same = convops.ConvOperator(kernel, (cin, *n), padding="same", dilation=d)
    assert upper.geometry == same.geometry
    assert upper.output_shape == (2, *n)


def _jax():
    jax = pytest.importorskip("jax")
    return jax, jax.numpy, jax.lax


small_axis = st.tuples(st.integers(1, 9), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))


@settings(max_examples=15)
@given(
    axes=st.lists(small_axis, min_size=1, max_size=3),
    groups=st.sampled_from([1, 1, 2]),
    batch=st.integers(1, 2),
    data=st.data(),
)
def test_matches_jax_same_and_its_vjp(axes, groups, batch, data):
    jax, jnp, lax = _jax()
    if len(axes) == 3:
        axes = [(min(n, 5), k, s, d) for n, k, s, d in axes]  # small 3D references
    n, k, s, d = (tuple(a[i] for a in axes) for i in range(4))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    w = rng.standard_normal((cout, cin // groups, *k)).astype(np.float32)
    x = rng.standard_normal((batch, cin, *n)).astype(np.float32)
    op = convops.ConvOperator(
        w, (cin, *n), stride=s, padding="same_upper", dilation=d, groups=groups
    )

    def reference(v):
        return lax.conv_general_dilated(
            v, w, window_strides=s, padding="SAME", rhs_dilation=d, feature_group_count=groups
        )

    expected, vjp = jax.vjp(reference, jnp.asarray(x))
    ours = op.apply(x)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, np.asarray(expected), rtol=1e-4, atol=1e-4)
    y = rng.standard_normal(expected.shape).astype(np.float32)
    (adjoint,) = vjp(jnp.asarray(y))
    np.testing.assert_allclose(op.H.apply(y), np.asarray(adjoint), rtol=1e-4, atol=1e-4)


@settings(max_examples=25)
@given(
    axes=st.lists(small_axis, min_size=1, max_size=2),
    boundary=st.sampled_from(sorted(NUMPY_PAD_MODES)),
    seed=st.integers(0, 2**16),
)
def test_every_boundary_is_numpy_padding_then_a_valid_convolution(axes, boundary, seed):
    _, _, lax = _jax()
    n, k, s, d = (tuple(a[i] for a in axes) for i in range(4))
    pads = [tf_same(*a) for a in axes]
    widest = {"circular": lambda m: m, "reflect": lambda m: m - 1}.get(boundary)
    if widest is not None and any(max(p) > widest(m) for p, m in zip(pads, n, strict=True)):
        with pytest.raises(ValueError, match="too wide for boundary"):
            make_geometry(k, n, stride=s, padding="same_upper", dilation=d, boundary=boundary)
        return
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(k).astype(np.float32)
    # the reference on every basis vector at once: its outputs are the Jacobian's columns
    size = math.prod(n)
    basis = np.eye(size, dtype=np.float32).reshape((size, *n))
    padded = np.stack([np.pad(e, pads, mode=NUMPY_PAD_MODES[boundary]) for e in basis])
    columns = lax.conv_general_dilated(
        padded[:, None], w[None, None], window_strides=s, padding="VALID", rhs_dilation=d
    )[:, 0]
    jacobian = np.asarray(columns).reshape(size, -1).T
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(jacobian.shape[0]).astype(np.float32)
    for method in ("direct", "fft", "matrix"):
        op = convops.ConvOperator(
            w, n, stride=s, padding="same_upper", dilation=d, boundary=boundary, method=method
        )
        np.testing.assert_allclose(op @ x.ravel(), jacobian @ x.ravel(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(op.H @ y, jacobian.T @ y, rtol=1e-4, atol=1e-4)


def test_functional_api_accepts_it_with_strides():
    rng = np.random.default_rng(1)
    for ndim in (1, 2, 3):
        x = rng.standard_normal((2, 3) + (7,) * ndim)
        w = rng.standard_normal((4, 3) + (3,) * ndim)
        conv = getattr(convops, f"conv{ndim}d")
        y = conv(x, w, stride=2, padding="same_upper")
        op = convops.ConvOperator(w, (3,) + (7,) * ndim, stride=2, padding=((1, 1),) * ndim)
        assert y.shape == (2, 4) + (4,) * ndim  # ceil(7 / 2)
        np.testing.assert_allclose(y, op.apply(x), rtol=1e-12)
        transpose = getattr(convops, f"conv_transpose{ndim}d")
        with pytest.raises(
            ValueError, match=f"'same_upper' is not allowed in conv_transpose{ndim}d"
        ):
            transpose(y, w, stride=2, padding="same_upper")
    x1 = rng.standard_normal(8)
    w1 = rng.standard_normal(4)
    np.testing.assert_allclose(
        convops.conv(x1, w1, stride=3, padding="same_upper"),
        convops.conv(x1, w1, stride=3, padding=(tf_same(8, 4, 3, 1),)),
        rtol=1e-12,
    )


@given(
    m=st.integers(1, 8),
    k=st.integers(1, 5),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    data=st.data(),
)
def test_conv_transpose_is_the_adjoint_on_the_least_input(m, k, s, d, data):
    # n = (m − 1)·s + 1 + output_padding: output_padding = s − 1 gives Keras' n = m·s
    out_pad = data.draw(st.integers(0, max(s, d) - 1))
    n = (m - 1) * s + 1 + out_pad
    rng = np.random.default_rng(0)
    w, y = rng.standard_normal(k), rng.standard_normal(m)
    x = convops.conv_transpose(
        y, w, stride=s, padding="same_upper", dilation=d, output_padding=out_pad
    )
    assert x.shape == (n,)
    # the dense matrix of the convolution on n, padded by TF's rule and cropped to m
    lo, _ = tf_same(n, k, s, d)
    A = np.zeros((m, n))
    for o in range(m):
        for t in range(k):
            p = o * s + t * d - lo
            if 0 <= p < n:
                A[o, p] += w[t]
    np.testing.assert_allclose(x, A.T @ y, rtol=1e-12, atol=1e-12)
    # ConvOperator(..., padding="same_upper").H is the same map when nothing is cropped
    if out_pad < s:
        H = convops.ConvOperator(w, (n,), stride=s, padding="same_upper", dilation=d).H
        np.testing.assert_allclose(H.apply(y), A.T @ y, rtol=1e-12, atol=1e-12)


def test_command_line_takes_it(capsys):
    assert syntax.parse_padding("same_upper") == "same_upper"
    assert (
        cli.main(
            ["matrix", "--input", "5", "--kernel", "3", "--stride", "2", "--padding", "same_upper"]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "padding=((1, 1))" in printed and "3 x 5" in printed
    with pytest.raises(ValueError, match="same_upper"):
        syntax.parse_padding("sam")


def test_messages_list_it():
    with pytest.raises(ValueError, match="'same_upper'") as info:
        make_geometry((3,), (5,), padding="sam")
    assert "'same'" in str(info.value)
    with pytest.raises(ValueError, match="same_upper") as info:
        make_geometry((3,), (5,), stride=2, padding="same")
    assert "stride=(2,)" in str(info.value)
    with pytest.raises(TypeError, match="'same_upper'"):
        make_geometry((3,), (5,), padding=1.5)
