"""What a realisation is: the :class:`Realisation` protocol and its typed cache.

A realisation is a module (:mod:`~convops.realisations.matrix`,
:mod:`~convops.realisations.direct`, :mod:`~convops.realisations.fft`) with two functions,
``forward`` (``A``) and ``adjoint`` (``A*``), and no state of its own: what it keeps between
calls goes in the :class:`RealisationCache` it is handed, which ``A`` and ``A*`` of one
operator share (so, e.g., the kernel spectrum is computed once for both).  Work arrays and
threads are not cached here: they live in :mod:`convops.realisations.workspace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import scipy.sparse as sp

from ..geometry import ConvGeometry

if TYPE_CHECKING:
    from .direct import DirectPlan

__all__ = ["Realisation", "RealisationCache"]


@dataclass(eq=False)
class RealisationCache:
    """What the realisations keep between calls, per operator (shared by ``A`` and ``A*``).

    Every field belongs to one realisation, which alone writes it; the others never read
    it.  A fresh cache (all fields empty) is always valid: each realisation fills its
    fields on first use.  The cached values depend only on the geometry and the kernel,
    so one cache must serve one (kernel, geometry) pair (``A`` and its adjoint count as
    one: the adjoint's geometry is ``geometry.transpose()``).

    Attributes
    ----------
    matrices : dict
        matrix: the CSR matrix of ``A``, keyed by its dtype string (one per dtype the
        operator computed in: a float32 kernel on float64 data has a float64 matrix).
        ``ConvOperator.matrix()`` returns a copy of the one in the kernel's dtype.
    adjoint_matrices : dict
        matrix: CSR copies of ``Aᴴ`` (10–40 % faster to apply than the CSC view of ``A``),
        keyed the same way.
    direct_plans : dict
        direct: the tap plans, keyed by ``(adjoint, clipped)`` (``clipped``: the source is
        the unpadded input, i.e. the zero boundary).
    direct_weights : dict
        direct: the GEMM matrices of the adjoint's phases, keyed by
        ``(phase index, kernel dtype string)``.
    fft_spectra : dict
        fft: the kernel spectrum Ĥ on the FFT grid, keyed by
        ``(real, kernel dtype string, shift)``.
    fft_multipliers : dict
        fft: the multiplier of one direction derived from Ĥ (conjugated for ``A*``, scaled
        by the folded strides for ``A``, as group blocks for channels), keyed by
        ``(real, kernel dtype string, shift, adjoint)``.
    """

    matrices: dict[str, sp.csr_array] = field(default_factory=dict)
    adjoint_matrices: dict[str, sp.csr_array] = field(default_factory=dict)
    direct_plans: dict[tuple[bool, bool], DirectPlan] = field(default_factory=dict)
    direct_weights: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)
    fft_spectra: dict[tuple[bool, str, tuple[int, ...]], np.ndarray] = field(default_factory=dict)
    fft_multipliers: dict[tuple[bool, str, tuple[int, ...], bool], np.ndarray] = field(
        default_factory=dict
    )


class Realisation(Protocol):
    """A realisation of the convolution ``A`` of a geometry and of its adjoint ``A*``.

    Arrays are unflattened, batch first: ``x`` is ``(B, C_in, *n)`` and ``y`` is
    ``(B, C_out, *m)`` (``C = 1`` for a single-channel kernel), with ``n`` =
    ``geometry.spatial_in`` and ``m`` = ``geometry.spatial_out``.  ``kernel`` is the
    geometry's canonical kernel, ``geometry.canonical_kernel(w)``: ``(C_out, C_in/groups, *k)``
    with ``flip`` applied, so every realisation computes the cross-correlation

    .. math:: y[b, c_o, o] = \\sum_{c_i, t} w[c_o, c_i, t]\\; \\tilde x[b, c_i, o s + t d].

    Both functions compute in ``numpy.result_type`` of the data and the kernel and return
    a fresh array (never a view of a work array, nor of the input).  ``forward`` computes
    ``A`` and ``adjoint`` computes ``A*`` whatever ``geometry.transposed`` says: the
    operator picks the function.

    ``cache`` is the operator's :class:`RealisationCache` (``None``: nothing is kept
    between calls).  A realisation writes only its own fields: the matrix realisation the
    CSR matrices, the direct one its tap plans and per-phase weights, the FFT one the
    kernel spectrum and the multipliers.
    """

    def forward(
        self,
        x: np.ndarray,
        kernel: np.ndarray,
        geometry: ConvGeometry,
        cache: RealisationCache | None = None,
    ) -> np.ndarray:
        """``y = A x``: ``(B, C_in, *n)`` → ``(B, C_out, *m)``."""
        ...

    def adjoint(
        self,
        y: np.ndarray,
        kernel: np.ndarray,
        geometry: ConvGeometry,
        cache: RealisationCache | None = None,
    ) -> np.ndarray:
        """``x = A* y``: ``(B, C_out, *m)`` → ``(B, C_in, *n)``."""
        ...
