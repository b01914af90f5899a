r"""``torch.nn.grad`` on numpy arrays: the gradients of a convolution layer, as adjoints.

A convolution ``y = conv(x, w)`` is linear in ``x`` and in ``w``.  Back-propagating an output
gradient ``g = ∂L/∂y`` through it applies the adjoint of each map:

* ``conv{1,2,3}d_input`` — the adjoint of ``x ↦ conv(x, w)`` (:class:`~convops.ConvOperator`'s
  ``.H``, the transposed convolution) on an input of the given size;
* ``conv{1,2,3}d_weight`` — the adjoint of ``w ↦ conv(x, w)`` (:class:`~convops.KernelOperator`'s
  ``.H``): the correlation of ``x`` with ``g``, summed over the batch,

.. math::

    \frac{\partial L}{\partial w[c_o, i, t]} = \sum_b \sum_o
        \overline{\tilde x[b, g\,C_{in}/G + i, o s + t d]}\; g[b, c_o, o].

The names, argument order, shapes and results are those of ``torch.nn.grad`` (batched
``(N, C, *spatial)`` arrays; unbatched ``(C, *spatial)`` ones are accepted too), plus two
keywords PyTorch lacks there: ``padding_mode`` (``"zeros"``, ``"circular"``, ``"reflect"``,
``"replicate"``: the gradients of ``conv2d(..., padding_mode=...)``) and ``method`` (the
realisation; all agree to rounding).  For complex arrays the results are the adjoints
(conjugating ``x`` or ``w``), which is what PyTorch's autograd computes for complex tensors.

Examples
--------
>>> import numpy as np, convops
>>> rng = np.random.default_rng(0)
>>> x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
>>> g = rng.standard_normal(convops.conv2d(x, w, padding=1).shape)
>>> gw = convops.grad.conv2d_weight(x, w.shape, g, padding=1)
>>> gx = convops.grad.conv2d_input(x.shape, w, g, padding=1)
>>> gw.shape, gx.shape
((4, 3, 3, 3), (2, 3, 8, 8))
>>> # both are adjoints: <conv(x, w), g> = <w, gw> = <x, gx>
>>> lhs = np.vdot(g, convops.conv2d(x, w, padding=1))
>>> bool(np.isclose(lhs, np.vdot(gw, w)) and np.isclose(lhs, np.vdot(gx, x)))
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._validate import (
    as_numeric_array,
    is_int,
    shape_tuple,
    validate_choice,
    validate_groups,
)
from .geometry import BOUNDARIES, Boundary, Method, PaddingArg
from .kernel_operator import KernelOperator
from .operators import ConvOperator

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "conv3d_input",
    "conv3d_weight",
]

IntOrTuple = int | Sequence[int]


def _axes_names(ndim: int) -> str:
    return ", ".join("k" + str(i) for i in range(ndim))


def _check_grad_output(g: np.ndarray, expected: tuple[int, ...], ndim: int, what: str) -> None:
    if g.shape != expected:
        raise ValueError(
            f"grad_output of shape {g.shape} is not the output shape of this conv{ndim}d: "
            f"{what} gives outputs of shape {expected}"
        )


def _weight(
    ndim: int,
    input: ArrayLike,
    weight_size: Sequence[int],
    grad_output: ArrayLike,
    stride: IntOrTuple,
    padding: PaddingArg,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    method: Method,
) -> np.ndarray:
    x = as_numeric_array(input, "input")
    g = as_numeric_array(grad_output, "grad_output")
    validate_choice(padding_mode, "padding_mode", BOUNDARIES)
    size = shape_tuple(weight_size, "weight_size")
    if len(size) != ndim + 2:
        raise ValueError(
            f"weight_size={size!r} is not a conv{ndim}d weight size: expected {ndim + 2} "
            f"entries (out_channels, in_channels/groups, {_axes_names(ndim)})"
        )
    if x.ndim not in (ndim + 1, ndim + 2):
        raise ValueError(
            f"input of shape {x.shape} is not a conv{ndim}d input: expected {ndim + 2} axes "
            f"(N, C, *spatial) or {ndim + 1} (C, *spatial)"
        )
    groups = validate_groups(groups)
    channels = x.shape[-(ndim + 1)]
    if size[1] * groups != channels:
        raise ValueError(
            f"weight_size={size!r} does not match the input: its channel axis "
            f"in_channels/groups = {size[1]} with groups={groups} reads {size[1] * groups} "
            f"input channels, but the input of shape {x.shape} has {channels}; allowed: "
            f"weight_size[1] = {channels} // groups"
            + ("" if channels % groups == 0 else f" (and groups dividing {channels})")
        )
    op = KernelOperator(
        x,
        size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        boundary=padding_mode,
        method=method,
        batched=x.ndim == ndim + 2,
    )
    _check_grad_output(
        g, op.output_shape, ndim, f"the input of shape {x.shape} and a weight of size {size}"
    )
    return op.H.apply(g)


def _input_size(value: object, ndim: int) -> tuple[int | None, tuple[int, ...]]:
    """``(N or None, (C_in, *n))`` from ``input_size``: ``(N, C_in, *n)`` or ``(C_in, *n)``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"input_size must be a tuple of ints; got {value!r}") from None
    entries = tuple(value)
    if not all(is_int(v) for v in entries):
        raise TypeError(f"input_size must be a tuple of ints; got {value!r}") from None
    if len(entries) == ndim + 2:
        if entries[0] < 0:
            raise ValueError(
                f"input_size={value!r} is not allowed: its batch entry N must be >= 0"
            ) from None
        return int(entries[0]), shape_tuple(entries[1:], "input_size")
    if len(entries) == ndim + 1:
        return None, shape_tuple(entries, "input_size")
    raise ValueError(
        f"input_size={value!r} is not a conv{ndim}d input size: expected {ndim + 2} entries "
        f"(N, C_in, *spatial) or {ndim + 1} (C_in, *spatial)"
    ) from None


def _input(
    ndim: int,
    input_size: Sequence[int],
    weight: ArrayLike,
    grad_output: ArrayLike,
    stride: IntOrTuple,
    padding: PaddingArg,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    method: Method,
) -> np.ndarray:
    w = as_numeric_array(weight, "weight")
    g = as_numeric_array(grad_output, "grad_output")
    validate_choice(padding_mode, "padding_mode", BOUNDARIES)
    if w.ndim != ndim + 2:
        raise ValueError(
            f"weight of shape {w.shape} is not a conv{ndim}d weight: expected {ndim + 2} axes "
            f"(out_channels, in_channels/groups, {_axes_names(ndim)})"
        )
    n_batch, conv_input = _input_size(input_size, ndim)
    groups = validate_groups(groups)
    if w.shape[1] * groups != conv_input[0]:
        raise ValueError(
            f"input_size={tuple(input_size)!r} does not match the weight: it has "
            f"{conv_input[0]} input channels, but the weight of shape {w.shape} with "
            f"groups={groups} reads {w.shape[1] * groups} (in_channels/groups = {w.shape[1]})"
        )
    op = ConvOperator(
        w,
        conv_input,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        boundary=padding_mode,
        method=method,
    )
    what = f"an input of size {tuple(input_size)} and the weight of shape {w.shape}"
    if n_batch is not None:
        _check_grad_output(g, (n_batch,) + op.output_shape, ndim, what)
    elif g.shape != op.output_shape and g.shape[1:] != op.output_shape:
        raise ValueError(
            f"grad_output of shape {g.shape} is not the output shape of this conv{ndim}d: "
            f"{what} gives outputs of shape {op.output_shape} (or (N, *that) for a batch)"
        )
    return op.H.apply(g)


# ----------------------------------------------------------------------------------------
# the public functions: torch.nn.grad's names and argument order, docstrings in the source
# ----------------------------------------------------------------------------------------
def conv1d_weight(
    input: ArrayLike,
    weight_size: Sequence[int],
    grad_output: ArrayLike,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """1D: the gradient of ``conv1d`` with respect to its weight (``torch.nn.grad.conv1d_weight``).

    ``A_x*`` applied to ``grad_output``, where ``A_x: w ↦ conv1d(input, w, …)`` (a
    :class:`~convops.KernelOperator`): the correlation of the padded input with the output
    gradient, summed over the batch::

        grad_w[co, i, t] = Σ_b Σ_o conj(x̃[b, g·C_in/G + i, o·s + t·d]) · grad_output[b, co, o]

    with ``g`` the group of ``co`` and ``x̃`` the input padded with ``padding_mode``.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
    weight_size : tuple of int
        ``(C_out, C_in/groups, k)``: the shape of the weight (and of the result).
    grad_output : array_like
        The output gradient, of the convolution's output shape ``(N, C_out, m)``
        (unbatched: ``(C_out, m)``).
    stride, padding, dilation, groups
        As for :func:`convops.conv1d` (string paddings and ``(lo, hi)`` pairs too).
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The convolution's ``padding_mode``: the gradient of ``conv1d(..., padding_mode=…)``.
        ``torch.nn.grad`` has zero padding only.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        Of shape ``weight_size``, dtype ``result_type(input, grad_output)``.

    Raises
    ------
    ValueError
        For a ``weight_size`` whose channel axis does not match the input, a ``grad_output``
        that is not the convolution's output shape, or a ``padding_mode`` not in the list;
        and for everything :func:`convops.conv1d` refuses.

    See Also
    --------
    conv1d_input : the gradient with respect to the input.
    convops.KernelOperator : the map ``w ↦ conv(x, w)``, whose ``.H`` this is.

    Examples
    --------
    >>> import numpy as np, convops
    >>> x = np.arange(6.0).reshape(1, 1, 6)            # (N, C_in, L)
    >>> g = np.ones((1, 1, 4))                          # the gradient of y = conv1d(x, w)
    >>> convops.grad.conv1d_weight(x, (1, 1, 3), g)     # gw[t] = Σ_o x[o + t]
    array([[[ 6., 10., 14.]]])
    """
    return _weight(
        1, input, weight_size, grad_output, stride, padding, dilation, groups, padding_mode, method
    )


def conv2d_weight(
    input: ArrayLike,
    weight_size: Sequence[int],
    grad_output: ArrayLike,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """2D: the gradient of ``conv2d`` with respect to its weight (``torch.nn.grad.conv2d_weight``).

    ``A_x*`` applied to ``grad_output``, where ``A_x: w ↦ conv2d(input, w, …)`` (a
    :class:`~convops.KernelOperator`): the correlation of the padded input with the output
    gradient, summed over the batch::

        grad_w[co, i, t] = Σ_b Σ_o conj(x̃[b, g·C_in/G + i, o·s + t·d]) · grad_output[b, co, o]

    with ``g`` the group of ``co`` and ``x̃`` the input padded with ``padding_mode``.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
    weight_size : tuple of int
        ``(C_out, C_in/groups, kH, kW)``: the shape of the weight (and of the result).
    grad_output : array_like
        The output gradient, of the convolution's output shape ``(N, C_out, mH, mW)``
        (unbatched: ``(C_out, mH, mW)``).
    stride, padding, dilation, groups
        As for :func:`convops.conv2d` (string paddings and ``(lo, hi)`` pairs too).
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The convolution's ``padding_mode``: the gradient of ``conv2d(..., padding_mode=…)``.
        ``torch.nn.grad`` has zero padding only.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        Of shape ``weight_size``, dtype ``result_type(input, grad_output)``.

    Raises
    ------
    ValueError
        For a ``weight_size`` whose channel axis does not match the input, a ``grad_output``
        that is not the convolution's output shape, or a ``padding_mode`` not in the list;
        and for everything :func:`convops.conv2d` refuses.

    See Also
    --------
    conv2d_input : the gradient with respect to the input.
    convops.KernelOperator : the map ``w ↦ conv(x, w)``, whose ``.H`` this is.

    Examples
    --------
    >>> import numpy as np, convops
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    >>> g = rng.standard_normal((2, 4, 4, 4))            # conv2d(x, w, stride=2, padding=1)
    >>> gw = convops.grad.conv2d_weight(x, w.shape, g, 2, 1, padding_mode="reflect")
    >>> y = convops.conv2d(x, w, stride=2, padding=1, padding_mode="reflect")
    >>> bool(np.isclose(np.vdot(g, y), np.vdot(gw, w)))  # the adjoint of w ↦ conv2d(x, w)
    True
    """
    return _weight(
        2, input, weight_size, grad_output, stride, padding, dilation, groups, padding_mode, method
    )


def conv3d_weight(
    input: ArrayLike,
    weight_size: Sequence[int],
    grad_output: ArrayLike,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """3D: the gradient of ``conv3d`` with respect to its weight (``torch.nn.grad.conv3d_weight``).

    ``A_x*`` applied to ``grad_output``, where ``A_x: w ↦ conv3d(input, w, …)`` (a
    :class:`~convops.KernelOperator`): the correlation of the padded input with the output
    gradient, summed over the batch::

        grad_w[co, i, t] = Σ_b Σ_o conj(x̃[b, g·C_in/G + i, o·s + t·d]) · grad_output[b, co, o]

    with ``g`` the group of ``co`` and ``x̃`` the input padded with ``padding_mode``.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``.
    weight_size : tuple of int
        ``(C_out, C_in/groups, kD, kH, kW)``: the shape of the weight (and of the result).
    grad_output : array_like
        The output gradient, of the convolution's output shape ``(N, C_out, mD, mH, mW)``
        (unbatched: ``(C_out, mD, mH, mW)``).
    stride, padding, dilation, groups
        As for :func:`convops.conv3d` (string paddings and ``(lo, hi)`` pairs too).
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The convolution's ``padding_mode``: the gradient of ``conv3d(..., padding_mode=…)``.
        ``torch.nn.grad`` has zero padding only.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        Of shape ``weight_size``, dtype ``result_type(input, grad_output)``.

    Raises
    ------
    ValueError
        For a ``weight_size`` whose channel axis does not match the input, a ``grad_output``
        that is not the convolution's output shape, or a ``padding_mode`` not in the list;
        and for everything :func:`convops.conv3d` refuses.

    See Also
    --------
    conv3d_input : the gradient with respect to the input.
    convops.KernelOperator : the map ``w ↦ conv(x, w)``, whose ``.H`` this is.

    Examples
    --------
    >>> import numpy as np, convops
    >>> x = np.ones((1, 2, 4, 4, 4))
    >>> g = np.ones((1, 3, 2, 2, 2))                     # conv3d with a 3³ kernel, no padding
    >>> gw = convops.grad.conv3d_weight(x, (3, 2, 3, 3, 3), g)
    >>> gw.shape, float(gw[0, 0, 0, 0, 0])              # each tap sees 2³ outputs of ones
    ((3, 2, 3, 3, 3), 8.0)
    """
    return _weight(
        3, input, weight_size, grad_output, stride, padding, dilation, groups, padding_mode, method
    )


def conv1d_input(
    input_size: Sequence[int],
    weight: ArrayLike,
    grad_output: ArrayLike,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """1D: the gradient of ``conv1d`` with respect to its input (``torch.nn.grad.conv1d_input``).

    ``A*`` applied to ``grad_output``, where ``A: x ↦ conv1d(x, weight, …)`` on an input of
    size ``input_size`` (a :class:`~convops.ConvOperator`'s ``.H``): the transposed
    convolution onto exactly that size (no ``output_padding`` needed), the padded border
    folded back for the other padding modes.

    Parameters
    ----------
    input_size : tuple of int
        The input's shape, ``(N, C_in, L)`` as in PyTorch, or ``(C_in, L)``
        (then the batch, or its absence, follows ``grad_output``).
    weight : array_like
        ``(C_out, C_in/groups, k)``.
    grad_output : array_like
        The output gradient ``(N, C_out, m)`` (or ``(C_out, m)``).
    stride, padding, dilation, groups
        As for :func:`convops.conv1d`.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The convolution's ``padding_mode``; ``torch.nn.grad`` has zero padding only.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_in, L)`` (the batch of ``grad_output``), dtype
        ``result_type(weight, grad_output)``.

    Raises
    ------
    ValueError
        For an ``input_size`` whose channels do not match the weight, a ``grad_output`` that
        is not the convolution's output shape, a ``padding_mode`` not in the list, and
        everything :func:`convops.conv1d` refuses.

    See Also
    --------
    conv1d_weight : the gradient with respect to the weight.
    convops.conv_transpose1d : the same adjoint, sized by ``output_padding``.

    Examples
    --------
    >>> import numpy as np, convops
    >>> w = np.array([[[1.0, 2.0, 3.0]]])
    >>> convops.grad.conv1d_input((1, 1, 5), w, np.array([[[1.0, 0.0, 0.0]]]))
    array([[[1., 2., 3., 0., 0.]]])
    """
    return _input(
        1, input_size, weight, grad_output, stride, padding, dilation, groups, padding_mode, method
    )


def conv2d_input(
    input_size: Sequence[int],
    weight: ArrayLike,
    grad_output: ArrayLike,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """2D: the gradient of ``conv2d`` with respect to its input (``torch.nn.grad.conv2d_input``).

    ``A*`` applied to ``grad_output``, where ``A: x ↦ conv2d(x, weight, …)`` on an input of
    size ``input_size`` (a :class:`~convops.ConvOperator`'s ``.H``): the transposed
    convolution onto exactly that size (no ``output_padding`` needed), the padded border
    folded back for the other padding modes.

    Parameters
    ----------
    input_size : tuple of int
        The input's shape, ``(N, C_in, H, W)`` as in PyTorch, or ``(C_in, H, W)``
        (then the batch, or its absence, follows ``grad_output``).
    weight : array_like
        ``(C_out, C_in/groups, kH, kW)``.
    grad_output : array_like
        The output gradient ``(N, C_out, mH, mW)`` (or ``(C_out, mH, mW)``).
    stride, padding, dilation, groups
        As for :func:`convops.conv2d`.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The convolution's ``padding_mode``; ``torch.nn.grad`` has zero padding only.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_in, H, W)`` (the batch of ``grad_output``), dtype
        ``result_type(weight, grad_output)``.

    Raises
    ------
    ValueError
        For an ``input_size`` whose channels do not match the weight, a ``grad_output`` that
        is not the convolution's output shape, a ``padding_mode`` not in the list, and
        everything :func:`convops.conv2d` refuses.

    See Also
    --------
    conv2d_weight : the gradient with respect to the weight.
    convops.conv_transpose2d : the same adjoint, sized by ``output_padding``.

    Examples
    --------
    >>> import numpy as np, convops
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    >>> g = rng.standard_normal((2, 4, 4, 4))            # conv2d(x, w, stride=2, padding=1)
    >>> gx = convops.grad.conv2d_input(x.shape, w, g, 2, 1, padding_mode="circular")
    >>> y = convops.conv2d(x, w, stride=2, padding=1, padding_mode="circular")
    >>> gx.shape, bool(np.isclose(np.vdot(g, y), np.vdot(gx, x)))
    ((2, 3, 8, 8), True)
    """
    return _input(
        2, input_size, weight, grad_output, stride, padding, dilation, groups, padding_mode, method
    )


def conv3d_input(
    input_size: Sequence[int],
    weight: ArrayLike,
    grad_output: ArrayLike,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: Boundary = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """3D: the gradient of ``conv3d`` with respect to its input (``torch.nn.grad.conv3d_input``).

    ``A*`` applied to ``grad_output``, where ``A: x ↦ conv3d(x, weight, …)`` on an input of
    size ``input_size`` (a :class:`~convops.ConvOperator`'s ``.H``): the transposed
    convolution onto exactly that size (no ``output_padding`` needed), the padded border
    folded back for the other padding modes.

    Parameters
    ----------
    input_size : tuple of int
        The input's shape, ``(N, C_in, D, H, W)`` as in PyTorch, or ``(C_in, D, H, W)``
        (then the batch, or its absence, follows ``grad_output``).
    weight : array_like
        ``(C_out, C_in/groups, kD, kH, kW)``.
    grad_output : array_like
        The output gradient ``(N, C_out, mD, mH, mW)`` (or ``(C_out, mD, mH, mW)``).
    stride, padding, dilation, groups
        As for :func:`convops.conv3d`.
    padding_mode : {"zeros", "circular", "reflect", "replicate"}
        The convolution's ``padding_mode``; ``torch.nn.grad`` has zero padding only.
    method : {"auto", "direct", "fft", "matrix"}
        Realisation (all give the same result to rounding).

    Returns
    -------
    ndarray
        ``(N, C_in, D, H, W)`` (the batch of ``grad_output``), dtype
        ``result_type(weight, grad_output)``.

    Raises
    ------
    ValueError
        For an ``input_size`` whose channels do not match the weight, a ``grad_output`` that
        is not the convolution's output shape, a ``padding_mode`` not in the list, and
        everything :func:`convops.conv3d` refuses.

    See Also
    --------
    conv3d_weight : the gradient with respect to the weight.
    convops.conv_transpose3d : the same adjoint, sized by ``output_padding``.

    Examples
    --------
    >>> import numpy as np, convops
    >>> w = np.ones((3, 2, 3, 3, 3))
    >>> gx = convops.grad.conv3d_input((1, 2, 4, 4, 4), w, np.ones((1, 3, 2, 2, 2)))
    >>> gx.shape, float(gx[0, 0, 0, 0, 0]), float(gx[0, 0, 1, 1, 1])  # 1 or 2³ windows, 3 outputs
    ((1, 2, 4, 4, 4), 3.0, 24.0)
    """
    return _input(
        3, input_size, weight, grad_output, stride, padding, dilation, groups, padding_mode, method
    )
