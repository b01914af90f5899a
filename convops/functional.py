"""Functions on arrays: ``conv``/``conv_transpose`` (single channel), the PyTorch-layout
``conv1d`` … ``conv_transpose3d``, and the explicit matrices.

Each is a thin wrapper that builds a geometry and a :class:`~convops.ConvOperator`; the
parameters mean what :func:`convops.geometry.make_geometry` says.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .realisations import matrix as _matrix
from .geometry import (
    Boundary,
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
    "conv_transpose",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "conv_matrix",
    "conv_transpose_matrix",
]

IntOrTuple = int | Sequence[int]


def _single_channel_arrays(x, kernel, name: str):
    x = as_numeric_array(x, name)
    kernel = as_numeric_array(kernel, "kernel")
    if x.ndim != kernel.ndim or not 1 <= x.ndim <= 3:
        raise ValueError(
            f"{name} has shape {x.shape} and kernel {kernel.shape}: conv and conv_transpose take "
            "single-channel arrays with the same number of axes, 1 to 3; for channels and "
            "batches use conv1d/conv2d/conv3d or ConvOperator"
        )
    return x, kernel


def conv(
    x,
    kernel,
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
    """
    x, kernel = _single_channel_arrays(x, kernel, "x")
    op = ConvOperator(
        kernel, x.shape, stride=stride, padding=padding, dilation=dilation,
        boundary=boundary, flip=flip, method=method,
    )
    return op.apply(x)


def conv_transpose(
    y,
    kernel,
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
    """
    y, kernel = _single_channel_arrays(y, kernel, "y")
    n, _ = transpose_input_length(
        y.shape, kernel.shape, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )
    geometry = make_geometry(
        kernel.shape, n, stride=stride, padding=padding, dilation=dilation,
        boundary=boundary, flip=flip, output_size=y.shape,
    )
    return ConvOperator.from_geometry(kernel, geometry.transpose(), method).apply(y)


def _torch_input(input, weight, ndim: int, name: str):
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
    return x, w, x.ndim == ndim + 1


def _add_bias(out: np.ndarray, bias, channels: int, ndim: int) -> np.ndarray:
    if bias is None:
        return out
    b = as_numeric_array(bias, "bias")
    if b.shape != (channels,):
        raise ValueError(f"bias of shape {b.shape} does not fit: expected ({channels},), one per output channel")
    dtype = np.result_type(out.dtype, normalize_dtype(b.dtype))
    return out.astype(dtype, copy=False) + b.reshape((channels,) + (1,) * ndim)


def _convnd(ndim, input, weight, bias, stride, padding, dilation, groups, padding_mode, method):
    name = f"conv{ndim}d"
    x, w, unbatched = _torch_input(input, weight, ndim, name)
    op = ConvOperator(
        w, x.shape[-(ndim + 1):], stride=stride, padding=padding, dilation=dilation,
        groups=groups, boundary=padding_mode, method=method,
    )
    return _add_bias(op.apply(x), bias, w.shape[0], ndim)


def _conv_transposend(ndim, input, weight, bias, stride, padding, output_padding, groups, dilation, method):
    name = f"conv_transpose{ndim}d"
    y, w, unbatched = _torch_input(input, weight, ndim, name)
    groups = validate_groups(groups)  # needed here already: it sets the output's channels
    if y.shape[-(ndim + 1)] != w.shape[0]:
        raise ValueError(
            f"input has {y.shape[-(ndim + 1)]} channels but the weight of shape {w.shape} "
            f"expects {w.shape[0]} (weight layout: in_channels, out_channels/groups, *k)"
        )
    m = y.shape[-ndim:]
    n, _ = transpose_input_length(
        m, w.shape[2:], stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation, allow_string_padding=False,
    )
    # conv_transpose's weight is the weight of the convolution it is the adjoint of
    geometry = make_geometry(
        w.shape, (w.shape[1] * groups,) + n, stride=stride, padding=padding,
        dilation=dilation, groups=groups, output_size=m,
    )
    out = ConvOperator.from_geometry(w, geometry.transpose(), method).apply(y)
    return _add_bias(out, bias, w.shape[1] * groups, ndim)


_CONV_DOC = """{ndim}D convolution with the signature, layout and result of
``torch.nn.functional.conv{ndim}d``, on numpy arrays.

Parameters
----------
input : array_like
    ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``, {ndim} spatial axes.
weight : array_like
    ``(C_out, C_in/groups, *k)``.
bias : array_like, optional
    ``(C_out,)``.
stride, padding, dilation, groups
    As in PyTorch; ``padding`` also takes ``"full"`` and ``(lo, hi)`` pairs per axis.
padding_mode : {{"zeros", "circular", "reflect", "replicate"}}
    ``torch.nn.Conv{ndim}d``'s ``padding_mode``.
method : {{"auto", "direct", "fft", "matrix"}}
    Realisation.

Returns
-------
ndarray
    ``(N, C_out, *m)`` (or ``(C_out, *m)`` for unbatched input).
"""

_CONV_T_DOC = """{ndim}D transposed convolution with the signature, layout and result of
``torch.nn.functional.conv_transpose{ndim}d``, on numpy arrays: the adjoint of
``conv{ndim}d`` with the same ``weight``, ``stride``, ``padding``, ``dilation`` and ``groups``
(conjugating a complex weight), plus ``bias``.

Parameters
----------
input : array_like
    ``(N, C_in, *m)`` or unbatched ``(C_in, *m)``.
weight : array_like
    ``(C_in, C_out/groups, *k)`` — the weight of the convolution ``C_out → C_in``.
bias : array_like, optional
    ``(C_out,)``.
stride, padding, output_padding, groups, dilation
    As in PyTorch. Output size per axis
    ``(m − 1)·s − 2·padding + d·(k − 1) + output_padding + 1``; ``padding`` may also be a
    ``(lo, hi)`` pair per axis, but not a string.
method : {{"auto", "direct", "fft", "matrix"}}
    Realisation.
"""


def conv1d(input, weight, bias=None, stride: IntOrTuple = 1, padding: PaddingArg = 0, dilation: IntOrTuple = 1, groups: int = 1, *, padding_mode: Boundary = "zeros", method: Method = "auto") -> np.ndarray:
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv2d(input, weight, bias=None, stride: IntOrTuple = 1, padding: PaddingArg = 0, dilation: IntOrTuple = 1, groups: int = 1, *, padding_mode: Boundary = "zeros", method: Method = "auto") -> np.ndarray:
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv3d(input, weight, bias=None, stride: IntOrTuple = 1, padding: PaddingArg = 0, dilation: IntOrTuple = 1, groups: int = 1, *, padding_mode: Boundary = "zeros", method: Method = "auto") -> np.ndarray:
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv_transpose1d(input, weight, bias=None, stride: IntOrTuple = 1, padding: PaddingArg = 0, output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1, *, method: Method = "auto") -> np.ndarray:
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups, dilation, method)


def conv_transpose2d(input, weight, bias=None, stride: IntOrTuple = 1, padding: PaddingArg = 0, output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1, *, method: Method = "auto") -> np.ndarray:
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups, dilation, method)


def conv_transpose3d(input, weight, bias=None, stride: IntOrTuple = 1, padding: PaddingArg = 0, output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1, *, method: Method = "auto") -> np.ndarray:
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups, dilation, method)


for _d in (1, 2, 3):
    globals()[f"conv{_d}d"].__doc__ = _CONV_DOC.format(ndim=_d)
    globals()[f"conv_transpose{_d}d"].__doc__ = _CONV_T_DOC.format(ndim=_d)
del _d


def conv_matrix(
    kernel,
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

    Examples
    --------
    >>> import numpy as np, convops
    >>> A = convops.conv_matrix(np.arange(1, 10).reshape(3, 3), (4, 4))
    >>> A.shape
    (4, 16)
    >>> A.toarray()[1].astype(int).tolist()
    [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0]
    """
    kernel = as_numeric_array(kernel, "kernel")
    geometry = make_geometry(
        kernel.shape, input_shape, stride=stride, padding=padding, dilation=dilation,
        groups=groups, boundary=boundary, flip=flip,
    )
    kernel = kernel.astype(normalize_dtype(kernel.dtype), copy=False)
    return _matrix.build(geometry.canonical_kernel(kernel), geometry)


def conv_transpose_matrix(
    kernel,
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
    """
    A = conv_matrix(
        kernel, input_shape, stride=stride, padding=padding, dilation=dilation,
        groups=groups, boundary=boundary, flip=flip,
    )
    return sp.csr_array(A.conj().T)
