r"""The frequency domain, opened up: factorisation, strided spectra, singular values.

Everything here is exact (to rounding) and says on which grid it lives.  One module per job:

- :mod:`~convops.spectral.spectrum` — the kernel spectrum Ĥ (:func:`kernel_spectrum`, the
  multiplier of the forward map) and convolutions applied to spectra (spectrum in, spectrum
  out: :func:`circular_conv_spectrum`, :func:`strided_conv_spectrum` and their transposes);
- :mod:`~convops.spectral.factorisation` — the FFT factorisation
  ``A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P`` as a :class:`FactorChain` of named factors
  (:func:`factors`, ``ConvOperator.factors()``);
- :mod:`~convops.spectral.norms` — singular values of circular convolutions and the
  spectral norm of any convolution (:func:`singular_values`, :func:`operator_norm`);
- :mod:`~convops.spectral.bounds` — a certified interval around the norm of any
  convolution (:func:`norm_bounds`, :class:`NormBounds`, :func:`padding_map_norm`).
"""

from .bounds import NormBounds, norm_bounds, padding_map_norm
from .factorisation import (
    DFT,
    MATRIX_LIMIT,
    AxisMap,
    Factor,
    FactorChain,
    SpectralMultiplier,
    factors,
)
from .norms import DENSE_SVD_LIMIT, FrequencySingularValues, operator_norm, singular_values
from .spectrum import (
    circular_conv_spectrum,
    circular_conv_transpose_spectrum,
    kernel_spectrum,
    strided_conv_spectrum,
    strided_conv_transpose_spectrum,
)

__all__ = [
    "DENSE_SVD_LIMIT",
    "DFT",
    "MATRIX_LIMIT",
    "AxisMap",
    "Factor",
    "FactorChain",
    "FrequencySingularValues",
    "NormBounds",
    "SpectralMultiplier",
    "circular_conv_spectrum",
    "circular_conv_transpose_spectrum",
    "factors",
    "kernel_spectrum",
    "norm_bounds",
    "operator_norm",
    "padding_map_norm",
    "singular_values",
    "strided_conv_spectrum",
    "strided_conv_transpose_spectrum",
]

# the examples in the re-exported docstrings run with doctest.testmod(convops.spectral)
__test__ = {
    "kernel_spectrum": kernel_spectrum,
    "factors": factors,
    "strided_conv_spectrum": strided_conv_spectrum,
    "singular_values": singular_values,
    "norm_bounds": norm_bounds,
}
