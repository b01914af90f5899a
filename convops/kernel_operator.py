r"""``KernelOperator``: a convolution as a linear map of its *kernel*, and the weight gradient.

A convolution layer is linear twice: in its input (:class:`~convops.ConvOperator`) and in its
kernel.  For a fixed input ``x`` the map ``A_x: w ↦ conv(x, w)`` has the im2col ("unfold")
matrix of ``x`` as its matrix (one row per output: the patch of ``x`` it reads), and its
adjoint ``A_x*`` is the weight gradient of the layer: for ``L(w) = ½‖conv(x, w) − y‖²``,
``∇L(w) = A_x*(conv(x, w) − y)``.  The operator layer only flattens, dispatches to a
realisation of :mod:`convops.realisations.kernel` and holds its cache (the padded input's
spectrum, the CSR matrix), shared by ``A_x`` and ``A_x.H``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from . import cost
from ._validate import shape_tuple, validate_bool
from .cost import choose_method
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
from .realisations.kernel import (
    KERNEL_REALISATIONS,
    KernelCache,
    adjoint_matrix_of,
    matrix_of,
    work_bytes,
)
from .realisations.workspace import check_work

__all__ = ["DENSE_LIMIT_BYTES", "KernelOperator", "choose_kernel_method"]


def _split_batch(
    x: np.ndarray, kernel_shape: tuple[int, ...], batched: object
) -> tuple[bool, tuple[int, ...]]:
    """Whether ``x`` carries a leading batch axis, and the convolution's input shape.

    With ``K`` kernel axes: a single-channel kernel (``K`` spatial axes) takes ``x`` of
    ``K`` axes (one input) or ``K + 1`` (a batch); a multi-channel kernel
    ``(C_out, C_in/groups, *k)`` takes ``(C_in, *n)`` (``K − 1`` axes) or ``(N, C_in, *n)``
    (``K``).  ``K`` axes is therefore read as single-channel, as ``ConvOperator`` reads a
    kernel with as many axes as its input, unless ``K > 3`` (no single-channel kernel has
    more than 3 axes); ``batched=True`` settles the one ambiguous case, a batch of 1-D
    multi-channel inputs with a ``(C_out, C_in/groups, k)`` kernel.
    """
    K = len(kernel_shape)
    if batched is None:
        # a multi-channel kernel has at least 3 axes, a single-channel one at most 3
        if x.ndim == K + 1 and K <= 3:
            batched = True
        elif x.ndim == K - 1 and K >= 3:
            batched = False
        elif x.ndim == K and K >= 1:
            batched = K > 3
        else:
            raise ValueError(
                f"x of shape {x.shape} does not fit kernel_shape {kernel_shape}: a "
                "single-channel kernel k takes x of shape n or (N, *n) (as many axes as the "
                "kernel, or one more); a multi-channel kernel (C_out, C_in/groups, *k) takes "
                "(C_in, *n) or (N, C_in, *n)"
            )
    else:
        batched = validate_bool(batched, "batched")
    if batched and x.ndim < 2:
        raise ValueError(
            f"batched=True needs x with a leading batch axis and at least one more; got x of "
            f"shape {x.shape}"
        )
    conv_ndim = x.ndim - batched
    if conv_ndim not in (K, K - 1) or (conv_ndim == K - 1 and K < 3):
        raise ValueError(
            f"x of shape {x.shape} (batched={batched}) does not fit kernel_shape "
            f"{kernel_shape}: a single-channel kernel k takes x of shape n or (N, *n), a "
            "multi-channel kernel (C_out, C_in/groups, *k) (C_in, *n) or (N, C_in, *n)"
        )
    return bool(batched), tuple(x.shape[1:] if batched else x.shape)


def choose_kernel_method(geometry: ConvGeometry, batch: int, dtype: np.dtype) -> str:
    """``"direct"`` or ``"fft"`` for the kernel map of ``geometry`` on a batch of ``batch`` inputs.

    The direct realisation makes the convolution's multiply-adds in both directions, so its
    estimate is :func:`convops.cost.choose_method`'s.  The FFT realisation keeps the spectrum
    of ``x``: each application transforms only its outputs (``A_x``: one inverse transform
    per batch item and output channel; ``A_x*``: one forward transform of ``y`` each), where
    the input direction transforms inputs and outputs.  So its estimate is the cost model's,
    with the ``C_in + C_out`` transforms per batch item replaced by ``C_out`` (the kernel's
    spectrum and the read-out at the taps are small DFT matrices, not counted).
    """
    costs = choose_method(geometry, batch=batch, dtype=dtype, costs=True)
    g = geometry
    dt = np.dtype(dtype)
    single = dt in (np.float32, np.complex64)
    per_point = (
        (cost.FFT_POINT_NS if g.ndim > 1 else cost.FFT_POINT_NS_1D)
        * cost.NS
        * (cost.FFT_SINGLE_FACTOR if single else 1.0)
        * (cost.FFT_COMPLEX_FACTOR if dt.kind == "c" else 1.0)
    )
    grid = math.prod(g.fft_shape)
    transforms = per_point * batch * grid * math.log2(max(grid, 2))
    # the cost model's transforms: (C_in + C_out)·(0.5 + 0.5/Πs) per batch item; ours: C_out
    strided = 0.5 + 0.5 / math.prod(g.stride)
    modelled = transforms * (g.in_channels + g.out_channels) * strided
    t_fft = costs["fft"] - modelled + transforms * g.out_channels
    return "direct" if costs["direct"] <= t_fft else "fft"


class _Shared:
    """What ``A_x`` and its adjoint share: the fixed input, the method, the cache."""

    def __init__(self, x: np.ndarray, batched: bool, geometry: ConvGeometry, method: str):
        dtype = normalize_dtype(x.dtype)
        # the operator's own read-only copy: writing into the array the user passed cannot
        # change what the operator computes
        self.x: np.ndarray = np.array(x, dtype=dtype, order="C", copy=True)
        self.x.setflags(write=False)
        self.batched = batched
        n_batch = x.shape[0] if batched else 1
        #: ``x`` as the realisations take it: ``(N, C_in, *n)`` (a read-only view)
        self.n_batch: int = n_batch
        self.xb: np.ndarray = self.x.reshape((n_batch, geometry.in_channels) + geometry.spatial_in)
        if method == "auto":
            method = choose_kernel_method(geometry, max(n_batch, 1), dtype)
        self.method = method
        self.cache = KernelCache()

    def x_as(self, dtype: np.dtype) -> np.ndarray:
        return self.xb.astype(dtype, copy=False)


class KernelOperator(FlatOperator):
    r"""The convolution as a linear map of its kernel: ``A_x: w ↦ conv(x, w)`` for a fixed ``x``.

    ``A_x`` acts on flattened kernels (C order over ``kernel_shape``) and returns the flattened
    convolution of ``x`` with them, exactly what ``ConvOperator(w, …) @ x`` computes:

    .. math::

        y[b, c_o, o] = \sum_{i < C_{in}/G} \sum_t
                       w[c_o, i, t]\; \tilde x[b, g C_{in}/G + i, o s + t d],
        \qquad g = \lfloor c_o / (C_{out}/G) \rfloor,

    with :math:`\tilde x` the input padded by ``padding`` with the ``boundary`` mode and ``b``
    the batch of ``x``.  Its matrix is the im2col ("unfold") matrix of ``x``: row
    ``(b, c_o, o)`` holds the patch that output reads, in the columns of channel ``c_o``.
    The adjoint ``A_x.H`` is the correlation of ``x`` with ``y``, summed over the batch — the
    weight gradient of a convolution layer (``torch.nn.grad.conv2d_weight``):

    .. math::

        \bar w[c_o, i, t] = \sum_b \sum_o
                            \overline{\tilde x[b, g C_{in}/G + i, o s + t d]}\; y[b, c_o, o].

    In the frequency domain ``A_x`` multiplies the spectrum ``X̂`` of ``x̃`` by the kernel
    spectrum ``Ĥ`` and ``A_x.H`` forms the cross-spectrum ``conj(X̂)·Ŷ`` and reads its inverse
    transform at the taps ``t·d`` (see :mod:`convops.realisations.kernel`).

    Parameters
    ----------
    x : array_like
        The fixed input: ``n`` or ``(N, *n)`` for a single-channel kernel, ``(C_in, *n)`` or
        ``(N, C_in, *n)`` for a multi-channel one (1 to 3 spatial axes).  A leading batch axis
        ``N`` stacks the outputs: ``output_shape`` starts with ``N``.
    kernel_shape : tuple of int
        The shape of the kernels the operator takes: ``k`` or ``(C_out, C_in/groups, *k)``.
    stride, padding, dilation, groups, boundary, flip
        As for :class:`~convops.ConvOperator` (see :func:`convops.geometry.make_geometry`):
        the geometry is validated from ``(kernel_shape, x's shape without the batch axis)``,
        with the same messages.
    method : {"auto", "direct", "fft", "matrix"}
        The realisation; ``"auto"`` picks ``"direct"`` or ``"fft"`` from estimated run
        times (:func:`choose_kernel_method`).  ``op.method`` names the one used.
    batched : bool, optional
        Whether ``x``'s first axis is a batch.  Default: inferred from the number of axes
        (``x`` with one axis more than a single-channel kernel, or as many as a multi-channel
        kernel with 2 or 3 spatial axes, is a batch).  Only a batch of 1-D multi-channel
        inputs needs it: ``x`` of shape ``(N, C_in, L)`` with a kernel ``(C_out, C_in/G, k)``
        has as many axes as the kernel and is read as a single-channel 3-D input unless
        ``batched=True``.

    Attributes
    ----------
    x : ndarray
        The operator's own read-only copy of ``x``, in the operator's dtype.
    geometry : ConvGeometry
        The convolution's geometry (its input is ``x`` without the batch axis, its kernel the
        operator's input); ``geometry.transposed`` is True for ``A_x.H``.
    input_shape, output_shape : tuple of int
        ``kernel_shape`` and ``(N,)`` (if batched) ``+ geometry.conv_output_shape``; swapped
        for the adjoint.
    method : str
        ``"direct"``, ``"fft"`` or ``"matrix"``.
    batched : bool
        Whether ``x`` carries a batch axis.

    Notes
    -----
    ``.H`` / ``adjoint()`` is the conjugate transpose, ``.T`` the plain transpose (the same
    operator for real ``x``).  ``dtype`` follows ``x`` (integers promoted to float64, float16
    to float32, other byte orders to the native one); results take ``numpy.result_type`` of
    that and the kernel's (or ``y``'s) promoted dtype, and every realisation computes in that
    result dtype.  The operator copies ``x`` (read-only); :meth:`matrix` returns a new copy
    of its cached matrix; results are fresh arrays.  An empty batch gives an empty result of
    the right shape; an application whose estimated memory exceeds
    ``convops.get_config().max_work_bytes`` is refused before anything is allocated.  The
    FFT realisation spreads one non-finite value over every output (and warns).

    Examples
    --------
    The 2×2 kernel on a 3×3 image: each row of the matrix is the patch one output reads.

    >>> import numpy as np, convops
    >>> x = np.arange(1.0, 10.0).reshape(3, 3)
    >>> K = convops.KernelOperator(x, (2, 2))
    >>> K.shape, K.output_shape
    ((4, 4), (2, 2))
    >>> K.matrix().toarray().astype(int).tolist()
    [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]
    >>> w = np.array([[1.0, 0.0], [0.0, -1.0]])
    >>> bool(np.allclose(K.apply(w), convops.ConvOperator(w, (3, 3)).apply(x)))
    True
    """

    def __init__(
        self,
        x,
        kernel_shape: Sequence[int],
        *,
        stride: int | Sequence[int] = 1,
        padding: PaddingArg = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        boundary: str = "zeros",
        flip: bool = False,
        method: Method = "auto",
        batched: bool | None = None,
    ):
        x = as_numeric_array(x, "x")
        kernel_shape = shape_tuple(kernel_shape, "kernel_shape")
        validate_method(method)
        batched, conv_input = _split_batch(x, kernel_shape, batched)
        geometry = make_geometry(
            kernel_shape,
            conv_input,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            boundary=boundary,
            flip=flip,
        )
        self._init(_Shared(x, batched, geometry, method), geometry)

    def _init(self, shared: _Shared, geometry: ConvGeometry) -> None:
        self._shared = shared
        self.geometry = geometry
        self._adjoint_op: KernelOperator | None = None
        rows, cols = math.prod(self._forward_output_shape()), math.prod(geometry.kernel_shape)
        shape = (cols, rows) if geometry.transposed else (rows, cols)
        # scipy-stubs declare no LinearOperator.__init__; this is scipy's subclass contract
        super().__init__(dtype=shared.x.dtype, shape=shape)  # type: ignore[call-arg]

    def _sibling(self, shared: _Shared, geometry: ConvGeometry) -> KernelOperator:
        op = object.__new__(KernelOperator)
        op._init(shared, geometry)
        return op

    # --- attributes -----------------------------------------------------------------------
    @property
    def x(self) -> np.ndarray:
        return self._shared.x

    @property
    def method(self) -> str:
        return self._shared.method

    @property
    def batched(self) -> bool:
        return self._shared.batched

    @property
    def transposed(self) -> bool:
        """True for the adjoint (or transpose) ``A_x*``."""
        return self.geometry.transposed

    def _forward_output_shape(self) -> tuple[int, ...]:
        lead = (self._shared.n_batch,) if self._shared.batched else ()
        return lead + self.geometry.conv_output_shape

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """The shape of the kernels ``w`` (the input of ``A_x``, the output of ``A_x*``)."""
        return self.geometry.kernel_shape

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._forward_output_shape() if self.transposed else self.kernel_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.kernel_shape if self.transposed else self._forward_output_shape()

    def __repr__(self) -> str:
        name = "KernelOperator.H" if self.transposed else "KernelOperator"
        return (
            f"<{self.shape[0]}x{self.shape[1]} {name}, method={self.method!r}, "
            f"dtype={self.dtype}: w -> conv(x, w), x of shape {self.x.shape}, "
            f"{self.geometry.transpose() if self.transposed else self.geometry}>"
        )

    # --- application ----------------------------------------------------------------------
    def _run(self, batch_in: np.ndarray) -> np.ndarray:
        """Apply to ``(B, *input_shape)``; returns ``(B, *output_shape)``."""
        g = self.geometry
        shared = self._shared
        cols = batch_in.shape[0]
        dtype = np.result_type(self.dtype, normalize_dtype(batch_in.dtype))
        n_batch = shared.n_batch
        if cols == 0 or n_batch == 0:  # nothing to compute: an empty or all-zero result
            return np.zeros((cols,) + self.output_shape, dtype=dtype)
        check_work(work_bytes(g, n_batch, cols, dtype, self.method), f"applying this {self!r}")
        data = batch_in.astype(dtype, copy=False)
        x = shared.x_as(dtype)
        realisation = KERNEL_REALISATIONS[self.method]
        cin_g = g.in_channels // g.groups
        if g.transposed:
            y = data.reshape((cols, n_batch, g.out_channels) + g.spatial_out)
            out = realisation.adjoint(y, x, g, shared.cache)
        else:
            w = data.reshape((cols, g.out_channels, cin_g) + g.kernel_size)
            out = realisation.forward(w, x, g, shared.cache)
        return out.reshape((cols,) + self.output_shape).astype(dtype, copy=False)

    def _applied_name(self) -> str:
        return "y" if self.transposed else "w"

    def apply(self, w) -> np.ndarray:
        """Apply to an unflattened array of shape ``(*batch, *input_shape)``.

        For ``A_x`` the input is one or more kernels; for ``A_x.H`` one or more outputs ``y``.
        Returns an array of shape ``(*batch, *output_shape)``.
        """
        return super().apply(w)

    # --- adjoint and transpose ------------------------------------------------------------
    def _adjoint(self) -> KernelOperator:
        if self._adjoint_op is None:
            adjoint = self._sibling(self._shared, self.geometry.transpose())
            adjoint._adjoint_op = self
            self._adjoint_op = adjoint
        return self._adjoint_op

    def _transpose(self) -> KernelOperator:
        if not np.iscomplexobj(self.x):
            return self._adjoint()
        # A_xᵀ = conj(A_x)ᴴ = (A_conj(x))ᴴ: the adjoint of the operator of the conjugated x
        shared = self._shared
        conj = _Shared(np.conj(shared.x), shared.batched, self.geometry, shared.method)
        base = self._sibling(conj, _as_transposed(self.geometry, False))
        return base if self.transposed else base._adjoint()

    # --- explicit forms -------------------------------------------------------------------
    def _cached_matrix(self) -> sp.csr_array:
        shared = self._shared
        g = _as_transposed(self.geometry, False)
        if self.transposed:
            return adjoint_matrix_of(shared.xb, g, shared.cache)
        return matrix_of(shared.xb, g, shared.cache)


def _as_transposed(geometry: ConvGeometry, transposed: bool) -> ConvGeometry:
    """``geometry`` seen as ``A`` (``False``) or as ``A*`` (``True``)."""
    return geometry if geometry.transposed == transposed else geometry.transpose()
