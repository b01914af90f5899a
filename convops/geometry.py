"""The geometry of a convolution: every parameter normalised and validated once.

A :class:`ConvGeometry` holds the shapes and the index arithmetic of one convolution
``A`` (deep-learning cross-correlation, PyTorch's convention) and knows whether it
describes ``A`` itself or its adjoint ``A*`` (the transposed convolution).  The
realisations (:mod:`convops.realisations.matrix`, :mod:`convops.realisations.direct`, :mod:`convops.realisations.fft`) read
only a geometry and a kernel; they never validate anything themselves.

Index convention, per spatial axis, for stride ``s``, dilation ``d``, kernel length
``k`` and input ``x`` padded to ``x̃`` by ``(lo, hi)``::

    y[co, o] = Σ_{ci ∈ group(co)} Σ_t  w[co, ci mod (C_in/groups), t] · x̃[ci, o·s + t·d]
    m = floor((n + lo + hi − d·(k − 1) − 1) / s) + 1

The padded index ``p`` of ``x̃`` reads the input at ``p − lo`` when that is inside
``[0, n)``; outside, the boundary mode decides (zero, wrap, mirror or edge).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from ._validate import (
    MAX_ELEMENTS,
    METHODS,
    as_numeric_array,
    check_axis_size,
    check_elements,
    is_int,
    normalize_dtype,
    per_axis_ints,
    shape_tuple,
    validate_flip,
    validate_groups,
    validate_method,
    validate_spatial_axes,
)

__all__ = [
    "BOUNDARIES",
    "METHODS",
    "PADDING_MODES",
    "Boundary",
    "ConvGeometry",
    "Method",
    "PaddingArg",
    "as_numeric_array",
    "is_int",
    "make_geometry",
    "normalize_dtype",
    "per_axis_ints",
    "same_upper_padding",
    "shape_tuple",
    "transpose_input_length",
    "validate_flip",
    "validate_groups",
    "validate_method",
]

Boundary = Literal["zeros", "circular", "reflect", "replicate"]
BOUNDARIES: tuple[str, ...] = ("zeros", "circular", "reflect", "replicate")
PADDING_MODES: tuple[str, ...] = ("valid", "same", "same_upper", "full")
PaddingArg = int | str | Sequence[int | Sequence[int]]
IntOrTuple = int | Sequence[int]
Method = Literal["auto", "direct", "fft", "matrix"]


def dilated_span(dilation: Sequence[int], kernel_size: Sequence[int]) -> tuple[int, ...]:
    """Extent ``d·(k − 1) + 1`` of the dilated kernel per axis."""
    return tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel_size, strict=True))


_PADDING_FORMS = (
    "an int, 'valid', 'same', 'same_upper', 'full', or a tuple of {ndim} entries, each an int "
    "or a (lo, hi) pair"
)


def _pad_entry(entry, value, ndim: int) -> tuple[int, int]:
    if is_int(entry):
        lo = hi = int(entry)
    elif isinstance(entry, (tuple, list)) and len(entry) == 2 and all(is_int(v) for v in entry):
        lo, hi = int(entry[0]), int(entry[1])
    else:
        raise TypeError(
            f"padding={value!r} is not understood: use {_PADDING_FORMS.format(ndim=ndim)}"
        )
    if lo < 0 or hi < 0:
        raise ValueError(f"padding={value!r} is not allowed: padding widths must be >= 0")
    check_axis_size((lo, hi), "padding", value)
    return lo, hi


def same_upper_padding(
    spatial_in: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
) -> tuple[tuple[int, int], ...]:
    """``(lo, hi)`` per axis of TensorFlow's ``"SAME"`` rule (ONNX's ``SAME_UPPER``).

    Per axis, for input length ``n``, kernel ``k``, stride ``s`` and dilation ``d``::

        m     = ceil(n / s)
        total = max((m − 1)·s + d·(k − 1) + 1 − n, 0)
        lo    = total // 2,   hi = total − lo        (the odd pixel after)

    The smallest total padding that gives ``m = ceil(n / s)`` outputs: TF/Keras
    ``padding="same"``, JAX's ``"SAME"``, ONNX's ``auto_pad="SAME_UPPER"``.  With stride 1
    it is ``d·(k − 1)``, PyTorch's ``"same"``.
    """
    pads = []
    for n, k, s, d in zip(spatial_in, kernel_size, stride, dilation, strict=True):
        m = -(-n // s)  # ceil(n / s) in integers: exact for any size
        total = max((m - 1) * s + d * (k - 1) + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _normalize_padding(value, ndim, kernel_size, dilation, stride, spatial_in):
    if isinstance(value, str):
        if value not in PADDING_MODES:
            raise ValueError(
                f"padding={value!r} is not a padding mode; use one of {PADDING_MODES}, "
                "an int, or a tuple with one int or (lo, hi) pair per spatial axis"
            )
        spans = [e - 1 for e in dilated_span(dilation, kernel_size)]
        if value == "valid":
            return tuple((0, 0) for _ in spans)
        if value == "full":
            return tuple((t, t) for t in spans)
        if value == "same_upper":
            return same_upper_padding(spatial_in, kernel_size, stride, dilation)
        if any(s != 1 for s in stride):
            raise ValueError(
                f"padding='same' is not supported with stride={stride!r} (as in PyTorch): "
                "the output would not have the input's size; use padding='same_upper' "
                "(TensorFlow's rule: ceil(n / stride) outputs) or pass explicit padding, "
                "e.g. padding=" + repr(tuple((t // 2, t - t // 2) for t in spans))
            )
        return tuple((t // 2, t - t // 2) for t in spans)
    if is_int(value):
        return tuple(_pad_entry(value, value, ndim) for _ in range(ndim))
    if isinstance(value, (tuple, list)):
        if ndim == 1 and len(value) == 2 and all(is_int(v) for v in value):
            return (_pad_entry(tuple(value), value, ndim),)
        if len(value) != ndim:
            raise ValueError(
                f"padding={value!r} has {len(value)} entries; expected {ndim} "
                "(one int or (lo, hi) pair per spatial axis)"
            )
        return tuple(_pad_entry(e, value, ndim) for e in value)
    raise TypeError(f"padding={value!r} is not understood: use {_PADDING_FORMS.format(ndim=ndim)}")


# ----------------------------------------------------------------------------------------
# the geometry
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvGeometry:
    """Normalised parameters and shapes of a convolution ``A`` (or its adjoint).

    Build one with :func:`make_geometry`; every field is already validated.

    Attributes
    ----------
    spatial_in, spatial_out : tuple of int
        Spatial sizes ``n`` of the convolution's input and ``m`` of its output.
    kernel_size : tuple of int
        Spatial kernel sizes ``k``.
    in_channels, out_channels, groups : int
        Channel counts of the convolution (1, 1, 1 for a single-channel kernel).
    multichannel : bool
        Whether shapes carry a leading channel axis (kernel ``(C_out, C_in/groups, *k)``,
        input ``(C_in, *n)``) or not (kernel ``k``, input ``n``).
    stride, dilation : tuple of int
        Per spatial axis.
    padding : tuple of (int, int)
        ``(lo, hi)`` per spatial axis.
    boundary : {"zeros", "circular", "reflect", "replicate"}
        How the padded border is filled.
    flip : bool
        ``True`` reverses the kernel on every spatial axis (signal-processing convolution).
    transposed : bool
        ``False`` for ``A``, ``True`` for ``A*``: only swaps :attr:`input_shape` and
        :attr:`output_shape`; the fields always describe ``A``.
    """

    spatial_in: tuple[int, ...]
    spatial_out: tuple[int, ...]
    kernel_size: tuple[int, ...]
    in_channels: int
    out_channels: int
    groups: int
    multichannel: bool
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    boundary: str
    flip: bool
    transposed: bool = False

    # --- shapes ---------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """Number of spatial axes (1, 2 or 3)."""
        return len(self.spatial_in)

    @property
    def conv_input_shape(self) -> tuple[int, ...]:
        """Shape of the convolution's input ``x`` (with the channel axis if multichannel)."""
        return ((self.in_channels,) if self.multichannel else ()) + self.spatial_in

    @property
    def conv_output_shape(self) -> tuple[int, ...]:
        """Shape of the convolution's output ``y = A x``."""
        return ((self.out_channels,) if self.multichannel else ()) + self.spatial_out

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of what this geometry's operator takes (``y`` when transposed)."""
        return self.conv_output_shape if self.transposed else self.conv_input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of what this geometry's operator returns (``x`` when transposed)."""
        return self.conv_input_shape if self.transposed else self.conv_output_shape

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """Expected shape of the kernel array."""
        if self.multichannel:
            return (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        return self.kernel_size

    @property
    def span(self) -> tuple[int, ...]:
        """Extent ``d·(k − 1) + 1`` of the dilated kernel per axis."""
        return dilated_span(self.dilation, self.kernel_size)

    @property
    def padded_extent(self) -> tuple[int, ...]:
        """Length of the padded input that the output reads: ``(m − 1)·s + d·(k − 1) + 1``.

        It is at most ``n + lo + hi``; trailing padded entries that no output reads are left
        out (they exist when the stride does not divide the padded length).
        """
        return tuple(
            (m - 1) * s + e
            for m, s, e in zip(self.spatial_out, self.stride, self.span, strict=True)
        )

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the operator's matrix on flattened vectors."""
        rows, cols = math.prod(self.output_shape), math.prod(self.input_shape)
        return rows, cols

    def natural_output_length(self) -> tuple[int, ...]:
        """Output sizes before any ``output_padding`` crop: the PyTorch formula."""
        return tuple(
            (n + lo + hi - e) // s + 1
            for n, (lo, hi), e, s in zip(
                self.spatial_in, self.padding, self.span, self.stride, strict=True
            )
        )

    # --- index maps -------------------------------------------------------------------
    def boundary_index(self, axis: int, p: np.ndarray) -> np.ndarray:
        """The input index that padded position ``p`` reads on ``axis``; -1 = a zero.

        ``circular`` wraps (``(p − lo) mod n``), ``reflect`` mirrors without repeating the
        edge, ``replicate`` repeats the edge, ``zeros`` gives -1 outside ``[0, n)``.
        ``p`` is any integer array (the boundary map P, applied entry by entry).
        """
        n = self.spatial_in[axis]
        q = np.asarray(p, dtype=np.int64) - self.padding[axis][0]
        if self.boundary == "zeros":
            return np.where((q >= 0) & (q < n), q, -1)
        if self.boundary == "circular":
            return np.mod(q, n)
        if self.boundary == "replicate":
            return np.clip(q, 0, n - 1)
        # reflect: widths are at most n − 1, so one mirror on each side suffices
        q = np.abs(q)
        return np.where(q > n - 1, 2 * (n - 1) - q, q)

    def pad_source_index(self, axis: int) -> np.ndarray:
        """Input index read by each padded position ``p < padded_extent[axis]``; -1 = zero.

        The boundary map of :meth:`boundary_index` on the whole padded extent (an array
        as long as the padded input: use :meth:`source_table` when only the positions
        the sliding window reads are needed).
        """
        return self.boundary_index(axis, np.arange(self.padded_extent[axis], dtype=np.int64))

    def canonical_kernel(self, kernel: np.ndarray) -> np.ndarray:
        """The kernel as ``(C_out, C_in/groups, *k)`` with ``flip`` applied.

        Every realisation computes the cross-correlation with this array.
        """
        w = kernel if self.multichannel else kernel.reshape((1, 1) + kernel.shape)
        if self.flip:
            w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * self.ndim]
        return w

    def source_table(self, axis: int) -> np.ndarray:
        """The ``(m, k)`` table of input indices read on ``axis``: row ``o``, tap ``t``.

        Entry ``[o, t]`` is the input index that output ``o``'s tap ``t`` reads, i.e. the
        boundary map applied to the padded index ``o·s + t·d``; -1 where it reads a zero
        (the zero boundary's padding).  The matrix builder, the structure counts and the
        pictures all read the sliding window from this one table.
        """
        o = np.arange(self.spatial_out[axis], dtype=np.int64)[:, None] * self.stride[axis]
        t = np.arange(self.kernel_size[axis], dtype=np.int64)[None, :] * self.dilation[axis]
        # mapped entry by entry: the table's size is m·k whatever the stride or padding
        return self.boundary_index(axis, o + t)

    @property
    def fft_shape(self) -> tuple[int, ...]:
        """The FFT grid: the fast length at least the padded extent, per axis.

        Any grid at least as large as the padded input is exact for the sliding window:
        the outputs read ``x̃[o·s + t·d]`` with ``o·s + t·d < padded_extent``, so no
        circular wrap-around reaches them.

        With a stride ``s > 1`` the grid is a multiple of ``s`` when such a fast length is at
        most 25 % longer: then the strided output is a folding of the spectrum and the
        adjoint a replication (:mod:`convops.realisations.fft`), instead of a transform of the whole
        zero-inserted grid.
        """
        from scipy.fft import next_fast_len

        grid = []
        for e, s in zip(self.padded_extent, self.stride, strict=True):
            fast = next_fast_len(e, real=True)
            if s > 1 and fast % s:
                divisible = s * next_fast_len(-(-e // s), real=True)
                if divisible <= 1.25 * fast:
                    fast = divisible
            grid.append(fast)
        return tuple(grid)

    # --- derived geometries -----------------------------------------------------------
    def transpose(self) -> ConvGeometry:
        """The same convolution seen from the other side (input and output swapped)."""
        return replace(self, transposed=not self.transposed)

    @property
    def T(self) -> ConvGeometry:
        return self.transpose()

    def __str__(self) -> str:
        name = "ConvTranspose" if self.transposed else "Conv"
        pads = ", ".join(f"({lo}, {hi})" for lo, hi in self.padding)
        extra = f", groups={self.groups}" if self.groups != 1 else ""
        return (
            f"{name}{self.ndim}d: {self.input_shape} -> {self.output_shape}, kernel "
            f"{self.kernel_shape}, stride={self.stride}, padding=({pads}), "
            f"dilation={self.dilation}, boundary={self.boundary!r}, flip={self.flip}{extra}"
        )


def make_geometry(
    kernel_shape: Sequence[int],
    input_shape: Sequence[int],
    *,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    boundary: str = "zeros",
    flip: bool = False,
    output_size: Sequence[int] | None = None,
) -> ConvGeometry:
    r"""Validate and normalise the parameters of a convolution.

    Parameters
    ----------
    kernel_shape : tuple of int
        ``k`` (single channel, as many axes as ``input_shape``) or
        ``(C_out, C_in/groups, *k)`` (one axis more than ``input_shape``).
    input_shape : tuple of int
        The convolution's input: ``n`` or ``(C_in, *n)``, 1 to 3 spatial axes.
    stride, dilation : int or tuple of int
        ``>= 1``; one value, or one per spatial axis.
    padding : int, str or tuple
        ``"valid"`` (none); ``"same"`` (PyTorch's rule: total ``d·(k − 1)``,
        ``lo = total // 2``, ``hi = total − lo``; stride 1 only); ``"same_upper"``
        (TensorFlow's rule, any stride, see Notes); ``"full"`` (``d·(k − 1)`` each side); an
        int; or one int or ``(lo, hi)`` pair per axis (in 1D a bare ``(lo, hi)`` pair is
        accepted too).
    groups : int
        Divides both channel counts; 1 for single-channel kernels.
    boundary : {"zeros", "circular", "reflect", "replicate"}
        Fill of the padded border. Widths per side: circular ``<= n``, reflect ``<= n − 1``.
    flip : bool
        Reverse the kernel on every spatial axis (convolution instead of correlation).
    output_size : tuple of int, optional
        Keep only the first ``output_size`` outputs per axis (``conv_transpose``'s
        ``output_padding``: the adjoint of the convolution cropped to this size). Each entry
        must lie between 1 and the natural output length.

    Returns
    -------
    ConvGeometry

    Raises
    ------
    ValueError, TypeError
        With the parameter's name, the value given and what is allowed.

    Notes
    -----
    ``padding="same_upper"`` is TensorFlow's ``"SAME"`` (Keras' ``padding="same"``, JAX's
    ``"SAME"``, ONNX's ``auto_pad="SAME_UPPER"``): per axis, for input length ``n``,

    .. math::

        m = \lceil n / s \rceil, \qquad
        \text{total} = \max\bigl((m - 1)\,s + d\,(k - 1) + 1 - n,\ 0\bigr), \qquad
        lo = \lfloor \text{total} / 2 \rfloor, \quad hi = \text{total} - lo,

    the least padding that gives ``m = ceil(n / s)`` outputs, the odd pixel after (JAX's
    ``"SAME_LOWER"`` would put it before).  It depends on ``n``, and with stride 1 it equals
    ``"same"`` (PyTorch's split of ``d·(k − 1)``); with strides, PyTorch has no such rule
    and ``"same"`` is refused.  The widths per side are at most ``d·(k − 1)``; the boundary
    modes' width limits apply as to any padding.
    """
    kernel_shape = shape_tuple(kernel_shape, "kernel shape")
    input_shape = shape_tuple(input_shape, "input_shape")
    check_elements(math.prod(kernel_shape), "kernel shape", kernel_shape, "the kernel")
    check_elements(math.prod(input_shape), "input_shape", input_shape, "the input")
    validate_flip(flip)
    if not isinstance(boundary, str) or boundary not in BOUNDARIES:
        raise ValueError(f"boundary={boundary!r} is not a boundary mode; use one of {BOUNDARIES}")
    groups = validate_groups(groups)

    if len(kernel_shape) == len(input_shape):
        multichannel = False
        spatial_in, kernel_size = input_shape, kernel_shape
        in_channels = out_channels = 1
        if groups != 1:
            raise ValueError(
                f"groups={groups} needs a multi-channel kernel of shape (C_out, C_in/groups, *k); "
                f"the kernel {kernel_shape} has as many axes as the input {input_shape} "
                "and is single-channel"
            )
    elif len(kernel_shape) == len(input_shape) + 1:
        multichannel = True
        in_channels, spatial_in = input_shape[0], input_shape[1:]
        out_channels, cin_g, kernel_size = kernel_shape[0], kernel_shape[1], kernel_shape[2:]
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"groups={groups} must divide both channel counts: input has "
                f"{in_channels} channels, the kernel {out_channels} output channels"
            )
        if cin_g * groups != in_channels:
            raise ValueError(
                f"the kernel's shape {kernel_shape} expects {cin_g * groups} input channels "
                f"(C_in/groups = {cin_g}, groups = {groups}), but input_shape {input_shape} has "
                f"{in_channels}; a kernel for this input has shape "
                f"({out_channels}, {in_channels // groups}, *k)"
            )
    else:
        raise ValueError(
            f"kernel of shape {kernel_shape} does not fit input_shape {input_shape}: a "
            "single-channel kernel has as many axes as the input, a multi-channel kernel "
            "(C_out, C_in/groups, *k) one more than the input (C_in, *spatial)"
        )
    ndim = len(spatial_in)
    validate_spatial_axes(ndim, "input_shape", input_shape)

    stride = per_axis_ints(stride, "stride", ndim, 1)
    dilation = per_axis_ints(dilation, "dilation", ndim, 1)
    pads = _normalize_padding(padding, ndim, kernel_size, dilation, stride, spatial_in)

    for axis, ((lo, hi), n) in enumerate(zip(pads, spatial_in, strict=True)):
        widest = {"circular": n, "reflect": n - 1}.get(boundary)
        if widest is not None and max(lo, hi) > widest:
            raise ValueError(
                f"padding={padding!r} is too wide for boundary={boundary!r} on axis {axis} of "
                f"length {n}: {boundary} padding allows at most {widest} per side"
            )

    spans = dilated_span(dilation, kernel_size)
    natural = []
    for axis, (n, (lo, hi), e, s) in enumerate(zip(spatial_in, pads, spans, stride, strict=True)):
        if n + lo + hi < e:
            raise ValueError(
                f"the kernel does not fit the input (input_shape {input_shape}, padding "
                f"{padding!r}): on axis {axis} the padded input has length "
                f"{n} + {lo} + {hi} = {n + lo + hi} but the dilated kernel spans {e} "
                f"(kernel {kernel_size[axis]}, dilation {dilation[axis]}); "
                "pad more or use a smaller kernel or dilation"
            )
        natural.append((n + lo + hi - e) // s + 1)
    # the output must be representable; the padded input need not be (the zero boundary
    # never builds it, and the others are refused by the memory limit when they would)
    check_elements(out_channels * math.prod(natural), "padding", padding, "the output")

    if output_size is None:
        spatial_out = tuple(natural)
    else:
        spatial_out = shape_tuple(output_size, "output_size")
        if len(spatial_out) != ndim or any(
            m > q for m, q in zip(spatial_out, natural, strict=True)
        ):
            raise ValueError(
                f"output_size={tuple(output_size)!r} is not allowed: it needs {ndim} entries, "
                f"each between 1 and the natural output length {tuple(natural)}"
            )

    return ConvGeometry(
        spatial_in=tuple(spatial_in),
        spatial_out=spatial_out,
        kernel_size=tuple(kernel_size),
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        multichannel=multichannel,
        stride=stride,
        dilation=dilation,
        padding=pads,
        boundary=boundary,
        flip=bool(flip),
    )


def transpose_input_length(
    spatial_out: Sequence[int],
    kernel_size: Sequence[int],
    *,
    stride: IntOrTuple = 1,
    padding: PaddingArg = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    allow_string_padding: bool = True,
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Spatial sizes of a transposed convolution's output (the convolution's input).

    ``n = (m − 1)·s − lo − hi + d·(k − 1) + output_padding + 1`` per axis, the PyTorch
    ``conv_transpose`` formula.  Returns ``(n, pads)``, the sizes and the ``(lo, hi)`` pair
    per axis.  When ``output_padding >= stride`` (possible when dilation > stride) the
    convolution on ``n`` has more than ``m`` outputs and is cropped back to ``m``.

    ``padding="same_upper"`` depends on ``n`` itself; there ``n = (m − 1)·s + 1 +
    output_padding``: the smallest input whose ``ceil(n / s)`` outputs are ``m``, plus
    ``output_padding`` (``output_padding = s − 1`` gives ``n = m·s``, Keras' default for
    ``Conv*DTranspose(padding="same")``).  With stride 1 that is ``n = m``, as for ``"same"``.

    ``output_padding`` must satisfy ``0 <= output_padding < max(stride, dilation)``.
    """
    spatial_out = tuple(spatial_out)
    ndim = len(spatial_out)
    stride = per_axis_ints(stride, "stride", ndim, 1)
    dilation = per_axis_ints(dilation, "dilation", ndim, 1)
    if isinstance(padding, str) and not allow_string_padding:
        raise ValueError(
            f"padding={padding!r} is not allowed in conv_transpose{ndim}d (as in PyTorch); "
            "pass an int or a tuple of ints"
        )
    out_pad = per_axis_ints(output_padding, "output_padding", ndim, 0)
    for op_, s, d in zip(out_pad, stride, dilation, strict=True):
        if op_ >= max(s, d):
            raise ValueError(
                f"output_padding={output_padding!r} is not allowed: each entry must be smaller "
                f"than max(stride, dilation) = {max(s, d)} on its axis"
            )
    if isinstance(padding, str) and padding == "same_upper":
        # the padding depends on n, so n comes first: the least n with ceil(n / s) = m
        sizes = [
            (m - 1) * s + 1 + op_ for m, s, op_ in zip(spatial_out, stride, out_pad, strict=True)
        ]
        _check_transpose_elements(sizes, stride, dilation)
        return tuple(sizes), same_upper_padding(sizes, kernel_size, stride, dilation)
    pads = _normalize_padding(padding, ndim, tuple(kernel_size), dilation, stride, None)
    sizes = []
    for m, k, s, d, (lo, hi), op_ in zip(
        spatial_out, kernel_size, stride, dilation, pads, out_pad, strict=True
    ):
        n = (m - 1) * s - lo - hi + d * (k - 1) + op_ + 1
        if n < 1:
            raise ValueError(
                f"padding={padding!r} is too large for an input of spatial size "
                f"{spatial_out}: the transposed convolution's output would have size {n} "
                "on some axis; use less padding"
            )
        sizes.append(n)
    _check_transpose_elements(sizes, stride, dilation)
    return tuple(sizes), pads


def _check_transpose_elements(
    sizes: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> None:
    if math.prod(sizes) > MAX_ELEMENTS:
        raise ValueError(
            f"stride={stride!r} and dilation={dilation!r} are too large for this transposed "
            f"convolution: its output would have spatial size {tuple(sizes)}, "
            f"{math.prod(sizes)} entries per channel, more than any array can hold "
            f"(at most 2**59); use smaller values"
        )
