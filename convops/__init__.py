"""convops: convolution and transposed convolution as one linear map and its adjoint."""

from . import grad
from .bridges import from_keras, from_torch
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
from .kernel_operator import KernelOperator
from .operators import ConvOperator
from .realisations.workspace import WorkspaceConfig, configure, get_config
from .spectral import kernel_spectrum, norm_bounds, operator_norm, singular_values

__version__ = "0.1.0"

__all__ = [
    "ConvGeometry",
    "ConvOperator",
    "KernelOperator",
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
    "from_keras",
    "from_torch",
    "get_config",
    "grad",
    "kernel_spectrum",
    "make_geometry",
    "norm_bounds",
    "operator_norm",
    "singular_values",
]
