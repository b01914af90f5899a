"""The direct (spatial) realisation: the sliding window, as gathers over kernel taps.

Per spatial axis, with stride ``s``, dilation ``d`` and low padding ``lo``, ``A`` reads

    y[o] = Σ_t w[t] · x̃[o·s + t·d] = Σ_t w[t] · x[o·s + t·d − lo],

so each kernel tap contributes a strided view of the input, scaled by ``w[t]``.  ``A*``
scatters ``x[o·s + t·d − lo] += conj(w[t]) · y[o]``; written per *phase* ``r`` of the
input index ``i = r + s·j`` (the sub-pixel decomposition of a transposed convolution) it is
again a gather,

    x[r + s·j] = Σ_{t : (r + lo − t·d) ≡ 0 (mod s)}  conj(w[t]) · y[j + (r + lo − t·d)/s],

a stride-1 correlation of ``y`` with the taps of that phase.  At stride 1 there is one
phase and the adjoint is the correlation of ``y`` with the reversed kernel.  So both
directions are the same loop: per phase, per tap, add ``c · (view of the source)`` into the
destination; nothing is scattered and nothing is folded for the zero boundary.

Every tap reads a *contiguous* slice of a flattened source grid (:func:`_tap_plan`): the
source (``x``, or ``y`` for ``A*``) is zero-padded once into a reused buffer so that each
tap's view is whole, the sum is formed over whole grid rows and the few extra columns are
cropped away; at stride ``s > 1`` ``A`` reads the ``Π s`` polyphase components
``x̃[r::s]`` instead, so it still computes only the outputs that are kept.  (numpy runs
2–4× slower on strided or partial-row views, which is what a plain slice of the image
per tap gives.)  Other boundaries pad the input once (:func:`convops.padding.pad`) for
``A`` and fold the padded result once for ``A*``.

Single channel: an accumulation ``Σ_t c_t · slice_t`` over the taps in blocks of about
:data:`BLOCK_ELEMENTS` entries that stay in cache while every tap is added, the blocks
split between the workspace's threads for large grids
(:func:`convops.realisations.workspace.tap_loop_threads`).  Channels: im2col (``T`` block
copies of all input channels) and one batched BLAS GEMM over the groups per phase,
chunked so the gathered columns stay within :data:`IM2COL_BUDGET_BYTES`; at stride 1,
where it moves less memory, only the shifts along the last axis are copied and each
kernel row is one GEMM (:func:`_gemm_rows`).

Arrays are ``(B, C, *spatial)``; the kernel is the geometry's canonical
``(C_out, C_in/groups, *k)`` array with ``flip`` applied.  ``cache`` (a :class:`~convops.realisations.contract.RealisationCache`, shared by ``A``
and ``A*``) keeps the per-geometry tap plans (``direct_plans``) and the per-phase weight
matrices of ``A*`` (``direct_weights``).  Work arrays come from
:func:`convops.realisations.workspace.scratch`, threads from its pool.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import NamedTuple

import numpy as np

from ..geometry import ConvGeometry
from ..padding import fold, pad
from .contract import RealisationCache
from .workspace import Purpose, get_config, scratch, tap_loop_threads, thread_pool

__all__ = [
    "BLOCK_ELEMENTS",
    "IM2COL_BUDGET_BYTES",
    "DirectPlan",
    "adjoint",
    "forward",
    "row_gemm_pays",
]

#: Largest im2col buffer (bytes) built at once; larger batches, then larger grids, are
#: processed in chunks.
IM2COL_BUDGET_BYTES = 256 * 2**20

#: Destination entries per block of the single-channel tap loop: the block and its
#: scratch stay in the core's L2 cache while every tap is added (fewer, larger blocks
#: cost Python overhead per tap; more, smaller ones spill to memory).
BLOCK_ELEMENTS = 1 << 16


def _single_channel(geometry: ConvGeometry) -> bool:
    return geometry.in_channels == 1 and geometry.out_channels == 1


def _batch_chunks(batch: int, bytes_per_item: int) -> Iterator[slice]:
    step = max(1, IM2COL_BUDGET_BYTES // max(bytes_per_item, 1))
    for start in range(0, batch, step):
        yield slice(start, min(start + step, batch))


# ----------------------------------------------------------------------------------------
# plans: which taps feed which part of the destination, at which source offset
# ----------------------------------------------------------------------------------------
@dataclass
class _Phase:
    """One gather ``dest[dest_slices][j] += Σ_taps c · src[j·stride + offset]``."""

    dest: tuple[slice, ...]  # spatial slices of the destination array
    shape: tuple[int, ...]  # spatial shape J of that view
    taps: list[int]  # flat tap indices (C order over kernel_size)
    offsets: list[tuple[int, ...]]  # per tap, the source offset per axis
    stride: tuple[int, ...]  # source stride per axis


def _forward_plan(geometry: ConvGeometry, shift: tuple[int, ...]) -> list[_Phase]:
    """``y[o] = Σ_t w[t] src[o·s + t·d − shift]``: one phase."""
    k = geometry.kernel_size
    taps: list[int] = []
    offsets: list[tuple[int, ...]] = []
    for flat, t in enumerate(np.ndindex(*k)):
        taps.append(flat)
        offsets.append(
            tuple(ti * d - sh for ti, d, sh in zip(t, geometry.dilation, shift, strict=True))
        )
    m = geometry.spatial_out
    return [_Phase((slice(None),) * len(m), m, taps, offsets, geometry.stride)]


def _adjoint_plan(
    geometry: ConvGeometry, shift: tuple[int, ...], length: tuple[int, ...]
) -> list[_Phase]:
    """``x[r + s·j] = Σ_{t ∈ T_r} conj(w[t]) y[j + (r + shift − t·d)/s]``, one phase per ``r``."""
    k, s, d = geometry.kernel_size, geometry.stride, geometry.dilation
    per_axis = []  # per axis: [(r, J_r, [(t, offset), ...]), ...]
    for a in range(geometry.ndim):
        phases = []
        for r in range(min(s[a], length[a])):
            J = (length[a] - r + s[a] - 1) // s[a]
            axis_taps = [
                (t, (r + shift[a] - t * d[a]) // s[a])
                for t in range(k[a])
                if (r + shift[a] - t * d[a]) % s[a] == 0
            ]
            phases.append((r, J, axis_taps))
        per_axis.append(phases)
    plan = []
    for combo in product(*per_axis):
        dest = tuple(slice(r, None, sa) for (r, _, _), sa in zip(combo, s, strict=True))
        shape = tuple(J for _, J, _ in combo)
        taps: list[int] = []
        offsets: list[tuple[int, ...]] = []
        for tt in product(*(tp for _, _, tp in combo)):
            taps.append(int(np.ravel_multi_index(tuple(t for t, _ in tt), k)))
            offsets.append(tuple(o for _, o in tt))
        plan.append(_Phase(dest, shape, taps, offsets, (1,) * geometry.ndim))
    return plan


def _plan(geometry: ConvGeometry, adjoint: bool, clipped: bool) -> list[_Phase]:
    """The gathers; ``clipped`` = the source/destination is the unpadded input."""
    D = geometry.ndim
    shift = tuple(lo for lo, _ in geometry.padding) if clipped else (0,) * D
    if adjoint:
        length = geometry.spatial_in if clipped else geometry.padded_extent
        plan = _adjoint_plan(geometry, shift, length)
    else:
        plan = _forward_plan(geometry, shift)
    return plan


# ----------------------------------------------------------------------------------------
# single channel: accumulate c · (contiguous slice) over the taps, in cache-sized blocks
# ----------------------------------------------------------------------------------------
@dataclass
class _TapPlan:
    """The gather of one phase, flattened (see :func:`_tap_plan`)."""

    dest: tuple[slice, ...]  # spatial slices of the destination array
    J: tuple[int, ...]  # spatial shape of that view
    taps: list[int]  # flat tap indices (C order over kernel_size)
    grid: tuple[int, ...]  # the flat source grid's spatial shape
    sources: list[int]  # per tap: which source grid (polyphase component) it reads
    starts: list[int]  # per tap: the flat offset it reads from
    L: int  # flat length of the sum: up to the last wanted output
    crop: tuple[slice, ...]  # the wanted outputs of the sum over whole grid rows
    kernel_last: int | None  # the kernel's last size when one source holds every tap


#: The polyphase offsets ``r`` a strided ``A`` reads, and per offset the box of the
#: component its data fill and the source slices they come from.
_Components = tuple[list[tuple[int, ...]], list[tuple[tuple[slice, ...], tuple[slice, ...]]]]


class DirectPlan(NamedTuple):
    """What the direct realisation caches per direction and boundary (see :func:`_tap_plan`).

    The source is zero-padded by ``low``/``high`` to ``shape``; ``components`` are the
    polyphase components of a strided ``A`` (``None`` otherwise); ``phases`` the flat
    gathers, one per phase of the destination.
    """

    low: tuple[int, ...]
    high: tuple[int, ...]
    shape: tuple[int, ...]
    components: _Components | None
    phases: list[_TapPlan]


def _tap_plan(
    geometry: ConvGeometry, adjoint: bool, clipped: bool, cache: RealisationCache
) -> DirectPlan:
    """Zero padding, polyphase split and per-phase flat gathers of the single-channel path.

    Every tap reads a *contiguous* slice of a flattened source grid: the zero-padded
    input (``A``, stride 1), one of its ``Π s`` polyphase components ``x̃[r::s]`` (``A``,
    stride ``s``: tap offset ``o = q·s + r`` reads component ``r`` at ``j + q``), or the
    zero-padded ``y`` (``A*``, one phase of the input per :func:`_adjoint_plan`).  The sum
    is formed over whole grid rows (the columns past the output are discarded), so every
    multiply and add runs over contiguous memory; strided or partial-row views cost numpy
    a loop per row, and 2–4× the time.

    Returns a :class:`DirectPlan` (kept in ``cache.direct_plans``): the source is
    zero-padded by ``low``/``high`` to ``S``; ``components`` is ``None`` at stride 1,
    otherwise the polyphase offsets ``r`` used and, per offset, where its data sit and
    come from (the components are filled straight from the unpadded source); each phase
    a :class:`_TapPlan`.
    """
    key = (adjoint, clipped)
    cached = cache.direct_plans.get(key)
    if cached is not None:
        return cached
    plan = _plan(geometry, adjoint, clipped)
    low, high, S = _source_padding(geometry, adjoint, clipped, plan)
    D = geometry.ndim
    st = (1,) * D if adjoint else geometry.stride
    components: _Components | None = None
    if any(v > 1 for v in st):
        grid = tuple(-(-n // v) for n, v in zip(S, st, strict=True))
        used = sorted(
            {
                tuple((o + lo) % v for o, lo, v in zip(off, low, st, strict=True))
                for off in plan[0].offsets
            }
        )
        # component r holds x̃[r + s·j] for j < grid, x̃ the zero-padded source: it is
        # filled straight from the unpadded source (x̃[q] = src[q − low]), zero elsewhere
        n_src = tuple(v - lo - hi for v, lo, hi in zip(S, low, high, strict=True))
        copies = []
        for r in used:
            box, src_sl = [], []
            for ra, v, lo_a, na, ga in zip(r, st, low, n_src, grid, strict=True):
                j_lo = min(max(0, -((ra - lo_a) // v)), ga)
                j_hi = max(j_lo, min(ga, -(-(lo_a + na - ra) // v)))
                box.append(slice(j_lo, j_hi))
                start = ra + v * j_lo - lo_a
                src_sl.append(
                    slice(start, start + v * (j_hi - j_lo - 1) + 1 if j_hi > j_lo else start, v)
                )
            copies.append((tuple(box), tuple(src_sl)))
        components = (used, copies)
    else:
        S, high = _line_lengths(S, low, high, plan)
        grid = S
    flat_strides = [math.prod(grid[a + 1 :]) for a in range(D)]
    phases = []
    for ph in plan:
        J = tuple(ph.shape)
        sources, starts = [], []
        for off in ph.offsets:
            shifted = [o + lo for o, lo in zip(off, low, strict=True)]
            if components is None:
                sources.append(0)
                starts.append(sum(o * f for o, f in zip(shifted, flat_strides, strict=True)))
            else:
                sources.append(
                    components[0].index(tuple(o % v for o, v in zip(shifted, st, strict=True)))
                )
                starts.append(
                    sum((o // v) * f for o, v, f in zip(shifted, st, flat_strides, strict=True))
                )
        phases.append(
            _TapPlan(
                dest=ph.dest,
                J=J,
                taps=list(ph.taps),
                grid=grid,
                sources=sources,
                starts=starts,
                # the last wanted output sits at Σ (J_a − 1)·F_a: reads beyond it are not needed
                L=sum((j - 1) * f for j, f in zip(J, flat_strides, strict=True)) + 1,
                crop=(slice(None),) * 3 + tuple(slice(0, j) for j in J[1:]),
                kernel_last=geometry.kernel_size[-1] if components is None else None,
            )
        )
    result = DirectPlan(low, high, S, components, phases)
    cache.direct_plans[key] = result
    return result


def _line_lengths(S, low, high, plan) -> tuple:
    """The flat source grid with every line (axes 1…D−1) as short as the reads allow.

    A read past the end of a line carries into the next line of the flat grid.  That is
    harmless when it lands in the next line's leading zero padding (its first ``low``
    entries): the value wanted there lies past the data, i.e. is zero too.  With the
    data at ``[low, low + n)`` of a line of length ``W``, a phase computing ``J`` outputs
    per line with tap offsets up to ``o_max`` reads up to ``J − 1 + o_max + low``; that
    lands before the next line's data when ``W ≥ J + o_max``.  So

        W = max(low + n, J, J + o_max)    (≤ the padded length ``S``)

    and the low padding of one line doubles as the high padding of the line before.  For
    the adjoint of a ``"valid"`` correlation (a full convolution) this is ``W = n_out``:
    every computed entry is an output, instead of ``n_out / (n_out + (k − 1)d)`` of them
    per axis.  One extra line on the first axis takes the last line's carried reads.
    Returns ``(S', high')``.
    """
    W = list(S)
    for a in range(1, len(S)):
        need = S[a] - high[a]  # low + n: the data must fit in a line
        for ph in plan:
            if ph.offsets:
                need = max(need, ph.shape[a], ph.shape[a] + max(off[a] for off in ph.offsets))
        W[a] = min(S[a], need)
    if W != list(S):
        W[0] += 1
    return tuple(W), tuple(h - (s - w) for s, w, h in zip(S, W, high, strict=True))


def _polyphase(src: np.ndarray, components, grid) -> np.ndarray:
    """The polyphase components ``x̃[r::s]`` the taps read, from the unpadded source."""
    used, copies = components
    out = scratch(Purpose.POLYPHASE, src.shape[:2] + (len(used),) + tuple(grid), src.dtype)
    lead = (slice(None), slice(None))
    for i, (box, src_sl) in enumerate(copies):
        view = out[lead + (i,)]
        if all(b.stop > b.start for b in box):
            view[lead + box] = src[lead + src_sl]
        _zero_outside(view, box)
    return out


def _zero_outside(block: np.ndarray, box: tuple) -> None:
    """Zero ``block`` (``(B, C, *spatial)``) outside the box of spatial slices ``box``."""
    lead = (slice(None), slice(None))
    inner: tuple[slice, ...] = ()
    for a, sl in enumerate(box):
        n = block.shape[2 + a]
        lo, hi = min(max(sl.start, 0), n), min(max(sl.stop, 0), n)
        if hi <= lo:
            block[lead + inner] = 0
            return
        if lo > 0:
            block[lead + inner + (slice(0, lo),)] = 0
        if hi < n:
            block[lead + inner + (slice(hi, n),)] = 0
        inner = inner + (slice(lo, hi),)


def _accumulate(target: np.ndarray, sources: list, coefs: np.ndarray, tp: _TapPlan) -> None:
    """``target = Σ_taps c · source[start + p]`` over the flat grid, cropped into ``target``.

    ``sources`` are flat ``(B, C, N)`` arrays; ``target`` is ``(B, C, *J)`` (any strides).
    """
    nb, nc = target.shape[:2]
    L = tp.L
    full = scratch(Purpose.TAP_SUM, (nb, nc, tp.J[0] * math.prod(tp.grid[1:])), target.dtype)
    terms = [
        (coefs[t], sources[i], start)
        for t, i, start in zip(tp.taps, tp.sources, tp.starts, strict=True)
    ]
    step = max(1, BLOCK_ELEMENTS // (nb * nc))
    blocks = [(p0, min(p0 + step, L)) for p0 in range(0, L, step)]
    threads = min(tap_loop_threads(nb * nc * L), len(blocks) // 2)
    if threads <= 1:
        _accumulate_blocks(full, terms, step, blocks)
    else:
        # the blocks are independent: split them between threads (numpy releases the GIL
        # inside each multiply and add, so the threads run in parallel)
        per = -(-len(blocks) // threads)
        futures = [
            thread_pool().submit(_accumulate_blocks, full, terms, step, blocks[i : i + per])
            for i in range(0, len(blocks), per)
        ]
        for f in futures:
            f.result()
    target[...] = full.reshape((nb, nc, tp.J[0]) + tuple(tp.grid[1:]))[tp.crop]


def _accumulate_blocks(full, terms, step, blocks) -> None:
    """The tap loop of :func:`_accumulate` over some blocks of the flat grid."""
    tmp = scratch(Purpose.TAP_PRODUCT, full.shape[:2] + (step,), full.dtype)
    c0, s0, start0 = terms[0]
    for p0, p1 in blocks:
        d = full[..., p0:p1]
        np.multiply(s0[..., start0 + p0 : start0 + p1], c0, out=d)
        t = tmp[..., : p1 - p0]
        for c, src, start in terms[1:]:
            np.multiply(src[..., start + p0 : start + p1], c, out=t)
            np.add(d, t, out=d)


def _single_forward(x, kernel, geometry, cache, dtype):
    zeros = geometry.boundary == "zeros"
    low, high, S, components, (tp,) = _tap_plan(geometry, False, zeros, cache)
    src = x if zeros else pad(x, geometry)
    if components is None:
        src = _zero_padded(src, low, high, S)
    sources = _sources(src, components, tp.grid)
    y = np.empty((x.shape[0], 1) + geometry.spatial_out, dtype=dtype)
    _accumulate(y, sources, kernel.reshape(-1), tp)
    return y


def _single_adjoint(y, kernel, geometry, cache, dtype):
    zeros = geometry.boundary == "zeros"
    low, high, S, _, phases = _tap_plan(geometry, True, zeros, cache)
    length = geometry.spatial_in if zeros else geometry.padded_extent
    wc = kernel.reshape(-1)
    wc = np.conj(wc) if np.iscomplexobj(wc) else wc
    sources = _sources(_zero_padded(y, low, high, S), None, None)
    out = np.empty((y.shape[0], 1) + tuple(length), dtype=dtype)
    for tp in phases:
        target = out[(slice(None), slice(None)) + tp.dest]
        if tp.taps:
            _accumulate(target, sources, wc, tp)
        else:
            target[...] = 0  # no tap lands on this phase of the input
    return out if zeros else fold(out, geometry, overwrite=True)


# ----------------------------------------------------------------------------------------
# zero padding of the source, shared by both paths
# ----------------------------------------------------------------------------------------
def _source_padding(
    geometry: ConvGeometry, adjoint: bool, clipped: bool, plan: list[_Phase]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """How much zero padding makes every tap's view of the source whole: ``(low, high, S)``.

    The source is ``x`` (or its boundary-padded ``x̃`` when not ``clipped``) for ``A`` and
    ``y`` for ``A*``; ``S`` is its padded spatial shape; ``plan`` the gathers that read it.
    """
    S_in = (
        geometry.spatial_out
        if adjoint
        else (geometry.spatial_in if clipped else geometry.padded_extent)
    )
    D = geometry.ndim
    low, high = [0] * D, [0] * D
    for ph in plan:
        for off in ph.offsets:
            for a in range(D):
                low[a] = max(low[a], -off[a])
                high[a] = max(high[a], (ph.shape[a] - 1) * ph.stride[a] + off[a] - (S_in[a] - 1))
    return (
        tuple(low),
        tuple(high),
        tuple(n + lo + hi for n, lo, hi in zip(S_in, low, high, strict=True)),
    )


def _zero_padded(src: np.ndarray, low, high, S) -> np.ndarray:
    """``src`` zero-padded by ``low``/``high`` into a reused buffer (``src`` if no padding)."""
    if not any(low) and not any(high):
        return np.ascontiguousarray(src)
    out = scratch(Purpose.PADDED_SOURCE, src.shape[:2] + tuple(S), src.dtype)
    _zero_outside(out, tuple(slice(lo, lo + n) for lo, n in zip(low, src.shape[2:], strict=True)))
    out[
        (slice(None), slice(None))
        + tuple(slice(lo, lo + n) for lo, n in zip(low, src.shape[2:], strict=True))
    ] = src
    return out


def _sources(src: np.ndarray, components, grid) -> list:
    """The flat ``(B, C, N)`` source grids the taps read: ``src`` or its polyphase components."""
    if components is None:
        return [src.reshape(src.shape[0], src.shape[1], -1)]
    phases = _polyphase(src, components, grid)
    return [
        phases[:, :, i].reshape(src.shape[0], src.shape[1], -1) for i in range(len(components[0]))
    ]


# ----------------------------------------------------------------------------------------
# channels: im2col + one batched GEMM over the groups, per phase
# ----------------------------------------------------------------------------------------
def _kernel_rows(tp: _TapPlan):
    """``(bases, deltas)`` when the phase's taps are whole kernel rows of one source.

    Tap ``(g, j)`` (``j`` on the last axis) must read at ``bases[g] + deltas[j]``: true for
    ``A`` at stride 1 and for ``A*`` at stride 1 (one phase, every tap), not for the
    polyphase components or the phases of a strided ``A*``.  ``None`` otherwise.
    """
    k_last = tp.kernel_last
    T = len(tp.taps)
    if k_last is None or any(tp.sources) or T % k_last or tp.taps != list(range(T)):
        return None
    starts = np.asarray(tp.starts).reshape(T // k_last, k_last)
    deltas = starts[0] - starts[0].min()
    bases = starts[:, 0] - deltas[0]
    if not np.array_equal(starts, bases[:, None] + deltas[None, :]):
        return None
    return bases.tolist(), deltas.tolist()


def row_gemm_pays(T: int, k_last: int, c_src: int, c_dest: int) -> bool:
    """Whether the row-wise channel GEMM moves less memory than the full im2col.

    Parameters
    ----------
    T : int
        Kernel taps of the phase (``Π k``).
    k_last : int
        The kernel's size on the last axis (taps per kernel row).
    c_src, c_dest : int
        Channels of the source and of the destination (``C_in``/``C_out`` for ``A``,
        swapped for ``A*``).

    Notes
    -----
    im2col copies ``T·C_src`` values per output column; the row-wise product copies
    ``k·C_src`` and adds ``(T/k − 1)·C_dest`` partial products (an add reads two arrays,
    and the GEMMs with the smaller ``K`` run less efficiently: hence the factor 2).
    ``python benchmarks/channel_gemm.py`` times both on 9 cases; in two runs this picked
    the faster one, or one within 9 % of it (16→16 3×3 float32 and depthwise 3×3 are
    near ties): 3³ kernels 1.3–2.3× faster, adjoints towards 3 channels 1.3–2.5×.
    """
    return T * c_src > 2 * (k_last * c_src + (T // k_last - 1) * c_dest)


def _gemm_rows(target, source, weights, tp: _TapPlan, groups: int, bases, deltas) -> None:
    """``target = W_phase @ im2col(source)``, one kernel row at a time.

    Only the ``k`` shifts along the last axis are copied, into ``B[δ, c]`` (rows of one
    uniform stride); the taps of kernel row ``g`` read at ``bases[g] + δ``, so
    ``B[:, bases[g]:bases[g] + L]`` is row ``g``'s block of the im2col matrix, as a view,
    and the product is ``Σ_g W_g @ B[:, bases[g]:]``: one GEMM with ``K = k·C_src/groups``
    per kernel row (for a 3×3×3 kernel: 3 copies, 9 GEMMs and 8 adds, not 27 copies).
    """
    nb, c_src = source.shape[:2]
    c_dest = target.shape[1]
    G, k_last = len(bases), len(deltas)
    cs, cd = c_src // groups, c_dest // groups
    L = tp.L
    Lb = max(bases) + L
    dtype = np.result_type(source.dtype, weights.dtype)
    w_rows = np.ascontiguousarray(
        weights.reshape(groups, cd, cs, G, k_last).transpose(3, 0, 1, 4, 2)
    ).reshape(G, groups, cd, k_last * cs)
    B = scratch(Purpose.ROW_SHIFTS, (nb, groups, k_last, cs, Lb), dtype)
    src = source.reshape(nb, groups, cs, -1)
    for j, delta in enumerate(deltas):
        B[:, :, j] = src[..., delta : delta + Lb]
    Bm = B.reshape(nb, groups, k_last * cs, Lb)
    full = scratch(Purpose.GEMM_RESULT, (nb, groups, cd, tp.J[0] * math.prod(tp.grid[1:])), dtype)
    out = full[..., :L]
    np.matmul(w_rows[0], Bm[..., bases[0] : bases[0] + L], out=out)
    if G > 1:
        tmp = scratch(Purpose.GEMM_ROW, (nb, groups, cd, L), dtype)
        for g in range(1, G):
            np.matmul(w_rows[g], Bm[..., bases[g] : bases[g] + L], out=tmp)
            np.add(out, tmp, out=out)
    target[...] = full.reshape((nb, c_dest, tp.J[0]) + tuple(tp.grid[1:]))[tp.crop]


def _gemm(target, sources, weights, tp: _TapPlan, groups: int) -> None:
    """``target = W_phase @ im2col(sources)`` for one phase, every group in one matmul.

    ``weights`` is ``(g, c_target/g, c_src/g · T)``.  The columns of tap ``t`` are one
    contiguous slice of its flat source grid (:func:`_tap_plan`), so im2col is ``T``
    block copies; the GEMM runs over whole grid rows and the extra columns are cropped.
    Where the taps are whole kernel rows of one source and that moves less memory
    (:func:`row_gemm_pays`, or as the workspace's ``row_gemm`` setting forces), :func:`_gemm_rows` copies only
    the shifts along the last axis.
    """
    plan = _kernel_rows(tp)
    if plan is not None:
        forced = get_config().row_gemm
        use = (
            forced
            if forced is not None
            else row_gemm_pays(len(tp.taps), len(plan[1]), sources[0].shape[1], target.shape[1])
        )
        if use:
            return _gemm_rows(target, sources[0], weights, tp, groups, *plan)
    nb, c_src = sources[0].shape[:2]
    c_dest = target.shape[1]
    T, L = len(tp.taps), tp.L
    dtype = np.result_type(sources[0].dtype, weights.dtype)
    full = scratch(
        Purpose.GEMM_RESULT, (nb, groups, c_dest // groups, tp.J[0] * math.prod(tp.grid[1:])), dtype
    )
    # the gathered columns stay within the budget: chunk the flat grid if needed
    step = max(1, min(L, IM2COL_BUDGET_BYTES // (nb * c_src * T * dtype.itemsize)))
    for p0 in range(0, L, step):
        p1 = min(p0 + step, L)
        cols = scratch(Purpose.IM2COL, (nb, c_src, T, p1 - p0), dtype)
        for i, (k, start) in enumerate(zip(tp.sources, tp.starts, strict=True)):
            cols[:, :, i] = sources[k][:, :, start + p0 : start + p1]
        np.matmul(
            weights, cols.reshape(nb, groups, (c_src // groups) * T, p1 - p0), out=full[..., p0:p1]
        )
    target[...] = full.reshape((nb, c_dest, tp.J[0]) + tuple(tp.grid[1:]))[tp.crop]


def _weights(
    kernel: np.ndarray,
    geometry: ConvGeometry,
    phase_index: int,
    phase: _TapPlan,
    cache: RealisationCache,
) -> np.ndarray:
    """The GEMM matrix of a phase of ``A*``: ``(g, C_in/g, C_out/g · T)``, conjugated."""
    key = (phase_index, kernel.dtype.str)
    cached = cache.direct_weights.get(key)
    if cached is not None:
        return cached
    g = geometry.groups
    cout_g, cin_g = geometry.out_channels // g, geometry.in_channels // g
    w = kernel.reshape(g, cout_g, cin_g, -1)[..., phase.taps]  # (g, Co, Ci, T)
    w = np.conj(w) if np.iscomplexobj(w) else w
    w = np.ascontiguousarray(w.transpose(0, 2, 1, 3)).reshape(g, cin_g, cout_g * len(phase.taps))
    cache.direct_weights[key] = w
    return w


# ----------------------------------------------------------------------------------------
# the realisation
# ----------------------------------------------------------------------------------------
def forward(
    x: np.ndarray,
    kernel: np.ndarray,
    geometry: ConvGeometry,
    cache: RealisationCache | None = None,
) -> np.ndarray:
    """``y = A x`` for ``x`` of shape ``(B, C_in, *n)``; returns ``(B, C_out, *m)``."""
    cache = RealisationCache() if cache is None else cache
    batch = x.shape[0]
    m = geometry.spatial_out
    dtype = np.result_type(x.dtype, kernel.dtype)
    zeros = geometry.boundary == "zeros"
    if _single_channel(geometry):
        return _single_forward(x, kernel, geometry, cache, dtype)

    g = geometry.groups
    low, high, S, components, (tp,) = _tap_plan(geometry, False, zeros, cache)
    w = kernel.reshape(g, geometry.out_channels // g, -1)
    y = np.empty((batch, geometry.out_channels) + m, dtype=dtype)
    item = geometry.in_channels * len(tp.taps) * tp.L * dtype.itemsize
    for chunk in _batch_chunks(batch, item):
        # zero-pad only what the taps read (the zero boundary), into a reused buffer
        src = x[chunk] if zeros else pad(x[chunk], geometry)
        if components is None:
            src = _zero_padded(src, low, high, S)
        _gemm(y[chunk], _sources(src, components, tp.grid), w, tp, g)
    return y


def adjoint(
    y: np.ndarray,
    kernel: np.ndarray,
    geometry: ConvGeometry,
    cache: RealisationCache | None = None,
) -> np.ndarray:
    """``x = A* y`` for ``y`` of shape ``(B, C_out, *m)``; returns ``(B, C_in, *n)``."""
    cache = RealisationCache() if cache is None else cache
    batch = y.shape[0]
    dtype = np.result_type(y.dtype, kernel.dtype)
    zeros = geometry.boundary == "zeros"
    # the zero boundary writes straight into x; the others into the padded grid, then fold
    length = geometry.spatial_in if zeros else geometry.padded_extent
    if _single_channel(geometry):
        return _single_adjoint(y, kernel, geometry, cache, dtype)

    g = geometry.groups
    low, high, S, _, phases = _tap_plan(geometry, True, zeros, cache)
    out = np.empty((batch, geometry.in_channels) + tuple(length), dtype=dtype)
    item = geometry.out_channels * math.prod(geometry.kernel_size) * math.prod(S) * dtype.itemsize
    for chunk in _batch_chunks(batch, item):
        sources = _sources(_zero_padded(y[chunk], low, high, S), None, None)
        for i, tp in enumerate(phases):
            target = out[(chunk, slice(None)) + tp.dest]
            if tp.taps:
                _gemm(target, sources, _weights(kernel, geometry, i, tp, cache), tp, g)
            else:
                target[...] = 0  # no tap lands on this phase of the input
    return out if zeros else fold(out, geometry, overwrite=True)
