# %% [markdown]
# # Tutorial 4: The frequency domain
#
# A question often asked by people building networks in the frequency domain: convolution
# is pointwise multiplication there; does the *transposed* convolution (Conv2DTranspose)
# have a frequency-domain equivalent?  Yes:
#
# * the convolution multiplies the spectrum by the kernel spectrum Ĥ;
# * the transposed convolution multiplies by its complex conjugate, conj(Ĥ);
# * with a stride, the convolution *folds* (aliases) the spectrum and the transposed
#   convolution *replicates* it before multiplying by conj(Ĥ).
#
# The catch is that the DFT computes *circular* convolution; zero-padding to N + K − 1
# makes it linear.  This tutorial checks each statement against numpy's FFT and dense
# matrices, and uses `convops.spectral` to stay in the frequency domain.
#
# Conventions (see `convops.kernel_spectrum`): X̂ = fft(x), and for the deep-learning
# convolution (cross-correlation) y[o] = Σ_t w[t]·x[(o + t) mod N] the multiplier is
#
#     Ĥ(f) = Σ_t w[t] · e^{+2πi f t / N}     (= conj(fft(w, N)) for a real kernel),
#
# so that Ŷ = Ĥ · X̂.  For the flipped (signal-processing) convolution it is fft(w, N).

# %% setup
import matplotlib.pyplot as plt
import numpy as np
import scipy.signal

import convops
from convops import plotting, spectral
from convops.tutorials import output_dir, save_figure

OUT = output_dir()
rng = np.random.default_rng(4)
fft, ifft = np.fft.fft, np.fft.ifft

# %% [markdown]
# ## Convolution multiplies by Ĥ, the transposed convolution by conj(Ĥ)
#
# On a circular grid of N points (boundary "circular", padding (0, K − 1), so that
# y[o] = Σ_t w[t]·x[(o + t) mod N] exactly), compare the FFT of the outputs with the
# products of spectra.  The reference convolution is a sum of `np.roll`s.

# %% 1D, real and complex kernels
N = 16
for w in (np.array([1.0, 2.0, 0.5, -1.0]), rng.standard_normal(4) + 1j * rng.standard_normal(4)):
    K = len(w)
    H = convops.kernel_spectrum(w, (N,))
    f = np.arange(N)
    H_ref = np.exp(2j * np.pi * np.outer(f, np.arange(K)) / N) @ w  # the definition
    assert np.allclose(H, H_ref)
    op = convops.ConvOperator(w, (N,), boundary="circular", padding=(0, K - 1))
    x = rng.standard_normal(N) + (1j * rng.standard_normal(N) if np.iscomplexobj(w) else 0)
    y = rng.standard_normal(N) + (1j * rng.standard_normal(N) if np.iscomplexobj(w) else 0)
    Cx = sum(w[t] * np.roll(x, -t) for t in range(K))  # y[o] = Σ w[t] x[o+t]
    assert np.allclose(op.apply(x), Cx)
    assert np.allclose(fft(Cx), H * fft(x))  # convolution: × Ĥ
    CHy = op.H.apply(y)
    assert np.allclose(fft(CHy), np.conj(H) * fft(y))  # transposed: × conj(Ĥ)
    assert np.allclose(CHy, op.toarray().conj().T @ y)  # ...which is the adjoint
    # the spectrum-in, spectrum-out functions give the same without leaving the frequency domain
    assert np.allclose(spectral.circular_conv_spectrum(fft(x), w), fft(Cx))
    assert np.allclose(spectral.circular_conv_transpose_spectrum(fft(y), w), fft(CHy))
    kind = "complex" if np.iscomplexobj(w) else "real"
    wrong = np.max(np.abs(ifft(H * fft(y)) - CHy))
    print(
        f"{kind} kernel: fft(Cx) = Ĥ·fft(x) and fft(C*y) = conj(Ĥ)·fft(y) hold; "
        f"multiplying by Ĥ instead of conj(Ĥ) would be off by {wrong:.2f}"
    )
    assert wrong > 0.1

# the same in 2D (a 3×3 kernel on an 8×6 circular grid)
w2 = rng.standard_normal((3, 3))
x2, y2 = rng.standard_normal((8, 6)), rng.standard_normal((8, 6))
op2 = convops.ConvOperator(w2, (8, 6), boundary="circular", padding=((0, 2), (0, 2)))
H2 = convops.kernel_spectrum(w2, (8, 6))
assert np.allclose(np.fft.fft2(op2.apply(x2)), H2 * np.fft.fft2(x2))
assert np.allclose(np.fft.fft2(op2.H.apply(y2)), np.conj(H2) * np.fft.fft2(y2))
print("2D: fft2(Cx) = Ĥ·fft2(x) and fft2(C*y) = conj(Ĥ)·fft2(y) hold")

# %% plot the spectra of a kernel and of its transposed convolution
# an asymmetric kernel, so that the phase is visible
edge = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 1.0], [-1.0, -2.0, -1.0]])
fig, axes = plt.subplots(2, 2, figsize=(11, 9), layout="constrained")
plotting.plot_spectrum(edge, (32, 32), ax=axes[0])  # top: Ĥ (convolution)
plotting.plot_spectrum(edge, (32, 32), ax=axes[1], conjugate=True)  # bottom: conj(Ĥ) (transposed)
fig.suptitle(
    "Top: Ĥ, the convolution's multiplier.  Bottom: conj(Ĥ), the transposed convolution's "
    "(same magnitude, negated phase)"
)
save_figure(fig, "04_spectra.png")
He = convops.kernel_spectrum(edge, (32, 32))
assert np.allclose(np.abs(He), np.abs(np.conj(He))) and np.allclose(
    np.angle(np.conj(He)), -np.angle(He)
)

# %% [markdown]
# ## Circular vs linear: zero-pad to N + K − 1
#
# The DFT of length L multiplies *periodic* signals: the product of two spectra is the
# circular convolution, in which the end of the signal wraps around onto its start.
# The linear ("full") convolution of x (length N) with w (length K) has N + K − 1
# entries, so on any grid L ≥ N + K − 1 nothing wraps and the two agree; on a shorter
# grid the first entries are corrupted by the wrapped-around tail.  (convops' FFT
# realisation picks such a grid by itself: `op.geometry.fft_shape`.)

# %% circular vs linear
N, K = 16, 5
x = np.r_[np.zeros(3), np.linspace(0, 1, 7), np.ones(6)] + 0.1 * rng.standard_normal(N)
w = np.array([1.0, 0.5, 0.25, -0.5, 1.0])
linear = scipy.signal.convolve(x, w, mode="full")  # length N + K − 1 = 20
assert len(linear) == N + K - 1


def circular(L):
    """Circular convolution on a grid of L points via the FFT (x and w zero-padded to L)."""
    return np.real(ifft(fft(x, L) * fft(w, L)))


errors = {}
for L in (16, 18, 19, 20, 24, 32):
    c = circular(L)
    n = min(L, N + K - 1)
    # compare where both exist; beyond L the circular result has no entries at all
    errors[L] = (
        np.max(np.abs(c[:n] - linear[:n])) if L >= N + K - 1 else np.max(np.abs(c - linear[:L]))
    )
    print(
        f"  grid L = {L:>2}: max |circular − linear| = {errors[L]:.2e}"
        + ("  (wraps around)" if L < N + K - 1 else "")
    )
    if L >= N + K - 1:
        assert errors[L] < 1e-12
        assert np.allclose(c[N + K - 1 :], 0)  # the extra grid points stay empty
    else:
        assert errors[L] > 0.05
# convops: flip=True is the signal-processing convolution, padding="full" the full length
opf = convops.ConvOperator(w, (N,), padding="full", flip=True, method="fft")
assert np.allclose(opf.apply(x), linear)
assert opf.geometry.fft_shape[0] >= N + K - 1
print(
    f"convops' FFT grid for this operator: {opf.geometry.fft_shape[0]} >= N + K − 1 = {N + K - 1}"
)

fig, ax = plt.subplots(figsize=(10, 4.2), layout="constrained")
ax.plot(linear, "o-", color="black", label="linear ('full'), length N + K − 1 = 20")
ax.plot(circular(16), "s--", color="tab:red", label="circular on L = N = 16 (wraps)")
ax.plot(circular(20), "x", color="tab:blue", markersize=9, label="circular on L = 20 (zero-padded)")
ax.axvspan(-0.5, K - 1.5, color="tab:red", alpha=0.1, label="wrapped-around tail (first K − 1)")
ax.set_xlabel("output index")
ax.set_xticks(range(0, N + K - 1, 2))
ax.set_ylabel("value")
ax.set_title("The DFT convolves circularly: zero-pad to N + K − 1 for the linear result")
ax.legend(loc="lower center", fontsize=9)
ax.grid(alpha=0.3)
save_figure(fig, "04_circular_vs_linear.png")

# %% [markdown]
# ## The DFT diagonalises circular convolutions
#
# With circular boundaries the matrix is *circulant* (1D) or *block circulant with
# circulant blocks* (2D): each row is the previous one shifted cyclically.  The DFT
# matrix F (F x = fft(x)) diagonalises every such matrix: F A F⁻¹ = diag(Ĥ).  In 2D the
# DFT matrix of a C-ordered image is the Kronecker product F₀ ⊗ F₁.  With zero padding
# the matrix is only Toeplitz, and the DFT does not diagonalise it.
#
# Consequently the singular values are |Ĥ(f)| (per frequency, the singular values of
# the C_out × C_in block Ĥ(f) for channels: Sedghi, Gupta & Long, 2019), which is what
# `convops.singular_values` returns; checked against numpy's dense SVD.


# %% F A F⁻¹ is diagonal
def dft_matrix(n):
    return fft(np.eye(n), axis=0)


def off_diagonal_ratio(M):
    return np.abs(M - np.diag(np.diag(M))).max() / np.abs(M).max()


w1 = np.array([1.0, 2.0, 0.5, -1.0])
A1 = convops.ConvOperator(w1, (16,), boundary="circular", padding=(0, 3)).toarray()
F1 = dft_matrix(16)
D1 = F1 @ A1 @ np.linalg.inv(F1)
assert off_diagonal_ratio(D1) < 1e-12
assert np.allclose(np.diag(D1), convops.kernel_spectrum(w1, (16,)))

shape = (6, 5)
wb = rng.standard_normal((3, 3))
A2 = convops.ConvOperator(wb, shape, boundary="circular", padding=1).toarray()
F2 = np.kron(dft_matrix(6), dft_matrix(5))
D2 = F2 @ A2 @ np.linalg.inv(F2)
A2_zeros = convops.ConvOperator(wb, shape, padding=1).toarray()
D2_zeros = F2 @ A2_zeros @ np.linalg.inv(F2)
print(
    f"off-diagonal / max of F A F⁻¹: 1D circular {off_diagonal_ratio(D1):.1e}, "
    f"2D circular {off_diagonal_ratio(D2):.1e}, 2D zero padding {off_diagonal_ratio(D2_zeros):.2f}"
)
assert off_diagonal_ratio(D2) < 1e-12
assert off_diagonal_ratio(D2_zeros) > 0.05

# singular values: exact from the spectrum, versus a dense SVD
op_c = convops.ConvOperator(wb, shape, boundary="circular", padding=1)
sv = convops.singular_values(op_c)
assert np.allclose(sv, np.linalg.svd(A2, compute_uv=False))
assert np.allclose(sv, np.sort(np.abs(np.diag(D2)))[::-1])
wmc = rng.standard_normal((3, 2, 3, 3))  # 2 -> 3 channels
op_mc = convops.ConvOperator(wmc, (2,) + shape, boundary="circular", padding=1)
assert np.allclose(convops.singular_values(op_mc), np.linalg.svd(op_mc.toarray(), compute_uv=False))
assert np.isclose(convops.operator_norm(op_mc), np.linalg.norm(op_mc.toarray(), 2))
print(
    f"singular values from the spectrum = dense SVD (single channel: 30 values; 2->3 channels: "
    f"{len(convops.singular_values(op_mc))} values); ||A|| = {convops.operator_norm(op_mc):.4f}"
)

fig, axes = plt.subplots(1, 3, figsize=(15, 5), layout="constrained")
for ax, M, title in [
    (axes[0], A2, "A: circular 3×3 on 6×5 (BCCB)"),
    (axes[1], D2, "|F A F⁻¹|: diagonal = |Ĥ|"),
    (axes[2], D2_zeros, "|F A F⁻¹| with zero padding: not diagonal"),
]:
    im = ax.imshow(np.abs(M), cmap="magma")
    ax.set_title(title)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    fig.colorbar(im, ax=ax, shrink=0.8)
save_figure(fig, "04_dft_diagonalises.png")

# %% [markdown]
# ## Strides: folding and replication
#
# Subsampling by s, y[o] = z[o·s] on a grid N = s·M, *folds* the spectrum: the s copies
# Ẑ(f), Ẑ(f + M), ..., Ẑ(f + (s − 1)M) are added (and divided by s),
#
#     Ŷ(f) = (1/s) Σ_r Ẑ(f + rM),   0 ≤ f < M.
#
# Frequencies above the new Nyquist limit M/2 land on lower ones: aliasing.  Zero
# insertion u[o·s] = y[o] does the opposite: it *replicates* the spectrum,
# Û(f) = Ŷ(f mod M) for 0 ≤ f < N.  So the strided convolution is Ŷ = fold(Ĥ·X̂), and
# its transpose is X̂ = conj(Ĥ)·tile(Ŷ): the frequency-domain Conv2DTranspose asked for above.

# %% strided convolution folds, transposed replicates
N, s = 32, 2
M = N // s
w = np.array([1.0, 2.0, 0.5, -1.0])
H = convops.kernel_spectrum(w, (N,))
ops = convops.ConvOperator(w, (N,), stride=s, boundary="circular", padding=(0, len(w) - 1))
x = rng.standard_normal(N)
y = ops.apply(x)
Z = H * fft(x)
Y_folded = Z.reshape(s, M).sum(axis=0) / s  # alias sum, by hand
assert y.shape == (M,)
assert np.allclose(fft(y), Y_folded)
assert np.allclose(spectral.strided_conv_spectrum(fft(x), w, s), fft(y))

v = rng.standard_normal(M)
xt = ops.H.apply(v)
assert np.allclose(fft(xt), np.conj(H) * np.tile(fft(v), s))  # replicate, then × conj(Ĥ)
assert np.allclose(spectral.strided_conv_transpose_spectrum(fft(v), w, s), fft(xt))
assert np.allclose(xt, ops.toarray().T @ v)
print("stride 2: fft(y) = fold(Ĥ·fft(x)) and fft(C*v) = conj(Ĥ)·tile(fft(v)) hold")

# aliasing: a cosine at frequency 13 (of 32) survives subsampling by 2 as frequency 16 − 13 = 3
n = np.arange(N)
tone = np.cos(2 * np.pi * 13 * n / N)
sub = convops.conv(tone, np.array([1.0]), stride=2)  # the identity kernel: pure subsampling
peak = int(np.argmax(np.abs(fft(sub))[: M // 2 + 1]))
print(f"a cosine at frequency 13/32 after stride 2 shows up at frequency {peak}/16")
assert peak == 3

fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
axes[0].bar(np.arange(M), np.abs(Z[:M]), color="tab:blue", label="0 ≤ f < 16")
axes[0].bar(np.arange(M, N), np.abs(Z[M:]), color="tab:orange", label="16 ≤ f < 32 (will alias)")
axes[0].set_title("|Ẑ| = |Ĥ·X̂| on N = 32, before subsampling")
axes[1].bar(np.arange(M) - 0.2, np.abs(Z[:M]) / s, width=0.4, color="tab:blue", label="|Ẑ(f)| / 2")
axes[1].bar(
    np.arange(M) + 0.2, np.abs(Z[M:]) / s, width=0.4, color="tab:orange", label="|Ẑ(f + 16)| / 2"
)
axes[1].plot(np.arange(M), np.abs(fft(y)), "k.-", label="|Ŷ(f)|, the stride-2 output")
axes[1].set_title("folding: Ŷ(f) = (Ẑ(f) + Ẑ(f + 16)) / 2 (complex sum)")
axes[2].bar(
    np.arange(N),
    np.abs(np.tile(fft(v), s)),
    color="tab:green",
    label="|V̂(f mod 16)|: zero insertion",
)
axes[2].plot(np.arange(N), np.abs(fft(xt)), "k.-", label="|conj(Ĥ)·V̂(f mod 16)| = |fft(C*v)|")
axes[2].set_title("replication: transposed stride-2 convolution, N = 32")
for ax in axes:
    ax.set_xlabel("frequency index f")
    ax.legend(fontsize=8, loc="upper center")
    ax.grid(alpha=0.3)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the legend
axes[0].set_ylabel("magnitude")
save_figure(fig, "04_folding_replication.png")

fig = plotting.plot_spectrum(w, (N,), stride=s)  # the same story for the kernel alone
save_figure(fig, "04_spectrum_stride2.png")

# %% [markdown]
# ## The whole chain: A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P
#
# For any boundary, padding, stride and dilation, convops' FFT realisation is a product
# of simple factors: boundary padding P, zero-padding Z to the FFT grid, the DFT F,
# the multiplier diag(Ĥ), the inverse DFT, a crop C and the subsampling S.  The adjoint
# is the reverse chain with conj(Ĥ), zero insertion Sᵀ and the folding Pᵀ.  `op.factors()`
# returns the chain; its product is checked against a dense matrix built from scipy.

# %% the factor chain
wf = rng.standard_normal((3, 3))
opf = convops.ConvOperator(wf, (6, 7), stride=2, padding=1)
chain = opf.factors()
print(repr(chain))
print(repr(opf.H.factors()))


def reference_matrix(kernel, shape, stride, pad):
    """Dense matrix from scipy: each column is the strided 'valid' correlation of a padded basis image."""
    cols = []
    for j in range(int(np.prod(shape))):
        e = np.zeros(int(np.prod(shape)))
        e[j] = 1.0
        img = np.pad(e.reshape(shape), pad)
        cols.append(scipy.signal.correlate2d(img, kernel, mode="valid")[::stride, ::stride].ravel())
    return np.array(cols).T


R = reference_matrix(wf, (6, 7), 2, 1)
assert np.allclose(chain.matrix(), R)
assert np.allclose(opf.H.factors().matrix(), R.T)
assert str(chain) == "A = S · C · F⁻¹ · diag(Ĥ) · F · Z · P"
print("the product of the factors equals the scipy reference matrix, forward and adjoint")

# %% [markdown]
# Next: tutorial 5 puts the operators to work: gradients, step sizes from ‖C‖, and
# deblurring with scipy's iterative solvers.
