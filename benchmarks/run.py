#!/usr/bin/env python
"""Benchmark convops against scipy, PyLops and PyTorch on the same jobs.

Usage::

    python benchmarks/run.py                 # the full grid (a few minutes on 2 cores)
    python benchmarks/run.py --quick         # a small subset (well under a minute)
    python benchmarks/run.py --json out.json # also write every measurement as JSON

Every case times convops and the references in one run, on the same inputs, and checks
once that every output agrees with a float64 reference (``err`` is ``max|a − b| / max|b|``;
a mismatch is printed and recorded, never hidden).  Times are medians in milliseconds of
steady-state calls: the first call (which, for convops' FFT realisation, computes and caches
the kernel spectrum) is a warm-up and is not counted.  Ratios are convops / reference,
formed round by round (the median of each round's ratio, :func:`paired`) where both sides
ran in the same rounds, else as the ratio of the medians (PyTorch, timed in blocks of its
own, and calls slower than :data:`SLOW_SECONDS`); ``auto / best`` is a ratio of medians.

The jobs:

* single channel, 2D and 3D: ``y = (x̃ ⋆ w)[::s]`` (cross-correlation of the zero-padded
  input, subsampled by the stride) and its adjoint ``x = A* y`` (zero-insert ``y``, convolve
  with ``w``).  The scipy references are called the way users call them: ``fftconvolve`` /
  ``ndimage.correlate`` / ``signal.correlate(method="direct")`` at stride 1, then
  subsampled; the adjoint zero-inserts ``y`` and convolves.  PyLops' ``Convolve2D`` /
  ``ConvolveND`` does only ``"same"`` at stride 1.
* channels: PyTorch's ``conv2d`` and ``conv_transpose2d`` (batch 1), and a loop of
  ``scipy.signal.correlate`` over the channel pairs.
* matrices: the CSR build rate (stored entries per second) and a CSR matvec against the
  direct realisation.

PyLops and PyTorch are optional: missing ones are skipped.  ``auto``'s time is the time of
the realisation it chose (it runs exactly that code), so ``auto / best`` compares the
choice with the faster of ``direct`` and ``fft`` measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.ndimage as ndi
import scipy.signal as ss

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import convops
from convops import ConvOperator
from convops.realisations import matrix as cmatrix

try:  # optional references
    import torch
    import torch.nn.functional as tF
except ImportError:  # pragma: no cover - depends on the machine
    torch = None
try:
    import pylops
    from pylops.signalprocessing import ConvolveND
except ImportError:  # pragma: no cover
    pylops = None

#: references slower than this per call are timed once (after the warm-up call)
SLOW_SECONDS = 0.5
#: callables faster than this run in streaks of three per round (see :func:`measure`)
STREAK_SECONDS = 0.02
#: scipy.signal.correlate(method="direct") and PyLops' direct method run only below this
#: many multiply-adds (they are ~17x slower than ndimage; 1024² 31×31 would take ~10 s)
SLOW_DIRECT_MACS = 2e7
#: PyTorch's single-channel CPU convolution runs only below this many multiply-adds
#: (1024² 31×31 takes ~4 s, 128³ 9³ in float64 ~30 s per call)
TORCH_MACS = 2.5e8
RTOL = {"float64": 1e-9, "float32": 2e-4}
#: cases with a PyTorch reference alternate this many blocks of ours and of PyTorch's
TORCH_BLOCKS = 3


# ----------------------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------------------
def bench(fn, repeat: int, budget: float = 1.5):
    """``(median ms, output)``: one warm-up call, then timed calls.

    At least ``repeat`` calls (one if the warm-up took over :data:`SLOW_SECONDS`); calls
    faster than a few milliseconds are repeated until ``budget / 8`` seconds have passed
    (up to 2000 calls), so that the median of sub-millisecond cases is stable.
    """
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    if first > SLOW_SECONDS:
        repeat = 1
    times = []
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        total = sum(times)
        if len(times) >= repeat and (total > budget / 8 or len(times) >= 2000):
            break
        if total > budget and len(times) >= min(repeat, 3):
            break
    return 1e3 * statistics.median(times), out


def measure(fns: dict, repeat: int, budget: float) -> tuple[dict, dict, dict]:
    """Interleaved timing: ``({name: median ms}, {name: output}, {name: [ms per round]})``.

    Every callable is called once (warm-up; its output is kept), then all are called in
    turn, round after round, so that a slow spell of the machine hits every one of them
    alike and the ratios stay fair.  Within a round a callable runs a short streak
    (three calls if it takes under :data:`STREAK_SECONDS`) of which the first call is not
    counted: it would pay for the caches and sleeping BLAS threads that the callable
    before it left behind, which is not what a solver calling it repeatedly sees.
    Callables slower than :data:`SLOW_SECONDS` are timed once more only; the others for
    at least ``repeat`` rounds and until ``budget / 4`` seconds have passed (at most 2000
    rounds, at most ``budget`` seconds).  The per-round times (the mean of a round's
    counted calls) let ratios be formed round by round, between calls made milliseconds
    apart: see :func:`paired`.
    """
    outputs, first = {}, {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        outputs[name] = fn()
        first[name] = time.perf_counter() - t0
    times = {name: [] for name in fns}
    per_round = {name: [] for name in fns if first[name] <= SLOW_SECONDS}
    for name, fn in fns.items():
        if first[name] > SLOW_SECONDS:
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    fast = [name for name in fns if first[name] <= SLOW_SECONDS]
    start = time.perf_counter()
    rounds = 0
    while fast:
        for name in fast:
            streak = 3 if first[name] < STREAK_SECONDS else 1
            counted = []
            for i in range(streak):
                t0 = time.perf_counter()
                fns[name]()
                if i or streak == 1:
                    counted.append(time.perf_counter() - t0)
            times[name] += counted
            per_round[name].append(1e3 * statistics.fmean(counted))
        rounds += 1
        elapsed = time.perf_counter() - start
        if rounds >= repeat and (elapsed > budget / 4 or rounds >= 2000):
            break
        if elapsed > budget and rounds >= min(repeat, 3):
            break
    return {name: 1e3 * statistics.median(ts) for name, ts in times.items()}, outputs, per_round


def paired(a: list, b: list) -> float | None:
    """The median over rounds of ``a[r] / b[r]``: a ratio of calls made side by side.

    This VM has slow spells lasting seconds; a ratio of two medians taken over the same
    rounds still moves by ± 20–40 % when a spell covers some rounds more than the others'
    calls, while each round's own ratio (its calls run milliseconds apart) does not.
    ``None`` when either side has no per-round times (timed once, or in other blocks).
    """
    if not a or not b or len(a) != len(b):
        return None
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def rel_err(a, b) -> float:
    a = np.asarray(a, dtype=np.float64 if np.isrealobj(a) else np.complex128)
    b = np.asarray(b, dtype=a.dtype)
    if a.shape != b.shape:
        return float("inf")
    scale = float(np.max(np.abs(b))) or 1.0
    return float(np.max(np.abs(a - b)) / scale)


# ----------------------------------------------------------------------------------------
# single-channel grid (2D and 3D)
# ----------------------------------------------------------------------------------------
def _zero_insert(y, shape, s):
    z = np.zeros(shape, dtype=y.dtype)
    z[tuple(slice(0, (m - 1) * s + 1, s) for m in y.shape)] = y
    return z


def single_channel_case(n, k, D, stride, padding, direction, dtype, rng):
    """One case of the single-channel grid: ``(description, {name: callable}, float64 truth)``."""
    dt = np.dtype(dtype)
    h = (k - 1) // 2  # odd kernels: scipy's "same" is centred as PyTorch's
    w64 = rng.standard_normal((k,) * D)
    w = w64.astype(dt)
    conv_pad = "valid" if padding == "valid" else ("same" if stride == 1 else h)
    ops = {
        meth: ConvOperator(w, (n,) * D, stride=stride, padding=conv_pad, method=meth)
        for meth in ("direct", "fft")
    }
    chosen = ConvOperator(w, (n,) * D, stride=stride, padding=conv_pad).method
    geo = ops["fft"].geometry
    m = geo.spatial_out
    mid = (n - k + 1,) * D if padding == "valid" else (n,) * D  # stride-1 output size
    macs = float(np.prod(mid)) * k**D
    wf = w[(slice(None, None, -1),) * D]
    sub = (slice(None, None, stride),) * D
    crop_valid = (slice(h, n - h),) * D

    if direction == "forward":
        x64 = rng.standard_normal((n,) * D)
        inp = x64.astype(dt)
        truth = ss.fftconvolve(x64, w64[(slice(None, None, -1),) * D], mode=padding)[sub]
        refs = {
            "scipy_fftconvolve": lambda: ss.fftconvolve(inp, wf, mode=padding)[sub],
            "scipy_ndimage": (
                (lambda: ndi.correlate(inp, w, mode="constant")[sub])
                if padding == "same"
                else (lambda: ndi.correlate(inp, w, mode="constant")[crop_valid][sub])
            ),
        }
        if macs <= SLOW_DIRECT_MACS:
            refs["scipy_correlate_direct"] = lambda: ss.correlate(
                inp, w, mode=padding, method="direct"
            )[sub]
    else:
        y64 = rng.standard_normal(m)
        inp = y64.astype(dt)
        zshape = mid
        full_mode = "same" if padding == "same" else "full"
        truth = ss.fftconvolve(_zero_insert(y64, zshape, stride), w64, mode=full_mode)

        def zi():
            return inp if stride == 1 else _zero_insert(inp, zshape, stride)

        refs = {
            "scipy_fftconvolve": lambda: ss.fftconvolve(zi(), w, mode=full_mode),
            "scipy_ndimage": (
                (lambda: ndi.convolve(zi(), w, mode="constant"))
                if padding == "same"
                else (lambda: ndi.convolve(np.pad(zi(), h), w, mode="constant"))
            ),
        }
        if macs <= SLOW_DIRECT_MACS:
            refs["scipy_correlate_direct"] = lambda: ss.convolve(
                zi(), w, mode=full_mode, method="direct"
            )

    if pylops is not None and padding == "same" and stride == 1:
        for pm in ("fft", "direct"):
            if pm == "direct" and macs > SLOW_DIRECT_MACS:
                continue
            P = ConvolveND(
                (n,) * D, h=wf.copy(), offset=(h,) * D, axes=tuple(range(D)), method=pm, dtype=dt
            )
            if direction == "forward":
                refs[f"pylops_{pm}"] = lambda P=P: (P @ inp.ravel()).reshape(inp.shape)
            else:
                refs[f"pylops_{pm}"] = lambda P=P: (P.H @ inp.ravel()).reshape((n,) * D)

    if torch is not None and macs <= TORCH_MACS:
        convf = {2: tF.conv2d, 3: tF.conv3d}[D]
        convt = {2: tF.conv_transpose2d, 3: tF.conv_transpose3d}[D]
        tpad = 0 if padding == "valid" else h
        tw = torch.from_numpy(np.ascontiguousarray(w)[None, None])
        tin = torch.from_numpy(np.ascontiguousarray(inp)[None, None])
        if direction == "forward":
            refs["torch"] = lambda: convf(tin, tw, stride=stride, padding=tpad)[0, 0].numpy()
        else:
            natural = (m[0] - 1) * stride - 2 * tpad + k
            outpad = n - natural
            refs["torch"] = lambda: convt(
                tin, tw, stride=stride, padding=tpad, output_padding=outpad
            )[0, 0].numpy()

    fns = {}
    for meth, op in ops.items():
        run = (
            op.apply if direction == "forward" else op.H.apply
        )  # .H built once, as solvers hold it
        fns[f"convops_{meth}"] = lambda run=run: run(inp)
    fns.update(refs)
    meta = {
        "group": f"{D}d",
        "n": n,
        "k": k,
        "ndim": D,
        "stride": stride,
        "padding": padding,
        "direction": direction,
        "dtype": dtype,
        "auto": chosen,
    }
    return meta, fns, truth


# ----------------------------------------------------------------------------------------
# channels
# ----------------------------------------------------------------------------------------
def channels_case(stride, direction, dtype, rng, c=16, n=64, k=3):
    dt = np.dtype(dtype)
    w64 = rng.standard_normal((c, c, k, k)) / (3 * c) ** 0.5
    w = w64.astype(dt)
    ops = {
        meth: ConvOperator(w, (c, n, n), stride=stride, padding=1, method=meth)
        for meth in ("direct", "fft")
    }
    chosen = ConvOperator(w, (c, n, n), stride=stride, padding=1).method
    m = ops["direct"].geometry.spatial_out
    sub = (slice(None, None, stride),) * 2

    def scipy_loop(inp, wts, adjoint):
        # the user's loop of scipy.signal.correlate over the channel pairs
        if not adjoint:
            out = np.zeros((c,) + m, dtype=np.result_type(inp, wts))
            for co in range(c):
                for ci in range(c):
                    out[co] += ss.correlate(inp[ci], wts[co, ci], mode="same")[sub]
            return out
        out = np.zeros((c, n, n), dtype=np.result_type(inp, wts))
        for co in range(c):
            z = _zero_insert(inp[co], (n, n), stride)
            for ci in range(c):
                out[ci] += ss.convolve(z, wts[co, ci], mode="same")
        return out

    if direction == "forward":
        x64 = rng.standard_normal((c, n, n))
        inp = x64.astype(dt)
        truth = scipy_loop(x64, w64, False)
    else:
        y64 = rng.standard_normal((c,) + m)
        inp = y64.astype(dt)
        truth = scipy_loop(y64, w64, True)
    refs = {"scipy_loop": lambda: scipy_loop(inp, w, direction != "forward")}
    if torch is not None:
        tw = torch.from_numpy(np.ascontiguousarray(w))
        tin = torch.from_numpy(np.ascontiguousarray(inp)[None])
        if direction == "forward":
            refs["torch"] = lambda: tF.conv2d(tin, tw, stride=stride, padding=1)[0].numpy()
        else:
            outpad = n - ((m[0] - 1) * stride - 2 + k)
            refs["torch"] = lambda: tF.conv_transpose2d(
                tin, tw, stride=stride, padding=1, output_padding=outpad
            )[0].numpy()
    fns = {}
    for meth, op in ops.items():
        run = (
            op.apply if direction == "forward" else op.H.apply
        )  # .H built once, as solvers hold it
        fns[f"convops_{meth}"] = lambda run=run: run(inp)
    fns.update(refs)
    meta = {
        "group": "channels",
        "n": n,
        "k": k,
        "ndim": 2,
        "channels": c,
        "stride": stride,
        "padding": 1,
        "direction": direction,
        "dtype": dtype,
        "auto": chosen,
    }
    return meta, fns, truth


def run_pair(builder, kw, repeat, budget, rng):
    """Build the forward and the adjoint case and time all their callables interleaved.

    Returns the two result records; ``convops_auto`` is the time of the realisation
    ``auto`` chose (it runs exactly that code).
    """
    built = [builder(**kw, direction=d, rng=rng) for d in ("forward", "adjoint")]
    fns = {f"{meta['direction']}:{name}": fn for meta, f, _ in built for name, fn in f.items()}
    # PyTorch is timed in blocks of its own: its OpenMP threads spin after each call and
    # would slow whatever numpy/BLAS code runs right after them (and vice versa).  The
    # blocks alternate with ours (three each, median of the block medians), so that a slow
    # spell of the machine, which can last seconds on this VM, does not fall on one side.
    ours = {name: fn for name, fn in fns.items() if not name.endswith(":torch")}
    theirs = {name: fn for name, fn in fns.items() if name.endswith(":torch")}
    blocks = TORCH_BLOCKS if theirs else 1
    medians: dict = {}
    outputs: dict = {}
    rounds: dict = {}
    for _ in range(blocks):
        for group, share in ((ours, 1), (theirs, 2)):
            if group:
                t, o, r = measure(group, repeat, budget / (share * blocks))
                for name, v in t.items():
                    medians.setdefault(name, []).append(v)
                for name, v in o.items():
                    outputs.setdefault(name, v)
                if group is ours:  # PyTorch's rounds are not side by side with ours
                    for name, v in r.items():
                        rounds.setdefault(name, []).extend(v)
    times = {name: statistics.median(v) for name, v in medians.items()}
    records = []
    for meta, f, truth in built:
        rec = dict(meta)
        rec["times_ms"] = {name: times[f"{meta['direction']}:{name}"] for name in f}
        rec["times_ms"]["convops_auto"] = rec["times_ms"][f"convops_{meta['auto']}"]
        rec["rounds_ms"] = {
            name: rounds[f"{meta['direction']}:{name}"]
            for name in f
            if f"{meta['direction']}:{name}" in rounds
        }
        if f"convops_{meta['auto']}" in rec["rounds_ms"]:
            rec["rounds_ms"]["convops_auto"] = rec["rounds_ms"][f"convops_{meta['auto']}"]
        rec["err"] = {name: rel_err(outputs[f"{meta['direction']}:{name}"], truth) for name in f}
        rec["mismatch"] = sorted(nm for nm, e in rec["err"].items() if not e <= RTOL[meta["dtype"]])
        records.append(rec)
    return records


# ----------------------------------------------------------------------------------------
# explicit matrices
# ----------------------------------------------------------------------------------------
def matrix_case(n, k, D, boundary, repeat, rng, padding="same"):
    w = rng.standard_normal((k,) * D)
    op = ConvOperator(w, (n,) * D, padding=padding, boundary=boundary, method="direct")
    canon = op.geometry.canonical_kernel(op.kernel)
    build_ms, A = bench(lambda: cmatrix.build(canon, op.geometry), repeat, budget=3.0)
    x = rng.standard_normal(op.shape[1])
    y = rng.standard_normal(op.shape[0])
    AH = op.H.matrix()  # the CSR copy of Aᴴ the matrix realisation applies
    matvec_ms, ax = bench(lambda: A @ x, repeat)
    rmatvec_ms, ahy = bench(lambda: AH @ y, repeat)
    direct_ms, dx = bench(lambda: op @ x, repeat)
    opH = op.H
    direct_adj_ms, dy = bench(lambda: opH @ y, repeat)
    errs = {"csr_matvec": rel_err(ax, dx), "csr_rmatvec": rel_err(ahy, dy)}
    return {
        "group": "matrix",
        "n": n,
        "k": k,
        "ndim": D,
        "boundary": boundary,
        "padding": padding,
        "nnz": int(A.nnz),
        "index_dtype": str(A.indices.dtype),
        "times_ms": {
            "build": build_ms,
            "csr_matvec": matvec_ms,
            "csr_rmatvec": rmatvec_ms,
            "direct_forward": direct_ms,
            "direct_adjoint": direct_adj_ms,
        },
        "nnz_per_s": A.nnz / (build_ms * 1e-3),
        "err": errs,
        "mismatch": sorted(nm for nm, e in errs.items() if not e <= 1e-9),
    }


# ----------------------------------------------------------------------------------------
# batching (matmat): all columns in one transform
# ----------------------------------------------------------------------------------------
def batch_case(n, k, batch, method, repeat, rng):
    w = rng.standard_normal((k, k))
    op = ConvOperator(w, (n, n), padding="same", method=method)
    X = rng.standard_normal((n * n, batch))
    mm_ms, out = bench(lambda: op.matmat(X), repeat)
    mv_ms, _ = bench(lambda: op.matvec(X[:, 0]), repeat)
    loop = np.stack([op.matvec(X[:, j]) for j in range(batch)], axis=1)
    return {
        "group": "batch",
        "n": n,
        "k": k,
        "batch": batch,
        "method": method,
        "times_ms": {"matmat": mm_ms, "matvec": mv_ms},
        "per_column_ratio": mm_ms / batch / mv_ms,
        "err": {"matmat": rel_err(out, loop)},
        "mismatch": [] if rel_err(out, loop) <= 1e-9 else ["matmat"],
    }


# ----------------------------------------------------------------------------------------
# the grid, the targets, the tables
# ----------------------------------------------------------------------------------------
def grid(quick: bool):
    """``(kind, kwargs)`` of every case, in run order."""
    cases = []
    dtypes = ("float64",) if quick else ("float64", "float32")
    sizes2 = (256,) if quick else (256, 1024)
    kernels2 = (3, 11) if quick else (3, 11, 31)
    pads = ("same",) if quick else ("same", "valid")
    for dtype in dtypes:
        for n in sizes2:
            for k in kernels2:
                for s in (1, 2):
                    for p in pads:
                        cases.append(
                            ("single", dict(n=n, k=k, D=2, stride=s, padding=p, dtype=dtype))
                        )
    if quick:
        cases.append(("single", dict(n=256, k=3, D=2, stride=1, padding="valid", dtype="float32")))
    sizes3 = ((32, 3),) if quick else ((64, 3), (64, 9), (128, 3), (128, 9))
    for dtype in dtypes:
        for n, k in sizes3:
            for s in (1,) if quick else (1, 2):
                for p in pads:
                    cases.append(("single", dict(n=n, k=k, D=3, stride=s, padding=p, dtype=dtype)))
    for dtype in ("float32",) if quick else ("float32", "float64"):
        for s in (1, 2):
            cases.append(("channels", dict(stride=s, dtype=dtype)))
    mats = (
        ((64, 3, 2, "zeros", "same"), (64, 3, 2, "circular", "same"), (4096, 3, 1, "zeros", "same"))
        if quick
        else (
            (256, 3, 2, "zeros", "same"),
            (256, 11, 2, "zeros", "same"),
            (1024, 3, 2, "zeros", "same"),
            (64, 3, 3, "zeros", "same"),
            (256, 3, 2, "circular", "same"),
            (256, 11, 2, "reflect", "same"),
            (64, 3, 3, "replicate", "same"),
            (2**20, 3, 1, "zeros", "same"),
            (2**20, 11, 1, "reflect", "same"),
            (2**14, 1500, 1, "zeros", "full"),
        )
    )
    for n, k, D, b, p in mats:
        cases.append(("matrix", dict(n=n, k=k, D=D, boundary=b, padding=p)))
    for method in ("fft", "direct"):
        cases.append(
            (
                "batch",
                dict(
                    n=128 if quick else 256, k=11 if method == "fft" else 3, batch=8, method=method
                ),
            )
        )
    return cases


def _ratio(case, a, b):
    """``a / b`` of one case: paired round by round where both ran in the same rounds,
    else the ratio of the medians (PyTorch, and calls over :data:`SLOW_SECONDS`)."""
    t = case["times_ms"]
    if a not in t or b not in t:
        return None
    r = case.get("rounds_ms", {})
    p = paired(r.get(a), r.get(b))
    return p if p is not None else t[a] / t[b]


def _pylops_best(case):
    """The name of PyLops' faster method in this case (by median), or ``None``."""
    t = case["times_ms"]
    names = [nm for nm in ("pylops_fft", "pylops_direct") if nm in t]
    return min(names, key=t.get) if names else None


def targets(results):
    """Every target of the issue as (name, limit, worst ratio, median, count, met)."""
    single = [c for c in results if c["group"] in ("2d", "3d")]
    chan = [c for c in results if c["group"] == "channels"]
    out = []

    def add(name, limit, ratios, detail, higher_is_better=False):
        ratios = [r for r in ratios if r is not None]
        if not ratios:
            return
        worst = min(ratios) if higher_is_better else max(ratios)
        met = worst >= limit if higher_is_better else worst <= limit
        out.append(
            {
                "target": name,
                "limit": limit,
                "worst": worst,
                "median": statistics.median(ratios),
                "cases": len(ratios),
                "met": bool(met),
                "detail": detail,
            }
        )

    fftc = [
        c
        for c in single
        if (c["ndim"] == 2 and c["n"] == 1024 and c["k"] in (11, 31))
        or (c["ndim"] == 3 and c["n"] == 128 and c["k"] == 9)
    ]
    add(
        "fft vs scipy.signal.fftconvolve (1024² 11×11/31×31, 128³ 9³)",
        0.5,
        [_ratio(c, "convops_fft", "scipy_fftconvolve") for c in fftc],
        "convops_fft / scipy_fftconvolve",
    )
    dirc = [
        c
        for c in single
        if c["ndim"] == 2
        and c["n"] == 1024
        and c["k"] == 3
        and c["padding"] == "same"
        and c["stride"] == 1
    ]
    add(
        "direct vs scipy.ndimage.correlate (1024² 3×3 same)",
        1.5,
        [_ratio(c, "convops_direct", "scipy_ndimage") for c in dirc],
        "convops_direct / scipy_ndimage",
    )
    add(
        "channels float32 16→16 64² 3×3 vs torch",
        2.0,
        [_ratio(c, "convops_auto", "torch") for c in chan if c["dtype"] == "float32"],
        "convops_auto / torch",
    )
    best = []
    for c in single + chan:
        t = c["times_ms"]
        best.append(t["convops_auto"] / min(t["convops_direct"], t["convops_fft"]))
    add(
        "auto vs best of direct and fft (every grid case)",
        1.2,
        best,
        "convops_auto / min(direct, fft)",
    )
    # adjoint / forward for every realisation: pair cases that differ only in direction
    fwd = {}
    for c in single + chan:
        key = tuple((kk, c[kk]) for kk in ("group", "n", "k", "stride", "padding", "dtype"))
        fwd.setdefault(key, {})[c["direction"]] = c
    adj = []
    for pair in fwd.values():
        if len(pair) == 2:
            for meth in ("direct", "fft"):
                name = f"convops_{meth}"
                p = paired(
                    pair["adjoint"].get("rounds_ms", {}).get(name),
                    pair["forward"].get("rounds_ms", {}).get(name),
                )
                adj.append(
                    p
                    if p is not None
                    else pair["adjoint"]["times_ms"][name] / pair["forward"]["times_ms"][name]
                )
    for c in results:
        if c["group"] == "matrix":
            adj.append(c["times_ms"]["csr_rmatvec"] / c["times_ms"]["csr_matvec"])
    add("adjoint vs forward (every realisation and case)", 1.25, adj, "adjoint / forward time")
    mats = [c for c in results if c["group"] == "matrix" and c["boundary"] == "zeros"]
    add(
        "matrix build, zero boundary (M stored entries / s)",
        200.0,
        [c["nnz_per_s"] / 1e6 for c in mats],
        "nnz / build time",
        higher_is_better=True,
    )
    pyl = []
    for c in single:
        best_pl = _pylops_best(c)
        if best_pl and c["ndim"] == 2:
            pyl.append(_ratio(c, "convops_auto", best_pl))
    add(
        "vs PyLops Convolve2D, its best method (2D same, stride 1)",
        0.5,
        pyl,
        "convops_auto / min(pylops)",
    )
    return out


def _fmt(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def tables(results, tgts) -> str:
    """Markdown tables of the results (printed, and pasted into benchmarks/README.md)."""
    lines = []
    single = [c for c in results if c["group"] in ("2d", "3d")]
    if single:
        lines += [
            "### Single channel (ms; ratios are convops / reference)",
            "",
            "| case | dir | auto | direct | fft | fftconvolve | ndimage | pylops best | torch | fft/fftconv | direct/ndimage | auto/best | auto/pylops |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in single:
            t = c["times_ms"]
            best_pl = _pylops_best(c)
            plb = t[best_pl] if best_pl else None
            name = (
                f"{c['n']}^{c['ndim']} k{c['k']} s{c['stride']} {c['padding']} f{c['dtype'][-2:]}"
            )
            lines.append(
                f"| {name} | {c['direction'][:3]} | {c['auto']} | {_fmt(t['convops_direct'])} | {_fmt(t['convops_fft'])} | "
                f"{_fmt(t['scipy_fftconvolve'])} | {_fmt(t['scipy_ndimage'])} | {_fmt(plb)} | {_fmt(t.get('torch'))} | "
                f"{_fmt(_ratio(c, 'convops_fft', 'scipy_fftconvolve'))} | {_fmt(_ratio(c, 'convops_direct', 'scipy_ndimage'))} | "
                f"{_fmt(t['convops_auto'] / min(t['convops_direct'], t['convops_fft']))} | "
                f"{_fmt(_ratio(c, 'convops_auto', best_pl) if best_pl else None)} |"
            )
        lines.append("")
    chan = [c for c in results if c["group"] == "channels"]
    if chan:
        lines += [
            "### Channels 16→16, 64×64, 3×3, padding 1, batch 1 (ms)",
            "",
            "| case | dir | auto | direct | fft | torch | scipy loop | auto/torch |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in chan:
            t = c["times_ms"]
            lines.append(
                f"| s{c['stride']} {c['dtype']} | {c['direction'][:3]} | {c['auto']} | {_fmt(t['convops_direct'])} | "
                f"{_fmt(t['convops_fft'])} | {_fmt(t.get('torch'))} | {_fmt(t['scipy_loop'])} | "
                f"{_fmt(t['convops_auto'] / t['torch'] if 'torch' in t else None)} |"
            )
        lines.append("")
    mats = [c for c in results if c["group"] == "matrix"]
    if mats:
        lines += [
            "### Explicit CSR matrices (float64)",
            "",
            "| case | boundary | padding | nnz (M) | index | build (ms) | M nnz/s | CSR A·x | CSR Aᴴ·y | direct A·x | direct Aᴴ·y |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in mats:
            t = c["times_ms"]
            lines.append(
                f"| {c['n']}^{c['ndim']} k{c['k']} | {c['boundary']} | {c.get('padding', 'same')} | {c['nnz'] / 1e6:.2f} | {c['index_dtype']} | "
                f"{_fmt(t['build'])} | {c['nnz_per_s'] / 1e6:.0f} | {_fmt(t['csr_matvec'])} | {_fmt(t['csr_rmatvec'])} | "
                f"{_fmt(t['direct_forward'])} | {_fmt(t['direct_adjoint'])} |"
            )
        lines.append("")
    bat = [c for c in results if c["group"] == "batch"]
    if bat:
        lines += [
            "### Batching: `matmat` with 8 columns vs 8 `matvec`s",
            "",
            "| case | method | matvec (ms) | matmat (ms) | matmat per column / matvec |",
            "|---|---|---|---|---|",
        ]
        for c in bat:
            t = c["times_ms"]
            lines.append(
                f"| {c['n']}² k{c['k']} | {c['method']} | {_fmt(t['matvec'])} | {_fmt(t['matmat'])} | {_fmt(c['per_column_ratio'])} |"
            )
        lines.append("")
    if tgts:
        lines += [
            "### Targets",
            "",
            "| target | limit | worst | median | cases | met |",
            "|---|---|---|---|---|---|",
        ]
        for g in tgts:
            cmp_ = "≥" if "build" in g["target"] else "≤"
            lines.append(
                f"| {g['target']} | {cmp_} {g['limit']:g} | {_fmt(g['worst'])} | {_fmt(g['median'])} | {g['cases']} | {'met' if g['met'] else 'MISSED'} |"
            )
        lines.append("")
    bad = [c for c in results if c["mismatch"]]
    lines.append(
        f"Output checks: {len(results) - len(bad)} of {len(results)} cases agree with the float64 reference."
    )
    for c in bad:
        lines.append(
            f"- MISMATCH {c['group']} {c.get('n')} k{c.get('k')} {c.get('direction', '')}: "
            + ", ".join(f"{nm} err={c['err'][nm]:.2e}" for nm in c["mismatch"])
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small subset, well under a minute")
    parser.add_argument("--json", type=Path, help="write all measurements to this JSON file")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="TEXT",
        help="run only the cases whose description contains TEXT (repeatable: all must match), "
        "e.g. --filter \"'n': 1024\"",
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="timed calls per measurement (default 7, quick 3)"
    )
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    budget = 0.4 if args.quick else 2.0  # seconds of interleaved timing per case pair
    rng = np.random.default_rng(1234)
    results = []
    start = time.perf_counter()
    for kind, kw in grid(args.quick):
        if not all(f in f"{kind} {kw}" for f in args.filter):
            continue
        t0 = time.perf_counter()
        if kind in ("single", "channels"):
            builder = single_channel_case if kind == "single" else channels_case
            res = run_pair(builder, kw, repeat, budget, rng)
        elif kind == "matrix":
            res = [matrix_case(**kw, repeat=repeat, rng=rng)]
        else:
            res = [batch_case(**kw, repeat=repeat, rng=rng)]
        results.extend(res)
        bad = [m for r in res for m in r["mismatch"]]
        print(
            f"[{time.perf_counter() - start:6.1f}s] {kind} {kw} ({time.perf_counter() - t0:.1f}s)"
            + (f" MISMATCH {bad}" if bad else ""),
            file=sys.stderr,
            flush=True,
        )
    tgts = targets(results)
    meta = {
        "quick": args.quick,
        "repeat": repeat,
        "seconds": time.perf_counter() - start,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "convops": convops.__version__,
        "pylops": getattr(pylops, "__version__", None),
        "torch": getattr(torch, "__version__", None),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
    }
    print(tables(results, tgts))
    print(
        f"\n{len(results)} cases in {meta['seconds']:.0f} s; numpy {meta['numpy']}, scipy {meta['scipy']}, "
        f"pylops {meta['pylops']}, torch {meta['torch']}, {meta['cpu_count']} cores"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "cases": results, "targets": tgts}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
