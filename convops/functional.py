"""Functions on arrays: ``conv``/``conv_transpose`` (single channel), the PyTorch-layout
``conv1d`` … ``conv_transpose3d``, and the explicit matrices.

Each is a thin wrapper that builds a geometry and a :class:`~convops.ConvOperator`; the
parameters mean what :func:`convops.geometry.make_geometry` says.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ._validate import validate_choice, validate_spatial_axes
from .geometry import (
    BOUNDARIES,
    Boundary,
    IntOrTuple,
    Method,
    PaddingArg,
    as_numeric_array,
    make_geometry,
    normalize_dtype,
    transpose_input_length,
    validate_groups,
)
from .operators import ConvOperator

__all__ = [
    "conv",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_matrix",
    "conv_transpose",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "conv_transpose_matrix",
]


def _single_channel_arrays(
    x: ArrayLike, kernel: ArrayLike, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``kernel`` as arrays with the same number of axes, 1 to 3.

    ``conv`` and ``conv_transpose`` take no channel axis, so a kernel with one axis more
    than ``x`` (which the geometry would read as a multi-channel kernel) is refused here,
    before any size is derived from the shapes.
    """
    x = as_numeric_array(x, name)
    kernel = as_numeric_array(kernel, "kernel")
    if x.ndim != kernel.ndim:
        raise ValueError(
            f"{name} has shape {x.shape} and kernel {kernel.shape}: conv and conv_transpose take "
            "single-channel arrays with the same number of axes, 1 to 3; for channels and "
            "batches use conv1d/conv2d/conv3d or ConvOperator"
        )
    validate_spatial_axes(x.ndim, name, x.shape)
    return x, kernel


def conv(
    x: ArrayLike,
    kernel: ArrayLike,
    *,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    boundary: Boundary = "zeros",
    flip: bool = False,
    method: Method = "auto",
) -> np.ndarray:
    r"""Single-channel convolution ``y = A x`` (cross-correlation unless ``flip``).

    .. math:: y[o] = \sum_t w[t]\, \tilde x[o s + t d]

    with ``x̃`` the input padded by ``padding`` with the ``boundary`` mode. ``flip=True``
    reverses the kernel: ``conv(x, w, padding="full", flip=True)`` equals
    ``scipy.signal.convolve(x, w, "full")``, and ``padding="valid"`` likewise.

    Output length per axis: ``m = floor((n + lo + hi − d·(k − 1) − 1) / s) + 1``.

    Parameters
    ----------
    x, kernel : array_like
        Same number of axes (1, 2 or 3).
    stride, padding, dilation, boundary, flip
        See :func:`convops.geometry.make_geometry`.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        Of dtype ``result_type(kernel, x)`` (integers promoted to float64).

    See Also
    --------
    conv_transpose : its adjoint.
    conv1d, conv2d, conv3d : with channels, batches and bias, in PyTorch's layout.
    convops.ConvOperator : the same map as a ``LinearOperator``.

    Examples
    --------
    >>> import numpy as np
    >>> from convops import conv
    >>> conv(np.arange(5.0), np.array([1.0, 2.0]))          # y[o] = x[o] + 2 x[o + 1]
    array([ 2.,  5.,  8., 11.])
    >>> conv(np.arange(5.0), np.array([1.0, 2.0]), padding="full", flip=True)  # np.convolve
    array([ 0.,  1.,  4.,  7., 10.,  8.])
    """
    x, kernel = _single_channel_arrays(x, kernel, "x")
    op = ConvOperator(
        kernel,
        x.shape,
        stride=stride,
        padding=padding,
        dilation=dilation,
        boundary=boundary,
        flip=flip,
        method=method,
    )
    return op.apply(x)


def conv_transpose(
    y: ArrayLike,
    kernel: ArrayLike,
    *,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    boundary: Boundary = "zeros",
    flip: bool = False,
    method: Method = "auto",
) -> np.ndarray:
    r"""Single-channel transposed convolution: exactly the adjoint of :func:`conv`.

    ``x = A* y`` where ``A`` is ``conv`` with the same parameters acting on an input of
    length ``n = (m − 1)·s − lo − hi + d·(k − 1) + output_padding + 1`` per axis (PyTorch's
    ``conv_transpose`` size).  In the sliding-window picture each ``y[o]`` times the
    conjugated kernel is laid onto ``x̃[o·s + t·d]``, and the padded border is then cropped
    (``"zeros"``) or folded back onto the entries it copies (other boundaries).

    ``output_padding`` (``0 <= output_padding < max(stride, dilation)``) chooses among the
    input sizes that a strided convolution maps onto the same ``m``: the result is the
    adjoint of ``conv`` followed by keeping its first ``m`` outputs.

    Parameters
    ----------
    y, kernel : array_like
        Same number of axes (1, 2 or 3); ``y`` has the convolution's output shape ``m``.
    stride, padding, dilation, boundary, flip
        Those of the convolution this is the adjoint of; see
        :func:`convops.geometry.make_geometry`.
    output_padding : int or tuple of int
        Extra size per axis, ``0 <= output_padding < max(stride, dilation)``.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        Shape ``n`` (the formula above), dtype ``result_type(kernel, y)``.

    See Also
    --------
    conv : the convolution this is the adjoint of.
    conv_transpose1d, conv_transpose2d, conv_transpose3d : with channels, batches and bias.

    Examples
    --------
    Each ``y[o]`` scatters ``y[o]·w`` onto ``x[2o : 2o + 3]``; overlaps add up:

    >>> import numpy as np
    >>> from convops import conv_transpose
    >>> conv_transpose(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), stride=2)
    array([1., 2., 5., 4., 6.])
    """
    y, kernel = _single_channel_arrays(y, kernel, "y")
    n, _ = transpose_input_length(
        y.shape,
        kernel.shape,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
    )
    geometry = make_geometry(
        kernel.shape,
        n,
        stride=stride,
        padding=padding,
        dilation=dilation,
        boundary=boundary,
        flip=flip,
        output_size=y.shape,
    )
    return ConvOperator.from_geometry(kernel, geometry.transpose(), method).apply(y)


# ----------------------------------------------------------------------------------------
# PyTorch's layout: (N, C, *spatial) arrays, (C_out, C_in/groups, *k) weights, a bias
# ----------------------------------------------------------------------------------------
def _torch_input(
    input: ArrayLike, weight: ArrayLike, ndim: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    x = as_numeric_array(input, "input")
    w = as_numeric_array(weight, "weight")
    if w.ndim != ndim + 2:
        raise ValueError(
            f"weight of shape {w.shape} is not a {name} weight: expected {ndim + 2} axes "
            f"(out_channels, in_channels/groups, {', '.join('k' + str(i) for i in range(ndim))})"
        )
    if x.ndim not in (ndim + 1, ndim + 2):
        raise ValueError(
            f"input of shape {x.shape} is not a {name} input: expected {ndim + 2} axes "
            f"(N, C, *spatial) or {ndim + 1} (C, *spatial)"
        )
    return x, w


def _add_bias(out: np.ndarray, bias: ArrayLike | None, channels: int, ndim: int) -> np.ndarray:
    if bias is None:
        return out
    b = as_numeric_array(bias, "bias")
    if b.shape != (channels,):
        raise ValueError(
            f"bias of shape {b.shape} does not fit: expected ({channels},), one per output channel"
        )
    dtype = np.result_type(out.dtype, normalize_dtype(b.dtype))
    return out.astype(dtype, copy=False) + b.reshape((channels,) + (1,) * ndim)


def _convnd(
    ndim: int,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
    stride: IntOrTuple,
    padding: PaddingArg,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: Boundary,
    method: Method,
) -> np.ndarray:
    x, w = _torch_input(input, weight, ndim, f"conv{ndim}d")
    # checked here, not in the geometry, so that the message names the keyword as typed
    validate_choice(padding_mode, "padding_mode", BOUNDARIES)
    op = ConvOperator(
        w,
        x.shape[-(ndim + 1) :],
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        boundary=padding_mode,
        method=method,
    )
    return _add_bias(op.apply(x), bias, w.shape[0], ndim)


def _conv_transposend(
    ndim: int,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
    stride: IntOrTuple,
    padding: PaddingArg,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
    method: Method,
    padding_mode: Boundary = "zeros",
) -> np.ndarray:
    y, w = _torch_input(input, weight, ndim, f"conv_transpose{ndim}d")
    # checked here, not in the geometry, so that the message names the keyword as typed
    validate_choice(padding_mode, "padding_mode", BOUNDARIES)
    groups = validate_groups(groups)  # needed here already: it sets the output's channels
    if y.shape[-(ndim + 1)] != w.shape[0]:
        raise ValueError(
            f"input has {y.shape[-(ndim + 1)]} channels but the weight of shape {w.shape} "
            f"expects {w.shape[0]} (weight layout: in_channels, out_channels/groups, *k)"
        )
    m = y.shape[-ndim:]
    n, _ = transpose_input_length(
        m,
        w.shape[2:],
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        allow_string_padding=False,
    )
    # conv_transpose's weight is the weight of the convolution it is the adjoint of
    geometry = make_geometry(
        w.shape,
        (w.shape[1] * groups,) + n,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        boundary=padding_mode,  # the adjoint of conv{ndim}d(..., padding_mode=...): the fold
        output_size=m,
    )
    out = ConvOperator.from_geometry(w, geometry.transpose(), method).apply(y)
    return _add_bias(out, bias, w.shape[1] * groups, ndim)


def conv1d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """1D convolution with the signature, layout and result of
    ``torch.nn.functional.conv1d``, on numpy arrays.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
    weight : array_like
        ``(C_out, C_in/groups, k)``.
    bias : array_like, optional
        ``(C_out,)``, added to every output of its channel.
    stride, dilation : int or tuple of int
        ``>= 1``.
    padding : int, str or tuple
        As in PyTorch (an int, ``"valid"``, ``"same"``), and also ``"full"``,
        ``"same_upper"`` (TensorFlow's ``"same"``, any stride) and a ``(lo, hi)`` pair.
    groups : int
        Divides ``C_in`` and ``C_out``; each group of ``C_out/groups`` outputs reads its
        ``C_in/groups`` inputs.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        ``torch.nn.Conv1d``'s ``padding_mode``: how the padded border is filled.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_out, m)`` (or ``(C_out, m)`` for unbatched input), dtype
        ``result_type(weight, input, bias)`` (integers promoted to float64).

    Notes
    -----
    The deep-learning convolution (cross-correlation, no kernel flip), with ``x̃`` the
    input padded by ``(lo, hi)``::

        y[b, co, o] = bias[co]
                  + Σ_{ci ∈ group(co)} Σ_t  w[co, ci mod (C_in/groups), t] · x̃[b, ci, o·s + t·d]
        m = floor((L + lo + hi − d·(k − 1) − 1) / s) + 1

    See Also
    --------
    conv_transpose1d : its adjoint (plus a bias).
    conv : single channel, any of 1 to 3 axes.
    convops.ConvOperator : the same map as a ``LinearOperator``, with ``.H``.

    Examples
    --------
    >>> import numpy as np
    >>> from convops import conv1d
    >>> x = np.arange(6.0).reshape(1, 1, 6)          # (N, C_in, L)
    >>> w = np.array([[[1.0, 0.0, -1.0]]])           # (C_out, C_in, k)
    >>> conv1d(x, w)                                 # y[o] = x[o] − x[o + 2]
    array([[[-2., -2., -2., -2.]]])
    >>> conv1d(x, w, stride=2, padding=1)            # x̃ = 0, 0, 1, …, 5, 0; every 2nd o
    array([[[-1., -2., -2.]]])
    >>> conv1d(x[0], w, bias=np.array([10.0]))       # unbatched (C_in, L), with a bias
    array([[8., 8., 8., 8.]])
    """
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv2d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """2D convolution with the signature, layout and result of
    ``torch.nn.functional.conv2d``, on numpy arrays.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
    weight : array_like
        ``(C_out, C_in/groups, kH, kW)``.
    bias : array_like, optional
        ``(C_out,)``, added to every output of its channel.
    stride, dilation : int or tuple of int
        ``>= 1``; one value, or one per spatial axis.
    padding : int, str or tuple
        As in PyTorch (an int, one per axis, ``"valid"``, ``"same"``), and also ``"full"``,
        ``"same_upper"`` (TensorFlow's ``"same"``, any stride) and a ``(lo, hi)`` pair per
        axis.
    groups : int
        Divides ``C_in`` and ``C_out``; each group of ``C_out/groups`` outputs reads its
        ``C_in/groups`` inputs.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        ``torch.nn.Conv2d``'s ``padding_mode``: how the padded border is filled.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_out, mH, mW)`` (or ``(C_out, mH, mW)`` for unbatched input), dtype
        ``result_type(weight, input, bias)`` (integers promoted to float64).

    Notes
    -----
    The deep-learning convolution (cross-correlation, no kernel flip), with ``x̃`` the
    input padded by ``(lo, hi)`` on each axis and ``o``, ``t`` pairs of indices::

        y[b, co, o] = bias[co]
                  + Σ_{ci ∈ group(co)} Σ_t  w[co, ci mod (C_in/groups), t] · x̃[b, ci, o·s + t·d]
        m = floor((n + lo + hi − d·(k − 1) − 1) / s) + 1     per axis

    See Also
    --------
    conv_transpose2d : its adjoint (plus a bias).
    conv : single channel, any of 1 to 3 axes.
    convops.ConvOperator : the same map as a ``LinearOperator``, with ``.H``.

    Examples
    --------
    Two output channels of a 3×3 box filter on a 4×4 image of ones, ``"same"`` size:
    each output counts the kernel taps that land inside the image.

    >>> import numpy as np
    >>> from convops import conv2d
    >>> y = conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), padding=1)
    >>> y.shape
    (1, 2, 4, 4)
    >>> y[0, 0]
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]])
    >>> conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), padding=1,
    ...        padding_mode="circular")[0, 0, 0]      # the border wraps around
    array([9., 9., 9., 9.])
    """
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv3d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """3D convolution with the signature, layout and result of
    ``torch.nn.functional.conv3d``, on numpy arrays.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``.
    weight : array_like
        ``(C_out, C_in/groups, kD, kH, kW)``.
    bias : array_like, optional
        ``(C_out,)``, added to every output of its channel.
    stride, dilation : int or tuple of int
        ``>= 1``; one value, or one per spatial axis.
    padding : int, str or tuple
        As in PyTorch (an int, one per axis, ``"valid"``, ``"same"``), and also ``"full"``,
        ``"same_upper"`` (TensorFlow's ``"same"``, any stride) and a ``(lo, hi)`` pair per
        axis.
    groups : int
        Divides ``C_in`` and ``C_out``; each group of ``C_out/groups`` outputs reads its
        ``C_in/groups`` inputs.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        ``torch.nn.Conv3d``'s ``padding_mode``: how the padded border is filled.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_out, mD, mH, mW)`` (or ``(C_out, mD, mH, mW)`` for unbatched input), dtype
        ``result_type(weight, input, bias)`` (integers promoted to float64).

    Notes
    -----
    The deep-learning convolution (cross-correlation, no kernel flip), with ``x̃`` the
    input padded by ``(lo, hi)`` on each axis and ``o``, ``t`` triples of indices::

        y[b, co, o] = bias[co]
                  + Σ_{ci ∈ group(co)} Σ_t  w[co, ci mod (C_in/groups), t] · x̃[b, ci, o·s + t·d]
        m = floor((n + lo + hi − d·(k − 1) − 1) / s) + 1     per axis

    See Also
    --------
    conv_transpose3d : its adjoint (plus a bias).
    conv : single channel, any of 1 to 3 axes.
    convops.ConvOperator : the same map as a ``LinearOperator``, with ``.H``.

    Examples
    --------
    Two groups (each output channel reads 2 of the 4 input channels), stride 2, padding 1:

    >>> import numpy as np
    >>> from convops import conv3d
    >>> x = np.ones((1, 4, 4, 4, 4))                 # (N, C_in, D, H, W)
    >>> w = np.ones((6, 2, 3, 3, 3))                 # (C_out, C_in/groups, kD, kH, kW)
    >>> y = conv3d(x, w, stride=2, padding=1, groups=2)
    >>> y.shape                                      # m = floor((4 + 2 − 2 − 1) / 2) + 1 = 2
    (1, 6, 2, 2, 2)
    >>> float(y[0, 0, 0, 0, 0]), float(y[0, 0, 1, 1, 1])   # 2 channels × 2³ or 3³ taps inside
    (16.0, 54.0)
    >>> conv3d(x[0], w, stride=2, padding=1, groups=2).shape   # unbatched
    (6, 2, 2, 2)
    """
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv_transpose1d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """1D transposed convolution with the signature, layout and result of
    ``torch.nn.functional.conv_transpose1d``, on numpy arrays: the adjoint of ``conv1d``
    with the same ``weight``, ``stride``, ``padding``, ``dilation`` and ``groups``
    (conjugating a complex weight), plus ``bias``.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, m)`` or unbatched ``(C_in, m)``.
    weight : array_like
        ``(C_in, C_out/groups, k)``: the weight of the convolution ``C_out → C_in`` that
        this is the adjoint of.
    bias : array_like, optional
        ``(C_out,)``, added to every output of its channel.
    stride, dilation : int or tuple of int
        ``>= 1``, those of the convolution.
    padding : int or tuple
        The convolution's padding: an int or a ``(lo, hi)`` pair, not a string (as in
        PyTorch). It is cropped from the output.
    output_padding : int or tuple of int
        Extra output size, ``0 <= output_padding < max(stride, dilation)``: it picks one of
        the input sizes the strided convolution maps onto the same ``m``.
    groups : int
        Divides ``C_in`` and ``C_out``.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The ``padding_mode`` of the convolution this is the adjoint of: the result is the
        exact adjoint of ``conv1d(..., padding_mode=padding_mode)`` with the same weight.
        ``"zeros"`` crops the padded border; the others fold it back onto the entries it
        was copied from (wrapped for ``"circular"``, mirrored for ``"reflect"``, onto the
        edge for ``"replicate"``).  PyTorch refuses this (see Notes).
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_out, n)`` (or ``(C_out, n)`` for unbatched input).

    Notes
    -----
    With ``A`` the ``conv1d`` of ``weight`` on an input of length ``n``, this returns
    ``A* y + bias``: every ``y[b, c, o]`` times the conjugated kernel is scattered onto the
    padded output ``x̃[o·s + t·d]``, and the padding ``(lo, hi)`` is cropped::

        x̃[b, j, o·s + t·d] += conj(w[c, j mod (C_out/groups), t]) · y[b, c, o],  c ∈ group(j)
        n = (m − 1)·s − lo − hi + d·(k − 1) + output_padding + 1

    PyTorch's ``conv_transpose1d`` does not conjugate a complex weight (it is the plain
    transpose there); for real weights the two agree.

    Padding modes.  PyTorch's ``ConvTranspose1d`` refuses every ``padding_mode`` but
    ``"zeros"`` (``ValueError: Only "zeros" padding mode is supported for ConvTranspose1d``;
    pytorch#46027, open since 2020):
    read as a layer of its own, a transposed convolution's ``padding`` crops its output, and a
    crop has no reflect or circular variant.  As the adjoint it is still well defined.  The
    padded convolution is ``A = C·P``, where ``P`` copies the input into the padded grid and
    fills the border from it (wrap, mirror or edge) and ``C`` slides the kernel over that grid;
    so ``A* = Pᵀ·C*``: scatter onto the whole padded grid (``C*``, nothing cropped), then
    ``Pᵀ`` adds every border entry back onto the input entry it was copied from (the fold).
    For ``"zeros"`` ``Pᵀ`` is the crop, which is PyTorch's ``padding``.

    See Also
    --------
    conv1d : the convolution this is the adjoint of.
    conv_transpose : single channel, any of 1 to 3 axes.

    Examples
    --------
    Stride 2: each input value lays ``value · w`` onto the output two places further on;
    overlapping copies add up.

    >>> import numpy as np
    >>> from convops import conv1d, conv_transpose1d
    >>> w = np.array([[[1.0, 1.0, 1.0]]])
    >>> conv_transpose1d(np.array([[[1.0, 2.0]]]), w, stride=2)   # n = (2 − 1)·2 + 3 = 5
    array([[[1., 1., 3., 2., 2.]]])

    It is the adjoint: ⟨conv1d(x), y⟩ = ⟨x, conv_transpose1d(y)⟩.

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((1, 2, 9)), rng.standard_normal((1, 3, 5))
    >>> w = rng.standard_normal((3, 2, 3))           # conv1d: 2 → 3 channels
    >>> lhs = np.vdot(conv1d(x, w, stride=2, padding=1), y)
    >>> rhs = np.vdot(x, conv_transpose1d(y, w, stride=2, padding=1))
    >>> bool(np.isclose(lhs, rhs))
    True
    """
    return _conv_transposend(
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        method,
        padding_mode,
    )


def conv_transpose2d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """2D transposed convolution with the signature, layout and result of
    ``torch.nn.functional.conv_transpose2d``, on numpy arrays: the adjoint of ``conv2d``
    with the same ``weight``, ``stride``, ``padding``, ``dilation`` and ``groups``
    (conjugating a complex weight), plus ``bias``.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, mH, mW)`` or unbatched ``(C_in, mH, mW)``.
    weight : array_like
        ``(C_in, C_out/groups, kH, kW)``: the weight of the convolution ``C_out → C_in``
        that this is the adjoint of.
    bias : array_like, optional
        ``(C_out,)``, added to every output of its channel.
    stride, dilation : int or tuple of int
        ``>= 1``, those of the convolution; one value, or one per spatial axis.
    padding : int or tuple
        The convolution's padding: an int, or one int or ``(lo, hi)`` pair per axis, not
        a string (as in PyTorch). It is cropped from the output.
    output_padding : int or tuple of int
        Extra output size per axis, ``0 <= output_padding < max(stride, dilation)``: it
        picks one of the input sizes the strided convolution maps onto the same ``m``.
    groups : int
        Divides ``C_in`` and ``C_out``.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The ``padding_mode`` of the convolution this is the adjoint of: the result is the
        exact adjoint of ``conv2d(..., padding_mode=padding_mode)`` with the same weight.
        ``"zeros"`` crops the padded border; the others fold it back onto the entries it
        was copied from (wrapped for ``"circular"``, mirrored for ``"reflect"``, onto the
        edge for ``"replicate"``).  PyTorch refuses this (see Notes).
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_out, nH, nW)`` (or ``(C_out, nH, nW)`` for unbatched input).

    Notes
    -----
    With ``A`` the ``conv2d`` of ``weight`` on an input of size ``n``, this returns
    ``A* y + bias``: every ``y[b, c, o]`` times the conjugated kernel is scattered onto the
    padded output ``x̃[o·s + t·d]`` (``o``, ``t`` pairs of indices), and the padding is
    cropped::

        x̃[b, j, o·s + t·d] += conj(w[c, j mod (C_out/groups), t]) · y[b, c, o],  c ∈ group(j)
        n = (m − 1)·s − lo − hi + d·(k − 1) + output_padding + 1     per axis

    PyTorch's ``conv_transpose2d`` does not conjugate a complex weight (it is the plain
    transpose there); for real weights the two agree.

    Padding modes.  PyTorch's ``ConvTranspose2d`` refuses every ``padding_mode`` but
    ``"zeros"`` (``ValueError: Only "zeros" padding mode is supported for ConvTranspose2d``;
    pytorch#46027, open since 2020):
    read as a layer of its own, a transposed convolution's ``padding`` crops its output, and a
    crop has no reflect or circular variant.  As the adjoint it is still well defined.  The
    padded convolution is ``A = C·P``, where ``P`` copies the input into the padded grid and
    fills the border from it (wrap, mirror or edge) and ``C`` slides the kernel over that grid;
    so ``A* = Pᵀ·C*``: scatter onto the whole padded grid (``C*``, nothing cropped), then
    ``Pᵀ`` adds every border entry back onto the input entry it was copied from (the fold).
    For ``"zeros"`` ``Pᵀ`` is the crop, which is PyTorch's ``padding``.

    See Also
    --------
    conv2d : the convolution this is the adjoint of.
    conv_transpose : single channel, any of 1 to 3 axes.

    Examples
    --------
    A single 1 scatters the kernel itself (here the 3×3 kernel 1..9 on the 2×2 output of
    a 4×4 image):

    >>> import numpy as np
    >>> from convops import conv2d, conv_transpose2d
    >>> w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    >>> conv_transpose2d(np.array([[[[1.0, 0.0], [0.0, 0.0]]]]), w)[0, 0]
    array([[1., 2., 3., 0.],
           [4., 5., 6., 0.],
           [7., 8., 9., 0.],
           [0., 0., 0., 0.]])

    ``output_padding`` undoes the size lost to a stride: 8×8 → 4×4 → 8×8.

    >>> x = np.random.default_rng(0).standard_normal((1, 3, 8, 8))
    >>> w = np.random.default_rng(1).standard_normal((6, 3, 3, 3))
    >>> y = conv2d(x, w, stride=2, padding=1)
    >>> conv_transpose2d(y, w, stride=2, padding=1).shape    # n = (4 − 1)·2 − 2 + 2 + 1 = 7
    (1, 3, 7, 7)
    >>> conv_transpose2d(y, w, stride=2, padding=1, output_padding=1).shape
    (1, 3, 8, 8)
    """
    return _conv_transposend(
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        method,
        padding_mode,
    )


def conv_transpose3d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """3D transposed convolution with the signature, layout and result of
    ``torch.nn.functional.conv_transpose3d``, on numpy arrays: the adjoint of ``conv3d``
    with the same ``weight``, ``stride``, ``padding``, ``dilation`` and ``groups``
    (conjugating a complex weight), plus ``bias``.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, mD, mH, mW)`` or unbatched ``(C_in, mD, mH, mW)``.
    weight : array_like
        ``(C_in, C_out/groups, kD, kH, kW)``: the weight of the convolution
        ``C_out → C_in`` that this is the adjoint of.
    bias : array_like, optional
        ``(C_out,)``, added to every output of its channel.
    stride, dilation : int or tuple of int
        ``>= 1``, those of the convolution; one value, or one per spatial axis.
    padding : int or tuple
        The convolution's padding: an int, or one int or ``(lo, hi)`` pair per axis, not
        a string (as in PyTorch). It is cropped from the output.
    output_padding : int or tuple of int
        Extra output size per axis, ``0 <= output_padding < max(stride, dilation)``: it
        picks one of the input sizes the strided convolution maps onto the same ``m``.
    groups : int
        Divides ``C_in`` and ``C_out``.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The ``padding_mode`` of the convolution this is the adjoint of: the result is the
        exact adjoint of ``conv3d(..., padding_mode=padding_mode)`` with the same weight.
        ``"zeros"`` crops the padded border; the others fold it back onto the entries it
        was copied from (wrapped for ``"circular"``, mirrored for ``"reflect"``, onto the
        edge for ``"replicate"``).  PyTorch refuses this (see Notes).
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_out, nD, nH, nW)`` (or ``(C_out, nD, nH, nW)`` for unbatched input).

    Notes
    -----
    With ``A`` the ``conv3d`` of ``weight`` on an input of size ``n``, this returns
    ``A* y + bias``: every ``y[b, c, o]`` times the conjugated kernel is scattered onto the
    padded output ``x̃[o·s + t·d]`` (``o``, ``t`` triples of indices), and the padding is
    cropped::

        x̃[b, j, o·s + t·d] += conj(w[c, j mod (C_out/groups), t]) · y[b, c, o],  c ∈ group(j)
        n = (m − 1)·s − lo − hi + d·(k − 1) + output_padding + 1     per axis

    PyTorch's ``conv_transpose3d`` does not conjugate a complex weight (it is the plain
    transpose there); for real weights the two agree.

    Padding modes.  PyTorch's ``ConvTranspose3d`` refuses every ``padding_mode`` but
    ``"zeros"`` (``ValueError: Only "zeros" padding mode is supported for ConvTranspose3d``;
    pytorch#46027, open since 2020):
    read as a layer of its own, a transposed convolution's ``padding`` crops its output, and a
    crop has no reflect or circular variant.  As the adjoint it is still well defined.  The
    padded convolution is ``A = C·P``, where ``P`` copies the input into the padded grid and
    fills the border from it (wrap, mirror or edge) and ``C`` slides the kernel over that grid;
    so ``A* = Pᵀ·C*``: scatter onto the whole padded grid (``C*``, nothing cropped), then
    ``Pᵀ`` adds every border entry back onto the input entry it was copied from (the fold).
    For ``"zeros"`` ``Pᵀ`` is the crop, which is PyTorch's ``padding``.

    See Also
    --------
    conv3d : the convolution this is the adjoint of.
    conv_transpose : single channel, any of 1 to 3 axes.

    Examples
    --------
    >>> import numpy as np
    >>> from convops import conv3d, conv_transpose3d
    >>> rng = np.random.default_rng(0)
    >>> w = rng.standard_normal((4, 2, 3, 3, 3))     # conv3d: 2 → 4 channels
    >>> y = rng.standard_normal((1, 4, 3, 3, 3))
    >>> x_hat = conv_transpose3d(y, w, stride=2, padding=1, output_padding=1)
    >>> x_hat.shape                                  # n = (3 − 1)·2 − 2 + 2 + 1 + 1 = 6
    (1, 2, 6, 6, 6)
    >>> x = rng.standard_normal((1, 2, 6, 6, 6))     # the adjoint of conv3d on 6³
    >>> bool(np.isclose(np.vdot(conv3d(x, w, stride=2, padding=1), y), np.vdot(x, x_hat)))
    True
    """
    return _conv_transposend(
        3,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        method,
        padding_mode,
    )


# ----------------------------------------------------------------------------------------
# the explicit matrices
# ----------------------------------------------------------------------------------------
def conv_matrix(
    kernel: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    boundary: Boundary = "zeros",
    flip: bool = False,
) -> sp.csr_array:
    """The matrix of the convolution, ``(prod(output_shape), prod(input_shape))``, as CSR.

    Toeplitz in 1D, block-Toeplitz with Toeplitz blocks in 2D (three levels in 3D),
    block-circulant for ``boundary="circular"``; channels add an outer block level.
    Rows and columns follow C order over ``(C_out, *m)`` and ``(C_in, *n)``.

    Parameters
    ----------
    kernel : array_like
        ``k`` (single channel, as many axes as ``input_shape``) or
        ``(C_out, C_in/groups, *k)``.
    input_shape : tuple of int
        The convolution's input: ``n`` or ``(C_in, *n)``.
    stride, padding, dilation, groups, boundary, flip
        See :func:`convops.geometry.make_geometry`.

    Returns
    -------
    scipy.sparse.csr_array
        Only the entries the kernel puts there are stored.

    See Also
    --------
    conv_transpose_matrix : its conjugate transpose.
    convops.ConvOperator : the same map without storing the matrix.

    Examples
    --------
    >>> import numpy as np, convops
    >>> A = convops.conv_matrix(np.arange(1, 10).reshape(3, 3), (4, 4))
    >>> A.shape
    (4, 16)
    >>> A.toarray()[1].astype(int).tolist()
    [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0]
    """
    op = ConvOperator(
        kernel,
        input_shape,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        boundary=boundary,
        flip=flip,
        method="matrix",
    )
    return op.matrix()


def conv_transpose_matrix(
    kernel: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    boundary: Boundary = "zeros",
    flip: bool = False,
) -> sp.csr_array:
    """The conjugate transpose of :func:`conv_matrix` with the same arguments, as CSR.

    ``input_shape`` is the convolution's input (the transposed convolution's output).

    Parameters
    ----------
    kernel : array_like
        ``k`` (single channel) or ``(C_out, C_in/groups, *k)``, as for :func:`conv_matrix`.
    input_shape : tuple of int
        The convolution's input ``n`` or ``(C_in, *n)``.
    stride, padding, dilation, groups, boundary, flip
        See :func:`convops.geometry.make_geometry`.

    Returns
    -------
    scipy.sparse.csr_array
        ``(prod(input_shape), prod(output_shape))``.

    Examples
    --------
    >>> import numpy as np, convops
    >>> B = convops.conv_transpose_matrix(np.arange(1, 10).reshape(3, 3), (4, 4))
    >>> B.shape
    (16, 4)
    >>> B.toarray()[5].astype(int).tolist()  # x[1, 1] gets w[1, 1], w[1, 0], w[0, 1], w[0, 0]
    [5, 4, 2, 1]
    """
    op = ConvOperator(
        kernel,
        input_shape,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        boundary=boundary,
        flip=flip,
        method="matrix",
    )
    return op.H.matrix()
