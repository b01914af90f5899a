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

Arrays of other libraries
-------------------------
Every function here takes numpy arrays (and array_likes) and returns numpy arrays, as it
always has; it also takes the arrays of any library implementing the array API standard
(PyTorch, JAX, CuPy, … through ``array_api_compat``) and then computes with that library's
own operations (``xp.fft``, ``xp.matmul``, …): the result is an array of the same library,
on the same device, and gradients flow through it to the kernel and to the spectrum (torch
autograd, ``jax.grad``), so that a frequency-domain (transposed) convolution with a learned
kernel can sit inside a model.

* **dtypes**: the result is complex, in the precision of the operands: float32 or complex64
  in, complex64 out; float64 or complex128 in, complex128 out (a float32 kernel with a
  complex128 spectrum promotes to complex128, as in numpy).  The half precisions (float16,
  bfloat16, complex32) compute in float32 / complex64.  A non-numpy integer or bool array is
  refused with a ``TypeError`` rather than computed in float64; numpy ints still compute in
  float64, as before.
* **mixing**: a numpy array (or list) beside another library's array is treated as a
  constant of that library's computation: converted to it, on its device, in its precision
  (a float64 numpy kernel with a complex64 torch spectrum computes in complex64; a complex
  kernel stays complex).  Arrays of two different libraries (torch and JAX), or of one
  library on two devices, are refused (``TypeError`` resp. ``ValueError``).
* **not supported**: a namespace without the ``fft`` extension, sparse torch tensors, and a
  device whose FFT cannot take the dtype (the library's error becomes a ``TypeError`` naming
  the array, dtype and device).

Shapes, strides and the other parameters are validated as for numpy, with the same errors.
The numpy path is unchanged (same code, same results, bit for bit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .._array_api import AnyArray, Backend, backend_of
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
    kernel: AnyArray,
    shape: int | Sequence[int],
    *,
    dilation: int | Sequence[int] = 1,
    flip: bool = False,
    centered: bool = False,
) -> AnyArray:
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
    kernel : array_like or array-API array
        ``k`` (single channel, ``kernel.ndim == len(shape)``) or ``(C_out, C_in/groups, *k)``
        (``kernel.ndim == len(shape) + 2``).  May be complex.  A numpy array or array_like, or
        an array of another array-API library (PyTorch, JAX, CuPy, …): see "Arrays of other
        libraries" in :mod:`convops.spectral.spectrum`.
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
    ndarray or array of the kernel's library, complex
        Shape ``shape`` (single channel) or ``(C_out, C_in/groups, *shape)``; complex64 for a
        float32 or complex64 kernel, complex128 for float64 or complex128 (numpy ints:
        complex128), on the kernel's device.

    Raises
    ------
    TypeError
        A non-numeric kernel, or an array of another library that the computation cannot
        take (an integer or bool dtype, no ``fft`` extension, a sparse tensor).
    ValueError
        A kernel that does not fit ``shape``, an empty kernel, or a grid smaller than the
        dilated kernel.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, 2.0, 3.0])
    >>> np.allclose(kernel_spectrum(w, (8,)), np.conj(np.fft.fft(w, 8)))
    True
    >>> np.allclose(kernel_spectrum(w, (8,), flip=True), np.fft.fft(w, 8))
    True
    """
    backend = backend_of(kernel=kernel)
    if backend is not None:
        w = backend.operand(kernel, "kernel")
        grid, dilations, flip, centered = _kernel_spectrum_args(
            tuple(w.shape), shape, dilation, flip, centered
        )
        return _kernel_spectrum_xp(backend, w, grid, dilations, flip, centered)
    kernel = as_numeric_array(kernel, "kernel")
    grid, dilations, flip, centered = _kernel_spectrum_args(
        kernel.shape, shape, dilation, flip, centered
    )
    D = len(grid)
    w = kernel.astype(normalize_dtype(kernel.dtype), copy=False)
    if flip:  # Σ_t w[t] e^{−2πi f·t·d/N} = conj(Σ_t conj(w[t]) e^{+2πi f·t·d/N})
        h = np.conj(dilated_spectrum(np.conj(w), dilations, grid))
    else:
        h = dilated_spectrum(w, dilations, grid)
    if centered:
        h = np.fft.fftshift(h, axes=tuple(range(-D, 0)))
    return h


def _kernel_spectrum_args(
    kshape: tuple[int, ...],
    shape: object,
    dilation: object,
    flip: object,
    centered: object,
) -> tuple[tuple[int, ...], tuple[int, ...], bool, bool]:
    """Validate :func:`kernel_spectrum`'s arguments (from the kernel's shape alone).

    Returns ``(grid, dilations, flip, centered)``; refuses a work size over the limit.
    """
    grid = shape_tuple(shape, "shape")
    D = validate_spatial_axes(len(grid), "shape", grid)
    if len(kshape) not in (D, D + 2):
        raise ValueError(
            f"kernel of shape {kshape} does not fit shape={grid!r}: a single-channel "
            f"kernel has {D} axes (one per spatial axis), a multi-channel kernel "
            f"(C_out, C_in/groups, *k) has {D + 2}"
        )
    if math.prod(kshape) == 0:
        raise ValueError(f"kernel of shape {kshape} is empty")
    flip = validate_flip(flip)
    centered = validate_bool(centered, "centered")
    dilations = per_axis_ints(dilation, "dilation", D, 1)
    ksize = kshape[-D:]
    spans = dilated_span(dilations, ksize)
    for axis, (n, e) in enumerate(zip(grid, spans, strict=True)):
        if n < e:
            raise ValueError(
                f"shape={grid!r} is too small on axis {axis}: the grid size {n} must be at "
                f"least the dilated kernel extent d·(k − 1) + 1 = {e} (kernel {ksize[axis]}, "
                f"dilation {dilations[axis]})"
            )
    # the dilated kernel on the grid, its transform and the result: three grid-sized arrays
    points = math.prod(grid) * math.prod(kshape[: len(kshape) - len(grid)])
    check_work(3 * 16 * points, f"the kernel spectrum on the grid {grid}")
    return grid, dilations, flip, centered


def _kernel_spectrum_xp(
    backend: Backend,
    w: Any,
    grid: tuple[int, ...],
    dilations: tuple[int, ...],
    flip: bool,
    centered: bool,
) -> Any:
    r"""Ĥ computed with the kernel's own library (differentiable there), in its precision.

    Without dilation Ĥ is ``N·ifftn(w, N)`` (``fftn(w, N)`` with ``flip``) of the kernel
    zero-padded to the grid.  A dilation ``d`` only reads that spectrum at other
    frequencies, ``Ĥ_d(f) = Ĥ_1(f·d mod N)`` (the exponentials are ``N``-periodic), so no
    dilated kernel is built: no scatter, which JAX's immutable arrays would not allow.
    """
    xp = backend.xp
    D = len(grid)
    axes = tuple(range(w.ndim - D, w.ndim))
    # the array API leaves the FFT of real input to the library: give it complex input
    dtype = backend.complex_dtype(backend.precision_of(w.dtype))
    w = xp.astype(w, dtype)
    # zero-pad with concat rather than the transform's s=: torch's s= path costs
    # milliseconds per call on small kernels (a pad per call, multithreaded), concat microseconds
    for axis, n in zip(axes, grid, strict=True):
        if w.shape[axis] < n:
            shape = (*w.shape[:axis], n - w.shape[axis], *w.shape[axis + 1 :])
            w = xp.concat([w, xp.zeros(shape, dtype=dtype, device=backend.device)], axis=axis)
    if flip:
        h = backend.fft("fftn", w, "kernel", axes=axes)
    else:
        h = backend.fft("ifftn", w, "kernel", axes=axes, norm="forward")
    for axis, d, n in zip(axes, dilations, grid, strict=True):
        if d % n != 1 % n:  # d ≡ 1 (mod N) reads every frequency where it is
            # f·(d mod N) stays below N² (grids pass check_work): no int64 overflow
            index = (np.arange(n, dtype=np.int64) * (d % n)) % n
            h = xp.take(h, xp.asarray(index, device=backend.device), axis=axis)
    if centered:
        h = backend.fft("fftshift", h, "kernel", axes=axes)
    return h


# ----------------------------------------------------------------------------------------
# spectrum in, spectrum out
# ----------------------------------------------------------------------------------------
class _SpectralCall(NamedTuple):
    """A validated call of a spectrum-in/out function, from the shapes alone."""

    grid: tuple[int, ...]  # the convolution's input grid N
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    groups: int
    flip: bool
    multichannel: bool


def _spectral_args(
    sshape: tuple[int, ...],
    kshape: tuple[int, ...],
    stride: object,
    dilation: object,
    groups: object,
    flip: object,
    *,
    name: str,
    transposed: bool,
) -> _SpectralCall:
    """Validate the arguments of the spectrum-in/out functions (``sshape``: the spectrum's)."""
    if len(kshape) == len(sshape):
        D, multichannel = len(sshape), False
    elif len(kshape) == len(sshape) + 1:
        D, multichannel = len(sshape) - 1, True
    else:
        raise ValueError(
            f"kernel of shape {kshape} does not fit {name} of shape {sshape}: a "
            f"single-channel kernel has as many axes as {name}, a multi-channel kernel "
            f"(C_out, C_in/groups, *k) one more than {name} (channels, *spatial)"
        )
    validate_spatial_axes(D, f"{name} of shape", sshape)
    strides = per_axis_ints(stride, "stride", D, 1)
    dilations = per_axis_ints(dilation, "dilation", D, 1)
    groups = validate_groups(groups)
    flip = validate_flip(flip)
    given = sshape[len(sshape) - D :]
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
    spans = dilated_span(dilations, kshape[len(kshape) - D :])
    for axis, (n, e) in enumerate(zip(grid, spans, strict=True)):
        if n < e:
            raise ValueError(
                f"{name} of shape {sshape} gives the grid {grid}, too small on spatial axis "
                f"{axis}: it must be at least the dilated kernel extent d·(k − 1) + 1 = {e}"
            )
    pads = [(e - 1, 0) if flip else (0, e - 1) for e in spans]
    if multichannel:
        # the convolution's input channels: X's own, or (given Y) groups × C_in/groups
        cin = groups * kshape[1] if transposed else sshape[0]
        in_shape = (cin, *grid)
    else:
        in_shape = grid
    # the geometry checks that groups divide the channels and that the kernel fits the grid
    try:
        geometry = make_geometry(
            kshape,
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
    if transposed and multichannel and sshape[0] != geometry.out_channels:
        raise ValueError(
            f"{name} has {sshape[0]} channels but the kernel {kshape} has "
            f"{geometry.out_channels} output channels"
        )
    return _SpectralCall(grid, strides, dilations, geometry.groups, flip, multichannel)


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
    """Validate the arguments of the spectrum-in/out functions (numpy operands).

    Returns ``(z, h, groups, stride, multichannel)``: the given spectrum as a
    ``(1, C, *grid)`` array, Ĥ as ``(C_out, C_in/G, *N)`` on the convolution's input grid
    ``N``, the number of channel groups and the per-axis strides.
    """
    spec = as_numeric_array(spec, name)
    kernel = as_numeric_array(kernel, "kernel")
    call = _spectral_args(
        spec.shape, kernel.shape, stride, dilation, groups, flip, name=name, transposed=transposed
    )
    grid, multichannel = call.grid, call.multichannel
    h = kernel_spectrum(kernel, grid, dilation=call.dilations, flip=call.flip)
    if not multichannel:
        h = h.reshape((1, 1, *grid))
    z = spec.reshape((1,) + ((1,) if not multichannel else ()) + spec.shape)
    return z, h, call.groups, call.strides, multichannel


def _spectral_setup_xp(
    backend: Backend,
    spec: AnyArray,
    kernel: AnyArray,
    stride: int | Sequence[int],
    dilation: int | Sequence[int],
    groups: int,
    flip: bool,
    *,
    name: str,
    transposed: bool,
) -> tuple[Any, Any, _SpectralCall]:
    """:func:`_spectral_setup` for another library's arrays: ``(z, h, call)``.

    ``z`` and ``h`` have the shapes of the numpy path and one complex dtype, the precision
    of the operands (the numpy path's promotion, without numpy).
    """
    xp = backend.xp
    spec = backend.operand(spec, name)
    kernel = backend.operand(kernel, "kernel")
    sshape, kshape = tuple(spec.shape), tuple(kernel.shape)
    call = _spectral_args(
        sshape, kshape, stride, dilation, groups, flip, name=name, transposed=transposed
    )
    _kernel_spectrum_args(kshape, call.grid, call.dilations, call.flip, False)  # the work size
    precision = max(backend.precision_of(spec.dtype), backend.precision_of(kernel.dtype))
    dtype = backend.complex_dtype(precision)
    h = _kernel_spectrum_xp(
        backend, xp.astype(kernel, dtype), call.grid, call.dilations, call.flip, False
    )
    z = xp.astype(spec, dtype)
    if call.multichannel:
        z = xp.reshape(z, (1, *sshape))
    else:
        h = xp.reshape(h, (1, 1, *call.grid))
        z = xp.reshape(z, (1, 1, *sshape))
    return z, h, call


def _mix_xp(xp: Any, h: Any, z: Any, groups: int, adjoint: bool) -> Any:
    """``mix_blocks(group_blocks(h, groups, adjoint), z)`` with the namespace's operations.

    ``h``: ``(C_out, C_in/G, *F)``; ``z``: ``(1, C, *F)``; per frequency and group the block
    Ĥ_g(f) (its conjugate transpose for the adjoint) times the group's channel vector.
    """
    cout, cin_g = h.shape[0], h.shape[1]
    if cout == 1 and cin_g == 1 and z.shape[1] == 1:  # one channel: a pointwise product
        return (xp.conj(h) if adjoint else h) * z
    freq = tuple(h.shape[2:])
    nf = math.prod(freq)
    blocks = xp.permute_dims(xp.reshape(h, (groups, cout // groups, cin_g, nf)), (3, 0, 1, 2))
    if adjoint:  # (F, G, C_in/G, C_out/G)
        blocks = xp.conj(xp.matrix_transpose(blocks))
    c_out, c_in = blocks.shape[2], blocks.shape[3]
    zz = xp.permute_dims(xp.reshape(z, (1, groups, c_in, nf)), (3, 1, 2, 0))  # (F, G, c, 1)
    out = xp.matmul(blocks, zz)  # (F, G, c', 1)
    return xp.reshape(xp.permute_dims(out, (3, 1, 2, 0)), (1, groups * c_out, *freq))


def _fold_xp(xp: Any, Z: Any, stride: Sequence[int]) -> Any:
    """:func:`_fold` with the namespace's operations (reshape and sum, no moveaxis)."""
    D = len(stride)
    for a, s in enumerate(stride):
        if s == 1:
            continue
        ax = Z.ndim - D + a
        shape = tuple(Z.shape)
        # index f + r·M of the length-N axis is (r, f) of an (s, M) reshape
        split = shape[:ax] + (s, shape[ax] // s) + shape[ax + 1 :]
        Z = xp.sum(xp.reshape(Z, split), axis=ax) / s
    return Z


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


def _finish(out: Any, multichannel: bool) -> Any:
    return out[0] if multichannel else out[0, 0]


def strided_conv_spectrum(
    X: AnyArray,
    kernel: AnyArray,
    stride: int | Sequence[int] = 1,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> AnyArray:
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
    X : array_like or array-API array, complex
        ``fftn`` of the input over its spatial axes: shape ``N`` (single-channel kernel) or
        ``(C_in, *N)``.  Every ``N`` must be divisible by its stride and at least the dilated
        kernel extent ``d·(k − 1) + 1``.
    kernel : array_like or array-API array
        ``k`` (``kernel.ndim == X.ndim``) or ``(C_out, C_in/groups, *k)``.  ``X`` and
        ``kernel`` may be numpy arrays or arrays of another array-API library (PyTorch, JAX,
        CuPy, …), also one of each: see "Arrays of other libraries" in
        :mod:`convops.spectral.spectrum`.
    stride, dilation : int or tuple of int
        Per spatial axis.
    groups : int
        Channel groups (multi-channel kernels only).
    flip : bool
        Convolution instead of cross-correlation.

    Returns
    -------
    ndarray or array of the operands' library, complex
        ``Ŷ``, shape ``M = N / s`` or ``(C_out, *M)``; complex64 when both operands are
        single precision (float32 or complex64), complex128 otherwise; on their device.

    Raises
    ------
    ValueError
        When ``N`` is not divisible by the stride, naming the zero-padding that makes it so;
        shapes that do not fit; operands of one library on two devices.
    TypeError
        Non-numeric data; arrays of two libraries; an array the computation cannot take (an
        integer or bool dtype, no ``fft`` extension, a sparse tensor).

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
    backend = backend_of(X=X, kernel=kernel)
    if backend is not None:
        zx, hx, call = _spectral_setup_xp(
            backend, X, kernel, stride, dilation, groups, flip, name="X", transposed=False
        )
        mixed = _mix_xp(backend.xp, hx, zx, call.groups, adjoint=False)
        return _finish(_fold_xp(backend.xp, mixed, call.strides), call.multichannel)
    z, h, G, strides, mc = _spectral_setup(
        X, kernel, stride, dilation, groups, flip, name="X", transposed=False
    )
    return _finish(_fold(mix_blocks(group_blocks(h, G, False), z), strides), mc)


def strided_conv_transpose_spectrum(
    Y: AnyArray,
    kernel: AnyArray,
    stride: int | Sequence[int] = 1,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> AnyArray:
    r"""DFT of a strided transposed circular convolution: spectral replication, then conj(Ĥ).

    The adjoint of :func:`strided_conv_spectrum`.  Zero insertion ``u[o·s] = y[o]`` tiles the
    spectrum, ``Û(f) = Ŷ(f mod M)`` (``s`` copies per axis), and the transposed
    convolution multiplies by the conjugate (transposed) spectrum:

    .. math:: \hat X(f) = \hat H(f)^H\, \hat Y(f \bmod M),\qquad 0 \le f < N = s·M.

    Equal to ``op.H`` of ``ConvOperator(kernel, N, stride=s, boundary="circular",
    padding=(0, d·(k − 1)))`` (``(d·(k − 1), 0)`` with ``flip=True``).

    Parameters
    ----------
    Y : array_like or array-API array, complex
        ``fftn`` of the convolution's output: shape ``M`` or ``(C_out, *M)``.
    kernel, stride, dilation, groups, flip
        As in :func:`strided_conv_spectrum` (numpy or any array-API library, see there);
        ``s·M`` must be at least the dilated kernel extent.

    Returns
    -------
    ndarray or array of the operands' library, complex
        ``X̂``, shape ``N = s·M`` or ``(C_in, *N)``, with the dtype and device rules of
        :func:`strided_conv_spectrum`.

    Raises
    ------
    ValueError, TypeError
        As in :func:`strided_conv_spectrum`.

    Examples
    --------
    The same call on torch tensors returns a tensor, and autograd reaches the kernel:

    >>> import torch  # doctest: +SKIP
    >>> w = torch.tensor([1.0, 2.0, 1.0], requires_grad=True)  # doctest: +SKIP
    >>> X = strided_conv_transpose_spectrum(torch.fft.fft(torch.ones(4)), w, 2)  # doctest: +SKIP
    >>> X.dtype, X.shape  # doctest: +SKIP
    (torch.complex64, torch.Size([8]))
    >>> torch.fft.ifft(X).real.sum().backward(); w.grad  # doctest: +SKIP
    tensor([4., 4., 4.])
    """
    backend = backend_of(Y=Y, kernel=kernel)
    if backend is not None:
        xp = backend.xp
        zy, hy, call = _spectral_setup_xp(
            backend, Y, kernel, stride, dilation, groups, flip, name="Y", transposed=True
        )
        tiled = xp.tile(zy, (1,) * (zy.ndim - len(call.strides)) + call.strides)
        return _finish(_mix_xp(xp, hy, tiled, call.groups, adjoint=True), call.multichannel)
    z, h, G, strides, mc = _spectral_setup(
        Y, kernel, stride, dilation, groups, flip, name="Y", transposed=True
    )
    return _finish(mix_blocks(group_blocks(h, G, True), _replicate(z, strides)), mc)


def circular_conv_spectrum(
    X: AnyArray,
    kernel: AnyArray,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> AnyArray:
    r"""``Ŷ = Ĥ·X̂``: the circular convolution on ``X``'s grid, in the frequency domain.

    ``y[o] = Σ_t w[t]·x[(o + t·d) mod N]`` (``x[(o − t·d) mod N]`` with ``flip=True``), for
    ``o < N``; per frequency a ``C_out × C_in`` block for channels.  The stride-1 case of
    :func:`strided_conv_spectrum` (see there for shapes, the spatial equivalent and the
    arrays of other libraries it takes).
    """
    return strided_conv_spectrum(X, kernel, 1, dilation=dilation, groups=groups, flip=flip)


def circular_conv_transpose_spectrum(
    Y: AnyArray,
    kernel: AnyArray,
    *,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    flip: bool = False,
) -> AnyArray:
    r"""``X̂ = Ĥᴴ·Ŷ``: the adjoint of :func:`circular_conv_spectrum` (conjugate spectrum).

    The stride-1 case of :func:`strided_conv_transpose_spectrum`; ``Y`` and the result share
    the grid ``N`` (and, for arrays of other libraries, their library, dtype and device).
    """
    return strided_conv_transpose_spectrum(
        Y, kernel, 1, dilation=dilation, groups=groups, flip=flip
    )
