r"""What :func:`~convops.plotting.explore` highlights, computed with numpy alone (no drawing).

The explorer follows one number through a convolution ``y = A x`` (or its adjoint
``x = Aᴴ y``).  Everything it shows comes from one table, :class:`ExploreModel`'s
*incidence*: for every output ``o`` of the convolution and every tap ``t`` of its kernel,

* the cell ``o·s + t·d`` of the padded input ``x̃`` the tap covers (where the picture draws
  it: the footprints of :func:`~convops.plotting.animation_frames.story_forward`),
* the input entry it reads, from the geometry's
  :meth:`~convops.geometry.ConvGeometry.source_table` (-1 where it reads a zero),
* the weight ``w[t]``.

Row ``o`` of ``A`` is the set of pairs with output ``o``, column ``i`` the set with input
``i``, and entry ``A[o, i]`` the sum of the weights of the pairs ``(o, i)``; for ``Aᴴ``
the same pairs are read the other way, with conjugated weights.  A :class:`Highlight` is
one such selection, in the orientation of the operator being explored: its rows and
columns index ``op.matrix()``, its inputs and outputs ``op.input_shape`` and
``op.output_shape``.

Small geometries only: at most :data:`MATRIX_LIMIT` (64) rows and 64 columns of the
matrix and :data:`GRID_LIMIT` (64) cells along each axis of the padded input.  The view
draws one cell per matrix entry and per padded input entry, each large enough to point at
(and, when there is room, to read its value), so the limits are what fits on a screen, not
what numpy can do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._validate import as_numeric_array, is_int
from ..geometry import ConvGeometry
from ..operators import ConvOperator
from ..text import format_value
from .animation_frames import COPY, DATA, PAD, story_forward

__all__ = [
    "COPY",
    "DATA",
    "GRID_LIMIT",
    "MATRIX_LIMIT",
    "MAX_TERMS",
    "PAD",
    "ExploreModel",
    "Highlight",
    "Term",
    "check_explorable",
    "default_data",
]

#: The explorer draws matrices with at most this many rows and this many columns.
MATRIX_LIMIT = 64
#: ... and padded inputs ``x̃`` with at most this many cells along each axis.
GRID_LIMIT = 64
#: Sums with more terms than this are written out with an ellipsis in the middle.
MAX_TERMS = 12

Pointed = Literal["output", "input", "entry", "padding"]
Index = tuple[int, ...]


def check_explorable(g: ConvGeometry) -> None:
    """Refuse what the explorer cannot draw: 3-D, multi-channel, or too large.

    Raises
    ------
    ValueError
        Naming the limit, this geometry's size and what to use instead.
    """
    if g.ndim == 3:
        raise ValueError(
            f"explore draws 1-D and 2-D convolutions; this one is 3-D (input {g.spatial_in}). "
            "Explore a 2-D slice (the last two axes' sizes and parameters), or draw the whole "
            "matrix with convops.plotting.spy"
        )
    if g.multichannel:
        raise ValueError(
            f"explore draws single-channel convolutions; this kernel has shape "
            f"{g.kernel_shape} (C_out={g.out_channels}, C_in/groups={g.in_channels // g.groups}). "
            "Explore one channel pair: explore(kernel=kernel[co, ci], "
            f"input_shape={g.spatial_in}, ...)"
        )
    rows, cols = g.shape
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(g.spatial_in, g.padding, strict=True))
    if rows > MATRIX_LIMIT or cols > MATRIX_LIMIT or max(padded) > GRID_LIMIT:
        raise ValueError(
            f"explore draws small geometries only: at most {MATRIX_LIMIT} rows and "
            f"{MATRIX_LIMIT} columns of the matrix and {GRID_LIMIT} cells along each axis of the "
            "padded input (one cell per entry, each large enough to read and to point at); this "
            f"one has a {rows}×{cols} matrix and a padded input of {'×'.join(map(str, padded))} "
            f"cells (input {g.spatial_in}, padding {g.padding}). Use a smaller input, or "
            "convops.plotting.spy / plot_matrix for the whole matrix"
        )


def default_data(shape: tuple[int, ...]) -> np.ndarray:
    """Small integers 0…3 from a fixed seed (the values :func:`~convops.plotting.animate` uses)."""
    return np.random.default_rng(0).integers(0, 4, size=shape).astype(float)


@dataclass(frozen=True)
class Term:
    """One (output, tap) pair of the convolution, in the explored operator's orientation.

    For ``A`` the output is an entry of ``y`` and the input the entry of ``x`` that the tap
    reads (None: a zero of the padding).  For ``Aᴴ`` the output is the entry of ``x`` the
    product lands on (None: zero padding, cropped) and the input the entry of ``y``.
    """

    output: Index | None
    input: Index | None
    tap: Index  # index into op.kernel, as given (flip undone)
    weight: complex  # the matrix entry this pair adds: w[t] for A, conj(w[t]) for Aᴴ
    padded: Index  # the cell of x̃ the tap covers (spatial multi-index of the padded input)


@dataclass(frozen=True)
class Highlight:
    """What pointing at one cell highlights (every index in the operator's orientation).

    Attributes
    ----------
    pointed : {"output", "input", "entry", "padding"}
        What was pointed at: an entry of the operator's output or input, a matrix entry,
        or a zero-padding cell of ``x̃``.
    index : tuple of int
        Its multi-index (``(row, column)`` for an entry; the padded cell for padding).
    rows, columns : tuple of int
        Rows and columns of ``op.matrix()`` highlighted.
    entries : tuple of (int, int)
        Matrix entries the pairs land on (for a generic kernel: the nonzeros of the row,
        of the column, or the one entry).
    outputs, inputs : tuple of tuple of int
        Highlighted cells of the operator's output and input (multi-indices).
    padded : tuple of tuple of int
        Cells of ``x̃`` the pairs' taps cover.
    terms : tuple of Term
        The (output, tap) pairs, in output order then tap order.
    lines : tuple of str
        The text the view prints: what was pointed at, the sum with indices, with numbers.
    """

    pointed: Pointed
    index: Index
    rows: tuple[int, ...]
    columns: tuple[int, ...]
    entries: tuple[tuple[int, int], ...]
    outputs: tuple[Index, ...]
    inputs: tuple[Index, ...]
    padded: tuple[Index, ...]
    terms: tuple[Term, ...]
    lines: tuple[str, ...]


def _read_table(g: ConvGeometry) -> np.ndarray:
    """``(F, K)`` flat input index that output ``f``'s tap ``t`` reads (-1: a zero).

    The outer product of the per-axis :meth:`~convops.geometry.ConvGeometry.source_table`
    s, outputs and taps each in C order.
    """
    D = g.ndim
    tables = [g.source_table(a) for a in range(D)]
    shape = g.spatial_out + g.kernel_size
    parts = []
    for a, table in enumerate(tables):  # axis a's table on axes (a, D + a) of the product
        view = [1] * (2 * D)
        view[a], view[D + a] = table.shape
        parts.append(np.broadcast_to(table.reshape(view), shape))
    valid = np.logical_and.reduce([p >= 0 for p in parts])
    flat = np.ravel_multi_index(tuple(np.maximum(p, 0) for p in parts), g.spatial_in)
    F, K = math.prod(g.spatial_out), math.prod(g.kernel_size)
    return np.where(valid, flat, -1).reshape(F, K)


def _name(letter: str, index: Index) -> str:
    return f"{letter}[{','.join(map(str, index))}]"


def _factor(v: complex, precision: int) -> str:
    """A value as a factor of a product: negative and complex values in parentheses."""
    text = format_value(v, precision)
    return f"({text})" if text.startswith("-") or "j" in text else text


def _joined(parts: list[str], sep: str) -> str:
    """``parts`` joined by ``sep``, the middle elided past :data:`MAX_TERMS` terms."""
    if len(parts) > MAX_TERMS:
        keep = MAX_TERMS - 2
        parts = [*parts[:keep], f"… ({len(parts) - keep - 1} more) …", parts[-1]]
    return sep.join(parts)


class ExploreModel:
    """The incidence table of one small 1-D or 2-D single-channel operator, and its values.

    Parameters
    ----------
    op : ConvOperator
        ``A`` or ``A.H``; checked with :func:`check_explorable`.
    data : array_like, optional
        The operator's input (``x`` for ``A``, ``y`` for ``Aᴴ``); default
        :func:`default_data`.
    precision : int
        Decimals of non-integer values in the texts.

    Attributes
    ----------
    op : ConvOperator
    adjoint : bool
        Whether ``op`` is the transposed convolution ``Aᴴ``.
    conv : ConvGeometry
        The convolution ``A``'s geometry (``op.geometry`` untransposed).
    x, y : ndarray
        The values of the convolution's input and output shown (``y = A x``, or
        ``x = Aᴴ y``): one of them is ``data``, the other ``op.apply(data)``.
    kind : ndarray
        ``(R, C)`` kinds (DATA, PAD, COPY) of the padded input's cells, a 1-D geometry
        lifted to one row.
    source : ndarray
        ``(R, C)`` flat index of the input entry each padded cell holds (-1: a zero).
    """

    def __init__(self, op: ConvOperator, data: Any = None, precision: int = 2) -> None:
        if not isinstance(op, ConvOperator):
            raise TypeError(f"op must be a convops.ConvOperator; got {type(op).__name__}")
        g = op.geometry
        check_explorable(g)
        self.op = op
        self.adjoint = g.transposed
        self.conv = g.transpose() if g.transposed else g
        self.precision = precision
        self.one_d = self.conv.ndim == 1
        if data is None:
            data = default_data(op.input_shape)
        data = as_numeric_array(data, "data")
        if data.shape != op.input_shape:
            raise ValueError(
                f"data of shape {data.shape} does not fit: the operator's input has shape "
                f"{op.input_shape}"
            )
        self.data = data
        result = op.apply(data)
        self.x: np.ndarray
        self.y: np.ndarray
        self.x, self.y = (result, data) if self.adjoint else (data, result)

        c = self.conv
        # the padded grid (kinds, sources) and where each tap lies on it: the picture's cells
        story = story_forward(c, op.kernel, np.asarray(self.x), precision, show=False)
        self.kind = story.left.kind
        s0, s1 = story.left.source if story.left.source is not None else (None, None)
        assert s0 is not None and s1 is not None  # story_forward always sets the sources
        valid = (s0 >= 0) & (s1 >= 0)
        lifted_n = (1, *c.spatial_in) if self.one_d else c.spatial_in
        self.source = np.where(
            valid, np.ravel_multi_index((np.maximum(s0, 0), np.maximum(s1, 0)), lifted_n), -1
        )
        self.padded_values = story.left.values
        F, K = story.foot.shape[:2]
        self.cells = story.foot.reshape(F * K, 2)  # lifted (row, col) on the padded grid
        self.out = np.repeat(np.arange(F), K)
        self.tap_flat = np.tile(np.arange(K), F)
        self.src = _read_table(c).reshape(-1)
        w = c.canonical_kernel(op.kernel)[0, 0].ravel()
        self.weights = w
        taps = np.stack(np.unravel_index(np.arange(K), c.kernel_size), axis=-1)
        if c.flip:  # tap t of the canonical kernel is w[k − 1 − t] of the kernel as given
            taps = np.array(c.kernel_size) - 1 - taps
        self.taps = taps

    # --- shapes and names -------------------------------------------------------------
    @property
    def padded_shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the padded grid as drawn (one row in 1-D)."""
        rows, cols = self.kind.shape
        return rows, cols

    def lifted(self, index: Index) -> tuple[int, int]:
        """A spatial multi-index as the drawn grid's ``(row, column)``."""
        return (0, index[0]) if self.one_d else (index[0], index[1])

    def spatial(self, cell: tuple[int, int]) -> Index:
        """The drawn grid's ``(row, column)`` as a spatial multi-index."""
        return (int(cell[1]),) if self.one_d else (int(cell[0]), int(cell[1]))

    def x_index(self, flat: int) -> Index:
        return tuple(int(v) for v in np.unravel_index(flat, self.conv.spatial_in))

    def y_index(self, flat: int) -> Index:
        return tuple(int(v) for v in np.unravel_index(flat, self.conv.spatial_out))

    def flat_index(self, index: object, shape: tuple[int, ...], name: str) -> int:
        """A flat index from an int or a multi-index into ``shape``, validated."""
        if is_int(index):
            flat = int(index)  # type: ignore[call-overload]
            if not 0 <= flat < math.prod(shape):
                raise ValueError(
                    f"{name}={index!r} is out of range: a flat index of shape {shape} is "
                    f"0 to {math.prod(shape) - 1}"
                )
            return flat
        if (
            isinstance(index, (tuple, list))
            and len(index) == len(shape)
            and all(is_int(v) for v in index)
        ):
            if not all(0 <= int(v) < n for v, n in zip(index, shape, strict=True)):
                raise ValueError(f"{name}={tuple(index)!r} is out of range for shape {shape}")
            return int(np.ravel_multi_index(tuple(int(v) for v in index), shape))
        raise TypeError(
            f"{name} must be an int (flat index) or a tuple of {len(shape)} ints "
            f"(a multi-index of shape {shape}); got {index!r}"
        )

    # --- the selections ---------------------------------------------------------------
    def _weight(self, t: int) -> complex:
        w = self.weights[t]
        return complex(np.conj(w)) if self.adjoint else complex(w)

    def _terms(self, sel: np.ndarray) -> tuple[Term, ...]:
        terms = []
        for j in np.flatnonzero(sel):  # the pairs of one row, column or entry: at most m·k
            o = self.y_index(int(self.out[j]))
            i = self.x_index(int(self.src[j])) if self.src[j] >= 0 else None
            tap = tuple(int(v) for v in self.taps[self.tap_flat[j]])
            padded = self.spatial((int(self.cells[j, 0]), int(self.cells[j, 1])))
            out, inp = (i, o) if self.adjoint else (o, i)
            terms.append(Term(out, inp, tap, self._weight(int(self.tap_flat[j])), padded))
        return tuple(terms)

    def _highlight(
        self,
        pointed: Pointed,
        index: Index,
        sel: np.ndarray,
        xs: list[int],
        ys: list[int],
        lines: list[str],
    ) -> Highlight:
        """The Highlight of the pairs ``sel``, with the convolution's cells ``xs``, ``ys``."""
        read = sel & (self.src >= 0)
        pairs = sorted(
            {(int(o), int(i)) for o, i in zip(self.out[read], self.src[read], strict=True)}
        )
        if self.adjoint:
            entries = tuple((i, o) for o, i in pairs)
            rows, cols = xs, ys
            outputs = tuple(self.x_index(i) for i in xs)
            inputs = tuple(self.y_index(o) for o in ys)
        else:
            entries = tuple(pairs)
            rows, cols = ys, xs
            outputs = tuple(self.y_index(o) for o in ys)
            inputs = tuple(self.x_index(i) for i in xs)
        if pointed == "padding":  # a zero of the padding has no row or column
            rows, cols = [], []
        padded = sorted({self.spatial((int(r), int(c))) for r, c in self.cells[sel]})
        return Highlight(
            pointed=pointed,
            index=index,
            rows=tuple(rows),
            columns=tuple(cols),
            entries=entries,
            outputs=outputs,
            inputs=inputs,
            padded=tuple(padded),
            terms=self._terms(sel),
            lines=tuple(lines),
        )

    def _uniq(self, values: np.ndarray) -> list[int]:
        return sorted({int(v) for v in values if v >= 0})

    def point_y(self, flat: int) -> Highlight:
        """Entry ``flat`` of the convolution's output ``y``: its taps and what they read."""
        sel = self.out == flat
        xs = self._uniq(self.src[sel])
        lines = self._text_y(flat, sel)
        pointed: Pointed = "input" if self.adjoint else "output"
        return self._highlight(pointed, self.y_index(flat), sel, xs, [flat], lines)

    def point_x(self, flat: int) -> Highlight:
        """Entry ``flat`` of the convolution's input ``x``: the (output, tap) pairs reading it."""
        sel = self.src == flat
        ys = self._uniq(self.out[sel])
        lines = self._text_x(flat, sel)
        pointed: Pointed = "output" if self.adjoint else "input"
        return self._highlight(pointed, self.x_index(flat), sel, [flat], ys, lines)

    def point_pair(self, y_flat: int, x_flat: int) -> Highlight:
        """Matrix entry ``A[y, x]`` (or ``Aᴴ[x, y]``): the taps of ``y`` that read ``x``."""
        sel = (self.out == y_flat) & (self.src == x_flat)
        index = (x_flat, y_flat) if self.adjoint else (y_flat, x_flat)
        lines = self._text_pair(y_flat, x_flat, sel)
        return self._highlight("entry", index, sel, [x_flat], [y_flat], lines)

    def point_padding(self, cell: tuple[int, int]) -> Highlight:
        """A zero-padding cell of ``x̃`` (lifted ``(row, col)``): the taps that cover it."""
        sel = (self.cells[:, 0] == cell[0]) & (self.cells[:, 1] == cell[1])
        ys = self._uniq(self.out[sel])
        lines = self._text_padding(cell, sel)
        return self._highlight("padding", self.spatial(cell), sel, [], ys, lines)

    def entry_pair(self, row: int, col: int) -> tuple[int, int]:
        """``(y flat, x flat)`` of entry ``(row, col)`` of ``op.matrix()``."""
        return (col, row) if self.adjoint else (row, col)

    # --- the texts ----------------------------------------------------------------------
    def _v(self, value: complex) -> str:
        return format_value(value, self.precision)

    def _wletter(self) -> str:
        """``w``, or ``w̄`` where the adjoint conjugates a complex kernel."""
        return "w̄" if self.adjoint and np.iscomplexobj(self.weights) else "w"

    def _wname(self, t: int) -> str:
        return _name(self._wletter(), tuple(int(v) for v in self.taps[t]))

    def _xn(self, flat: int) -> str:
        return _name("x", self.x_index(flat))

    def _yn(self, flat: int) -> str:
        return _name("y", self.y_index(flat))

    def _xval(self, flat: int) -> complex:
        return complex(np.asarray(self.x).reshape(-1)[flat])

    def _yval(self, flat: int) -> complex:
        return complex(np.asarray(self.y).reshape(-1)[flat])

    def _pname(self, j: int | np.integer) -> str:
        return _name("x̃", self.spatial((int(self.cells[j, 0]), int(self.cells[j, 1]))))

    def _text_y(self, o: int, sel: np.ndarray) -> list[str]:
        js = np.flatnonzero(sel)
        oname = ",".join(map(str, self.y_index(o)))
        oname = oname if self.one_d else f"({oname})"
        if not self.adjoint:
            head = (
                f"{self._yn(o)} = Σₜ w[t]·x̃[o·s + t·d] with o = {oname}, s = {self._axes_text(self.conv.stride)}, "
                f"d = {self._axes_text(self.conv.dilation)}: row {o} of A, the kernel laid on the padded input"
            )
            sym, num = [], []
            for j in js:  # one term per tap
                t, i = int(self.tap_flat[j]), int(self.src[j])
                sym.append(f"{self._wname(t)}·{self._xn(i) if i >= 0 else '0'}")
                num.append(
                    f"{_factor(self._weight(t), self.precision)}·"
                    f"{_factor(self._xval(i), self.precision) if i >= 0 else '0'}"
                )
            return [
                head,
                "= " + _joined(sym, " + "),
                "= " + _joined(num, " + ") + f" = {self._v(self._yval(o))}",
            ]
        head = (
            f"{self._yn(o)} = {self._v(self._yval(o))}: an input of Aᴴ (column {o}); the "
            f"transposed convolution scatters {self._wletter()}[t]·{self._yn(o)} onto "
            f"x̃[o·s + t·d], o = {oname}"
        )
        sym, num = [], []
        for j in js:
            t, i = int(self.tap_flat[j]), int(self.src[j])
            target = self._xn(i) if i >= 0 else f"{self._pname(j)} (padding, cropped)"
            sym.append(f"{target} += {self._wname(t)}·{self._yn(o)}")
            num.append(
                f"{_factor(self._weight(t), self.precision)}·{_factor(self._yval(o), self.precision)}"
            )
        return [head, _joined(sym, ",  "), "products: " + _joined(num, ",  ")]

    @staticmethod
    def _axes_text(values: tuple[int, ...]) -> str:
        """One number when every axis agrees (``2``), else ``(1,2)``."""
        return str(values[0]) if len(set(values)) == 1 else f"({','.join(map(str, values))})"

    def _copy_note(self, sel: np.ndarray, i: int) -> str:
        copies = [j for j in np.flatnonzero(sel) if self.kind[tuple(self.cells[j])] == COPY]
        if not copies:
            return ""
        what = "folded back onto" if self.adjoint else "copies of"
        return f"; {len(copies)} of them through padding cells ({self.conv.boundary}), {what} {self._xn(i)}"

    def _text_x(self, i: int, sel: np.ndarray) -> list[str]:
        js = np.flatnonzero(sel)
        if self.adjoint:
            head = (
                f"{self._xn(i)} = Σ {self._wletter()}[t]·y[o] over the (o, t) whose tap lands "
                f"on it: row {i} of Aᴴ{self._copy_note(sel, i)}"
            )
            sym = [f"{self._wname(int(self.tap_flat[j]))}·{self._yn(int(self.out[j]))}" for j in js]
            num = [
                f"{_factor(self._weight(int(self.tap_flat[j])), self.precision)}·"
                f"{_factor(self._yval(int(self.out[j])), self.precision)}"
                for j in js
            ]
            if not js.size:
                return [head, "= 0 (no tap lands here)", ""]
            return [
                head,
                "= " + _joined(sym, " + "),
                "= " + _joined(num, " + ") + f" = {self._v(self._xval(i))}",
            ]
        head = (
            f"{self._xn(i)} = {self._v(self._xval(i))}: an input of A (column {i}), read by "
            f"{len(js)} (output, tap) pair{'' if len(js) == 1 else 's'}{self._copy_note(sel, i)} — the outputs it reaches "
            "are where the transposed convolution scatters it"
        )
        sym = [
            f"{self._yn(int(self.out[j]))} gets {self._wname(int(self.tap_flat[j]))}·{self._xn(i)}"
            for j in js
        ]
        num = [
            f"{_factor(self._weight(int(self.tap_flat[j])), self.precision)}·"
            f"{_factor(self._xval(i), self.precision)}"
            for j in js
        ]
        if not js.size:
            return [head, "no output reads it (the stride skips it)", ""]
        return [head, _joined(sym, ",  "), "products: " + _joined(num, ",  ")]

    def _text_pair(self, o: int, i: int, sel: np.ndarray) -> list[str]:
        js = np.flatnonzero(sel)
        value = sum((self._weight(int(self.tap_flat[j])) for j in js), complex(0))
        if self.adjoint:
            conj = "conj(A[{o}, {i}])" if np.iscomplexobj(self.weights) else "A[{o}, {i}]"
            where = f"Aᴴ[{i}, {o}] = {conj.format(o=o, i=i)} = {self._v(value)}"
            pair = f"{self._xn(i)} (output of Aᴴ) and {self._yn(o)} (input)"
        else:
            where = f"A[{o}, {i}] = {self._v(value)}"
            pair = f"{self._yn(o)} (output of A) and {self._xn(i)} (input)"
        if not js.size:
            return [
                f"{where}: a structural zero — no tap of {self._yn(o)} covers {self._xn(i)}",
                f"entry of {pair}",
                "",
            ]
        taps = " + ".join(self._wname(int(self.tap_flat[j])) for j in js)
        cells = ", ".join(self._pname(j) for j in js)
        return [
            f"{where}: entry of {pair}",
            f"= {taps}: the tap{'s' if js.size > 1 else ''} of {self._yn(o)} on {cells}",
            "" if js.size == 1 else "(several taps read the same input through the padding)",
        ]

    def _text_padding(self, cell: tuple[int, int], sel: np.ndarray) -> list[str]:
        js = np.flatnonzero(sel)
        name = _name("x̃", self.spatial(cell))
        pairs = [
            f"{self._wname(int(self.tap_flat[j]))} of {self._yn(int(self.out[j]))}" for j in js
        ]
        if self.adjoint:
            head = f"{name} is zero padding: what Aᴴ scatters here is cropped (not an entry of x)"
        else:
            head = f"{name} is zero padding (not an entry of x): the taps on it read 0"
        return [head, ("taps on it: " + _joined(pairs, ", ")) if pairs else "no tap covers it", ""]
