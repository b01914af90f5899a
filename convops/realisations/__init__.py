"""The three realisations of a convolution ``A`` and its adjoint ``A*``.

Each module satisfies the :class:`~convops.realisations.contract.Realisation` protocol: the
same pair ``forward(x, kernel, geometry, cache)`` and ``adjoint(y, kernel, geometry, cache)``
on unflattened ``(B, C, *spatial)`` arrays, keeping what it reuses in its own fields of the
typed :class:`~convops.realisations.contract.RealisationCache`:

- :mod:`~convops.realisations.matrix` — the explicit CSR matrix;
- :mod:`~convops.realisations.direct` — the sliding window (gather for ``A``, the phase-wise
  gather that equals the scatter for ``A*``);
- :mod:`~convops.realisations.fft` — multiplication by the kernel spectrum Ĥ (``A``) and by
  its conjugate (``A*``).

Their work arrays, thread pool and run-time settings live in
:mod:`~convops.realisations.workspace`.
"""

from __future__ import annotations

from . import direct, fft, matrix
from .contract import Realisation, RealisationCache

__all__ = ["REALISATIONS", "Realisation", "RealisationCache", "direct", "fft", "matrix"]

#: The three realisations of ``A`` and ``A*`` by name (``ConvOperator``'s ``method``).
REALISATIONS: dict[str, Realisation] = {"matrix": matrix, "direct": direct, "fft": fft}
