r"""Singular values and the spectral norm of a convolution.

A *block-circulant* convolution — circular boundary, ``lo + hi = d·(k − 1)`` per axis and
every spatial size ``n`` divisible by its stride ``s`` — is unitarily similar to a
block-diagonal matrix: after the polyphase split of the input (Senderovich et al., NeurIPS
2022) and a DFT of size ``M = n/s`` per axis, it is one ``C_out/G × (C_in/G)·Πs`` block per
frequency and group.  Its singular values are those of the blocks (stride 1: the
``C_out/G × C_in/G`` blocks Ĥ(f) of Sedghi, Gupta & Long, ICLR 2019):
:func:`singular_values`.  :func:`operator_norm` uses them where they apply, and otherwise a
dense SVD (small operators) or a Lanczos iteration on ``AᴴA``; :func:`convops.norm_bounds`
gives a certified interval for every geometry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from .._validate import is_int, validate_bool, validate_choice, validate_int, validate_number
from ..geometry import ConvGeometry
from ..realisations.workspace import check_work
from ._multiplier import conv_geometry

if TYPE_CHECKING:  # the operators import the spectral tools lazily
    from ..operators import ConvOperator

__all__ = [
    "DENSE_SVD_LIMIT",
    "FrequencySingularValues",
    "block_circulant_reason",
    "operator_norm",
    "polyphase_blocks",
    "singular_values",
]

#: :func:`operator_norm` uses a dense SVD when the smaller side of the operator is at most this.
DENSE_SVD_LIMIT = 500

NormMethod = Literal["auto", "exact", "dense", "lanczos"]

#: The methods :func:`operator_norm` can be told to use.
NORM_METHODS: tuple[NormMethod, ...] = ("auto", "exact", "dense", "lanczos")


def block_circulant_reason(g: ConvGeometry) -> str | None:
    """Why ``g`` is not a block-circulant convolution (``None`` if it is).

    Block-circulant: ``boundary="circular"``, ``lo + hi = d·(k − 1)`` on every axis, every
    input size divisible by its stride (so that the output has ``n/s`` entries per axis).
    """
    if g.boundary != "circular":
        return f"boundary={g.boundary!r} (needs 'circular')"
    totals = tuple(lo + hi for lo, hi in g.padding)
    spans = tuple(e - 1 for e in g.span)
    if totals != spans:
        return f"padding={g.padding} (needs lo + hi = d·(k − 1) = {spans} per axis)"
    if any(n % s for n, s in zip(g.spatial_in, g.stride, strict=True)):
        return (
            f"input size {g.spatial_in} not divisible by stride={g.stride} (pad or crop the "
            "input to a multiple of the stride)"
        )
    expected = tuple(n // s for n, s in zip(g.spatial_in, g.stride, strict=True))
    if g.spatial_out != expected:
        return f"output size {g.spatial_out} cropped below n/s = {expected}"
    return None


def tap_layout(
    k: int, d: int, s: int, N: int, *, used_only: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Where the taps of one axis land after the polyphase split of a grid of size ``N``.

    Tap ``t`` of the dilated kernel lands at ``q_t = (t·d) mod N`` (taps that wrap share a
    position and add up): at offset ``⌊q_t/s⌋`` of phase ``q_t mod s``.  Returns the
    offsets ``(k,)``, each tap's index into the phases kept ``(k,)``, and those phases:
    all ``s`` of them, or with ``used_only`` only those some tap lands on (the others are
    zero columns of every block).
    """
    q = (np.arange(k, dtype=np.int64) * d) % N
    phases = np.unique(q % s) if used_only else np.arange(s, dtype=np.int64)
    return q // s, np.searchsorted(phases, q % s), phases


def polyphase_kernel(
    w: np.ndarray,
    dilation: Sequence[int],
    stride: Sequence[int],
    grid: Sequence[int],
    groups: int,
    *,
    used_only: bool = False,
    summed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""The polyphase kernel: ``B(f) = Σ_o W_o·e^{+2πi Σ_a f_a·o_a/M_a}`` (:func:`polyphase_blocks`).

    ``W_o`` holds the taps that land at offset ``o`` (one per axis, :func:`tap_layout`),
    each in the columns of its phase: ``W_o[c_o, (c_i, r)] = Σ_t [⌊q_t/s⌋ = o,
    q_t mod s = r]·w[c_o, c_i, t]``.  With ``summed``, only ``Σ_o W_o = B(0)``, the block
    at frequency 0 (one matrix, at offset 0).

    Returns
    -------
    offsets : ndarray of int, ``(O, D)``
        The offsets ``o`` that some tap lands on (the others give zero matrices).
    W : ndarray, ``(O, C_out, (C_in/G)·ΠR)``
        The matrices ``W_o``, rows ``(group, c_o)``, columns ``(c_i, r_1, …, r_D)``; real
        for a real kernel.
    """
    w = np.asarray(w)
    cout, cin_g = w.shape[:2]
    ks = w.shape[2:]
    layouts = [
        tap_layout(k, d, s, N, used_only=used_only)
        for k, d, s, N in zip(ks, dilation, stride, grid, strict=True)
    ]
    if summed:  # every tap at offset 0: the sum over the offsets
        kept = [np.zeros(1, dtype=np.int64) for _ in layouts]
        at = [np.zeros_like(offsets) for offsets, _, _ in layouts]
    else:
        kept = [np.unique(offsets) for offsets, _, _ in layouts]
        at = [np.searchsorted(u, o) for u, (o, _, _) in zip(kept, layouts, strict=True)]
    nphase = tuple(len(phases) for _, _, phases in layouts)
    W = np.zeros(tuple(map(len, kept)) + (cout, cin_g) + nphase, dtype=w.dtype)
    every = (slice(None), slice(None))
    # one kernel-sized addition per tap (taps that wrap onto one position add up)
    for t in np.ndindex(*ks):
        o = tuple(int(at[a][i]) for a, i in enumerate(t))
        r = tuple(int(layouts[a][1][i]) for a, i in enumerate(t))
        W[o + every + r] += w[every + t]
    grid_o = np.meshgrid(*kept, indexing="ij")
    offsets = np.stack([g.ravel() for g in grid_o], axis=1) if ks else np.zeros((1, 0), np.int64)
    return offsets.astype(np.int64), W.reshape(len(offsets), cout, cin_g * math.prod(nphase))


def frequency_phases(freqs: np.ndarray, offsets: np.ndarray, M: Sequence[int]) -> np.ndarray:
    r"""``e^{+2πi Σ_a f_a·o_a/M_a}`` for frequencies ``(F, D)`` and offsets ``(O, D)``: ``(F, O)``.

    The exponent is reduced modulo 1 in integers first (``(f·o) mod M``), so that the
    phases are accurate to a few ulps whatever the sizes.
    """
    turns = np.zeros((freqs.shape[0], offsets.shape[0]))
    for a, Ma in enumerate(M):
        turns += np.mod(np.outer(freqs[:, a], offsets[:, a]), Ma) / Ma
    return np.exp(2j * np.pi * turns)


def polyphase_blocks(
    w: np.ndarray,
    dilation: Sequence[int],
    stride: Sequence[int],
    grid: Sequence[int],
    groups: int,
    *,
    half: bool = False,
    used_only: bool = False,
    frequencies: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    r"""The blocks of the strided circular cross-correlation on ``grid``, one per frequency.

    On a grid ``N`` with ``s | N`` per axis, the map
    ``y[c_o, j] = Σ_{c_i, t} w[c_o, c_i, t]·x[c_i, (j·s + t·d) mod N]`` (``0 <= j < M = N/s``)
    reads the input's polyphase components ``x_r[q] = x[q·s + r]`` (``0 <= r < s``): with
    ``w_d`` the dilated kernel on the grid (tap ``t`` at ``(t·d) mod N``),
    ``y = Σ_r w_{d,r} ⋆ x_r``, a sum of circular correlations of size ``M``.  A DFT of size
    ``M`` (unitary, on ``y`` and on each ``x_r``) makes it block-diagonal: at frequency
    ``f``, ``Ŷ(f) = B(f)·[X̂_r(f)]_r`` with

    .. math:: B(f) = \big[\hat H_r(f)\big]_{r},\qquad
              \hat H_r(f) = \sum_a w_d[a s + r]\, e^{+2\pi i\, f\cdot a/M},

    a ``C_out/G × (C_in/G)·Πs`` matrix per group (columns ordered ``(c_i, r_1, …, r_D)``).
    The input ``x[c_i, q·s + r] = v[c_i, r]·e^{+2πi f·q/M}/sqrt(ΠM)`` goes to
    ``y[c_o, j] = (B(f) v)[c_o]·e^{+2πi f·j/M}/sqrt(ΠM)``: the polyphase split and the DFTs are
    unitary, so the singular values of the map are those of the blocks.  The sums over the
    taps are formed directly, never on a zero-padded grid: ``B(f) = Σ_o W_o·e^{+2πi f·o/M}``
    over the few offsets ``o`` the taps land on (:func:`polyphase_kernel`), one matrix
    product of the phases ``(F, O)`` with the ``W_o`` that writes the blocks in the
    returned layout.

    Parameters
    ----------
    w : ndarray
        ``(C_out, C_in/G, *k)``, the canonical (flipped if ``flip``) kernel.
    dilation, stride, grid : sequence of int
        ``d``, ``s`` and ``N`` per axis, ``s`` dividing ``N``.
    groups : int
        ``G``.
    half : bool
        Only the frequencies ``0 <= f_D <= M_D // 2`` of the last axis (for a real kernel the
        blocks at ``−f`` are the conjugates of those at ``f``: same singular values).
    used_only : bool
        Keep only the phases some tap lands on (the columns left out are zero; the nonzero
        singular values are unchanged).
    frequencies : sequence of int arrays, optional
        Only these frequencies, one array per axis (default: all ``0 <= f < M``, or the
        half grid with ``half``); used to build the blocks in chunks.

    Returns
    -------
    ndarray, complex128
        ``(F, G, C_out/G, (C_in/G)·ΠR)``, frequencies in C order over the per-axis lists
        (all of ``M``, the half grid, or ``frequencies``), ``R = s`` phases per axis (fewer
        with ``used_only``).
    """
    D = len(grid)
    w = np.asarray(w)
    w = w.astype(np.complex128 if np.iscomplexobj(w) else np.float64, copy=False)
    cout = w.shape[0]
    M = [N // s for N, s in zip(grid, stride, strict=True)]
    axes = []
    for a in range(D):
        if frequencies is not None:
            axes.append(np.asarray(frequencies[a], dtype=np.int64))
        else:
            axes.append(np.arange(M[a] // 2 + 1 if (half and a == D - 1) else M[a]))
    mesh = np.meshgrid(*axes, indexing="ij")
    freqs = np.stack([m.ravel() for m in mesh], axis=1) if D else np.zeros((1, 0), np.int64)
    offsets, W = polyphase_kernel(w, dilation, stride, grid, groups, used_only=used_only)
    E = frequency_phases(freqs, offsets, M)  # (F, O)
    # one product writes every block in place: (F, O) @ (O, C_out·cols)
    B = E @ W.reshape(len(offsets), -1).astype(np.complex128, copy=False)
    return B.reshape(len(freqs), groups, cout // groups, W.shape[2])


class FrequencySingularValues(NamedTuple):
    """Singular values with the frequency and the group of the block each belongs to.

    Attributes
    ----------
    values : ndarray of float, descending
    frequencies : ndarray of int, ``(len(values), D)``
        The frequency ``f`` (``0 <= f_a < n_a/s_a`` per axis) of the polyphase block
        (:func:`polyphase_blocks`; at stride 1, the kernel spectrum's block Ĥ(f)).
    groups : ndarray of int, ``(len(values),)``
        The group ``0 <= g < G`` of the block.
    """

    values: np.ndarray
    frequencies: np.ndarray
    groups: np.ndarray


def singular_values(
    op: ConvOperator, *, return_frequencies: bool = False
) -> np.ndarray | FrequencySingularValues:
    r"""All singular values of a block-circulant convolution, in descending order.

    For ``boundary="circular"``, ``lo + hi = d·(k − 1)`` per axis and every input size
    ``n`` divisible by its stride ``s``, the output has ``M = n/s`` entries per axis and
    the operator is, up to a circular shift of the input by ``lo`` (a permutation), the
    strided circular cross-correlation of :func:`polyphase_blocks` on the grid ``n``.
    After the polyphase split of the input and unitary DFTs of size ``M`` it is
    block-diagonal (Senderovich et al., NeurIPS 2022): one ``C_out/G × (C_in/G)·Πs``
    block per frequency and group.  Its singular values are those of the ``ΠM·G``
    blocks, ``ΠM·G·min(C_out/G, (C_in/G)·Πs) = min(op.shape)`` values in all; at stride 1
    they are those of the kernel spectrum's blocks Ĥ(f) (Sedghi, Gupta & Long, ICLR 2019).
    ``op`` and ``op.H`` have the same singular values (``op.H``'s matrix is the conjugate
    transpose), and the same count ``min(op.shape)``, as ``numpy.linalg.svd`` of either
    dense matrix gives.  All blocks go to one ``numpy.linalg.svd`` call.

    Parameters
    ----------
    op : ConvOperator
    return_frequencies : bool
        Also return which frequency and group each value belongs to.

    Returns
    -------
    ndarray of float, descending, length ``min(op.shape)``
        Or, with ``return_frequencies=True``, a :class:`FrequencySingularValues`
        ``(values, frequencies, groups)`` in the same order.

    Raises
    ------
    TypeError
        For anything but a :class:`~convops.ConvOperator`.
    ValueError
        For any other geometry, pointing to :func:`convops.norm_bounds` (a certified
        interval), :func:`operator_norm`, or a dense SVD,
        ``numpy.linalg.svd(op.toarray(), compute_uv=False)``, for small operators.

    Examples
    --------
    >>> import numpy as np, convops
    >>> A = convops.ConvOperator(np.ones((2, 1, 3)), (1, 8), boundary="circular",
    ...                          padding=1, stride=2)
    >>> sv = convops.singular_values(A)
    >>> bool(np.allclose(sv, np.linalg.svd(A.toarray(), compute_uv=False)))
    True
    """
    g = conv_geometry(op)
    return_frequencies = validate_bool(return_frequencies, "return_frequencies")
    reason = block_circulant_reason(g)
    if reason is not None:
        raise ValueError(
            "singular_values is exact only for block-circulant convolutions (boundary "
            "'circular', lo + hi = d·(k − 1) per axis, input size divisible by the stride); "
            f"this operator has {reason}. Use convops.norm_bounds(op) for a certified "
            "interval around the norm, convops.operator_norm(op) for one number, or "
            "numpy.linalg.svd(op.toarray(), compute_uv=False) for a small operator"
        )
    w = g.canonical_kernel(np.asarray(op.kernel))
    if not np.all(np.isfinite(w)):
        raise ValueError(
            "op's kernel holds non-finite values (NaN or inf): its singular values are "
            "not finite numbers"
        )
    # the blocks, the copies made building them and the SVD's work arrays
    rows, cols = g.out_channels // g.groups, (g.in_channels // g.groups) * math.prod(g.stride)
    count = math.prod(n // s for n, s in zip(g.spatial_in, g.stride, strict=True)) * g.groups
    check_work(4 * 16 * count * rows * cols, "singular_values' frequency blocks")
    blocks = polyphase_blocks(w, g.dilation, g.stride, g.spatial_in, g.groups)
    sv = np.linalg.svd(blocks, compute_uv=False)  # (F, G, min(rows, cols) of a block)
    order = np.argsort(-sv.ravel(), kind="stable")
    values = sv.ravel()[order]
    if not return_frequencies:
        return values
    M = tuple(n // s for n, s in zip(g.spatial_in, g.stride, strict=True))
    nf, ng, per = sv.shape
    flat_f = np.repeat(np.arange(nf), ng * per)[order]
    group = np.tile(np.repeat(np.arange(ng), per), nf)[order]
    freqs = np.stack(np.unravel_index(flat_f, M), axis=1) if M else np.zeros((len(values), 0))
    return FrequencySingularValues(values, freqs.astype(np.int64), group.astype(np.int64))


def _dense(op: Any) -> np.ndarray:
    if hasattr(op, "toarray"):
        return np.asarray(op.toarray())
    dtype = op.dtype if np.dtype(op.dtype).kind in "fc" else np.float64
    return np.asarray(op.matmat(np.eye(op.shape[1], dtype=dtype)))


def operator_norm(
    op: LinearOperator,
    *,
    rtol: float = 1e-6,
    method: NormMethod = "auto",
    rng: int | np.random.Generator | None = None,
) -> float:
    r"""The spectral norm ``‖A‖₂`` (largest singular value), exactly or to ``rtol``: one number.

    ``method="auto"`` picks, in this order:

    * ``"exact"`` — where :func:`singular_values` applies (block-circulant: circular
      boundary, ``lo + hi = d·(k − 1)``, input divisible by the stride): the largest
      singular value of the polyphase blocks, exact to rounding.  This is the value
      :func:`convops.norm_bounds` returns as both ``lower`` and ``upper``.
    * ``"dense"`` — when ``min(op.shape) <= DENSE_SVD_LIMIT`` (500): the largest singular
      value of the dense matrix (LAPACK), exact to rounding.
    * ``"lanczos"`` — otherwise: ARPACK's implicitly restarted Lanczos (``eigsh``, Krylov
      space of 64) on the Gram operator ``AᴴA`` (or ``AAᴴ``, whichever is smaller) from a
      random start, stopped by ARPACK's test on the top Ritz pair ``(θ, v)``:
      ``‖AᴴA v − θ v‖ <= 2·rtol·θ``.  The value returned is ``σ̃ = ‖A v‖`` for the unit
      Ritz vector ``v`` (``σ̃² = θ`` up to rounding): a witnessed value from below, like
      :func:`convops.norm_bounds`' ``lower``, never its certified ``upper``.

    Guarantees of the Lanczos estimate ``σ̃``:

    * ``σ̃ <= ‖A‖`` always, up to rounding (~1e-15 relative in double precision), because
      it is the norm of ``A`` applied to a unit vector: it never claims more than is true.
    * The residual test puts an eigenvalue ``σ²`` of ``AᴴA`` within ``2·rtol·θ`` of ``θ``
      (a Hermitian matrix has an eigenvalue within ``‖M v − θ v‖`` of the Rayleigh
      quotient θ of any unit vector ``v``), hence ``σ̃ >= σ / sqrt(1 + 2·rtol) >= (1 − rtol)·σ`` for a singular value
      ``σ`` of ``A``.  That ``σ`` is ``‖A‖`` when Lanczos has found the top of the
      spectrum, which it does first from a random start; it can settle on a lower singular
      value only when the start vector has a (nearly) vanishing component along the top
      singular vectors.  So ``(1 − rtol)·‖A‖ <= σ̃ <= ‖A‖``: the upper side is certain, the
      lower side holds with high probability, not with certainty.
    * For step sizes and Lipschitz constants, which need an upper bound, use
      ``convops.norm_bounds(op).upper``: it is proven, not probable (the residual bound
      above bounds *some* eigenvalue, not the largest).  The exact and dense methods need
      no margin beyond rounding.

    The cost is a few hundred products with ``A`` and ``Aᴴ`` at the default ``rtol`` (the
    top of a convolution's spectrum is clustered); a looser ``rtol`` is much cheaper.

    Parameters
    ----------
    op : ConvOperator or LinearOperator
        ``"exact"`` needs a :class:`~convops.ConvOperator`; the others take any
        ``LinearOperator`` (for ``"dense"``, one with ``toarray`` or a cheap ``matmat``).
    rtol : float
        Relative tolerance of the Lanczos stopping test, ``0 < rtol < 1``.
    method : {"auto", "exact", "dense", "lanczos"}
        Force one of the three (``"exact"`` refuses where it does not apply).
    rng : numpy.random.Generator or int, optional
        Source of the Lanczos start vector: a generator, or a seed ``>= 0`` for
        ``numpy.random.default_rng`` (default: a fixed seed, so results repeat).

    Returns
    -------
    float
    """
    method = validate_choice(method, "method", NORM_METHODS)
    rtol = validate_number(rtol, "rtol")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol={rtol!r} is not allowed: it must lie strictly between 0 and 1")
    generator = as_generator(rng)
    if not hasattr(op, "shape") or not hasattr(op, "matvec"):
        raise TypeError(f"op must be a ConvOperator or a LinearOperator; got {type(op).__name__}")
    g = getattr(op, "geometry", None)
    circulant = (
        isinstance(g, ConvGeometry) and hasattr(op, "kernel") and block_circulant_reason(g) is None
    )
    if method == "exact" or (method == "auto" and circulant):
        if not circulant:
            singular_values(op)  # type: ignore[arg-type]  # refuses, saying why
        from .bounds import norm_bounds  # bounds builds on this module

        # the largest block singular value alone (norm_bounds' exact case): no full SVD
        return float(norm_bounds(op).upper)  # type: ignore[arg-type]
    rows, cols = op.shape
    small = min(rows, cols)
    # ARPACK needs a Gram operator of size >= 3; anything that small is dense anyway
    if method == "dense" or (method == "auto" and small <= DENSE_SVD_LIMIT) or small < 3:
        if small == 0:
            return 0.0
        return float(np.linalg.norm(_dense(op), 2))
    return _lanczos_norm(op, rtol, generator)


def as_generator(rng: object) -> np.random.Generator:
    """The Lanczos start vector's source: ``None`` (seed 0), a seed ``>= 0`` or a generator."""
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if is_int(rng):
        return np.random.default_rng(validate_int(rng, "rng", minimum=0))
    raise TypeError(
        f"rng must be None, an int seed >= 0 or a numpy.random.Generator; got {rng!r}"
    ) from None


def _lanczos_norm(op: Any, rtol: float, rng: np.random.Generator) -> float:
    rows, cols = op.shape
    dtype = np.dtype(op.dtype)
    complex_ = dtype.kind == "c"
    ctype = np.result_type(dtype, np.float64)
    H = op.H
    if cols <= rows:  # AᴴA on the smaller side
        dim, first, second = cols, op, H
    else:
        dim, first, second = rows, H, op

    def gram(v: np.ndarray) -> np.ndarray:
        return second.matvec(first.matvec(v))

    gram_op = LinearOperator((dim, dim), matvec=gram, dtype=ctype)
    v0 = rng.standard_normal(dim)
    if complex_:
        v0 = v0 + 1j * rng.standard_normal(dim)
    try:
        # tol on the eigenvalue σ² of the Gram operator: 2·rtol gives rtol on σ (see docstring);
        # a larger Krylov space than ARPACK's default (20) needs fewer restarts on the
        # clustered top spectrum of a convolution
        _, vecs = eigsh(
            gram_op, k=1, which="LA", tol=2 * rtol, ncv=min(dim, 64), v0=v0.astype(ctype)
        )
    except ArpackNoConvergence:
        raise RuntimeError(
            f"the Lanczos iteration did not reach rtol={rtol} within ARPACK's iteration limit; "
            "pass a larger rtol, or method='dense' for an operator that fits in memory"
        ) from None
    v = vecs[:, 0] / np.linalg.norm(vecs[:, 0])
    return float(np.linalg.norm(first.matvec(v)))
