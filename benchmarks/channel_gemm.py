#!/usr/bin/env python
"""The two ways the direct realisation forms a channel convolution's GEMM, timed alone.

``convops.realisations.direct`` either copies the full im2col matrix (``T`` shifted copies of the
source channels, one GEMM) or, at stride 1, only the ``k`` shifts along the last axis
(one GEMM per kernel row, partial products added); ``direct.row_gemm_pays`` picks one from
the amount of memory each moves.  This script times both, forward and adjoint, on
channel cases off ``run.py``'s grid, and prints which one ``row_gemm_pays`` picks::

    python benchmarks/channel_gemm.py            # ~1 min
    python benchmarks/channel_gemm.py --quick    # two small cases
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from convops import ConvOperator, configure
from convops.realisations import direct

#: (input shape (C, *n), kernel shape (C_out, C_in/groups, *k), groups, dtype)
CASES = [
    ((16, 64, 64), (16, 16, 3, 3), 1, "float32"),
    ((16, 64, 64), (16, 16, 3, 3), 1, "float64"),
    ((16, 64, 64), (16, 1, 3, 3), 16, "float32"),
    ((64, 32, 32), (64, 64, 3, 3), 1, "float32"),
    ((3, 128, 128), (16, 3, 5, 5), 1, "float32"),
    ((3, 128, 128), (16, 3, 3, 3), 1, "float32"),
    ((8, 16, 16, 16), (8, 8, 3, 3, 3), 1, "float32"),
    ((32, 16, 16, 16), (32, 32, 3, 3, 3), 1, "float32"),
    ((8, 32, 32, 32), (8, 8, 3, 3, 3), 1, "float64"),
]
QUICK = [((4, 16, 16), (4, 4, 3, 3), 1, "float32"), ((2, 8, 8, 8), (2, 2, 3, 3, 3), 1, "float64")]


def median_ms(fn, calls: int) -> float:
    fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small cases")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    calls = 5 if args.quick else 100
    with configure():  # restores the row_gemm setting forced below
        for in_shape, k_shape, groups, dtype in QUICK if args.quick else CASES:
            w = rng.standard_normal(k_shape).astype(dtype)
            x = rng.standard_normal(in_shape).astype(dtype)
            op = ConvOperator(w, in_shape, padding=k_shape[-1] // 2, groups=groups, method="direct")
            y = rng.standard_normal(op.output_shape).astype(dtype)
            best = {}
            for force in (False, True) * 3:  # alternate; keep each one's best median
                configure(row_gemm=force)
                t = (
                    median_ms(lambda op=op, x=x: op.apply(x), calls),
                    median_ms(lambda op=op, y=y: op.H.apply(y), calls),
                )
                best[force] = tuple(min(a, b) for a, b in zip(best.get(force, t), t, strict=True))
            T, k = int(np.prod(k_shape[2:])), k_shape[-1]
            picks = [
                "rows" if direct.row_gemm_pays(T, k, cs, cd) else "im2col"
                for cs, cd in ((in_shape[0], k_shape[0]), (k_shape[0], in_shape[0]))
            ]
            print(
                f"{in_shape} * {k_shape} groups={groups} {dtype}: "
                f"forward im2col {best[False][0]:.3g} ms, rows {best[True][0]:.3g} ms, picks {picks[0]}; "
                f"adjoint im2col {best[False][1]:.3g} ms, rows {best[True][1]:.3g} ms, picks {picks[1]}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
