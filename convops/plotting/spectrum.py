"""The kernel spectrum drawn: magnitude and phase of Ĥ, and for a stride its folding and replication.

:func:`plot_spectrum` draws :func:`convops.spectral.kernel_spectrum` on a grid, centred
(frequencies ``−½ … ½`` cycles per sample), and for a stride ``s > 1`` two more panels:
the alias sum that the strided convolution keeps (folding) and its ``s``-fold tiling by
the zero insertion of the transposed convolution (replication).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from .._validate import (
    as_numeric_array,
    is_int,
    per_axis_ints,
    shape_tuple,
    validate_bool,
    validate_spatial_axes,
)
from ..operators import ConvOperator
from ..spectral import kernel_spectrum
from ._common import root_figure, side_colorbar, tight_layout

__all__ = ["plot_spectrum"]

_CYCLES_PER_SAMPLE = "frequency (cycles/sample)"


def _centred_freqs(n: int) -> np.ndarray:
    """Frequencies in cycles per sample in the order of ``fftshift``: ``−⌊n/2⌋/n … ``."""
    return np.fft.fftshift(np.fft.fftfreq(n))


class _SpectrumInputs(NamedTuple):
    """plot_spectrum's arguments, validated and with the operator's defaults filled in."""

    w: np.ndarray  # the single-channel kernel drawn
    shape: tuple[int, ...]  # the grid N
    D: int  # spatial axes
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    flip: bool
    conjugate: bool
    note: str  # names the channel pair of a multi-channel kernel in the title


def _spectrum_inputs(
    kernel: Any,
    shape: Any,
    stride: Any,
    dilation: Any,
    flip: Any,
    conjugate: Any,
    channels: Any,
) -> _SpectrumInputs:
    """Validate plot_spectrum's arguments; an operator supplies the defaults it knows."""
    note = ""
    if flip is not None:
        flip = validate_bool(flip, "flip")
    if conjugate is not None:
        conjugate = validate_bool(conjugate, "conjugate")
    if shape is not None:
        shape = shape_tuple(shape, "shape")
        validate_spatial_axes(len(shape), "shape", shape)
    if isinstance(kernel, ConvOperator):
        g = kernel.geometry
        w = kernel.kernel
        D = g.ndim
        dilation = g.dilation if dilation is None else dilation
        flip = g.flip if flip is None else flip
        stride = g.stride if stride is None else stride
        conjugate = g.transposed if conjugate is None else conjugate
        if shape is None:
            shape = g.fft_shape
        elif len(shape) != D:
            raise ValueError(
                f"shape={shape!r} has {len(shape)} entries; the operator has {D} spatial axes"
            )
    else:
        w = as_numeric_array(kernel, "kernel")
        if shape is not None:
            D = len(shape)
        elif w.ndim in (1, 2):
            D = w.ndim
        else:
            raise ValueError(
                f"kernel of shape {w.shape} is ambiguous without shape: pass shape= (one size "
                "per spatial axis) to say how many axes are spatial"
            )
        dilation = 1 if dilation is None else dilation
        flip = False if flip is None else flip
        stride = 1 if stride is None else stride
        conjugate = False if conjugate is None else conjugate
    if D == 3:
        raise ValueError(
            "plot_spectrum draws 1-D and 2-D spectra; for a 3-D kernel compute "
            "convops.spectral.kernel_spectrum(kernel, shape) and draw a slice"
        )
    if w.ndim not in (D, D + 2):
        raise ValueError(
            f"kernel of shape {w.shape} does not fit {D} spatial axes: a single-channel kernel has "
            f"{D} axes, a multi-channel one (C_out, C_in/groups, *k) {D + 2}"
        )
    stride = per_axis_ints(stride, "stride", D, 1)
    dilation = per_axis_ints(dilation, "dilation", D, 1)
    if w.ndim == D + 2:
        try:
            if not all(is_int(c) for c in channels):
                raise TypeError
            co, ci = (int(c) for c in channels)
            w = w[co, ci]
        except (TypeError, ValueError, IndexError):
            raise ValueError(
                f"channels={channels!r} must be (output channel, input channel) within the "
                f"kernel's {w.shape[:2]}"
            ) from None
        note = f" (channels {co}→{ci})"
    if shape is None:
        base = 256 if D == 1 else 64
        shape = tuple(-(-base // s) * s for s in stride)  # a multiple of the stride
    if any(s > 1 for s in stride):
        bad = [(a, n, s) for a, (n, s) in enumerate(zip(shape, stride, strict=True)) if n % s]
        if bad:
            a, n, s = bad[0]
            raise ValueError(
                f"shape={shape!r} is not divisible by stride={stride!r} on axis {a} ({n} % {s} = "
                f"{n % s}): folding and replication need whole periods; pad the grid to "
                f"{-(-n // s) * s} on that axis"
            )
    return _SpectrumInputs(w, shape, D, stride, dilation, bool(flip), bool(conjugate), note)


def plot_spectrum(
    kernel: Any,
    shape: Sequence[int] | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    *,
    conjugate: bool | None = None,
    stride: int | Sequence[int] | None = None,
    dilation: int | Sequence[int] | None = None,
    flip: bool | None = None,
    channels: tuple[int, int] = (0, 0),
) -> Figure:
    r"""Magnitude and phase of the kernel spectrum; folding and replication for a stride.

    Ĥ is :func:`convops.spectral.kernel_spectrum` — the multiplier of the *forward* map on
    the grid ``shape``: ``Ŷ = Ĥ·X̂`` with, for the default cross-correlation,
    ``Ĥ(f) = Σ_t w[t]·exp(+2πi f·t·d/N)``.  Frequencies are centred, in cycles per sample
    (``−½ … ½``).  Panels:

    1. ``|Ĥ|`` (line in 1-D, image with colour bar in 2-D);
    2. ``arg Ĥ`` in radians (``twilight`` colour map in 2-D), blank where ``|Ĥ|`` is zero;
    3. with a stride ``s > 1``, *folding*: the strided convolution keeps every s-th output,
       so on the coarse grid ``M = N/s`` its multiplier for a unit impulse is the alias sum
       ``Ŷ(f') = (1/s) Σ_{r<s} Ĥ(f' + r·M)``; 1-D draws the ``s`` copies and their sum;
    4. with ``s > 1``, *replication*: the transposed convolution inserts ``s − 1`` zeros,
       which tiles ``Ŷ`` ``s`` times on the fine grid (``Ẑ(f) = Ŷ(f mod M)``) before the
       multiplication by ``conj(Ĥ)``; 1-D draws the tiles and ``|conj(Ĥ)·Ẑ|``, 2-D the tiles.

    ``conjugate=True`` draws ``conj(Ĥ)`` in panels 1–2 (the transposed convolution's
    multiplier: same magnitude, negated phase).

    Parameters
    ----------
    kernel : array_like or ConvOperator
        ``k`` (single channel) or ``(C_out, C_in/groups, *k)``; or an operator, whose kernel,
        dilation, flip and stride are used, on the grid ``op.geometry.fft_shape``, with
        ``conjugate`` defaulting to ``op.geometry.transposed``.
    shape : tuple of int, optional
        The grid ``N``; default 256 (1-D) or 64 × 64 (2-D), rounded up to a multiple of
        the stride.  Must be divisible by the stride.
    ax : Axes or sequence of Axes, optional
        One Axes: only the magnitude is drawn there.  A sequence: one per panel (2, or 4
        with a stride).  Default: a new figure.
    conjugate : bool, optional
        Draw ``conj(Ĥ)``.
    stride, dilation : int or tuple of int, optional
        Per spatial axis (default 1, or the operator's).
    flip : bool, optional
        Signal-processing convolution: ``Ĥ = fftn(w_d, N)``.
    channels : (int, int)
        The (output, input) channel pair drawn for a multi-channel kernel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For 3-D kernels, a ``shape`` not divisible by the stride (the message names the
        size to pad to), or a kernel that does not fit ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from convops.plotting import plot_spectrum
    >>> fig = plot_spectrum(np.array([1.0, 2.0, 1.0]) / 4, stride=2)   # 4 panels
    """
    w, shape, D, stride, dilation, flip, conjugate, note = _spectrum_inputs(
        kernel, shape, stride, dilation, flip, conjugate, channels
    )
    h = kernel_spectrum(w, shape, dilation=dilation, flip=flip)  # unshifted, fftfreq order
    shown = np.conj(h) if conjugate else h
    strided = any(s > 1 for s in stride)
    n_panels = 4 if strided else 2
    only_magnitude = False
    axs: list[Axes]
    if ax is None:
        figsize = (11, 6.5) if strided else (11, 3.6)
        if D == 2:
            figsize = (10, 8.5) if strided else (10, 4.2)
        fig, grid_axes = plt.subplots(2 if strided else 1, 2, figsize=figsize, squeeze=False)
        axs = list(grid_axes.ravel())
        created = True
    elif isinstance(ax, Axes):
        fig, axs, created, only_magnitude = root_figure(ax), [ax], False, True
    else:
        try:
            axs = list(ax)
        except TypeError:
            raise TypeError(
                f"ax must be an Axes, a sequence of Axes or None; got {type(ax).__name__}"
            ) from None
        if len(axs) != n_panels or not all(isinstance(a, Axes) for a in axs):
            raise ValueError(
                f"ax must be one Axes (magnitude only) or {n_panels} Axes (one per panel); "
                f"got {len(axs)} objects"
            )
        fig, created = root_figure(axs[0]), False
    name = "conj(Ĥ)" if conjugate else "Ĥ"
    freqs = [_centred_freqs(n) for n in shape]
    mag = np.abs(np.fft.fftshift(shown))
    phase = np.angle(np.fft.fftshift(shown))
    phase = np.where(mag > 1e-12 * max(mag.max(), 1e-300), phase, np.nan)
    grid = "×".join(map(str, shape))

    if D == 1:
        f = freqs[0]
        a = axs[0]
        a.plot(f, mag, color="tab:blue", gid="convops.magnitude")
        _label_line_panel(
            a, f"magnitude |{name}|{note}, N = {grid}", _CYCLES_PER_SAMPLE, f"|{name}|"
        )
        if not only_magnitude:
            a = axs[1]
            a.plot(f, phase, color="tab:purple", gid="convops.phase")
            _label_line_panel(
                a, f"phase arg {name} (blank where |{name}| = 0)", _CYCLES_PER_SAMPLE, "radians"
            )
            a.set_ylim(-np.pi * 1.08, np.pi * 1.08)
            a.set_yticks([-np.pi, -np.pi / 2, 0, np.pi / 2, np.pi], ["−π", "−π/2", "0", "π/2", "π"])
    else:
        df = [1.0 / n for n in shape]
        extent = (
            freqs[1][0] - df[1] / 2,
            freqs[1][-1] + df[1] / 2,
            freqs[0][0] - df[0] / 2,
            freqs[0][-1] + df[0] / 2,
        )
        _image_panel(
            fig,
            axs[0],
            mag,
            extent,
            "viridis",
            f"magnitude |{name}|{note}, N = {grid}",
            f"|{name}|",
        )
        if not only_magnitude:
            _image_panel(
                fig,
                axs[1],
                phase,
                extent,
                "twilight",
                f"phase arg {name} (blank where |{name}| = 0)",
                "radians",
                vmin=-np.pi,
                vmax=np.pi,
            )

    if strided and not only_magnitude:
        _fold_panels(fig, axs[2], axs[3], h, shape, stride, D)
    if created:
        tight_layout(fig)
    return fig


def _label_line_panel(
    ax: Axes, title: str, xlabel: str, ylabel: str, *, legend: bool = False
) -> None:
    """Title, labels, the frequency range ``−½ … ½`` and a light grid of a 1-D panel."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(-0.5, 0.5)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=7, loc="upper right")


def _image_panel(
    fig: Figure,
    ax: Axes,
    img: np.ndarray,
    extent: tuple[float, float, float, float],
    cmap: str,
    title: str,
    clabel: str,
    vmin: float | None = None,
    vmax: float | None = None,
) -> AxesImage:
    """An image of a 2-D spectrum on centred frequencies, with a colour bar beside it."""
    im = ax.imshow(
        img,
        origin="lower",
        extent=extent,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        aspect="equal",
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("f₁ (cycles/sample, axis 1)")
    ax.set_ylabel("f₀ (cycles/sample, axis 0)")
    side_colorbar(fig, im, ax, clabel, pad=0.08)
    return im


def _tile_edges(s: int) -> np.ndarray:
    """Edges ``(r + ½)/s`` inside ``(−½, ½)`` of the ``s`` tiles centred on ``r/s``."""
    edges = (np.arange(-s, s) + 0.5) / s
    return edges[np.abs(edges) < 0.5 - 1e-12]


def _fold_panels(
    fig: Figure,
    ax_fold: Axes,
    ax_rep: Axes,
    h: np.ndarray,
    shape: tuple[int, ...],
    stride: tuple[int, ...],
    D: int,
) -> None:
    """Panels 3 and 4 of plot_spectrum: the alias sum and its s-fold replication."""
    M = tuple(n // s for n, s in zip(shape, stride, strict=True))
    sdesc = "×".join(map(str, stride))
    if D == 1:
        s, m, n = stride[0], M[0], shape[0]
        bins = np.round(_centred_freqs(m) * m).astype(np.int64)  # centred bins f' of the M grid
        # copy r at output bin f' is Ĥ at input bin f' + r·M: frequency (f' + r)/s in
        # cycles per input sample, continuous in f' (so no fftshift of the copies themselves)
        copies = h[(bins[None, :] + m * np.arange(s)[:, None]) % n]
        folded = copies.mean(axis=0)  # the alias sum Ŷ(f') = (1/s) Σ_r Ĥ(f' + r·M)
        fc = _centred_freqs(m)
        for r in range(s):  # one line per alias copy
            ax_fold.plot(
                fc,
                np.abs(copies[r]),
                lw=0.9,
                alpha=0.75,
                label=f"|Ĥ((f′ + {r})/{s})|" if s <= 4 else None,
            )
        ax_fold.plot(
            fc,
            np.abs(folded),
            color="black",
            lw=2,
            label="|Ŷ| = |(1/s)·Σᵣ Ĥ((f′ + r)/s)|",
            gid="convops.folded",
        )
        _label_line_panel(
            ax_fold,
            f"folding: stride {s} keeps one output in {s} (A δ)",
            "f′ (cycles per output sample)",
            "magnitude",
            legend=True,
        )
        tiled = np.tile(np.fft.ifftshift(folded), s)  # zero insertion: Ẑ(f) = Ŷ(f mod M)
        f = _centred_freqs(shape[0])
        ax_rep.fill_between(
            f,
            np.abs(np.fft.fftshift(tiled)),
            color="0.8",
            step="mid",
            label="|Ẑ|: Ŷ tiled s times",
            gid="convops.tiled",
        )
        ax_rep.plot(
            f,
            np.abs(np.fft.fftshift(np.conj(h) * tiled)),
            color="tab:red",
            lw=1.5,
            label="|conj(Ĥ)·Ẑ| (Aᵀ A δ)",
            gid="convops.replicated",
        )
        for b in _tile_edges(s):
            ax_rep.axvline(b, color="0.4", ls=":", lw=1)
        _label_line_panel(
            ax_rep,
            f"replication: zero-insertion tiles Ŷ {s} times (Aᵀ)",
            _CYCLES_PER_SAMPLE,
            "magnitude",
            legend=True,
        )
        return
    s0, s1 = stride
    m0, m1 = M
    folded = h.reshape(s0, m0, s1, m1).mean(axis=(0, 2))
    tiled = np.tile(folded, (s0, s1))
    fcs = [_centred_freqs(m) for m in M]
    ext_c = (
        fcs[1][0] - 0.5 / m1,
        fcs[1][-1] + 0.5 / m1,
        fcs[0][0] - 0.5 / m0,
        fcs[0][-1] + 0.5 / m0,
    )
    _image_panel(
        fig,
        ax_fold,
        np.abs(np.fft.fftshift(folded)),
        ext_c,
        "viridis",
        f"folding (stride {sdesc}): |Ŷ| = |alias sum of Ĥ|",
        "|Ŷ|",
    )
    ax_fold.set_xlabel("f′₁ (cycles per output sample)")
    ax_fold.set_ylabel("f′₀ (cycles per output sample)")
    n0, n1 = shape
    f0, f1 = _centred_freqs(n0), _centred_freqs(n1)
    ext = (f1[0] - 0.5 / n1, f1[-1] + 0.5 / n1, f0[0] - 0.5 / n0, f0[-1] + 0.5 / n0)
    _image_panel(
        fig,
        ax_rep,
        np.abs(np.fft.fftshift(tiled)),
        ext,
        "viridis",
        f"replication: zero-insertion tiles Ŷ {s0}×{s1} times",
        "|Ẑ|",
    )
    for b in _tile_edges(s1):
        ax_rep.axvline(b, color="white", ls=":", lw=1)
    for b in _tile_edges(s0):
        ax_rep.axhline(b, color="white", ls=":", lw=1)
