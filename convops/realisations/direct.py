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
split between :data:`WORKERS` threads for large grids.  Channels: im2col (``T`` block
copies of all input channels) and one batched BLAS GEMM over the groups per phase,
chunked so the gathered columns stay within :data:`IM2COL_BUDGET_BYTES`; at stride 1,
where it moves less memory, only the shifts along the last axis are copied and each
kernel row is one GEMM (:func:`_gemm_rows`).

Arrays are ``(B, C, *spatial)``; the kernel is the geometry's canonical
``(C_out, C_in/groups, *k)`` array with ``flip`` applied.  ``cache`` (shared by ``A`` and
``A*``) keeps the per-geometry tap plans and the per-phase weight matrices.
"""

from __future__ import annotations

import math
import os
import threading
from itertools import product

import numpy as np

from ..geometry import ConvGeometry
from ..padding import fold, pad

__all__ = ["forward", "adjoint", "IM2COL_BUDGET_BYTES", "BLOCK_ELEMENTS", "WORKERS"]

#: Channels: ``None`` lets :func:`_rows_pay` choose between the full im2col and the
#: row-wise product (:func:`_gemm_rows`); ``True``/``False`` force one (tests do).
ROW_GEMM: bool | None = None

#: Largest im2col buffer (bytes) built at once; larger batches, then larger grids, are
#: processed in chunks.
IM2COL_BUDGET_BYTES = 256 * 2**20

#: Destination entries per block of the single-channel tap loop: the block and its
#: scratch stay in the core's L2 cache while every tap is added (fewer, larger blocks
#: cost Python overhead per tap; more, smaller ones spill to memory).
BLOCK_ELEMENTS = 1 << 16

#: Threads for the single-channel tap loop (row blocks are split between them).
WORKERS = max(1, min(os.cpu_count() or 1, 8))

#: Destinations smaller than this many entries run in the calling thread only.
THREAD_MIN_ELEMENTS = 1 << 17


#: Work arrays up to this size are kept per thread and purpose and reused across calls
#: (see :func:`_scratch`); larger ones are allocated per call.  0 disables the reuse.
SCRATCH_MAX_BYTES = 64 * 2**20

_SCRATCH = threading.local()


def _scratch(name: str, shape, dtype) -> np.ndarray:
    """A reusable, uninitialised work array of this thread (one per ``name``).

    The work arrays (the zero-padded source, its polyphase components, the flat sum,
    im2col columns) would otherwise be allocated afresh on every call, and touching fresh
    memory costs page faults that on a virtual machine take longer than the arithmetic
    (measured: a 1024² float64 3×3 convolution spends over half its time faulting in its
    work arrays).  Reusing one buffer per purpose and thread avoids that; the cost is
    that up to :data:`SCRATCH_MAX_BYTES` per purpose and thread stay allocated between
    calls.  The arrays never leave this module.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > SCRATCH_MAX_BYTES:
        return np.empty(shape, dtype=dtype)
    pool = getattr(_SCRATCH, "pool", None)
    if pool is None:
        pool = _SCRATCH.pool = {}
    buf = pool.get(name)
    if buf is None or buf.nbytes < nbytes:
        buf = pool[name] = np.empty(max(nbytes, 1 << 16), dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def _single_channel(geometry: ConvGeometry) -> bool:
    return geometry.in_channels == 1 and geometry.out_channels == 1


def _batch_chunks(batch: int, bytes_per_item: int):
    step = max(1, IM2COL_BUDGET_BYTES // max(bytes_per_item, 1))
    for start in range(0, batch, step):
        yield slice(start, min(start + step, batch))


# ----------------------------------------------------------------------------------------
# plans: which taps feed which part of the destination, at which source offset
# ----------------------------------------------------------------------------------------
class _Phase:
    """One gather ``dest[dest_slices][j] += Σ_taps c · src[j·stride + offset]``."""

    __slots__ = ("dest", "shape", "taps", "offsets", "stride")

    def __init__(self, dest, shape, taps, offsets, stride):
        self.dest = dest  # spatial slices of the destination array
        self.shape = shape  # spatial shape J of that view
        self.taps = taps  # flat tap indices (C order over kernel_size)
        self.offsets = offsets  # per tap, the source offset per axis
        self.stride = stride  # source stride per axis


def _forward_plan(geometry: ConvGeometry, shift) -> list[_Phase]:
    """``y[o] = Σ_t w[t] src[o·s + t·d − shift]``: one phase."""
    k = geometry.kernel_size
    taps, offsets = [], []
    for flat, t in enumerate(np.ndindex(*k)):
        taps.append(flat)
        offsets.append(tuple(ti * d - sh for ti, d, sh in zip(t, geometry.dilation, shift)))
    m = geometry.spatial_out
    return [_Phase((slice(None),) * len(m), m, taps, offsets, geometry.stride)]


def _adjoint_plan(geometry: ConvGeometry, shift, length) -> list[_Phase]:
    """``x[r + s·j] = Σ_{t ∈ T_r} conj(w[t]) y[j + (r + shift − t·d)/s]``, one phase per ``r``."""
    k, s, d = geometry.kernel_size, geometry.stride, geometry.dilation
    per_axis = []  # per axis: [(r, J_r, [(t, offset), ...]), ...]
    for a in range(geometry.ndim):
        phases = []
        for r in range(min(s[a], length[a])):
            J = (length[a] - r + s[a] - 1) // s[a]
            taps = [(t, (r + shift[a] - t * d[a]) // s[a]) for t in range(k[a])
                    if (r + shift[a] - t * d[a]) % s[a] == 0]
            phases.append((r, J, taps))
        per_axis.append(phases)
    plan = []
    for combo in product(*per_axis):
        dest = tuple(slice(r, None, sa) for (r, _, _), sa in zip(combo, s))
        shape = tuple(J for _, J, _ in combo)
        taps, offsets = [], []
        for tt in product(*(tp for _, _, tp in combo)):
            taps.append(int(np.ravel_multi_index(tuple(t for t, _ in tt), k)))
            offsets.append(tuple(o for _, o in tt))
        plan.append(_Phase(dest, shape, taps, offsets, (1,) * geometry.ndim))
    return plan


def _plan(geometry: ConvGeometry, adjoint: bool, clipped: bool, cache: dict | None):
    """The (cached) plan; ``clipped`` = the source/destination is the unpadded input."""
    key = ("direct-plan", adjoint, clipped)
    if cache is not None and key in cache:
        return cache[key]
    D = geometry.ndim
    shift = tuple(lo for lo, _ in geometry.padding) if clipped else (0,) * D
    if adjoint:
        length = geometry.spatial_in if clipped else geometry.padded_extent
        plan = _adjoint_plan(geometry, shift, length)
    else:
        plan = _forward_plan(geometry, shift)
    if cache is not None:
        cache[key] = plan
    return plan


# ----------------------------------------------------------------------------------------
# single channel: accumulate c · (contiguous slice) over the taps, in cache-sized blocks
# ----------------------------------------------------------------------------------------
class _TapPlan:
    """The single-channel gather of one phase, flattened (see :func:`_tap_plan`)."""

    __slots__ = ("dest", "J", "taps", "sources", "starts", "L", "grid", "crop", "kernel_last")


def _tap_plan(geometry: ConvGeometry, adjoint: bool, clipped: bool, cache: dict | None):
    """Zero padding, polyphase split and per-phase flat gathers of the single-channel path.

    Every tap reads a *contiguous* slice of a flattened source grid: the zero-padded
    input (``A``, stride 1), one of its ``Π s`` polyphase components ``x̃[r::s]`` (``A``,
    stride ``s``: tap offset ``o = q·s + r`` reads component ``r`` at ``j + q``), or the
    zero-padded ``y`` (``A*``, one phase of the input per :func:`_adjoint_plan`).  The sum
    is formed over whole grid rows (the columns past the output are discarded), so every
    multiply and add runs over contiguous memory; strided or partial-row views cost numpy
    a loop per row, and 2–4× the time.

    Returns ``(low, high, S, components, phases)``: the source is zero-padded by
    ``low``/``high`` to ``S``; ``components`` is ``None`` at stride 1, otherwise the
    polyphase offsets ``r`` used and, per offset, where its data sit and come from (the
    components are filled straight from the unpadded source); each phase a
    :class:`_TapPlan`.
    """
    key = ("direct-tap-plan", adjoint, clipped)
    if cache is not None and key in cache:
        return cache[key]
    low, high, S = _source_padding(geometry, adjoint, clipped, cache)
    plan = _plan(geometry, adjoint, clipped, cache)
    D = geometry.ndim
    st = (1,) * D if adjoint else geometry.stride
    components = None
    if any(v > 1 for v in st):
        grid = tuple(-(-n // v) for n, v in zip(S, st))
        used = sorted({tuple((o + lo) % v for o, lo, v in zip(off, low, st)) for off in plan[0].offsets})
        components = used
        # component r holds x̃[r + s·j] for j < grid, x̃ the zero-padded source: it is
        # filled straight from the unpadded source (x̃[q] = src[q − low]), zero elsewhere
        n_src = tuple(v - lo - hi for v, lo, hi in zip(S, low, high))
        copies = []
        for r in used:
            box, src_sl = [], []
            for ra, v, lo_a, na, ga in zip(r, st, low, n_src, grid):
                j_lo = min(max(0, -((ra - lo_a) // v)), ga)
                j_hi = max(j_lo, min(ga, -(-(lo_a + na - ra) // v)))
                box.append(slice(j_lo, j_hi))
                start = ra + v * j_lo - lo_a
                src_sl.append(slice(start, start + v * (j_hi - j_lo - 1) + 1 if j_hi > j_lo else start, v))
            copies.append((tuple(box), tuple(src_sl)))
        components = (used, copies)
    else:
        S, high = _line_lengths(S, low, high, plan)
        grid = S
    flat_strides = [math.prod(grid[a + 1:]) for a in range(D)]
    phases = []
    for ph in plan:
        tp = _TapPlan()
        tp.dest, tp.J, tp.taps = ph.dest, tuple(ph.shape), list(ph.taps)
        tp.grid = grid
        tp.sources, tp.starts = [], []
        for off in ph.offsets:
            shifted = [o + lo for o, lo in zip(off, low)]
            if components is None:
                tp.sources.append(0)
                tp.starts.append(sum(o * f for o, f in zip(shifted, flat_strides)))
            else:
                tp.sources.append(components[0].index(tuple(o % v for o, v in zip(shifted, st))))
                tp.starts.append(sum((o // v) * f for o, v, f in zip(shifted, st, flat_strides)))
        # the last wanted output sits at Σ (J_a − 1)·F_a: reads beyond it are not needed
        tp.L = sum((j - 1) * f for j, f in zip(tp.J, flat_strides)) + 1
        tp.crop = (slice(None),) * 3 + tuple(slice(0, j) for j in tp.J[1:])
        tp.kernel_last = geometry.kernel_size[-1] if components is None else None
        phases.append(tp)
    result = (low, high, S, components, phases)
    if cache is not None:
        cache[key] = result
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
    return tuple(W), tuple(h - (s - w) for s, w, h in zip(S, W, high))


def _polyphase(src: np.ndarray, components, grid) -> np.ndarray:
    """The polyphase components ``x̃[r::s]`` the taps read, from the unpadded source."""
    used, copies = components
    out = _scratch("phases", src.shape[:2] + (len(used),) + tuple(grid), src.dtype)
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
    inner = ()
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
    full = _scratch("flat", (nb, nc, tp.J[0] * math.prod(tp.grid[1:])), target.dtype)
    terms = [(coefs[t], sources[i], start) for t, i, start in zip(tp.taps, tp.sources, tp.starts)]
    step = max(1, BLOCK_ELEMENTS // (nb * nc))
    blocks = [(p0, min(p0 + step, L)) for p0 in range(0, L, step)]
    threads = min(WORKERS, len(blocks) // 2) if nb * nc * L >= THREAD_MIN_ELEMENTS else 1
    if threads <= 1:
        _accumulate_blocks(full, terms, step, blocks)
    else:
        # the blocks are independent: split them between threads (numpy releases the GIL
        # inside each multiply and add, so the threads run in parallel)
        per = -(-len(blocks) // threads)
        futures = [_pool().submit(_accumulate_blocks, full, terms, step, blocks[i: i + per])
                   for i in range(0, len(blocks), per)]
        for f in futures:
            f.result()
    target[...] = full.reshape((nb, nc, tp.J[0]) + tuple(tp.grid[1:]))[tp.crop]


def _accumulate_blocks(full, terms, step, blocks) -> None:
    """The tap loop of :func:`_accumulate` over some blocks of the flat grid."""
    tmp = _scratch("tmp", full.shape[:2] + (step,), full.dtype)
    c0, s0, start0 = terms[0]
    for p0, p1 in blocks:
        d = full[..., p0:p1]
        np.multiply(s0[..., start0 + p0: start0 + p1], c0, out=d)
        t = tmp[..., : p1 - p0]
        for c, src, start in terms[1:]:
            np.multiply(src[..., start + p0: start + p1], c, out=t)
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


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=max(WORKERS, 1), thread_name_prefix="convops-direct")
    return _POOL


# ----------------------------------------------------------------------------------------
# zero padding of the source, shared by both paths
# ----------------------------------------------------------------------------------------
def _source_padding(geometry: ConvGeometry, adjoint: bool, clipped: bool, cache: dict | None):
    """How much zero padding makes every tap's view of the source whole: ``(low, high, S)``.

    The source is ``x`` (or its boundary-padded ``x̃`` when not ``clipped``) for ``A`` and
    ``y`` for ``A*``; ``S`` is its padded spatial shape.
    """
    key = ("direct-source-padding", adjoint, clipped)
    if cache is not None and key in cache:
        return cache[key]
    plan = _plan(geometry, adjoint, clipped, cache)
    S_in = geometry.spatial_out if adjoint else (geometry.spatial_in if clipped else geometry.padded_extent)
    D = geometry.ndim
    low, high = [0] * D, [0] * D
    for ph in plan:
        for off in ph.offsets:
            for a in range(D):
                low[a] = max(low[a], -off[a])
                high[a] = max(high[a], (ph.shape[a] - 1) * ph.stride[a] + off[a] - (S_in[a] - 1))
    result = (tuple(low), tuple(high), tuple(n + lo + hi for n, lo, hi in zip(S_in, low, high)))
    if cache is not None:
        cache[key] = result
    return result


def _zero_padded(src: np.ndarray, low, high, S) -> np.ndarray:
    """``src`` zero-padded by ``low``/``high`` into a reused buffer (``src`` if no padding)."""
    if not any(low) and not any(high):
        return np.ascontiguousarray(src)
    out = _scratch("src", src.shape[:2] + tuple(S), src.dtype)
    _zero_outside(out, tuple(slice(lo, lo + n) for lo, n in zip(low, src.shape[2:])))
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for lo, n in zip(low, src.shape[2:]))] = src
    return out


def _sources(src: np.ndarray, components, grid) -> list:
    """The flat ``(B, C, N)`` source grids the taps read: ``src`` or its polyphase components."""
    if components is None:
        return [src.reshape(src.shape[0], src.shape[1], -1)]
    phases = _polyphase(src, components, grid)
    return [phases[:, :, i].reshape(src.shape[0], src.shape[1], -1) for i in range(len(components[0]))]


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


def _rows_pay(T: int, k_last: int, c_src: int, c_dest: int) -> bool:
    """Whether :func:`_gemm_rows` moves less memory than the full im2col.

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
    B = _scratch("rows", (nb, groups, k_last, cs, Lb), dtype)
    src = source.reshape(nb, groups, cs, -1)
    for j, delta in enumerate(deltas):
        B[:, :, j] = src[..., delta: delta + Lb]
    Bm = B.reshape(nb, groups, k_last * cs, Lb)
    full = _scratch("gemm", (nb, groups, cd, tp.J[0] * math.prod(tp.grid[1:])), dtype)
    out = full[..., :L]
    np.matmul(w_rows[0], Bm[..., bases[0]: bases[0] + L], out=out)
    if G > 1:
        tmp = _scratch("gemm-row", (nb, groups, cd, L), dtype)
        for g in range(1, G):
            np.matmul(w_rows[g], Bm[..., bases[g]: bases[g] + L], out=tmp)
            np.add(out, tmp, out=out)
    target[...] = full.reshape((nb, c_dest, tp.J[0]) + tuple(tp.grid[1:]))[tp.crop]


def _gemm(target, sources, weights, tp: _TapPlan, groups: int) -> None:
    """``target = W_phase @ im2col(sources)`` for one phase, every group in one matmul.

    ``weights`` is ``(g, c_target/g, c_src/g · T)``.  The columns of tap ``t`` are one
    contiguous slice of its flat source grid (:func:`_tap_plan`), so im2col is ``T``
    block copies; the GEMM runs over whole grid rows and the extra columns are cropped.
    Where the taps are whole kernel rows of one source and that moves less memory
    (:func:`_rows_pay`, or as :data:`ROW_GEMM` forces), :func:`_gemm_rows` copies only
    the shifts along the last axis.
    """
    plan = _kernel_rows(tp)
    if plan is not None:
        use = ROW_GEMM if ROW_GEMM is not None else _rows_pay(len(tp.taps), len(plan[1]), sources[0].shape[1], target.shape[1])
        if use:
            return _gemm_rows(target, sources[0], weights, tp, groups, *plan)
    nb, c_src = sources[0].shape[:2]
    c_dest = target.shape[1]
    T, L = len(tp.taps), tp.L
    dtype = np.result_type(sources[0].dtype, weights.dtype)
    full = _scratch("gemm", (nb, groups, c_dest // groups, tp.J[0] * math.prod(tp.grid[1:])), dtype)
    # the gathered columns stay within the budget: chunk the flat grid if needed
    step = max(1, min(L, IM2COL_BUDGET_BYTES // (nb * c_src * T * dtype.itemsize)))
    for p0 in range(0, L, step):
        p1 = min(p0 + step, L)
        cols = _scratch("cols", (nb, c_src, T, p1 - p0), dtype)
        for i, (k, start) in enumerate(zip(tp.sources, tp.starts)):
            cols[:, :, i] = sources[k][:, :, start + p0: start + p1]
        np.matmul(weights, cols.reshape(nb, groups, (c_src // groups) * T, p1 - p0), out=full[..., p0:p1])
    target[...] = full.reshape((nb, c_dest, tp.J[0]) + tuple(tp.grid[1:]))[tp.crop]


def _weights(kernel: np.ndarray, geometry: ConvGeometry, phase_index: int, phase: _Phase, cache):
    """The GEMM matrix of a phase of ``A*``: ``(g, C_in/g, C_out/g · T)``, conjugated."""
    key = ("direct-adjoint-weights", phase_index, kernel.dtype.str)
    if cache is not None and key in cache:
        return cache[key]
    g = geometry.groups
    cout_g, cin_g = geometry.out_channels // g, geometry.in_channels // g
    w = kernel.reshape(g, cout_g, cin_g, -1)[..., phase.taps]  # (g, Co, Ci, T)
    w = np.conj(w) if np.iscomplexobj(w) else w
    w = np.ascontiguousarray(w.transpose(0, 2, 1, 3)).reshape(g, cin_g, cout_g * len(phase.taps))
    if cache is not None:
        cache[key] = w
    return w


# ----------------------------------------------------------------------------------------
# the realisation
# ----------------------------------------------------------------------------------------
def forward(x: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``y = A x`` for ``x`` of shape ``(B, C_in, *n)``; returns ``(B, C_out, *m)``."""
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


def adjoint(y: np.ndarray, kernel: np.ndarray, geometry: ConvGeometry, cache: dict | None = None) -> np.ndarray:
    """``x = A* y`` for ``y`` of shape ``(B, C_out, *m)``; returns ``(B, C_in, *n)``."""
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
