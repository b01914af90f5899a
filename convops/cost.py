"""The cost model behind ``method="auto"``: estimated run times of the realisations.

:func:`choose_method` counts the operations of the direct and the FFT realisation for a
geometry and multiplies them by per-operation costs measured on a 2-core machine (numpy 2 /
OpenBLAS, scipy.fft).  The coefficients are the module constants below, each next to what
it models; the thresholds that decide how the direct realisation splits its work (its
cache block and its threading threshold) are imported from where that realisation's
code reads them, so retuning the realisation retunes the model with it.

Times are in seconds; coefficients named ``*_NS`` are nanoseconds (times :data:`NS`).
"""

from __future__ import annotations

import math
from typing import Literal, overload

import numpy as np
from numpy.typing import DTypeLike

from .geometry import ConvGeometry
from .realisations.direct import BLOCK_ELEMENTS, IM2COL_BUDGET_BYTES
from .realisations.workspace import DIRECT_THREADS_MIN_ELEMENTS, get_config

__all__ = ["choose_method", "work_bytes"]

#: One nanosecond, in seconds: the unit of the per-operation coefficients.
NS = 1e-9

#: Python cost of one application (dispatch, plans, allocation), seconds.
CALL_S = 40e-6

# --- direct, one channel -----------------------------------------------------------------
#: ns per multiply-add of the tap loop, on one core, double precision.
DIRECT_MULTIPLY_ADD_NS = 0.45
#: s per tap and cache block of the tap loop (the Python work of one numpy call).
DIRECT_TAP_BLOCK_S = 1.5e-6
#: ns per entry of the padded grid for the passes over it (pad the source, crop the sum).
DIRECT_PADDED_PASS_NS = 1.0
#: Speed-up of the tap loop once it runs on the thread pool (2 cores, memory-bound).
DIRECT_THREAD_SPEEDUP = 1.8
#: Relative cost of single precision in the tap loop (half the memory traffic).
DIRECT_SINGLE_FACTOR = 0.6
#: Relative cost of complex data in the tap loop (a complex multiply-add is 4 real ones,
#: on twice the memory).
DIRECT_COMPLEX_FACTOR = 2.5

# --- direct, channels --------------------------------------------------------------------
#: ns per flop of the BLAS GEMM in single precision (~100 GFLOP/s).
GEMM_FLOP_NS_SINGLE = 0.01
#: ns per flop of the BLAS GEMM in double precision (~50 GFLOP/s).
GEMM_FLOP_NS_DOUBLE = 0.02
#: Relative cost of a complex GEMM flop (a complex multiply-add is 4 real ones).
GEMM_COMPLEX_FACTOR = 4
#: ns per value the im2col copies (``C_in·T`` per output).
IM2COL_COPY_NS = 0.3
#: ns per channel and entry of the padded grid (pad the inputs, crop the outputs).
GEMM_PADDED_PASS_NS = 1.0

# --- fft ---------------------------------------------------------------------------------
#: ns per ``N log₂ N`` of one transform of a 2-D or 3-D grid, double precision, two workers.
FFT_POINT_NS = 0.2
#: The same for 1-D grids, which scipy does not split over threads.
FFT_POINT_NS_1D = 0.6
#: Relative cost of single-precision transforms.
FFT_SINGLE_FACTOR = 0.7
#: Relative cost of complex data (full complex transforms instead of real half spectra).
FFT_COMPLEX_FACTOR = 2.0
#: Fixed cost of one application per number of spatial axes, seconds (each axis is one
#: scipy call per direction, plus the multiplier and the crop).
FFT_FIXED_S = {1: 50e-6, 2: 0.4e-3, 3: 0.9e-3}
#: ns per channel and grid point for the passes over the grid (place the input, crop).
FFT_GRID_PASS_NS = 1.0
#: ns per complex entry of the per-frequency ``C_out/G × C_in/G`` block products
#: (numpy's matmul), complex data; real data have half the frequencies (half spectrum).
FFT_BLOCK_PRODUCT_NS = 1.0


@overload
def choose_method(
    geometry: ConvGeometry,
    batch: int = 1,
    dtype: DTypeLike = np.float64,
    *,
    costs: Literal[False] = False,
) -> str: ...


@overload
def choose_method(
    geometry: ConvGeometry,
    batch: int = 1,
    dtype: DTypeLike = np.float64,
    *,
    costs: Literal[True],
) -> dict[str, float]: ...


def choose_method(
    geometry: ConvGeometry,
    batch: int = 1,
    dtype: DTypeLike = np.float64,
    *,
    costs: bool = False,
) -> str | dict[str, float]:
    r"""Pick ``"direct"`` or ``"fft"`` by estimating both run times (seconds).

    In the spirit of :func:`scipy.signal.choose_conv_method`: operation counts times
    per-operation costs measured on a 2-core machine (numpy 2 / OpenBLAS, scipy.fft),
    plus the fixed Python cost of a call.  ``"matrix"`` is never chosen: building it
    costs far more than applying either of the others, and its matvec is no faster than
    the direct realisation it is built from.

    * direct, one channel: ``T·M`` multiply-adds (``T`` taps, ``M`` outputs; the
      adjoint does the same number, one phase of the input at a time) at ~0.45 ns each
      on one core, split over the cores for large outputs, plus ~1.5 µs per tap and
      cache block and two passes over the padded grid (pad, crop).
    * direct, channels: ``2·C_out·(C_in/G)·T·M`` flops of one BLAS GEMM (~100 GFLOP/s
      in float32) and the im2col copy of ``C_in·T`` values per output (an upper bound
      where the direct realisation copies less, one kernel row at a time).
    * fft: a transform per input and output channel on the grid ``N``
      (``~0.25 ns · N log₂ N`` each with two workers, more for 1-D grids, which scipy
      does not split over threads), ``C_out·(C_in/G)`` complex products per frequency
      for channels, and a fixed cost per spatial axis (each axis is one scipy call).

    Single precision is cheaper for both (factor 0.6–0.7), complex data dearer (the
    direct realisation ~2.5×, full complex transforms ~2×).  The choice is within 20 %
    of the faster realisation on the benchmark grid (``benchmarks/run.py``; worst 1.04 and
    1.21 in two full runs, median 1.00).  The coefficients are the constants of
    :mod:`convops.cost`.

    Parameters
    ----------
    geometry : ConvGeometry
    batch : int
        Number of inputs applied at once (``matmat`` columns).
    dtype : dtype
        The operator's dtype (single/double precision, real/complex).
    costs : bool
        Return the estimates ``{"direct": seconds, "fft": seconds}`` instead of the name.
    """
    g = geometry
    dt = np.dtype(dtype)
    single = dt in (np.float32, np.complex64)
    cplx = dt.kind == "c"
    D = g.ndim
    taps = math.prod(g.kernel_size)
    m = math.prod(g.spatial_out)
    n = math.prod(g.spatial_in)
    grid = math.prod(g.fft_shape)
    padded = math.prod(g.padded_extent)
    cin_g = g.in_channels // g.groups
    batch = max(int(batch), 1)

    # --- direct --------------------------------------------------------------------------
    if not g.multichannel:
        prec = (DIRECT_SINGLE_FACTOR if single else 1.0) * (DIRECT_COMPLEX_FACTOR if cplx else 1.0)
        dest = batch * max(m, n)
        # the tap loop splits into threads from the realisation's own threshold on
        threaded = dest >= DIRECT_THREADS_MIN_ELEMENTS and get_config().threads > 1
        cores = DIRECT_THREAD_SPEEDUP if threaded else 1.0
        blocks = -(-dest // BLOCK_ELEMENTS)
        t_direct = (
            CALL_S
            + DIRECT_TAP_BLOCK_S * taps * blocks
            + DIRECT_MULTIPLY_ADD_NS * NS * prec * batch * taps * m / cores
            + DIRECT_PADDED_PASS_NS * NS * prec * batch * padded
        )
    else:
        flop = (
            (GEMM_FLOP_NS_SINGLE if single else GEMM_FLOP_NS_DOUBLE)
            * NS
            * (GEMM_COMPLEX_FACTOR if cplx else 1)
        )
        t_direct = (
            CALL_S
            + flop * 2 * batch * g.out_channels * cin_g * taps * m
            + IM2COL_COPY_NS * NS * batch * g.in_channels * taps * m
            + GEMM_PADDED_PASS_NS * NS * batch * (g.in_channels + g.out_channels) * padded
        )

    # --- fft -----------------------------------------------------------------------------
    per_point = (
        (FFT_POINT_NS if D > 1 else FFT_POINT_NS_1D)
        * NS
        * (FFT_SINGLE_FACTOR if single else 1.0)
        * (FFT_COMPLEX_FACTOR if cplx else 1.0)
    )
    log = math.log2(max(grid, 2))
    # with a stride, one of the two transforms runs on a grid Π s times smaller
    strided = 0.5 + 0.5 / math.prod(g.stride)
    t_fft = (
        FFT_FIXED_S[D]
        + per_point * strided * batch * (g.in_channels + g.out_channels) * grid * log
        + FFT_GRID_PASS_NS * NS * batch * (g.in_channels + g.out_channels) * grid
    )
    if g.multichannel:
        # per frequency, one (C_out/G × C_in/G) block product, through numpy's matmul
        t_fft += (
            FFT_BLOCK_PRODUCT_NS * NS * batch * g.out_channels * cin_g * grid / (1 if cplx else 2)
        )
    if costs:
        return {"direct": t_direct, "fft": t_fft}
    return "direct" if t_direct <= t_fft else "fft"


def work_bytes(geometry: ConvGeometry, batch: int, dtype: DTypeLike, method: str) -> int:
    """Memory (bytes) one application of ``method`` to ``batch`` inputs may need, at most.

    Computed from the shapes alone, with Python integers, before anything is allocated:
    the input and the output, plus what the realisation works on —

    * ``"direct"``: the padded source and destination (for the zero boundary only the
      positions the taps read, at most ``m·k`` per axis besides the input; for the others
      the whole padded extent, which the pad and the fold hold), and for channels the
      im2col columns, which are chunked to at most
      :data:`convops.realisations.direct.IM2COL_BUDGET_BYTES`;
    * ``"fft"``: every channel's transform on the FFT grid (complex), twice (the
      transform and the product), and the cached kernel spectrum with its multiplier;
    * ``"matrix"``: nothing beyond the input and output (the CSR matrix is accounted
      for when it is built).

    An upper bound, not a prediction: :func:`convops.realisations.workspace.check_work`
    compares it with ``max_work_bytes``.
    """
    g = geometry
    dt = np.dtype(dtype)
    item = dt.itemsize
    complex_item = item if dt.kind == "c" else 2 * item
    batch = max(int(batch), 1)
    cin, cout = g.in_channels, g.out_channels
    n, m = math.prod(g.spatial_in), math.prod(g.spatial_out)
    total = batch * (cin * n + cout * m) * item
    if method == "direct":
        if g.boundary == "zeros":
            # only what the taps read is zero-padded (polyphase components for a stride):
            # at most m·k positions per axis besides the input's own n
            read = math.prod(
                min(e, mi * k + n_a)
                for e, mi, k, n_a in zip(
                    g.padded_extent, g.spatial_out, g.kernel_size, g.spatial_in, strict=True
                )
            )
        else:  # the boundary's pad (A) and fold (A*) hold the whole padded extent
            read = math.prod(g.padded_extent)
        total += batch * (cin + cout) * read * item
        if g.multichannel:
            total += min(IM2COL_BUDGET_BYTES, batch * cin * math.prod(g.kernel_size) * m * item)
    elif method == "fft":
        grid = math.prod(g.fft_shape)
        total += 2 * batch * (cin + cout) * grid * complex_item
        total += 2 * cout * (cin // g.groups) * grid * complex_item
    return total
