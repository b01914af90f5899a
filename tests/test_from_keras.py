"""Claim: ``from_keras(layer)`` is the linear part of a Keras 3 convolution layer, exactly.

Checked against Keras itself (JAX backend), for hypothesis-drawn layers: Conv1D/2D/3D and
Conv1DTranspose/2DTranspose/3DTranspose, both data formats, strides, dilations, groups,
``"valid"``/``"same"``/``"causal"`` padding, ``output_padding`` (None or given), batched and
unbatched inputs, float32:

- ``apply(x)`` equals ``layer(x)`` minus the bias;
- the operator's dense matrix equals the layer's Jacobian, built by applying the layer to
  every basis vector (no autodiff: an external truth), and ``.H`` its transpose, so ``.H``
  is the vector-Jacobian product (also compared with ``jax.vjp`` on a few layers);
- output shapes equal Keras' ``compute_output_shape``, for the transposed layers' own size
  rule in particular;
- the bias is refused, dropped or returned as asked; non-linear activations are refused
  unless dropped; other layer kinds, unbuilt layers without ``input_shape``, unsupported
  data formats and paddings and wrong input shapes are refused with messages naming them.
"""

from __future__ import annotations

import doctest
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")

import convops  # noqa: E402
from convops.bridges import keras_layers  # noqa: E402
from convops.bridges.channels_last import ChannelsLastOperator  # noqa: E402

CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
TRANSPOSE = {
    1: keras.layers.Conv1DTranspose,
    2: keras.layers.Conv2DTranspose,
    3: keras.layers.Conv3DTranspose,
}


@st.composite
def layer_configs(draw, transposed=None):
    """Keyword arguments of a Keras conv layer and an unbatched input shape that it accepts."""
    ndim = draw(st.integers(1, 3))
    transposed = draw(st.booleans()) if transposed is None else transposed
    data_format = draw(st.sampled_from(["channels_last", "channels_first"]))
    max_k = 3 if ndim < 3 else 2
    k = tuple(draw(st.integers(1, max_k)) for _ in range(ndim))
    # Keras refuses strides > 1 together with dilation_rate > 1
    if draw(st.booleans()):
        s, d = tuple(draw(st.integers(1, 3)) for _ in range(ndim)), (1,) * ndim
    else:
        s, d = (1,) * ndim, tuple(draw(st.integers(1, 3 if ndim < 3 else 2)) for _ in range(ndim))
    paddings = ["valid", "same"] + (["causal"] if ndim == 1 and not transposed else [])
    padding = draw(st.sampled_from(paddings))
    kwargs = dict(
        kernel_size=k,
        strides=s,
        dilation_rate=d,
        padding=padding,
        data_format=data_format,
        use_bias=draw(st.booleans()),
        kernel_initializer=keras.initializers.RandomNormal(seed=draw(st.integers(0, 999))),
        bias_initializer=keras.initializers.RandomNormal(seed=1),
    )
    groups = 1
    if transposed:
        if draw(st.booleans()):
            kwargs["output_padding"] = tuple(draw(st.integers(0, si - 1)) for si in s)
    else:
        groups = draw(st.sampled_from([1, 1, 2]))
        kwargs["groups"] = groups
    kwargs["filters"] = groups * draw(st.integers(1, 2))
    cin = groups * draw(st.integers(1, 2))
    max_n = 6 if ndim < 3 else 4
    spans = [di * (ki - 1) + 1 for ki, di in zip(k, d, strict=True)]
    least = spans if padding == "valid" and not transposed else [1] * ndim
    n = tuple(draw(st.integers(lo, max(lo, max_n))) for lo in least)
    if transposed and padding == "same" and "output_padding" in kwargs:
        # Keras' size (m − 1)·s + (e mod 2) + output_padding is 0 for m = 1, even e, p = 0
        n = tuple(
            max(m, 2) if e % 2 == 0 and p == 0 else m
            for m, e, p in zip(n, spans, kwargs["output_padding"], strict=True)
        )
    shape = n + (cin,) if data_format == "channels_last" else (cin,) + n
    return ndim, transposed, kwargs, shape


def make_layer(ndim, transposed, kwargs, shape):
    layer = (TRANSPOSE if transposed else CONV)[ndim](**kwargs)
    layer.build((None, *shape))
    return layer


def basis_batch(shape, x):
    """``x``, then every basis vector of ``shape``, then zero: one call gives all three."""
    size = math.prod(shape)
    eye = np.eye(size, dtype=np.float32).reshape((size, *shape))
    return np.concatenate([x, eye, np.zeros((1, *shape), np.float32)])


@pytest.mark.parametrize("transposed", [False, True], ids=["Conv", "ConvTranspose"])
@settings(max_examples=20)
@given(data=st.data(), batch=st.integers(1, 3), explicit=st.booleans(), seed=st.integers(0, 999))
def test_layer_is_the_operator_and_its_jacobian(transposed, data, batch, explicit, seed):
    ndim, transposed, kwargs, shape = data.draw(layer_configs(transposed=transposed))
    layer = make_layer(ndim, transposed, kwargs, shape)
    op = convops.from_keras(layer, shape if explicit else None, bias="drop")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *shape)).astype(np.float32)
    out = np.asarray(layer(basis_batch(shape, x)))
    size = math.prod(shape)
    offset = out[-1]  # layer(0): the bias, broadcast
    expected = out[:batch] - offset
    jacobian = (out[batch : batch + size] - offset).reshape(size, -1).T

    assert op.input_shape == shape
    assert op.output_shape == tuple(layer.compute_output_shape((None, *shape))[1:])
    assert op.dtype == np.float32
    scale = max(1.0, float(np.abs(out).max()))
    tol = dict(rtol=1e-4, atol=1e-5 * scale)
    np.testing.assert_allclose(op.apply(x), expected, **tol)
    np.testing.assert_allclose(op.apply(x[0]), expected[0], **tol)  # unbatched
    np.testing.assert_allclose(op.toarray(), jacobian, **tol)
    np.testing.assert_allclose(op.matrix().toarray(), jacobian, **tol)
    y = rng.standard_normal((batch, *op.output_shape)).astype(np.float32)
    vjp = (y.reshape(batch, -1) @ jacobian).reshape(batch, *shape)
    np.testing.assert_allclose(op.H.apply(y), vjp, **tol)
    np.testing.assert_allclose(op.H.apply(y[0]), vjp[0], **tol)
    np.testing.assert_allclose(op.H.toarray(), jacobian.T, **tol)
    assert op.H.H is op
    if kwargs["data_format"] == "channels_last":
        assert isinstance(op, ChannelsLastOperator)
        assert isinstance(op.channels_first, convops.ConvOperator)
        assert op.channels_first.input_shape == shape[-1:] + shape[:-1]
    else:
        assert isinstance(op, convops.ConvOperator)


def _transpose_grid():
    for k in (1, 2, 3, 4):
        for s, d in ((1, 1), (2, 1), (3, 1), (1, 2)):
            for padding in ("valid", "same"):
                for out_pad in sorted({None, 0, s - 1}, key=str):
                    yield k, s, d, padding, out_pad


@pytest.mark.parametrize("k, s, d, padding, out_pad", list(_transpose_grid()))
def test_every_1d_transposed_size_rule(k, s, d, padding, out_pad):
    # every branch of Keras' size and padding rule, once: odd and even spans, strides
    # larger and smaller than the kernel, output_padding None, 0 and s − 1
    layer = keras.layers.Conv1DTranspose(
        1, k, strides=s, dilation_rate=d, padding=padding, output_padding=out_pad, use_bias=False
    )
    layer.build((None, 3, 1))
    op = convops.from_keras(layer)
    out = np.asarray(layer(np.eye(3, dtype=np.float32)[:, :, None]))  # the Jacobian's columns
    np.testing.assert_allclose(op.toarray(), out[:, :, 0].T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k, s, d", [(3, 1, 2), (4, 2, 1), (2, 3, 1)])
def test_causal_pads_before(k, s, d):
    layer = keras.layers.Conv1D(1, k, strides=s, dilation_rate=d, padding="causal", use_bias=False)
    layer.build((None, 7, 1))
    op = convops.from_keras(layer)
    assert op.channels_first.geometry.padding == ((d * (k - 1), 0),)
    out = np.asarray(layer(np.eye(7, dtype=np.float32)[:, :, None]))  # the Jacobian's columns
    np.testing.assert_allclose(op.toarray(), out[:, :, 0].T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("transposed", [False, True])
def test_adjoint_is_jax_vjp(transposed):
    jax = pytest.importorskip("jax")
    cls = keras.layers.Conv2DTranspose if transposed else keras.layers.Conv2D
    layer = cls(3, (3, 4), strides=(2, 3), padding="same", use_bias=False)
    layer.build((None, 7, 5, 2))
    op = convops.from_keras(layer)
    weights = [v.value for v in layer.trainable_variables]

    def call(v):
        return layer.stateless_call(weights, [], v)[0]

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 5, 2)).astype(np.float32)
    y, vjp = jax.vjp(call, jax.numpy.asarray(x))
    g = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(op.apply(x), np.asarray(y), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        op.H.apply(g), np.asarray(vjp(jax.numpy.asarray(g))[0]), rtol=1e-4, atol=1e-5
    )


@settings(max_examples=60)
@given(config=layer_configs(transposed=True))
def test_transposed_output_size_is_keras_rule(config):
    # constructing a layer is cheap and computing its output shape calls nothing
    ndim, _, kwargs, shape = config
    layer = TRANSPOSE[ndim](**kwargs)
    channels_last = kwargs["data_format"] == "channels_last"
    m = shape[:-1] if channels_last else shape[1:]
    out_pad = kwargs.get("output_padding", (None,) * ndim)
    sizes = tuple(
        keras_layers.keras_transpose_padding(mi, k, s, d, kwargs["padding"], p)[0]
        for mi, k, s, d, p in zip(
            m,
            kwargs["kernel_size"],
            kwargs["strides"],
            kwargs["dilation_rate"],
            out_pad,
            strict=True,
        )
    )
    keras_shape = layer.compute_output_shape((None, *shape))[1:]
    assert sizes == tuple(keras_shape[:-1] if channels_last else keras_shape[1:])


def test_bias_is_refused_dropped_or_returned():
    layer = keras.layers.Conv2D(
        3, 3, strides=2, padding="same", bias_initializer=keras.initializers.RandomNormal(seed=0)
    )
    layer.build((None, 6, 5, 2))
    with pytest.raises(ValueError, match="bias") as info:
        convops.from_keras(layer)
    assert "bias='drop'" in str(info.value) and "bias='return'" in str(info.value)
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 2)).astype(np.float32)
    op, b = convops.from_keras(layer, bias="return")
    np.testing.assert_array_equal(b, keras.ops.convert_to_numpy(layer.bias))
    np.testing.assert_allclose(op.apply(x) + b, np.asarray(layer(x)), rtol=1e-4, atol=1e-5)
    dropped = convops.from_keras(layer, bias="drop")
    np.testing.assert_allclose(dropped.apply(x), op.apply(x))
    with pytest.raises(ValueError, match="bias='keep' is not allowed"):
        convops.from_keras(layer, bias="keep")

    first = keras.layers.Conv1DTranspose(2, 3, data_format="channels_first", use_bias=False)
    first.build((None, 3, 4))
    for choice in ("refuse", "drop"):
        assert isinstance(convops.from_keras(first, bias=choice), convops.ConvOperator)
    op, b = convops.from_keras(first, bias="return")
    assert b is None and op.output_shape == (2, 6)


def test_activation_is_refused_unless_dropped():
    layer = keras.layers.Conv1D(2, 3, activation="relu", use_bias=False)
    layer.build((None, 8, 1))
    with pytest.raises(ValueError, match=r"activation='relu'.*activation='drop'"):
        convops.from_keras(layer)
    op = convops.from_keras(layer, activation="drop")
    x = np.random.default_rng(0).standard_normal((3, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(
        np.maximum(op.apply(x), 0), np.asarray(layer(x)), rtol=1e-4, atol=1e-6
    )


def test_input_shape_comes_from_the_build_or_the_argument():
    unbuilt = keras.layers.Conv2D(2, 3, use_bias=False)
    with pytest.raises(ValueError, match=r"not built.*input_shape=\(H, W, C\)"):
        convops.from_keras(unbuilt)
    op = convops.from_keras(unbuilt, (5, 6, 3))  # builds it, as calling it would
    assert unbuilt.built and op.input_shape == (5, 6, 3)
    x = np.random.default_rng(0).standard_normal((5, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(op.apply(x), np.asarray(unbuilt(x[None]))[0], rtol=1e-4, atol=1e-5)

    symbolic = keras.layers.Conv2D(2, 3, use_bias=False, data_format="channels_first")
    symbolic(keras.Input((3, None, None)))  # built, but for any spatial size
    with pytest.raises(ValueError, match=r"\(None, 3, None, None\).*input_shape=\(C, H, W\)"):
        convops.from_keras(symbolic)
    assert convops.from_keras(symbolic, (3, 4, 4)).output_shape == (2, 2, 2)
    assert convops.from_keras(symbolic, [3, 7, 5]).output_shape == (2, 5, 3)  # other sizes

    fixed = keras.layers.Conv1D(2, 3, use_bias=False)
    fixed(keras.Input((10, 4)))
    assert convops.from_keras(fixed).input_shape == (10, 4)
    with pytest.raises(ValueError, match=r"without the batch axis"):
        convops.from_keras(fixed, (1, 10, 4))
    with pytest.raises(ValueError, match=r"has 3 channels \(its last entry.*takes 4"):
        convops.from_keras(fixed, (10, 3))
    with pytest.raises(ValueError, match=r"too small.*padding='valid'"):
        convops.from_keras(fixed, (2, 4))
    with pytest.raises(TypeError, match="input_shape must be a tuple"):
        convops.from_keras(fixed, "10x4")
    with pytest.raises(ValueError, match="does not fit the Conv1D layer"):
        convops.from_keras(keras.layers.Conv1D(2, 5), (3, 1))


@pytest.mark.parametrize(
    "layer",
    [
        keras.layers.Dense(3),
        keras.layers.DepthwiseConv2D(3),
        keras.layers.SeparableConv2D(2, 3),
        keras.layers.MaxPooling2D(),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_other_layer_kinds_are_refused(layer):
    name = type(layer).__name__
    with pytest.raises(TypeError, match=f"Conv2DTranspose.*got a {name}.*not supported"):
        convops.from_keras(layer, (8, 8, 3))


def _fake(name, **attributes):
    """A duck-typed stand-in: a built layer of class ``name`` with these attributes."""
    defaults = dict(
        kernel=np.ones((3, 3, 2, 4), np.float32),
        strides=(1, 1),
        dilation_rate=(1, 1),
        padding="valid",
        data_format="channels_last",
        groups=1,
        use_bias=False,
        bias=None,
        activation=None,
        built=True,
        get_build_config=staticmethod(lambda: {"input_shape": (None, 6, 6, 2)}),
    )
    defaults.update(attributes)
    return type(name, (), defaults)()


def test_unsupported_data_format_and_padding_are_refused():
    assert convops.from_keras(_fake("Conv2D")).output_shape == (4, 4, 4)
    with pytest.raises(ValueError, match=r"data_format='NHWC'.*'channels_last', 'channels_first'"):
        convops.from_keras(_fake("Conv2D", data_format="NHWC"))
    with pytest.raises(ValueError, match=r"padding='causal'.*\('valid', 'same'\)"):
        convops.from_keras(_fake("Conv2D", padding="causal"))
    with pytest.raises(ValueError, match=r"padding='reflect'.*Conv2DTranspose"):
        convops.from_keras(_fake("Conv2DTranspose", padding="reflect"))


def test_channels_last_wrapper_is_the_permuted_operator():
    rng = np.random.default_rng(0)
    inner = convops.ConvOperator(rng.standard_normal((3, 2, 2, 3)), (2, 5, 4), stride=(2, 1))
    op = ChannelsLastOperator(inner)
    assert op.input_shape == (5, 4, 2) and op.output_shape == (2, 2, 3)
    dense = inner.toarray().reshape(inner.output_shape + inner.input_shape)
    permuted = np.moveaxis(np.moveaxis(dense, 0, 2), 3, -1).reshape(op.shape)
    np.testing.assert_allclose(op.toarray(), permuted, rtol=1e-12)
    np.testing.assert_allclose(op.T.toarray(), permuted.T, rtol=1e-12)
    v = rng.standard_normal(op.shape[1])
    np.testing.assert_allclose(op @ v, permuted @ v, rtol=1e-12)
    np.testing.assert_allclose(op.rmatvec(op @ v), permuted.T @ (permuted @ v), rtol=1e-12)
    with pytest.raises(ValueError, match=r"channels-last input_shape \(5, 4, 2\)"):
        op.apply(np.zeros((2, 5, 4)))
    with pytest.raises(TypeError, match=r"wraps a convops\.ConvOperator"):
        ChannelsLastOperator(inner.toarray())
    with pytest.raises(ValueError, match="no channel axis"):
        ChannelsLastOperator(convops.ConvOperator(np.ones(3), (5,)))


def test_docstring_example_runs():
    (test,) = [t for t in doctest.DocTestFinder().find(keras_layers.from_keras) if t.examples]
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0
