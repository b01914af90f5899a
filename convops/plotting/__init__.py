"""Views of a convolution: its matrix, sparsity, conv arithmetic, spectrum and overlap.

Importing this module imports matplotlib (``import convops`` does not).  Every function
draws with matplotlib's object-oriented API, returns what it made — the ``Axes`` for a
one-panel view, the ``Figure`` for a multi-panel one, the ``FuncAnimation`` for
:func:`animate` — accepts an existing ``ax`` where it draws one panel, and never calls
``plt.show()``.

======================  =============================================================
:func:`plot_matrix`     heatmap of a small matrix with values in the cells and lines
                        between the Toeplitz blocks
:func:`spy`             sparsity pattern of a large matrix, block structure visible
:func:`animate`         the conv-arithmetic picture (Dumoulin & Visin): gather for A,
                        scatter or "fractionally strided" for the transposed convolution
:func:`save_animation`  write an animation as GIF (Pillow) or MP4 (ffmpeg)
:func:`plot_spectrum`   magnitude and phase of the kernel spectrum Ĥ; folding and
                        replication for a stride
:func:`overlap_counts`  how many (input position, tap) pairs of a transposed convolution
                        land on each output pixel
:func:`plot_overlap`    those counts drawn: the checkerboard of 3×3 kernels with stride 2
======================  =============================================================
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Sequence

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from matplotlib import animation, colors
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.axes_grid1 import make_axes_locatable
from scipy.sparse.linalg import LinearOperator

from ..geometry import ConvGeometry, as_numeric_array
from ..operators import ConvOperator
from ..spectral import kernel_spectrum

__all__ = [
    "plot_matrix",
    "spy",
    "animate",
    "save_animation",
    "plot_spectrum",
    "overlap_counts",
    "plot_overlap",
]

#: ``annotate="auto"`` prints values when the matrix has at most this many rows and columns.
ANNOTATE_LIMIT = 40
#: :func:`plot_matrix` refuses matrices with more entries than this (use :func:`spy`).
DENSE_PLOT_LIMIT = 2**22

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_BLOCK_GID = "convops.blocks"
_CHANNEL_GID = "convops.channel-blocks"
_CELL_GID = "convops.cell"
_VALUE_GID = "convops.running-value"


# ----------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------
def _format_value(v: float, precision: int) -> str:
    """Integers as integers; other values with ``precision`` decimals (``g`` if that hides them).

    Complex values print as ``a+bj`` (each part formatted the same way).
    """
    if isinstance(v, complex) or np.iscomplexobj(v):
        v = complex(v)
        if v.imag != 0:
            im = _format_value(abs(v.imag), precision)
            return f"{_format_value(v.real, precision)}{'-' if v.imag < 0 else '+'}{im}j"
        v = v.real
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.{precision}f}"
    if float(text) == 0.0 or abs(v) >= 10.0 ** (precision + 4):
        text = f"{v:.{max(precision, 1)}g}"
    return text


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """``(figure, axes, created)``: the given axes, or a fresh figure with one axes."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax, True
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}")
    return ax.figure, ax, False


def _tight(fig: Figure) -> None:
    """``tight_layout`` without its warnings about axes it cannot place (colour-bar dividers)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()


def _as_matrix(obj, name: str = "op_or_matrix"):
    """``(matrix, geometry or None)`` from a ConvOperator, a sparse matrix or a 2-D array."""
    if isinstance(obj, ConvOperator):
        return obj.matrix(), obj.geometry
    if isinstance(obj, ConvGeometry):
        raise TypeError(
            f"{name} is a ConvGeometry, which has no kernel; pass a ConvOperator "
            "(e.g. ConvOperator.from_geometry(kernel, geometry)), a scipy.sparse matrix or a 2-D array"
        )
    if isinstance(obj, LinearOperator):
        raise TypeError(
            f"{name} is a {type(obj).__name__}, a LinearOperator without an explicit matrix; "
            "pass a ConvOperator, a scipy.sparse matrix or a 2-D array "
            "(for example op @ numpy.eye(op.shape[1]))"
        )
    if sp.issparse(obj):
        if obj.ndim != 2:
            raise ValueError(f"{name} must be a 2-D sparse matrix; got shape {obj.shape}")
        return sp.csr_array(obj), None
    try:
        arr = as_numeric_array(obj, name)
    except TypeError:
        raise TypeError(
            f"{name} must be a ConvOperator, a scipy.sparse matrix or a 2-D numeric array; "
            f"got {type(obj).__name__}"
        ) from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (a matrix); got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); there is nothing to draw")
    return arr, None


def _sides(geometry: ConvGeometry):
    """``((letter, shape) of the rows, (letter, shape) of the columns)`` of the op's matrix.

    The convolution maps ``x`` (its input) to ``y``; the transposed one ``y`` to ``x``.
    """
    g = geometry
    x_side = ("x", g.conv_input_shape)
    y_side = ("y", g.conv_output_shape)
    return (x_side, y_side) if g.transposed else (y_side, x_side)


def _index_labels(letter: str, shape: tuple[int, ...], multichannel: bool, flat) -> list[str]:
    """Labels like ``x[1,2]`` (channel as a subscript: ``x₀[1,2]``) for flat indices."""
    idx = np.unravel_index(np.asarray(flat, dtype=np.int64), shape)
    columns = np.stack(idx, axis=-1) if len(flat) else np.zeros((0, len(shape)), int)
    labels = []
    for row in columns:  # one string per drawn tick: bounded by the tick count
        if multichannel:
            labels.append(f"{letter}{str(row[0]).translate(_SUBSCRIPT)}[{','.join(map(str, row[1:]))}]")
        else:
            labels.append(f"{letter}[{','.join(map(str, row))}]")
    return labels


def _block_steps(shape: tuple[int, ...], multichannel: bool) -> tuple[int | None, int | None]:
    """``(channel step, block step)`` along one side of the matrix (None: no such level).

    Channel blocks have ``prod(spatial)`` entries; for two or more spatial axes the Toeplitz
    blocks of the outer spatial axis have ``prod(spatial[1:])`` entries.
    """
    spatial = shape[1:] if multichannel else shape
    channels = shape[0] if multichannel else 1
    channel_step = int(np.prod(spatial)) if channels > 1 else None
    block_step = int(np.prod(spatial[1:])) if len(spatial) >= 2 else None
    return channel_step, block_step


def _boundaries(size: int, step: int | None) -> np.ndarray:
    """Positions ``j·step − 0.5`` strictly inside ``[0, size)``."""
    if not step or step >= size:
        return np.zeros(0)
    return np.arange(step, size, step) - 0.5


def _draw_blocks(ax: Axes, rows: int, cols: int, row_steps, col_steps, color="0.25") -> None:
    """Thin lines between Toeplitz blocks, thicker ones between channel blocks."""
    for level, (rstep, cstep) in enumerate(zip(row_steps, col_steps)):
        r = _boundaries(rows, rstep)
        c = _boundaries(cols, cstep)
        if level == 1:  # the Toeplitz-block level: skip lines that a channel line covers
            r = np.setdiff1d(r, _boundaries(rows, row_steps[0]))
            c = np.setdiff1d(c, _boundaries(cols, col_steps[0]))
        if not (r.size or c.size):
            continue
        segments = [((-0.5, y), (cols - 0.5, y)) for y in r] + [((x, -0.5), (x, rows - 0.5)) for x in c]
        ax.add_collection(
            LineCollection(
                segments,
                colors="black" if level == 0 else color,
                linewidths=1.8 if level == 0 else 0.7,
                gid=_CHANNEL_GID if level == 0 else _BLOCK_GID,
                zorder=3,
            )
        )


def _geometry_steps(geometry: ConvGeometry):
    (_, rshape), (_, cshape) = _sides(geometry)
    mc = geometry.multichannel
    return _block_steps(rshape, mc), _block_steps(cshape, mc)


def _resolve_blocks(blocks, geometry, name="blocks"):
    """``(row_steps, col_steps)`` as (channel, block) pairs, or None for no lines."""
    if blocks is True:
        return _geometry_steps(geometry) if geometry is not None else None
    if blocks is False or blocks is None:
        return None
    if (
        isinstance(blocks, (tuple, list))
        and len(blocks) == 2
        and all(isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b >= 1 for b in blocks)
    ):
        return (None, int(blocks[0])), (None, int(blocks[1]))
    raise ValueError(
        f"{name}={blocks!r} is not understood: use True (the operator's block structure), "
        "False, or (rows per block, columns per block) as two positive ints"
    )


def _geometry_summary(g: ConvGeometry) -> str:
    def fmt(t):
        return "×".join(map(str, t))

    def same(t):  # one number when every axis agrees
        return str(t[0]) if len(set(t)) == 1 else fmt(t)

    if len(set(g.padding)) == 1 and g.padding[0][0] == g.padding[0][1]:
        pads = str(g.padding[0][0])
    else:
        pads = ", ".join(f"({lo},{hi})" if lo != hi else str(lo) for lo, hi in g.padding)
    parts = [f"k={fmt(g.kernel_size)}", f"stride {same(g.stride)}", f"padding {pads}"]
    if any(d != 1 for d in g.dilation):
        parts.append(f"dilation {same(g.dilation)}")
    if g.boundary != "zeros":
        parts.append(f"boundary {g.boundary!r}")
    if g.flip:
        parts.append("flip")
    if g.groups != 1:
        parts.append(f"groups {g.groups}")
    return ", ".join(parts)


def _plotted_part(values: np.ndarray, part: str) -> tuple[np.ndarray, str]:
    allowed = ("auto", "real", "imag", "abs")
    if part not in allowed:
        raise ValueError(f"part={part!r} is not allowed; use one of {allowed}")
    if not np.iscomplexobj(values):
        if part == "imag":
            return np.zeros(values.shape), "imaginary part"
        if part == "abs":
            return np.abs(values).astype(float), "|entry|"
        return values.astype(float, copy=False), "entry"
    if part in ("auto", "abs"):
        return np.abs(values), "|entry|"
    if part == "real":
        return values.real.copy(), "Re(entry)"
    return values.imag.copy(), "Im(entry)"


def _value_colormap(values: np.ndarray, cmap):
    """Diverging and centred on zero for signed values, sequential from zero otherwise."""
    vmax = float(np.max(np.abs(values))) if values.size else 0.0
    vmax = vmax if vmax > 0 else 1.0
    signed = bool((values < 0).any())
    name = cmap if cmap is not None else ("RdBu_r" if signed else "Reds")
    cm = plt.get_cmap(name).with_extremes(bad="white")
    norm = colors.Normalize(-vmax, vmax) if signed else colors.Normalize(0.0, vmax)
    return cm, norm


def _text_colors(cm, norm, values: np.ndarray) -> np.ndarray:
    """Black text on light cells, white on dark ones (relative luminance of the cell)."""
    rgba = cm(norm(values))
    lum = rgba[..., :3] @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(lum > 0.5, "black", "white")


# ----------------------------------------------------------------------------------------
# plot_matrix
# ----------------------------------------------------------------------------------------
def plot_matrix(
    op_or_matrix,
    ax: Axes | None = None,
    *,
    annotate: bool | Literal["auto"] = "auto",
    blocks: bool | tuple[int, int] = True,
    precision: int = 2,
    cmap=None,
    part: Literal["auto", "real", "imag", "abs"] = "auto",
    colorbar: bool = True,
    labels: bool = True,
    title: str | None = None,
) -> Axes:
    r"""Draw a small matrix as a heatmap with its values in the cells.

    For a :class:`~convops.ConvOperator` ``A`` the matrix is ``A.matrix()`` (rows: outputs
    ``y``, columns: inputs ``x``); for ``A.H`` / ``A.T`` it is the transposed matrix (rows
    ``x``, columns ``y``).  What is drawn:

    * one cell per entry, coloured by value: a diverging colour map centred on zero for
      signed values, a sequential one starting at white for nonnegative values; zero
      entries (structural or stored) are left white and blank;
    * the value in each nonzero cell when ``annotate`` says so — integers as integers
      (``7``, not ``7.00``), other values with ``precision`` decimals;
    * thin lines between the Toeplitz blocks (one block per output row × input row of a
      2-D geometry, the outer level of a 3-D one) and thick lines between channel blocks;
    * tick labels naming the multi-indices: ``y[0,1]`` for rows, ``x[1,2]`` for columns,
      with the channel as a subscript for multi-channel operators (``x₁[0,2]`` is channel
      1, position (0, 2)); only block starts are labelled when there are many rows;
    * a colour bar (``colorbar=True``).

    Parameters
    ----------
    op_or_matrix : ConvOperator, scipy.sparse matrix or array_like
        The operator (also ``op.H`` / ``op.T``) or any 2-D matrix.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure sized to the matrix otherwise.
    annotate : bool or "auto"
        Print values in the cells; ``"auto"`` does when both sides have at most
        ``ANNOTATE_LIMIT`` (40) entries.
    blocks : bool or (int, int)
        Draw the block lines of the operator's geometry; for a plain matrix pass
        ``(rows per block, columns per block)``.
    precision : int
        Decimals of non-integer values.
    cmap : str or Colormap, optional
        Overrides the default (``"RdBu_r"`` for signed, ``"Reds"`` for nonnegative values).
    part : {"auto", "real", "imag", "abs"}
        What to draw of complex entries (``"auto"``: the modulus).
    colorbar : bool
        Add a colour bar beside the axes.
    labels : bool
        Name the rows and columns (multi-indices for an operator, numbers otherwise).
    title : str, optional
        Default: what the matrix is and its size; ``""`` for none.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        For something that is not an operator, a sparse matrix or a numeric array.
    ValueError
        For arrays that are not 2-D, or too large to draw cell by cell (use :func:`spy`).

    Examples
    --------
    >>> import numpy as np, convops
    >>> from convops.plotting import plot_matrix
    >>> A = convops.ConvOperator(np.arange(1, 10).reshape(3, 3), (4, 4))
    >>> ax = plot_matrix(A)            # the 4×16 matrix, values 1…9 printed as integers
    >>> ax = plot_matrix(A.H)          # its 16×4 transpose
    """
    M, geometry = _as_matrix(op_or_matrix)
    rows, cols = M.shape
    if rows * cols > DENSE_PLOT_LIMIT:
        raise ValueError(
            f"the matrix is {rows}x{cols}, too large to draw cell by cell (limit "
            f"{DENSE_PLOT_LIMIT} entries); use convops.plotting.spy for its sparsity pattern"
        )
    if not isinstance(precision, (int, np.integer)) or isinstance(precision, bool) or precision < 0:
        raise ValueError(f"precision={precision!r} is not allowed: use an int >= 0")
    if annotate not in (True, False, "auto"):
        raise ValueError(f"annotate={annotate!r} is not allowed: use True, False or 'auto'")
    steps = _resolve_blocks(blocks, geometry)
    dense = M.toarray() if sp.issparse(M) else np.asarray(M)
    values, what = _plotted_part(dense, part)
    zero = values == 0
    cm, norm = _value_colormap(values, cmap)

    show_text = annotate is True or (annotate == "auto" and max(rows, cols) <= ANNOTATE_LIMIT)
    # cells of about a third of an inch when small, the whole matrix within ~9×7 inches
    cell_in = float(np.clip(min(10.0 / cols, 10.0 / rows), 0.02, 0.36))
    label_rows = labels and rows <= 48
    label_cols = labels and cols <= 48
    margin_l = 1.1 if label_rows and geometry is not None else 0.8
    margin_b = 1.1 if label_cols and geometry is not None else 0.7
    fig, ax, created = _new_axes(
        ax, (cols * cell_in + margin_l + (1.2 if colorbar else 0.3), rows * cell_in + margin_b + 0.8)
    )
    if not created:  # the cell size the given axes offers
        bbox = ax.get_window_extent()
        cell_in = min(bbox.width / cols, bbox.height / rows) / fig.dpi
    cell_pt = cell_in * 72

    im = ax.imshow(
        np.ma.masked_array(values, mask=zero), cmap=cm, norm=norm, interpolation="nearest", aspect="equal"
    )
    if show_text:
        # in "auto" mode, only when the text stays legible (at least 4.5 pt)
        show_text = _annotate_cells(ax, values, zero, cm, norm, precision, cell_pt, 4.5 if annotate == "auto" else 0.0)
    if show_text:
        # faint cell borders help to read rows of a small matrix
        ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        ax.grid(which="minor", color="0.88", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
    if steps is not None:
        _draw_blocks(ax, rows, cols, steps[0], steps[1])
    _matrix_ticks(ax, rows, cols, geometry, steps, labels, cell_pt)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)

    if colorbar:
        cax = make_axes_locatable(ax).append_axes("right", size=0.15, pad=0.1)
        cb = fig.colorbar(im, cax=cax)
        cb.set_label(what + " (zero: blank)", fontsize=8)
        cb.ax.tick_params(labelsize=8)
    if title is None:
        if geometry is not None:
            name = "transposed convolution" if geometry.transposed else "convolution"
            title = f"matrix of the {name}: {rows}×{cols}\n{_geometry_summary(geometry)}"
        else:
            title = f"{rows}×{cols} matrix"
    if title:
        ax.set_title(title, fontsize=10)
    if created:
        _tight(fig)
    return ax


def _annotate_cells(ax, values, zero, cm, norm, precision, cell_pt, min_size) -> bool:
    """Print the nonzero values in their cells; False (nothing drawn) below ``min_size`` pt."""
    r, c = np.nonzero(~zero)
    texts = [_format_value(v, precision) for v in values[r, c]]
    longest = max((len(t) for t in texts), default=1)
    # a character is about 0.6 em wide; keep the text inside 90% of the cell
    size = float(min(10.0, 0.9 * cell_pt / (0.6 * longest + 0.2), 0.7 * cell_pt))
    if size < min_size:
        return False
    size = max(size, 2.0)
    tcolors = _text_colors(cm, norm, values[r, c])
    for i, j, t, col in zip(r, c, texts, tcolors):  # one Text per nonzero cell of a small matrix
        ax.text(j, i, t, ha="center", va="center", fontsize=size, color=col, gid=_CELL_GID)
    return True


def _matrix_ticks(ax, rows, cols, geometry, steps, labels, cell_pt) -> None:
    if not labels:
        ax.set_xticks([])
        ax.set_yticks([])
        return
    if geometry is None:
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        return
    (rl, rshape), (cl, cshape) = _sides(geometry)
    mc = geometry.multichannel
    fs = float(np.clip(0.8 * cell_pt, 5.0, 8.0))

    def ticks(size, side_steps):
        if size <= 48:
            return np.arange(size)
        starts = [s for s in side_steps if s] if side_steps else []
        step = min(starts) if starts else None
        if step and size // step <= 48:
            return np.arange(0, size, step)
        return None

    rsteps = steps[0] if steps else None
    csteps = steps[1] if steps else None
    rt, ct = ticks(rows, rsteps), ticks(cols, csteps)
    if rt is not None:
        ax.set_yticks(rt, _index_labels(rl, rshape, mc, rt), fontsize=fs)
    if ct is not None:
        ax.set_xticks(ct, _index_labels(cl, cshape, mc, ct), fontsize=fs, rotation=90)
    ax.set_ylabel(f"row: output {rl}")
    ax.set_xlabel(f"column: input {cl}")


# ----------------------------------------------------------------------------------------
# spy
# ----------------------------------------------------------------------------------------
def spy(
    op_or_matrix,
    ax: Axes | None = None,
    *,
    blocks: bool | tuple[int, int] = True,
    color="black",
    title: str | None = None,
) -> Axes:
    """Draw the sparsity pattern of a (large) matrix with its block structure.

    Each nonzero entry is marked; when the matrix has more rows or columns than the axes
    has pixels, it is binned so that every image pixel covers ``f × f`` entries and is
    marked if any of them is nonzero (the title states ``f``).  Stored zeros of a sparse
    matrix are not marked.  Block lines as in :func:`plot_matrix` are drawn in blue
    (channel blocks thicker).  Cost: one pass over the nonzeros, so a 4096×4096 sparse
    convolution matrix draws in a fraction of a second.

    Parameters
    ----------
    op_or_matrix : ConvOperator, scipy.sparse matrix or array_like
        The operator (also ``op.H``) or any 2-D matrix.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    blocks : bool or (int, int)
        Block lines of the operator's geometry, or ``(rows, columns)`` per block.
    color : color
        Colour of the nonzero entries.
    title : str, optional
        Default: size, nonzero count and density; ``""`` for none.

    Returns
    -------
    matplotlib.axes.Axes
    """
    M, geometry = _as_matrix(op_or_matrix)
    rows, cols = M.shape
    steps = _resolve_blocks(blocks, geometry)
    if sp.issparse(M):
        coo = sp.coo_array(M)
        keep = coo.data != 0
        r, c = coo.row[keep], coo.col[keep]
    else:
        r, c = np.nonzero(np.asarray(M))
    aspect = rows / cols
    # the longer side 6 inches (the shorter at least 3.5), plus room for the title
    width, height = (6.0, max(6.0 * aspect, 3.5)) if aspect <= 1 else (max(6.0 / aspect, 3.5), 6.0)
    fig, ax, created = _new_axes(ax, (width, height + 0.8))
    # one image pixel per screen pixel at most: finer bins would be resampled away
    bbox = ax.get_window_extent()
    pixels = max(int(min(bbox.width, bbox.height)), 64)
    f = max(1, int(np.ceil(max(rows, cols) / pixels)))
    br, bc = -(-rows // f), -(-cols // f)
    occupied = np.zeros((br, bc), dtype=np.uint8)
    occupied[r // f, c // f] = 1
    ax.imshow(
        occupied,
        cmap=colors.ListedColormap(["white", color]),
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(-0.5, bc * f - 0.5, br * f - 0.5, -0.5),
        aspect="equal",
    )
    if steps is not None:
        _draw_blocks(ax, rows, cols, steps[0], steps[1], color="tab:blue")
        for coll in ax.collections:
            if coll.get_gid() == _CHANNEL_GID:
                coll.set_color("tab:red")
            elif coll.get_gid() == _BLOCK_GID:
                # many blocks: keep the lines faint so the pattern stays visible
                coll.set_alpha(0.6 if len(coll.get_segments()) <= 40 else 0.3)
                coll.set_linewidth(0.7 if len(coll.get_segments()) <= 40 else 0.4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    if geometry is not None:
        (rl, _), (cl, _) = _sides(geometry)
        ax.set_xlabel(f"column (input {cl}, flat index)")
        ax.set_ylabel(f"row (output {rl}, flat index)")
    else:
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    nnz = int(r.size)
    if title is None:
        title = f"sparsity pattern: {rows}×{cols}, {nnz} nonzeros ({nnz / (rows * cols):.2%})"
        if f > 1:
            title += f"\none pixel = {f}×{f} entries"
        if geometry is not None and steps is not None:
            title += ("; " if f > 1 else "\n") + "lines: block boundaries"
    if title:
        ax.set_title(title, fontsize=10)
    if created:
        _tight(fig)
    return ax


# ----------------------------------------------------------------------------------------
# conv arithmetic animations
# ----------------------------------------------------------------------------------------
_DATA, _PAD, _COPY, _INSERT = 0, 1, 2, 3

_STYLE = {
    ("input", _DATA): dict(facecolor="#9ecae1", edgecolor="#3f6e93"),
    ("output", _DATA): dict(facecolor="white", edgecolor="#2c7a4b"),
    ("kernel", _DATA): dict(facecolor="#fdd49e", edgecolor="#b35806"),
    (None, _PAD): dict(facecolor="#eeeeee", edgecolor="#9a9a9a", hatch="///"),
    (None, _COPY): dict(facecolor="#dbe9f6", edgecolor="#8fb0cf", hatch="///"),
    (None, _INSERT): dict(facecolor="white", edgecolor="#3f6e93", linestyle=(0, (2, 2))),
}
_FOOT = dict(facecolor="#e6550d", alpha=0.45, edgecolor="#a63603", linewidth=1.2)
_DONE = dict(facecolor="#bfe5c6", edgecolor="#2c7a4b")
_MARK = {
    "output": dict(facecolor="#74c476", edgecolor="black", linewidth=2.2),
    "input": dict(facecolor="#fdae6b", edgecolor="black", linewidth=2.2),
}


@dataclass
class _Grid:
    """One grid of the picture, always 2-D (a 1-D geometry is one row)."""

    title: str
    role: str  # "input", "output" or "kernel": the colours of its data cells
    kind: np.ndarray  # (R, C) of _DATA, _PAD, _COPY, _INSERT
    values: np.ndarray | None = None  # static values printed in data/copy cells
    source: tuple[np.ndarray, np.ndarray] | None = None  # input index of copy cells
    origin: tuple[float, float] = (0.0, 0.0)

    @property
    def shape(self) -> tuple[int, int]:
        return self.kind.shape


@dataclass
class _Story:
    """Everything one animation shows, frame by frame, as arrays."""

    left: _Grid
    right: _Grid
    kernel: _Grid
    foot_on: str  # the grid the kernel footprint lies on: "left" or "right"
    foot: np.ndarray  # (F, K, 2) cells of the footprint
    corner: np.ndarray  # (F, K) numbers printed in the footprint cells' corners
    mark: np.ndarray  # (F, 2) highlighted cell on the other grid
    running: np.ndarray  # (F, R, C) values of the right grid after each frame (NaN: none yet)
    captions: list[str]
    title: str
    result: np.ndarray  # what the operator returns for the shown data
    one_d: bool
    legend: list[tuple[str, dict]]


def _lift(values: Sequence, one_d: bool, dummy) -> tuple:
    """Per-axis parameters of a 1-D geometry as a 2-D one with a leading axis of size 1."""
    return (dummy,) + tuple(values) if one_d else tuple(values)


def _full_source(g: ConvGeometry, axis: int) -> np.ndarray:
    """Input index read at every padded position ``0 … n + lo + hi − 1`` (−1: zero padding).

    :meth:`ConvGeometry.pad_source_index` covers the positions some output reads; the
    picture draws the whole padded input, so ask a stride-1 twin that reads all of it.
    """
    natural = tuple(
        n + lo + hi - e + 1 for n, (lo, hi), e in zip(g.spatial_in, g.padding, g.span)
    )
    twin = replace(g, stride=(1,) * g.ndim, spatial_out=natural, transposed=False)
    return twin.pad_source_index(axis)


def _padded_grid(g: ConvGeometry, one_d: bool, x2: np.ndarray | None, role: str, title: str) -> _Grid:
    """The padded input grid ``x̃`` (``n + lo + hi`` per axis) with kinds and values."""
    src = _lift([_full_source(g, a) for a in range(g.ndim)], one_d, np.zeros(1, dtype=np.int64))
    pads = _lift(g.padding, one_d, (0, 0))
    n = _lift(g.spatial_in, one_d, 1)
    inside = [(np.arange(s.size) >= lo) & (np.arange(s.size) < lo + nn) for s, (lo, _), nn in zip(src, pads, n)]
    data = inside[0][:, None] & inside[1][None, :]
    outside = _PAD if g.boundary == "zeros" else _COPY
    kind = np.where(data, _DATA, outside)
    s0, s1 = np.broadcast_arrays(src[0][:, None], src[1][None, :])
    values = None
    if x2 is not None:
        valid = (s0 >= 0) & (s1 >= 0)
        values = np.where(valid, x2[np.maximum(s0, 0), np.maximum(s1, 0)], 0)
    return _Grid(title, role, kind, values, (s0, s1))


def _kernel_lifted(op: ConvOperator, one_d: bool, conjugate: bool, flipped: bool) -> np.ndarray:
    w = op.geometry.canonical_kernel(op.kernel)[0, 0]
    if conjugate:
        w = np.conj(w)
    if flipped:
        w = w[(slice(None, None, -1),) * w.ndim]
    return w.reshape(1, -1) if one_d else w


def _tap_offsets(k: tuple[int, int], d: tuple[int, int]) -> np.ndarray:
    """``(K, 2)`` offsets ``t·d`` of the taps in C order."""
    t0, t1 = np.indices(k).reshape(2, -1)
    return np.stack([t0 * d[0], t1 * d[1]], axis=-1)


def _footprints(m, s, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every output index ``o`` in C order, ``(F, 2)``, and the cells its taps touch,
    ``o·s + t·d``, ``(F, K, 2)`` (``T`` from :func:`_tap_offsets`)."""
    oo = np.stack(np.unravel_index(np.arange(int(np.prod(m))), m), axis=-1)
    return oo, (oo * np.array(s))[:, None, :] + T[None]


def _running_in_order(final: np.ndarray) -> np.ndarray:
    """``(F, R, C)``: cell values revealed one per frame in C order (NaN before)."""
    F = final.size
    order = np.arange(F).reshape(final.shape)
    return np.where(order[None] <= np.arange(F)[:, None, None], final[None], np.nan)


def _idx(cell, one_d: bool) -> str:
    return str(int(cell[1])) if one_d else f"{int(cell[0])},{int(cell[1])}"


def _sum_terms(weights, values, precision, limit=9) -> str | None:
    if len(weights) > limit:
        return None
    def fmt(v):
        text = _format_value(v, precision)
        return f"({text})" if text.startswith("-") else text

    terms = [f"{fmt(w)}·{fmt(v)}" for w, v in zip(weights, values)]
    return " + ".join(terms)


def _story_forward(op: ConvOperator, x: np.ndarray, precision: int, show: bool) -> _Story:
    """Gather: one frame per output ``y[o] = Σ_t w[t]·x̃[o·s + t·d]``."""
    g = op.geometry
    one_d = g.ndim == 1
    x2 = x.reshape(1, -1) if one_d else x
    left = _padded_grid(g, one_d, x2, "input", "input x, padded to x̃")
    w = _kernel_lifted(op, one_d, conjugate=False, flipped=False)
    m = _lift(g.spatial_out, one_d, 1)
    s = _lift(g.stride, one_d, 1)
    d = _lift(g.dilation, one_d, 1)
    T = _tap_offsets(w.shape, d)
    V = left.values
    o0, o1 = np.arange(m[0]) * s[0], np.arange(m[1]) * s[1]
    y = np.zeros(m, dtype=np.result_type(V, w))
    for (a, b), wt in zip(T, w.ravel()):  # loop over taps, vectorised over outputs
        y += wt * V[np.ix_(o0 + a, o1 + b)]
    oo, foot = _footprints(m, s, T)
    F = len(oo)
    captions = []
    for f in range(F):  # one caption per frame
        o = oo[f]
        cells = foot[f]
        expr = _sum_terms(w.ravel(), V[cells[:, 0], cells[:, 1]], precision) if show else None
        head = f"y[{_idx(o, one_d)}] = Σₜ w[t]·x̃[{_idx(o, one_d)}·s + t·d]"
        captions.append(head + (f" = {expr} = {_format_value(y[tuple(o)], precision)}" if expr else ""))
    kind_r = np.full(m, _DATA)
    title = f"convolution y = A x: gather, one frame per output\n{_geometry_summary(g)}"
    legend = [("input x", _STYLE[("input", _DATA)])]
    legend += [("zero padding", _STYLE[(None, _PAD)])] if g.boundary == "zeros" else [
        (f"{g.boundary} padding: copy of x[·]", _STYLE[(None, _COPY)])
    ]
    legend += [("kernel footprint (weights in corners)", _FOOT), ("output being computed", _MARK["output"])]
    return _Story(
        left=left,
        right=_Grid("output y", "output", kind_r),
        kernel=_Grid("kernel w" + (" (flipped)" if g.flip else ""), "kernel", np.full(w.shape, _DATA), w),
        foot_on="left",
        foot=foot,
        corner=np.broadcast_to(w.ravel(), foot.shape[:2]),
        mark=oo,
        running=_running_in_order(y),
        captions=captions,
        title=title,
        result=y.reshape(g.spatial_out),
        one_d=one_d,
        legend=legend,
    )


def _story_scatter(op: ConvOperator, yv: np.ndarray, precision: int, show: bool) -> _Story:
    """Scatter: one frame per input ``y[o]``: ``x̃[o·s + t·d] += w̄[t]·y[o]``, then fold."""
    g = op.geometry
    one_d = g.ndim == 1
    y2 = yv.reshape(1, -1) if one_d else yv
    right = _padded_grid(g, one_d, None, "output", "output x̃ (running sum)")
    w = _kernel_lifted(op, one_d, conjugate=True, flipped=False)
    m = _lift(g.spatial_out, one_d, 1)
    s = _lift(g.stride, one_d, 1)
    d = _lift(g.dilation, one_d, 1)
    T = _tap_offsets(w.shape, d)
    oo, foot = _footprints(m, s, T)
    F = len(oo)
    products = y2[oo[:, 0], oo[:, 1]][:, None] * w.ravel()[None, :]
    acc = np.zeros(right.shape, dtype=products.dtype)
    touched = np.zeros(right.shape, dtype=bool)
    running = np.empty((F,) + right.shape, dtype=products.dtype)
    captions = []
    for f in range(F):  # frames: each adds one placed kernel (its taps hit distinct cells)
        acc[foot[f, :, 0], foot[f, :, 1]] += products[f]
        touched[foot[f, :, 0], foot[f, :, 1]] = True
        running[f] = np.where(touched, acc, np.nan)
        o = _idx(oo[f], one_d)
        cap = f"x̃[{o}·s + t·d] += w[t]·y[{o}]"
        if show:
            cap += f",  y[{o}] = {_format_value(y2[tuple(oo[f])], precision)}"
        captions.append(cap)
    # fold the padded sum back onto x: crop for zeros, add copies onto their source otherwise
    s0, s1 = right.source
    valid = (s0 >= 0) & (s1 >= 0)
    n2 = _lift(g.spatial_in, one_d, 1)
    x = np.zeros(n2, dtype=acc.dtype)
    np.add.at(x, (s0[valid], s1[valid]), acc[valid])
    fold = "cropped" if g.boundary == "zeros" else "folded onto x[·] they copy"
    captions[-1] += f";  then the padding cells are {fold}"
    title = f"transposed convolution x = Aᵀ y: scatter, one frame per input\n{_geometry_summary(g)}"
    legend = [("input y", _STYLE[("input", _DATA)]), ("input being scattered", _MARK["input"])]
    legend += [("padding (cropped)", _STYLE[(None, _PAD)])] if g.boundary == "zeros" else [
        ("padding: folded onto x[·]", _STYLE[(None, _COPY)])
    ]
    legend += [("kernel × y[o] (products in corners)", _FOOT), ("running sum", _DONE)]
    return _Story(
        left=_Grid("input y", "input", np.full(y2.shape, _DATA), y2),
        right=right,
        kernel=_Grid("kernel w" + (" (flipped)" if g.flip else ""), "kernel", np.full(w.shape, _DATA), w),
        foot_on="right",
        foot=foot,
        corner=products,
        mark=oo,
        running=running,
        captions=captions,
        title=title,
        result=x.reshape(g.spatial_in),
        one_d=one_d,
        legend=legend,
    )


def _story_fractional(op: ConvOperator, yv: np.ndarray, precision: int, show: bool) -> _Story:
    """Fractionally strided: zero-insert ``y``, pad by ``d·(k−1) − lo`` / ``− hi``, convolve.

    ``x[i] = Σ_u w̄[k−1−u]·z̃[i + u·d]`` where ``z̃`` is ``y`` with ``s − 1`` zeros between
    entries, shifted by ``L = d·(k−1) − lo`` (cut instead when ``L < 0``).
    """
    g = op.geometry
    if g.boundary != "zeros":
        raise ValueError(
            f"fractional=True draws the zero-padded equivalence (zero-inserted input, direct "
            f"convolution with the flipped kernel); boundary={g.boundary!r} folds the padding "
            "instead: use the scatter view (fractional=False)"
        )
    one_d = g.ndim == 1
    y2 = yv.reshape(1, -1) if one_d else yv
    n = _lift(g.spatial_in, one_d, 1)
    m = _lift(g.spatial_out, one_d, 1)
    s = _lift(g.stride, one_d, 1)
    d = _lift(g.dilation, one_d, 1)
    k = _lift(g.kernel_size, one_d, 1)
    lo = [p[0] for p in _lift(g.padding, one_d, (0, 0))]
    L = [dd * (kk - 1) - ll for dd, kk, ll in zip(d, k, lo)]
    Z = [(mm - 1) * ss + 1 for mm, ss in zip(m, s)]
    axes = []
    for a in range(2):
        q = np.arange(n[a] + (k[a] - 1) * d[a]) - L[a]
        inside = (q >= 0) & (q < Z[a])
        axes.append((q, inside, inside & (q % s[a] == 0)))
    (q0, in0, da0), (q1, in1, da1) = axes
    data = da0[:, None] & da1[None, :]
    kind = np.where(data, _DATA, np.where(in0[:, None] & in1[None, :], _INSERT, _PAD))
    V = np.where(data, y2[np.clip(q0 // s[0], 0, m[0] - 1)][:, np.clip(q1 // s[1], 0, m[1] - 1)], 0)
    w = _kernel_lifted(op, one_d, conjugate=True, flipped=True)
    T = _tap_offsets(w.shape, d)
    x = np.zeros(n, dtype=np.result_type(V, w))
    for (a, b), wt in zip(T, w.ravel()):  # taps, vectorised over outputs
        x += wt * V[a : a + n[0], b : b + n[1]]
    ii, foot = _footprints(n, (1, 1), T)
    F = len(ii)
    captions = []
    for f in range(F):  # one caption per frame
        i = _idx(ii[f], one_d)
        cells = foot[f]
        expr = _sum_terms(w.ravel(), V[cells[:, 0], cells[:, 1]], precision) if show else None
        head = f"x[{i}] = Σᵤ w_flipped[u]·z̃[{i} + u·d]"
        captions.append(head + (f" = {expr} = {_format_value(x[tuple(ii[f])], precision)}" if expr else ""))
    Ls = ", ".join(str(v) for v in (L[1:] if one_d else L))
    title = (
        "transposed convolution as a fractionally strided one, one frame per output\n"
        f"z̃ = y with s−1 zeros between entries, shifted by d·(k−1)−lo = {Ls};  {_geometry_summary(g)}"
    )
    legend = [
        ("input y", _STYLE[("input", _DATA)]),
        ("inserted zero", _STYLE[(None, _INSERT)]),
        ("zero padding", _STYLE[(None, _PAD)]),
        ("flipped kernel footprint", _FOOT),
        ("output being computed", _MARK["output"]),
    ]
    return _Story(
        left=_Grid("z̃: y zero-inserted and padded", "input", kind, V),
        right=_Grid("output x", "output", np.full(n, _DATA)),
        kernel=_Grid("kernel w, flipped", "kernel", np.full(w.shape, _DATA), w),
        foot_on="left",
        foot=foot,
        corner=np.broadcast_to(w.ravel(), foot.shape[:2]),
        mark=ii,
        running=_running_in_order(x),
        captions=captions,
        title=title,
        result=x.reshape(g.spatial_in),
        one_d=one_d,
        legend=legend,
    )


def _cells(kind_mask: np.ndarray, origin, **style) -> PatchCollection:
    r, c = np.nonzero(kind_mask)
    rects = [Rectangle((origin[0] + cc, origin[1] + rr), 1, 1) for rr, cc in zip(r, c)]
    return PatchCollection(rects, match_original=False, **style)


def _grid_text(ax, grid: _Grid, cell_pt: float, show: bool, precision: int, complex_: bool, one_d: bool) -> None:
    x0, y0 = grid.origin
    ax.text(x0, y0 - 0.25, grid.title, ha="left", va="bottom", fontsize=9, fontweight="bold")
    if show and grid.values is not None and not complex_:
        vs = cell_pt * 0.34
        r, c = np.nonzero((grid.kind == _DATA) | (grid.kind == _COPY))
        for rr, cc in zip(r, c):  # one Text per cell of a small grid
            copy = grid.kind[rr, cc] == _COPY
            ax.text(
                x0 + cc + 0.5, y0 + rr + 0.55, _format_value(grid.values[rr, cc].real, precision),
                ha="center", va="center", fontsize=vs, color="0.35" if copy else "black",
                fontstyle="italic" if copy else "normal", zorder=8,
            )
    if grid.source is not None and cell_pt >= 20:
        r, c = np.nonzero(grid.kind == _COPY)
        s0, s1 = grid.source
        for rr, cc in zip(r, c):  # label each copied cell with its source
            label = f"x[{s1[rr, cc]}]" if one_d else f"x[{s0[rr, cc]},{s1[rr, cc]}]"
            ax.text(
                x0 + cc + 0.5, y0 + rr + 0.05, label, ha="center", va="top",
                fontsize=max(cell_pt * 0.19, 5.0), color="#24496b", zorder=8,
            )


def _render(story: _Story, *, show: bool, precision: int, interval: int) -> animation.FuncAnimation:
    L, R, K = story.left, story.right, story.kernel
    # sizes in points of the text bands: two title lines and a grid title above the grids,
    # a caption and two legend rows below them
    top_pt, bottom_pt = 54.0, 62.0
    if story.one_d:  # rows stacked: input, output, kernel
        width = max(L.shape[1], R.shape[1], K.shape[1])
        cell_in = float(np.clip(12.0 / width, 0.12, 0.45))
        gap = 1.0 + 16.0 / (cell_in * 72)  # room for the next grid's title
        L.origin, R.origin, K.origin = (0.0, 0.0), (0.0, 1.0 + gap), (0.0, 2.0 + 2 * gap)
        height = 3.0 + 2 * gap
    else:  # side by side: input, output, kernel
        gap = 2.0
        L.origin = (0.0, 0.0)
        R.origin = (L.shape[1] + gap, 0.0)
        K.origin = (R.origin[0] + R.shape[1] + gap, 0.0)
        width = K.origin[0] + K.shape[1]
        height = max(L.shape[0], R.shape[0], K.shape[0])
        cell_in = float(np.clip(min(12.0 / width, 6.5 / height), 0.12, 0.45))
    cell_pt = cell_in * 72
    fig_w = max((width + 1.0) * cell_in, 8.0)
    fig_h = height * cell_in + (top_pt + bottom_pt) / 72
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    # limits in cell units with the figure's aspect: cells come out square
    y_top = -top_pt / cell_pt
    ax.set_xlim(-0.5, -0.5 + fig_w / cell_in)
    ax.set_ylim(y_top + fig_h / cell_in, y_top)
    complex_ = any(np.iscomplexobj(gr.values) for gr in (L, K) if gr.values is not None)
    show = show and not complex_

    for grid in (L, R, K):
        for kind in (_DATA, _PAD, _COPY, _INSERT):
            mask = grid.kind == kind
            if mask.any():
                style = _STYLE[(grid.role, kind) if kind == _DATA else (None, kind)]
                ax.add_collection(_cells(mask, grid.origin, linewidth=0.8, **style))
        _grid_text(ax, grid, cell_pt, show, precision, complex_, story.one_d)
    ax.text(-0.3, y_top + 4 / cell_pt, story.title, ha="left", va="top", fontsize=9, linespacing=1.3)
    caption_y = height + 6 / cell_pt
    caption = ax.text(-0.3, caption_y, "", ha="left", va="top", fontsize=9)
    handles = [Patch(label=label, **{k: v for k, v in style.items() if k != "linewidth"}) for label, style in story.legend]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(-0.45, caption_y + 16 / cell_pt),
        bbox_transform=ax.transData, ncol=3, fontsize=8, frameon=False, handlelength=1.5,
        columnspacing=1.2, borderaxespad=0.0,
    )

    foot_grid, mark_grid = (L, R) if story.foot_on == "left" else (R, L)
    dynamic: list = []

    def draw_frame(f: int):
        for artist in dynamic:
            artist.remove()
        dynamic.clear()
        # the right grid's values so far
        vals = story.running[f]
        done = ~np.isnan(vals.real) if np.iscomplexobj(vals) else ~np.isnan(vals)
        done_style = _DONE if R.role == "output" else {}
        if done.any():
            dynamic.append(ax.add_collection(_cells(done & (R.kind == _DATA), R.origin, linewidth=0.8, **done_style)))
        if show and cell_pt >= 10:
            r, c = np.nonzero(done)
            for rr, cc in zip(r, c):  # one Text per computed cell of a small grid
                dynamic.append(ax.text(
                    R.origin[0] + cc + 0.5, R.origin[1] + rr + 0.55, _format_value(vals[rr, cc].real, precision),
                    ha="center", va="center", fontsize=cell_pt * 0.34, zorder=8, gid=_VALUE_GID,
                ))
        # highlighted cell and kernel footprint
        mr, mc = story.mark[f]
        dynamic.append(ax.add_patch(Rectangle(
            (mark_grid.origin[0] + mc, mark_grid.origin[1] + mr), 1, 1, zorder=5,
            **_MARK[mark_grid.role],
        )))
        cells = story.foot[f]
        fx0, fy0 = foot_grid.origin
        dynamic.append(ax.add_collection(_cells(
            np.isin(np.arange(foot_grid.kind.size), np.ravel_multi_index(cells.T, foot_grid.shape)).reshape(foot_grid.shape),
            foot_grid.origin, zorder=5, **_FOOT,
        )))
        if show and cell_pt >= 14:
            for (rr, cc), v in zip(cells, story.corner[f]):  # one label per tap
                dynamic.append(ax.text(
                    fx0 + cc + 0.95, fy0 + rr + 0.95, _format_value(v.real, precision), ha="right",
                    va="bottom", fontsize=cell_pt * 0.2, color="#7f2704", zorder=7,
                ))
        # dashed outline of the footprint's extent and lines to the highlighted cell
        r0, c0 = cells.min(axis=0)
        r1, c1 = cells.max(axis=0) + 1
        dynamic.append(ax.add_patch(Rectangle(
            (fx0 + c0, fy0 + r0), c1 - c0, r1 - r0, fill=False, edgecolor="#a63603",
            linestyle="--", linewidth=1.2, zorder=6,
        )))
        mx0, my0 = mark_grid.origin[0] + mc, mark_grid.origin[1] + mr
        if story.one_d:  # foot grid above or below the mark grid
            fy = fy0 + (r1 if fy0 < my0 else r0)
            my = my0 + (0 if fy0 < my0 else 1)
            pairs = [((fx0 + c0, fy), (mx0, my)), ((fx0 + c1, fy), (mx0 + 1, my))]
        else:  # foot grid left or right of the mark grid
            fx = fx0 + (c1 if fx0 < mx0 else c0)
            mx = mx0 + (0 if fx0 < mx0 else 1)
            pairs = [((fx, fy0 + r0), (mx, my0)), ((fx, fy0 + r1), (mx, my0 + 1))]
        dynamic.append(ax.add_collection(LineCollection(
            pairs, colors="0.45", linestyles="--", linewidths=0.9, zorder=6,
        )))
        caption.set_text(f"frame {f + 1}/{len(story.captions)}:  {story.captions[f]}")
        return dynamic + [caption]

    F = len(story.captions)
    anim = animation.FuncAnimation(
        fig, draw_frame, frames=range(F), init_func=lambda: draw_frame(0), interval=interval,
        blit=False, repeat=True, cache_frame_data=False,
    )
    draw_frame(0)
    # frame 0 is on the figure already: tell matplotlib not to warn that nothing was drawn
    anim._draw_was_started = True
    anim.frame_count = F
    anim.draw_frame = draw_frame
    anim.result = story.result
    return anim


def _default_data(shape, data, name: str) -> np.ndarray:
    if data is None:
        # small integers (0…3) keep every sum readable, as in Dumoulin & Visin's pictures
        return np.random.default_rng(0).integers(0, 4, size=shape).astype(float)
    arr = as_numeric_array(data, name)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} of shape {arr.shape} does not fit: the operator's input has shape {tuple(shape)}")
    return arr


def animate(
    op: ConvOperator,
    *,
    fractional: bool = False,
    data=None,
    values: bool | Literal["auto"] = "auto",
    precision: int = 1,
    interval: int = 700,
) -> animation.FuncAnimation:
    r"""The conv-arithmetic picture (Dumoulin & Visin, 2016) of a 1-D or 2-D convolution.

    Drawn on one figure, for any stride, padding ``(lo, hi)``, dilation and boundary:

    * **convolution** (``op.geometry.transposed`` False), one frame per output position
      ``o`` (C order): the input padded to ``x̃`` (padding cells hatched: grey for zeros,
      blue with the source index ``x[·]`` and its value for circular/reflect/replicate),
      the kernel footprint ``o·s + t·d`` (dilation gaps visible, weights in the cells'
      corners) and the output cell being computed, with
      ``y[o] = Σ_t w[t]·x̃[o·s + t·d]`` written out;
    * **transposed convolution**, scatter view (default), one frame per *input* position
      ``o`` of ``y``: ``w[t]·y[o]`` laid onto the padded output grid at ``o·s + t·d``
      with a running sum; the padding cells are then cropped (zeros) or folded onto the
      input entries they copy;
    * **transposed convolution**, ``fractional=True``, one frame per output position ``i``:
      the "fractionally strided" equivalent — ``y`` with ``s − 1`` zeros inserted between
      entries, shifted by ``d·(k − 1) − lo`` (and padded up to ``d·(k − 1) − hi`` plus any
      ``output_padding``), convolved with the flipped kernel at stride 1:
      ``x[i] = Σ_u w[k − 1 − u]·z̃[i + u·d]``.  Zero boundary only.

    Values are printed when the grids are small (``values="auto"``); complex kernels are
    drawn without values.  The frame count is ``prod(m)`` for the convolution and the
    scatter view and ``prod(n)`` for the fractional view (``m``, ``n``: spatial sizes of
    the convolution's output and input).

    Parameters
    ----------
    op : ConvOperator
        Single-channel, 1-D or 2-D; ``op.H`` / ``op.T`` for the transposed views.
    fractional : bool
        Transposed operators only: the fractionally strided view instead of the scatter.
    data : array_like, optional
        The operator's input (shape ``op.input_shape``); default small random integers.
    values : bool or "auto"
        Print values in the cells (``"auto"``: when every grid has at most 12 cells per
        axis in 2-D, 40 in 1-D).
    precision : int
        Decimals of non-integer values.
    interval : int
        Milliseconds between frames.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        With extra attributes ``frame_count`` (int), ``draw_frame(i)`` (draws frame ``i``
        on the figure ``anim._fig``) and ``result`` (the output the picture computes,
        equal to ``op.apply(data)``).

    Raises
    ------
    TypeError
        If ``op`` is not a ConvOperator.
    ValueError
        For 3-D or multi-channel operators, ``fractional=True`` on a convolution or a
        non-zero boundary, or ``data`` of the wrong shape.

    Examples
    --------
    >>> import numpy as np, convops
    >>> from convops.plotting import animate, save_animation
    >>> A = convops.ConvOperator(np.ones((3, 3)), (5, 5), stride=2, padding=1)
    >>> anim = animate(A)           # 9 frames: one per output of the 3×3 output
    >>> anim.frame_count
    9
    >>> anim = animate(A.H)         # 9 frames: one per input of the transposed conv
    >>> anim = animate(A.H, fractional=True)   # 25 frames: one per output pixel
    """
    if not isinstance(op, ConvOperator):
        raise TypeError(f"op must be a convops.ConvOperator; got {type(op).__name__}")
    g = op.geometry
    if g.ndim == 3:
        raise ValueError(
            f"animate draws 1-D and 2-D geometries; this operator is 3-D (input {g.spatial_in}). "
            "Animate a 2-D slice instead, e.g. ConvOperator(op.kernel[i], op.geometry.spatial_in[1:], "
            "stride=..., padding=...) with the last two axes' parameters"
        )
    if g.multichannel:
        raise ValueError(
            f"animate draws single-channel convolutions; this kernel has shape {g.kernel_shape} "
            f"(C_out={g.out_channels}, C_in/groups={g.in_channels // g.groups}). Animate one "
            "channel pair: ConvOperator(op.kernel[co, ci], op.geometry.spatial_in, stride=..., padding=...)"
        )
    if not isinstance(fractional, (bool, np.bool_)):
        raise TypeError(f"fractional must be True or False; got {fractional!r}")
    if fractional and not g.transposed:
        raise ValueError(
            "fractional=True is the view of a transposed convolution; pass op.H (or op.T)"
        )
    if values not in (True, False, "auto"):
        raise ValueError(f"values={values!r} is not allowed: use True, False or 'auto'")
    if not isinstance(precision, (int, np.integer)) or isinstance(precision, bool) or precision < 0:
        raise ValueError(f"precision={precision!r} is not allowed: use an int >= 0")
    x = _default_data(op.input_shape, data, "data")
    limit = 40 if g.ndim == 1 else 12
    sizes = [e + lo + hi for e, (lo, hi) in zip(g.spatial_in, g.padding)] + list(g.spatial_out)
    sizes += [n + d * (k - 1) for n, d, k in zip(g.spatial_in, g.dilation, g.kernel_size)] if fractional else []
    show = values is True or (values == "auto" and max(sizes) <= limit)
    show = show and not (np.iscomplexobj(op.kernel) or np.iscomplexobj(x))  # no room for a+bj
    if not g.transposed:
        story = _story_forward(op, x, precision, show)
    elif fractional:
        story = _story_fractional(op, x, precision, show)
    else:
        story = _story_scatter(op, x, precision, show)
    return _render(story, show=show, precision=int(precision), interval=int(interval))


def save_animation(
    anim: animation.FuncAnimation, path, *, fps: float | None = None, dpi: float = 100
) -> Path:
    """Write an animation to a GIF (Pillow) or an MP4 (ffmpeg) file.

    Parameters
    ----------
    anim : matplotlib.animation.FuncAnimation
        For example from :func:`animate`.
    path : str or os.PathLike
        Ending in ``.gif`` or ``.mp4``.
    fps : float, optional
        Frames per second; default from the animation's interval.
    dpi : float
        Resolution of the frames.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For another suffix.
    RuntimeError
        For ``.mp4`` when ffmpeg is not installed.
    """
    if not isinstance(anim, animation.Animation):
        raise TypeError(f"anim must be a matplotlib Animation; got {type(anim).__name__}")
    path = Path(path)
    if fps is None:
        fps = 1000.0 / max(float(getattr(anim, "_interval", 200)), 1.0)
    if not fps > 0:
        raise ValueError(f"fps={fps!r} is not allowed: it must be > 0")
    suffix = path.suffix.lower()
    if suffix == ".gif":
        writer = animation.PillowWriter(fps=fps)
    elif suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise RuntimeError(
                "writing MP4 needs ffmpeg, which matplotlib cannot find on this machine; "
                "install ffmpeg or save a .gif instead"
            )
        writer = animation.FFMpegWriter(fps=fps)
    else:
        raise ValueError(f"path={str(path)!r} must end in .gif or .mp4; got suffix {path.suffix!r}")
    anim.save(str(path), writer=writer, dpi=dpi)
    return path


# ----------------------------------------------------------------------------------------
# spectra
# ----------------------------------------------------------------------------------------
def _centred_freqs(n: int) -> np.ndarray:
    """Frequencies in cycles per sample in the order of ``fftshift``: ``−⌊n/2⌋/n … ``."""
    return np.fft.fftshift(np.fft.fftfreq(n))


def _per_axis(value, name: str, ndim: int) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * ndim
    if (
        not isinstance(value, (tuple, list))
        or len(value) != ndim
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        raise TypeError(f"{name} must be an int or a tuple of {ndim} ints; got {value!r}")
    if any(v < 1 for v in value):
        raise ValueError(f"{name}={value!r} is not allowed: each entry must be >= 1")
    return tuple(int(v) for v in value)


def _spectrum_inputs(kernel, shape, stride, dilation, flip, conjugate, channels):
    """Normalise plot_spectrum's arguments; returns (w, shape, D, stride, dilation, flip, conj, note)."""
    note = ""
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
    else:
        w = as_numeric_array(kernel, "kernel")
        if shape is not None:
            shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
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
    stride = _per_axis(stride, "stride", D)
    dilation = _per_axis(dilation, "dilation", D)
    if w.ndim == D + 2:
        try:
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
    shape = tuple(int(n) for n in shape)
    if any(s > 1 for s in stride):
        bad = [(a, n, s) for a, (n, s) in enumerate(zip(shape, stride)) if n % s]
        if bad:
            a, n, s = bad[0]
            raise ValueError(
                f"shape={shape!r} is not divisible by stride={stride!r} on axis {a} ({n} % {s} = "
                f"{n % s}): folding and replication need whole periods; pad the grid to "
                f"{-(-n // s) * s} on that axis"
            )
    return w, shape, D, stride, dilation, bool(flip), bool(conjugate), note


def plot_spectrum(
    kernel,
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
    if ax is None:
        figsize = (11, 6.5) if strided else (11, 3.6)
        if D == 2:
            figsize = (10, 8.5) if strided else (10, 4.2)
        fig, axs = plt.subplots(2 if strided else 1, 2, figsize=figsize, squeeze=False)
        axs = list(axs.ravel())
        created = True
    elif isinstance(ax, Axes):
        fig, axs, created, only_magnitude = ax.figure, [ax], False, True
    else:
        axs = list(ax)
        if len(axs) != n_panels or not all(isinstance(a, Axes) for a in axs):
            raise ValueError(
                f"ax must be one Axes (magnitude only) or {n_panels} Axes (one per panel); "
                f"got {len(axs)} objects"
            )
        fig, created = axs[0].figure, False
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
        a.set_title(f"magnitude |{name}|{note}, N = {grid}", fontsize=10)
        a.set_xlabel("frequency (cycles/sample)")
        a.set_ylabel(f"|{name}|")
        a.set_xlim(-0.5, 0.5)
        a.grid(alpha=0.3)
        if not only_magnitude:
            a = axs[1]
            a.plot(f, phase, color="tab:purple", gid="convops.phase")
            a.set_title(f"phase arg {name} (blank where |{name}| = 0)", fontsize=10)
            a.set_xlabel("frequency (cycles/sample)")
            a.set_ylabel("radians")
            a.set_ylim(-np.pi * 1.08, np.pi * 1.08)
            a.set_yticks([-np.pi, -np.pi / 2, 0, np.pi / 2, np.pi], ["−π", "−π/2", "0", "π/2", "π"])
            a.set_xlim(-0.5, 0.5)
            a.grid(alpha=0.3)
    else:
        df = [1.0 / n for n in shape]
        extent = (freqs[1][0] - df[1] / 2, freqs[1][-1] + df[1] / 2, freqs[0][0] - df[0] / 2, freqs[0][-1] + df[0] / 2)
        _image_panel(fig, axs[0], mag, extent, "viridis", f"magnitude |{name}|{note}, N = {grid}", f"|{name}|")
        if not only_magnitude:
            _image_panel(fig, axs[1], phase, extent, "twilight", f"phase arg {name} (blank where |{name}| = 0)",
                         "radians", vmin=-np.pi, vmax=np.pi)

    if strided and not only_magnitude:
        _fold_panels(fig, axs[2], axs[3], h, shape, stride, D)
    if created:
        _tight(fig)
    return fig


def _image_panel(fig, ax, img, extent, cmap, title, clabel, vmin=None, vmax=None):
    im = ax.imshow(img, origin="lower", extent=extent, cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest", aspect="equal")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("f₁ (cycles/sample, axis 1)")
    ax.set_ylabel("f₀ (cycles/sample, axis 0)")
    cax = make_axes_locatable(ax).append_axes("right", size=0.15, pad=0.08)
    cb = fig.colorbar(im, cax=cax)
    cb.set_label(clabel, fontsize=8)
    cb.ax.tick_params(labelsize=8)
    return im


def _tile_edges(s: int) -> np.ndarray:
    """Edges ``(r + ½)/s`` inside ``(−½, ½)`` of the ``s`` tiles centred on ``r/s``."""
    edges = (np.arange(-s, s) + 0.5) / s
    return edges[np.abs(edges) < 0.5 - 1e-12]


def _fold_panels(fig, ax_fold, ax_rep, h, shape, stride, D):
    """Panels 3 and 4 of plot_spectrum: the alias sum and its s-fold replication."""
    M = tuple(n // s for n, s in zip(shape, stride))
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
            ax_fold.plot(fc, np.abs(copies[r]), lw=0.9, alpha=0.75,
                         label=f"|Ĥ((f′ + {r})/{s})|" if s <= 4 else None)
        ax_fold.plot(fc, np.abs(folded), color="black", lw=2,
                     label="|Ŷ| = |(1/s)·Σᵣ Ĥ((f′ + r)/s)|", gid="convops.folded")
        ax_fold.set_title(f"folding: stride {s} keeps one output in {s} (A δ)", fontsize=10)
        ax_fold.set_xlabel("f′ (cycles per output sample)")
        ax_fold.set_ylabel("magnitude")
        ax_fold.set_xlim(-0.5, 0.5)
        ax_fold.grid(alpha=0.3)
        ax_fold.legend(fontsize=7, loc="upper right")
        tiled = np.tile(np.fft.ifftshift(folded), s)  # zero insertion: Ẑ(f) = Ŷ(f mod M)
        f = _centred_freqs(shape[0])
        ax_rep.fill_between(f, np.abs(np.fft.fftshift(tiled)), color="0.8", step="mid",
                            label="|Ẑ|: Ŷ tiled s times", gid="convops.tiled")
        ax_rep.plot(f, np.abs(np.fft.fftshift(np.conj(h) * tiled)), color="tab:red", lw=1.5,
                    label="|conj(Ĥ)·Ẑ| (Aᵀ A δ)", gid="convops.replicated")
        for b in _tile_edges(s):
            ax_rep.axvline(b, color="0.4", ls=":", lw=1)
        ax_rep.set_title(f"replication: zero-insertion tiles Ŷ {s} times (Aᵀ)", fontsize=10)
        ax_rep.set_xlabel("frequency (cycles/sample)")
        ax_rep.set_ylabel("magnitude")
        ax_rep.set_xlim(-0.5, 0.5)
        ax_rep.grid(alpha=0.3)
        ax_rep.legend(fontsize=7, loc="upper right")
        return
    s0, s1 = stride
    m0, m1 = M
    folded = h.reshape(s0, m0, s1, m1).mean(axis=(0, 2))
    tiled = np.tile(folded, (s0, s1))
    fc = [_centred_freqs(m) for m in M]
    ext_c = (fc[1][0] - 0.5 / m1, fc[1][-1] + 0.5 / m1, fc[0][0] - 0.5 / m0, fc[0][-1] + 0.5 / m0)
    _image_panel(fig, ax_fold, np.abs(np.fft.fftshift(folded)), ext_c, "viridis",
                 f"folding (stride {sdesc}): |Ŷ| = |alias sum of Ĥ|", "|Ŷ|")
    ax_fold.set_xlabel("f′₁ (cycles per output sample)")
    ax_fold.set_ylabel("f′₀ (cycles per output sample)")
    n0, n1 = shape
    f0, f1 = _centred_freqs(n0), _centred_freqs(n1)
    ext = (f1[0] - 0.5 / n1, f1[-1] + 0.5 / n1, f0[0] - 0.5 / n0, f0[-1] + 0.5 / n0)
    _image_panel(fig, ax_rep, np.abs(np.fft.fftshift(tiled)), ext, "viridis",
                 f"replication: zero-insertion tiles Ŷ {s0}×{s1} times", "|Ẑ|")
    for b in _tile_edges(s1):
        ax_rep.axvline(b, color="white", ls=":", lw=1)
    for b in _tile_edges(s0):
        ax_rep.axhline(b, color="white", ls=":", lw=1)


# ----------------------------------------------------------------------------------------
# overlap of the transposed convolution
# ----------------------------------------------------------------------------------------
def _geometry_of(op, name: str = "op") -> ConvGeometry:
    if isinstance(op, ConvOperator):
        return op.geometry
    if isinstance(op, ConvGeometry):
        return op
    raise TypeError(f"{name} must be a convops.ConvOperator or ConvGeometry; got {type(op).__name__}")


def _axis_counts(g: ConvGeometry, axis: int) -> np.ndarray:
    """On one axis, how many ``(o, t)`` land on each input index (after the boundary map)."""
    src = g.pad_source_index(axis)
    o = np.arange(g.spatial_out[axis])[:, None] * g.stride[axis]
    t = np.arange(g.kernel_size[axis])[None, :] * g.dilation[axis]
    hits = src[o + t]
    return np.bincount(hits[hits >= 0], minlength=g.spatial_in[axis])


def overlap_counts(op, *, channels: bool = False) -> np.ndarray:
    r"""How many (input position, tap) pairs of the transposed convolution hit each output pixel.

    The transposed convolution scatters ``w[t]·y[o]`` onto ``x̃[o·s + t·d]`` and folds the
    padding back, so output pixel ``i`` (an input pixel of the convolution) receives
    ``c[i] = #{(o, t) : P(o·s + t·d) = i}`` contributions.  These are the row sums of
    ``Aᵀ``'s pattern — the column sums of ``A``'s — counted with multiplicity (for the
    matrix of an all-ones kernel they are exactly the column sums, also when a reflect or
    circular boundary folds two taps of one output onto one pixel).  The count is separable:
    the outer product of the per-axis counts, each a ``bincount`` of the ``(m, k)`` table of
    source indices, so it is computed without the matrix.

    With a 3×3 kernel and stride 2 the counts alternate (1, 2 per axis: the checkerboard
    of Odena, Dumoulin & Olah, 2016); with a 4×4 kernel and stride 2 they are 2 per axis in
    the interior, fewer at zero-padded borders, and 2 everywhere with a circular boundary
    and ``lo + hi = k − s``.

    Parameters
    ----------
    op : ConvOperator or ConvGeometry
        The convolution or its transpose (the same counts).
    channels : bool
        ``False``: the spatial counts for one channel pair, shape ``spatial_in``.
        ``True``: shape ``(C_in, *spatial_in)`` for a multi-channel operator, the column
        sums of ``A``'s full pattern: each input channel receives from the
        ``C_out/groups`` output channels of its group, so the spatial counts times that.

    Returns
    -------
    ndarray of int64
    """
    g = _geometry_of(op)
    per_axis = [_axis_counts(g, a) for a in range(g.ndim)]
    counts = functools.reduce(np.multiply.outer, per_axis).astype(np.int64)
    if channels and g.multichannel:
        counts = np.broadcast_to(counts * (g.out_channels // g.groups), (g.in_channels,) + counts.shape).copy()
    return counts


def _interior(g: ConvGeometry, axis: int) -> slice:
    """Input indices that every tap of some output reaches: away from the padded borders."""
    lo = g.padding[axis][0]
    span = g.span[axis] - 1
    start = max(0, span - lo)
    stop = min(g.spatial_in[axis], (g.spatial_out[axis] - 1) * g.stride[axis] - lo + 1)
    return slice(start, max(start, stop))


def plot_overlap(
    op,
    ax: Axes | None = None,
    *,
    annotate: bool | Literal["auto"] = "auto",
    cmap="viridis",
    title: str | None = None,
) -> Axes:
    """Draw :func:`overlap_counts`: kernel placements of the transposed convolution per pixel.

    2-D: an image of the counts on the transposed convolution's output grid (the
    convolution's input), with a discrete colour bar and the counts printed in the cells
    when the grid is small; 1-D: a bar chart.  The title says whether the counts are even in
    the interior (away from zero-padded borders) — the checkerboard of a 3×3 kernel with
    stride 2, its absence for 4×4 with stride 2.  Multi-channel operators show the counts
    of one channel pair.

    Parameters
    ----------
    op : ConvOperator or ConvGeometry
        The convolution or its transpose.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    annotate : bool or "auto"
        Print counts in the cells (``"auto"``: up to 40 per axis).
    cmap : str or Colormap
        Colour map of the counts.
    title : str, optional
        Default: the geometry and the verdict (even/uneven); ``""`` for none.

    Returns
    -------
    matplotlib.axes.Axes
    """
    g = _geometry_of(op)
    if g.ndim == 3:
        raise ValueError(
            "plot_overlap draws 1-D and 2-D geometries; for 3-D use overlap_counts(op) and draw a slice"
        )
    if annotate not in (True, False, "auto"):
        raise ValueError(f"annotate={annotate!r} is not allowed: use True, False or 'auto'")
    counts = overlap_counts(g)
    interior = counts[tuple(_interior(g, a) for a in range(g.ndim))]
    if interior.size == 0:
        verdict = "no interior away from the borders"
    elif interior.min() == interior.max():
        verdict = f"even: {int(interior.min())} in the interior"
        if counts.min() == counts.max():
            verdict = f"even: {int(counts.min())} everywhere"
    else:
        verdict = f"uneven (checkerboard): {int(interior.min())}–{int(interior.max())} in the interior"
    if title is None:
        title = f"overlap of the transposed convolution ({_geometry_summary(g)})\n{verdict}"
    show = annotate is True or (annotate == "auto" and max(counts.shape) <= 40)
    cmax = int(counts.max())
    cm = plt.get_cmap(cmap, cmax + 1)
    norm = colors.BoundaryNorm(np.arange(-0.5, cmax + 1.5), cm.N)
    if g.ndim == 1:
        n = counts.size
        fig, ax, created = _new_axes(ax, (max(5.0, min(0.3 * n + 2, 14.0)), 3.4))
        ax.bar(np.arange(n), counts, color=cm(norm(counts)), edgecolor="0.3", linewidth=0.5, gid="convops.overlap")
        if show:
            for i, c in enumerate(counts):  # one label per bar
                ax.text(i, c, str(int(c)), ha="center", va="bottom", fontsize=8, gid=_CELL_GID)
        ax.set_xlabel("output position i of the transposed convolution (input index of A)")
        ax.set_ylabel("(input position, tap) pairs")
        ax.set_ylim(0, cmax * 1.18 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(-0.6, n - 0.4)
    else:
        R, C = counts.shape
        cell_in = float(np.clip(min(7.0 / C, 6.0 / R), 0.05, 0.4))
        fig, ax, created = _new_axes(ax, (C * cell_in + 2.2, R * cell_in + 1.6))
        im = ax.imshow(counts, cmap=cm, norm=norm, interpolation="nearest", aspect="equal", gid="convops.overlap")
        if show:
            bbox = ax.get_window_extent()
            cell_pt = min(bbox.width / C, bbox.height / R) / fig.dpi * 72
            size = float(np.clip(0.45 * cell_pt, 4, 10))
            tc = _text_colors(cm, norm, counts)
            r, c = np.indices(counts.shape).reshape(2, -1)
            for i, j in zip(r, c):  # one Text per pixel of a small grid
                ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=size,
                        color=tc[i, j], gid=_CELL_GID)
        ax.set_xlabel("column (axis 1)")
        ax.set_ylabel("row (axis 0)")
        cax = make_axes_locatable(ax).append_axes("right", size=0.15, pad=0.1)
        cb = fig.colorbar(im, cax=cax, ticks=np.arange(0, cmax + 1, max(1, (cmax + 1) // 10)))
        cb.set_label("(input position, tap) pairs", fontsize=8)
        cb.ax.tick_params(labelsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    if created:
        _tight(fig)
    return ax
