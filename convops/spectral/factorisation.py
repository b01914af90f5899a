r"""The FFT factorisation of a convolution, as a chain of named linear operators.

:func:`factors` (``ConvOperator.factors()``): for any boundary, stride, padding, dilation and
channels, the FFT realisation writes

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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias, overload

import numpy as np
import numpy.typing as npt
import scipy.fft as sfft
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validate import as_numeric_array
from ..realisations.fft import group_blocks, mix_blocks
from ._multiplier import conv_geometry, operator_spectrum

if TYPE_CHECKING:  # the operators import this module lazily (ConvOperator.factors)
    from ..operators import ConvOperator

__all__ = [
    "DFT",
    "MATRIX_LIMIT",
    "AxisMap",
    "Factor",
    "FactorChain",
    "SpectralMultiplier",
    "factors",
]

#: The per-axis matrices of an :class:`AxisMap` (the index maps and their transposes).
SparseMatrix: TypeAlias = "sp.csr_array | sp.csc_array | sp.coo_array | sp.dia_array"

#: ``Factor.matrix()`` refuses a DFT factor whose dense ``prod(N) × prod(N)`` block would
#: have more entries than this (64 MiB of complex128).
MATRIX_LIMIT = 2**22


def _along_axis(M: SparseMatrix, x: np.ndarray, axis: int) -> np.ndarray:
    """Multiply every 1-D fibre of ``x`` along ``axis`` by the (sparse) matrix ``M``."""
    xt = np.moveaxis(x, axis, 0)
    rest = xt.shape[1:]
    out = M @ xt.reshape(xt.shape[0], -1)
    return np.moveaxis(np.asarray(out).reshape((M.shape[0], *rest)), 0, axis)


def _kron_all(blocks: Sequence[SparseMatrix | np.ndarray]) -> sp.csr_array:
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

    def __init__(
        self,
        name: str,
        symbol: str,
        channels_in: int,
        spatial_in: Sequence[int],
        channels_out: int,
        spatial_out: Sequence[int],
        dtype: npt.DTypeLike,
        multichannel: bool,
    ) -> None:
        self.name, self.symbol = name, symbol
        self.multichannel = multichannel
        self._in = (channels_in, *spatial_in)
        self._out = (channels_out, *spatial_out)
        shape = (int(np.prod(self._out)), int(np.prod(self._in)))
        # scipy-stubs leave LinearOperator.__init__ unannotated (it would clash with the
        # __new__ overloads), so mypy sees object.__init__ here
        super().__init__(dtype=np.dtype(dtype), shape=shape)  # type: ignore[call-arg]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._in if self.multichannel else self._in[1:]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self._out if self.multichannel else self._out[1:]

    # the number of spatial axes; LinearOperator's own ndim (always 2) is shadowed here
    @property
    def ndim(self) -> int:  # type: ignore[override]
        return len(self._in) - 1

    # subclasses implement these on (B, C, *spatial) arrays
    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def matrix(self) -> sp.csr_array:
        """The factor's matrix as a ``scipy.sparse.csr_array``."""
        raise NotImplementedError

    def apply(self, x: npt.ArrayLike) -> np.ndarray:
        """Apply to ``x`` of shape ``(*batch, *input_shape)``; returns ``(*batch, *output_shape)``."""
        x = as_numeric_array(x, "x")
        nd = len(self.input_shape)
        if x.shape[x.ndim - nd :] != self.input_shape:
            raise ValueError(
                f"x of shape {x.shape} does not end with input_shape {self.input_shape}"
            )
        batch = x.shape[: x.ndim - nd]
        out = self._forward(x.reshape((-1, *self._in)))
        return out.reshape(batch + self.output_shape)

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._forward(np.reshape(x, (1, *self._in))).reshape(-1)

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        return self._backward(np.reshape(y, (1, *self._out))).reshape(-1)

    def _matmat(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        out = self._forward(np.reshape(X.T, (X.shape[1], *self._in)))
        return out.reshape(X.shape[1], -1).T

    def _rmatmat(self, Y: np.ndarray) -> np.ndarray:
        Y = np.asarray(Y)
        out = self._backward(np.reshape(Y.T, (Y.shape[1], *self._out)))
        return out.reshape(Y.shape[1], -1).T

    def __repr__(self) -> str:
        return f"<{self.symbol}: {self.name}, {self.input_shape} -> {self.output_shape}>"


class AxisMap(Factor):
    """A separable index map: one small 0/1 matrix per spatial axis, the same on every channel.

    Padding ``P``, zero-padding ``Z``, cropping ``C``, subsampling ``S`` and their transposes
    are all of this form; the full matrix is ``I_C ⊗ M_1 ⊗ … ⊗ M_D``.
    """

    def __init__(
        self,
        name: str,
        symbol: str,
        mats: Sequence[SparseMatrix | np.ndarray],
        channels: int,
        multichannel: bool,
    ) -> None:
        self.mats = [sp.csr_array(M) for M in mats]
        super().__init__(
            name,
            symbol,
            channels,
            [M.shape[1] for M in self.mats],
            channels,
            [M.shape[0] for M in self.mats],
            np.float64,
            multichannel,
        )

    def _forward(self, x: np.ndarray) -> np.ndarray:
        for a, M in enumerate(self.mats):
            x = _along_axis(M, x, a + 2)
        return x

    def _backward(self, y: np.ndarray) -> np.ndarray:
        for a, M in enumerate(self.mats):
            y = _along_axis(M.T, y, a + 2)
        return y

    def transposed(self, name: str, symbol: str) -> AxisMap:
        """The transposed map (zero insertion for ``S``, fold for ``P``, …)."""
        return AxisMap(name, symbol, [M.T for M in self.mats], self._in[0], self.multichannel)

    def matrix(self) -> sp.csr_array:
        return _kron_all([sp.eye_array(self._in[0], format="csr"), *self.mats])


class DFT(Factor):
    """The plain DFT ``F`` (``fftn``) or its inverse ``F⁻¹`` (``ifftn``) on the spatial axes.

    Not unitary: ``F X̂(f) = Σ_j x[j]·e^{−2πi f·j/N}``, so ``Fᴴ = prod(N)·F⁻¹``.
    """

    def __init__(
        self, channels: int, grid: Sequence[int], inverse: bool, multichannel: bool
    ) -> None:
        self.inverse = bool(inverse)
        name = "inverse DFT (ifftn)" if inverse else "DFT (fftn)"
        symbol = "F⁻¹" if inverse else "F"
        super().__init__(name, symbol, channels, grid, channels, grid, np.complex128, multichannel)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        axes = tuple(range(2, x.ndim))
        return np.asarray((sfft.ifftn if self.inverse else sfft.fftn)(x, axes=axes))

    def _backward(self, y: np.ndarray) -> np.ndarray:
        axes = tuple(range(2, y.ndim))
        # Fᴴ = conj(F) = prod(N)·F⁻¹ and (F⁻¹)ᴴ = F / prod(N): the "forward"-normalised pair
        return np.asarray((sfft.fftn if self.inverse else sfft.ifftn)(y, axes=axes, norm="forward"))

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
        return _kron_all([sp.eye_array(self._in[0], format="csr"), *blocks])


class SpectralMultiplier(Factor):
    """``diag(Ĥ)``: per frequency, the ``C_out × C_in`` block of the kernel spectrum.

    The block is zero outside the groups (block-diagonal over groups).  With
    ``adjoint=True`` it is ``diag(Ĥ)ᴴ``: the conjugate transpose of every block.

    Attributes
    ----------
    h : ndarray
        Ĥ, shape ``(C_out, C_in/groups, *N)``.
    in_channels, out_channels, groups : int
        The convolution's channel counts (its input and output, also for ``diag(Ĥ)ᴴ``).
    is_adjoint : bool
        Whether this is ``diag(Ĥ)ᴴ`` (``LinearOperator.adjoint()`` keeps its meaning).
    """

    def __init__(
        self,
        h: np.ndarray,
        in_channels: int,
        out_channels: int,
        groups: int,
        adjoint: bool,
        multichannel: bool,
    ) -> None:
        self.h = h
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.is_adjoint = bool(adjoint)
        grid = h.shape[2:]
        cin, cout = (out_channels, in_channels) if adjoint else (in_channels, out_channels)
        if adjoint:
            name, symbol = "multiply by the conjugate (transposed) kernel spectrum", "diag(Ĥ)ᴴ"
        else:
            name, symbol = "multiply by the kernel spectrum", "diag(Ĥ)"
        super().__init__(name, symbol, cin, grid, cout, grid, h.dtype, multichannel)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return mix_blocks(group_blocks(self.h, self.groups, self.is_adjoint), x)

    def _backward(self, y: np.ndarray) -> np.ndarray:
        return mix_blocks(group_blocks(self.h, self.groups, not self.is_adjoint), y)

    def matrix(self) -> sp.csr_array:
        cout, cin_g = self.h.shape[:2]
        cout_g = cout // self.groups
        nf = int(np.prod(self.h.shape[2:]))
        co, ci, f = np.meshgrid(np.arange(cout), np.arange(cin_g), np.arange(nf), indexing="ij")
        rows = co * nf + f
        cols = ((co // cout_g) * cin_g + ci) * nf + f
        M = sp.csr_array(
            (self.h.reshape(cout, cin_g, nf).ravel(), (rows.ravel(), cols.ravel())),
            shape=(cout * nf, self.in_channels * nf),
        )
        return sp.csr_array(M.conj().T) if self.is_adjoint else M


class FactorChain(Sequence[Factor]):
    """The factors of a convolution (or its adjoint) in application order.

    ``chain[0]`` is applied first; ``str(chain)`` prints the formula in product order, e.g.
    ``A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P``.  Iterating gives the :class:`Factor` objects.
    """

    def __init__(self, factors: Sequence[Factor], label: str, operator: LinearOperator) -> None:
        self.factors = list(factors)
        self.label = label
        self.operator = operator

    @overload
    def __getitem__(self, i: int) -> Factor: ...

    @overload
    def __getitem__(self, i: slice) -> list[Factor]: ...

    def __getitem__(self, i: int | slice) -> Factor | list[Factor]:
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
    def __init__(self, chain: FactorChain) -> None:
        self.chain = chain
        op = chain.operator
        super().__init__(dtype=np.dtype(op.dtype), shape=op.shape)  # type: ignore[call-arg]

    def _run(self, v: np.ndarray, forward: bool) -> np.ndarray:
        real = not np.iscomplexobj(v) and self.dtype.kind != "c"
        seq = self.chain.factors if forward else self.chain.factors[::-1]
        first = seq[0]
        z = np.reshape(v.T, (v.shape[1], *(first._in if forward else first._out)))
        for f in seq:
            z = f._forward(z) if forward else f._backward(z)
        out = z.reshape(v.shape[1], -1).T
        return (out.real if real else out).astype(np.result_type(self.dtype, v.dtype), copy=False)

    def _matmat(self, X: np.ndarray) -> np.ndarray:
        return self._run(np.asarray(X), True)

    def _rmatmat(self, Y: np.ndarray) -> np.ndarray:
        return self._run(np.asarray(Y), False)

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._matmat(np.reshape(x, (-1, 1))).reshape(-1)

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        return self._rmatmat(np.reshape(y, (-1, 1))).reshape(-1)


def factors(op: ConvOperator) -> FactorChain:
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
    g = conv_geometry(op)
    mc = g.multichannel
    cin, cout = g.in_channels, g.out_channels
    E, N = g.padded_extent, g.fft_shape
    K = tuple((m - 1) * s + 1 for m, s in zip(g.spatial_out, g.stride, strict=True))

    pad_mats = []
    for a in range(g.ndim):
        src = g.pad_source_index(a)
        keep = np.flatnonzero(src >= 0)
        pad_mats.append(
            sp.csr_array((np.ones(keep.size), (keep, src[keep])), shape=(E[a], g.spatial_in[a]))
        )
    P = AxisMap(f"{g.boundary} boundary padding {g.padding}", "P", pad_mats, cin, mc)
    to_grid = [sp.eye_array(n, e) for n, e in zip(N, E, strict=True)]
    Z = AxisMap("zero-padding to the FFT grid", "Z", to_grid, cin, mc)
    to_sampled = [sp.eye_array(k, n) for k, n in zip(K, N, strict=True)]
    Cr = AxisMap("crop to the sampled range", "C", to_sampled, cout, mc)
    sub_mats = [
        sp.csr_array((np.ones(m), (np.arange(m), np.arange(m) * s)), shape=(m, k))
        for m, s, k in zip(g.spatial_out, g.stride, K, strict=True)
    ]
    S = AxisMap(f"subsample by the stride {g.stride}", "S", sub_mats, cout, mc)
    h = operator_spectrum(op, N)

    if not g.transposed:
        chain = [
            P,
            Z,
            DFT(cin, N, False, mc),
            SpectralMultiplier(h, cin, cout, g.groups, False, mc),
            DFT(cout, N, True, mc),
            Cr,
            S,
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
