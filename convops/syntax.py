"""The text syntax of convolution parameters: ``4x4``, ``1,2``, ``0:1,2``, ``2:3``, ``1,-2,3``.

One syntax for every place a person types a geometry: the ``convops`` command line and the
explorer's text boxes (:func:`convops.plotting.explore`).  Each parser raises a
``ValueError`` that repeats the text and shows the syntax allowed; the command line turns
it into its one-line error.
"""

from __future__ import annotations

import numpy as np

from ._validate import shape_tuple, validate_int, validate_spatial_axes

__all__ = [
    "parse_channels",
    "parse_input_shape",
    "parse_ints",
    "parse_kernel_shape",
    "parse_number",
    "parse_padding",
    "parse_shape",
    "parse_values",
    "split_sizes",
]


def split_sizes(text: str, seps: str = "x×X,") -> list[str]:
    """``text`` split at any of ``seps`` (``4x4``, ``4×4``, ``4,4``)."""
    for sep in seps[1:]:
        text = text.replace(sep, seps[0])
    return text.split(seps[0])


def parse_shape(text: str, *, channel_axes: int = 0) -> tuple[int, ...]:
    """``"4x4"`` → ``(4, 4)``; sizes separated by ``x`` (or ``,``), 1 to 3 of them, each ≥ 1.

    ``channel_axes`` more sizes are accepted in front (the channel sizes of an input
    ``CxHxW``, 1, or of a kernel ``OxIxkHxkW``, 2); whether they were meant is the caller's
    decision, from the other shapes.
    """
    try:
        sizes = tuple(int(p) for p in split_sizes(text.strip()))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a shape: give sizes separated by 'x', e.g. 4x4 or 8x8x8"
        ) from None
    if not 1 <= len(sizes) <= 3 + channel_axes:
        try:
            validate_spatial_axes(len(sizes), "shape", text)
        except ValueError as exc:
            raise ValueError(f"{exc} (channels go in --channels)") from None
    try:
        return shape_tuple(sizes, "shape")
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def parse_input_shape(text: str) -> tuple[int, ...]:
    """An input's shape: spatial sizes, or ``CxHxW`` with its channel count in front."""
    return parse_shape(text, channel_axes=1)


def parse_kernel_shape(text: str) -> tuple[int, ...]:
    """A kernel's shape: spatial sizes, or ``C_out x C_in/groups x kH x kW`` in front."""
    return parse_shape(text, channel_axes=2)


def parse_ints(text: str) -> int | tuple[int, ...]:
    """``"2"`` → 2, ``"1,2"`` → ``(1, 2)`` (one per spatial axis)."""
    try:
        values = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an int or a comma-separated list of ints (one per axis)"
        ) from None
    return values[0] if len(values) == 1 else values


def parse_padding(text: str) -> str | int | tuple[int | tuple[int, int], ...]:
    """``valid``/``same``/``same_upper``/``full``, an int, or per-axis ``N`` or ``LO:HI``.

    Per-axis entries are separated by commas.  ``same`` is PyTorch's rule (stride 1 only),
    ``same_upper`` TensorFlow's (any stride; see :func:`convops.geometry.make_geometry`).
    """
    text = text.strip()
    if text in ("valid", "same", "same_upper", "full"):
        return text
    entries: list[int | tuple[int, int]] = []
    try:
        for part in text.split(","):
            if ":" in part:
                lo, hi = part.split(":")
                entries.append((int(lo), int(hi)))
            else:
                entries.append(int(part))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a padding: use valid, same, same_upper, full, an int, or one "
            "entry per axis separated by commas, each N or LO:HI (e.g. 1,2 or 0:1,1:0)"
        ) from None
    if len(entries) == 1 and isinstance(entries[0], int):
        return entries[0]
    return tuple(entries)


def parse_channels(text: str) -> tuple[int, int]:
    """``"CIN:COUT"`` → ``(CIN, COUT)``, both ≥ 1."""
    try:
        cin, cout = (int(p) for p in text.split(":"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not CIN:COUT (two ints separated by a colon, e.g. 2:3)"
        ) from None
    try:
        return validate_int(cin, "CIN", minimum=1), validate_int(cout, "COUT", minimum=1)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def parse_number(text: str) -> complex:
    """An int, else a float, else a complex number (``1+2j``)."""
    for kind in (int, float, complex):
        try:
            return kind(text)
        except ValueError:
            pass
    raise ValueError(text)


def parse_values(text: str) -> np.ndarray:
    """Comma-separated numbers (ints, floats or complex like ``1+2j``), in C order."""
    try:
        values = [parse_number(p.strip()) for p in text.split(",")]
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a list of numbers: {str(exc)!r} is not a number "
            "(write e.g. 1,2,3 or 0.5,-1,2+1j)"
        ) from None
    return np.array(values)
