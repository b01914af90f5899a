#!/usr/bin/env python
"""How far can a convolution stretch a vector: convops' certified interval on ResNet-18's
layers, and the published methods side by side.

Usage::

    python benchmarks/norms.py                 # every ResNet-18 conv shape, 3 kernel kinds
    python benchmarks/norms.py --quick         # scaled-down layers with a dense SVD as truth
    python benchmarks/norms.py --json out.json # also write every number as JSON
    python benchmarks/norms.py --layers conv1 layer4 --kinds random

For each layer (zero padding and strides as in the network, seeded random kernels with He
scaling) it reports convops' ``norm_bounds``: ``lower <= ‖A‖ <= upper``, the gap
``upper/lower``, the products with ``A`` and ``Aᴴ`` it spent (counted), its time (the
fastest of ``--repeat`` runs), and that time in units of one product (the mean of ``A``
and ``Aᴴ``, each the fastest of five, timed before and after those runs: on a shared
machine other jobs only ever add time, to either side of the ratio).  Three
kernel kinds: ``random`` (zero-mean Gaussian), ``mean`` (the same plus a mean of twice the
standard deviation: signed, low-pass dominated) and ``positive`` (the moduli of the
Gaussian: all taps >= 0).

The published methods are implemented here from their papers (not in the library), each
on the same kernel; their value is given relative to convops' interval (``value/lower``;
where the truth is known, ``--quick``, relative to it):

* **reshaped** — ``‖W.reshape(C_out, −1)‖₂``, what spectral normalisation of the weight
  matrix computes (Miyato et al., ICLR 2018; ``torch.nn.utils.spectral_norm``).  Not a
  bound on the operator norm in either direction (pytorch#99149).
* **power** — power iteration on ``AᴴA`` with the operator itself, from a random start
  (Ryu et al., ICML 2019; Farnia et al. 2019), :data:`POWER_STEPS` steps: a Rayleigh
  quotient, so never above ``‖A‖``; not an upper bound.
* **singla** — Singla & Feizi, ICLR 2021 ("Fantastic Four"):
  ``sqrt(h·w)·min(‖R₁‖, ‖R₂‖, ‖R₃‖, ‖R₄‖)`` over four reshapings of the kernel, here with
  exact SVDs.  A proven upper bound for stride 1 (zero or circular padding); for a strided
  layer through the stride-1 operator, of which it is a restriction.
* **araujo** — Araujo et al., AAAI 2021 ("LipBound"):
  ``sqrt(Σ_i sup_ω Σ_j |f_ij(ω)|²)`` for the trigonometric polynomials ``f_ij`` of the
  kernel, the supremum sampled on a 50×50 grid as in the authors' code.  Proven for the
  continuous supremum; the sampled value can fall below it.
* **gram** — Gram iteration on the circular convolution's frequency blocks (Delattre et al.,
  ICML 2023), :data:`GRAM_STEPS` steps, strided layers through their polyphase kernel:
  ``σ₁(B) <= ‖G_t‖_F^{1/2^t}``, a proven upper bound of the *circular* convolution on the
  grid used.  ``gram(n)`` runs on the input grid, as the paper does: not a bound for zero
  padding in general.  ``gram(n+k−1)`` runs on ``n + k − 1`` rounded up to a multiple of
  the stride, a grid that makes the zero-padded convolution a restriction of the circular
  one: a proven bound.

Nothing here is timed in the tests; ``tests/test_norms.py`` checks each reference method
against a dense SVD on small cases, and ``tests/test_benchmarks.py``-style runs of
``--quick`` keep the script working.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import convops
from convops import ConvOperator, norm_bounds

#: ResNet-18's distinct convolutions: (name, C_in, C_out, k, stride, padding, input size).
LAYERS = [
    ("conv1", 3, 64, 7, 2, 3, 224),
    ("layer1", 64, 64, 3, 1, 1, 56),
    ("layer2.0.conv1", 64, 128, 3, 2, 1, 56),
    ("layer2.0.downsample", 64, 128, 1, 2, 0, 56),
    ("layer2", 128, 128, 3, 1, 1, 28),
    ("layer3.0.conv1", 128, 256, 3, 2, 1, 28),
    ("layer3.0.downsample", 128, 256, 1, 2, 0, 28),
    ("layer3", 256, 256, 3, 1, 1, 14),
    ("layer4.0.conv1", 256, 512, 3, 2, 1, 14),
    ("layer4.0.downsample", 256, 512, 1, 2, 0, 14),
    ("layer4", 512, 512, 3, 1, 1, 7),
]
#: Scaled-down shapes for ``--quick``: small enough for a dense SVD as the truth.
QUICK_LAYERS = [
    ("mini-conv1", 3, 8, 7, 2, 3, 24),
    ("mini-3x3", 8, 8, 3, 1, 1, 10),
    ("mini-3x3-s2", 8, 16, 3, 2, 1, 10),
    ("mini-1x1-s2", 8, 16, 1, 2, 0, 10),
    ("mini-7x7-grid", 16, 16, 3, 1, 1, 7),
]
KINDS = ("random", "mean", "positive")
METHODS = ("reshaped", "power", "singla", "araujo", "gram(n)", "gram(n+k-1)")
#: Whether each method's value is a proven upper bound of ‖A‖ for these layers.
GUARANTEED = {
    "reshaped": "no (neither bound)",
    "power": "no (a lower estimate)",
    "singla": "yes",
    "araujo": "yes, for the exact sup (sampled here)",
    "gram(n)": "no (circular on n)",
    "gram(n+k-1)": "yes",
}
POWER_STEPS = 100
GRAM_STEPS = 6
#: norm_bounds runs per layer; the fastest is reported.
REPEAT = 2
ARAUJO_SAMPLES = 50


# ----------------------------------------------------------------------------------------
# the published methods, from their papers
# ----------------------------------------------------------------------------------------
def reshaped_norm(w: np.ndarray) -> float:
    """``‖W.reshape(C_out, C_in·h·w)‖₂``: the spectral norm of the reshaped weight matrix."""
    return float(np.linalg.norm(w.reshape(w.shape[0], -1), 2))


def power_iteration(op: ConvOperator, steps: int = POWER_STEPS, seed: int = 0) -> float:
    """Power iteration on ``AᴴA`` from a random start: ``‖A x‖`` for the last unit ``x``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(op.input_shape)
    x /= np.linalg.norm(x)
    for _ in range(steps):
        x = op.H.apply(op.apply(x))
        x /= np.linalg.norm(x)
    return float(np.linalg.norm(op.apply(x)))


def singla_feizi(w: np.ndarray) -> float:
    """``sqrt(h·w)·min_i ‖R_i‖₂`` for the four reshapings of Singla & Feizi (2021).

    ``R₁``: rows ``(c_out, h)``, columns ``(c_in, w)``; ``R₂``: rows ``(c_out, w)``,
    columns ``(c_in, h)``; ``R₃``: ``c_out × (c_in, h, w)``; ``R₄``: ``c_in × (c_out, h, w)``.
    """
    co, ci, h, wd = w.shape
    r1 = w.transpose(0, 2, 1, 3).reshape(co * h, ci * wd)
    r2 = w.transpose(0, 3, 1, 2).reshape(co * wd, ci * h)
    r3 = w.reshape(co, ci * h * wd)
    r4 = w.transpose(1, 0, 2, 3).reshape(ci, co * h * wd)
    return math.sqrt(h * wd) * min(float(np.linalg.norm(r, 2)) for r in (r1, r2, r3, r4))


def araujo(w: np.ndarray, samples: int = ARAUJO_SAMPLES) -> float:
    """``sqrt(Σ_i max_ω Σ_j |f_ij(ω)|²)`` on a ``samples × samples`` grid (Araujo et al., 2021).

    ``f_ij(ω) = Σ_{a,b} w[i, j, a, b]·e^{i(a·ω₀ + b·ω₁)}``; the rows ``i`` are the smaller
    channel side (the transposed operator has the same norm), as in the authors' code.
    """
    if w.shape[0] > w.shape[1]:
        w = w.transpose(1, 0, 2, 3)
    co, _, h, wd = w.shape
    omega = np.linspace(0, 2 * np.pi, samples)
    e0 = np.exp(1j * np.outer(omega, np.arange(h)))  # (S, h)
    e1 = np.exp(1j * np.outer(omega, np.arange(wd)))  # (S, w)
    total = 0.0
    for i in range(co):  # one row at a time: f_i is (C_in, S, S)
        f = np.einsum("jab,sa,tb->jst", w[i], e0, e1, optimize=True)
        total += float(np.max(np.sum(np.abs(f) ** 2, axis=0)))
    return math.sqrt(total)


def _gram_stack(b: np.ndarray) -> np.ndarray:
    """``Bᴴ B`` per block: one BLAS call per block when they are large (numpy's stacked
    complex ``matmul`` is many times slower there), one stacked call when they are small."""
    if b.shape[1] * b.shape[2] <= 256:
        return np.conj(np.swapaxes(b, 1, 2)) @ b
    out = np.empty((b.shape[0], b.shape[2], b.shape[2]), dtype=b.dtype)
    for i, block in enumerate(b):
        out[i] = np.conj(block.T) @ block
    return out


def gram_iteration(
    w: np.ndarray, grid: tuple[int, int], steps: int = GRAM_STEPS, stride: int = 1
) -> float:
    """Gram iteration on the frequency blocks of the circular convolution on ``grid``.

    Blocks ``B(f) = Σ_t w[:, :, t]·e^{−2πi f·t/N}`` (``rfft2``, the half spectrum of a real
    kernel); ``G₀ = B``, ``G_{j+1} = G_jᴴ G_j`` rescaled by ``‖G_j‖_F`` (the scales kept in
    logarithms), and ``σ₁(B) <= (s_t·‖G_t‖_F)^{1/2^t}`` (Delattre et al., ICML 2023).  With
    a stride ``s`` (dividing the grid) the kernel is first split into its ``s²`` polyphase
    components, ``(C_out, C_in·s², ⌈k/s⌉, ⌈k/s⌉)`` on the grid ``N/s``, as the authors' code
    does for strided layers.
    """
    if any(N % stride for N in grid):
        raise ValueError(f"grid {grid} is not divisible by the stride {stride}")
    if stride > 1:
        co, ci, h, wd = w.shape
        kh, kw = -(-h // stride) * stride, -(-wd // stride) * stride
        padded = np.zeros((co, ci, kh, kw), dtype=w.dtype)
        padded[:, :, :h, :wd] = w
        split = padded.reshape(co, ci, kh // stride, stride, kw // stride, stride)
        w = split.transpose(0, 1, 3, 5, 2, 4).reshape(
            co, ci * stride * stride, kh // stride, kw // stride
        )
        grid = (grid[0] // stride, grid[1] // stride)
    if any(N < k for N, k in zip(grid, w.shape[2:], strict=True)):
        raise ValueError(f"grid {grid} is smaller than the kernel {w.shape[2:]}")
    if w.shape[1] > w.shape[0]:
        w = w.transpose(1, 0, 2, 3)
    co, ci = w.shape[:2]
    blocks = np.fft.rfft2(w, s=grid).reshape(co, ci, -1).transpose(2, 0, 1)
    log_scale = np.zeros(blocks.shape[0])
    for _ in range(steps):
        norms = np.linalg.norm(blocks, axis=(1, 2))
        norms = np.where(norms > 0, norms, 1.0)
        blocks = blocks / norms[:, None, None]
        log_scale = 2 * (log_scale + np.log(norms))
        blocks = _gram_stack(blocks)
    power = 0.5**steps
    final = np.linalg.norm(blocks, axis=(1, 2))
    with np.errstate(divide="ignore"):
        return float(np.max(np.exp(power * (log_scale + np.log(final)))))


# ----------------------------------------------------------------------------------------
# the runs
# ----------------------------------------------------------------------------------------
def make_kernel(kind: str, cout: int, cin: int, k: int, seed: int) -> np.ndarray:
    """A seeded kernel with He scaling ``std = sqrt(2 / (C_in·k²))``."""
    rng = np.random.default_rng(seed)
    std = math.sqrt(2.0 / (cin * k * k))
    w = rng.standard_normal((cout, cin, k, k)) * std
    if kind == "mean":
        return w + 2 * std
    if kind == "positive":
        return np.abs(w)
    return w


def _timed(fn, repeat: int = 1):
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def application_seconds(op: ConvOperator, repeat: int = 5) -> float:
    """The time of one product with ``A`` and with ``Aᴴ`` (their mean), each the fastest of
    ``repeat`` (other jobs on the machine only ever add time)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(op.input_shape)
    y = rng.standard_normal(op.output_shape)
    op.apply(x)
    op.H.apply(y)  # warm-up: plans, spectra
    forward = _timed(lambda: op.apply(x), repeat)[0]
    adjoint = _timed(lambda: op.H.apply(y), repeat)[0]
    return (forward + adjoint) / 2


def run_layer(
    layer, kind: str, *, seed: int, truth: bool, rtol: float, repeat: int = REPEAT
) -> dict:
    name, cin, cout, k, s, p, n = layer
    w = make_kernel(kind, cout, cin, k, seed)
    op = ConvOperator(w, (cin, n, n), stride=s, padding=p)
    # the fastest of `repeat` runs, and of the products timed before and after them: on a
    # shared machine the load only adds time, to either
    before = application_seconds(op)
    t_conv, b = _timed(lambda: norm_bounds(op, rtol=rtol), repeat)
    t_app = min(before, application_seconds(op))
    row: dict = dict(
        layer=name,
        kind=kind,
        shape=f"{cin}->{cout} {k}x{k} s{s} p{p} @ {n}x{n}",
        lower=b.lower,
        upper=b.upper,
        gap=b.gap,
        applications=b.applications,
        seconds=t_conv,
        seconds_per_application=t_app,
        time_in_applications=t_conv / t_app,
        upper_method=b.upper_method,
        lower_method=b.lower_method,
    )
    if truth:
        row["truth"] = float(np.linalg.norm(op.toarray(), 2))
    methods = {
        "reshaped": lambda: reshaped_norm(w),
        "power": lambda: power_iteration(op),
        "singla": lambda: singla_feizi(w),
        "araujo": lambda: araujo(w),
        "gram(n)": lambda: gram_iteration(w, (n, n), stride=s),
        "gram(n+k-1)": lambda: gram_iteration(w, (big, big), stride=s),
    }
    big = -(-(n + k - 1) // s) * s  # n + k − 1, rounded up to a multiple of the stride
    row["methods"] = {}
    for method, fn in methods.items():
        seconds, value = _timed(fn)
        row["methods"][method] = dict(value=value, seconds=seconds)
    return row


def _relative(value: float, row: dict) -> str:
    """The value against the truth, or against convops' interval."""
    if "truth" in row:
        return f"{value / row['truth']:.3f}"
    if value < row["lower"] * (1 - 1e-9):
        return f"{value / row['lower']:.3f}↓"  # below the proven lower bound
    if value <= row["upper"]:
        return f"{value / row['lower']:.3f}∈"  # inside the interval
    return f"{value / row['lower']:.3f}"


def print_tables(rows: list[dict], quick: bool) -> None:
    ref = "truth" if quick else "convops' lower bound"
    print("\n### convops' interval\n")
    print(
        "| layer | shape | kernel | lower | upper | upper/lower | products | time (s) "
        "| time / product |" + (" truth in [lower, upper] |" if quick else "")
    )
    print("|---|---|---|---|---|---|---|---|---|" + ("---|" if quick else ""))
    for r in rows:
        extra = ""
        if quick:
            ok = r["lower"] <= r["truth"] * (1 + 1e-12) and r["upper"] >= r["truth"]
            extra = f" {'yes' if ok else 'NO'} |"
        print(
            f"| {r['layer']} | {r['shape']} | {r['kind']} | {r['lower']:.6g} | "
            f"{r['upper']:.6g} | {r['gap']:.5f} | {r['applications']} | {r['seconds']:.2f} "
            f"| {r['time_in_applications']:.0f} |{extra}"
        )
    print(f"\n### The published methods, value / {ref}\n")
    print(
        "(↓: below convops' proven lower bound, so it underestimates ‖A‖; ∈: inside the "
        "interval; otherwise above the proven upper bound.)\n"
    )
    print("| layer | kernel | " + " | ".join(METHODS) + " |")
    print("|---|---|" + "---|" * len(METHODS))
    for r in rows:
        cells = [_relative(r["methods"][m]["value"], r) for m in METHODS]
        print(f"| {r['layer']} | {r['kind']} | " + " | ".join(cells) + " |")
    print("\n| method | proven upper bound? | median time (ms) |")
    print("|---|---|---|")
    for m in METHODS:
        median = statistics.median(1e3 * r["methods"][m]["seconds"] for r in rows)
        print(f"| {m} | {GUARANTEED[m]} | {median:.1f} |")
    median_convops = statistics.median(1e3 * r["seconds"] for r in rows)
    print(f"| convops norm_bounds | yes (and a witnessed lower bound) | {median_convops:.1f} |")


def summary(rows: list[dict]) -> list[dict]:
    """The targets: median and worst gap per kernel kind."""
    out = []
    for kind in sorted({r["kind"] for r in rows}):
        gaps = [r["gap"] for r in rows if r["kind"] == kind]
        prods = [r["applications"] for r in rows if r["kind"] == kind]
        ratios = [r["time_in_applications"] for r in rows if r["kind"] == kind]
        out.append(
            dict(
                kind=kind,
                layers=len(gaps),
                median_gap=statistics.median(gaps),
                worst_gap=max(gaps),
                most_products=max(prods),
                median_time_in_products=statistics.median(ratios),
                worst_time_in_products=max(ratios),
            )
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down layers, dense truth")
    parser.add_argument("--json", type=Path, help="write every number to this JSON file")
    parser.add_argument("--layers", nargs="*", help="only layers whose name starts so")
    parser.add_argument("--kinds", nargs="*", choices=KINDS, default=list(KINDS))
    parser.add_argument("--rtol", type=float, default=1e-3, help="norm_bounds' rtol")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeat", type=int, default=REPEAT, help="norm_bounds runs per layer (the fastest)"
    )
    args = parser.parse_args(argv)
    layers = QUICK_LAYERS if args.quick else LAYERS
    if args.layers:
        layers = [lay for lay in layers if any(lay[0].startswith(p) for p in args.layers)]
    rows = []
    for layer in layers:
        for kind in args.kinds:
            row = run_layer(
                layer, kind, seed=args.seed, truth=args.quick, rtol=args.rtol, repeat=args.repeat
            )
            rows.append(row)
            print(
                f"{row['layer']:<20} {kind:<8} gap {row['gap']:.5f}  {row['applications']:>3} "
                f"products  {row['seconds']:6.2f} s ({row['time_in_applications']:.0f} "
                "products' time)",
                flush=True,
            )
    print_tables(rows, args.quick)
    targets = summary(rows)
    print("\n### Targets (median gap <= 1.01, worst <= 1.05)\n")
    for t in targets:
        print(
            f"- {t['kind']}: median upper/lower {t['median_gap']:.4f}, worst "
            f"{t['worst_gap']:.4f} over {t['layers']} layers; at most {t['most_products']} "
            f"products; time {t['median_time_in_products']:.0f} products' worth in the "
            f"median, {t['worst_time_in_products']:.0f} at worst"
        )
    if args.json:
        meta = dict(
            quick=args.quick,
            python=platform.python_version(),
            numpy=np.__version__,
            scipy=scipy.__version__,
            convops=convops.__version__,
            rtol=args.rtol,
            repeat=args.repeat,
            machine=platform.machine(),
        )
        args.json.write_text(json.dumps(dict(meta=meta, rows=rows, targets=targets), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
