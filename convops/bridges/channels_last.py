"""``ChannelsLastOperator``: a channels-first operator seen through channels-last arrays.

convops' operators take and return PyTorch's layout, channels first: ``(C, *spatial)``.
Keras' default layout is channels last, ``(*spatial, C)``; a channels-last layer's operator
should take and return what the layer does.  This wrapper moves the channel axis on the way
in and on the way out, and permutes the rows and columns of the inner operator's matrix:
with ``Π_in`` and ``Π_out`` the permutations that reorder a channels-first flat vector into
channels-last order,

    A_last = Π_out · A_first · Π_inᵀ,        A_last* = Π_in · A_first* · Π_outᵀ,

so the adjoint is the wrapper of the inner adjoint, and every identity of ``A_first`` (norms,
singular values, the dot test) holds for ``A_last`` unchanged.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import scipy.sparse as sp

from ..flat_operator import FlatOperator
from ..operators import ConvOperator

__all__ = ["ChannelsLastOperator", "channels_last_order"]


def channels_last_order(shape: tuple[int, ...]) -> np.ndarray:
    """For each channels-last flat index, the channels-first flat index of the same entry.

    ``shape`` is the channels-first shape ``(C, *spatial)``: entry ``(c, *p)`` sits at
    ``c·prod(spatial) + flat(p)`` in channels-first order and at ``flat(p)·C + c`` in
    channels-last order.  ``v_last = v_first[order]`` and ``v_first[order] = v_last``.
    """
    count = math.prod(shape)
    return np.moveaxis(np.arange(count, dtype=np.int64).reshape(shape), 0, -1).reshape(-1)


def _to_last(a: np.ndarray) -> np.ndarray:
    """``(B, C, *spatial)`` → ``(B, *spatial, C)``, contiguous."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


def _to_first(a: np.ndarray) -> np.ndarray:
    """``(B, *spatial, C)`` → ``(B, C, *spatial)``, contiguous."""
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


class ChannelsLastOperator(FlatOperator):
    r"""A channels-first operator applied to, and returning, channels-last arrays.

    ``op.apply(x)`` takes ``x`` of shape ``(*spatial_in, C_in)`` or ``(N, *spatial_in, C_in)``
    and returns ``(*spatial_out, C_out)`` (or with the batch axis): exactly
    ``channels_first.apply`` with the channel axis moved to the end on both sides.  On flat
    vectors (``op @ v``, scipy's solvers) the vectors are flattened in C order over the
    channels-last shape.

    Parameters
    ----------
    channels_first : ConvOperator
        The operator in convops' layout, with a multi-channel kernel: its ``input_shape``
        and ``output_shape`` are ``(C, *spatial)``.

    Attributes
    ----------
    channels_first : ConvOperator
        The wrapped operator (PyTorch's layout): its ``geometry``, ``kernel``
        (``(C_out, C_in/groups, *k)``) and ``factors()`` describe the same map.
    input_shape, output_shape : tuple of int
        The channels-last shapes ``(*spatial, C)``.

    Notes
    -----
    With ``Π`` the permutation matrix that reorders a channels-first flat vector into
    channels-last order (:func:`channels_last_order`),
    ``A_last = Π_out · A_first · Π_inᵀ``.  So ``.H`` (and ``.T``) is the wrapper of the inner
    ``.H`` (``.T``), ``matrix()`` is the inner CSR matrix with its rows and columns permuted,
    and norms and singular values are those of ``A_first``.
    """

    def __init__(self, channels_first: ConvOperator):
        if not isinstance(channels_first, ConvOperator):
            raise TypeError(
                "ChannelsLastOperator wraps a convops.ConvOperator; got "
                f"{type(channels_first).__name__}"
            )
        for name in ("input_shape", "output_shape"):
            shape = getattr(channels_first, name)
            if len(shape) < 2:
                raise ValueError(
                    f"the wrapped operator's {name} {shape} has no channel axis: "
                    "ChannelsLastOperator needs (C, *spatial) on both sides"
                )
        self.channels_first = channels_first
        first_in, first_out = channels_first.input_shape, channels_first.output_shape
        self._input_shape = first_in[1:] + first_in[:1]
        self._output_shape = first_out[1:] + first_out[:1]
        self._adjoint_op: ChannelsLastOperator | None = None
        self._matrix: sp.csr_array | None = None
        # scipy-stubs declare no LinearOperator.__init__; scipy's documented subclass
        # contract is this call
        super().__init__(dtype=channels_first.dtype, shape=channels_first.shape)  # type: ignore[call-arg]

    # --- attributes -----------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(*spatial_in, C_in)``: the channels-last shape the operator takes."""
        return self._input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        """``(*spatial_out, C_out)``: the channels-last shape the operator returns."""
        return self._output_shape

    def __repr__(self) -> str:
        return (
            f"<{self.shape[0]}x{self.shape[1]} ChannelsLastOperator {self.input_shape} -> "
            f"{self.output_shape} of {self.channels_first!r}>"
        )

    # --- application ----------------------------------------------------------------------
    def _run(self, batch_in: np.ndarray) -> np.ndarray:
        """Apply to ``(B, *input_shape)``; returns ``(B, *output_shape)``."""
        return _to_last(self.channels_first.apply(_to_first(batch_in)))

    def _input_shape_text(self) -> str:
        return f"channels-last input_shape {self.input_shape} (*spatial, channels)"

    def apply(self, x) -> np.ndarray:
        """Apply to a channels-last array of shape ``(*batch, *input_shape)``.

        Returns an array of shape ``(*batch, *output_shape)``.
        """
        return super().apply(x)

    # --- adjoint and transpose ------------------------------------------------------------
    def _adjoint(self) -> ChannelsLastOperator:
        if self._adjoint_op is None:
            adjoint = ChannelsLastOperator(self.channels_first.H)
            adjoint._adjoint_op = self
            self._adjoint_op = adjoint
        return self._adjoint_op

    def _transpose(self) -> ChannelsLastOperator:
        return ChannelsLastOperator(cast(ConvOperator, self.channels_first.T))

    # --- explicit forms -------------------------------------------------------------------
    def _cached_matrix(self) -> sp.csr_array:
        if self._matrix is None:
            self._matrix = _permuted(
                sp.csr_array(self.channels_first.matrix()),
                channels_last_order(self.channels_first.output_shape),
                channels_last_order(self.channels_first.input_shape),
            )
        return self._matrix


def _permuted(first: sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> sp.csr_array:
    """``B[i, j] = first[rows[i], cols[j]]`` for permutations ``rows`` and ``cols``, as CSR.

    Row ``i`` of ``B`` is row ``rows[i]`` of ``first`` with its column indices renumbered by
    the inverse of ``cols``: one gather of the stored entries, O(nnz), no Python loop.
    """
    first.sort_indices()
    lengths = np.diff(first.indptr)[rows]
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    # stored position of each entry of B in first: its row's start there, plus its offset
    source = np.repeat(first.indptr[rows].astype(np.int64) - indptr[:-1], lengths)
    source += np.arange(indptr[-1], dtype=np.int64)
    inverse = np.empty_like(cols)
    inverse[cols] = np.arange(cols.size, dtype=np.int64)
    permuted = sp.csr_array(
        (first.data[source], inverse[first.indices[source]], indptr), shape=first.shape
    )
    permuted.sort_indices()
    return permuted
