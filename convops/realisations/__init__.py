"""The three realisations of a convolution ``A`` and its adjoint ``A*``.

Each module exposes the same pair ``forward(x, kernel, geometry, cache)`` and
``adjoint(y, kernel, geometry, cache)`` on unflattened ``(B, C, *spatial)`` arrays:

- :mod:`~convops.realisations.matrix` — the explicit CSR matrix;
- :mod:`~convops.realisations.direct` — the sliding window (gather for ``A``, the phase-wise
  gather that equals the scatter for ``A*``);
- :mod:`~convops.realisations.fft` — multiplication by the kernel spectrum Ĥ (``A``) and by
  its conjugate (``A*``).
"""
