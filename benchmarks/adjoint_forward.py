#!/usr/bin/env python
"""Adjoint / forward time of one operator, timed alone (no other callable in between).

``run.py`` interleaves every callable of a case with the references, which is fair for
ratios against them but lets the references' allocations and cache traffic fall on
either direction.  This script times ``A`` and ``A*`` alone, alternately, call after
call, for the single-channel cases of ``run.py``'s grid (``direct`` and ``fft``)::

    python benchmarks/adjoint_forward.py                      # the whole grid, ~4 min
    python benchmarks/adjoint_forward.py --filter "'n': 256"  # a subset

It prints one line per case and realisation, and the worst and median ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import run

from convops import ConvOperator

#: direct is skipped where it takes seconds per call (auto never picks it there)
DIRECT_MAX_MACS = 3e8


def time_pair(
    op: ConvOperator, x: np.ndarray, y: np.ndarray, seconds: float
) -> tuple[float, float]:
    """Median ms of ``A x`` and of ``A* y``, called alternately (at least 10 times each)."""
    op.apply(x)
    op.H.apply(y)
    fwd, adj = [], []
    start = time.perf_counter()
    while len(fwd) < 10 or (time.perf_counter() - start < seconds and len(fwd) < 400):
        t0 = time.perf_counter()
        op.apply(x)
        t1 = time.perf_counter()
        op.H.apply(y)
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        adj.append(t2 - t1)
    return 1e3 * statistics.median(fwd), 1e3 * statistics.median(adj)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="TEXT",
        help="only the cases whose description contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--seconds", type=float, default=0.6, help="time per operator (default 0.6)"
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    ratios = []
    for kind, kw in run.grid(False):
        if kind != "single" or not all(f in str(kw) for f in args.filter):
            continue
        n, k, D, s, p, dt = kw["n"], kw["k"], kw["D"], kw["stride"], kw["padding"], kw["dtype"]
        x = rng.standard_normal((n,) * D).astype(dt)
        w = rng.standard_normal((k,) * D).astype(dt)
        padding = p if p == "valid" else (k - 1) // 2
        for method in ("direct", "fft"):
            if method == "direct" and n**D * k**D > DIRECT_MAX_MACS:
                continue
            op = ConvOperator(w, (n,) * D, stride=s, padding=padding, method=method)
            y = rng.standard_normal(op.output_shape).astype(dt)
            f, a = time_pair(op, x, y, args.seconds)
            ratios.append(a / f)
            print(
                f"{n}^{D} k{k} s{s} {p} {dt} {method}: forward {f:.3g} ms, adjoint {a:.3g} ms, ratio {a / f:.2f}",
                flush=True,
            )
    if ratios:
        print(
            f"adjoint / forward over {len(ratios)} operators: worst {max(ratios):.2f}, "
            f"median {statistics.median(ratios):.2f}, above 1.25: {sum(r > 1.25 for r in ratios)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
