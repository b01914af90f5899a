# %% [markdown]
# # Tutorial 6: Linear in the weights
#
# A convolution layer y = conv(x, w) is linear twice: in its input x (the map of
# tutorials 1–5, `ConvOperator`) and in its kernel w.  Training the layer, blind
# deconvolution and dictionary learning all need the second map,
#
#     A_x: w ↦ conv(x, w)      for a fixed input x,
#
# and its adjoint: the gradient of ½‖conv(x, w) − y‖² with respect to the weights is
# A_x*(conv(x, w) − y), the "weight gradient" of deep learning.  This tutorial builds A_x
# with `convops.KernelOperator`, looks at its matrix (the im2col or "unfold" matrix of x),
# checks the weight gradient against finite differences, and then turns to the transposed
# convolution of a *reflect*-padded layer, which PyTorch refuses to compute although it is
# perfectly well defined: it folds the padded border back onto the image.

# %% setup
import matplotlib.pyplot as plt
import numpy as np
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

import convops
from convops.plotting import plot_matrix
from convops.testing import dot_test
from convops.tutorials import output_dir, save_figure

OUT = output_dir()
rng = np.random.default_rng(7)

# %% [markdown]
# ## The layer as a map of its weights
#
# `KernelOperator(x, kernel_shape, ...)` takes the same geometry parameters as
# `ConvOperator` (stride, padding, dilation, groups, boundary, flip).  Applied to a
# kernel it computes exactly what `ConvOperator(kernel, x.shape, ...)` computes applied
# to x — the same numbers, seen from the other argument.  Below, a 3 → 4 channel layer
# with stride 2 on a batch of two images, checked against scipy.signal.correlate.

# %% the same convolution, from either side
x = rng.standard_normal((2, 3, 12, 10))  # (N, C_in, H, W): the batch stacks the outputs
w = rng.standard_normal((4, 3, 3, 3))  # (C_out, C_in, kH, kW)
K = convops.KernelOperator(x, w.shape, stride=2, padding=1)
C = convops.ConvOperator(w, x.shape[1:], stride=2, padding=1)
print(
    f"A_x = KernelOperator: {K.shape[0]} x {K.shape[1]}, input {K.input_shape} -> output {K.output_shape}"
)
print(
    f"ConvOperator:        {C.shape[0]} x {C.shape[1]}, input {C.input_shape} -> output {C.output_shape}"
)
assert np.allclose(K.apply(w), C.apply(x))
# the reference: scipy's correlation of the zero-padded images, summed over input channels
xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
ref = np.array(
    [
        [
            sum(scipy.signal.correlate(xp[b, i], w[o, i], mode="valid") for i in range(3))
            for o in range(4)
        ]
        for b in range(2)
    ]
)[..., ::2, ::2]
assert np.allclose(K.apply(w), ref)
dot_test(K)  # <A_x w, y> = <w, A_x* y>
print("KernelOperator(x) @ w == ConvOperator(w) @ x == scipy.signal.correlate; dot test passed")

# %% [markdown]
# ## Its matrix is the im2col matrix of x
#
# Row o of A_x's matrix holds the patch of (padded) x that output o reads, in the
# columns of the kernel entries: y[o] = Σ_t w[t]·x[o + t] is the dot product of that
# row with the flattened kernel.  This is the "im2col" (or "unfold") matrix that deep
# learning frameworks build to turn a convolution into one matrix product — here it is
# simply the operator's `matrix()`.  On a 5×5 image with a 3×3 kernel there are 9
# outputs, so 9 rows, each a 3×3 patch.

# %% the im2col matrix, drawn
img = np.arange(1, 26).reshape(5, 5)
K5 = convops.KernelOperator(img, (3, 3))
M = K5.matrix().toarray()
patches = sliding_window_view(img, (3, 3)).reshape(9, 9)  # numpy's own sliding window
assert np.array_equal(M, patches)
print("row 0 (the top-left patch):", M[0].astype(int).tolist())
print("row 4 (the centre patch):  ", M[4].astype(int).tolist())

fig, (ax_img, ax_mat) = plt.subplots(1, 2, figsize=(10.5, 4.6), width_ratios=[1, 1.6])
ax_img.imshow(img, cmap="Blues", vmin=0, vmax=30)
for (i, j), v in np.ndenumerate(img):
    ax_img.text(j, i, str(v), ha="center", va="center", fontsize=10)
for r, colour in ((0, "tab:red"), (4, "tab:green")):  # the patches of rows 0 and 4
    i, j = divmod(r, 3)
    ax_img.add_patch(
        plt.Rectangle((j - 0.5, i - 0.5), 3, 3, fill=False, edgecolor=colour, linewidth=2.5)
    )
ax_img.set_title("x (5×5): the patches of outputs 0 (red) and 4 (green)", fontsize=10)
ax_img.set_xticks([])
ax_img.set_yticks([])
plot_matrix(K5, ax=ax_mat, colorbar=False)
for r, colour in ((0, "tab:red"), (4, "tab:green")):
    ax_mat.add_patch(
        plt.Rectangle((-0.5, r - 0.5), 9, 1, fill=False, edgecolor=colour, linewidth=2.5)
    )
fig.tight_layout()
save_figure(fig, "06_im2col_matrix.png")

# %% [markdown]
# ## The weight gradient is the adjoint
#
# For L(w) = ½‖conv(x, w) − y‖², ∇L(w) = A_x*(A_x w − y): the adjoint correlates the input
# with the residual (summed over the batch),
#
#     ∇L(w)[c_o, c_i, t] = Σ_b Σ_o x̃[b, c_i, o·s + t·d] · r[b, c_o, o].
#
# `convops.grad.conv2d_weight(x, w.shape, r, stride, padding)` is that adjoint with the
# signature of `torch.nn.grad.conv2d_weight`.  Check it against central differences of L
# (L is quadratic, so they are exact up to rounding) on every one of the 108 weights.

# %% finite differences
y = rng.standard_normal(K.output_shape)


def loss(weights):
    return 0.5 * np.sum((K.apply(weights) - y) ** 2)


residual = K.apply(w) - y
gradient = K.H.apply(residual)
assert np.allclose(gradient, convops.grad.conv2d_weight(x, w.shape, residual, 2, 1))
h = 1e-6
fd = np.zeros(w.size)
for j in range(w.size):
    e = np.zeros(w.size)
    e[j] = h
    fd[j] = (loss(w + e.reshape(w.shape)) - loss(w - e.reshape(w.shape))) / (2 * h)
err = np.abs(fd - gradient.ravel()).max() / np.abs(fd).max()
print(f"max relative difference, adjoint vs finite differences: {err:.1e} (108 weights)")
assert err < 1e-6
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the comparison with torch.nn.grad")
if torch is not None:
    theirs = torch.nn.grad.conv2d_weight(
        torch.from_numpy(x), w.shape, torch.from_numpy(residual), stride=2, padding=1
    ).numpy()
    assert np.allclose(gradient, theirs, atol=1e-10)
    print(f"torch.nn.grad.conv2d_weight agrees (PyTorch {torch.__version__})")

# %% [markdown]
# Because A_x is a scipy `LinearOperator`, learning a kernel from input/output pairs is a
# least-squares problem for any solver.  Below, a blurred 64×64 image pair with a little
# noise: `lsqr` recovers the 5×5 kernel that made it, without forming the matrix.

# %% recover a kernel with lsqr
from scipy.sparse.linalg import lsqr

x_img = rng.standard_normal((64, 64))
t = np.arange(-2, 3)
w_true = np.exp(-(t[:, None] ** 2 + 0.5 * t[None, :] ** 2) / 2.0)
w_true[2, 3:] += 0.8  # asymmetric
w_true /= w_true.sum()
A = convops.KernelOperator(x_img, (5, 5), padding=2, boundary="reflect")
y_obs = A.apply(w_true) + 1e-3 * rng.standard_normal(A.output_shape)
w_hat = lsqr(A, y_obs.ravel(), atol=1e-12, btol=1e-12)[0].reshape(5, 5)
rel = np.linalg.norm(w_hat - w_true) / np.linalg.norm(w_true)
print(f"lsqr on A_x ({A.shape[0]} x {A.shape[1]}): relative kernel error {rel:.1e}")
assert rel < 1e-2
# the normal equations, solved densely, give the same answer
w_ne = np.linalg.solve(A.toarray().T @ A.toarray(), A.toarray().T @ y_obs.ravel())
assert np.allclose(w_hat.ravel(), w_ne, atol=1e-8)

# %% [markdown]
# ## The transposed convolution of a reflect-padded layer
#
# A layer with `padding_mode="reflect"` pads its input by mirroring it before sliding the
# kernel: conv = C·P, where P copies x into a larger grid and fills the border with
# mirrored copies, and C is the plain ("valid") sliding window on that grid.  Its adjoint
# is therefore P ᵀ·C*: scatter every y[o]·w onto the *whole* padded grid (C*, nothing
# cropped), then P ᵀ adds each border entry back onto the entry it was copied from — the
# fold.  With zero padding P ᵀ is just the crop, which is what PyTorch's `padding` does to
# a transposed convolution; that is why PyTorch's `ConvTranspose2d` accepts only
# `padding_mode="zeros"` (pytorch#46027), and why convops' `conv_transpose2d(...,
# padding_mode=...)` can offer every mode: it is the exact adjoint of `conv2d` with the
# same mode.
#
# The picture: y = 1 everywhere (so each input pixel receives the sum of the kernel taps
# that touch it), a 5×5 kernel of ones, padding 2 on a 12×12 image.

# %% the fold at the border
n, p = 12, 2
wk = np.ones((1, 1, 5, 5))
y1 = np.ones((1, 1, n, n))  # "same" output size
scatter = convops.conv_transpose2d(y1, wk)[0, 0]  # C* onto the padded 16×16 grid
zeros = convops.conv_transpose2d(y1, wk, padding=p)[0, 0]
reflect = convops.conv_transpose2d(y1, wk, padding=p, padding_mode="reflect")[0, 0]
assert scatter.shape == (n + 2 * p,) * 2 and zeros.shape == reflect.shape == (n, n)
# P for reflect, probed from numpy's own np.pad; its transpose applied to the scatter
P = np.stack([np.pad(e.reshape(n, n), p, mode="reflect").ravel() for e in np.eye(n * n)], axis=1)
assert np.allclose(reflect.ravel(), P.T @ scatter.ravel())  # the fold, P ᵀ
assert np.allclose(zeros, scatter[p:-p, p:-p])  # zeros: the crop
# it is the adjoint of conv2d(padding_mode="reflect"): <conv(x), y> = <x, conv_transpose(y)>
xr = rng.standard_normal((1, 1, n, n))
yr = rng.standard_normal((1, 1, n, n))
lhs = np.vdot(yr, convops.conv2d(xr, wk, padding=p, padding_mode="reflect"))
rhs = np.vdot(convops.conv_transpose2d(yr, wk, padding=p, padding_mode="reflect"), xr)
assert np.isclose(lhs, rhs, rtol=1e-12)
# the fold only adds to the pixels the border copies: rows or columns 1..p from an edge
diff = reflect - zeros
copied = np.zeros(n, dtype=bool)
copied[1 : p + 1] = copied[n - 1 - p : n - 1] = True
assert (diff[~copied[:, None] & ~copied[None, :]] == 0).all()
assert (diff[copied[:, None] | copied[None, :]] > 0).all()
assert diff[0, 0] == 0  # the corner: in neither a copied row nor a copied column
assert diff[1, 1] == diff.max()  # one row and one column of copies, both the nearest
print(
    f"interior pixel: {zeros[n // 2, n // 2]:.0f} (all 25 taps); corner pixel: zeros {zeros[0, 0]:.0f}, reflect {reflect[0, 0]:.0f}"
)
print("reflect − zeros on the first row:", diff[0].astype(int).tolist())
print("reflect − zeros on the second row:", diff[1].astype(int).tolist())
if torch is not None:
    try:
        torch.nn.ConvTranspose2d(1, 1, 5, padding=p, padding_mode="reflect")
        refused = False
    except ValueError as exc:
        refused = 'Only "zeros" padding mode' in str(exc)
        print(f"PyTorch: ValueError: {exc}")
    assert refused
    # ... yet autograd through F.pad(mode="reflect") computes exactly this adjoint
    tx = torch.tensor(xr, requires_grad=True)
    out = torch.nn.functional.conv2d(
        torch.nn.functional.pad(tx, (p,) * 4, mode="reflect"), torch.from_numpy(wk)
    )
    (auto,) = torch.autograd.grad(out, tx, torch.from_numpy(yr))
    assert np.allclose(
        auto.numpy(), convops.conv_transpose2d(yr, wk, padding=p, padding_mode="reflect")
    )
    print(
        "torch.autograd through F.pad(mode='reflect') equals conv_transpose2d(padding_mode='reflect')"
    )

fig, axes = plt.subplots(1, 4, figsize=(15, 4.4))
panels = [
    (scatter, f"C*y: the scatter onto the padded {n + 2 * p}×{n + 2 * p} grid", "viridis"),
    (zeros, "zeros: the border cropped", "viridis"),
    (reflect, "reflect: the border folded back", "viridis"),
    (diff, "reflect − zeros: what the fold adds", "magma"),
]
for ax, (values, title, cmap) in zip(axes, panels, strict=True):
    top = float(values.max())
    ax.imshow(values, cmap=cmap, vmin=0, vmax=top)
    for (i, j), v in np.ndenumerate(values):  # one label per pixel of a 16×16 picture
        ax.text(
            j,
            i,
            f"{v:.0f}",
            ha="center",
            va="center",
            fontsize=5.5,
            color="white" if v < 0.6 * top else "black",
        )
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
axes[0].add_patch(
    plt.Rectangle((p - 0.5, p - 0.5), n, n, fill=False, edgecolor="tab:red", linewidth=2)
)
fig.suptitle(
    "conv_transpose2d of y = 1 with a 5×5 kernel of ones, padding 2 (the image: red frame): "
    "the fold adds the border's values back, mirrored about the edge pixels",
    fontsize=10,
)
fig.tight_layout()
save_figure(fig, "06_reflect_fold.png")

# %% [markdown]
# Reflect padding mirrors *without* repeating the edge: the border rows are copies of
# rows 1…p (and p…1 at the far side), the border columns of columns 1…p, never of row 0 or
# column 0.  So the fold adds to every pixel in one of those rows or columns and to
# nothing else: the corner pixel (0, 0) gains nothing, (1, 1) gains the most.
# `padding_mode="replicate"` would pile the border onto the edge rows and columns
# instead, and `"circular"` onto the opposite side.
#
# Next: the same adjoints are the gradients a training loop needs; `convops.grad`
# offers them with PyTorch's signatures, for every padding mode.
