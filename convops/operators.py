"""``ConvOperator``: the convolution and its adjoint as scipy ``LinearOperator``s.

The operator layer only flattens, dispatches to a realisation (:mod:`convops.realisations.matrix`,
:mod:`convops.realisations.direct`, :mod:`convops.realisations.fft`, by name in
:data:`~convops.realisations.REALISATIONS`) and holds their typed
:class:`~convops.realisations.contract.RealisationCache` (the kernel spectrum, the CSR
matrix, the direct plans).  ``A`` and ``A.H`` share one cache, so the spectrum is computed
once for both.  ``method="auto"`` asks the cost model, :func:`convops.cost.choose_method`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .cost import choose_method, work_bytes
from .flat_operator import DENSE_LIMIT_BYTES, FlatOperator
from .geometry import (
    ConvGeometry,
    Method,
    PaddingArg,
    as_numeric_array,
    make_geometry,
    normalize_dtype,
    validate_method,
)
from .realisations import REALISATIONS, RealisationCache
from .realisations.matrix import adjoint_matrix_of, matrix_of
from .realisations.workspace import check_work

__all__ = ["DENSE_LIMIT_BYTES", "REALISATIONS", "ConvOperator", "choose_method"]


class _Shared:
    """What ``A`` and all its adjoints/transposes share: kernel, method, cache."""

    def __init__(self, kernel: np.ndarray, geometry: ConvGeometry, method: str):
        self.kernel = kernel
        self.canonical = geometry.canonical_kernel(kernel)
        self.method = choose_method(geometry, dtype=kernel.dtype) if method == "auto" else method
        self.cache = RealisationCache()


def _uninitialised(cls: type[ConvOperator]) -> ConvOperator:
    """An instance of ``cls`` before ``_init``: the public constructor validates arguments
    that the internal constructors (a given geometry, a sibling) already hold validated.

    ``LinearOperator.__new__`` does nothing for a subclass beyond ``object.__new__`` (and a
    check that ``_matvec`` is overridden, which it is).
    """
    return object.__new__(cls)


class ConvOperator(FlatOperator):
    r"""A convolution (or, via ``.H``, its transposed convolution) as a ``LinearOperator``.

    ``A`` acts on flattened vectors of the input (C order over ``(C_in, *n)``, or ``n`` for a
    single-channel kernel) as the deep-learning convolution (cross-correlation)

    .. math::

        y[c_o, o] = \sum_{c_i \in \mathrm{group}(c_o)} \sum_t
                    w[c_o, c_i \bmod (C_{in}/G), t]\; \tilde x[c_i, o s + t d],

    where :math:`\tilde x` is the input padded by ``padding`` with the ``boundary`` mode.
    Its adjoint ``A.H`` (the transposed convolution) scatters:
    :math:`\tilde x[c_i, o s + t d] \mathrel{+}= \overline{w[c_o, c_i, t]}\, y[c_o, o]`, then
    folds the padding back.  In the frequency domain ``A`` multiplies by the kernel spectrum
    Ĥ and ``A.H`` by conj(Ĥ) (see :mod:`convops.realisations.fft`).

    Parameters
    ----------
    kernel : array_like
        ``k`` (single channel, ``kernel.ndim == len(input_shape)``) or
        ``(C_out, C_in/groups, *k)`` (PyTorch's ``conv`` weight layout).
    input_shape : tuple of int
        Shape of the unflattened input: ``n`` or ``(C_in, *n)``, 1 to 3 spatial axes.
    stride, padding, dilation, groups, boundary, flip
        See :func:`convops.geometry.make_geometry`.
    method : {"auto", "direct", "fft", "matrix"}
        The realisation; ``"auto"`` picks ``"direct"`` or ``"fft"`` with
        :func:`choose_method`.  ``op.method`` names the one used.

    Attributes
    ----------
    geometry : ConvGeometry
        Shapes and normalised parameters (``geometry.transposed`` is True for ``A.H``).
    input_shape, output_shape : tuple of int
        Unflattened shapes of what the operator takes and returns.
    kernel : ndarray
        The operator's own read-only copy of the kernel as given (not flipped), in the
        operator's dtype.
    method : str
        ``"direct"``, ``"fft"`` or ``"matrix"``.

    Notes
    -----
    ``.H`` / ``adjoint()`` is the conjugate transpose (the transposed convolution);
    ``.T`` is the plain transpose (scipy's contract), the same operator for real kernels.
    ``dtype`` follows the kernel (integers promoted to float64, float16 to float32, other
    byte orders to the native one); results take ``numpy.result_type`` of that and the
    input's (promoted) dtype, and every realisation accumulates in that result dtype.

    What the operator keeps never changes behind the user's back: it copies the kernel
    (``op.kernel`` is read-only), :meth:`matrix` returns a new copy of its cached matrix,
    and results are fresh arrays.  An empty batch (a leading axis of length 0 in
    :meth:`apply`, zero columns in ``matmat``) gives an empty result of the right shape.
    An application whose estimated memory (:func:`convops.cost.work_bytes`) exceeds
    ``convops.get_config().max_work_bytes`` is refused before anything is allocated.

    Non-finite values: NaN and inf propagate as the linear algebra says in ``"direct"``
    and ``"matrix"`` (an output is non-finite where its window reads one).  The FFT
    realisation mixes every input into every frequency, so one non-finite input (or
    kernel entry) makes every output NaN; it warns (``RuntimeWarning``) when that
    happens.  ``method="auto"`` chooses by speed alone and may pick ``"fft"``: pass
    ``method="direct"`` for data that may hold non-finite values.

    Examples
    --------
    >>> import numpy as np, convops
    >>> A = convops.ConvOperator(np.arange(1.0, 10).reshape(3, 3), (4, 4))
    >>> A.shape, A.H.shape
    ((4, 16), (16, 4))
    >>> A.matrix().toarray()[0].astype(int).tolist()
    [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0]
    """

    def __init__(
        self,
        kernel,
        input_shape: Sequence[int],
        *,
        stride: int | Sequence[int] = 1,
        padding: PaddingArg = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        boundary: str = "zeros",
        flip: bool = False,
        method: Method = "auto",
    ):
        kernel = as_numeric_array(kernel, "kernel")
        validate_method(method)
        geometry = make_geometry(
            kernel.shape,
            input_shape,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            boundary=boundary,
            flip=flip,
        )
        self._init(kernel, geometry, method)

    @classmethod
    def from_geometry(cls, kernel, geometry: ConvGeometry, method: Method = "auto") -> ConvOperator:
        """The operator of an existing geometry (``A``, or ``A*`` if ``geometry.transposed``)."""
        kernel = as_numeric_array(kernel, "kernel")
        validate_method(method)
        if tuple(kernel.shape) != geometry.kernel_shape:
            raise ValueError(
                f"kernel of shape {kernel.shape} does not match the geometry, which expects "
                f"{geometry.kernel_shape}"
            )
        op = _uninitialised(cls)
        op._init(kernel, geometry, method)
        return op

    def _init(
        self, kernel: np.ndarray, geometry: ConvGeometry, method, shared: _Shared | None = None
    ):
        dtype = normalize_dtype(kernel.dtype)
        if shared is None:
            # the operator's own read-only copy: writing into the array the user passed (or
            # into op.kernel) can change no realisation behind the user's back
            kernel = np.array(kernel, dtype=dtype, order="C", copy=True)
            kernel.setflags(write=False)
            shared = _Shared(kernel, geometry, method)
        self._shared = shared
        self.geometry = geometry
        self._adjoint_op: ConvOperator | None = None  # built once: solvers call rmatvec often
        # scipy-stubs declare no LinearOperator.__init__; scipy's documented subclass
        # contract is this call
        super().__init__(dtype=dtype, shape=geometry.shape)  # type: ignore[call-arg]

    def _sibling(self, geometry: ConvGeometry) -> ConvOperator:
        op = _uninitialised(ConvOperator)
        op._init(self._shared.kernel, geometry, self._shared.method, shared=self._shared)
        return op

    # --- attributes ---------------------------------------------------------------------
    @property
    def kernel(self) -> np.ndarray:
        return self._shared.kernel

    @property
    def method(self) -> str:
        return self._shared.method

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.geometry.input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.geometry.output_shape

    @property
    def transposed(self) -> bool:
        """True for the transposed convolution ``A*``."""
        return self.geometry.transposed

    def __repr__(self) -> str:
        return f"<{self.shape[0]}x{self.shape[1]} ConvOperator, method={self.method!r}, dtype={self.dtype}: {self.geometry}>"

    # --- application ----------------------------------------------------------------------
    def _result_dtype(self, x: np.ndarray) -> np.dtype:
        return np.result_type(self.dtype, normalize_dtype(x.dtype))

    def _run(self, batch_in: np.ndarray) -> np.ndarray:
        """Apply to ``(B, *input_shape)``; returns ``(B, *output_shape)``."""
        g = self.geometry
        batch = batch_in.shape[0]
        dtype = self._result_dtype(batch_in)
        if batch == 0:  # an empty batch has an empty result (PyTorch's behaviour)
            return np.zeros((0, *self.output_shape), dtype=dtype)
        check_work(work_bytes(g, batch, dtype, self.method), f"applying this {self!r}")
        x = batch_in.astype(dtype, copy=False)
        if not g.multichannel:
            x = x.reshape((batch, 1) + x.shape[1:])
        # every realisation accumulates in the result dtype (a float32 kernel on float64
        # data folds its border taps in float64, also in the matrix realisation)
        kernel = self._shared.canonical.astype(dtype, copy=False)
        realisation = REALISATIONS[self.method]
        run = realisation.adjoint if g.transposed else realisation.forward
        out = run(x, kernel, g, self._shared.cache)
        return out.reshape((batch,) + self.output_shape).astype(dtype, copy=False)

    # --- adjoint and transpose ------------------------------------------------------------
    def _adjoint(self) -> ConvOperator:
        if self._adjoint_op is None:
            adjoint = self._sibling(self.geometry.transpose())
            adjoint._adjoint_op = self
            self._adjoint_op = adjoint
        return self._adjoint_op

    def _transpose(self) -> ConvOperator:
        if not np.iscomplexobj(self.kernel):
            return self._adjoint()
        # Aᵀ = conj(A)ᴴ: the adjoint of the operator with the conjugated kernel
        conj = _uninitialised(ConvOperator)
        conj._init(np.conj(self.kernel), self.geometry, self.method)
        return conj._adjoint()

    # --- explicit forms ----------------------------------------------------------------------
    def _cached_matrix(self) -> sp.csr_array:
        shared = self._shared
        if self.geometry.transposed:
            return adjoint_matrix_of(shared.canonical, self.geometry, shared.cache)
        return matrix_of(shared.canonical, self.geometry, shared.cache)

    # --- the frequency-domain factorisation -------------------------------------------------
    def factors(self):
        """The FFT factorisation ``A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P`` (or of ``A*``).

        See :func:`convops.spectral.factors`: a :class:`~convops.spectral.FactorChain` of named
        factors in application order, whatever ``method`` realises this operator.
        """
        from .spectral import factors  # imported here: spectral is the layer above this one

        return factors(self)
