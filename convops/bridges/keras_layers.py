r"""``from_keras``: a Keras 3 ``Conv*D`` / ``Conv*DTranspose`` layer as a convops operator.

Keras is not a dependency: the layer is recognised by the names of the classes in its MRO
and read through its public attributes (``kernel``, ``strides``, ``padding``,
``data_format``, ``dilation_rate``, ``groups``, ``output_padding``, ``use_bias``, ``bias``,
``activation``); Keras is imported only inside :func:`from_keras`, to read the weights.

What is translated, per spatial axis (``k`` kernel size, ``s`` stride, ``d`` dilation,
``e = d·(k − 1) + 1`` the dilated span):

- **Kernels.** Keras stores ``(*k, C_in/groups, C_out)`` for ``Conv*D`` and
  ``(*k, C_out, C_in)`` for ``Conv*DTranspose``; convops (PyTorch) uses
  ``(C_out, C_in/groups, *k)`` for the convolution, and a transposed layer is the adjoint of
  the convolution from its outputs to its inputs.  Both are the same axis permutation:
  the last two axes, reversed, in front of the spatial ones.
- **Padding of Conv*D.** ``"valid"``: none.  ``"same"``: TensorFlow's rule, which is the
  geometry's ``padding="same_upper"`` (``ceil(n / s)`` outputs, the odd pixel after; any
  stride).  ``"causal"`` (``Conv1D``): ``d·(k − 1)`` before, none after.
- **Conv*DTranspose.** Keras chooses the output length ``n`` from the input length ``m``
  (``keras.src.backend.common.backend_utils``)::

      "valid":  n = (m − 1)·s + e + p,  p = output_padding, or max(e, s) − e if None
      "same":   n = m·s                             if output_padding is None
                n = (m − 1)·s + (e mod 2) + p        otherwise

  and computes it as a stride-dilated correlation of ``y`` padded by ``(left, right)``:
  ``"valid"``: ``(e − 1, e − 1 + p)``; ``"same"``: ``t = s + e − 2`` (or
  ``e + (e mod 2) − 2 + p``), ``left = min(ceil(t / 2), e − 1)``, ``right = t − left``.
  That is the adjoint of the convolution on ``n`` with padding ``lo = e − 1 − left``,
  ``hi = e − 1 − right``; a negative ``hi`` (the last ``−hi`` inputs are read by no output)
  is replaced by ``hi = 0`` and the convolution's output cropped to ``m``, the same map.

The bias is affine, not part of the linear map: ``bias=`` says what to do with it.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np

from .._validate import is_int, shape_tuple, validate_choice
from ..geometry import Method, make_geometry
from ..operators import ConvOperator
from .bias import BiasPolicy, apply_bias_policy, validate_bias_policy
from .channels_last import ChannelsLastOperator

__all__ = ["from_keras", "keras_transpose_padding"]

ActivationPolicy = Literal["refuse", "drop"]
KerasOperator = ConvOperator | ChannelsLastOperator

#: class name → (spatial axes, transposed); looked up along the layer's MRO.
_SUPPORTED: dict[str, tuple[int, bool]] = {
    "Conv1D": (1, False),
    "Conv2D": (2, False),
    "Conv3D": (3, False),
    "Conv1DTranspose": (1, True),
    "Conv2DTranspose": (2, True),
    "Conv3DTranspose": (3, True),
}
_ACCEPTED = "a Keras Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose or Conv3DTranspose"
_DATA_FORMATS = ("channels_last", "channels_first")


def _layer_kind(layer: Any) -> tuple[str, int, bool]:
    """``(class name, spatial axes, transposed)`` of a supported layer, or a TypeError."""
    for cls in type(layer).__mro__:
        if cls.__name__ in _SUPPORTED:
            ndim, transposed = _SUPPORTED[cls.__name__]
            return cls.__name__, ndim, transposed
    name = type(layer).__name__
    if "Depthwise" in name or "Separable" in name:
        hint = (
            " (depthwise and separable convolutions are not supported; a depthwise "
            "convolution is a Conv layer with groups = input channels)"
        )
    elif name == "Dense":
        hint = " (a Dense layer is not supported: its matrix is its kernel, transposed)"
    else:
        hint = " (not supported)"
    raise TypeError(f"from_keras takes {_ACCEPTED} layer; got a {name}{hint}")


def _to_numpy(value: Any) -> np.ndarray:
    """A Keras variable or tensor (any backend, any device) as a numpy array."""
    try:  # the layer's own framework: already imported when the layer is Keras'
        keras = importlib.import_module("keras")
    except ImportError:  # a duck-typed stand-in without Keras
        return np.asarray(value)
    return np.asarray(keras.ops.convert_to_numpy(value))


def _ints(layer: Any, attribute: str, ndim: int) -> tuple[int, ...]:
    value = getattr(layer, attribute)
    values = (value,) * ndim if is_int(value) else tuple(value)
    if len(values) != ndim or not all(is_int(v) and v >= 1 for v in values):
        raise ValueError(
            f"layer.{attribute}={value!r} is not understood: expected {ndim} ints >= 1"
        )
    return tuple(int(v) for v in values)


def _build_shape(layer: Any) -> tuple[Any, ...] | None:
    """The unbatched input shape the layer was built for (entries may be None), or None."""
    try:
        config = layer.get_build_config()  # Keras 3: {"input_shape": (None, *spatial, C)}
    except Exception:
        return None
    if not isinstance(config, dict) or config.get("input_shape") is None:
        return None
    return tuple(config["input_shape"])[1:]


def _describe_shape(ndim: int, data_format: str) -> str:
    spatial = ", ".join(("L",) if ndim == 1 else ("H", "W") if ndim == 2 else ("D", "H", "W"))
    return f"(C, {spatial})" if data_format == "channels_first" else f"({spatial}, C)"


def _input_shape(
    layer: Any, input_shape: Any, ndim: int, data_format: str, name: str
) -> tuple[int, ...]:
    """The unbatched input shape, in the layer's data format, from the argument or the build."""
    form = _describe_shape(ndim, data_format)
    if input_shape is None:
        if not getattr(layer, "built", False):
            raise ValueError(
                f"the {name} layer {getattr(layer, 'name', '')!r} is not built, so neither its "
                f"weights nor its input size are known: pass input_shape={form} (the unbatched "
                f"input, {data_format}) to build it, or build or call the layer first"
            )
        built = _build_shape(layer)
        if built is None or len(built) != ndim + 1 or any(v is None for v in built):
            raise ValueError(
                f"the {name} layer {getattr(layer, 'name', '')!r} was built for inputs of "
                f"shape {(None, *built) if built is not None else 'unknown'}, which does not fix "
                f"the input size: pass input_shape={form} (the unbatched input, {data_format})"
            )
        input_shape = built
    if not isinstance(input_shape, Sequence) or isinstance(input_shape, (str, bytes)):
        raise TypeError(
            f"input_shape must be a tuple of {ndim + 1} ints {form} (the unbatched input, "
            f"{data_format}); got {input_shape!r}"
        )
    shape = shape_tuple(input_shape, "input_shape")  # ints (not bools), each >= 1
    if len(shape) != ndim + 1:
        extra = " (without the batch axis)" if len(shape) == ndim + 2 else ""
        raise ValueError(
            f"input_shape={input_shape!r} is not an input of this {name} layer: expected "
            f"{ndim + 1} ints >= 1, {form}{extra}, the unbatched input in the layer's "
            f"data_format {data_format!r}"
        )
    return shape


def keras_transpose_padding(
    m: int, k: int, s: int, d: int, padding: str, output_padding: int | None
) -> tuple[int, tuple[int, int]]:
    """Keras' ``Conv*DTranspose`` on one axis as the adjoint of a convolution.

    Parameters
    ----------
    m : int
        The transposed layer's input length (the convolution's output length).
    k, s, d : int
        Kernel size, stride and dilation.
    padding : {"valid", "same"}
        The layer's padding.
    output_padding : int or None
        The layer's ``output_padding`` on this axis (None: Keras' default).

    Returns
    -------
    n : int
        The layer's output length (the convolution's input length), as Keras computes it.
    (lo, hi) : (int, int)
        The convolution's padding, ``hi`` clipped at 0: the convolution on ``n`` with this
        padding, cropped to ``m`` outputs, has exactly the layer as its adjoint.

    Notes
    -----
    With ``e = d·(k − 1) + 1``: ``"valid"`` gives ``n = (m − 1)·s + e + p`` (``p`` the
    output padding, ``max(e, s) − e`` when None) and ``y`` padded by ``(e − 1, e − 1 + p)``;
    ``"same"`` gives ``n = m·s`` (None) or ``(m − 1)·s + (e mod 2) + p``, and ``y`` padded by
    ``left = min(ceil(t / 2), e − 1)``, ``right = t − left`` with ``t = s + e − 2`` (None) or
    ``e + (e mod 2) − 2 + p``.  Then ``lo = e − 1 − left``, ``hi = e − 1 − right``.
    """
    e = d * (k - 1) + 1
    if padding == "valid":
        p = max(e, s) - e if output_padding is None else output_padding
        n = (m - 1) * s + e + p
        left, right = e - 1, e - 1 + p
    else:
        if output_padding is None:
            n, total = m * s, s + e - 2
        else:
            n, total = (m - 1) * s + e % 2 + output_padding, e + e % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, e - 1)
        right = total - left
    return n, (e - 1 - left, max(e - 1 - right, 0))


def _kernel_first(kernel: np.ndarray, ndim: int) -> np.ndarray:
    """Keras' ``(*k, A, B)`` as ``(B, A, *k)``: the convolution's ``(C_out, C_in/g, *k)``."""
    return np.ascontiguousarray(np.transpose(kernel, (ndim + 1, ndim, *range(ndim))))


@overload
def from_keras(
    layer: Any,
    input_shape: Sequence[int] | None = None,
    *,
    bias: Literal["refuse", "drop"] = "refuse",
    activation: ActivationPolicy = "refuse",
    method: Method = "auto",
) -> KerasOperator: ...


@overload
def from_keras(
    layer: Any,
    input_shape: Sequence[int] | None = None,
    *,
    bias: Literal["return"],
    activation: ActivationPolicy = "refuse",
    method: Method = "auto",
) -> tuple[KerasOperator, np.ndarray | None]: ...


def from_keras(
    layer: Any,
    input_shape: Sequence[int] | None = None,
    *,
    bias: BiasPolicy = "refuse",
    activation: ActivationPolicy = "refuse",
    method: Method = "auto",
) -> KerasOperator | tuple[KerasOperator, np.ndarray | None]:
    r"""The linear map of a Keras 3 convolution layer, as a convops operator.

    ``from_keras(layer).apply(x)`` computes ``layer(x)`` without the bias, for one
    unbatched input or a batch ``(N, ...)``, in the layer's data format; for a
    ``Conv*DTranspose`` layer the operator is the ``.H`` of the convolution with the same
    kernel, and ``.H`` of the operator is always the vector-Jacobian product of the layer.

    Parameters
    ----------
    layer : keras.layers.Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose or Conv3DTranspose
        Recognised by class name along its MRO (subclasses included).  An unbuilt layer is
        built for ``input_shape`` first (as calling it would), which creates its weights.
    input_shape : tuple of int, optional
        The unbatched input in the layer's ``data_format``: ``(*spatial, C)`` for
        ``"channels_last"`` (Keras' default), ``(C, *spatial)`` for ``"channels_first"``.
        Optional when the layer was built (or called) with a fully known input shape; a
        built layer accepts other spatial sizes, as Keras' convolution layers do.
    bias : {"refuse", "drop", "return"}
        A layer with a bias computes ``A x + b``, which is not linear.  ``"refuse"``
        (default) raises a ``ValueError`` for such a layer; ``"drop"`` returns the operator
        ``A``; ``"return"`` returns ``(A, b)`` with ``b`` the bias as a numpy array of shape
        ``(C_out,)`` (``None`` for a layer without bias).  Without a bias every choice gives
        the operator (a pair for ``"return"``).
    activation : {"refuse", "drop"}
        A layer with an activation other than ``"linear"`` is not linear: ``"refuse"``
        (default) raises a ``ValueError``; ``"drop"`` returns the convolution before the
        activation.
    method : {"auto", "direct", "fft", "matrix"}
        The realisation, as for :class:`~convops.ConvOperator`.

    Returns
    -------
    ConvOperator or ChannelsLastOperator, or (operator, bias)
        For ``"channels_first"`` a :class:`~convops.ConvOperator` (its ``input_shape`` is
        ``(C_in, *spatial)``); for ``"channels_last"`` a
        :class:`~convops.bridges.channels_last.ChannelsLastOperator` whose ``apply`` takes
        and returns channels-last arrays, and whose ``.channels_first`` attribute is the
        same map as a ``ConvOperator`` in convops' layout (its ``kernel`` in PyTorch's
        ``(C_out, C_in/groups, *k)``).

    Raises
    ------
    TypeError
        For a layer of another kind (``Dense``, ``DepthwiseConv2D``, ``SeparableConv2D``, …)
        or an ``input_shape`` that is not a tuple.
    ValueError
        For a bias or activation refused by ``bias=`` / ``activation=``, an unbuilt layer
        without ``input_shape``, an unsupported ``data_format`` or ``padding``, an
        ``input_shape`` of the wrong length or channel count, or one too small for the layer.

    Notes
    -----
    Keras' ``padding="same"`` is TensorFlow's rule, the geometry's ``padding="same_upper"``:
    ``ceil(n / s)`` outputs, total padding ``max((⌈n/s⌉ − 1)·s + d·(k − 1) + 1 − n, 0)``, the
    odd pixel after, for any stride (PyTorch's ``"same"`` allows stride 1 only).
    ``"causal"`` pads ``d·(k − 1)`` before.  The transposed layers' output sizes and
    paddings are those of :func:`keras_transpose_padding`.  The kernel layouts are
    transposed for the user (see the module's documentation).

    Examples
    --------
    A strided ``"same"`` convolution, channels last: TensorFlow's padding, the odd pixel after.

    >>> import keras, numpy as np, convops
    >>> layer = keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)
    >>> layer.build((None, 8, 8, 3))
    >>> op = convops.from_keras(layer)
    >>> op.input_shape, op.output_shape, op.channels_first.geometry.padding
    ((8, 8, 3), (4, 4, 4), ((0, 1), (0, 1)))
    >>> x = np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype("float32")
    >>> bool(np.allclose(op.apply(x), layer(x), atol=1e-5))
    True

    A bias is not linear: ask for it.

    >>> up = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same")
    >>> up.build((None, 4, 4, 4))
    >>> U, b = convops.from_keras(up, bias="return")
    >>> U.output_shape, b.shape
    ((8, 8, 3), (3,))
    """
    validate_bias_policy(bias)
    validate_choice(activation, "activation", ("refuse", "drop"))
    name, ndim, transposed = _layer_kind(layer)

    data_format = getattr(layer, "data_format", None)
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"the {name} layer has data_format={data_format!r}, which from_keras does not "
            f"support; it accepts {_DATA_FORMATS}"
        )
    paddings = ("valid", "same") + (("causal",) if name == "Conv1D" else ())
    padding = getattr(layer, "padding", None)
    padding = padding.lower() if isinstance(padding, str) else padding
    if padding not in paddings:
        raise ValueError(
            f"the {name} layer has padding={padding!r}, which from_keras does not support; "
            f"a {name} layer takes one of {paddings}"
        )
    act = getattr(layer, "activation", None)
    act_name = getattr(act, "__name__", repr(act))
    if act is not None and act_name != "linear" and activation == "refuse":
        raise ValueError(
            f"the {name} layer has activation={act_name!r}, so it is not linear: pass "
            "activation='drop' for the operator of its convolution (before the activation)"
        )

    channels_last = data_format == "channels_last"
    shape = _input_shape(layer, input_shape, ndim, data_format, name)
    if not getattr(layer, "built", False):
        try:
            layer.build((None, *shape))  # creates the weights, as calling the layer would
        except ValueError as exc:  # e.g. a "valid" kernel larger than the input
            raise ValueError(
                f"input_shape={tuple(shape)!r} does not fit the {name} layer: Keras refused to "
                f"build it for inputs of shape {(None, *shape)}: {exc}"
            ) from None
    kernel = _to_numpy(layer.kernel)
    stride = _ints(layer, "strides", ndim)
    dilation = _ints(layer, "dilation_rate", ndim)
    if kernel.ndim != ndim + 2:
        raise ValueError(
            f"the {name} layer's kernel has shape {kernel.shape}: expected {ndim + 2} axes"
        )
    channels = shape[-1] if channels_last else shape[0]
    spatial = shape[:-1] if channels_last else shape[1:]
    k = kernel.shape[:ndim]
    groups = 1 if transposed else int(getattr(layer, "groups", 1))
    # what the kernel reads: Conv (*k, C_in/groups, C_out), ConvTranspose (*k, C_out, C_in)
    expected = kernel.shape[-1] if transposed else kernel.shape[-2] * groups
    if channels != expected:
        where = "last" if channels_last else "first"
        raise ValueError(
            f"input_shape={tuple(shape)!r} has {channels} channels (its {where} entry, "
            f"{data_format}), but the {name} layer's kernel of shape {kernel.shape} "
            f"takes {expected}"
        )
    weight = _kernel_first(kernel, ndim)

    if not transposed:
        spans = [d * (kk - 1) + 1 for kk, d in zip(k, dilation, strict=True)]
        if padding == "valid" and any(n < e for n, e in zip(spatial, spans, strict=True)):
            raise ValueError(
                f"input_shape={tuple(shape)!r} is too small for this {name} layer with "
                f"padding='valid': its spatial sizes {spatial} must be at least the dilated "
                f"kernel's span {tuple(spans)}"
            )
        pad: Any = {"valid": 0, "same": "same_upper"}.get(padding)
        if padding == "causal":
            pad = ((spans[0] - 1, 0),)
        op = ConvOperator(
            weight,
            (channels, *spatial),
            stride=stride,
            padding=pad,
            dilation=dilation,
            groups=groups,
            method=method,
        )
    else:
        raw = getattr(layer, "output_padding", None)
        out_pad: Sequence[int | None] = [None] * ndim if raw is None else _output_padding(raw, ndim)
        sizes, pads = [], []
        for m, kk, s, d, p in zip(spatial, k, stride, dilation, out_pad, strict=True):
            n, lo_hi = keras_transpose_padding(m, kk, s, d, padding, p)
            sizes.append(n)
            pads.append(lo_hi)
        if min(sizes) < 1:
            raise ValueError(
                f"input_shape={tuple(shape)!r} gives this {name} layer an output of spatial "
                f"size {tuple(sizes)} by Keras' size rule (padding={padding!r}, "
                f"output_padding={raw!r}); convops needs sizes >= 1: give a larger input"
            )
        geometry = make_geometry(
            weight.shape,
            (weight.shape[1], *sizes),
            stride=stride,
            padding=tuple(pads),
            dilation=dilation,
            output_size=spatial,
        )
        op = ConvOperator.from_geometry(weight, geometry, method).H

    result: KerasOperator = ChannelsLastOperator(op) if channels_last else op
    has_bias = bool(getattr(layer, "use_bias", False)) and getattr(layer, "bias", None) is not None
    index = "" if channels_last else "[:, " + ", ".join(["None"] * ndim) + "]"
    bias_array = _to_numpy(layer.bias) if has_bias else None
    what = f"the {name} layer (use_bias=True)"
    return apply_bias_policy(result, bias_array, bias, what=what, broadcast=index)


def _output_padding(value: Any, ndim: int) -> list[int | None]:
    values = (value,) * ndim if is_int(value) else tuple(value)
    if len(values) != ndim or not all(is_int(v) and v >= 0 for v in values):
        raise ValueError(
            f"layer.output_padding={value!r} is not understood: expected None or {ndim} ints >= 0"
        )
    return [int(v) for v in values]
