# %% [markdown]
# # Tutorial 1: Convolution as a matrix
#
# A convolution layer without bias is a *linear map*: it takes an image x to an image y,
# and doubling x doubles y.  So once x and y are flattened into vectors, the layer is a
# matrix A with y = A x.  This tutorial prints that matrix for the example of the
# transposed-convolution literature (the 3×3 kernel with the values 1..9 on a 4×4 image),
# its transpose, and the products
# A·Aᵀ and Aᵀ·A; then it shows the structure hiding in A (Toeplitz, then block Toeplitz
# with Toeplitz blocks) and how padding, stride and dilation change it.
#
# Convention: like PyTorch, "convolution" here is cross-correlation,
#
#     y[o] = Σ_t w[t] · x[o + t]        (no kernel flip; flip=True gives the flipped one)
#
# and images are flattened row by row (C order): x[0,0], x[0,1], ..., x[3,3].
#
# Run this file as a script (`python t01_convolution_as_a_matrix.py --out DIR`) or open it
# as a notebook (VS Code, or `jupytext --to notebook`).  Every claim below is an `assert`.

# %% setup
import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg
import scipy.signal

import convops
from convops.plotting import plot_matrix
from convops.text import format_matrix
from convops.tutorials import output_dir, save_figure

OUT = output_dir()
rng = np.random.default_rng(1)

# %% [markdown]
# ## The 4×16 matrix and its 16×4 transpose
#
# The kernel fits on a 4×4 image in 2×2 positions, so y has 4 entries and A is 4×16.
# Row o of A is the kernel laid onto the image at output position o, flattened: the
# zeros between 3 and 4 and between 6 and 7 are the image's 4th column, which the kernel
# does not cover.  These are the matrices as the literature prints them for this example,
# typed in by hand here, so that convops is checked against numbers it did not compute.

# %% the printed numbers, typed in
PRINTED_A = np.array(
    [
        [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
        [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0],
        [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9],
    ]
)
# fmt: off
PRINTED_B = np.array([  # the transposed convolution, R^(2x2) -> R^(4x4)
    [1, 0, 0, 0], [2, 1, 0, 0], [3, 2, 0, 0], [0, 3, 0, 0],
    [4, 0, 1, 0], [5, 4, 2, 1], [6, 5, 3, 2], [0, 6, 0, 3],
    [7, 0, 4, 0], [8, 7, 5, 4], [9, 8, 6, 5], [0, 9, 0, 6],
    [0, 0, 7, 0], [0, 0, 8, 7], [0, 0, 9, 8], [0, 0, 0, 9],
])
# fmt: on
PRINTED_AB = np.array(
    [
        [285, 186, 154, 94],
        [186, 285, 106, 154],
        [154, 106, 285, 186],
        [94, 154, 186, 285],
    ]
)
PRINTED_BA_ROWS = {  # the rows of B·A that are usually printed (the others elided)
    0: [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
    1: [2, 5, 8, 3, 8, 14, 17, 6, 14, 23, 26, 9, 0, 0, 0, 0],
    2: [3, 8, 13, 6, 12, 23, 28, 12, 21, 38, 43, 18, 0, 0, 0, 0],
    13: [0, 0, 0, 0, 8, 23, 38, 21, 32, 68, 83, 42, 56, 113, 128, 63],
    14: [0, 0, 0, 0, 9, 26, 43, 24, 36, 77, 94, 48, 63, 128, 145, 72],
    15: [0, 0, 0, 0, 0, 9, 18, 27, 0, 36, 45, 54, 0, 63, 72, 81],
}

# %% build A and B = Aᵀ with convops, compare with the printed numbers
kernel = np.arange(1, 10).reshape(3, 3)
A = convops.conv_matrix(kernel, (4, 4)).toarray()
B = convops.conv_transpose_matrix(kernel, (4, 4)).toarray()
print("convolution A (4 x 16):")
print(format_matrix(A))
print("\ntransposed convolution B = Aᵀ (16 x 4):")
print(format_matrix(B))
assert np.array_equal(A, PRINTED_A), "A differs from the printed matrix"
assert np.array_equal(B, PRINTED_B), "Aᵀ differs from the printed matrix"

# The matrix really is the convolution: A x equals scipy's 'valid' cross-correlation.
x = rng.standard_normal((4, 4))
assert np.allclose(A @ x.ravel(), scipy.signal.correlate2d(x, kernel, mode="valid").ravel())
# ...and the operator form (no matrix stored) computes the same thing.
op = convops.ConvOperator(kernel, (4, 4))
assert np.allclose(op @ x.ravel(), A @ x.ravel())
print("\nA x == scipy.signal.correlate2d(x, kernel, 'valid') for a random x: yes")

# %% [markdown]
# ## A·Aᵀ and Aᵀ·A are not the identity
#
# The transposed convolution is *not* the inverse of the convolution.  A·Aᵀ (4×4) is
# symmetric with Σ w² = 285 on the diagonal, and Aᵀ·A (16×16) has rank at most 4: it
# cannot be the 16×16 identity.  (The inverse does not even exist; A has more columns
# than rows.  The pseudo-inverse Aᵀ(A·Aᵀ)⁻¹ is a right inverse.)

# %% products
AAt = A @ A.T
AtA = A.T @ A
print("A·Aᵀ =")
print(format_matrix(AAt))
print("\nAᵀ·A = (16 x 16; usually printed with only rows 1-3 and 14-16)")
print(format_matrix(AtA))
assert np.array_equal(AAt, PRINTED_AB)
for row, values in PRINTED_BA_ROWS.items():
    assert np.array_equal(AtA[row], values), f"row {row} of AᵀA differs from the printed one"
assert AAt[0, 0] == np.sum(kernel**2) == 285
assert not np.array_equal(AAt, np.eye(4)) and not np.array_equal(AtA, np.eye(16))
assert np.linalg.matrix_rank(AtA) == 4
y = rng.standard_normal(4)
assert not np.allclose(A @ (B @ y), y)  # conv after transposed conv does not give y back
right_inverse = A.T @ np.linalg.inv(AAt)
assert np.allclose(A @ right_inverse, np.eye(4))
print("\nrank(AᵀA) =", np.linalg.matrix_rank(AtA), "-> not invertible; A·(Aᵀ(AAᵀ)⁻¹) = I")

# %% heatmaps of A and Aᵀ
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [3, 1.4]})
plot_matrix(op, ax=ax1)
ax1.set_title("A: 3×3 kernel on a 4×4 image (4 × 16)")
plot_matrix(op.H, ax=ax2)
ax2.set_title("Aᵀ: transposed convolution (16 × 4)")
save_figure(fig, "01_matrix_A_and_transpose.png")

# %% [markdown]
# ## Toeplitz, then block Toeplitz with Toeplitz blocks
#
# In 1D, A[o, i] = w[i − o]: every diagonal is constant, so A is a *Toeplitz* matrix.
# In 2D, group the rows by output row and the columns by input row: the block in block
# row o₀ and block column i₀ is the 1D Toeplitz matrix of kernel row i₀ − o₀.  The
# blocks themselves repeat along diagonals: A is *block Toeplitz with Toeplitz blocks*
# (BTTB).  In formulas, with S_r the shift matrix that has ones at (o, o + r),
#
#     A = Σ_r  S_r ⊗ T(w[r, :])        (⊗ = Kronecker product)
#
# which is checked below by building the right-hand side with scipy.linalg.toeplitz.

# %% 1D: Toeplitz
w1 = np.array([1, 2, 3])
A1 = convops.conv_matrix(w1, (6,)).toarray()
T = scipy.linalg.toeplitz(c=[1, 0, 0, 0], r=[1, 2, 3, 0, 0, 0])
print("1D kernel [1 2 3] on 6 samples (4 x 6):")
print(format_matrix(A1))
assert np.array_equal(A1, T)


# %% 2D: block Toeplitz with Toeplitz blocks, on a 5×5 image
def toeplitz_1d(row, n):
    """The valid cross-correlation of one kernel row with a length-n signal, via scipy."""
    k = len(row)
    return scipy.linalg.toeplitz(c=np.r_[row[0], np.zeros(n - k)], r=np.r_[row, np.zeros(n - k)])


n = 5
m = n - 3 + 1
A5 = convops.conv_matrix(kernel, (n, n)).toarray()
bttb = sum(np.kron(np.eye(m, n, k=r), toeplitz_1d(kernel[r], n)) for r in range(3))
assert A5.shape == (9, 25)
assert np.array_equal(A5, bttb)
print(
    f"3×3 kernel on a {n}×{n} image: A is {A5.shape[0]} x {A5.shape[1]} "
    f"= {m}x{n} blocks of size {m}x{n}, block (o0, i0) = T(kernel row i0 - o0)"
)

fig, ax = plt.subplots(figsize=(13, 5.5))
plot_matrix(convops.ConvOperator(kernel, (n, n)), ax=ax)
ax.set_title("3×3 kernel on a 5×5 image: 3×5 blocks (lines), each block a 3×5 Toeplitz matrix")
save_figure(fig, "01_block_toeplitz_5x5.png")

# %% [markdown]
# ## Padding, stride and dilation
#
# Per axis, with input size n, kernel size k, padding (lo, hi), stride s and dilation d,
#
#     m = ⌊(n + lo + hi − d·(k − 1) − 1) / s⌋ + 1,
#
# and A has m₀·m₁ rows and n₀·n₁ columns.
#
# * **padding** adds rows: the kernel may hang over the border, where it reads zeros, so
#   those rows have fewer nonzeros (padding=1 gives a square 16×16 matrix, "same" size);
# * **stride** s keeps every s-th row of the stride-1 matrix;
# * **dilation** d spreads the taps apart: d − 1 zeros between kernel entries in each row.
#
# Each variant is checked against a brute-force reference written with numpy and scipy
# only: pad, correlate with the dilated kernel ('valid'), keep every s-th output.


# %% shapes and contents of the variants
def output_size(n, k, lo, hi, s, d):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def reference_conv(x, w, pad, stride, dilation):
    """Brute-force reference: zero-pad, dilate the kernel by zero insertion, correlate, subsample."""
    wd = np.zeros(((w.shape[0] - 1) * dilation + 1,) * 2)
    wd[::dilation, ::dilation] = w
    xp = np.pad(x, pad)
    return scipy.signal.correlate2d(xp, wd, mode="valid")[::stride, ::stride]


variants = {
    "valid (4×4 example)": dict(n=4, padding=0, stride=1, dilation=1),
    "padding=1": dict(n=4, padding=1, stride=1, dilation=1),
    "padding=1, stride=2": dict(n=4, padding=1, stride=2, dilation=1),
    "dilation=2 on 6×6": dict(n=6, padding=0, stride=1, dilation=2),
}
# one row per variant, heights following the number of matrix rows (plus room for labels)
fig, axes = plt.subplots(4, 1, figsize=(12, 17), gridspec_kw={"height_ratios": [6.5, 16, 6.5, 5]})
print(f"{'variant':<22} {'output':>8} {'matrix':>9} {'nonzeros':>9}")
for ax, (label, v) in zip(axes.ravel(), variants.items(), strict=True):
    n_, p, s, d = v["n"], v["padding"], v["stride"], v["dilation"]
    opv = convops.ConvOperator(kernel, (n_, n_), padding=p, stride=s, dilation=d)
    Av = opv.matrix().toarray()
    mv = output_size(n_, 3, p, p, s, d)
    assert opv.output_shape == (mv, mv)
    assert Av.shape == (mv * mv, n_ * n_)
    xv = rng.standard_normal((n_, n_))
    assert np.allclose(Av @ xv.ravel(), reference_conv(xv, kernel, p, s, d).ravel())
    print(
        f"{label:<22} {f'{mv}x{mv}':>8} {f'{Av.shape[0]}x{Av.shape[1]}':>9} {np.count_nonzero(Av):>9}"
    )
    plot_matrix(opv, ax=ax)
    ax.set_title(f"{label}: {n_}×{n_} → {mv}×{mv}, A is {Av.shape[0]} × {Av.shape[1]}")
fig.tight_layout()
save_figure(fig, "01_padding_stride_dilation.png")

# Stride keeps every s-th row of the stride-1 matrix (rows (0,0), (0,2), (2,0), (2,2) of 4×4):
A_pad = convops.conv_matrix(kernel, (4, 4), padding=1).toarray()
A_pad_s2 = convops.conv_matrix(kernel, (4, 4), padding=1, stride=2).toarray()
keep = np.ravel_multi_index(np.meshgrid([0, 2], [0, 2], indexing="ij"), (4, 4)).ravel()
assert np.array_equal(A_pad_s2, A_pad[keep])
print("\nstride 2 = rows", keep.tolist(), "of the padded stride-1 matrix")

# %% [markdown]
# ## Explore it: follow one number
#
# `convops.plotting.explore` puts the padded input, the output, the matrix and the kernel
# spectrum in one figure and links them.  Point (hover, or click to pin) at an output entry
# y[o]: its row of A lights up, with the input entries it reads (the kernel's footprint on
# the padded input, the weights in the corners) and its sum written out.  Point at an input
# entry: its column, and the outputs it reaches, which is where the transposed convolution
# scatters it.  Point at a matrix entry: the (output, input, kernel tap) it stands for.  A
# switch flips to Aᵀ; the controls change the sizes, stride, padding, dilation and boundary.
# Try it in a window,
#
#     convops explore --input 4x4 --kernel 3x3        # then type --stride 2, padding 1 … in it
#
# or in a notebook: `pip install 'convops[interactive]'`, `%matplotlib widget`, then
# `convops.plotting.explore(op)`.  Without a mouse (as here) the figure is the static picture;
# below it points at y[0,1], whose row is row 1 of the printed A.

# %% the explorer, pointing at y[0,1]
from convops.plotting import explore

x_small = np.arange(16).reshape(4, 4) % 4  # the input shown in the picture
ex = explore(op, data=x_small)
column = ex.point_input((1, 2))  # x[1,2] is column 6 of A
assert column.columns == (6,)
assert column.rows == tuple(np.flatnonzero(PRINTED_A[:, 6]))  # the outputs that read it
row = ex.point_output((0, 1))  # y[0,1] is row 1 of A
assert row.rows == (1,)
assert row.columns == tuple(np.flatnonzero(PRINTED_A[1]))  # the entries of x it reads
assert row.lines[-1].endswith(f"= {PRINTED_A[1] @ x_small.ravel()}")  # its sum, written out
print("pointing at y[0,1]:", row.lines[0])
print("   ", row.lines[1])
print("   ", row.lines[2])
save_figure(ex.figure, "01_explore.png")

# %% [markdown]
# ## On the command line
#
#     convops matrix --input 4x4 --kernel 3x3               # A, as printed above
#     convops matrix --input 4x4 --kernel 3x3 --transpose   # Aᵀ
#     convops matrix --input 4x4 --kernel 3x3 --padding 1 --stride 2 --labels
#
# Next: tutorial 2 shows that the transposed convolution is the adjoint, ⟨Ax, y⟩ = ⟨x, Aᵀy⟩,
# for any dimension, channels, stride and padding, and why complex kernels need a conjugate.
