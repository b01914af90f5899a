r"""What the spectral tools share: the operator behind a call and its kernel spectrum Ĥ.

The factor chain (:mod:`.factorisation`) and the singular values (:mod:`.norms`) both read the
convolution's kernel spectrum ``Ĥ(f) = Σ_t w[t]·e^{+2πi f·t·d/N}`` of the canonical
(flipped, if ``flip``) kernel, on the FFT grid resp. on the input grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..geometry import ConvGeometry
from ..realisations.fft import dilated_spectrum

__all__ = ["conv_geometry", "operator_spectrum"]


def conv_geometry(op: object) -> ConvGeometry:
    """The geometry of a :class:`~convops.ConvOperator`; ``TypeError`` for anything else.

    The spectral tools need the kernel as well as the geometry, so a bare
    :class:`~convops.ConvGeometry` is refused too.
    """
    geometry = getattr(op, "geometry", None)
    if not isinstance(geometry, ConvGeometry) or not hasattr(op, "kernel"):
        hint = ""
        if hasattr(op, "channels_first"):  # a channels-last view (from_keras)
            hint = (
                ": pass op.channels_first, the same map on channels-first arrays (the "
                "same singular values and norm; vectors in convops' (C, *spatial) layout)"
            )
        raise TypeError(f"op must be a convops.ConvOperator; got {type(op).__name__}{hint}")
    return geometry


def operator_spectrum(op: Any, grid: Sequence[int]) -> np.ndarray:
    """Ĥ of ``op``'s canonical (flipped if ``flip``) kernel on ``grid``: ``(C_out, C_in/G, *N)``."""
    g = op.geometry
    return dilated_spectrum(g.canonical_kernel(np.asarray(op.kernel)), g.dilation, grid)
