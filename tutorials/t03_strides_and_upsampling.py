# %% [markdown]
# # Tutorial 3: Strides and upsampling
#
# In linear-algebra terms a transposed convolution is the transpose of a strided
# convolution.  A convolution with stride 2 halves the image; its transpose
# doubles it, which is why decoders and U-Nets use it to upsample.  This tutorial
#
# 1. checks the output-size arithmetic of Dumoulin & Visin, "A guide to convolution
#    arithmetic for deep learning" (2016), for convolutions and transposed ones;
# 2. animates the sliding window, the scatter view, and the "fractionally strided" view;
# 3. shows that a transposed stride is zero insertion followed by an ordinary
#    convolution ("a convolution with input stride 1/s");
# 4. explains the checkerboard pattern of overlapping scattered kernels, and which
#    kernel sizes avoid it.
#
# Notation as in the paper, per axis: input size i, kernel k, stride s, zero padding p
# on both sides, dilation d, output size o.  Primes (i', o', ...) belong to the
# transposed convolution.

# %% setup
import matplotlib.pyplot as plt
import numpy as np
import scipy.signal
from PIL import Image

import convops
from convops import plotting
from convops.tutorials import output_dir, save_figure

OUT = output_dir()
rng = np.random.default_rng(2)

# %% [markdown]
# ## The arithmetic
#
# For convolutions (relationships 1–6 and 15 of the paper):
#
#     s = 1, p = 0:            o = i − k + 1
#     s = 1:                   o = i − k + 2p + 1
#     s = 1, k odd, p = ⌊k/2⌋: o = i                    ("half" or "same" padding)
#     s = 1, p = k − 1:        o = i + k − 1            ("full" padding)
#     p = 0:                   o = ⌊(i − k)/s⌋ + 1
#     general:                 o = ⌊(i + 2p − k)/s⌋ + 1
#     dilated:                 o = ⌊(i + 2p − k − (k − 1)(d − 1))/s⌋ + 1
#
# Each is checked against the shape convops actually produces, over a grid of sizes.


# %% convolution output sizes
def out_size(i, k, s=1, p=0, d=1):
    return convops.conv(np.zeros(i), np.ones(k), stride=s, padding=p, dilation=d).shape[0]


relationships = {
    "s=1, p=0": (
        lambda i, k, s, p, d: s == 1 and p == 0 and d == 1,
        lambda i, k, s, p, d: i - k + 1,
    ),
    "s=1": (lambda i, k, s, p, d: s == 1 and d == 1, lambda i, k, s, p, d: i - k + 2 * p + 1),
    "half padding": (
        lambda i, k, s, p, d: s == 1 and d == 1 and k % 2 == 1 and p == k // 2,
        lambda i, k, s, p, d: i,
    ),
    "full padding": (
        lambda i, k, s, p, d: s == 1 and d == 1 and p == k - 1,
        lambda i, k, s, p, d: i + k - 1,
    ),
    "p=0": (lambda i, k, s, p, d: p == 0 and d == 1, lambda i, k, s, p, d: (i - k) // s + 1),
    "general": (lambda i, k, s, p, d: d == 1, lambda i, k, s, p, d: (i + 2 * p - k) // s + 1),
    "dilated": (
        lambda i, k, s, p, d: True,
        lambda i, k, s, p, d: (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1,
    ),
}
checked = dict.fromkeys(relationships, 0)
for i in range(3, 14):
    for k in range(1, 6):
        for s in (1, 2, 3):
            for p in range(0, k):
                for d in (1, 2):
                    if i + 2 * p < d * (k - 1) + 1:
                        continue  # the kernel does not fit
                    o = out_size(i, k, s, p, d)
                    for name, (applies, formula) in relationships.items():
                        if applies(i, k, s, p, d):
                            assert o == formula(i, k, s, p, d), (name, i, k, s, p, d)
                            checked[name] += 1
for name, count in checked.items():
    print(f"  {name:<14} holds in all {count:>4} cases checked")
# the axes are independent: a 2D shape is the 1D formula per axis
assert convops.conv(np.zeros((9, 12)), np.ones((3, 4)), stride=(2, 3), padding=(1, 0)).shape == (
    (9 + 2 - 3) // 2 + 1,
    (12 - 4) // 3 + 1,
)

# %% [markdown]
# ## The animations
#
# The convolution slides the kernel footprint over the zero-padded input by the stride;
# each position produces one output.  The transposed convolution goes the other way:
# each input value multiplies the kernel, which is laid onto the output grid at s times
# its position, and overlapping copies add up (the scatter view).  The same result
# comes from a direct convolution of the *zero-inserted* input, the "fractionally
# strided" view.  Geometry: the paper's 5×5 input, 3×3 kernel, padding 1,
# stride 2, giving 3×3 (for the fractional view, a 3×3 input, giving 2×2).

# %% save the animations (about ten seconds)
kernel = np.arange(1.0, 10.0).reshape(3, 3)
op = convops.ConvOperator(kernel, (5, 5), stride=2, padding=1)
assert op.output_shape == (3, 3)
# the fractionally strided view has one frame per output of A*; a 3×3 image keeps it short
op_small = convops.ConvOperator(kernel, (3, 3), stride=2, padding=1)
assert op_small.output_shape == (2, 2)
views = [
    ("03_conv_stride2.gif", op, {}, 9),  # one frame per output
    ("03_transposed_scatter.gif", op.H, {}, 9),  # one frame per input of A*
    ("03_transposed_fractional.gif", op_small.H, {"fractional": True}, None),
]
for name, target, kwargs, frames in views:
    anim = plotting.animate(target, **kwargs)
    path = OUT / name
    plotting.save_animation(anim, path)
    plt.close("all")
    n_frames = Image.open(path).n_frames
    print(f"  [animation] {path}  ({n_frames} frames)", flush=True)
    if frames is not None:
        assert n_frames == frames, (name, n_frames)

# %% [markdown]
# ## Transposed stride = zero insertion + ordinary convolution
#
# For a convolution (i, k, s, p), let a = (i + 2p − k) mod s (the inputs that the last
# stride step skips).  Its transpose, applied to an i'-sized y with i' = o, equals
#
# 1. insert s − 1 zeros between neighbouring entries of y ("stretch" it to s(i' − 1) + 1),
# 2. pad with k − p − 1 zeros on each side, plus a more at the end (PyTorch's
#    `output_padding = a`),
# 3. convolve with stride 1 with the *flipped* kernel (scipy's `convolve`),
#
# and its size is o' = s(i' − 1) + a + k − 2p, which is i again (relationship 14).  So a
# transposed convolution with stride s is a convolution with stride 1/s.  Checked below
# on a grid of sizes, with random kernels, against scipy.


# %% zero insertion, checked on a grid
def zero_insert(y, s):
    u = np.zeros((len(y) - 1) * s + 1)
    u[::s] = y
    return u


cases = 0
for i in range(4, 12):
    for k in range(1, 5):
        for s in (1, 2, 3):
            for p in range(0, k):
                if i + 2 * p < k:
                    continue
                o = (i + 2 * p - k) // s + 1
                a = (i + 2 * p - k) % s
                w = rng.standard_normal(k)
                y = rng.standard_normal(o)
                ours = convops.conv_transpose(y, w, stride=s, padding=p, output_padding=a)
                u = np.pad(zero_insert(y, s), (k - p - 1, k - p - 1 + a))
                reference = scipy.signal.convolve(u, w, mode="valid")
                assert ours.shape == (i,) == (s * (o - 1) + a + k - 2 * p,)
                assert np.allclose(ours, reference)
                cases += 1
print(f"conv_transpose == zero insertion + padding + convolution in all {cases} 1D cases")

# the 2D picture: 3×3 y, kernel 3×3, stride 2, padding 1, output_padding 1 → 6×6
y2 = rng.integers(1, 5, size=(3, 3)).astype(float)
u2 = np.zeros((5, 5))
u2[::2, ::2] = y2
u2 = np.pad(u2, ((1, 2), (1, 2)))  # k − p − 1 = 1 each side, plus a = 1 at the end
x2 = convops.conv_transpose(y2, kernel, stride=2, padding=1, output_padding=1)
assert np.allclose(x2, scipy.signal.convolve2d(u2, kernel, mode="valid"))

# panel widths proportional to the image sizes, so a pixel is the same size in all three
fig, axes = plt.subplots(
    1, 3, figsize=(15, 5.2), layout="constrained", gridspec_kw={"width_ratios": [3, 8, 6]}
)
for ax, img, title in [
    (axes[0], y2, "y (3×3)"),
    (axes[1], u2, "zeros inserted, padded (8×8)"),
    (axes[2], x2, "conv_transpose(y, w, stride 2) (6×6)"),
]:
    ax.imshow(img, cmap="viridis")
    for (r, c), v in np.ndenumerate(img):
        ax.text(
            c,
            r,
            f"{v:g}",
            ha="center",
            va="center",
            fontsize=11,
            color="white" if v < 0.6 * img.max() else "black",
        )
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Transposed stride 2 = insert zeros, pad, convolve with the flipped kernel (stride 1)")
save_figure(fig, "03_zero_insertion.png")

# %% [markdown]
# ## The checkerboard
#
# In the scatter view, count how many kernel copies land on each output pixel.  With a
# 3×3 kernel and stride 2, the copies overlap on every other row and column: interior
# pixels receive 1, 2 or 4 contributions in a checkerboard pattern, which shows up as
# artefacts in generated images (Odena, Dumoulin & Olah, "Deconvolution and
# checkerboard artifacts", Distill 2016).  With a 4×4 kernel and stride 2 every interior
# pixel receives exactly 4.  The counts are the transposed convolution of an all-ones
# image with an all-ones kernel; they are computed here by brute force (np.add.at over
# every input position and kernel tap) and compared with `convops.plotting.overlap_counts`.


# %% overlap counts: brute force vs convops
def brute_force_counts(n, k, s, p):
    """How many (input position of A*, kernel tap) pairs land on each of the n×n outputs."""
    m = (n + 2 * p - k) // s + 1
    o = np.arange(m)[:, None] * s + np.arange(k)[None, :] - p  # (position, tap) -> output index
    rows = o.reshape(m, 1, k, 1)
    cols = o.reshape(1, m, 1, k)
    rows, cols = np.broadcast_arrays(rows, cols)
    inside = (rows >= 0) & (rows < n) & (cols >= 0) & (cols < n)
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (rows[inside], cols[inside]), 1)
    return counts


fig, axes = plt.subplots(1, 2, figsize=(13, 6), layout="constrained")
for ax, k in zip(axes, (3, 4), strict=True):
    opk = convops.ConvOperator(np.ones((k, k)), (16, 16), stride=2, padding=1)
    counts = brute_force_counts(16, k, 2, 1)
    assert np.array_equal(plotting.overlap_counts(opk.H), counts)
    # ones through the transposed convolution give the same picture
    assert np.allclose(opk.H.apply(np.ones(opk.output_shape)), counts)
    interior = counts[k:-k, k:-k]
    print(f"{k}x{k} kernel, stride 2: interior counts {sorted(set(interior.ravel().tolist()))}")
    if k == 3:
        assert set(interior.ravel().tolist()) == {1, 2, 4}
    else:
        assert set(interior.ravel().tolist()) == {4}
    plotting.plot_overlap(opk.H, ax=ax)
    ax.set_title(
        f"{k}×{k} kernel, stride 2, padding 1: " + ("checkerboard" if k == 3 else "even interior")
    )
save_figure(fig, "03_checkerboard.png")

# %% [markdown]
# Which kernel sizes avoid it?  Along one axis the copies start every s pixels and are k
# wide, so every interior pixel is covered the same number of times (k/s) exactly when
# s divides k.  The 2D counts are products of the 1D counts, so the same rule holds per
# axis.  The table is computed by brute force.


# %% which kernel sizes give even overlap
def counts_1d(n, k, s, p):
    """Brute force along one axis: copies of a k-wide kernel placed every s pixels."""
    m = (n + 2 * p - k) // s + 1
    o = (np.arange(m)[:, None] * s + np.arange(k)[None, :] - p).ravel()
    counts = np.zeros(n, dtype=int)
    np.add.at(counts, o[(o >= 0) & (o < n)], 1)
    return counts


assert np.array_equal(
    brute_force_counts(16, 3, 2, 1), np.outer(counts_1d(16, 3, 2, 1), counts_1d(16, 3, 2, 1))
)


def interior_counts_1d(k, s, n=40):
    return set(counts_1d(n, k, s, 0)[2 * k : -2 * k].tolist())


print("kernel k:       " + "  ".join(f"{k:>2}" for k in range(1, 9)))
for s in (2, 3, 4):
    row = []
    for k in range(1, 9):
        even = len(interior_counts_1d(k, s)) == 1
        assert even == (k % s == 0), (k, s)
        row.append("ok" if even else " x")
    print(f"stride {s}:       " + "  ".join(row))
print("(ok = every interior pixel covered k/s times; x = uneven, checkerboard)")

# %% [markdown]
# On the command line:
#
#     convops animate --input 5x5 --kernel 3x3 --stride 2 --padding 1 --out conv.gif
#     convops animate --input 5x5 --kernel 3x3 --stride 2 --padding 1 --transpose --out up.gif
#
# Next: tutorial 4 moves to the frequency domain, where the convolution multiplies by the
# kernel's spectrum and the transposed convolution by its complex conjugate.
