"""Bridges from the frameworks: a PyTorch module or a Keras layer in, its exact operator out.

Neither framework is a dependency: the modules and layers are read by duck typing (their
class names and attributes), and the frameworks are imported only by the tests.  A
channels-last Keras layer gives a :class:`ChannelsLastOperator`: the convolution on
``(..., C)`` arrays, with its channels-first operator as ``.channels_first``.
"""

from .channels_last import ChannelsLastOperator
from .keras_layers import from_keras, keras_transpose_padding
from .torch_modules import from_torch

__all__ = ["ChannelsLastOperator", "from_keras", "from_torch", "keras_transpose_padding"]
