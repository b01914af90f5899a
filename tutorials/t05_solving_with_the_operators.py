# %% [markdown]
# # Tutorial 5: Solving with the operators
#
# Tutorial 2 began with the reason the adjoint is needed: the gradient of the data misfit
#
#     F(x) = ½‖Cx − y‖²      is      ∇F(x) = C*(Cx − y).
#
# A `ConvOperator` is a scipy `LinearOperator` whose adjoint is the transposed
# convolution, so it can be handed to gradient descent and to scipy's iterative solvers
# (`lsqr`, `lsmr`, `cg`, ...) without ever forming the matrix.  This tutorial checks the
# gradient against finite differences, runs gradient descent with the step 1/‖C‖², and
# deblurs a noisy image with `lsqr`/`lsmr`, with and without Tikhonov damping.

# %% setup
import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.signal
import scipy.sparse.linalg as spla

import convops
from convops.tutorials import output_dir, save_figure

OUT = output_dir()
rng = np.random.default_rng(5)

# %% a synthetic test image and an asymmetric blur
N = 64
yy, xx = np.mgrid[0:N, 0:N] / (N - 1)
truth = 0.25 + 0.25 * xx  # smooth background
truth[(yy - 0.32) ** 2 + (xx - 0.3) ** 2 < 0.2**2] = 1.0  # a disc
truth[38:56, 36:56] = 0.75  # a square
truth[8:11, 34:60] = 0.0  # a thin dark bar
truth[16:34, 44:46] = 1.0  # a thin bright bar
truth[46:50, 6:28] = 0.5 + 0.5 * (np.arange(6, 28) % 4 < 2)  # a fine stripe pattern

t = np.arange(-3, 4)
blur = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * 1.3**2))
blur[3, 3:] += 1.2  # a streak to the right: the blur is not symmetric,
blur /= blur.sum()  # so C* (flipped kernel) differs from C
C = convops.ConvOperator(blur, (N, N), padding="same")
print(
    f"C: {C.shape[0]} x {C.shape[1]} operator ({C.method} realisation), kernel 7x7, "
    f"sum of kernel = {blur.sum():.3f}"
)
# C is the 'same'-size cross-correlation; scipy agrees (odd kernel, zero boundary)
assert np.allclose(C.apply(truth), scipy.signal.correlate2d(truth, blur, mode="same"))

# %% [markdown]
# ## The gradient is C*(Cx − y): a finite-difference check
#
# For any direction v, the directional derivative (F(x + εv) − F(x − εv)) / 2ε must equal
# ⟨∇F(x), v⟩.  F is quadratic, so the central difference is exact up to rounding.  Using
# C instead of C* in the "gradient" is a common bug: for an asymmetric kernel it fails.


# %% finite differences
def F(x):
    r = C.apply(x) - y_clean
    return 0.5 * np.vdot(r, r).real


y_clean = C.apply(truth)
x0 = rng.standard_normal((N, N))
grad = C.H.apply(C.apply(x0) - y_clean)
wrong = C.apply(C.apply(x0) - y_clean)  # forgets the adjoint
eps = 1e-3
print(f"{'direction':<12} {'finite diff.':>14} {'<C*(Cx-y), v>':>14} {'<C(Cx-y), v>':>14}")
for name in ("random 1", "random 2", "pixel (20,30)"):
    if name.startswith("pixel"):
        v = np.zeros((N, N))
        v[20, 30] = 1.0
    else:
        v = rng.standard_normal((N, N))
    fd = (F(x0 + eps * v) - F(x0 - eps * v)) / (2 * eps)
    g_v, w_v = np.vdot(grad, v), np.vdot(wrong, v)
    print(f"{name:<12} {fd:>14.6f} {g_v:>14.6f} {w_v:>14.6f}")
    assert abs(fd - g_v) <= 1e-7 * max(1.0, abs(fd))
    assert abs(fd - w_v) > 1e-3 * max(1.0, abs(fd))

# %% [markdown]
# ## Gradient descent with step 1/‖C‖²
#
# ∇F is Lipschitz with constant L = ‖C*C‖ = ‖C‖² (the largest singular value squared), so
# gradient descent x ← x − (1/L)·C*(Cx − y) never increases F; a step above 2/L diverges
# along the top singular vector.  `convops.operator_norm` computes ‖C‖ (exact for circular
# boundaries; here, with zero padding, a Lanczos estimate from below within its rtol).
# It is checked against a dense SVD on a small copy of the problem and against Young's
# inequality ‖C‖ ≤ Σ|w|.

# %% the operator norm
from convops import operator_norm


def dense_reference(kernel, n):
    """The 'same' convolution matrix on an n×n image from scipy: one column per basis image."""
    basis = np.eye(n * n).reshape(n * n, n, n)
    cols = scipy.signal.correlate(basis, kernel[None], mode="same")
    return cols.reshape(n * n, n * n).T


small = convops.ConvOperator(blur, (12, 12), padding="same")
M = dense_reference(blur, 12)
assert np.allclose(small.toarray(), M)
norm_small, norm_dense = operator_norm(small), np.linalg.norm(M, 2)
print(f"12x12 copy: operator_norm = {norm_small:.9f}, dense SVD = {norm_dense:.9f}")
assert abs(norm_small - norm_dense) <= 1e-6 * norm_dense

norm_C = operator_norm(C)
print(f"64x64: ||C|| = {norm_C:.6f}  (Young's bound: sum|w| = {np.abs(blur).sum():.6f})")
assert norm_C <= np.abs(blur).sum() + 1e-12
# a few steps of power iteration bound ||C|| from below (a Rayleigh quotient never exceeds it)
v = rng.standard_normal((N, N))
for _ in range(30):
    v = C.H.apply(C.apply(v))
    v /= np.linalg.norm(v)
power_bound = np.linalg.norm(C.apply(v))
assert power_bound <= norm_C * (1 + 1e-6)
assert norm_C - power_bound < 0.01
L = norm_C**2


# %% gradient descent
def gradient_descent(step, iterations):
    x = np.zeros((N, N))
    history = [F(x)]
    for _ in range(iterations):
        x = x - step * C.H.apply(C.apply(x) - y_clean)
        history.append(F(x))
    return x, np.array(history)


start = time.perf_counter()
x_gd, hist = gradient_descent(1 / L, 300)
_, hist_big = gradient_descent(2.2 / L, 60)
print(
    f"gradient descent, step 1/L: F from {hist[0]:.3f} to {hist[-1]:.2e} in 300 steps "
    f"({time.perf_counter() - start:.2f} s for both runs)"
)
for k in (0, 10, 50, 100, 300):
    print(f"  step {k:>3}: F = {hist[k]:.3e}")
print(f"step 2.2/L: F = {hist_big[-1]:.3e} after 60 steps (diverging)")
assert np.all(np.diff(hist) <= 1e-12 * hist[0])  # monotone with step 1/L
assert hist[-1] < 1e-3 * hist[0]
assert hist_big[-1] > hist_big[0]  # too large a step blows up

fig, ax = plt.subplots(figsize=(7, 4.2))
ax.semilogy(hist, label="step 1/‖C‖² (monotone)")
ax.semilogy(hist_big, label="step 2.2/‖C‖² (diverges)")
ax.set_xlabel("iteration")
ax.set_ylabel("F(x) = ½‖Cx − y‖²")
ax.set_title("Gradient descent with the transposed convolution as the adjoint")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
save_figure(fig, "05_gradient_descent.png")

# %% [markdown]
# ## Deblurring with lsqr and lsmr
#
# Now the data are noisy: y = C x_true + noise.  `lsqr` and `lsmr` minimise ‖Cx − y‖²
# (+ damp²‖x‖² with Tikhonov damping) using only C and C* (the operator's matvec and
# rmatvec).  Without damping, many iterations fit the noise: small singular values of C
# amplify it.  A little damping keeps the solution stable.  The damped solution is first
# checked against the closed form (CᵀC + damp²I)⁻¹Cᵀy on the small dense copy.

# %% closed-form check on the small problem
y_small = M @ rng.standard_normal(144)
damp = 0.05
closed_form = np.linalg.solve(M.T @ M + damp**2 * np.eye(144), M.T @ y_small)
x_lsmr = spla.lsmr(small, y_small, damp=damp, atol=1e-14, btol=1e-14, maxiter=2000)[0]
x_lsqr = spla.lsqr(small, y_small, damp=damp, atol=1e-14, btol=1e-14, iter_lim=2000)[0]
assert np.allclose(x_lsmr, closed_form, atol=1e-8) and np.allclose(x_lsqr, closed_form, atol=1e-8)
print("lsqr/lsmr with damp=0.05 match the dense Tikhonov solution on the 12x12 copy")

# %% deblur the noisy 64x64 image
noise_level = 0.01
y_noisy = y_clean + noise_level * rng.standard_normal((N, N))


def rel_error(x):
    return np.linalg.norm(x - truth) / np.linalg.norm(truth)


results = {"blurred + noisy y": y_noisy}
runs = [
    ("lsqr, no damping", spla.lsqr, dict(damp=0.0, iter_lim=400)),
    ("lsmr, no damping", spla.lsmr, dict(damp=0.0, maxiter=400)),
    ("lsqr, damp 0.1", spla.lsqr, dict(damp=0.1, iter_lim=400)),
    ("lsmr, damp 0.1", spla.lsmr, dict(damp=0.1, maxiter=400)),
]
for name, solver, kwargs in runs:
    start = time.perf_counter()
    sol = solver(C, y_noisy.ravel(), atol=1e-10, btol=1e-10, **kwargs)
    results[name] = sol[0].reshape(N, N)
    print(
        f"{name:<18} {sol[2]:>4} iterations, {time.perf_counter() - start:5.2f} s, "
        f"relative error {rel_error(results[name]):.3f}"
    )
err = {name: rel_error(x) for name, x in results.items()}
print(f"{'blurred + noisy y':<18} relative error {err['blurred + noisy y']:.3f} (doing nothing)")
assert err["lsqr, damp 0.1"] < err["lsqr, no damping"]
assert err["lsmr, damp 0.1"] < err["lsmr, no damping"]
assert err["lsqr, damp 0.1"] < 0.8 * err["blurred + noisy y"]  # damped deblurring helps
assert err["lsqr, no damping"] > err["blurred + noisy y"]  # undamped: noise amplified

# %% [markdown]
# How much damping?  Too little lets the noise through, too much blurs the result again
# (damping pulls every component towards zero).  A scan shows the error is smallest in
# between; in practice the damping is chosen from the noise level (discrepancy principle)
# or by cross-validation, since the truth is unknown.

# %% a scan over the damping
dampings = [0.01, 0.03, 0.1, 0.3, 1.0]
scan = []
for d in dampings:
    x_d = spla.lsmr(C, y_noisy.ravel(), damp=d, atol=1e-10, btol=1e-10, maxiter=400)[0]
    scan.append(rel_error(x_d.reshape(N, N)))
    print(f"  damp {d:<5}: relative error {scan[-1]:.3f}")
best = int(np.argmin(scan))
print(f"best of the scan: damp = {dampings[best]}")
assert 0 < best < len(dampings) - 1  # the best damping is neither the smallest nor the largest

# %% before and after
fig, axes = plt.subplots(1, 4, figsize=(16, 4.8), layout="constrained")
panels = [
    ("truth", truth),
    ("blurred + noisy y", y_noisy),
    ("lsqr, no damping", results["lsqr, no damping"]),
    ("lsqr, damp 0.1", results["lsqr, damp 0.1"]),
]
for ax, (name, img) in zip(axes, panels, strict=True):
    ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    label = name if name == "truth" else f"{name}\nrelative error {rel_error(img):.3f}"
    ax.set_title(label)
    ax.set_axis_off()
fig.suptitle("Deblurring with the convolution operator: undamped least squares fits the noise")
save_figure(fig, "05_deconvolution.png")

# %% [markdown]
# That is the whole toolkit: the convolution and its adjoint as one `LinearOperator`,
# exact to rounding in every realisation, ready for any solver that needs A and A*.
