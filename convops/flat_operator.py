"""``FlatOperator``: what ``ConvOperator`` and ``KernelOperator`` share as LinearOperators.

Both are linear maps between unflattened arrays (``input_shape`` → ``output_shape``); scipy
sees flattened vectors (C order).  This layer checks the flat shapes, routes ``matvec``,
``matmat``, ``rmatvec`` and ``rmatmat`` through the subclass's one method ``_run``
(``(B, *input_shape)`` → ``(B, *output_shape)``) and through its adjoint ``.H``, and hands
out the explicit matrix as a copy, refusing dense matrices over a size.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._validate import as_numeric_array

__all__ = ["DENSE_LIMIT_BYTES", "FlatOperator"]

#: ``toarray()`` refuses dense matrices larger than this many bytes (1 GiB).
DENSE_LIMIT_BYTES = 2**30


class FlatOperator(LinearOperator):
    """A LinearOperator over unflattened arrays; subclasses provide the maps.

    Subclasses define ``input_shape``, ``output_shape``, ``_run(batch)`` (apply to
    ``(B, *input_shape)``), ``_adjoint()`` (the operator ``.H`` returns) and
    ``_cached_matrix()`` (the CSR matrix they keep).  ``APPLIES_TO`` names what the
    operator is applied to in messages (``"x"`` for a convolution; the kernel map says
    ``"w"``, or ``"y"`` for its adjoint, through :meth:`_applied_name`).
    """

    APPLIES_TO = "x"

    def _applied_name(self) -> str:
        """What the operator is applied to, as messages name it."""
        return self.APPLIES_TO

    def _input_shape_text(self) -> str:
        """How messages describe ``input_shape``."""
        return f"input_shape {self.input_shape}"

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Unflattened shape of what the operator takes."""
        raise NotImplementedError

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Unflattened shape of what the operator returns."""
        raise NotImplementedError

    def _run(self, batch_in: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _cached_matrix(self) -> sp.csr_array:
        raise NotImplementedError

    def apply(self, x) -> np.ndarray:
        """Apply to an unflattened array of shape ``(*batch, *input_shape)``.

        Returns an array of shape ``(*batch, *output_shape)``.
        """
        name = self._applied_name()
        x = as_numeric_array(x, name)
        nd = len(self.input_shape)
        if x.ndim < nd or x.shape[x.ndim - nd :] != self.input_shape:
            raise ValueError(
                f"{name} of shape {x.shape} does not end with the operator's "
                f"{self._input_shape_text()}; leading batch axes are allowed, nothing else"
            )
        batch_shape = x.shape[: x.ndim - nd]
        # the batch count spelt out: -1 cannot be inferred when input_shape holds a 0
        out = self._run(x.reshape((math.prod(batch_shape),) + self.input_shape))
        return out.reshape(batch_shape + self.output_shape)

    # --- flat vectors (scipy's signatures, which scipy-stubs overload) ----------------------
    def _check_flat(self, v: np.ndarray, name: str, columns: bool) -> None:
        n = self.shape[1]
        ok = v.ndim == 2 and v.shape[0] == n if columns else v.shape in ((n,), (n, 1))
        if not ok:
            want = f"({n}, K)" if columns else f"({n},) or ({n}, 1)"
            raise ValueError(
                f"{name} of shape {v.shape} does not fit this {self.shape[0]}x{n} operator: "
                f"expected {want} (a flattened array of input_shape {self.input_shape}); "
                "use apply() for unflattened arrays"
            )

    def matvec(self, x):
        x = as_numeric_array(x, "x")
        self._check_flat(x, "x", columns=False)
        return super().matvec(x)

    def matmat(self, X):
        X = as_numeric_array(X, "X")
        self._check_flat(X, "X", columns=True)
        return super().matmat(X)

    def rmatvec(self, x):
        return self.H.matvec(x)

    def rmatmat(self, X):
        return self.H.matmat(X)

    def _matvec(self, x):
        return self._run(np.reshape(x, (1, *self.input_shape))).reshape(-1)

    def _matmat(self, X):
        X = np.asarray(X)
        cols = X.shape[1]
        out = self._run(np.reshape(X.T, (cols, *self.input_shape)))
        return out.reshape(cols, self.shape[0]).T

    def _rmatvec(self, x):
        return cast(FlatOperator, self.H)._matvec(x)

    def _rmatmat(self, X):
        return cast(FlatOperator, self.H)._matmat(X)

    # --- explicit forms -------------------------------------------------------------------
    def matrix(self) -> sp.csr_array:
        """The operator's matrix as a ``scipy.sparse.csr_array``.

        The matrix is built once and kept; each call returns a new copy of it (O(nnz)),
        which the caller may change freely.
        """
        # a copy: changing the returned matrix cannot change what the operator computes
        return self._cached_matrix().copy()

    def toarray(self, max_bytes: int = DENSE_LIMIT_BYTES) -> np.ndarray:
        """The dense matrix, refused when it would exceed ``max_bytes`` (default 1 GiB)."""
        rows, cols = self.shape
        need = rows * cols * self.dtype.itemsize
        if need > max_bytes:
            v = self._applied_name()
            raise ValueError(
                f"the dense {rows}x{cols} matrix would take {need / 2**30:.2f} GiB, over the "
                f"limit max_bytes={max_bytes} ({max_bytes / 2**30:.2f} GiB); use op.matrix() "
                f"(sparse) or apply the operator itself (op @ {v}, op.apply({v}))"
            )
        return self._cached_matrix().toarray()

    def todense(self, max_bytes: int = DENSE_LIMIT_BYTES) -> np.ndarray:
        """Same as :meth:`toarray`."""
        return self.toarray(max_bytes=max_bytes)
