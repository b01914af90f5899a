# %% [markdown]
# # Tutorial 7: How much can a convolution stretch a vector?
#
# The largest factor by which a linear map A can stretch a vector is its spectral norm,
#
#     ‖A‖ = max ‖A x‖ / ‖x‖ = σ₁(A),       the largest singular value.
#
# It is the step size 1/‖A‖² that makes gradient descent on ½‖Ax − y‖² converge (tutorial
# 5), the Lipschitz constant of a layer, and what spectral normalisation divides by.  For
# a convolution it is not the norm of the kernel reshaped into a matrix, and only some
# geometries have it in closed form.  This tutorial
#
# * computes every singular value of a *circular* convolution, frequency by frequency;
# * shows a stride folding the frequencies into bigger blocks (still exact);
# * brackets the norm of a *zero-padded* convolution between a witnessed lower bound and a
#   proven upper bound (`convops.norm_bounds`), and watches both converge as the grid grows;
# * measures the reshaped-matrix mistake on a real ResNet-18 shape;
# * runs gradient descent with the step 1/upper², which is guaranteed to decrease.
#
# Every claim is checked against numpy's dense SVD on cases small enough for it.

# %% setup
import time

import matplotlib.pyplot as plt
import numpy as np

import convops
from convops import ConvOperator, norm_bounds, singular_values
from convops.tutorials import output_dir, save_figure

OUT = output_dir()
rng = np.random.default_rng(7)


def dense_norm(op):
    """‖A‖ by LAPACK on the dense matrix: the reference every claim is checked against."""
    return float(np.linalg.norm(op.toarray(), 2))


# %% [markdown]
# ## A circular convolution: one small matrix per frequency
#
# With a circular boundary the convolution commutes with shifts, so the DFT diagonalises
# it (tutorial 4): frequency f of the input goes to frequency f of the output, multiplied
# by the kernel spectrum Ĥ(f).  With channels Ĥ(f) is a C_out × C_in matrix, and the
# singular values of A are those of the n² small matrices Ĥ(f) (Sedghi, Gupta & Long,
# 2019).  `singular_values(op, return_frequencies=True)` says which frequency each comes
# from.

# %% singular values per frequency
n = 16
w = rng.standard_normal((2, 2, 3, 3))
A = ConvOperator(w, (2, n, n), boundary="circular", padding=1)
values, freqs, groups = singular_values(A, return_frequencies=True)
dense = np.linalg.svd(A.toarray(), compute_uv=False)
print(f"{A.shape[0]}x{A.shape[1]} circular convolution: {len(values)} singular values")
assert np.allclose(values, dense, atol=1e-12 * dense[0])

# the values at frequency f are the singular values of the 2×2 matrix Ĥ(f)
H = convops.kernel_spectrum(w, (n, n))  # (C_out, C_in, n, n)
per_freq = np.linalg.svd(H.transpose(2, 3, 0, 1), compute_uv=False)  # (n, n, 2)
for v, (f0, f1) in zip(values[:5], freqs[:5], strict=True):
    assert np.isclose(v, per_freq[f0, f1]).any()
    print(f"  sigma = {v:.4f} at frequency ({f0}, {f1})")
print(f"||A|| = {values[0]:.6f} (dense SVD: {dense[0]:.6f})")

shift = np.fft.fftshift  # frequency 0 in the middle of the pictures
fig, axes = plt.subplots(1, 2, figsize=(10, 4.3), layout="constrained")
for ax, k, name in zip(
    axes, (0, 1), ("σ₁(Ĥ(f)), the larger", "σ₂(Ĥ(f)), the smaller"), strict=True
):
    im = ax.imshow(
        shift(per_freq[..., k]),
        vmin=0,
        vmax=values[0],
        cmap="magma",
        extent=(-n / 2 - 0.5, n / 2 - 0.5, n / 2 - 0.5, -n / 2 - 0.5),
    )
    ax.set_title(f"{name} singular value per frequency")
    ax.set_xlabel("frequency f₁")
    ax.set_ylabel("frequency f₀")
fig.colorbar(im, ax=axes, label="singular value")
fig.suptitle(
    f"A 2→2 channel 3×3 circular convolution on {n}×{n}: its {len(values)} singular "
    f"values, two per frequency; ‖A‖ = {values[0]:.3f}"
)
save_figure(fig, "07_singular_values_per_frequency.png")

# %% [markdown]
# ## A stride folds the frequencies into bigger blocks
#
# With stride 2 the output keeps every other sample, which *folds* the spectrum (tutorial
# 4): the output frequency f of the (n/2)-grid receives the input frequencies f, f + n/2
# (per axis).  Split the input into its 2×2 polyphase components (even/odd rows and
# columns, Senderovich et al., 2022) and the strided convolution is again block-diagonal,
# with one C_out × 4·C_in block per frequency of the n/2 × n/2 grid.  For one channel the
# block is a 1 × 4 row, and its only singular value is the root mean square of |Ĥ| over the
# four frequencies that fold onto f.

# %% stride 2 as folding
w1 = rng.standard_normal((3, 3))
S = ConvOperator(w1, (n, n), boundary="circular", padding=1, stride=2)
sv_s, f_s, _ = singular_values(S, return_frequencies=True)
assert np.allclose(sv_s, np.linalg.svd(S.toarray(), compute_uv=False))
H1 = np.abs(convops.kernel_spectrum(w1, (n, n)))
m = n // 2
folded = np.sqrt(
    np.mean(
        [np.roll(H1, (-a * m, -b * m), axis=(0, 1))[:m, :m] ** 2 for a in (0, 1) for b in (0, 1)],
        axis=0,
    )
)
for v, (f0, f1) in zip(sv_s, f_s, strict=True):
    assert np.isclose(v, folded[f0, f1])
print(
    f"stride 2: {len(sv_s)} singular values on the {m}x{m} grid = rms of |H| over 4 "
    f"aliases each; ||S|| = {sv_s[0]:.4f} <= ||stride-1|| = {H1.max():.4f}"
)
assert sv_s[0] <= H1.max() + 1e-12

fig, axes = plt.subplots(1, 2, figsize=(10, 4.3), layout="constrained")
axes[0].imshow(
    shift(H1),
    cmap="magma",
    vmin=0,
    vmax=H1.max(),
    extent=(-n / 2 - 0.5, n / 2 - 0.5, n / 2 - 0.5, -n / 2 - 0.5),
)
axes[0].set_title(f"stride 1: |Ĥ(f)| on the {n}×{n} grid")
for a in (-m / 2 - 0.5, m / 2 - 0.5):  # the band that the other three fold onto
    axes[0].axhline(a, color="w", lw=0.8)
    axes[0].axvline(a, color="w", lw=0.8)
im = axes[1].imshow(
    shift(folded),
    cmap="magma",
    vmin=0,
    vmax=H1.max(),
    extent=(-m / 2 - 0.5, m / 2 - 0.5, m / 2 - 0.5, -m / 2 - 0.5),
)
axes[1].set_title(f"stride 2: σ(f) = rms of the 4 folded |Ĥ|, {m}×{m} grid")
for ax in axes:
    ax.set_xlabel("frequency f₁")
    ax.set_ylabel("frequency f₀")
fig.colorbar(im, ax=axes)
fig.suptitle(
    "A stride folds four frequencies into one 1×4 block: the singular values are still exact"
)
save_figure(fig, "07_stride_folding.png")

# %% [markdown]
# ## Zero padding: a proven interval
#
# With zero padding the convolution no longer commutes with shifts and no closed form is
# known.  Two facts bracket its norm:
#
# * the zero-padded convolution is a *submatrix* of a circular convolution on a slightly
#   larger grid (place the input inside the grid, keep the first outputs: no wrap-around
#   reaches them), and a submatrix never has a larger norm; the circular one's norm is exact
#   (above).  That is a proven **upper** bound.
# * ‖A w‖/‖w‖ for any vector w is a **lower** bound; `norm_bounds` finds a good w by Lanczos
#   iterations started from the circular convolution's top singular vector.
#
# As the grid grows the border matters less, and both bounds approach the supremum of
# σ₁(Ĥ(ω)) over all continuous frequencies ω.

# %% the interval converges as the grid grows
wz = rng.standard_normal((2, 2, 3, 3))
sizes = [3, 4, 6, 8, 12, 16, 24, 40, 56]
lower, upper, exact = [], [], {}
for size in sizes:
    Z = ConvOperator(wz, (2, size, size), padding=1)
    b = norm_bounds(Z, rtol=1e-4)
    lower.append(b.lower)
    upper.append(b.upper)
    if size <= 16:  # small enough for the dense reference
        exact[size] = dense_norm(Z)
        assert b.lower <= exact[size] * (1 + 1e-12) and b.upper >= exact[size]
    # the witness attains the lower bound
    assert np.isclose(np.linalg.norm(Z.apply(b.witness)) / np.linalg.norm(b.witness), b.lower)
# the norm grows with the grid (each one is a submatrix of the next) ...
norms = [exact[s] for s in sorted(exact)]
assert np.all(np.diff(norms) >= -1e-12)
# ... towards the supremum of the symbol, sampled finely here
fine = convops.kernel_spectrum(wz, (256, 256))
sup = np.linalg.svd(fine.transpose(2, 3, 0, 1), compute_uv=False)[..., 0].max()
assert upper[-1] <= sup * (1 + 1e-6) and upper[-1] / lower[-1] < 1 + 1e-3
print(f"{'n':>3} {'lower':>9} {'dense SVD':>10} {'upper':>9} {'upper/lower':>12}")
for size, lo, up in zip(sizes, lower, upper, strict=True):
    ref = f"{exact[size]:10.5f}" if size in exact else " " * 10
    print(f"{size:>3} {lo:9.5f} {ref} {up:9.5f} {up / lo:12.6f}")
print(f"sup over frequencies of sigma_1(H): {sup:.5f}")

fig, ax = plt.subplots(figsize=(7.5, 4.3))
ax.fill_between(sizes, lower, upper, color="C0", alpha=0.25, label="[lower, upper] (norm_bounds)")
ax.plot(sizes, upper, "C0v-", ms=4, lw=1, label="upper: circulant embedding (proven)")
ax.plot(sizes, lower, "C0^-", ms=4, lw=1, label="lower: ‖A w‖/‖w‖ (witnessed)")
ax.plot(sorted(exact), norms, "k.", ms=9, label="dense SVD (small n)")
ax.axhline(sup, color="C3", ls="--", lw=1, label="sup σ₁(Ĥ(ω)): the large-n limit")
ax.set_xscale("log")
ax.set_xticks(sizes, [str(size) for size in sizes], minor=False)
ax.minorticks_off()
ax.set_xlabel("input size n (n×n, 2 channels, 3×3, zero padding 1)")
ax.set_ylabel("‖A‖")
ax.set_title("Zero padding: the norm between its bounds, converging as the grid grows")
ax.legend(fontsize=8)
save_figure(fig, "07_zero_padding_bounds.png")

# %% [markdown]
# ## The reshaped-matrix mistake, on a real shape
#
# Spectral normalisation of a convolution layer often divides by ‖W.reshape(C_out, −1)‖,
# the norm of the weight array as a C_out × (C_in·k·k) matrix (pytorch#99149).  That is not
# the operator's norm: each output reads k·k input pixels, and each input pixel feeds k·k
# outputs.  On ResNet-18's 64→64 3×3 layer at 56×56 (He-initialised weights), the certified
# interval shows by how much it is off; a positive (averaging) kernel is off by nearly 3×.
# What *is* true: ‖A‖ ≤ k·‖W.reshape(C_out, −1)‖ for a k×k kernel (one of Singla & Feizi's
# four bounds), and on a tiny input the reshaped norm can even exceed ‖A‖.

# %% reshaped norm vs the interval
start = time.perf_counter()
print(f"{'kernel':<10} {'reshaped':>9} {'lower':>9} {'upper':>9} {'reshaped/lower':>15}")
for kind in ("He random", "positive"):
    wr = rng.standard_normal((64, 64, 3, 3)) * np.sqrt(2 / (64 * 9))
    wr = np.abs(wr) if kind == "positive" else wr
    layer = ConvOperator(wr, (64, 56, 56), padding=1)
    b = norm_bounds(layer, rtol=1e-2)  # 1 % is plenty to see a factor of 1.5 or 3
    reshaped = np.linalg.norm(wr.reshape(64, -1), 2)
    print(f"{kind:<10} {reshaped:9.4f} {b.lower:9.4f} {b.upper:9.4f} {reshaped / b.lower:15.3f}")
    assert reshaped < 0.9 * b.lower  # an underestimate, proven by the witness
    assert b.upper <= 3 * reshaped * (1 + 1e-9)  # ‖A‖ <= k·‖W_reshaped‖ (k = 3)
    if kind == "positive":  # "off by nearly 3×": between 2.5× and the k = 3 ceiling
        assert b.lower > 2.5 * reshaped
print(f"(two 200704x200704 operators bracketed in {time.perf_counter() - start:.1f} s)")
# the same claims, where a dense SVD can check them: 64→64 is too large, 8→8 on 12×12 is not
ws = rng.standard_normal((8, 8, 3, 3))
small = ConvOperator(ws, (8, 12, 12), padding=1)
assert (
    np.linalg.norm(ws.reshape(8, -1), 2)
    < dense_norm(small)
    <= 3 * np.linalg.norm(ws.reshape(8, -1), 2)
)
tiny = ConvOperator(ws, (8, 1, 1), padding=1)  # a 1×1 input: only the centre tap is used
assert np.linalg.norm(ws.reshape(8, -1), 2) > dense_norm(tiny)
print("on 1x1 inputs the reshaped norm overestimates instead: it is no bound either way")

# %% [markdown]
# ## The step size 1/‖A‖² that makes gradient descent converge
#
# Tutorial 5 ran gradient descent x ← x − t·A*(Ax − y) on F(x) = ½‖Ax − y‖² with
# t = 1/‖A‖², computed by `operator_norm`: a Lanczos value, which approaches ‖A‖ *from
# below*, so 1/σ̃² can be slightly too large.  The step 1/upper² from `norm_bounds` is
# guaranteed: F decreases at every step whatever the data.  Above 2/‖A‖² the iteration
# diverges along the top singular vector — the witness shows it at once.

# %% gradient descent with a certified step
wg = rng.standard_normal((4, 2, 3, 3))
G = ConvOperator(wg, (2, 16, 16), stride=2, padding=1)  # 256 x 512: dense-checkable
b = norm_bounds(G)
true = dense_norm(G)
assert b.lower <= true <= b.upper
y = G.apply(rng.standard_normal(G.input_shape))


def descend(step, x0, iterations=60):
    x, history = x0.copy(), []
    for _ in range(iterations):
        r = G.apply(x) - y
        history.append(0.5 * np.vdot(r, r).real)
        x = x - step * G.H.apply(r)
    return np.array(history)


safe = descend(1 / b.upper**2, np.zeros(G.input_shape))
# too large a step, started on the witness (nearly the top singular vector)
wild = descend(2.2 / b.lower**2, 10 * b.witness)
print(
    f"||A|| in [{b.lower:.6f}, {b.upper:.6f}] (dense SVD {true:.6f}); "
    f"step 1/upper^2: F {safe[0]:.3g} -> {safe[-1]:.3g}; step 2.2/lower^2: F -> {wild[-1]:.3g}"
)
assert np.all(np.diff(safe) <= 1e-12 * safe[0])  # monotone: the certified step
assert wild[-1] > 100 * wild[0]  # diverges: 2.2/‖A‖² > 2/‖A‖²

fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(safe, label="step 1/upper² (certified: never increases)")
ax.semilogy(wild, label="step 2.2/lower² (> 2/‖A‖²: diverges)")
ax.set_xlabel("iteration")
ax.set_ylabel("F(x) = ½‖Ax − y‖²")
ax.set_title("Gradient descent on a strided convolution: the step from the proven bound")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
save_figure(fig, "07_step_size.png")

# %% [markdown]
# `convops norm` does the same from the command line, and `benchmarks/norms.py` compares
# `norm_bounds` with the published methods on every ResNet-18 layer.
