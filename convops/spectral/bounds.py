r"""A certified interval around the spectral norm of any convolution: :func:`norm_bounds`.

``norm_bounds(op)`` returns ``lower <= ‖A‖₂ <= upper`` for every geometry convops supports
(any boundary, stride, dilation, padding, groups; 1D to 3D; real or complex kernels), with
the vector that attains ``lower`` and a sentence saying how each side was obtained.

The upper side: embeddings into circular convolutions
------------------------------------------------------
Write the convolution as ``A = V·P``: ``P`` fills the padded input ``x̃`` from ``x``
(entry ``p`` of ``x̃`` reads input entry ``π(p)``, or is zero), and ``V`` is the strided
sliding window on ``x̃``, ``y[o] = Σ_t w[t]·x̃[o·s + t·d]`` for ``o < m``.  Three facts make
``‖A‖`` computable from above:

1. *A restriction never increases the norm.*  If ``A = R·C·J`` where ``J`` embeds the input
   as a subset of coordinates and ``R`` keeps a subset of the outputs (both have norm
   ``<= 1``), then ``‖A‖ <= ‖C‖``.
2. *The strided circular convolution's norm is exact*
   (:func:`~convops.spectral.norms.polyphase_blocks`): on a grid ``N`` divisible by the
   stride it is block-diagonal after the polyphase split, and its norm is the largest
   singular value of its ``ΠN/Πs`` blocks.
3. *The padding map's norm is exact*: ``P`` is a Kronecker product of per-axis maps (times the
   identity on channels), each with one 1 per row of the positions the window reads, so
   ``PᵀP`` is diagonal, holding how often each input entry is read; ``‖P‖ = Π_axes
   sqrt(max count)`` (:func:`padding_map_norm`).

The candidates, of which the smallest is kept:

* **zeros** — place input entry ``i`` at position ``(i + lo) mod N`` of a grid with
  ``N >= max(n' + lo, E − lo, m·s)`` per axis and ``s | N`` (``E`` the padded extent the
  window reads, ``n' = min(n, E − lo)`` the input entries it reads).  Every read of the
  window either lands on its own input entry or on a grid position that holds no input,
  so ``A = R·C_N·J`` exactly and ``‖A‖ <= ‖C_N‖``.  The norm of ``C_N`` is the largest
  block norm *sampled* on ``N``'s frequencies, so it depends on ``N``: the smallest
  admissible grid is always tried, and the next multiples of the stride (up to
  :data:`GRIDS_TRIED` grids) while their blocks cost less than :data:`GRID_BUDGET` products
  with ``A``; the smallest bound is kept.  On 7×7–10×10 inputs the grids differ by ~1 %;
  on the 28²–224² ResNet-18 layers by < 0.1 %, where one grid is all the budget allows.
* **padded** (reflect, replicate, circular) — ``V`` on the padded extent is a restriction of
  ``C_N`` for ``N >= max(E, m·s)``, ``s | N``, so ``‖A‖ <= ‖C_N‖·‖P‖``.
* **circular rows** (circular boundary) — output ``o`` is the row ``(o·s − lo) mod n`` of the
  circular convolution on the input grid ``n`` itself, with stride ``gcd(n, s)`` (every
  such row is ``≡ −lo`` modulo it), each row taken at most ``μ`` times;
  ``‖A‖ <= sqrt(μ)·‖C_n‖``.  When ``μ = 1`` and the geometry is block-circulant the two
  sides meet: ``lower = upper``.
* **Collatz–Wielandt** — entrywise ``|A| <= A_|w|``, the convolution with the taps' moduli
  (an entry of ``A`` is a sum of taps), so ``‖A‖ <= ‖|A|‖ <= ‖A_|w|‖``; and for the
  nonnegative ``M = A_|w|ᵀA_|w|`` and any positive vector ``u``,
  ``λ_max(M) <= max_i (M u)_i / u_i`` (the row sums of ``D⁻¹MD``, ``D = diag(u)``, bound
  its spectral radius).  With ``u = |witness|`` and a few power steps ``u ← M u`` (each can
  only lower the bound) it converges to ``‖A_|w|‖``.  For a kernel whose taps are all
  ``>= 0`` (or all ``<= 0``), ``A_|w| = ±A`` and the bound converges to ``‖A‖`` itself:
  low-pass and averaging kernels, where the circulant embedding is loosest, come out
  tight.  Where ``M`` is reducible (several groups; strides or paddings that split the
  inputs into sets no output mixes) the witness lives on one block and the others start
  from the positive floor; up to :data:`CW_STEPS` power steps bring them down, but may
  leave the bound a little loose (``norm_bounds`` of each group's operator is then the
  sharper route).  It is also tried for kernels with a strong mean, where ``‖A_|w|‖`` is
  close to ``‖A‖``.

Where the gap is larger, and why: the circulant bound ``‖C_N‖`` is the supremum of the
kernel's block spectrum sampled on ``N``, while the truncated (zero-padded) operator is
smaller by a boundary effect that shrinks like ``1/n²`` on large inputs: random
zero-mean kernels on the 28²–224² layers of ResNet-18 sit within ~0.1–0.2 %, 14² within
~0.7 %, 7² within ~3 % (measured in ``benchmarks/norms.py``).  Kernels with a strong mean
(low-pass, not all positive) would be the embedding's worst case, ~10 % at 7×7 (the
spectrum peaks at frequency 0, which every grid samples, while the zero padding cuts the
constant vector's output at the border); there the Collatz–Wielandt bound on the moduli
takes over (~1 %).  For reflect and replicate, ``‖P‖`` is up to ``sqrt(1 + max(lo, hi))``
per axis (2 in 2D with padding 1), and ``‖C_N‖·‖P‖`` can exceed ``‖A‖`` by nearly that
factor for signed kernels (1.4–1.9 on small random cases): certified, but loose, unless
the kernel is nonnegative.  The same holds for circular boundaries that are not
block-circulant (an input not divisible by the stride, or padding other than
``d·(k − 1)``).

What is *not* used as an upper bound: the Ritz residual.  For a unit vector ``v`` with
``θ = vᴴMv`` and ``r = Mv − θv`` (``M = AᴴA``), ``M`` has an eigenvalue within ``‖r‖`` of
``θ`` — but not necessarily the largest one, so ``θ + ‖r‖`` proves nothing about ``‖A‖``
without a bound on the rest of the spectrum (a gap, which convolutions do not offer:
their top singular values cluster).  The Lanczos side only ever gives ``lower``.

How the blocks are certified: ``‖C_N‖² = max_f λ₁(G(f))`` over the Gram matrices
``G(f) = B(f)B(f)ᴴ`` (or ``BᴴB``, the smaller side ``c``) of the polyphase blocks.  With
``w_t`` the matrix of tap ``t``, landing at offset ``o_t`` and phase ``ρ_t`` of the
polyphase split, ``G(f) = Σ_δ C_δ e^{2πi f·δ/M}``: a few fixed matrices ``C_δ`` (the
products ``w_t w_uᴴ`` of tap pairs in one phase, grouped by the offset difference
``δ = o_t − o_u``; 9 for a 3×3 kernel of stride 1 or 2 in 2D), formed once by a few
matrix products for the whole layer, so that each frequency costs ``#δ·c²`` to form
instead of a Gram product (``c²·(C_in/G)·Πs``).  A bound on ``trace G(f) >= λ₁`` comes
from the ``C_δ`` alone.  Per block, ``λ₁ <= λ`` is then shown by the trace bound (kernels
with a strong mean: all but the low frequencies) or by a Cholesky factorisation of
``λI − G(f)``, below a level ``λ`` set on the block with the largest estimate: its top
Ritz value (Lanczos on the ``c × c`` Gram matrix, a few dozen products with it, converged
to ~1e-15) raised by 1e-12, the block itself then certified below it the same way (an
exact eigensolver only where that fails), and the level raised the same way wherever a
factorisation fails; see :func:`_top_singular`.  The factorisations are the bulk of the
work on wide layers (``c³/6`` complex multiply-adds each, one per frequency): each on one
BLAS thread, as many side by side as there are cores (see
:mod:`convops.spectral._blas_threads`).

Rounding: the block norms are computed in double precision from the kernel values cast to
double precision (exactly, for float32 kernels): the ``C_δ`` (dot products of the tap
pairs), their sum at each frequency (with phases accurate to a few ulps), the Cholesky
factorisations and LAPACK's symmetric eigensolver.  Every computed ``Ĝ(f)`` satisfies
``|Ĝ(f) − G(f)| <= γ_K·Ā`` entrywise, ``Ā = Σ_{pairs}|w_t||w_u|ᴴ``, whose norm is at
most its trace ``Σ_ρ ‖Σ_{ρ_t = ρ}|w_t|‖_F²``; a successful Cholesky factorisation of
``λI − Ĝ`` shows ``λI − Ĝ + E ⪰ 0`` with ``‖E‖ <= γ_{2(c+2)}·trace(λI − Ĝ)`` (Demmel's
bound, with a factor 2 for complex arithmetic); the eigensolver is backward stable
(``8·c·eps·‖G‖``); ``γ_K = K·eps/(1 − K·eps)``.  ``upper`` includes an explicit margin for
all of these worst-case errors (field ``rounding``, relative, typically 1e-13 – 1e-9), so
that it holds for the exact operator with the given kernel values.  The Collatz–Wielandt
products use the direct realisation, whose sums of nonnegative terms have a small
*relative* error per entry, covered the same way.

The lower side: a witness
-------------------------
``lower = ‖A w‖ / ‖w‖`` for the returned ``witness`` ``w``, evaluated once more at the end in
double precision: the norm of ``A`` on one vector, never above ``‖A‖`` (up to rounding of
that one product, ~1e-15 relative).  ``w`` comes from a thick-restart Lanczos iteration on
``AᴴA`` (or ``AAᴴ``, whichever side is smaller) started from the top singular vector of the
circulant embedding that gave ``upper``, mapped back to the input (``Jᴴ`` or ``Pᵀ·Jᴴ``),
for zero padding times the half sine ``sin(π(i + 1)/(n + 1))`` along each axis (near the
top of its spectrum the truncated operator behaves like a second difference with
Dirichlet ends, whose top eigenvectors have that envelope).  That vector is already close
to the top of ``A``'s spectrum, so few steps are needed: the iteration stops when
``upper <= (1 + rtol)·lower``, when the Ritz pair has converged (residual
``r <= 2·rtol·θ`` on ``AᴴA``: ``sqrt(θ)`` is then within ``r/(2 sqrt(θ)) <= rtol·sqrt(θ)``
of a singular value), or after ``maxiter`` steps.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .._validate import validate_int, validate_number
from ..geometry import ConvGeometry
from ..padding import fold
from ..realisations.workspace import check_work
from ._blas_threads import cholesky_succeeds, parallel_lapack, single_threaded_blas
from ._multiplier import conv_geometry
from .norms import (
    as_generator,
    block_circulant_reason,
    frequency_phases,
    polyphase_kernel,
    tap_layout,
)

if TYPE_CHECKING:
    from ..operators import ConvOperator

__all__ = ["NormBounds", "norm_bounds", "padding_map_norm"]

EPS = float(np.finfo(np.float64).eps)

#: Default limit on the Lanczos steps of :func:`norm_bounds` (each one product with ``A``
#: and one with ``Aᴴ``).
MAXITER = 100

#: Lanczos basis size between thick restarts, and Ritz vectors kept at a restart.
LANCZOS_BASIS = 32
LANCZOS_KEEP = 8
#: The Lanczos basis is made smaller (down to 8 vectors) to stay within this many bytes.
LANCZOS_BYTES = 2**30

#: Power steps of the Collatz–Wielandt bound, at most.
CW_STEPS = 12

#: Grids tried per embedding family (the smallest admissible one and the next multiples of
#: the stride), and the budget for the extra ones: their blocks may cost at most this many
#: products with ``A`` (in multiply-adds).
GRIDS_TRIED = 4
GRID_BUDGET = 20.0

#: Complex entries of one chunk of Gram matrices (64 MiB).
GRAM_CHUNK = 1 << 22


@dataclass(frozen=True, eq=False)
class NormBounds:
    """A certified interval ``lower <= ‖A‖₂ <= upper`` and how it was obtained.

    Attributes
    ----------
    lower : float
        ``‖A·witness‖ / ‖witness‖``, evaluated in double precision (never above ``‖A‖``,
        up to the rounding of that product).
    upper : float
        A proven upper bound on ``‖A‖`` (see :mod:`convops.spectral.bounds`), including
        the rounding margin ``rounding``.
    witness : ndarray
        An input of the operator (shape ``op.input_shape``, read-only, unit norm) with
        ``‖A·witness‖ / ‖witness‖ == lower``; real for a real kernel.
    lower_method, upper_method : str
        How each side was obtained, in one sentence.
    exact : bool
        ``True`` where both sides are the exact norm (block-circulant geometries, and
        operators that are identically zero).
    applications : int
        Products with ``A`` or ``Aᴴ`` (each counts one, whatever the batch) spent on the
        bounds: the Lanczos steps, the final evaluation of the witness and the power
        steps of a Collatz–Wielandt bound.
    grid : tuple of int
        The grid of the circular convolution behind ``upper`` (empty when ``upper``
        came from the Collatz–Wielandt bound or the operator is zero).
    rounding : float
        The relative margin included in ``upper`` for floating-point rounding.
    """

    lower: float
    upper: float
    witness: np.ndarray
    lower_method: str
    upper_method: str
    exact: bool
    applications: int
    grid: tuple[int, ...]
    rounding: float

    @property
    def gap(self) -> float:
        """``upper / lower`` (1 for a zero operator, ``inf`` if only ``lower`` is 0)."""
        if self.lower > 0:
            return self.upper / self.lower
        return 1.0 if self.upper == 0 else math.inf

    def __str__(self) -> str:
        return (
            f"{self.lower:.9g} <= ||A|| <= {self.upper:.9g}  (upper/lower = {self.gap:.6f}; "
            f"{self.applications} applications of A and A*)\n"
            f"  upper: {self.upper_method}\n  lower: {self.lower_method}"
        )


# ----------------------------------------------------------------------------------------
# the padding map
# ----------------------------------------------------------------------------------------
def _read_positions(g: ConvGeometry, axis: int) -> np.ndarray:
    """The padded positions ``o·s + t·d`` the window reads on ``axis`` (sorted, unique)."""
    o = np.arange(g.spatial_out[axis], dtype=np.int64) * g.stride[axis]
    t = np.arange(g.kernel_size[axis], dtype=np.int64) * g.dilation[axis]
    return np.unique((o[:, None] + t[None, :]).ravel())


def padding_map_norm(geometry: ConvGeometry) -> tuple[float, ...]:
    r"""The norm of the boundary map ``P`` on each axis, restricted to what the window reads.

    ``P_axis`` maps the ``n`` input entries to the padded positions ``p = o·s + t·d`` that
    some output reads; row ``p`` holds a single 1 in column ``π(p)`` (the entry it reads:
    wrapped, mirrored or clamped), or nothing where it reads a zero.  So
    ``P_axisᵀ P_axis = diag(c)`` with ``c_i`` the number of read positions reading entry
    ``i``, and ``‖P_axis‖ = sqrt(max_i c_i)``: 1 for the zero boundary (0 if nothing is
    read), up to ``sqrt(1 + max(lo, hi))`` for replicate.  ``P`` itself is the Kronecker
    product of the per-axis maps and the identity on channels, so ``‖P‖`` is the product.

    Parameters
    ----------
    geometry : ConvGeometry

    Returns
    -------
    tuple of float, one per spatial axis
    """
    if not isinstance(geometry, ConvGeometry):
        raise TypeError(f"geometry must be a convops.ConvGeometry; got {type(geometry).__name__}")
    norms = []
    for axis in range(geometry.ndim):
        src = geometry.boundary_index(axis, _read_positions(geometry, axis))
        src = src[src >= 0]
        counts = np.bincount(src, minlength=geometry.spatial_in[axis]) if src.size else [0]
        norms.append(math.sqrt(int(np.max(counts))))
    return tuple(norms)


# ----------------------------------------------------------------------------------------
# circular convolutions that contain A
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Embedding:
    """``A`` inside a strided circular convolution ``C`` on ``grid`` (see the module notes).

    ``kind`` is ``"zeros"`` (input entry ``i`` at grid position ``(i + lo) mod N``, outputs
    the first ``m``), ``"padded"`` (the padded input at positions ``0 … E − 1``) or
    ``"rows"`` (circular boundary: the input grid itself, input entry ``i`` at
    ``(i + lo) mod n``, output ``o`` the circular row ``o·s/stride``); ``factor`` is
    ``‖P‖`` resp. ``sqrt(μ)``, so ``‖A‖ <= factor·‖C‖``.
    """

    kind: str
    grid: tuple[int, ...]
    stride: tuple[int, ...]
    factor: float


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def embeddings(g: ConvGeometry, count: int = 1) -> list[Embedding]:
    """The admissible embeddings of the convolution ``g`` tried by :func:`norm_bounds`.

    ``count`` grids per family, the smallest admissible one and the next multiples of the
    stride (the same offset on every axis).
    """
    ext, (m, s, n) = g.padded_extent, (g.spatial_out, g.stride, g.spatial_in)
    lows = tuple(lo for lo, _ in g.padding)
    out: list[Embedding] = []
    if g.boundary == "zeros":
        read = tuple(min(ni, e - lo) for ni, e, lo in zip(n, ext, lows, strict=True))
        least = tuple(
            _round_up(max(r + lo, e - lo, mi * si), si)
            for r, lo, e, mi, si in zip(read, lows, ext, m, s, strict=True)
        )
        for j in range(count):
            grid = tuple(q + j * si for q, si in zip(least, s, strict=True))
            out.append(Embedding("zeros", grid, s, 1.0))
        return out
    factor = math.prod(padding_map_norm(g))
    least = tuple(_round_up(max(e, mi * si), si) for e, mi, si in zip(ext, m, s, strict=True))
    for j in range(count):
        grid = tuple(q + j * si for q, si in zip(least, s, strict=True))
        out.append(Embedding("padded", grid, s, factor))
    if g.boundary == "circular":
        # output o reads the circular row at (o·s − lo) mod n: a row of the circular
        # convolution on n with stride gcd(n, s) (all those rows are ≡ −lo mod gcd)
        strides, mu = [], 1
        for ni, mi, si in zip(n, m, s, strict=True):
            step = math.gcd(ni, si)
            strides.append(step)
            rows = (np.arange(mi, dtype=np.int64) * (si // step)) % (ni // step)
            mu *= int(np.max(np.bincount(rows)))
        out.insert(0, Embedding("rows", tuple(n), tuple(strides), math.sqrt(mu)))
    return out


@dataclass(frozen=True)
class _Top:
    sigma: float  # the largest block singular value found (of the best solved block)
    bound: float  # a certified upper bound on every block's largest singular value
    left: np.ndarray  # (C_out, *M) unit vector: top left singular vector on the output grid
    right: np.ndarray  # (C_in, *N) unit vector: top right singular vector on the grid


#: Blocks whose smaller side is at most this get an eigensolver each; larger ones are
#: certified by a Cholesky factorisation below a level (a fraction of an eigensolver's
#: cost).
SMALL_BLOCK = 48
#: Lanczos steps of the per-block estimates (stacked over the blocks; also given to the
#: blocks of a chunk that fail their factorisation when there were no estimates), and how
#: many of the blocks with the largest estimates are solved to set the level the others
#: are certified below.
ESTIMATE_STEPS = 8
EXACT_FIRST = 1
#: Residual (relative to the Ritz value) at which the Lanczos iteration on one large Gram
#: matrix stops; the Ritz value's error is of the order of its square, far below the
#: ``1e-12`` by which the level is raised above it before the Cholesky check.
BLOCK_RESIDUAL = 1e-8
#: Blocks of a larger side are solved that way (Lanczos and a Cholesky check), smaller
#: ones by the exact eigensolver (measured: the same time at 256, 3× faster at 512).
LANCZOS_BLOCK = 256
#: Bytes of Gram matrices kept between the estimate and the certification passes.
GRAM_KEEP_BYTES = 256 * 2**20
#: How the Gram matrices are formed: from the kernel's tap pairs (``"pairs"``,
#: ``G(f) = Σ_δ C_δ e^{2πi f·δ/M}``), from the blocks (``"direct"``), or whichever takes
#: fewer multiply-adds (``"auto"``).
GRAM_TERMS: Literal["auto", "pairs", "direct"] = "auto"
#: Inner dimension of one product of tap pairs (``"pairs"``), at most (unless a single
#: pair's is larger).
PAIR_INNER = 512


def _gamma(n: float) -> float:
    """``γ_n = n·eps/(1 − n·eps)``, the relative error bound of ``n`` rounded operations."""
    return n * EPS / (1 - n * EPS)


_scratch = threading.local()


def _below_level(gram: np.ndarray, level: float) -> bool:
    """Whether a Cholesky factorisation of ``level·I − gram`` succeeds (Hermitian ``gram``).

    It succeeds only if ``λ₁(gram) < level`` up to the rounding :func:`_cholesky_margin`
    bounds.  Without the GIL (:func:`~convops.spectral._blas_threads.cholesky_succeeds`),
    so that :func:`~convops.spectral._blas_threads.parallel_lapack` runs several at once.
    """
    side = gram.shape[0]
    # one scratch matrix per thread: a fresh 4 MB array is paged in anew each time (as
    # long as the factorisation itself, measured at side 512)
    scratch = getattr(_scratch, "matrix", None)
    if scratch is None or scratch.shape != gram.shape:
        scratch = _scratch.matrix = np.empty(gram.shape, dtype=np.complex128)
    shifted = np.negative(gram, out=scratch)
    shifted.flat[:: side + 1] += level
    return cholesky_succeeds(shifted)


def _cholesky_margin(
    level: float, trace: np.ndarray, side: int, gram_gamma: float, weight: np.ndarray
) -> np.ndarray:
    """The rounding margin of a block certified below ``level`` by :func:`_below_level`.

    Success shows ``λI − Ĝ + E ⪰ 0`` with ``‖E‖ <= γ_{2(c+2)}·trace(λI − Ĝ)`` (Demmel's
    bound, a factor 2 for complex arithmetic), and ``‖Ĝ − G‖ <= γ_K·weight``
    (:class:`_Grams`); the shift ``λ`` itself is rounded once.
    """
    return (
        1.01 * _gamma(2 * (side + 2)) * (side * level - trace)
        + 1.01 * gram_gamma * weight
        + 4 * EPS * level
    )


def _gram(b: np.ndarray, wide: bool) -> np.ndarray:
    """``B Bᴴ`` (``wide``) or ``Bᴴ B`` of a stack of complex blocks ``(F, r, c)``.

    From the real and imaginary parts by four stacked *real* products (numpy's stacked real
    ``matmul`` is fast and steady, while its stacked complex one, and loops of small BLAS
    calls, slow down many times when the cores are shared).
    """
    if not wide:
        b = np.conj(np.swapaxes(b, 1, 2))  # Bᴴ B = (Bᴴ)(Bᴴ)ᴴ
    re, im = np.ascontiguousarray(b.real), np.ascontiguousarray(b.imag)
    re_t, im_t = np.swapaxes(re, 1, 2), np.swapaxes(im, 1, 2)
    out = np.empty((b.shape[0], b.shape[1], b.shape[1]), dtype=np.complex128)
    out.real = re @ re_t + im @ im_t
    out.imag = im @ re_t - re @ im_t
    return out


class _Grams:
    r"""The Gram matrices of an embedding's polyphase blocks, at any list of frequencies.

    ``G(f) = B(f) B(f)ᴴ`` when the blocks are wide (``C_out/G <= (C_in/G)·ΠR``), else
    ``B(f)ᴴ B(f)``: ``side × side`` per group.  Two ways to form them:

    * **pairs** — with ``w_t`` the ``C_out/G × C_in/G`` matrix of tap ``t``, landing at
      offset ``o_t`` of phase ``ρ_t`` (:func:`~convops.spectral.norms.tap_layout`),
      ``B(f) = [Σ_{t: ρ_t = ρ} w_t e^{iφ(f, o_t)}]_ρ`` with ``φ(f, o) = 2π Σ_a f_a o_a/M_a``,
      so ``B Bᴴ = Σ_{ρ_t = ρ_u} w_t w_uᴴ e^{iφ(f, o_t − o_u)}`` and ``Bᴴ B`` has the block
      ``(ρ_t, ρ_u)`` ``Σ w_tᴴ w_u e^{iφ(f, o_u − o_t)}``.  Grouping the pairs by the offset
      difference ``δ`` (modulo ``M``), ``G(f) = Σ_δ C_δ e^{iφ(f, δ)}`` with a few fixed
      matrices ``C_δ`` (9 for a 3×3 kernel of stride 1 or 2 in 2D), ``C_{−δ} = C_δᴴ``:
      one matrix product per ``δ`` (the pairs concatenated along the inner dimension)
      for half of them, then, per frequency, a sum of ``#δ`` terms.  For a 3×3 layer this
      is far fewer multiply-adds than a Gram product per frequency.
    * **direct** — the blocks (:func:`~convops.spectral.norms.polyphase_kernel`), then
      their Gram products; cheaper for large kernels on small grids (many pairs, few
      frequencies).

    Rounding: with ``V_ρ = Σ_{t: ρ_t = ρ} |w_t|`` and ``Ā = V Vᴴ`` (or ``Vᴴ V``) for
    ``V = [V_ρ]_ρ`` — entrywise ``|B(f)| <= V`` and ``Σ_{pairs} |w_t||w_u|ᴴ = Ā`` — the
    computed ``Ĝ(f)`` satisfies ``|Ĝ(f) − G(f)| <= γ_K·Ā`` entrywise for the ``K`` of
    :attr:`gamma` (dot products of length ``q·n`` for ``q`` pairs of inner size ``n`` per
    product, the sums of the products, the sum over ``δ``, the phases' errors of a few
    ulps, the complex products), hence
    ``‖Ĝ(f) − G(f)‖₂ <= γ_K·trace(Ā) = γ_K·weight`` with ``weight = Σ_ρ ‖V_ρ‖_F²``
    per group.
    """

    def __init__(self, w: np.ndarray, g: ConvGeometry, emb: Embedding, nfreq: int):
        D, G = g.ndim, g.groups
        self.groups = G
        self.M = [N // st for N, st in zip(emb.grid, emb.stride, strict=True)]
        self.complex = bool(np.iscomplexobj(w))
        cout_g, cin_g = g.out_channels // G, g.in_channels // G
        layouts = [
            tap_layout(k, d, st, N, used_only=True)
            for k, d, st, N in zip(g.kernel_size, g.dilation, emb.stride, emb.grid, strict=True)
        ]
        nphase = tuple(len(p) for _, _, p in layouts)
        R = math.prod(nphase)
        rows, cols = cout_g, cin_g * R
        self.wide = rows <= cols
        self.side, inner = min(rows, cols), max(rows, cols)
        taps = list(np.ndindex(*g.kernel_size))
        T = len(taps)
        off = np.array([[layouts[a][0][t[a]] for a in range(D)] for t in taps], dtype=np.int64)
        off = off.reshape(T, D)
        phase_of = [
            np.ravel_multi_index([layouts[a][1][t[a]] for a in range(D)], nphase) for t in taps
        ]
        ph = np.array(phase_of, dtype=np.int64)
        # the pairs (t, u) and their offset differences δ (mod M), block (ρ_t, ρ_u) for Bᴴ B
        tt, uu = (a.ravel() for a in np.meshgrid(np.arange(T), np.arange(T), indexing="ij"))
        Mv = np.array(self.M, dtype=np.int64)
        if self.wide:
            same = ph[tt] == ph[uu]
            tt, uu = tt[same], uu[same]
            delta = np.mod(off[tt] - off[uu], Mv)
            block = np.zeros(tt.size, dtype=np.int64)
        else:
            delta = np.mod(off[uu] - off[tt], Mv)
            block = ph[tt] * R + ph[uu]
        dkey = np.ravel_multi_index(delta.T, self.M)
        nkey = np.ravel_multi_index(np.mod(-delta, Mv).T, self.M)  # the key of −δ
        half = dkey <= nkey  # C_{−δ} = C_δᴴ: the other half is not computed
        n_in = cin_g if self.wide else cout_g
        pair_macs = (rows * rows * cin_g) if self.wide else (cin_g * cin_g * rows)
        keys = np.unique(dkey)
        scale = 4 if self.complex else 1
        pairs_cost = G * (
            scale * int(np.sum(half)) * pair_macs + 4 * nfreq * keys.size * self.side**2
        )
        n_offsets = math.prod(len(np.unique(o)) for o, _, _ in layouts)
        direct_cost = 4.0 * G * nfreq * (self.side**2 * inner + n_offsets * rows * cols)
        mode = GRAM_TERMS
        if mode == "auto":
            mode = "pairs" if pairs_cost <= direct_cost else "direct"
        self.mode = mode
        # the taps' matrices (T, G, C_out/G, C_in/G)
        tapm = np.ascontiguousarray(np.moveaxis(w.reshape(G, cout_g, cin_g, T), 3, 0))
        self.taps, self.tap_offsets, self.tap_phases, self.nphase = tapm, off, ph, R
        self.weight = np.zeros(G)
        for r in range(R):
            V_r = np.abs(tapm[ph == r]).sum(axis=0)  # (G, C_out/G, C_in/G)
            self.weight += np.einsum("gij,gij->g", V_r, V_r)
        if mode == "direct":
            self.offsets, self.W = polyphase_kernel(
                w, g.dilation, emb.stride, emb.grid, G, used_only=True
            )
            # B̂ = Σ_o Ŵ_o e^{iφ}: Ŵ sums at most T taps, then O phased terms; the Gram's dot
            # products have length 2·inner (real and imaginary parts)
            k_block = 2 * (len(self.offsets) + T + 24)
            self.gamma = _gamma(2 * k_block + 2 * inner + 16)
            self.deltas = np.zeros((0, D), dtype=np.int64)
            self.terms = np.zeros((0, 0))
            return
        sel = np.nonzero(half)[0]
        code = dkey[sel] * (R * R) + block[sel]
        order = sel[np.argsort(code, kind="stable")]
        _, starts, counts = np.unique(
            dkey[order] * (R * R) + block[order], return_index=True, return_counts=True
        )
        dtype = np.complex128 if self.complex else np.float64
        side = self.side
        terms: dict[int, np.ndarray] = {}
        # q pairs per product, concatenated along the inner dimension (fewer, larger
        # products), but no more than PAIR_INNER of it: the rounding bound grows with the
        # length of the dot products (q·n), and only by one operation per further product
        q = max(1, PAIR_INNER // n_in)
        for start, count in zip(starts, counts, strict=True):
            group = order[start : start + count]
            key, b = int(dkey[group[0]]), int(block[group[0]])
            if key not in terms:
                terms[key] = np.zeros((G, side, side), dtype=dtype)
            for part in range(0, group.size, q):
                pairs = group[part : part + q]
                if pairs.size == 1:  # the taps' own matrices (views), no concatenation
                    X, Y = tapm[tt[pairs[0]]], tapm[uu[pairs[0]]]  # (G, C_out/G, C_in/G)
                else:
                    X = tapm[tt[pairs]]  # (p, G, C_out/G, C_in/G)
                    # the pairs (t, t) of δ = 0: one array, so that numpy's product of it
                    # with its transpose is a symmetric rank-k update (half the work)
                    Y = X if np.array_equal(tt[pairs], uu[pairs]) else tapm[uu[pairs]]
                    same = Y is X
                    if self.wide:
                        X = X.transpose(1, 2, 0, 3).reshape(G, cout_g, -1)
                        Y = X if same else Y.transpose(1, 2, 0, 3).reshape(G, cout_g, -1)
                    else:
                        X = X.transpose(1, 0, 2, 3).reshape(G, -1, cin_g)
                        Y = X if same else Y.transpose(1, 0, 2, 3).reshape(G, -1, cin_g)
                # (the conjugate transposes as views: BLAS reads them transposed)
                if self.wide:  # C_δ += [w_t …] [w_u …]ᴴ
                    terms[key] += X @ np.swapaxes(np.conj(Y) if self.complex else Y, 1, 2)
                else:  # block (ρ_t, ρ_u) of C_δ += [w_t; …]ᴴ [w_u; …]
                    view = terms[key].reshape(G, cin_g, R, cin_g, R)
                    Xh = np.swapaxes(np.conj(X) if self.complex else X, 1, 2)
                    view[:, :, b // R, :, b % R] += Xh @ Y
        negative = dict(zip(dkey.tolist(), nkey.tolist(), strict=True))
        for key in list(terms):
            if negative[key] != key:
                terms[negative[key]] = np.conj(np.swapaxes(terms[key], 1, 2))
        ordered = sorted(terms)
        self.deltas = np.stack(np.unravel_index(np.array(ordered), self.M), axis=1)
        self.deltas = self.deltas.astype(np.int64)
        # (#δ, G·side²), complex (see grams), written in place
        self.terms = np.empty((len(ordered), G * side * side), dtype=np.complex128)
        for i, k in enumerate(ordered):
            self.terms[i] = terms.pop(k).reshape(-1)
        diagonals = self.terms.reshape(len(ordered), G, side, side)
        self.trace_terms = np.einsum("dgii->dg", diagonals)
        p_max = int(np.max(counts)) if counts.size else 1
        dots = min(q, p_max) * n_in + -(-p_max // q)  # a dot product, then the additions
        self.gamma = _gamma(2 * (dots + len(ordered) + 32))

    @property
    def term_bytes(self) -> int:
        return int(self.terms.nbytes)

    def grams(self, freqs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``Ĝ(f)`` for the frequencies ``(F, D)``: ``(F, G, side, side)`` complex.

        ``out``, if given, is a C-contiguous array of that shape to write them into.
        """
        F, G, side = freqs.shape[0], self.groups, self.side
        if out is None:
            out = np.empty((F, G, side, side), dtype=np.complex128)
        if self.mode == "direct":
            E = frequency_phases(freqs, self.offsets, self.M)
            B = E @ self.W.reshape(len(self.offsets), -1).astype(np.complex128, copy=False)
            B = B.reshape(F * G, self.W.shape[1] // G, self.W.shape[2])
            out[...] = _gram(B, self.wide).reshape(F, G, side, side)
            return out
        # one product (F, #δ) @ (#δ, G·side²) writes them in place; complex terms even for
        # a real kernel: no temporaries for the real and imaginary parts
        if not out.flags.c_contiguous:  # (a reshape of anything else would be a copy)
            raise ValueError("out must be C-contiguous")
        E = frequency_phases(freqs, self.deltas, self.M)
        np.matmul(E, self.terms, out=out.reshape(F, -1))
        return out

    def trace_bounds(self, freqs: np.ndarray) -> np.ndarray | None:
        """Upper bounds on ``trace G(f)`` ``(F, G)`` (pairs only: from the ``C_δ``' traces)."""
        if self.mode == "direct":
            return None
        E = frequency_phases(freqs, self.deltas, self.M)
        traces = (E @ self.trace_terms).real
        return traces + _gamma(self.side + 1) * self.weight + self.gamma * self.weight

    def block(self, freq: np.ndarray, group: int) -> np.ndarray:
        """The polyphase block ``B(f) = [Σ_{ρ_t = ρ} w_t e^{iφ(f, o_t)}]_ρ`` of one group."""
        E = frequency_phases(freq.reshape(1, -1), self.tap_offsets, self.M)[0]
        _, rows, cin_g = self.taps.shape[1:]
        B = np.zeros((rows, cin_g, self.nphase), dtype=np.complex128)
        for t in range(self.taps.shape[0]):  # columns (c_i, ρ), as polyphase_blocks'
            B[:, :, self.tap_phases[t]] += E[t] * self.taps[t, group]
        return B.reshape(rows, cin_g * self.nphase)


def _ritz_estimates(grams: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Top Ritz values of a stack of Hermitian matrices ``(B, n, n)`` after ``steps`` Lanczos
    steps each, stacked over the matrices (estimates from below, not bounds)."""
    nb, n = grams.shape[:2]
    k = min(steps, n)
    if k <= 0 or nb == 0:
        return np.zeros(nb)
    V = np.empty((k, nb, n), dtype=np.complex128)
    x = rng.standard_normal((nb, n)) + 1j * rng.standard_normal((nb, n))
    V[0] = x / np.linalg.norm(x, axis=1, keepdims=True)
    T = np.zeros((nb, k, k))
    for j in range(k):
        y = np.matmul(grams, V[j][:, :, None])[:, :, 0]
        T[:, j, j] = np.einsum("bi,bi->b", np.conj(V[j]), y).real
        for _ in range(2):  # full reorthogonalisation: the basis stays orthonormal
            h = np.einsum("jbi,bi->jb", np.conj(V[: j + 1]), y)
            y -= np.einsum("jb,jbi->bi", h, V[: j + 1])
        if j + 1 < k:
            beta = np.linalg.norm(y, axis=1)
            T[:, j, j + 1] = T[:, j + 1, j] = beta
            V[j + 1] = y / np.maximum(beta, np.finfo(float).tiny)[:, None]
    return np.linalg.eigvalsh(T)[:, -1]


def _frequencies(g: ConvGeometry, emb: Embedding, real: bool) -> np.ndarray:
    """The frequencies ``(F, D)`` whose blocks :func:`_top_singular` certifies.

    Per axis, the frequencies that matter: on an axis where every tap has the same offset
    ``⌊q_t/s⌋`` the blocks depend on ``f`` only through a unit phase (a 1×1 kernel, a
    ``k = s`` "patch" kernel): frequency 0 stands for all; for a real kernel the blocks at
    ``−f`` are the conjugates of those at ``f``, so half of the last varying axis suffices.
    """
    M = [N // st for N, st in zip(emb.grid, emb.stride, strict=True)]
    axes = []
    for k, d, st, N, Ma in zip(g.kernel_size, g.dilation, emb.stride, emb.grid, M, strict=True):
        offsets = ((np.arange(k, dtype=np.int64) * d) % N) // st
        axes.append(np.zeros(1, dtype=np.int64) if np.all(offsets == offsets[0]) else np.arange(Ma))
    varying = [a for a, f in enumerate(axes) if f.size > 1]
    if real and varying:
        last = varying[-1]
        axes[last] = np.arange(M[last] // 2 + 1)
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1).astype(np.int64)


def _certify_below_level(
    source: _Grams,
    freqs: np.ndarray,
    lam: np.ndarray,
    margin: np.ndarray,
    solve: Callable[[np.ndarray, int], float],
    weight: np.ndarray,
    step: int,
    threads: Any,
) -> None:
    """Large blocks: a level from the top block(s), then each block below the level.

    Fills ``lam`` (the certified level, a trace bound, or what ``solve`` sets for the
    blocks it solves) and ``margin`` (its rounding margin) for every block; ``solve``
    returns a level its block is certified below.  Runs
    on one BLAS thread, except the products forming the Gram matrices
    (``threads.threaded()``, see :func:`~convops.spectral._blas_threads.single_threaded_blas`).
    """

    def form(fsel: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        with threads.threaded():
            return source.grams(freqs[fsel], out=out)

    F, G, side = freqs.shape[0], source.groups, source.side
    total = F * G
    rng = np.random.default_rng(0)
    done = np.zeros(total, dtype=bool)
    level = 0.0

    def blocks_of(fsel: np.ndarray) -> np.ndarray:
        return (fsel[:, None] * G + np.arange(G)[None, :]).ravel()

    traces = source.trace_bounds(freqs)
    trace_bound = traces.ravel() if traces is not None else None

    def below_traces(at: np.ndarray) -> None:
        """Blocks whose trace bound (``>= λ₁``) is below the level: no more work."""
        if trace_bound is not None:
            cheap = at[~done[at] & (trace_bound[at] <= level)]
            lam[cheap] = trace_bound[cheap]
            done[cheap] = True

    # a kernel with a strong mean: the blocks of the low frequencies dominate, and most
    # others have a trace below the top eigenvalue of the block with the largest trace.
    # That block is solved first when a lower estimate of its top eigenvalue already puts
    # a quarter of the traces below it; those blocks then need no further work
    if trace_bound is not None and EXACT_FIRST > 0:
        b0 = int(np.argmax(trace_bound))
        f0, g0 = divmod(b0, G)
        gram0 = form(np.array([f0]))[0, g0]
        with threads.threaded():  # (matrix-vector products: they gain from the threads)
            theta0 = float(_ritz_estimates(gram0[None], max(ESTIMATE_STEPS, 4), rng)[0])
        if 4 * np.count_nonzero(trace_bound <= theta0) >= total:
            level = solve(gram0, b0)
            done[b0] = True
            below_traces(np.arange(total))
    pending = np.nonzero(~done.reshape(F, G).all(axis=1))[0]  # frequencies with work left

    # estimates of each block's top eigenvalue, to pick the blocks solved exactly first and
    # the order of the others: a few Lanczos steps on each Gram matrix (side² per step).
    # They pay off where an extra exact solve (side³) costs more than the steps on all the
    # blocks: with the blocks in the order of their trace bounds instead, about ln(#blocks)
    # of them raise the level (records of a random sequence); the Gram matrices are kept
    # between the passes while they fit in GRAM_KEEP_BYTES (else formed again)
    count = pending.size * G
    estimating = (
        ESTIMATE_STEPS > 0
        and count > 1
        and (trace_bound is None or 32 * count < side * math.log(count))
    )
    keep = estimating and count * side * side * 16 <= GRAM_KEEP_BYTES
    kept = np.empty((pending.size, G, side, side), dtype=np.complex128) if keep else None
    where = np.full(F, -1, dtype=np.int64)
    where[pending] = np.arange(pending.size)
    estimate = trace_bound.copy() if trace_bound is not None else np.zeros(total)
    # one buffer for the chunks formed (fresh memory for each would be paged in anew)
    buffer = kept if kept is not None else np.empty((step, G, side, side), dtype=np.complex128)
    if estimating:
        for i in range(0, pending.size, step):
            fsel = pending[i : i + step]
            target = buffer[i : i + fsel.size] if kept is not None else buffer[: fsel.size]
            grams = form(fsel, out=target)
            with threads.threaded():
                estimate[blocks_of(fsel)] = _ritz_estimates(
                    grams.reshape(-1, side, side), ESTIMATE_STEPS, rng
                )
    estimate[done] = -math.inf

    def gram_of(b: int, chunk: np.ndarray | None, need: np.ndarray) -> np.ndarray:
        fi, gi = divmod(b, G)
        if kept is not None:
            return kept[where[fi], gi]
        assert chunk is not None
        return chunk[int(np.searchsorted(need, fi)), gi]

    first = np.argsort(-estimate, kind="stable")[: max(EXACT_FIRST, 0)]
    for at in first[~done[first]]:
        fi, gi = divmod(int(at), G)
        gram = kept[where[fi], gi] if kept is not None else form(np.array([fi]))[0, gi]
        level = max(level, solve(np.array(gram), int(at)))
        done[at] = True
    eye = np.arange(side)

    def certified(b: np.ndarray, gram_traces: np.ndarray, at_level: float) -> None:
        lam[b] = at_level
        margin[b] = _cholesky_margin(at_level, gram_traces, side, source.gamma, weight[b])
        done[b] = True

    # the frequencies with the largest estimates first: a block above the level raises
    # it early, and the later ones pass at the higher level
    order = pending[np.argsort(-estimate.reshape(F, G)[pending].max(axis=1), kind="stable")]
    with parallel_lapack() as pmap:
        for i in range(0, order.size, step):
            fsel = order[i : i + step]
            at = blocks_of(fsel)
            below_traces(at)  # λ₁ <= trace: no factorisation needed below the level
            todo = at[~done[at]]
            if not todo.size:
                continue
            need = np.unique(todo // G)
            chunk = None if kept is not None else form(need, out=buffer[: need.size])
            if side < 128:
                # small blocks: one stacked factorisation for the chunk (numpy's loop), and
                # the blocks one by one only if one of them fails
                stack = np.stack([gram_of(int(b), chunk, need) for b in todo])
                shifted = -stack
                shifted[:, eye, eye] += level
                try:
                    np.linalg.cholesky(shifted)
                except np.linalg.LinAlgError:
                    pass
                else:
                    certified(todo, np.einsum("bii->b", stack).real, level)
                    continue
            # the chunk's factorisations side by side (one per core), all at the level so far
            chunk_grams = [gram_of(int(b), chunk, need) for b in todo]
            tested = level
            passed = pmap(functools.partial(_below_level, level=tested), chunk_grams)
            failed = []
            for b, gram, ok in zip(todo, chunk_grams, passed, strict=True):
                if ok:
                    certified(np.array([b]), np.array([np.trace(gram).real]), tested)
                else:
                    failed.append((int(b), gram))
            # above the level (or too close to it): the one with the largest estimate is
            # solved, which raises the level, and the others checked again at it, until none
            # is left.  Without estimates so far (trace bounds only, a poor guide), the
            # failed blocks get a few Lanczos steps each first: the order then finds the
            # largest of them in a solve or two instead of one per record of the trace order
            if len(failed) > 2 and not estimating and ESTIMATE_STEPS > 0:
                with threads.threaded():
                    stack = np.stack([gram for _, gram in failed])
                    ritz = _ritz_estimates(stack, ESTIMATE_STEPS, rng)
                estimate[[b for b, _ in failed]] = ritz
            while failed:
                failed.sort(key=lambda item: -estimate[item[0]])
                b, gram = failed.pop(0)
                level = max(level, solve(np.array(gram), b))
                done[b] = True
                if failed:
                    again = level
                    passed = pmap(
                        functools.partial(_below_level, level=again), [gr for _, gr in failed]
                    )
                    for (b, gram), ok in zip(failed, passed, strict=True):
                        if ok:
                            certified(np.array([b]), np.array([np.trace(gram).real]), again)
                    failed = [item for item, ok in zip(failed, passed, strict=True) if not ok]


def _top_singular(w: np.ndarray, g: ConvGeometry, emb: Embedding) -> _Top:
    r"""The norm of the circular convolution of ``emb``, certified, and its top singular vectors.

    The norm is ``max_f σ₁(B(f))`` over the polyphase blocks, i.e. ``max_f λ₁(G(f))^{1/2}``
    over their Gram matrices (:class:`_Grams`, formed in chunks of frequencies; only the
    frequencies that matter, :func:`_frequencies`).  Small blocks (side <=
    :data:`SMALL_BLOCK`): the eigenvalues of each Gram matrix.  Large blocks
    (:func:`_certify_below_level`): a level ``λ`` from the :data:`EXACT_FIRST` blocks with
    the largest estimates (a few stacked Lanczos steps on every block where that pays, else
    the trace bounds; first the block with the largest trace when that puts many traces
    below the level); then every other block, in the order of its estimate, passes if its
    trace bound (``>= λ₁``, from the ``C_δ`` alone) is below the level, and otherwise is
    certified by a Cholesky factorisation of ``λ·I − G`` (it succeeds only if
    ``σ₁(f)² < λ``, up to the rounding accounted for; a chunk's factorisations side by
    side) and solved where it fails, which raises the level.  A block is *solved* by
    Lanczos on its Gram matrix to a residual of :data:`BLOCK_RESIDUAL` (the Ritz value is
    then accurate to ~1e-15: its error is of the order of the residual squared over the
    gap), the level set 1e-12 above the Ritz value and the block certified below it by
    the same factorisation — a quarter of an eigensolver's cost — and by the exact
    eigensolver only where that fails.  The block with the largest Ritz (or exact) value
    gives ``sigma`` and the singular vectors (its Ritz vector, and ``Bᴴu/σ`` or ``Bv/σ``
    from the block itself).

    Rounding (double precision), all added to ``bound``: the Gram matrices from the kernel
    values (``‖ΔG‖ <= γ_K·weight``, :class:`_Grams`), the Cholesky factorisation (success
    means ``λI − Ĝ + E ⪰ 0`` with ``‖E‖ <= γ_{2(c+2)}·trace(λI − Ĝ)``, Demmel's bound with
    the complex arithmetic's factor 2) and the eigensolver (backward stable,
    ``8·c·eps·‖G‖``); ``γ_K = K·eps/(1 − K·eps)``.
    """
    real = not np.iscomplexobj(w)
    G = g.groups
    M = [N // st for N, st in zip(emb.grid, emb.stride, strict=True)]
    freqs = _frequencies(g, emb, real)
    F = freqs.shape[0]
    source = _Grams(w, g, emb, F)
    side = source.side
    per_freq = G * side * side
    step = max(1, GRAM_CHUNK // max(1, per_freq))
    total = F * G
    # the C_δ, one chunk of Gram matrices and the temporaries made forming them, and the
    # Gram matrices kept between the passes (at most GRAM_KEEP_BYTES)
    kept_bytes = total * side * side * 16
    check_work(
        source.term_bytes
        + 2 * 16 * step * per_freq
        + (kept_bytes if side > SMALL_BLOCK and kept_bytes <= GRAM_KEEP_BYTES else 0),
        "norm_bounds' frequency blocks (their Gram matrices, one chunk of them)",
    )
    weight = np.tile(source.weight, F)  # per block (frequency-major, then group)
    lam = np.zeros(total)  # the exact top eigenvalue, or the certified level
    margin = np.zeros(total)
    best: list[Any] = [-math.inf, 0, None]  # eigenvalue, block, eigenvector

    def blocks_of(fsel: np.ndarray) -> np.ndarray:
        return (fsel[:, None] * G + np.arange(G)[None, :]).ravel()

    def solve(gram: np.ndarray, at: int) -> float:
        """The top eigenpair of one block, exactly (LAPACK); it may raise ``best``."""
        import scipy.linalg

        e, v = scipy.linalg.eigh(
            gram, lower=True, subset_by_index=[side - 1, side - 1], check_finite=False
        )
        top = float(e[0])
        lam[at] = top
        margin[at] = 8 * side * EPS * abs(top) + 1.01 * source.gamma * weight[at]
        if top > best[0]:
            best[:] = [top, at, v[:, 0]]
        return top

    def level_of(gram: np.ndarray, at: int) -> float:
        """A level one block is certified below: its top Ritz value (Lanczos on the Gram
        matrix, ``c²`` per step, a few dozen steps) raised by ``1e-12``, checked by a
        Cholesky factorisation; the exact eigensolver (``~4c³/3``) only where the check
        fails."""
        if side <= LANCZOS_BLOCK:
            return solve(gram, at) * (1 + 1e-12)
        ritz = _lanczos(
            lambda v: gram @ v,
            start_rng.standard_normal(side) + 1j * start_rng.standard_normal(side),
            max_steps=4 * side,
            tol=BLOCK_RESIDUAL,
            enough=lambda theta: False,
            progress=None,
        )
        level = ritz.theta * (1 + 1e-12)
        if ritz.theta > 0 and _below_level(gram, level):
            lam[at] = level
            margin[at] = _cholesky_margin(
                level, np.array(np.trace(gram).real), side, source.gamma, weight[at]
            )
            if ritz.theta > best[0]:
                best[:] = [ritz.theta, at, ritz.vector]
            return level
        return solve(gram, at) * (1 + 1e-12)

    # small LAPACK calls on one thread, large products on all (convops.spectral._blas_threads)
    with single_threaded_blas() as threads:
        if side <= SMALL_BLOCK:
            for i in range(0, F, step):
                fsel = np.arange(i, min(i + step, F))
                with threads.threaded():
                    grams = source.grams(freqs[fsel]).reshape(-1, side, side)
                at = blocks_of(fsel)
                e = np.linalg.eigvalsh(grams, UPLO="L")[:, -1]
                lam[at] = e
                margin[at] = 8 * side * EPS * np.abs(e) + 1.01 * source.gamma * weight[at]
            top_at = int(np.argmax(lam))
            fi, gi = divmod(top_at, G)
            solve(source.grams(freqs[fi : fi + 1])[0, gi], top_at)
        else:
            start_rng = np.random.default_rng(0)
            try:
                _certify_below_level(source, freqs, lam, margin, level_of, weight, step, threads)
            finally:  # (the workers' scratch matrices go with their threads)
                _scratch.__dict__.pop("matrix", None)
    lam_bound = float(np.max(lam + margin))
    _, best_at, vec = best
    fi, gi = divmod(int(best_at), G)
    B = source.block(freqs[fi], gi)
    # the other singular vector from the block itself: σ = ‖Bᴴu‖ (or ‖Bv‖)
    if source.wide:
        u = vec
        x = np.conj(B.T) @ u
        sigma = float(np.linalg.norm(x))
        v = x / sigma if sigma > 0 else x
    else:
        v = vec
        y = B @ v
        sigma = float(np.linalg.norm(y))
        u = y / sigma if sigma > 0 else y
    bound = max(math.sqrt(max(lam_bound, 0.0)), sigma)
    # the vectors: frequency f of the (possibly half) grid, group gi
    f = [int(x) for x in freqs[fi]]
    waves = [np.exp(2j * np.pi * fa * np.arange(Ma) / Ma) for fa, Ma in zip(f, M, strict=True)]
    wave = waves[0]
    for extra in waves[1:]:
        wave = np.multiply.outer(wave, extra)
    wave = wave / math.sqrt(math.prod(M))
    cout_g, cin_g = g.out_channels // G, g.in_channels // G
    left = np.zeros((g.out_channels, *M), dtype=np.complex128)
    left[gi * cout_g : (gi + 1) * cout_g] = np.multiply.outer(u, wave)
    # the right vector on all phases (the unused ones are zero columns of the block)
    used = [
        tap_layout(k, d, st, N, used_only=True)[2]
        for k, d, st, N in zip(g.kernel_size, g.dilation, emb.stride, emb.grid, strict=True)
    ]
    vfull = np.zeros((cin_g, *emb.stride), dtype=np.complex128)
    vfull[(slice(None),) + np.ix_(*used)] = v.reshape((cin_g,) + tuple(map(len, used)))
    # x[c, q·s + r] = v[c, r]·wave[q]: (c, M1, s1, M2, s2, …) in C order is (c, N1, N2, …)
    vb = vfull.reshape((cin_g,) + sum(((1, st) for st in emb.stride), ()))
    wb = wave.reshape(sum(((Ma, 1) for Ma in M), ()))
    right = np.zeros((g.in_channels, *emb.grid), dtype=np.complex128)
    right[gi * cin_g : (gi + 1) * cin_g] = (vb * wb[None]).reshape((cin_g, *emb.grid))
    return _Top(sigma, bound, left, right)


def _to_input(vec: np.ndarray, g: ConvGeometry, emb: Embedding) -> np.ndarray:
    """``Jᴴ`` (or ``Pᵀ·Jᴴ``): a vector on the embedding's grid, as an input of ``A``."""
    lows = tuple(lo for lo, _ in g.padding)
    if emb.kind == "padded":
        crop = vec[(slice(None),) + tuple(slice(0, e) for e in g.padded_extent)]
        return fold(np.ascontiguousarray(crop)[None], g)[0]
    out = vec
    for a, (n, lo, N) in enumerate(zip(g.spatial_in, lows, emb.grid, strict=True)):
        idx = (np.arange(n, dtype=np.int64) + lo) % N
        out = np.take(out, idx, axis=1 + a)
    if emb.kind == "zeros":  # entries the window never reads stay zero
        ext = g.padded_extent
        for a, (n, lo, e) in enumerate(zip(g.spatial_in, lows, ext, strict=True)):
            read = max(min(n, e - lo), 0)
            if read < n:
                out[(slice(None),) * (1 + a) + (slice(read, None),)] = 0
    return out


def _from_output(vec: np.ndarray, g: ConvGeometry, emb: Embedding) -> np.ndarray:
    """``Rᴴ``'s adjoint: a vector on the circular convolution's outputs, as an output of ``A``."""
    out = vec
    for a, (m, s, N, st) in enumerate(
        zip(g.spatial_out, g.stride, emb.grid, emb.stride, strict=True)
    ):
        rows = N // st
        idx = (np.arange(m, dtype=np.int64) * (s // st)) % rows
        out = np.take(out, idx, axis=1 + a)
    return out


# ----------------------------------------------------------------------------------------
# the Lanczos iteration (thick restart, full reorthogonalisation)
# ----------------------------------------------------------------------------------------
@dataclass
class _Ritz:
    theta: float
    vector: np.ndarray
    steps: int
    residual: float


def _lanczos(
    gram: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    *,
    max_steps: int,
    tol: float,
    enough: Callable[[float], bool],
    progress: Callable[[str], None] | None,
) -> _Ritz:
    r"""The top eigenpair of the Hermitian PSD ``gram`` by thick-restart Lanczos.

    The basis ``V`` (rows) is kept orthonormal by classical Gram–Schmidt, with a second
    pass where the first shrank the vector's norm by more than a factor sqrt(2) (the DGKS
    test); ``H = Vᴴ·gram·V`` is assembled from the coefficients, and ``gram·V = V·H + w·e_jᵀ`` holds
    for the last residual ``w``, so the Ritz pair ``(θ, V s)`` has residual
    ``‖w‖·|s_j|``.  At a restart the top Ritz vectors and ``w/‖w‖`` start the new basis
    (Wu & Simon's thick restart).
    """
    dim = start.size
    fits = LANCZOS_BYTES // max(1, dim * start.itemsize) - 1
    basis = min(LANCZOS_BASIS, dim, max(LANCZOS_KEEP, fits))
    V = np.zeros((basis + 1, dim), dtype=start.dtype)
    H = np.zeros((basis + 1, basis + 1), dtype=start.dtype)
    V[0] = start / np.linalg.norm(start)
    if np.iscomplexobj(V):  # Vᴴw without a conjugated copy of the basis (10× a product)

        def project(Vj: np.ndarray, w: np.ndarray) -> np.ndarray:
            return np.conj(Vj @ np.conj(w))
    else:

        def project(Vj: np.ndarray, w: np.ndarray) -> np.ndarray:
            return Vj @ w

    j, steps = 0, 0
    theta, s_vec, resid = 0.0, np.ones(1), math.inf
    while True:
        w = gram(V[j])
        steps += 1
        Vj = V[: j + 1]
        before = float(np.linalg.norm(w))
        h = project(Vj, w)
        w = w - h @ Vj
        # a second pass where the first cancelled much of w ("twice is enough": Daniel,
        # Gragg, Kaufman & Stewart's test): orthogonality to rounding either way
        if float(np.linalg.norm(w)) < 0.7071 * before:
            h2 = project(Vj, w)
            w = w - h2 @ Vj
            h = h + h2
        H[: j + 1, j] = h
        H[j, : j + 1] = np.conj(h)
        beta = float(np.linalg.norm(w))
        evals, S = np.linalg.eigh(H[: j + 1, : j + 1])
        theta, s_vec = float(evals[-1]), S[:, -1]
        resid = beta * abs(s_vec[j])
        if progress is not None and steps % 10 == 0:
            progress(f"Lanczos step {steps}: sigma ~ {math.sqrt(max(theta, 0)):.9g}")
        scale = max(theta, np.finfo(float).tiny)
        if (
            enough(theta)
            or resid <= tol * scale
            or steps >= max_steps
            or beta <= 1e-14 * max(scale, float(np.max(np.abs(evals))))
            or j + 1 >= dim
        ):
            break
        if j + 1 == basis:  # thick restart
            keep = min(LANCZOS_KEEP, j)
            top = S[:, -keep:]
            V[:keep] = top.T @ V[: j + 1]
            H[:] = 0
            H[np.arange(keep), np.arange(keep)] = evals[-keep:]
            V[keep] = w / beta
            j = keep
            continue
        V[j + 1] = w / beta
        j += 1
    vector = s_vec @ V[: j + 1]
    return _Ritz(theta, vector / np.linalg.norm(vector), steps, resid)


# ----------------------------------------------------------------------------------------
# norm_bounds
# ----------------------------------------------------------------------------------------
class _Counted:
    """The double-precision operator ``A`` (and ``Aᴴ``) with a count of the products."""

    def __init__(self, op: Any):
        self.op, self.adj, self.count = op, op.H, 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.count += 1
        return self.op.apply(x)

    def adjoint(self, y: np.ndarray) -> np.ndarray:
        self.count += 1
        return self.adj.apply(y)


def _product_cost(g: ConvGeometry) -> float:
    """Multiply-adds of one product with ``A`` (the direct sliding window)."""
    return float(
        math.prod(g.spatial_out)
        * g.out_channels
        * (g.in_channels // g.groups)
        * math.prod(g.kernel_size)
    )


def _block_cost(g: ConvGeometry, emb: Embedding, real: bool) -> float:
    """The measure of an embedding's cost that decides how many grids are tried.

    The real multiply-adds of one Gram product per frequency (4 per complex): what the
    blocks cost when each Gram matrix is formed from its block.  The tap pairs of
    :class:`_Grams` are often cheaper; the measure is kept so that the grids tried, and so
    the bounds, do not depend on how the Gram matrices are formed.
    """
    count = math.prod(N // st for N, st in zip(emb.grid, emb.stride, strict=True))
    freqs = count / 2 if real else float(count)
    rows = g.out_channels // g.groups
    cols = (g.in_channels // g.groups) * math.prod(emb.stride)
    return 4.0 * freqs * g.groups * min(rows, cols) ** 2 * max(rows, cols)


def _real_part(v: np.ndarray) -> np.ndarray:
    """Of a complex top singular vector of a real operator, the larger of Re and Im.

    Both lie in the top singular subspace: it holds the vector at ``−f`` (the conjugate)
    as well as the one at ``f``, or, at a self-conjugate frequency, a real vector times a
    phase.
    """
    re, im = np.real(v), np.imag(v)
    return np.array(re if np.linalg.norm(re) >= np.linalg.norm(im) else im)


def _nonnegative_sign(w: np.ndarray) -> int:
    """+1 if every tap is >= 0, −1 if every tap is <= 0, 0 otherwise (or complex).

    Then ``A`` (or ``−A``) is entrywise nonnegative, ``A_|w|`` is ``±A`` and the
    Collatz–Wielandt bound converges to ``‖A‖`` itself.
    """
    if np.iscomplexobj(w) or not np.any(w):
        return 0
    if np.all(w >= 0):
        return 1
    if np.all(w <= 0):
        return -1
    return 0


def norm_bounds(
    op: ConvOperator,
    *,
    rtol: float = 1e-3,
    maxiter: int = MAXITER,
    rng: int | np.random.Generator | None = None,
    progress: Callable[[str], None] | None = None,
) -> NormBounds:
    r"""A certified interval ``lower <= ‖A‖₂ <= upper`` for any convolution.

    ``upper`` is proven (see :mod:`convops.spectral.bounds` for the argument): the smallest
    of the circular-embedding bound ``‖A‖ <= factor·‖C_N‖`` (``factor = ‖P‖``, the padding
    map's exact norm, 1 for zero padding), the circular-rows bound for circular
    boundaries, and the Collatz–Wielandt bound on the kernel's moduli (nonnegative kernels,
    or kernels with a strong mean); it includes a margin for floating-point rounding
    (field ``rounding``, relative, typically 1e-13 – 1e-9: it covers the worst-case
    errors of the Gram matrices formed from the kernel, Cholesky factorisations and eigensolvers in
    double precision).  ``lower = ‖A·witness‖/‖witness‖`` for the returned witness, a Ritz
    vector of thick-restart Lanczos on ``AᴴA`` (or ``AAᴴ``, the smaller side) started from
    the top singular vector of the embedding restricted to the input; it is evaluated in
    double precision, so it can exceed ``‖A‖`` only by the rounding of that one product
    (~1e-15 relative).

    Supported: every boundary, stride, dilation, padding and group count, 1D to 3D, real
    or complex kernels of any float dtype.  The cost is dominated, for many channels, by
    one Cholesky factorisation of a ``c × c`` Gram matrix per frequency of the embedding
    (``ΠN/Πs`` of them, half for a real kernel; ``c = min(C_out, C_in·Πs)/G``; most of
    them skipped for kernels with a strong mean), and otherwise by the products with ``A``
    and ``Aᴴ`` (field ``applications``).

    Where the operator is block-circulant (circular boundary, ``lo + hi = d·(k − 1)``,
    input divisible by the stride) both are the exact norm, from
    :func:`~convops.singular_values`' blocks, and the witness is an exact top singular
    vector (``exact=True``).

    ``op`` and ``op.H`` have the same norm; for ``op.H`` the witness is an input of ``op.H``
    (an output of the convolution).

    Parameters
    ----------
    op : ConvOperator
        Any geometry; a float32 or complex64 kernel is taken exactly (in double precision).
    rtol : float
        Target relative width: the iteration stops once ``upper <= (1 + rtol)·lower``, or
        when the top Ritz pair has converged to ``rtol`` (residual ``<= 2·rtol·θ`` on
        ``AᴴA``: the Ritz value's square root within ``rtol`` of a singular value),
        ``0 < rtol < 1``.
    maxiter : int
        At most this many Lanczos steps (each one product with ``A`` and one with
        ``Aᴴ``), ``>= 1``.
    rng : numpy.random.Generator or int, optional
        Source of the small random component added to the start vector (a generator, or
        a seed ``>= 0``; default a fixed seed, so results repeat).
    progress : callable, optional
        Called with a short message at each stage and every 10 Lanczos steps.

    Returns
    -------
    NormBounds
        ``lower``, ``upper``, ``witness``, ``lower_method``, ``upper_method``, ``exact``,
        ``applications``, ``grid``, ``rounding`` (and ``gap = upper/lower``).

    Raises
    ------
    TypeError
        ``op`` is not a :class:`~convops.ConvOperator` (for another ``LinearOperator`` use
        :func:`~convops.operator_norm`), or ``rtol``, ``maxiter``, ``rng`` are of the wrong
        type.
    ValueError
        ``rtol`` outside ``(0, 1)``, ``maxiter < 1`` or a negative seed.

    Examples
    --------
    >>> import numpy as np, convops
    >>> w = np.random.default_rng(0).standard_normal((4, 3, 3, 3))
    >>> A = convops.ConvOperator(w, (3, 16, 16), stride=2, padding=1)
    >>> b = convops.norm_bounds(A)
    >>> exact = np.linalg.norm(A.toarray(), 2)
    >>> bool(b.lower <= exact <= b.upper), b.upper / b.lower < 1.05
    (True, True)
    """
    g_op = conv_geometry(op)
    rtol = validate_number(rtol, "rtol")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol={rtol!r} is not allowed: it must lie strictly between 0 and 1")
    maxiter = validate_int(maxiter, "maxiter", minimum=1)
    generator = as_generator(rng)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking one str, or None; got {progress!r}")
    say = progress if progress is not None else (lambda message: None)
    from ..operators import ConvOperator  # the operators import the spectral tools lazily

    g = g_op.transpose() if g_op.transposed else g_op  # the convolution A itself
    kernel = np.asarray(op.kernel)
    kernel = kernel.astype(np.complex128 if np.iscomplexobj(kernel) else np.float64)
    w = g.canonical_kernel(kernel)
    if not np.all(np.isfinite(w)):
        raise ValueError(
            "op's kernel holds non-finite values (NaN or inf): its norm is not a finite number"
        )
    real = not np.iscomplexobj(w)
    # the Lanczos basis (at least LANCZOS_KEEP + 2 vectors of the smaller side) and one
    # chunk of blocks with their Gram matrices
    side = min(g.shape)
    check_work(
        (LANCZOS_KEEP + 2) * side * (8 if real else 16) + 2 * 16 * GRAM_CHUNK,
        f"norm_bounds on this {g.shape[0]}x{g.shape[1]} operator (its Lanczos basis)",
    )
    A = _Counted(ConvOperator.from_geometry(kernel, g))
    adjoint_side = g_op.transposed

    def finish(
        x: np.ndarray,
        lower_text: str,
        upper: float,
        upper_text: str,
        *,
        exact: bool,
        grid: tuple[int, ...],
        rounding: float,
        lower_override: float | None = None,
    ) -> NormBounds:
        """Normalise the witness (an input of ``op``) and evaluate ``lower`` on it."""
        size = float(np.linalg.norm(x))
        x = x / size if size > 0 else np.ones_like(x) / math.sqrt(x.size)
        image = A.adjoint(x) if adjoint_side else A.forward(x)
        lower = float(np.linalg.norm(image)) if lower_override is None else lower_override
        x = np.array(x)
        x.setflags(write=False)
        return NormBounds(lower, upper, x, lower_text, upper_text, exact, A.count, grid, rounding)

    # an operator that is identically zero: every output reads only zero padding, or w = 0
    # (on some axis no position the window reads holds an input entry: ‖P_axis‖ = 0)
    reads_nothing = min(padding_map_norm(g)) == 0
    if reads_nothing or not np.any(w):
        x = np.ones(op.input_shape)
        return finish(
            x,
            "the operator is zero",
            0.0,
            "the operator is zero",
            exact=True,
            grid=(),
            rounding=0.0,
        )

    # ---- block-circulant: exact -------------------------------------------------------
    if block_circulant_reason(g) is None:
        say("block-circulant: exact polyphase blocks")
        emb = Embedding("rows", g.spatial_in, g.stride, 1.0)
        top = _top_singular(w, g, emb)
        if adjoint_side:
            vec = _from_output(top.left, g, emb).reshape(g.output_shape)
        else:
            vec = _to_input(top.right, g, emb).reshape(g.input_shape)
        vec = _real_part(vec) if real else vec
        text = (
            f"exact: block-circulant, the largest singular value of the polyphase blocks on "
            f"the grid {g.spatial_in} (stride {g.stride})"
        )
        return finish(
            vec,
            text + " (its singular vector is the witness)",
            top.sigma,
            text,
            exact=True,
            grid=g.spatial_in,
            rounding=0.0,
            lower_override=top.sigma,
        )

    # ---- the upper bound: the best embedding ------------------------------------------
    best: tuple[float, Embedding, _Top] | None = None
    # more grids while their blocks cost little next to the products with A (small inputs,
    # where the sampled spectrum's maximum moves most from grid to grid)
    budget = GRID_BUDGET * _product_cost(g)
    spent, families = 0.0, set()
    for emb in embeddings(g, count=GRIDS_TRIED):
        cost = _block_cost(g, emb, real)
        # the first grid of each family always; further ones while the budget lasts
        if emb.kind in families and spent + cost > budget:
            continue
        families.add(emb.kind)
        spent += cost
        say(f"circulant embedding ({emb.kind}) on the grid {emb.grid}")
        top = _top_singular(w, g, emb)
        bound = emb.factor * top.bound * (1 + 4 * EPS)
        if best is None or bound < best[0]:
            best = (bound, emb, top)
    assert best is not None
    upper, emb, top = best
    upper_text = {
        "zeros": (
            f"circulant embedding: the zero-padded convolution is a restriction of the "
            f"strided circular convolution on the grid {emb.grid} (exact norm from its "
            "polyphase blocks)"
        ),
        "padded": (
            f"circulant embedding: the norm of the strided circular convolution on the grid "
            f"{emb.grid} times the norm of the {g.boundary} padding map, "
            f"||P|| = {emb.factor:.6g}"
        ),
        "rows": (
            f"circular rows: each output is a row of the circular convolution on the input "
            f"grid {emb.grid} (stride {emb.stride}), taken at most {round(emb.factor**2)} "
            f"time(s): sqrt({round(emb.factor**2)})·||C||"
        ),
    }[emb.kind]
    rounding = upper / (emb.factor * top.sigma) - 1 if top.sigma > 0 else 0.0

    # ---- the lower bound: Lanczos from the embedding's top singular vector -------------
    x0 = _to_input(top.right, g, emb).reshape(g.input_shape)
    x0 = _real_part(x0) if real else x0
    if emb.kind == "zeros":
        # near the peak of the spectrum the zero-padded operator acts like a second
        # difference with Dirichlet ends: its top singular vectors are close to the plane
        # wave times the half sine sin(π(i + 1)/(n + 1)) along each axis (Lanczos then
        # needs fewer steps: 3 instead of 13 on ResNet-18's first layers)
        for a, n in enumerate(g.spatial_in):
            envelope = np.sin(np.pi * np.arange(1, n + 1) / (n + 1))
            x0 = x0 * envelope.reshape((n,) + (1,) * (g.ndim - 1 - a))
    noise = generator.standard_normal(x0.shape)
    if not real:
        noise = noise + 1j * generator.standard_normal(x0.shape)
    size = float(np.linalg.norm(x0))
    if size > 0:
        x0 = x0 + 1e-3 * size * noise / np.linalg.norm(noise)
    else:
        x0 = noise
    rows, cols = g.shape
    on_input = cols <= rows
    if on_input:
        start = x0

        def gram(v: np.ndarray) -> np.ndarray:
            return A.adjoint(A.forward(v.reshape(g.input_shape))).ravel()
    else:
        start = A.forward(x0)

        def gram(v: np.ndarray) -> np.ndarray:
            return A.forward(A.adjoint(v.reshape(g.output_shape))).ravel()

    sign = _nonnegative_sign(w)
    target = upper / (1 + rtol)
    # (on θ = σ²: a residual 2·rtol·θ puts σ within rtol of a singular value; the
    # Collatz–Wielandt bound wants an accurate eigenvector)
    tol = rtol * 1e-2 if sign else 2 * rtol
    say(f"Lanczos on {'AᴴA' if on_input else 'AAᴴ'} (dimension {start.size})")
    ritz = _lanczos(
        gram,
        start.ravel(),
        max_steps=maxiter,
        tol=tol,
        enough=(lambda theta: False) if sign else (lambda theta: theta >= target * target),
        progress=progress,
    )
    vec = ritz.vector.reshape(g.input_shape if on_input else g.output_shape)
    lower_text = (
        f"Lanczos (thick restart) on {'AᴴA' if on_input else 'AAᴴ'} from the top singular "
        f"vector of the circulant embedding restricted to the {'input' if on_input else 'output'}: "
        f"{ritz.steps} steps, Ritz residual {ritz.residual / max(ritz.theta, 1e-300):.1e}·θ"
    )
    grid = emb.grid

    # ---- Collatz–Wielandt on the kernel's moduli ----------------------------------------
    # ‖A‖ <= ‖A_|w|‖ (entrywise |A| <= A_|w|), whose circulant norm is its block at
    # frequency 0 (Perron–Frobenius).  Worth trying when the prediction of ‖A_|w|‖ is below
    # the bound so far: zero padding cuts it below its circulant norm by about the factor
    # it cuts A's (lower/‖C‖); the other boundaries keep the constant vector's gain
    # (a prediction only, not a bound: a few power steps on the nonnegative block at
    # frequency 0, the sum of the polyphase kernel's matrices, suffice)
    _, W = polyphase_kernel(
        np.abs(w), g.dilation, emb.stride, emb.grid, g.groups, used_only=True, summed=True
    )
    block = W[0].reshape(g.groups, g.out_channels // g.groups, -1)
    z = np.ones((block.shape[0], block.shape[2], 1))
    for _ in range(20):
        z = np.swapaxes(block, 1, 2) @ (block @ z)
        z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-300
    moduli_circ = float(np.max(np.linalg.norm(block @ z, axis=1)))
    estimate = math.sqrt(max(ritz.theta, 0.0))
    cut = min(1.0, estimate / top.bound) if g.boundary == "zeros" and top.bound > 0 else 1.0
    if sign or moduli_circ * cut < 0.999 * upper:
        say("Collatz–Wielandt bound on the kernel's moduli")
        goal = math.sqrt(max(ritz.theta, 0.0)) * (1 + rtol)
        rival = None if sign else upper  # a nonnegative kernel's bound converges to ‖A‖
        cw, steps = _collatz_wielandt(np.abs(kernel), g, vec, on_input, goal, rival, A)
        if cw < upper:
            upper, grid = cw, ()
            rounding = cw_margin(g)
            first = (
                "every entry of A is >= 0"
                if sign == 1
                else "every entry of -A is >= 0"
                if sign == -1
                else "|A| <= A_|w| entrywise, so ||A|| <= ||A_|w|||"
            )
            upper_text = (
                f"Collatz–Wielandt: {first}, and ||A_|w|||² <= max_i (M u)_i / u_i for the "
                f"nonnegative M = {'A_|w|ᵀA_|w|' if on_input else 'A_|w|A_|w|ᵀ'} and the "
                f"positive vector u = |witness| after {steps} power step(s)"
            )

    # the witness is an input of op: of A, or of Aᴴ when op is the transposed convolution
    if on_input != (not adjoint_side):
        vec = A.forward(vec) if on_input else A.adjoint(vec)
    return finish(vec, lower_text, upper, upper_text, exact=False, grid=grid, rounding=rounding)


def cw_margin(g: ConvGeometry) -> float:
    """Relative rounding margin of the Collatz–Wielandt bound on ``σ``.

    Every entry of ``M u`` is a sum of nonnegative products, computed by the direct
    realisation in double precision with relative error at most ``γ_K = K·eps/(1 − K·eps)``
    per product with ``A`` or ``Aᵀ``, where ``K`` bounds the number of terms of an entry
    (kernel taps times channels times how often a padded position folds onto one input).
    """
    taps = math.prod(g.kernel_size)
    fold_count = math.prod(max(1.0, f) ** 2 for f in padding_map_norm(g))
    terms = (g.in_channels + g.out_channels) * taps * fold_count + 4
    gamma = terms * EPS / (1 - terms * EPS)
    return 2 * gamma + 4 * EPS


def _collatz_wielandt(
    kernel: np.ndarray,
    g: ConvGeometry,
    vec: np.ndarray,
    on_input: bool,
    target: float,
    rival: float | None,
    counted: _Counted,
) -> tuple[float, int]:
    r"""``sqrt(max_i (M u)_i / u_i)`` for the nonnegative ``M``, ``u`` from the witness.

    ``u = |vec|``, floored at ``1e-8·max|vec|`` so that it is positive; then power steps
    ``u ← M u`` (each can only lower the bound for a nonnegative ``M``), at most
    :data:`CW_STEPS`, stopping when the bound reaches ``target``.  When it competes with
    another bound (``rival``, for a signed kernel's moduli) it also stops once it is still
    5 % above ``rival`` after four steps (the first ratios are poor where the witness is
    nearly zero, e.g. on a block of a reducible ``M`` it does not touch).  Products use the
    direct realisation, whose sums of nonnegative terms carry a small *relative* error per
    entry (see :func:`cw_margin`).  Returns the bound (with its margin) and the power steps.
    """
    from ..operators import ConvOperator

    P = ConvOperator.from_geometry(np.abs(kernel), g, method="direct")
    PH = P.H
    u = np.abs(vec)
    u = np.maximum(u, 1e-8 * float(np.max(u)))
    best, steps = math.inf, 0
    while steps < CW_STEPS:
        steps += 1
        counted.count += 2
        Mu = PH.apply(P.apply(u)) if on_input else P.apply(PH.apply(u))
        ratio = math.sqrt(max(float(np.max(Mu / u)), 0.0))
        best = min(best, ratio)
        if best <= target or (rival is not None and steps >= 4 and best > 1.05 * rival):
            break
        u = np.maximum(Mu, 1e-300)
    return best * (1 + cw_margin(g)), steps
