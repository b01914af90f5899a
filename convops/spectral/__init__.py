r"""The frequency domain, opened up: factorisation, strided spectra, singular values.

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

The factorisation (:func:`factors`, ``ConvOperator.factors()``)
---------------------------------------------------------------
For any boundary, stride, padding, dilation and channels, the FFT realisation writes

.. math:: A = S \cdot C \cdot F^{-1} \cdot \mathrm{diag}(\hat H) \cdot F \cdot Z \cdot P

with, per spatial axis (``n`` input, ``E = (m − 1)·s + d·(k − 1) + 1`` padded extent that the
outputs read, ``N >= E`` the FFT grid ``geometry.fft_shape``, ``m`` outputs):

* ``P`` (``n → E``): boundary padding, ``x̃[p] = x[src(p)]`` (zero, wrapped, mirrored or
  edge source; :meth:`~convops.ConvGeometry.pad_source_index`);
* ``Z`` (``E → N``): zero-padding to the FFT grid;
* ``F``: the plain DFT (``numpy.fft.fftn``, not unitary: ``Fᴴ = N·F⁻¹``), full complex
  transforms so that every factor is linear over ℂ;
* ``diag(Ĥ)``: the kernel spectrum of the (flipped, if ``flip``) kernel on the grid ``N``;
* ``F⁻¹``: the inverse DFT;
* ``C`` (``N → (m − 1)·s + 1``): crop to the part of the grid the outputs sample;
* ``S`` (``(m − 1)·s + 1 → m``): subsample, keep ``o·s`` for ``o < m``.

It is exact for any ``N >= E``: an output reads ``x̃[o·s + t·d]`` with
``o·s + t·d < E <= N``, so no circular wrap-around reaches it.  The adjoint is the reverse
chain (``Fᴴ·diag(Ĥ)ᴴ·F⁻ᴴ = F⁻¹·diag(Ĥ)ᴴ·F``, the factors ``N`` cancel):

.. math:: A^* = P^T \cdot Z^T \cdot F^{-1} \cdot \mathrm{diag}(\hat H)^H \cdot F \cdot C^T \cdot S^T,

``Sᵀ`` inserting ``s − 1`` zeros between samples (upsampling), ``Cᵀ`` zero-padding to
``N``, ``Zᵀ`` cropping to ``E`` and ``Pᵀ`` folding the padded border back onto the input.

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

Singular values and norms
-------------------------
A square block-circulant convolution (circular boundary, stride 1, ``lo + hi = d·(k − 1)``
per axis) is unitarily similar to the block-diagonal matrix of its spectral blocks, so its
singular values are those of the ``C_out/G × C_in/G`` blocks Ĥ(f), over all frequencies and
groups (Sedghi, Gupta & Long, "The Singular Values of Convolutional Layers", ICLR 2019):
:func:`singular_values`.  :func:`operator_norm` uses them where they apply, and otherwise a
dense SVD (small operators) or a Lanczos iteration on ``AᴴA``.
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from typing import Literal, Sequence

import numpy as np
import scipy.fft as sfft
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from ..geometry import (
    ConvGeometry,
    as_numeric_array,
    is_int,
    make_geometry,
    normalize_dtype,
    per_axis_ints,
    shape_tuple,
    validate_flip,
)

__all__ = [
    "kernel_spectrum",
    "factors",
    "FactorChain",
    "Factor",
    "AxisMap",
    "DFT",
    "SpectralMultiplier",
    "circular_conv_spectrum",
    "circular_conv_transpose_spectrum",
    "strided_conv_spectrum",
    "strided_conv_transpose_spectrum",
    "singular_values",
    "operator_norm",
    "MATRIX_LIMIT",
    "DENSE_SVD_LIMIT",
]

#: ``Factor.matrix()`` refuses a DFT factor whose dense ``prod(N) × prod(N)`` block would
#: have more entries than this (64 MiB of complex128).
MATRIX_LIMIT = 2**22

#: :func:`operator_norm` uses a dense SVD when the smaller side of the operator is at most this.
DENSE_SVD_LIMIT = 500


def _dilated(w: np.ndarray, dilation: Sequence[int], grid: Sequence[int]) -> np.ndarray:
    """``w_d`` on the grid: tap ``t`` of the last ``len(grid)`` axes at ``(t·d) mod N``.

    Taps whose dilated position reaches past ``N`` wrap around and add up (the exponentials
    are ``N``-periodic), so any grid is allowed here; the public functions check the size.
    """
    D = len(grid)
    ksize = w.shape[w.ndim - D:]
    wd = np.zeros(w.shape[: w.ndim - D] + tuple(grid), dtype=np.result_type(w.dtype, np.complex64))
    if all(d * (k - 1) < n for d, k, n in zip(dilation, ksize, grid)):
        wd[(Ellipsis,) + tuple(slice(0, d * (k - 1) + 1, d) for d, k in zip(dilation, ksize))] = w
    else:  # aliasing: several taps share a grid point
        for t in np.ndindex(*ksize):
            wd[(Ellipsis,) + tuple((ti * d) % n for ti, d, n in zip(t, dilation, grid))] += w[(Ellipsis,) + t]
    return wd


def _dilated_spectrum(w: np.ndarray, dilation: Sequence[int], grid: Sequence[int]) -> np.ndarray:
    """Ĥ(f) = Σ_t w[..., t]·exp(+2πi f·t·d/N) over the last ``len(grid)`` axes of ``w``."""
    axes = tuple(range(-len(grid), 0))
    # Σ_j w_d[j] e^{+2πi f j / N} is N times the inverse DFT: ifftn with norm="forward"
    return sfft.ifftn(_dilated(w, dilation, grid), axes=axes, norm="forward")


def kernel_spectrum(
    kernel,
    shape: Sequence[int],
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
    shape = shape_tuple(shape, "shape")
    D = len(shape)
    if not 1 <= D <= 3:
        raise ValueError(f"shape={shape!r} has {D} spatial axes; convops handles 1, 2 or 3")
    if kernel.ndim not in (D, D + 2):
        raise ValueError(
            f"kernel of shape {kernel.shape} does not fit shape={shape!r}: a single-channel "
            f"kernel has {D} axes (one per spatial axis), a multi-channel kernel "
            f"(C_out, C_in/groups, *k) has {D + 2}"
        )
    if kernel.size == 0:
        raise ValueError(f"kernel of shape {kernel.shape} is empty")
    validate_flip(flip)
    dilation = per_axis_ints(dilation, "dilation", D, 1)
    ksize = kernel.shape[-D:]
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilation, ksize))
    for axis, (n, e) in enumerate(zip(shape, spans)):
        if n < e:
            raise ValueError(
                f"shape={shape!r} is too small on axis {axis}: the grid size {n} must be at "
                f"least the dilated kernel extent d·(k − 1) + 1 = {e} (kernel {ksize[axis]}, "
                f"dilation {dilation[axis]})"
            )
    w = kernel.astype(normalize_dtype(kernel.dtype), copy=False)
    if flip:  # Σ_t w[t] e^{−2πi f·t·d/N}: the plain DFT of the dilated kernel
        h = sfft.fftn(_dilated(w, dilation, shape), axes=tuple(range(-D, 0)))
    else:
        h = _dilated_spectrum(w, dilation, shape)
    if centered:
        h = np.fft.fftshift(h, axes=tuple(range(-D, 0)))
    return h


# ----------------------------------------------------------------------------------------
# the factors
# ----------------------------------------------------------------------------------------
def _along_axis(M, x: np.ndarray, axis: int) -> np.ndarray:
    """Multiply every 1-D fibre of ``x`` along ``axis`` by the (sparse) matrix ``M``."""
    xt = np.moveaxis(x, axis, 0)
    rest = xt.shape[1:]
    out = M @ xt.reshape(xt.shape[0], -1)
    return np.moveaxis(np.asarray(out).reshape((M.shape[0],) + rest), 0, axis)


def _kron_all(blocks) -> sp.csr_array:
    out = sp.csr_array(np.ones((1, 1)))
    for b in blocks:
        out = sp.kron(out, b, format="csr")
    return sp.csr_array(out)


class Factor(LinearOperator):
    """One factor of a :class:`FactorChain`: a named ``LinearOperator`` with ``matrix()``.

    Acts on flattened vectors (C order over ``(channels, *spatial)``; no channel axis for a
    single-channel operator) like every convops operator; :meth:`apply` takes unflattened
    arrays with leading batch axes.

    Attributes
    ----------
    name : str
        What the factor does, in words.
    symbol : str
        Its letter in the printed formula (``P``, ``Z``, ``F``, ``diag(Ĥ)``, ``F⁻¹``, …).
    input_shape, output_shape : tuple of int
        Unflattened shapes.
    """

    def __init__(self, name, symbol, channels_in, spatial_in, channels_out, spatial_out, dtype, multichannel):
        self.name, self.symbol = name, symbol
        self.multichannel = multichannel
        self._in = (channels_in,) + tuple(spatial_in)
        self._out = (channels_out,) + tuple(spatial_out)
        super().__init__(dtype=np.dtype(dtype), shape=(int(np.prod(self._out)), int(np.prod(self._in))))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._in if self.multichannel else self._in[1:]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self._out if self.multichannel else self._out[1:]

    @property
    def ndim(self) -> int:
        return len(self._in) - 1

    # subclasses implement these on (B, C, *spatial) arrays
    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def matrix(self) -> sp.csr_array:
        """The factor's matrix as a ``scipy.sparse.csr_array``."""
        raise NotImplementedError

    def apply(self, x) -> np.ndarray:
        """Apply to ``x`` of shape ``(*batch, *input_shape)``; returns ``(*batch, *output_shape)``."""
        x = np.asarray(x)
        nd = len(self.input_shape)
        if x.shape[x.ndim - nd:] != self.input_shape:
            raise ValueError(f"x of shape {x.shape} does not end with input_shape {self.input_shape}")
        batch = x.shape[: x.ndim - nd]
        out = self._forward(x.reshape((-1,) + self._in))
        return out.reshape(batch + self.output_shape)

    def _matvec(self, x):
        return self._forward(np.reshape(x, (1,) + self._in)).reshape(-1)

    def _rmatvec(self, y):
        return self._backward(np.reshape(y, (1,) + self._out)).reshape(-1)

    def _matmat(self, X):
        X = np.asarray(X)
        out = self._forward(np.reshape(X.T, (X.shape[1],) + self._in))
        return out.reshape(X.shape[1], -1).T

    def _rmatmat(self, Y):
        Y = np.asarray(Y)
        out = self._backward(np.reshape(Y.T, (Y.shape[1],) + self._out))
        return out.reshape(Y.shape[1], -1).T

    def __repr__(self) -> str:
        return f"<{self.symbol}: {self.name}, {self.input_shape} -> {self.output_shape}>"


class AxisMap(Factor):
    """A separable index map: one small 0/1 matrix per spatial axis, the same on every channel.

    Padding ``P``, zero-padding ``Z``, cropping ``C``, subsampling ``S`` and their transposes
    are all of this form; the full matrix is ``I_C ⊗ M_1 ⊗ … ⊗ M_D``.
    """

    def __init__(self, name, symbol, mats, channels, multichannel):
        self.mats = [sp.csr_array(M) for M in mats]
        super().__init__(
            name, symbol, channels, [M.shape[1] for M in self.mats], channels,
            [M.shape[0] for M in self.mats], np.float64, multichannel,
        )

    def _forward(self, x):
        for a, M in enumerate(self.mats):
            x = _along_axis(M, x, a + 2)
        return x

    def _backward(self, y):
        for a, M in enumerate(self.mats):
            y = _along_axis(M.T, y, a + 2)
        return y

    def transposed(self, name: str, symbol: str) -> "AxisMap":
        """The transposed map (zero insertion for ``S``, fold for ``P``, …)."""
        return AxisMap(name, symbol, [M.T for M in self.mats], self._in[0], self.multichannel)

    def matrix(self) -> sp.csr_array:
        return _kron_all([sp.eye_array(self._in[0], format="csr")] + self.mats)


class DFT(Factor):
    """The plain DFT ``F`` (``fftn``) or its inverse ``F⁻¹`` (``ifftn``) on the spatial axes.

    Not unitary: ``F X̂(f) = Σ_j x[j]·e^{−2πi f·j/N}``, so ``Fᴴ = prod(N)·F⁻¹``.
    """

    def __init__(self, channels, grid, inverse, multichannel):
        self.inverse = bool(inverse)
        name = "inverse DFT (ifftn)" if inverse else "DFT (fftn)"
        symbol = "F⁻¹" if inverse else "F"
        super().__init__(name, symbol, channels, grid, channels, grid, np.complex128, multichannel)

    def _forward(self, x):
        axes = tuple(range(2, x.ndim))
        return (sfft.ifftn if self.inverse else sfft.fftn)(x, axes=axes)

    def _backward(self, y):
        axes = tuple(range(2, y.ndim))
        # Fᴴ = conj(F) = prod(N)·F⁻¹ and (F⁻¹)ᴴ = F / prod(N): the "forward"-normalised pair
        return (sfft.fftn if self.inverse else sfft.ifftn)(y, axes=axes, norm="forward")

    def matrix(self) -> sp.csr_array:
        grid = self._in[1:]
        size = int(np.prod(grid))
        if size * size > MATRIX_LIMIT:
            raise ValueError(
                f"the dense {size}x{size} DFT matrix of the grid {grid} has more than "
                f"MATRIX_LIMIT={MATRIX_LIMIT} entries; apply the factor instead (factor @ x)"
            )
        blocks = []
        for N in grid:
            j = np.arange(N)
            sign = 1.0 if self.inverse else -1.0
            W = np.exp(sign * 2j * np.pi * np.outer(j, j) / N)
            blocks.append(W / N if self.inverse else W)
        return _kron_all([sp.eye_array(self._in[0], format="csr")] + blocks)


class _Channels:
    """Channel counts of a convolution: what the block multiplication needs."""

    def __init__(self, in_channels, out_channels, groups):
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups


def _mix(h: np.ndarray, z: np.ndarray, channels: _Channels, adjoint: bool) -> np.ndarray:
    """Per frequency, multiply the channel vector of ``z`` by Ĥ's block (or its ``ᴴ``).

    ``h`` is ``(C_out, C_in/G, *F)``, ``z`` is ``(B, C, *F)`` with ``C = C_in`` (``C_out``
    when ``adjoint``); the block of frequency ``f`` is block-diagonal over the ``G`` groups.
    """
    G = channels.groups
    cout, cin_g = h.shape[:2]
    freq = h.shape[2:]
    nf = int(np.prod(freq))
    blocks = h.reshape(G, cout // G, cin_g, nf).transpose(3, 0, 1, 2)  # (F, G, Co/G, Ci/G)
    if adjoint:
        blocks = np.conj(np.swapaxes(blocks, 2, 3))
    batch = z.shape[0]
    zz = z.reshape(batch, G, blocks.shape[3], nf).transpose(3, 1, 2, 0)  # (F, G, c, B)
    out = np.matmul(blocks, zz)  # (F, G, c', B)
    return out.transpose(3, 1, 2, 0).reshape((batch, G * blocks.shape[2]) + freq)


class SpectralMultiplier(Factor):
    """``diag(Ĥ)``: per frequency, the ``C_out × C_in`` block of the kernel spectrum.

    The block is zero outside the groups (block-diagonal over groups).  With
    ``adjoint=True`` it is ``diag(Ĥ)ᴴ``: the conjugate transpose of every block.
    """

    def __init__(self, h, in_channels, out_channels, groups, adjoint, multichannel):
        self.h = h
        self.channels = _Channels(in_channels, out_channels, groups)
        self.adjoint = bool(adjoint)
        grid = h.shape[2:]
        cin, cout = (out_channels, in_channels) if adjoint else (in_channels, out_channels)
        if adjoint:
            name, symbol = "multiply by the conjugate (transposed) kernel spectrum", "diag(Ĥ)ᴴ"
        else:
            name, symbol = "multiply by the kernel spectrum", "diag(Ĥ)"
        super().__init__(name, symbol, cin, grid, cout, grid, h.dtype, multichannel)

    def _forward(self, x):
        return _mix(self.h, x, self.channels, self.adjoint)

    def _backward(self, y):
        return _mix(self.h, y, self.channels, not self.adjoint)

    def matrix(self) -> sp.csr_array:
        ch = self.channels
        cout, cin_g = self.h.shape[:2]
        cout_g = cout // ch.groups
        nf = int(np.prod(self.h.shape[2:]))
        co, ci, f = np.meshgrid(np.arange(cout), np.arange(cin_g), np.arange(nf), indexing="ij")
        rows = co * nf + f
        cols = ((co // cout_g) * cin_g + ci) * nf + f
        M = sp.csr_array(
            (self.h.reshape(cout, cin_g, nf).ravel(), (rows.ravel(), cols.ravel())),
            shape=(cout * nf, ch.in_channels * nf),
        )
        return sp.csr_array(M.conj().T) if self.adjoint else M


def _convolution_spectrum(op) -> np.ndarray:
    """Ĥ of the canonical (flipped if ``flip``) kernel on the FFT grid, ``(C_out, C_in/G, *N)``."""
    g = op.geometry
    return _dilated_spectrum(g.canonical_kernel(np.asarray(op.kernel)), g.dilation, g.fft_shape)


class FactorChain(SequenceABC):
    """The factors of a convolution (or its adjoint) in application order.

    ``chain[0]`` is applied first; ``str(chain)`` prints the formula in product order, e.g.
    ``A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P``.  Iterating gives the :class:`Factor` objects.
    """

    def __init__(self, factors: Sequence[Factor], label: str, operator: LinearOperator):
        self.factors = list(factors)
        self.label = label
        self.operator = operator

    def __getitem__(self, i):
        return self.factors[i]

    def __len__(self) -> int:
        return len(self.factors)

    @property
    def formula(self) -> str:
        """``"A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P"`` (product order: last applied first)."""
        return f"{self.label} = " + " · ".join(f.symbol for f in reversed(self.factors))

    def __str__(self) -> str:
        return self.formula

    def __repr__(self) -> str:
        lines = [self.formula, "applied in this order:"]
        width = max(len(f.symbol) for f in self.factors)
        for f in self.factors:
            lines.append(f"  {f.symbol:<{width}}  {f.input_shape} -> {f.output_shape}  {f.name}")
        return "\n".join(lines)

    def product(self) -> LinearOperator:
        """A ``LinearOperator`` applying the factors one after another: equal to the operator.

        For a real operator and a real vector it returns the real part (the imaginary part
        of the complex chain is rounding error), so its dtype is the operator's.
        """
        return _ChainProduct(self)

    def matrix(self) -> np.ndarray:
        """The product of the factors' matrices (dense), equal to ``op.matrix()``.

        Real part only for a real operator (the imaginary part is rounding error).  Refused
        when a DFT factor is too large (:data:`MATRIX_LIMIT`).
        """
        M = self.factors[0].matrix().toarray()
        for f in self.factors[1:]:
            F = f.matrix()
            # the DFT factors are dense: multiply those with BLAS, the index maps as sparse
            M = (F.toarray() if F.nnz > 0.1 * F.shape[0] * F.shape[1] else F) @ M
        return M.real.copy() if np.dtype(self.operator.dtype).kind != "c" else M


class _ChainProduct(LinearOperator):
    def __init__(self, chain: FactorChain):
        self.chain = chain
        super().__init__(dtype=np.dtype(chain.operator.dtype), shape=chain.operator.shape)

    def _run(self, v, forward):
        real = not np.iscomplexobj(v) and self.dtype.kind != "c"
        seq = self.chain.factors if forward else self.chain.factors[::-1]
        first = seq[0]
        z = np.reshape(v.T, (v.shape[1],) + (first._in if forward else first._out))
        for f in seq:
            z = f._forward(z) if forward else f._backward(z)
        out = z.reshape(v.shape[1], -1).T
        return (out.real if real else out).astype(np.result_type(self.dtype, v.dtype), copy=False)

    def _matmat(self, X):
        return self._run(np.asarray(X), True)

    def _rmatmat(self, Y):
        return self._run(np.asarray(Y), False)

    def _matvec(self, x):
        return self._matmat(np.reshape(x, (-1, 1))).reshape(-1)

    def _rmatvec(self, y):
        return self._rmatmat(np.reshape(y, (-1, 1))).reshape(-1)


def factors(op) -> FactorChain:
    """The FFT factorisation of a :class:`~convops.ConvOperator` (or its adjoint ``op.H``).

    ``A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P`` for a convolution and
    ``Aᴴ = Pᵀ · Zᵀ · F⁻¹ · diag(Ĥ)ᴴ · F · Cᵀ · Sᵀ`` for a transposed convolution (see the
    module docstring for every factor's size).  The grid is ``op.geometry.fft_shape``; the
    chain is the FFT realisation's whatever ``op.method`` is.  Identity factors (no padding,
    stride 1, grid equal to the padded extent) are kept, so every chain has seven factors.

    Parameters
    ----------
    op : ConvOperator

    Returns
    -------
    FactorChain
        Factors in application order; ``chain.matrix()`` equals ``op.matrix()`` and
        ``chain.product()`` applies like ``op``.

    Examples
    --------
    >>> import numpy as np, convops
    >>> op = convops.ConvOperator(np.ones((2, 3, 3)), (3, 6), stride=2, padding=1)
    >>> print(op.factors())
    A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P
    >>> print(op.H.factors())
    Aᴴ = Pᵀ · Zᵀ · F⁻¹ · diag(Ĥ)ᴴ · F · Cᵀ · Sᵀ
    >>> np.allclose(op.factors().matrix(), op.matrix().toarray())
    True
    """
    g = getattr(op, "geometry", None)
    if not isinstance(g, ConvGeometry) or not hasattr(op, "kernel"):
        raise TypeError(f"op must be a convops.ConvOperator; got {type(op).__name__}")
    mc = g.multichannel
    cin, cout = g.in_channels, g.out_channels
    E, N = g.padded_extent, g.fft_shape
    K = tuple((m - 1) * s + 1 for m, s in zip(g.spatial_out, g.stride))

    pad_mats = []
    for a in range(g.ndim):
        src = g.pad_source_index(a)
        keep = np.flatnonzero(src >= 0)
        pad_mats.append(sp.csr_array(
            (np.ones(keep.size), (keep, src[keep])), shape=(E[a], g.spatial_in[a])
        ))
    P = AxisMap(f"{g.boundary} boundary padding {g.padding}", "P", pad_mats, cin, mc)
    Z = AxisMap("zero-padding to the FFT grid", "Z", [sp.eye_array(n, e) for n, e in zip(N, E)], cin, mc)
    Cr = AxisMap("crop to the sampled range", "C", [sp.eye_array(k, n) for k, n in zip(K, N)], cout, mc)
    sub_mats = [
        sp.csr_array((np.ones(m), (np.arange(m), np.arange(m) * s)), shape=(m, k))
        for m, s, k in zip(g.spatial_out, g.stride, K)
    ]
    S = AxisMap(f"subsample by the stride {g.stride}", "S", sub_mats, cout, mc)
    h = _convolution_spectrum(op)

    if not g.transposed:
        chain = [
            P, Z, DFT(cin, N, False, mc),
            SpectralMultiplier(h, cin, cout, g.groups, False, mc),
            DFT(cout, N, True, mc), Cr, S,
        ]
        return FactorChain(chain, "A", op)
    chain = [
        S.transposed(f"zero insertion (upsample by the stride {g.stride})", "Sᵀ"),
        Cr.transposed("zero-padding to the FFT grid", "Cᵀ"),
        DFT(cout, N, False, mc),
        SpectralMultiplier(h, cin, cout, g.groups, True, mc),
        DFT(cin, N, True, mc),
        Z.transposed("crop to the padded extent", "Zᵀ"),
        P.transposed(f"fold the {g.boundary} padding back", "Pᵀ"),
    ]
    return FactorChain(chain, "Aᴴ", op)


# ----------------------------------------------------------------------------------------
# spectrum in, spectrum out
# ----------------------------------------------------------------------------------------
def _spectral_setup(spec, kernel, stride, dilation, groups, flip, *, name, transposed):
    """Validate the arguments of the spectrum-in/out functions.

    Returns ``(z, h, channels, D, stride, multichannel)``: the given spectrum as a
    ``(1, C, *grid)`` array, Ĥ as ``(C_out, C_in/G, *N)`` on the convolution's input grid
    ``N``, the channel counts, the number of spatial axes and the per-axis strides.
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
    if not 1 <= D <= 3:
        raise ValueError(f"{name} of shape {spec.shape} has {D} spatial axes; convops handles 1, 2 or 3")
    stride = per_axis_ints(stride, "stride", D, 1)
    dilation = per_axis_ints(dilation, "dilation", D, 1)
    given = spec.shape[spec.ndim - D:]
    grid = tuple(q * s for q, s in zip(given, stride)) if transposed else given
    if not transposed:
        for axis, (n, s) in enumerate(zip(grid, stride)):
            if n % s:
                up = -(-n // s) * s
                raise ValueError(
                    f"{name} has size {n} on spatial axis {axis}, which stride={s} does not "
                    f"divide: spectral folding needs N = s·M. Zero-pad x by {up - n} at the end "
                    f"(to {up}) before the DFT (the circular convolution then lives on the "
                    f"grid of {up}), or crop it to {n - n % s}"
                )
    spans = [d * (k - 1) for d, k in zip(dilation, kernel.shape[kernel.ndim - D:])]
    for axis, (n, t) in enumerate(zip(grid, spans)):
        if n < t + 1:
            raise ValueError(
                f"{name} of shape {spec.shape} gives the grid {grid}, too small on spatial axis "
                f"{axis}: it must be at least the dilated kernel extent d·(k − 1) + 1 = {t + 1}"
            )
    pads = [(t, 0) if flip else (0, t) for t in spans]
    if multichannel:
        # the convolution's input channels: X's own, or (given Y) groups × C_in/groups; a bad
        # ``groups`` is left to make_geometry, whose message names it
        cin = groups * kernel.shape[1] if transposed and is_int(groups) and groups >= 1 else spec.shape[0]
        in_shape = (cin,) + grid
    else:
        in_shape = grid
    # the geometry checks groups, channel counts and that the kernel fits the grid
    try:
        geometry = make_geometry(kernel.shape, in_shape, stride=stride, dilation=dilation, groups=groups,
                                 flip=flip, padding=pads, boundary="circular")
    except ValueError as exc:
        raise ValueError(f"{exc} (the convolution's input here has shape {in_shape})") from None
    if transposed and multichannel and spec.shape[0] != geometry.out_channels:
        raise ValueError(
            f"{name} has {spec.shape[0]} channels but the kernel {kernel.shape} has "
            f"{geometry.out_channels} output channels"
        )
    h = kernel_spectrum(kernel, grid, dilation=dilation, flip=flip)
    if not multichannel:
        h = h.reshape((1, 1) + grid)
    chans = _Channels(geometry.in_channels, geometry.out_channels, geometry.groups)
    z = spec.reshape((1,) + ((1,) if not multichannel else ()) + spec.shape)
    return z, h, chans, D, stride, multichannel


def _fold(Z: np.ndarray, stride) -> np.ndarray:
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


def _replicate(Y: np.ndarray, stride) -> np.ndarray:
    """Spectrum of the zero-inserted ``y`` (``x[o·s] = y[o]``): ``Ŷ`` tiled ``s`` times."""
    D = len(stride)
    return np.tile(Y, (1,) * (Y.ndim - D) + tuple(stride))


def _finish(out: np.ndarray, multichannel: bool) -> np.ndarray:
    return out[0] if multichannel else out[0, 0]


def strided_conv_spectrum(
    X,
    kernel,
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
    z, h, chans, D, stride, mc = _spectral_setup(X, kernel, stride, dilation, groups, flip,
                                                 name="X", transposed=False)
    return _finish(_fold(_mix(h, z, chans, False), stride), mc)


def strided_conv_transpose_spectrum(
    Y,
    kernel,
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
    z, h, chans, D, stride, mc = _spectral_setup(Y, kernel, stride, dilation, groups, flip,
                                                 name="Y", transposed=True)
    return _finish(_mix(h, _replicate(z, stride), chans, True), mc)


def circular_conv_spectrum(
    X, kernel, *, dilation: int | Sequence[int] = 1, groups: int = 1, flip: bool = False
) -> np.ndarray:
    r"""``Ŷ = Ĥ·X̂``: the circular convolution on ``X``'s grid, in the frequency domain.

    ``y[o] = Σ_t w[t]·x[(o + t·d) mod N]`` (``x[(o − t·d) mod N]`` with ``flip=True``), for
    ``o < N``; per frequency a ``C_out × C_in`` block for channels.  The stride-1 case of
    :func:`strided_conv_spectrum` (see there for shapes and the spatial equivalent).
    """
    return strided_conv_spectrum(X, kernel, 1, dilation=dilation, groups=groups, flip=flip)


def circular_conv_transpose_spectrum(
    Y, kernel, *, dilation: int | Sequence[int] = 1, groups: int = 1, flip: bool = False
) -> np.ndarray:
    r"""``X̂ = Ĥᴴ·Ŷ``: the adjoint of :func:`circular_conv_spectrum` (conjugate spectrum).

    The stride-1 case of :func:`strided_conv_transpose_spectrum`; ``Y`` and the result share
    the grid ``N``.
    """
    return strided_conv_transpose_spectrum(Y, kernel, 1, dilation=dilation, groups=groups, flip=flip)


# ----------------------------------------------------------------------------------------
# singular values and the operator norm
# ----------------------------------------------------------------------------------------
def _not_block_circulant(g: ConvGeometry) -> str | None:
    """Why the geometry is not a square block-circulant convolution (None if it is)."""
    if g.boundary != "circular":
        return f"boundary={g.boundary!r} (needs 'circular')"
    if any(s != 1 for s in g.stride):
        return f"stride={g.stride} (needs 1)"
    totals = tuple(lo + hi for lo, hi in g.padding)
    spans = tuple(d * (k - 1) for d, k in zip(g.dilation, g.kernel_size))
    if totals != spans:
        return f"padding={g.padding} (needs lo + hi = d·(k − 1) = {spans} per axis)"
    if g.spatial_out != g.spatial_in:
        return f"output size {g.spatial_out} differs from the input size {g.spatial_in}"
    return None


def singular_values(op) -> np.ndarray:
    r"""All singular values of a circular, stride-1 convolution, in descending order.

    For ``boundary="circular"``, stride 1 and ``lo + hi = d·(k − 1)`` per axis the operator
    is block-circulant on the input grid ``n``: with the unitary DFT ``U``,
    ``A = U⁻¹ · diag(Ĥ(f) e^{−2πi f·lo/n}) · U`` (a circular shift by ``lo`` is a phase),
    block-diagonal over frequencies and groups.  Its singular values are therefore those of
    the ``C_out/G × C_in/G`` blocks Ĥ(f), over the ``prod(n)`` frequencies and ``G``
    groups (Sedghi, Gupta & Long, ICLR 2019), ``prod(n)·min(C_out, C_in)`` values in all.
    ``op`` and ``op.H`` have the same singular values.

    Parameters
    ----------
    op : ConvOperator

    Returns
    -------
    ndarray of float, descending, length ``min(op.shape)``

    Raises
    ------
    ValueError
        For any other geometry, pointing to :func:`operator_norm` (or a dense SVD,
        ``numpy.linalg.svd(op.toarray(), compute_uv=False)``, for small operators).
    """
    g = getattr(op, "geometry", None)
    if not isinstance(g, ConvGeometry) or not hasattr(op, "kernel"):
        raise TypeError(f"op must be a convops.ConvOperator; got {type(op).__name__}")
    reason = _not_block_circulant(g)
    if reason is not None:
        raise ValueError(
            "singular_values is exact only for square block-circulant convolutions (boundary "
            f"'circular', stride 1, lo + hi = d·(k − 1) per axis); this operator has {reason}. "
            "Use convops.operator_norm(op) for the largest singular value, or "
            "numpy.linalg.svd(op.toarray(), compute_uv=False) for a small operator"
        )
    h = _dilated_spectrum(g.canonical_kernel(np.asarray(op.kernel)), g.dilation, g.spatial_in)
    G = g.groups
    cout, cin_g = h.shape[:2]
    nf = int(np.prod(g.spatial_in))
    blocks = h.reshape(G, cout // G, cin_g, nf).transpose(3, 0, 1, 2)  # (F, G, Co/G, Ci/G)
    sv = np.linalg.svd(blocks, compute_uv=False).ravel()
    return np.sort(sv)[::-1]


def _dense(op) -> np.ndarray:
    if hasattr(op, "toarray"):
        return np.asarray(op.toarray())
    dtype = op.dtype if np.dtype(op.dtype).kind in "fc" else np.float64
    return np.asarray(op.matmat(np.eye(op.shape[1], dtype=dtype)))


def operator_norm(
    op,
    *,
    rtol: float = 1e-6,
    method: Literal["auto", "exact", "dense", "lanczos"] = "auto",
    rng=None,
) -> float:
    r"""The spectral norm ``‖A‖₂`` (largest singular value), exactly or to ``rtol``.

    ``method="auto"`` picks, in this order:

    * ``"exact"`` — where :func:`singular_values` applies (circular boundary, stride 1,
      ``lo + hi = d·(k − 1)``): the largest singular value of the spectral blocks, exact to
      rounding.
    * ``"dense"`` — when ``min(op.shape) <= DENSE_SVD_LIMIT`` (500): the largest singular
      value of the dense matrix (LAPACK), exact to rounding.
    * ``"lanczos"`` — otherwise: ARPACK's implicitly restarted Lanczos (``eigsh``, Krylov
      space of 64) on the Gram operator ``AᴴA`` (or ``AAᴴ``, whichever is smaller) from a
      random start, stopped by ARPACK's test on the top Ritz pair ``(θ, v)``:
      ``‖AᴴA v − θ v‖ <= 2·rtol·θ``.  The value returned is ``σ̃ = ‖A v‖`` for the unit
      Ritz vector ``v`` (``σ̃² = θ`` up to rounding).

    Guarantees of the Lanczos estimate ``σ̃``:

    * ``σ̃ <= ‖A‖`` always, up to rounding (~1e-15 relative in double precision), because
      it is the norm of ``A`` applied to a unit vector: it never claims more than is true.
    * The residual test puts an eigenvalue ``σ²`` of ``AᴴA`` within ``2·rtol·θ`` of ``θ``
      (a Hermitian matrix has an eigenvalue within ``‖M v − θ v‖`` of the Rayleigh
      quotient θ of any unit vector ``v``), hence ``σ̃ >= σ / sqrt(1 + 2·rtol) >= (1 − rtol)·σ`` for a singular value
      ``σ`` of ``A``.  That ``σ`` is ``‖A‖`` when Lanczos has found the top of the
      spectrum, which it does first from a random start; it can settle on a lower singular
      value only when the start vector has a (nearly) vanishing component along the top
      singular vectors.  So ``(1 − rtol)·‖A‖ <= σ̃ <= ‖A‖``: the upper side is certain, the
      lower side holds with high probability, not with certainty.
    * For step sizes and Lipschitz constants, which need an upper bound, use
      ``σ̃ / (1 − rtol)`` (with the same probabilistic caveat): ``1/σ̃²`` itself may exceed
      ``1/‖A‖²`` by a factor up to ``1/(1 − rtol)²``.  The exact and dense methods need no
      such margin beyond rounding.

    The cost is a few hundred products with ``A`` and ``Aᴴ`` at the default ``rtol`` (the
    top of a convolution's spectrum is clustered); a looser ``rtol`` is much cheaper.

    Parameters
    ----------
    op : ConvOperator or LinearOperator
        ``"exact"`` needs a :class:`~convops.ConvOperator`; the others take any
        ``LinearOperator`` (for ``"dense"``, one with ``toarray`` or a cheap ``matmat``).
    rtol : float
        Relative tolerance of the Lanczos stopping test, ``0 < rtol < 1``.
    method : {"auto", "exact", "dense", "lanczos"}
        Force one of the three (``"exact"`` refuses where it does not apply).
    rng : numpy.random.Generator or int, optional
        Source of the Lanczos start vector (default: a fixed seed, so results repeat).

    Returns
    -------
    float
    """
    if method not in ("auto", "exact", "dense", "lanczos"):
        raise ValueError(f"method={method!r} is not allowed; use 'auto', 'exact', 'dense' or 'lanczos'")
    try:
        rtol = float(rtol)
    except (TypeError, ValueError):
        raise TypeError(f"rtol must be a float; got {rtol!r}") from None
    if not 0 < rtol < 1:
        raise ValueError(f"rtol={rtol!r} is not allowed: it must lie strictly between 0 and 1")
    if not hasattr(op, "shape") or not hasattr(op, "matvec"):
        raise TypeError(f"op must be a ConvOperator or a LinearOperator; got {type(op).__name__}")
    g = getattr(op, "geometry", None)
    circulant = isinstance(g, ConvGeometry) and hasattr(op, "kernel") and _not_block_circulant(g) is None
    if method == "exact" or (method == "auto" and circulant):
        return float(singular_values(op)[0])
    rows, cols = op.shape
    # ARPACK needs a Gram operator of size >= 3; anything that small is dense anyway
    if method == "dense" or (method == "auto" and min(rows, cols) <= DENSE_SVD_LIMIT) or min(rows, cols) < 3:
        if min(rows, cols) == 0:
            return 0.0
        return float(np.linalg.norm(_dense(op), 2))
    return _lanczos_norm(op, rtol, np.random.default_rng(0 if rng is None else rng))


def _lanczos_norm(op, rtol: float, rng: np.random.Generator) -> float:
    rows, cols = op.shape
    dtype = np.dtype(op.dtype)
    complex_ = dtype.kind == "c"
    ctype = np.result_type(dtype, np.float64)
    H = op.H
    if cols <= rows:  # AᴴA on the smaller side
        dim, first, second = cols, op, H
    else:
        dim, first, second = rows, H, op

    def gram(v):
        return second.matvec(first.matvec(v))

    gram_op = LinearOperator((dim, dim), matvec=gram, dtype=ctype)
    v0 = rng.standard_normal(dim)
    if complex_:
        v0 = v0 + 1j * rng.standard_normal(dim)
    try:
        # tol on the eigenvalue σ² of the Gram operator: 2·rtol gives rtol on σ (see docstring);
        # a larger Krylov space than ARPACK's default (20) needs fewer restarts on the
        # clustered top spectrum of a convolution
        _, vecs = eigsh(gram_op, k=1, which="LA", tol=2 * rtol, ncv=min(dim, 64), v0=v0.astype(ctype))
    except ArpackNoConvergence:
        raise RuntimeError(
            f"the Lanczos iteration did not reach rtol={rtol} within ARPACK's iteration limit; "
            "pass a larger rtol, or method='dense' for an operator that fits in memory"
        ) from None
    v = vecs[:, 0] / np.linalg.norm(vecs[:, 0])
    return float(np.linalg.norm(first.matvec(v)))
