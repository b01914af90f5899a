"""convops: convolution and transposed convolution as one linear map and its adjoint."""

from .functional import (
    conv,
    conv1d,
    conv2d,
    conv3d,
    conv_matrix,
    conv_transpose,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    conv_transpose_matrix,
)
from .geometry import ConvGeometry, make_geometry
from .operators import ConvOperator
from .realisations.workspace import WorkspaceConfig, configure, get_config
from .spectral import kernel_spectrum, operator_norm, singular_values

__version__ = "0.1.0"

__all__ = [
    "ConvGeometry",
    "ConvOperator",
    "WorkspaceConfig",
    "configure",
    "conv",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_matrix",
    "conv_transpose",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "conv_transpose_matrix",
    "get_config",
    "kernel_spectrum",
    "make_geometry",
    "operator_norm",
    "singular_values",
]
