r"""The kernel spectrum Ĥ, and convolutions applied to spectra (spectrum in, spectrum out).

Everything here is exact (to rounding) and says on which grid it lives.

The kernel spectrum
-------------------
On a grid of ``N`` points per axis, the circular cross-correlation with a kernel ``w``
dilated by ``d``, ``z[j] = Σ_t w[t]·x[(j + t·d) mod N]``, is a multiplication in the
frequency domain (``X̂ = fftn(x)``, ``X̂(f) = Σ_j x[j]·e^{−2πi f·j/N}``):

.. math:: \hat Z(f) = \hat H(f)\,\hat X(f),\qquad \hat H(f) = \sum_t w[t]\,e^{+2\pi i f\cdot t d/N}.

Ĥ is the *multiplier of the forward map* (:func:`kernel_spectrum`); for a real kernel it is
``conj(fftn(w_d, N))``, and ``fftn(w_d, N)`` itself with ``flip=True`` (true convolution).
The adjoint multiplies by ``conj(Ĥ)``.  With channels Ĥ(f) is a ``C_out × C_in`` matrix per
frequency, block-diagonal over the groups; the adjoint multiplies by its conjugate transpose.

Spectrum in, spectrum out (circular on the given grid)
-------------------------------------------------------
Per axis, subsampling ``y[o] = z[o·s]`` (``N = s·M``, ``o < M``) *folds* the spectrum, and
zero insertion ``x[o·s] = y[o]`` (zeros elsewhere) *replicates* it:

.. math:: \hat Y(f) = \frac1s \sum_{r=0}^{s-1} \hat Z(f + rM),\qquad
          \hat X(f) = \hat Y(f \bmod M),\qquad 0 \le f < M \text{ resp. } N.

So the strided circular convolution is ``Ŷ = fold_s(Ĥ·X̂)`` and its adjoint
``X̂ = conj(Ĥ)ᵀ·tile_s(Ŷ)`` (:func:`strided_conv_spectrum`,
:func:`strided_conv_transpose_spectrum`); stride 1 gives :func:`circular_conv_spectrum`
and :func:`circular_conv_transpose_spectrum`.  These are the convops operators with
``boundary="circular"`` and padding ``(0, d·(k − 1))`` per axis (``(d·(k − 1), 0)`` with
``flip=True``) on an input of size ``N``.  A *linear* (zero-padded) convolution is obtained
by zero-padding first: place ``x`` at offset ``lo`` in a grid of size ``N >= n + lo + hi``
(a multiple of the stride), transform, apply, invert, and keep the first ``m`` outputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .._validate import (
    as_numeric_array,
    normalize_dtype,
    per_axis_ints,
    shape_tuple,
    validate_bool,
    validate_flip,
    validate_groups,
    validate_spatial_axes,
)
from ..geometry import dilated_span, make_geometry
from ..realisations.fft import dilated_spectrum, group_blocks, mix_blocks
from ..realisations.workspace import check_work

__all__ = [
    "circular_conv_spectrum",
    "circular_conv_transpose_spectrum",
    "kernel_spectrum",
    "strided_conv_spectrum",
    "strided_conv_transpose_spectrum",
]


def kernel_spectrum(
    kernel: npt.ArrayLike,
    shape: int | Sequence[int],
    *,
    dilation: int | Sequence[int] = 1,
    flip: bool = False,
    centered: bool = False,
) -> np.ndarray:
    r"""The kernel spectrum Ĥ on the grid ``shape``: the multiplier of the forward map.

    For the default cross-correlation (``flip=False``)

    .. math:: \hat H(f) = \sum_t w[t]\, e^{+2\pi i\, f\cdot (t d)/N},

    so that the circular cross-correlation ``y[o] = Σ_t w[t]·x[(o + t·d) mod N]`` is
    ``Ŷ = Ĥ·X̂`` (``X̂ = fftn(x)``).  For a real kernel this is ``conj(fftn(w_d, N))``, with
    ``w_d`` the dilated kernel (``w[t]`` at ``t·d``, zeros between).  With ``flip=True`` it
    is ``fftn(w_d, N)``, the multiplier of the circular convolution
    ``y[o] = Σ_t w[t]·x[(o − t·d) mod N]``.  The adjoint multiplies by ``conj(Ĥ)``.

    Parameters
    ----------
    kernel : array_like
        ``k`` (single channel, ``kernel.ndim == len(shape)``) or ``(C_out, C_in/groups, *k)``
        (``kernel.ndim == len(shape) + 2``).  May be complex.
    shape : tuple of int
        The spatial grid ``N``, one size per spatial axis (1 to 3), each at least the dilated
        kernel extent ``d·(k − 1) + 1``.
    dilation : int or tuple of int
        ``d >= 1``, one value or one per spatial axis.
    flip : bool
        ``False``: cross-correlation (deep learning); ``True``: convolution.
    centered : bool
        Apply ``numpy.fft.fftshift`` on the spatial axes: frequency ``f`` (in ``fftfreq``
        order, ``f = 0, 1, …, ⌈N/2⌉ − 1, −⌊N/2⌋, …, −1``) moves to index ``f + ⌊N/2⌋``, so
        the zero frequency sits at index ``N // 2`` and frequencies increase left to right
        from ``−⌊N/2⌋``.  Undo with ``numpy.fft.ifftshift``.

    Returns
    -------
    ndarray, complex
        Shape ``shape`` (single channel) or ``(C_out, C_in/groups, *shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, 2.0, 3.0])
    >>> np.allclose(kernel_spectrum(w, (8,)), np.conj(np.fft.fft(w, 8)))
    True
    >>> np.allclose(kernel_spectrum(w, (8,), flip=True), np.fft.fft(w, 8))
    True
    """
    kernel = as_numeric_array(kernel, "kernel")
    grid = shape_tuple(shape, "shape")
    D = validate_spatial_axes(len(grid), "shape", grid)
    if kernel.ndim not in (D, D + 2):
        raise ValueError(
            f"kernel of shape {kernel.shape} does not fit shape={grid!r}: a single-channel "
            f"kernel has {D} axes (one per spatial axis), a multi-channel kernel "
            f"(C_out, C_in/groups, *k) has {D + 2}"
        )
    if kernel.size == 0:
        raise ValueError(f"kernel of shape {kernel.shape} is empty")
    flip = validate_flip(flip)
    centered = validate_bool(centered, "centered")
    dilations = per_axis_ints(dilation, "dilation", D, 1)
    ksize = kernel.shape[-D:]
    spans = dilated_span(dilations, ksize)
    for axis, (n, e) in enumerate(zip(grid, spans, strict=True)):
        if n < e:
            raise ValueError(
                f"shape={grid!r} is too small on axis {axis}: the grid size {n} must be at "
                f"least the dilated kernel extent d·(k − 1) + 1 = {e} (kernel {ksize[axis]}, "
                f"dilation {dilations[axis]})"
            )
    w = kernel.astype(normalize_dtype(kernel.dtype), copy=False)
    # the dilated kernel on the grid, its transform and the result: three grid-sized arrays
    points = math.prod(grid) * math.prod(w.shape[: w.ndim - len(grid)])
    check_work(3 * 16 * points, f"the kernel spectrum on the grid {grid}")
    if flip:  # Σ_t w[t] e^{−2πi f·t·d/N} = conj(Σ_t conj(w[t]) e^{+2πi f·t·d/N})
        h = np.conj(dilated_spectrum(np.conj(w), dilations, grid))
    else:
        h = dilated_spectrum(w, dilations, grid)
    if centered:
        h = np.fft.fftshift(h, axes=tuple(range(-D, 0)))
    return h


# ----------------------------------------------------------------------------------------
# spectrum in, spectrum out
# ----------------------------------------------------------------------------------------
def _spectral_setup(
    spec: npt.ArrayLike,
    kernel: npt.ArrayLike,
    stride: int | Sequence[int],
    dilation: int | Sequence[int],
    groups: int,
    flip: bool,
    *,
    name: str,
    transposed: bool,
) -> tuple[np.ndarray, np.ndarray, int, tuple[int, ...], bool]:
    """Validate the arguments of the spectrum-in/out functions.

    Returns ``(z, h, groups, stride, multichannel)``: the given spectrum as a
    ``(1, C, *grid)`` array, Ĥ as ``(C_out, C_in/G, *N)`` on the convolution's input grid
    ``N``, the number of channel groups and the per-axis strides.
    """
    spec = as_numeric_array(spec, name)
    kernel = as_numeric_array(kernel, "kernel")
    if kernel.ndim == spec.ndim:
        D, multichannel = spec.ndim, False
    elif kernel.ndim == spec.ndim + 1:
        D, multichannel = spec.ndim - 1, True
    else:
        raise ValueError(
            f"kernel of shape {kernel.shape} does not fit {name} of shape {spec.shape}: a "
            f"single-channel kernel has as many axes as {name}, a multi-channel kernel "
            f"(C_out, C_in/groups, *k) one more than {name} (channels, *spatial)"
        )
    validate_spatial_axes(D, f"{name} of shape", spec.shape)
    strides = per_axis_ints(stride, "stride", D, 1)
    dilations = per_axis_ints(dilation, "dilation", D, 1)
    groups = validate_groups(groups)
    flip = validate_flip(flip)
    given = spec.shape[spec.ndim - D :]
    grid = tuple(q * s for q, s in zip(given, strides, strict=True)) if transposed else given
    if not transposed:
        for axis, (n, s) in enumerate(zip(grid, strides, strict=True)):
            if n % s:
                up = -(-n // s) * s
                raise ValueError(
                    f"{name} has size {n} on spatial axis {axis}, which stride={s} does not "
                    f"divide: spectral folding needs N = s·M. Zero-pad x by {up - n} at the end "
                    f"(to {up}) before the DFT (the circular convolution then lives on the "
                    f"grid of {up}), or crop it to {n - n % s}"
                )
    spans = dilated_span(dilations, kernel.shape[kernel.ndim - D :])
    for axis, (n, e) in enumerate(zip(grid, spans, strict=True)):
        if n < e:
            raise ValueError(
                f"{name} of shape {spec.shape} gives the grid {grid}, too small on spatial axis "
                f"{axis}: it must be at least the dilated kernel extent d·(k − 1) + 1 = {e}"
            )
    pads = [(e - 1, 0) if flip else (0, e - 1) for e in spans]
    if multichannel:
        # the convolution's input channels: X's own, or (given Y) groups × C_in/groups
        cin = groups * kernel.shape[1] if transposed else spec.shape[0]
        in_shape = (cin, *grid)
    else:
        in_shape = grid
    # the geometry checks that groups divide the channels and that the kernel fits the grid
    try:
        geometry = make_geometry(
            kernel.shape,
            in_shape,
            stride=strides,
            dilation=dilations,
            groups=groups,
            flip=flip,
            padding=pads,
            boundary="circular",
        )
    except ValueError as exc:
        raise ValueError(f"{exc} (the convolution's input here has shape {in_shape})") from None
    if transposed and multichannel and spec.shape[0] != geometry.out_channels:
        raise ValueError(
            f"{name} has {spec.shape[0]} channels but the kernel {kernel.shape} has "
            f"{geometry.out_channels} output channels"
        )
    h = kernel_spectrum(kernel, grid, dilation=dilations, flip=flip)
    if not multichannel:
        h = h.reshape((1, 1, *grid))
    z = spec.reshape((1,) + ((1,) if not multichannel else ()) + spec.shape)
    return z, h, geometry.groups, strides, multichannel


def _fold(Z: np.ndarray, stride: Sequence[int]) -> np.ndarray:
    """Spectrum of ``z[::s]`` from that of ``z``: alias sum over ``s`` shifted copies, ``/ s``."""
    D = len(stride)
    for a, s in enumerate(stride):
        if s == 1:
            continue
        ax = Z.ndim - D + a
        moved = np.moveaxis(Z, ax, -1)
        M = moved.shape[-1] // s
        # index f + r·M of the length-N axis is (r, f) of an (s, M) reshape
        moved = moved.reshape(moved.shape[:-1] + (s, M)).sum(axis=-2) / s
        Z = np.moveaxis(moved, -1, ax)
    return Z


def _replicate(Y: np.ndarray, stride: Sequence[int]) -> np.ndarray:
    """Spectrum of the zero-inserted ``y`` (``x[o·s] = y[o]``): ``Ŷ`` tiled ``s`` times."""
    D = len(stride)
    return np.tile(Y, (1,) * (Y.ndim - D) + tuple(stride))


def _finish(out: np.ndarray, multichannel: bool) -> np.ndarray:
    return out[0] if multichannel else out[0, 0]


def strided_conv_spectrum(
    X: npt.ArrayLike,
    kernel: npt.ArrayLike,
    stride: int | Sequence[int] = 1,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> np.ndarray:
    r"""DFT of a strided circular convolution, from the DFT of its input: spectral folding.

    With ``X̂ = fftn(x)`` over the spatial axes of ``x`` (size ``N = s·M`` per axis), returns
    ``Ŷ = fftn(y)`` of size ``M`` for the circular cross-correlation followed by
    subsampling, ``y[o] = Σ_t w[t]·x[(o·s + t·d) mod N]`` (``o < M``;
    ``x[(o·s − t·d) mod N]`` with ``flip=True``):

    .. math:: \hat Y(f) = \frac{1}{s^D}\sum_{r} \hat H(f + rM)\,\hat X(f + rM),
              \quad r \in \{0,…,s−1\}^D,

    the ``s``-fold alias sum per axis.  This is ``conv(x, kernel, stride=s,
    boundary="circular", padding=(0, d·(k − 1)))`` per axis (``(d·(k − 1), 0)`` with
    ``flip=True``), computed without leaving the frequency domain.

    Parameters
    ----------
    X : array_like, complex
        ``fftn`` of the input over its spatial axes: shape ``N`` (single-channel kernel) or
        ``(C_in, *N)``.  Every ``N`` must be divisible by its stride and at least the dilated
        kernel extent ``d·(k − 1) + 1``.
    kernel : array_like
        ``k`` (``kernel.ndim == X.ndim``) or ``(C_out, C_in/groups, *k)``.
    stride, dilation : int or tuple of int
        Per spatial axis.
    groups : int
        Channel groups (multi-channel kernels only).
    flip : bool
        Convolution instead of cross-correlation.

    Returns
    -------
    ndarray, complex
        ``Ŷ``, shape ``M = N / s`` or ``(C_out, *M)``.

    Raises
    ------
    ValueError
        When ``N`` is not divisible by the stride, naming the zero-padding that makes it so.

    Examples
    --------
    A *linear* (zero-padded) strided convolution: place ``x`` on a grid large enough that no
    output wraps around (``N >= n + lo + hi``, a multiple of the stride), then crop.

    >>> import numpy as np, convops
    >>> x, w = np.arange(7.0), np.array([1.0, -2.0, 1.0])
    >>> xz = np.zeros(10); xz[1:8] = x                      # padding (1, 1), grid 10
    >>> Y = strided_conv_spectrum(np.fft.fft(xz), w, 2)
    >>> y = np.fft.ifft(Y).real[:4]                          # m = (7 + 2 − 3) // 2 + 1
    >>> np.allclose(y, convops.conv(x, w, stride=2, padding=1))
    True
    """
    z, h, G, strides, mc = _spectral_setup(
        X, kernel, stride, dilation, groups, flip, name="X", transposed=False
    )
    return _finish(_fold(mix_blocks(group_blocks(h, G, False), z), strides), mc)


def strided_conv_transpose_spectrum(
    Y: npt.ArrayLike,
    kernel: npt.ArrayLike,
    stride: int | Sequence[int] = 1,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> np.ndarray:
    r"""DFT of a strided transposed circular convolution: spectral replication, then conj(Ĥ).

    The adjoint of :func:`strided_conv_spectrum`.  Zero insertion ``u[o·s] = y[o]`` tiles the
    spectrum, ``Û(f) = Ŷ(f mod M)`` (``s`` copies per axis), and the transposed
    convolution multiplies by the conjugate (transposed) spectrum:

    .. math:: \hat X(f) = \hat H(f)^H\, \hat Y(f \bmod M),\qquad 0 \le f < N = s·M.

    Equal to ``op.H`` of ``ConvOperator(kernel, N, stride=s, boundary="circular",
    padding=(0, d·(k − 1)))`` (``(d·(k − 1), 0)`` with ``flip=True``).

    Parameters
    ----------
    Y : array_like, complex
        ``fftn`` of the convolution's output: shape ``M`` or ``(C_out, *M)``.
    kernel, stride, dilation, groups, flip
        As in :func:`strided_conv_spectrum`; ``s·M`` must be at least the dilated kernel
        extent.

    Returns
    -------
    ndarray, complex
        ``X̂``, shape ``N = s·M`` or ``(C_in, *N)``.
    """
    z, h, G, strides, mc = _spectral_setup(
        Y, kernel, stride, dilation, groups, flip, name="Y", transposed=True
    )
    return _finish(mix_blocks(group_blocks(h, G, True), _replicate(z, strides)), mc)


def circular_conv_spectrum(
    X: npt.ArrayLike,
    kernel: npt.ArrayLike,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> np.ndarray:
    r"""``Ŷ = Ĥ·X̂``: the circular convolution on ``X``'s grid, in the frequency domain.

    ``y[o] = Σ_t w[t]·x[(o + t·d) mod N]`` (``x[(o − t·d) mod N]`` with ``flip=True``), for
    ``o < N``; per frequency a ``C_out × C_in`` block for channels.  The stride-1 case of
    :func:`strided_conv_spectrum` (see there for shapes and the spatial equivalent).
    """
    return strided_conv_spectrum(X, kernel, 1, dilation=dilation, groups=groups, flip=flip)


def circular_conv_transpose_spectrum(
    Y: npt.ArrayLike,
    kernel: npt.ArrayLike,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> np.ndarray:
    r"""``X̂ = Ĥᴴ·Ŷ``: the adjoint of :func:`circular_conv_spectrum` (conjugate spectrum).

    The stride-1 case of :func:`strided_conv_transpose_spectrum`; ``Y`` and the result share
    the grid ``N``.
    """
    return strided_conv_transpose_spectrum(
        Y, kernel, 1, dilation=dilation, groups=groups, flip=flip
    )
