"""Numbers and matrices as text: the one formatter the CLI, the pictures and the tutorials use.

Integers print as integers (the convolution matrix of the kernel ``1..9`` reads
``1 2 3 0 4 5 6 0 …``), other values with a stated precision, complex values as ``a+bj``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["format_entries", "format_matrix", "format_value", "index_labels", "is_integral"]


def is_integral(values: ArrayLike) -> bool:
    """Whether every entry is a finite integer value small enough to print exactly."""
    arr = np.asarray(values)
    return bool(
        np.all(np.isfinite(arr))
        and np.all(arr == np.round(arr))
        and (arr.size == 0 or np.max(np.abs(arr)) < 1e15)
    )


def format_value(v: complex, precision: int) -> str:
    """One value: an integer as an integer, others with ``precision`` decimals.

    Falls back to ``precision`` significant digits (``g``) where fixed decimals would
    print 0 or an unreadable number of digits.  Complex values print as ``a+bj``, each
    part formatted the same way.
    """
    if isinstance(v, complex) or np.iscomplexobj(v):
        v = complex(v)
        if v.imag != 0:
            im = format_value(abs(v.imag), precision)
            return f"{format_value(v.real, precision)}{'-' if v.imag < 0 else '+'}{im}j"
        v = v.real
    x = float(v.real) if isinstance(v, complex) else float(v)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.{precision}f}"
    if float(text) == 0.0 or abs(x) >= 10.0 ** (precision + 4):
        text = f"{x:.{max(precision, 1)}g}"
    return text


def format_entries(values: ArrayLike, precision: int) -> np.ndarray:
    """Entries as strings: integers as integers, others with ``precision`` significant digits.

    The choice is made for the whole array (a matrix prints either every entry as an
    integer or none), so that columns line up.
    """
    flat = np.asarray(values).ravel()
    if np.iscomplexobj(flat):
        real, imag = flat.real, flat.imag
        if is_integral(real) and is_integral(imag):
            fmt = [_integral_complex(a, b) for a, b in zip(real, imag, strict=True)]
        else:
            fmt = [
                "0"
                if v == 0
                else (f"{v.real:.{precision}g}" if v.imag == 0 else f"{v:.{precision}g}")
                for v in flat
            ]
    elif is_integral(flat):
        fmt = [str(int(v)) for v in flat]
    else:
        fmt = ["0" if v == 0 else f"{v:.{precision}g}" for v in flat]
    return np.array(fmt, dtype=object).reshape(np.shape(values))


def _integral_complex(a: float, b: float) -> str:
    if a == 0 and b == 0:
        return "0"
    if b == 0:
        return f"{int(a)}"
    if a == 0:
        return f"{int(b)}j"
    return f"{int(a)}{int(b):+d}j"


def index_labels(name: str, shape: Sequence[int]) -> list[str]:
    """``name[i,j]`` for every multi-index of ``shape`` in C order."""
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def format_matrix(
    dense: np.ndarray, *, precision: int = 4, row_labels: Sequence[str] | None = None
) -> str:
    """The matrix as text with right-aligned columns, one line per row.

    Integers print as integers (``1 2 3 0 4 ...``, the matrix of the kernel ``1..9`` on a
    4×4 input); other values with ``precision`` significant digits. ``row_labels``
    (optional) prefix each row.
    """
    cells = format_entries(dense, precision)
    width = max((len(c) for c in cells.ravel()), default=1)
    lines = [" ".join(c.rjust(width) for c in row) for row in cells]
    if row_labels is not None:
        lw = max(len(label) for label in row_labels)
        lines = [
            f"{label.ljust(lw)} | {line}" for label, line in zip(row_labels, lines, strict=True)
        ]
    return "\n".join(lines)
