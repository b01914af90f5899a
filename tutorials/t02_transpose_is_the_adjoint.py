# %% [markdown]
# # Tutorial 2: The transpose is the adjoint
#
# The question: what is "the adjoint operator of a convolutional layer c, i.e. c* with
# ⟨cx, y⟩ = ⟨x, c*y⟩ for any x and y", in 2D and 3D?  It is needed because the gradient
# of ½‖cx − y‖² is c*(cx − y).  The answer: the adjoint *is* the transposed convolution
# with the same weights, stride, padding and dilation (PyTorch's `conv_transpose`, or
# `op.H` in convops), in every dimension, with channels and groups; for complex kernels
# it conjugates them.  Here ⟨u, v⟩ = Σ u·conj(v).
#
# Everything is checked against a convolution written independently with scipy.signal,
# so the adjoint is tested against a reference, not against itself.

# %% setup
import matplotlib.pyplot as plt
import numpy as np
import scipy.signal

import convops
from convops.tutorials import output_dir, save_figure

OUT = output_dir()
rng = np.random.default_rng(3)


def inner(u, v):
    """⟨u, v⟩ = Σ u · conj(v) over all entries."""
    return np.vdot(v, u)


def reference_conv(x, w, stride, padding, dilation=1):
    """Multi-channel convolution (cross-correlation) from scipy only.

    x: (C_in, *n), w: (C_out, C_in, *k); zero padding, one stride/dilation for all axes.
    scipy.signal.convolve with the reversed kernel is the correlation *without* conjugating
    w (scipy.signal.correlate would conjugate a complex kernel).
    """
    ndim = x.ndim - 1
    wd = np.zeros(w.shape[:2] + tuple((k - 1) * dilation + 1 for k in w.shape[2:]), w.dtype)
    wd[(slice(None), slice(None)) + (slice(None, None, dilation),) * ndim] = w
    xp = np.pad(x, [(0, 0)] + [(padding, padding)] * ndim)
    flip = (slice(None, None, -1),) * ndim
    out = [
        sum(
            scipy.signal.convolve(xp[ci], wd[co, ci][flip], mode="valid")
            for ci in range(x.shape[0])
        )
        for co in range(w.shape[0])
    ]
    return np.stack(out)[(slice(None),) + (slice(None, None, stride),) * ndim]


# %% [markdown]
# ## ⟨Cx, y⟩ = ⟨x, C*y⟩ in 1D, 2D and 3D, with channels
#
# For each case: random weights w of shape (C_out, C_in, *k), a random input x and a
# random y of the output's shape.  The left side uses the scipy reference convolution;
# the right side uses convops' `conv_transpose1d/2d/3d` with *the same weight array*
# (PyTorch's layout: the transposed convolution of a C_in → C_out convolution takes
# C_out channels and its weight is indexed (C_out, C_in, *k), exactly w).

# %% dot tests against the reference
cases = [
    # name, C_in, C_out, spatial n, kernel k, stride, padding, dilation
    ("1D", 2, 3, (17,), (5,), 2, 1, 1),
    ("2D", 2, 3, (9, 8), (3, 3), 2, 1, 1),
    ("2D dilated", 3, 2, (10, 10), (3, 3), 1, 2, 2),
    ("3D", 2, 2, (6, 5, 7), (3, 3, 3), 1, 1, 1),
    ("3D strided", 1, 2, (7, 7, 7), (3, 2, 3), 2, 0, 1),
]
transpose_fn = {
    1: convops.conv_transpose1d,
    2: convops.conv_transpose2d,
    3: convops.conv_transpose3d,
}
print(f"{'case':<11} {'x':<14} {'y = Cx':<14} {'<Cx, y>':>14} {'<x, C*y>':>14} {'rel. diff':>9}")
for name, cin, cout, n, k, s, p, d in cases:
    w = rng.standard_normal((cout, cin) + k)
    x = rng.standard_normal((cin,) + n)
    Cx = reference_conv(x, w, s, p, d)
    y = rng.standard_normal(Cx.shape)
    # conv_transpose's output size is (m−1)s − 2p + d(k−1) + output_padding + 1; output_padding
    # picks n among the input sizes that stride s maps to the same m (see below)
    m = np.array(Cx.shape[1:])
    out_pad = tuple(np.array(n) - ((m - 1) * s - 2 * p + d * (np.array(k) - 1) + 1))
    Cstar_y = transpose_fn[len(n)](y, w, stride=s, padding=p, dilation=d, output_padding=out_pad)
    assert Cstar_y.shape == x.shape
    lhs, rhs = inner(Cx, y), inner(x, Cstar_y)
    rel = abs(lhs - rhs) / max(abs(lhs), abs(rhs))
    print(f"{name:<11} {x.shape!s:<14} {Cx.shape!s:<14} {lhs:>14.8f} {rhs:>14.8f} {rel:>9.1e}")
    assert rel < 1e-12
    # the operator API gives the same pair: op for C, op.H for C*
    op = convops.ConvOperator(w, x.shape, stride=s, padding=p, dilation=d)
    assert np.allclose(op.apply(x), Cx) and np.allclose(op.H.apply(y), Cstar_y)

# %% [markdown]
# The check usually given to someone who asks for the adjoint of a convolutional layer
# (PyTorch's `Conv2d` and `ConvTranspose2d` sharing one 3×3 weight, padding 1, on 7×7
# inputs, comparing `(cnva(s) * t).sum()` with `(s * cnvt(t)).sum()`), with convops:
# `op` and `op.H`.

# %% the usual PyTorch check, with convops
w = rng.standard_normal((1, 1, 3, 3))
op = convops.ConvOperator(w, (1, 7, 7), padding=1)
s_, t_ = rng.standard_normal((1, 7, 7)), rng.standard_normal((1, 7, 7))
lhs, rhs = np.sum(op.apply(s_) * t_), np.sum(s_ * op.H.apply(t_))
print(f"(cnva(s) * t).sum() = {lhs:.6f}   (s * cnvt(t)).sum() = {rhs:.6f}")
assert np.isclose(lhs, rhs, rtol=1e-12)
assert np.allclose(op.apply(s_), reference_conv(s_, w, 1, 1))

# %% [markdown]
# ## The transposed convolution scatters
#
# A convolution *gathers*: each output is a weighted sum of a window of the input.  Its
# adjoint *scatters*: each input value y[o] multiplies the whole kernel, which is laid
# onto the output at position o·s, and the overlapping copies add up.  Below, a 2×2 y
# with a 3×3 kernel and stride 1 is scattered by hand (one slice assignment per entry
# of y) and compared with conv_transpose2d.

# %% scatter by hand
kernel = np.arange(1.0, 10.0).reshape(3, 3)
y_small = np.array([[1.0, -1.0], [2.0, 0.5]])
stride = 1
pieces = []
for o0, o1 in np.ndindex(*y_small.shape):
    piece = np.zeros((4, 4))
    piece[o0 * stride : o0 * stride + 3, o1 * stride : o1 * stride + 3] = y_small[o0, o1] * kernel
    pieces.append(((o0, o1), piece))
by_hand = sum(piece for _, piece in pieces)
ct = convops.conv_transpose(y_small, kernel)
assert np.allclose(by_hand, ct)
print("sum of the four scattered kernels == conv_transpose(y, kernel):")
print(ct)

fig, axes = plt.subplots(1, 5, figsize=(16, 3.6))
vmax = np.abs(by_hand).max()
for ax, ((o0, o1), piece) in zip(axes, pieces, strict=False):  # the fifth panel is their sum
    ax.imshow(piece, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_title(f"y[{o0},{o1}] = {y_small[o0, o1]:g}  ×  kernel")
    for (i, j), v in np.ndenumerate(piece):
        if v:  # white text on dark cells
            ax.text(
                j,
                i,
                f"{v:g}",
                ha="center",
                va="center",
                fontsize=10,
                color="white" if abs(v) > 0.6 * vmax else "black",
            )
axes[-1].imshow(by_hand, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
axes[-1].set_title("sum = conv_transpose(y, w)")
for (i, j), v in np.ndenumerate(by_hand):
    axes[-1].text(
        j,
        i,
        f"{v:g}",
        ha="center",
        va="center",
        fontsize=10,
        color="white" if abs(v) > 0.6 * vmax else "black",
    )
for ax in axes:
    ax.set_xticks(range(4))
    ax.set_yticks(range(4))
fig.suptitle("The transposed convolution lays y[o] × kernel onto the output and adds up the copies")
fig.tight_layout()
save_figure(fig, "02_scatter.png")

# %% [markdown]
# ## PyTorch's `conv_transpose` and `output_padding`
#
# With stride s, several input sizes give the same output size: for k = 3, padding 1,
# stride 2, both n = 7 and n = 8 give m = 4 (⌊(7 + 2 − 3)/2⌋ + 1 = ⌊(8 + 2 − 3)/2⌋ + 1 = 4).
# So "the adjoint of the convolution with these parameters", applied to a 4×4 y, is
# ambiguous: it could return 7×7 or 8×8.  `output_padding` settles it:
#
#     n = (m − 1)·s − 2·padding + d·(k − 1) + output_padding + 1
#
# and each choice is exactly the adjoint of the convolution on that input size.

# %% output_padding picks the input size
w = rng.standard_normal((1, 1, 3, 3))
y = rng.standard_normal((1, 4, 4))
for n_, out_pad in [(7, 0), (8, 1)]:
    x = rng.standard_normal((1, n_, n_))
    Cx = reference_conv(x, w, 2, 1)
    assert Cx.shape == (1, 4, 4)
    Cstar_y = convops.conv_transpose2d(y, w, stride=2, padding=1, output_padding=out_pad)
    assert Cstar_y.shape == (1, n_, n_)
    assert np.isclose(inner(Cx, y), inner(x, Cstar_y), rtol=1e-12)
    print(
        f"n = {n_}: conv gives {Cx.shape[1:]}; conv_transpose2d(output_padding={out_pad}) "
        f"gives {Cstar_y.shape[1:]} and is its adjoint"
    )

# %% [markdown]
# If PyTorch is installed, convops' functions agree with it (real weights, float64),
# including stride, padding, dilation, groups and output_padding.  PyTorch is optional;
# the tutorial runs without it.

# %% optional: compare with PyTorch
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the comparison (nothing else depends on it)")
if torch is not None:
    F = torch.nn.functional
    xb = rng.standard_normal((2, 4, 9, 10))
    wg = rng.standard_normal((6, 2, 3, 4))  # groups=2: 4 -> 6 channels
    kw = dict(stride=2, padding=1, dilation=2, groups=2)
    ours = convops.conv2d(xb, wg, **kw)
    theirs = F.conv2d(torch.from_numpy(xb), torch.from_numpy(wg), **kw).numpy()
    assert np.allclose(ours, theirs, atol=1e-12)
    yb = rng.standard_normal(ours.shape)
    wt = rng.standard_normal((6, 2, 3, 4))
    kwt = dict(stride=2, padding=1, dilation=2, groups=3, output_padding=1)
    ours_t = convops.conv_transpose2d(yb, wt, **kwt)
    theirs_t = F.conv_transpose2d(torch.from_numpy(yb), torch.from_numpy(wt), **kwt).numpy()
    assert np.allclose(ours_t, theirs_t, atol=1e-12)
    print(
        f"conv2d and conv_transpose2d agree with PyTorch {torch.__version__} "
        f"(max differences {np.abs(ours - theirs).max():.1e}, {np.abs(ours_t - theirs_t).max():.1e})"
    )

# %% [markdown]
# ## Complex kernels need the conjugate
#
# For a complex kernel the matrix A has complex entries and its adjoint is the
# *conjugate* transpose A^H.  The plain transpose Aᵀ (the same transposed convolution,
# kernel not conjugated) fails the dot test as soon as x and y are complex.  convops
# keeps both: `op.H` (adjoint, conjugates) and `op.T` (plain transpose).  PyTorch's
# `conv_transpose2d` with a complex weight computes the plain transpose, so it is *not*
# the adjoint there; conjugate the weight yourself.

# %% dot test with complex vectors
wc = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
opc = convops.ConvOperator(wc, (8, 8))
xc = rng.standard_normal((8, 8)) + 1j * rng.standard_normal((8, 8))
yc = rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6))
Cx = reference_conv(xc[None], wc[None, None], 1, 0)[0]
assert np.allclose(opc.apply(xc), Cx)
lhs = inner(Cx, yc)
rhs_adjoint = inner(xc, opc.H.apply(yc))
rhs_plain = inner(xc, opc.T.apply(yc))
err_adjoint = abs(lhs - rhs_adjoint) / abs(lhs)
err_plain = abs(lhs - rhs_plain) / abs(lhs)
print(f"<Cx, y>          = {lhs:.6f}")
print(f"<x, C^H y> (.H)  = {rhs_adjoint:.6f}   relative error {err_adjoint:.1e}")
print(f"<x, C^T y> (.T)  = {rhs_plain:.6f}   relative error {err_plain:.1e}")
assert err_adjoint < 1e-12
assert err_plain > 0.1
# the adjoint is the plain transpose of the operator with the conjugated kernel
assert np.allclose(opc.H.apply(yc), convops.ConvOperator(np.conj(wc), (8, 8)).T.apply(yc))

if torch is not None:
    tc = F.conv_transpose2d(
        torch.from_numpy(yc[None, None]), torch.from_numpy(wc[None, None])
    ).numpy()[0, 0]
    assert np.allclose(tc, opc.T.apply(yc)) and not np.allclose(tc, opc.H.apply(yc))
    print("PyTorch's complex conv_transpose2d equals .T (plain transpose), not .H (adjoint)")

# %% [markdown]
# Next: tutorial 3 looks at strides closely: the output-size arithmetic, animations of
# the sliding and scattering windows, transposed stride as zero insertion, and the
# checkerboard pattern of overlapping scattered kernels.
