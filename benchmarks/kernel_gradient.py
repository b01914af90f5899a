#!/usr/bin/env python
"""Benchmark the weight gradient: ``KernelOperator.H`` against PyTorch and scipy.

Usage::

    python benchmarks/kernel_gradient.py                 # the grid below (~2 min on 2 cores)
    python benchmarks/kernel_gradient.py --quick         # a small subset (a few seconds)
    python benchmarks/kernel_gradient.py --json out.json # also write every measurement

The job is the weight gradient of a convolution layer, ``gw = A_x*(g)`` for the map
``A_x: w ↦ conv(x, w)``: the correlation of the (zero-)padded input with the output gradient
``g``, summed over the batch.  Every case times, on the same inputs and interleaved round by
round (``measure`` and ``paired`` of ``benchmarks/run.py``):

* ``convops_direct`` / ``convops_fft``: ``op.H.apply(g)`` with the operator built once (as a
  solver that iterates over ``w`` for a fixed ``x`` holds it: blind deconvolution, dictionary
  learning); the FFT realisation's first call computes and keeps the spectrum of ``x`` and is
  the warm-up.  ``convops_auto`` is the one ``method="auto"`` chose (the same code).
* ``convops_grad``: ``convops.grad.conv2d_weight(x, w.shape, g, …)``, one call from scratch
  (building the operator, transforming ``x``): what a training step pays, as PyTorch's does.
* ``torch_conv2d_weight``: ``torch.nn.grad.conv2d_weight`` (when PyTorch is installed).
* ``scipy_correlate``: ``scipy.signal.correlate(x̃, g̃, mode="valid")`` (``method="auto"``),
  ``x̃`` the zero-padded input and ``g̃`` the gradient zero-inserted at the strides; for
  channels a loop over the channel pairs and the batch.

Every output is compared once with a float64 reference (``err`` = ``max|a − b| / max|b|``);
a mismatch is printed and recorded.  Ratios are convops / reference: paired round by round
where both ran in the same rounds, else (PyTorch, timed in blocks of its own) ratios of
medians.  The grid is the one of ``benchmarks/run.py``: single channel 256² and 1024² with
3×3 and 11×11 kernels (padding ``k // 2``), and 16→16 channels on 64² with 3×3 (padding 1),
batch 1 and 8, strides 1 and 2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

import numpy as np
import scipy
import scipy.signal as ss

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from run import measure, paired, rel_err

import convops

try:  # optional reference
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

RTOL = {"float64": 1e-9, "float32": 2e-4}
#: PyTorch's share of the budget is timed in this many blocks alternating with ours
TORCH_BLOCKS = 3


def _zero_insert(g: np.ndarray, stride: int) -> np.ndarray:
    """``g`` on the grid of the strided outputs: ``g̃[o·s] = g[o]`` on the last two axes."""
    if stride == 1:
        return g
    m = g.shape[-2:]
    z = np.zeros(g.shape[:-2] + tuple((mi - 1) * stride + 1 for mi in m), dtype=g.dtype)
    z[..., ::stride, ::stride] = g
    return z


def scipy_weight_gradient(x, g, k, stride, pad, groups=1):
    """The weight gradient with scipy.signal.correlate: a loop over channel pairs and batch."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    gz = _zero_insert(g, stride)
    span = (gz.shape[-2] + k - 1, gz.shape[-1] + k - 1)  # the padded extent the outputs read
    xp = xp[..., : span[0], : span[1]]
    n_batch, cin = x.shape[:2]
    cout = g.shape[1]
    cin_g, cout_g = cin // groups, cout // groups
    out = np.zeros((cout, cin_g, k, k), dtype=np.result_type(x, g))
    for co in range(cout):
        for i in range(cin_g):
            ci = (co // cout_g) * cin_g + i
            for b in range(n_batch):
                out[co, i] += ss.correlate(xp[b, ci], gz[b, co], mode="valid")
    return out


def case(n, k, stride, dtype, rng, channels=1, batch=1, repeat=5, budget=2.0):
    """Time one configuration; returns its record."""
    dt = np.dtype(dtype)
    pad = k // 2
    cin = cout = channels
    x64 = rng.standard_normal((batch, cin, n, n))
    w_shape = (cout, cin, k, k)
    ops = {
        meth: convops.KernelOperator(
            x64.astype(dt), w_shape, stride=stride, padding=pad, method=meth, batched=True
        )
        for meth in ("direct", "fft")
    }
    auto = convops.KernelOperator(
        x64.astype(dt), w_shape, stride=stride, padding=pad, batched=True
    ).method
    m = ops["direct"].output_shape
    g64 = rng.standard_normal(m)
    x, g = x64.astype(dt), g64.astype(dt)
    truth = scipy_weight_gradient(x64, g64, k, stride, pad)

    ours = {f"convops_{meth}": (lambda op=op: op.H.apply(g)) for meth, op in ops.items()}
    ours["convops_grad"] = lambda: convops.grad.conv2d_weight(x, w_shape, g, stride, pad)
    ours["scipy_correlate"] = lambda: scipy_weight_gradient(x, g, k, stride, pad)
    theirs = {}
    if torch is not None:
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)
        theirs["torch_conv2d_weight"] = lambda: torch.nn.grad.conv2d_weight(
            tx, w_shape, tg, stride=stride, padding=pad
        ).numpy()
    medians: dict[str, list[float]] = {}
    outputs: dict = {}
    rounds: dict[str, list[float]] = {}
    blocks = TORCH_BLOCKS if theirs else 1
    for _ in range(blocks):
        for group, share in ((ours, 1), (theirs, 2)):
            if not group:
                continue
            t, o, r = measure(group, repeat, budget / (share * blocks))
            for name, v in t.items():
                medians.setdefault(name, []).append(v)
            for name, v in o.items():
                outputs.setdefault(name, v)
            if group is ours:  # PyTorch's rounds are not side by side with ours
                for name, v in r.items():
                    rounds.setdefault(name, []).extend(v)
    times = {name: statistics.median(v) for name, v in medians.items()}
    times["convops_auto"] = times[f"convops_{auto}"]
    rounds["convops_auto"] = rounds.get(f"convops_{auto}", [])
    err = {name: rel_err(out, truth) for name, out in outputs.items()}
    return {
        "n": n,
        "k": k,
        "stride": stride,
        "channels": channels,
        "batch": batch,
        "dtype": dtype,
        "auto": auto,
        "times_ms": times,
        "rounds_ms": rounds,
        "err": err,
        "mismatch": sorted(name for name, e in err.items() if not e <= RTOL[dtype]),
    }


def ratio(c, a, b):
    """``a / b``: paired round by round where both ran in the same rounds, else medians."""
    t = c["times_ms"]
    if a not in t or b not in t:
        return None
    p = paired(c["rounds_ms"].get(a), c["rounds_ms"].get(b))
    return p if p is not None else t[a] / t[b]


def grid(quick: bool):
    if quick:
        return [
            dict(n=64, k=3, stride=1, dtype="float64"),
            dict(n=64, k=11, stride=2, dtype="float32"),
            dict(n=16, k=3, stride=1, dtype="float32", channels=4, batch=2),
        ]
    cases = []
    for dtype in ("float64", "float32"):
        for n in (256, 1024):
            for k in (3, 11):
                for s in (1, 2):
                    cases.append(dict(n=n, k=k, stride=s, dtype=dtype))
    for dtype in ("float32", "float64"):
        for batch in (1, 8):
            for s in (1, 2):
                cases.append(dict(n=64, k=3, stride=s, dtype=dtype, channels=16, batch=batch))
    return cases


def _fmt(v):
    if v is None:
        return "–"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def table(results) -> str:
    lines = [
        "| case | auto | direct | fft | grad (one call) | torch | scipy | auto/torch | "
        "grad/torch | auto/scipy | grad/scipy | auto/best |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results:
        t = c["times_ms"]
        name = f"{c['n']}² k{c['k']} s{c['stride']} f{c['dtype'][-2:]}"
        if c["channels"] > 1:
            name = f"{c['channels']}→{c['channels']} N{c['batch']} " + name
        best = t["convops_auto"] / min(t["convops_direct"], t["convops_fft"])
        lines.append(
            f"| {name} | {c['auto']} | {_fmt(t['convops_direct'])} | {_fmt(t['convops_fft'])} | "
            f"{_fmt(t['convops_grad'])} | {_fmt(t.get('torch_conv2d_weight'))} | "
            f"{_fmt(t['scipy_correlate'])} | "
            f"{_fmt(ratio(c, 'convops_auto', 'torch_conv2d_weight'))} | "
            f"{_fmt(ratio(c, 'convops_grad', 'torch_conv2d_weight'))} | "
            f"{_fmt(ratio(c, 'convops_auto', 'scipy_correlate'))} | "
            f"{_fmt(ratio(c, 'convops_grad', 'scipy_correlate'))} | {_fmt(best)} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a small subset of the grid")
    p.add_argument("--json", help="write every measurement to this file")
    p.add_argument("--repeat", type=int, default=5, help="at least this many rounds per case")
    p.add_argument("--budget", type=float, default=2.0, help="seconds per case, about")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    if torch is not None:
        torch.set_num_threads(2)
    results = []
    for kw in grid(args.quick):
        rec = case(rng=rng, repeat=args.repeat, budget=0.3 if args.quick else args.budget, **kw)
        results.append(rec)
        if rec["mismatch"]:
            print(f"MISMATCH in {kw}: {rec['mismatch']} {rec['err']}", flush=True)
    print(
        f"### Weight gradient (ms; ratios are convops / reference; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n"
    )
    print(table(results))
    meta = {
        "quick": bool(args.quick),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": None if torch is None else torch.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        # other processes compete for the cores (BLAS threads suffer most): say how busy it was
        "load_average_1min": os.getloadavg()[0],
    }
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "cases": results}, indent=1))
    return 1 if any(r["mismatch"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
