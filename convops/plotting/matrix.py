"""The matrix of a convolution drawn: values in the cells, Toeplitz blocks, sparsity pattern.

:func:`plot_matrix` draws a small matrix cell by cell, its values printed (integers as
integers) and lines between the Toeplitz blocks and the channel blocks; :func:`spy`
draws the sparsity pattern of a large one, binned to the screen's pixels, with the same
block lines.  Both take a :class:`~convops.ConvOperator` (also ``op.H``), whose geometry
names the rows and columns and places the block lines, or any 2-D matrix.
"""

from __future__ import annotations

from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from matplotlib import colors
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.ticker import MaxNLocator
from scipy.sparse.linalg import LinearOperator

from .._validate import as_numeric_array, is_int, validate_bool, validate_choice, validate_int
from ..geometry import ConvGeometry
from ..kernel_operator import KernelOperator
from ..operators import ConvOperator
from ..text import format_value
from ._common import (
    CELL_GID,
    geometry_summary,
    new_axes,
    side_colorbar,
    text_colors,
    tight_layout,
    validate_auto_flag,
)

__all__ = ["ANNOTATE_LIMIT", "DENSE_PLOT_LIMIT", "plot_matrix", "spy"]

#: ``annotate="auto"`` prints values when the matrix has at most this many rows and columns.
ANNOTATE_LIMIT = 40
#: :func:`plot_matrix` refuses matrices with more entries than this (use :func:`spy`).
DENSE_PLOT_LIMIT = 2**22

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_BLOCK_GID = "convops.blocks"
_CHANNEL_GID = "convops.channel-blocks"

#: What :func:`plot_matrix` may draw of complex entries.
Part = Literal["auto", "real", "imag", "abs"]
PARTS: tuple[Part, ...] = ("auto", "real", "imag", "abs")

#: Block steps of one side of the matrix: (entries per channel block, per Toeplitz block).
SideSteps = tuple[int | None, int | None]
#: Block steps of the rows and of the columns.
Steps = tuple[SideSteps, SideSteps]


def _as_matrix(
    obj: object, name: str = "op_or_matrix"
) -> tuple[np.ndarray | sp.csr_array, ConvGeometry | None]:
    """``(matrix, geometry or None)`` from a ConvOperator, a sparse matrix or a 2-D array."""
    if isinstance(obj, ConvOperator):
        return obj.matrix(), obj.geometry
    if isinstance(obj, KernelOperator):  # its sides are named by _kernel_layout
        return obj.matrix(), None
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
        sparse: Any = obj  # scipy's stubs narrow issparse to a class without ndim or shape
        if sparse.ndim != 2:
            raise ValueError(f"{name} must be a 2-D sparse matrix; got shape {sparse.shape}")
        return sp.csr_array(sparse), None
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


def _sides(
    geometry: ConvGeometry,
) -> tuple[tuple[str, tuple[int, ...]], tuple[str, tuple[int, ...]]]:
    """``((letter, shape) of the rows, (letter, shape) of the columns)`` of the op's matrix.

    The convolution maps ``x`` (its input) to ``y``; the transposed one ``y`` to ``x``.
    """
    g = geometry
    x_side = ("x", g.conv_input_shape)
    y_side = ("y", g.conv_output_shape)
    return (x_side, y_side) if g.transposed else (y_side, x_side)


#: One side of a matrix: (letter, unflattened shape, whether its first axis is a subscript).
Side = tuple[str, tuple[int, ...], bool]


def _kernel_layout(obj: object) -> tuple[Side, Side] | None:
    """The sides of a :class:`~convops.KernelOperator`'s im2col matrix (None for anything else).

    Rows are the outputs ``y`` (batch, or else channel, as the subscript), columns the kernel
    entries ``w`` (output channel as the subscript); swapped for ``op.H``.
    """
    if not isinstance(obj, KernelOperator):
        return None
    g = obj.geometry
    y_shape = obj.input_shape if obj.transposed else obj.output_shape
    y_side: Side = ("y", y_shape, len(y_shape) > g.ndim)
    w_side: Side = ("w", obj.kernel_shape, g.multichannel)
    return (w_side, y_side) if obj.transposed else (y_side, w_side)


def _tick_labels(
    letter: str, shape: tuple[int, ...], multichannel: bool, flat: np.ndarray
) -> list[str]:
    """Labels like ``x[1,2]`` (channel as a subscript: ``x₀[1,2]``) for flat indices."""
    idx = np.unravel_index(np.asarray(flat, dtype=np.int64), shape)
    columns = np.stack(idx, axis=-1) if len(flat) else np.zeros((0, len(shape)), int)
    labels = []
    for row in columns:  # one string per drawn tick: bounded by the tick count
        if multichannel:
            labels.append(
                f"{letter}{str(row[0]).translate(_SUBSCRIPT)}[{','.join(map(str, row[1:]))}]"
            )
        else:
            labels.append(f"{letter}[{','.join(map(str, row))}]")
    return labels


def _block_steps(shape: tuple[int, ...], multichannel: bool) -> SideSteps:
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


def _draw_blocks(
    ax: Axes, rows: int, cols: int, row_steps: SideSteps, col_steps: SideSteps, color: str = "0.25"
) -> None:
    """Thin lines between Toeplitz blocks, thicker ones between channel blocks."""
    for level, (rstep, cstep) in enumerate(zip(row_steps, col_steps, strict=True)):
        r = _boundaries(rows, rstep)
        c = _boundaries(cols, cstep)
        if level == 1:  # the Toeplitz-block level: skip lines that a channel line covers
            r = np.setdiff1d(r, _boundaries(rows, row_steps[0]))
            c = np.setdiff1d(c, _boundaries(cols, col_steps[0]))
        if not (r.size or c.size):
            continue
        segments = [((-0.5, y), (cols - 0.5, y)) for y in r] + [
            ((x, -0.5), (x, rows - 0.5)) for x in c
        ]
        ax.add_collection(
            LineCollection(
                segments,
                colors="black" if level == 0 else color,
                linewidths=1.8 if level == 0 else 0.7,
                gid=_CHANNEL_GID if level == 0 else _BLOCK_GID,
                zorder=3,
            )
        )


def _geometry_steps(geometry: ConvGeometry) -> Steps:
    (_, rshape), (_, cshape) = _sides(geometry)
    mc = geometry.multichannel
    return _block_steps(rshape, mc), _block_steps(cshape, mc)


def _resolve_blocks(blocks: object, geometry: ConvGeometry | None) -> Steps | None:
    """``(row_steps, col_steps)`` as (channel, block) pairs, or None for no lines."""
    if isinstance(blocks, (bool, np.bool_)) or blocks is None:
        if blocks and geometry is not None:
            return _geometry_steps(geometry)
        return None
    if (
        isinstance(blocks, (tuple, list))
        and len(blocks) == 2
        and all(is_int(b) and b >= 1 for b in blocks)
    ):
        return (None, int(blocks[0])), (None, int(blocks[1]))
    raise ValueError(
        f"blocks={blocks!r} is not understood: use True (the operator's block structure), "
        "False, or (rows per block, columns per block) as two positive ints"
    ) from None


def _plotted_part(values: np.ndarray, part: str) -> tuple[np.ndarray, str]:
    """What is drawn of the entries (``part``), and how the colour bar names it."""
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


def _value_colormap(values: np.ndarray, cmap: str | Colormap | None) -> tuple[Colormap, Normalize]:
    """Diverging and centred on zero for signed values, sequential from zero otherwise."""
    vmax = float(np.max(np.abs(values))) if values.size else 0.0
    vmax = vmax if vmax > 0 else 1.0
    signed = bool((values < 0).any())
    name = cmap if cmap is not None else ("RdBu_r" if signed else "Reds")
    cm = plt.get_cmap(name).with_extremes(bad="white")
    norm = colors.Normalize(-vmax, vmax) if signed else colors.Normalize(0.0, vmax)
    return cm, norm


def plot_matrix(
    op_or_matrix: Any,
    ax: Axes | None = None,
    *,
    annotate: bool | Literal["auto"] = "auto",
    blocks: bool | tuple[int, int] = True,
    precision: int = 2,
    cmap: str | Colormap | None = None,
    part: Part = "auto",
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
    op_or_matrix : ConvOperator, KernelOperator, scipy.sparse matrix or array_like
        The operator (also ``op.H`` / ``op.T``) or any 2-D matrix.  For a
        :class:`~convops.KernelOperator` the matrix is the im2col matrix of its ``x``: one
        row per output ``y``, holding the patch of ``x`` it reads, in the columns of the
        kernel entries ``w``.
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
    precision = validate_int(precision, "precision", minimum=0)
    annotate = validate_auto_flag(annotate, "annotate")  # type: ignore[assignment]
    part = validate_choice(part, "part", PARTS)
    colorbar = validate_bool(colorbar, "colorbar")
    labels = validate_bool(labels, "labels")
    M, geometry = _as_matrix(op_or_matrix)
    layout = _kernel_layout(op_or_matrix)
    rows, cols = M.shape
    if rows * cols > DENSE_PLOT_LIMIT:
        raise ValueError(
            f"the matrix is {rows}x{cols}, too large to draw cell by cell (limit "
            f"{DENSE_PLOT_LIMIT} entries); use convops.plotting.spy for its sparsity pattern"
        )
    steps = _resolve_blocks(blocks, geometry)
    if layout is not None and blocks is True:  # the im2col matrix: patch rows, kernel blocks
        (_, rshape, rmc), (_, cshape, cmc) = layout
        steps = (_block_steps(rshape, rmc), _block_steps(cshape, cmc))
    dense = M.toarray() if sp.issparse(M) else np.asarray(M)
    values, what = _plotted_part(dense, part)
    zero = values == 0
    cm, norm = _value_colormap(values, cmap)

    show_text = annotate is True or (annotate == "auto" and max(rows, cols) <= ANNOTATE_LIMIT)
    # cells of about a third of an inch when small, the whole matrix within ~9×7 inches
    cell_in = float(np.clip(min(10.0 / cols, 10.0 / rows), 0.02, 0.36))
    label_rows = labels and rows <= 48
    label_cols = labels and cols <= 48
    named = geometry is not None or layout is not None
    margin_l = 1.1 if label_rows and named else 0.8
    margin_b = 1.1 if label_cols and named else 0.7
    fig, ax, created = new_axes(
        ax,
        (cols * cell_in + margin_l + (1.2 if colorbar else 0.3), rows * cell_in + margin_b + 0.8),
    )
    if not created:  # the cell size the given axes offers
        bbox = ax.get_window_extent()
        cell_in = min(bbox.width / cols, bbox.height / rows) / fig.dpi
    cell_pt = cell_in * 72

    im = ax.imshow(
        np.ma.masked_array(values, mask=zero),
        cmap=cm,
        norm=norm,
        interpolation="nearest",
        aspect="equal",
    )
    if show_text:
        # in "auto" mode, only when the text stays legible (at least 4.5 pt)
        show_text = _annotate_cells(
            ax, values, zero, cm, norm, precision, cell_pt, 4.5 if annotate == "auto" else 0.0
        )
    if show_text:
        # faint cell borders help to read rows of a small matrix
        ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        ax.grid(which="minor", color="0.88", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
    if steps is not None:
        _draw_blocks(ax, rows, cols, steps[0], steps[1])
    _matrix_ticks(ax, rows, cols, geometry, steps, labels, cell_pt, layout)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)

    if colorbar:
        side_colorbar(fig, im, ax, what + " (zero: blank)")
    if title is None and isinstance(op_or_matrix, KernelOperator):
        kg = op_or_matrix.geometry
        what = "conjugate transpose of the im2col matrix" if kg.transposed else "im2col matrix"
        title = (
            f"{what} of x: {rows}×{cols} (row = the patch of x one output reads)\n"
            f"{geometry_summary(kg)}"
        )
    if title is None:
        if geometry is not None:
            name = "transposed convolution" if geometry.transposed else "convolution"
            title = f"matrix of the {name}: {rows}×{cols}\n{geometry_summary(geometry)}"
        else:
            title = f"{rows}×{cols} matrix"
    if title:
        ax.set_title(title, fontsize=10)
    if created:
        tight_layout(fig)
    return ax


def _annotate_cells(
    ax: Axes,
    values: np.ndarray,
    zero: np.ndarray,
    cm: Colormap,
    norm: Normalize,
    precision: int,
    cell_pt: float,
    min_size: float,
) -> bool:
    """Print the nonzero values in their cells; False (nothing drawn) below ``min_size`` pt."""
    r, c = np.nonzero(~zero)
    texts = [format_value(v, precision) for v in values[r, c]]
    longest = max((len(t) for t in texts), default=1)
    # a character is about 0.6 em wide; keep the text inside 90% of the cell
    size = float(min(10.0, 0.9 * cell_pt / (0.6 * longest + 0.2), 0.7 * cell_pt))
    if size < min_size:
        return False
    size = max(size, 2.0)
    tcolors = text_colors(cm, norm, values[r, c])
    # one Text per nonzero cell of a small matrix
    for i, j, t, col in zip(r, c, texts, tcolors, strict=True):
        ax.text(
            float(j), float(i), t, ha="center", va="center", fontsize=size, color=col, gid=CELL_GID
        )
    return True


def _matrix_ticks(
    ax: Axes,
    rows: int,
    cols: int,
    geometry: ConvGeometry | None,
    steps: Steps | None,
    labels: bool,
    cell_pt: float,
    layout: tuple[Side, Side] | None = None,
) -> None:
    """Tick labels naming the multi-indices (only block starts when a side is long)."""
    if not labels:
        ax.set_xticks([])
        ax.set_yticks([])
        return
    if layout is None:
        if geometry is None:
            ax.set_xlabel("column")
            ax.set_ylabel("row")
            return
        (rl, rshape), (cl, cshape) = _sides(geometry)
        layout = ((rl, rshape, geometry.multichannel), (cl, cshape, geometry.multichannel))
    (rl, rshape, rmc), (cl, cshape, cmc) = layout
    fs = float(np.clip(0.8 * cell_pt, 5.0, 8.0))

    def ticks(size: int, side_steps: SideSteps | None) -> np.ndarray | None:
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
        ax.set_yticks(rt, _tick_labels(rl, rshape, rmc, rt), fontsize=fs)
    if ct is not None:
        ax.set_xticks(ct, _tick_labels(cl, cshape, cmc, ct), fontsize=fs, rotation=90)
    ax.set_ylabel(f"row: output {rl}")
    ax.set_xlabel(f"column: input {cl}")


# ----------------------------------------------------------------------------------------
# spy
# ----------------------------------------------------------------------------------------
def spy(
    op_or_matrix: Any,
    ax: Axes | None = None,
    *,
    blocks: bool | tuple[int, int] = True,
    color: Any = "black",
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
    fig, ax, created = new_axes(ax, (width, height + 0.8))
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
            if not isinstance(coll, LineCollection):
                continue
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
        tight_layout(fig)
    return ax
