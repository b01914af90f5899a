"""A frequency-domain upsampling layer in PyTorch learns the kernel of a spatial ConvTranspose2d.

The layer (``FrequencyUpsample``) holds a learnable spatial kernel and computes the strided
transposed convolution in the frequency domain, through convops on torch tensors:

    Ŷ = fft2(y)                                   the low-resolution input, M × M
    X̂ = strided_conv_transpose_spectrum(Ŷ, w, s)  replicate Ŷ s times per axis, × conj(Ĥ)ᵀ
    x = ifft2(X̂).real                             the upsampled output, N × N, N = s·M

Autograd runs through all three steps to the kernel ``w``, so the layer trains like any
other.  Its teacher is a fixed, randomly initialised ``torch.nn.ConvTranspose2d`` (no bias);
a second student, the same spatial layer made trainable, starts from the same kernel.  The
script trains both on the teacher's outputs and shows that they learn the same kernel, the
teacher's, and that the trained frequency layer computes what the spatial layer computes.

The boundary, honestly.  On the DFT grid the transposed convolution is *circular*: the kernel
laid down at the last input row covers rows ``(M − 1)·s … (M − 1)·s + k − 1``, and the last
``k − s`` of them lie past the grid's ``N = s·M`` rows, so they wrap around onto rows
``0 … k − s − 1``.  ``ConvTranspose2d`` has no circular ``padding_mode`` (only zeros): its
output has ``(M − 1)·s + k = N + k − s`` rows, nothing wraps.  So the spatial layers here are
``ConvTranspose2d`` followed by that wrap-around done by hand (``wrap``: output rows and
columns ``N …`` are added onto ``0 …``), which is exactly the circular (periodic) transposed
convolution.  The script also checks the two other ways to read this:

* away from the first ``k − s`` rows and columns, the frequency layer equals the plain
  ``ConvTranspose2d`` output (cropped to ``N × N``); only those rows and columns differ;
* zero-padding the input ``y`` by ``⌈(k − s)/s⌉`` rows and columns first (a larger DFT grid,
  with room for the overhang) makes the frequency layer equal the plain, zero-boundary
  ``ConvTranspose2d`` everywhere.

Layouts: ``ConvTranspose2d.weight`` is ``(C_in, C_out, k, k)``, which is the kernel of the
convolution the layer transposes (``C_in`` of its outputs, ``C_out`` of its inputs), i.e.
exactly convops' kernel for ``strided_conv_transpose_spectrum``: the same tensor goes to both.

Runs in a few seconds on a CPU; without PyTorch it says so and exits (status 0).
"""

from __future__ import annotations

import math
import sys

# sizes: 3 → 2 channels, a 4 × 4 kernel with stride 2 (the DCGAN upsampling), 8 × 8 → 16 × 16
C_IN, C_OUT, K, STRIDE, M, BATCH = 3, 2, 4, 2, 8, 8
STEPS, LEARNING_RATE = 300, 0.05
# what the script claims, in float32 (single-precision rounding is about 1e-7)
KERNEL_RTOL, OUTPUT_RTOL = 1e-4, 1e-5


def main() -> int:
    try:
        import torch
    except ImportError:
        print(
            "this example needs PyTorch (pip install torch), which is not installed: nothing to run"
        )
        return 0
    from convops.spectral import strided_conv_transpose_spectrum

    torch.manual_seed(0)
    # tensors this small gain nothing from threads, which only add latency
    torch.set_num_threads(1)

    def wrap(out: torch.Tensor, n: int) -> torch.Tensor:
        """The periodic extension onto n × n: index j of the last two axes adds onto j mod n."""
        for axis in (-2, -1):
            extra = -out.shape[axis] % n  # zero-fill to a multiple of n, then sum the n-blocks
            pad = (0, extra) if axis == -1 else (0, 0, 0, extra)
            out = torch.nn.functional.pad(out, pad).unflatten(axis, (-1, n)).sum(axis - 1)
        return out

    class FrequencyUpsample(torch.nn.Module):
        """``ConvTranspose2d(c_in, c_out, k, stride, bias=False)``, circular, in frequency."""

        def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
            super().__init__()
            self.stride = stride
            self.weight = torch.nn.Parameter(torch.empty(c_in, c_out, k, k))

        def forward(self, y: torch.Tensor) -> torch.Tensor:
            # (B, c_in, M, M) -> (B, c_out, s·M, s·M); the spectral functions take one
            # sample (channels, *spatial), vmap maps them over the batch
            def one(sample: torch.Tensor) -> torch.Tensor:
                Y = torch.fft.fft2(sample)
                X = strided_conv_transpose_spectrum(Y, self.weight, self.stride)
                return torch.fft.ifft2(X).real

            return torch.func.vmap(one)(y)

    class PeriodicConvTranspose2d(torch.nn.Module):
        """The spatial layer with the wrap-around: the circular transposed convolution."""

        def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
            super().__init__()
            self.conv = torch.nn.ConvTranspose2d(c_in, c_out, k, stride=stride, bias=False)

        def forward(self, y: torch.Tensor) -> torch.Tensor:
            return wrap(self.conv(y), self.conv.stride[0] * y.shape[-1])

    N = STRIDE * M
    teacher = PeriodicConvTranspose2d(C_IN, C_OUT, K, STRIDE).requires_grad_(False)
    frequency = FrequencyUpsample(C_IN, C_OUT, K, STRIDE)
    spatial = PeriodicConvTranspose2d(C_IN, C_OUT, K, STRIDE)
    with torch.no_grad():
        frequency.weight.copy_(0.1 * torch.randn(C_IN, C_OUT, K, K))
        spatial.conv.weight.copy_(frequency.weight)
    y_train = torch.randn(BATCH, C_IN, M, M)
    target = teacher(y_train)

    print(
        f"frequency-domain upsampling (convops on torch tensors) vs spatial ConvTranspose2d: "
        f"{C_IN} -> {C_OUT} channels, kernel {K}x{K}, stride {STRIDE}, {M}x{M} -> {N}x{N}, "
        f"float32, circular boundary (see the script's text)"
    )
    students = {"frequency": frequency, "spatial": spatial}
    optimisers = {
        n: torch.optim.Adam(s.parameters(), lr=LEARNING_RATE) for n, s in students.items()
    }
    print(f"{'step':>6} {'loss, frequency layer':>22} {'loss, spatial layer':>20}")
    for step in range(STEPS + 1):
        losses = {}
        for name, student in students.items():
            optimisers[name].zero_grad()
            loss = (student(y_train) - target).square().mean()
            losses[name] = loss.item()
            if step < STEPS:
                loss.backward()
                optimisers[name].step()
        if step % 50 == 0:
            print(f"{step:>6} {losses['frequency']:>22.3e} {losses['spatial']:>20.3e}")

    def relative(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a - b).norm() / b.norm())

    with torch.no_grad():
        w_teacher, w_freq = teacher.conv.weight, frequency.weight
        claims = [
            (
                "the frequency layer learns the teacher's kernel",
                relative(w_freq, w_teacher),
                KERNEL_RTOL,
            ),
            (
                "the spatial layer learns the same kernel as the frequency layer",
                relative(spatial.conv.weight, w_freq),
                KERNEL_RTOL,
            ),
        ]
        # new inputs: the two trained layers; then the frequency layer against the spatial
        # layer given the very same kernel (the identity of the two maps, training aside)
        y_test = torch.randn(4, C_IN, M, M)
        x_freq = frequency(y_test)
        claims.append(
            (
                "on new inputs the two trained layers' outputs agree",
                relative(x_freq, spatial(y_test)),
                KERNEL_RTOL,
            )
        )
        same_kernel = PeriodicConvTranspose2d(C_IN, C_OUT, K, STRIDE)
        same_kernel.conv.weight.copy_(w_freq)
        claims.append(
            (
                "given the same kernel, it equals the periodic ConvTranspose2d",
                relative(x_freq, same_kernel(y_test)),
                OUTPUT_RTOL,
            )
        )
        plain = torch.nn.functional.conv_transpose2d(y_test, w_freq, stride=STRIDE)
        edge = K - STRIDE  # rows and columns that receive the wrap-around
        inner = (Ellipsis, slice(edge, N), slice(edge, N))
        claims.append(
            (
                f"away from the first {edge} rows and columns it equals the plain ConvTranspose2d",
                relative(x_freq[inner], plain[inner]),
                OUTPUT_RTOL,
            )
        )
        # the plain (zero-boundary) layer from the frequency domain: room for the overhang
        grow = math.ceil(edge / STRIDE)
        padded = frequency(torch.nn.functional.pad(y_test, (0, grow, 0, grow)))
        size = plain.shape[-1]  # (M − 1)·s + k
        claims.append(
            (
                f"with the input zero-padded by {grow} it equals the plain ConvTranspose2d everywhere",
                relative(padded[..., :size, :size], plain),
                OUTPUT_RTOL,
            )
        )
        wrapped = float((x_freq - plain[..., :N, :N]).abs().max() / plain.abs().max())

    failed = 0
    for text, error, bound in claims:
        ok = error < bound
        failed += not ok
        print(f"{'OK' if ok else 'FAILED'}: {text}: relative error {error:.1e} (bound {bound:.0e})")
    print(
        f"(the first {edge} rows and columns, which receive the wrap-around, differ from the "
        f"plain ConvTranspose2d by up to {wrapped:.2f} of its largest value)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
