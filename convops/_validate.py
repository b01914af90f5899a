"""The shared checks: every layer validates its parameters with these, and only these.

Each check takes the value and the name the user typed for it, and raises a
``TypeError`` (wrong kind of object) or ``ValueError`` (right kind, value not allowed)
whose message names the parameter, repeats the value received (``{value!r}``) and says
what is allowed.  They are raised ``from None`` so that the user sees their own call,
not convops' internals.

The geometry (:mod:`convops.geometry`) uses them for the convolution's parameters; the
spectral tools, the views, the functional API and the command line use them for theirs.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "MAX_AXIS_SIZE",
    "MAX_ELEMENTS",
    "MAX_SPATIAL_AXES",
    "as_numeric_array",
    "check_axis_size",
    "check_elements",
    "is_int",
    "normalize_dtype",
    "per_axis_ints",
    "shape_tuple",
    "validate_bool",
    "validate_choice",
    "validate_flip",
    "validate_groups",
    "validate_int",
    "validate_method",
    "validate_number",
    "validate_rng",
    "validate_spatial_axes",
]

#: convops handles 1, 2 or 3 spatial axes.
MAX_SPATIAL_AXES = 3

#: Largest size, stride, dilation or padding width accepted on an axis: every index
#: convops computes then fits in numpy's 64-bit integers.
MAX_AXIS_SIZE = 2**62

#: Largest number of entries of any array a convolution describes (input, output, padded
#: input, kernel): its byte count in complex128 still fits in a signed 64-bit integer.
MAX_ELEMENTS = 2**63 // 16

#: The realisations a ``method=`` argument may name, plus ``"auto"``.
METHODS: tuple[str, ...] = ("auto", "direct", "fft", "matrix")

T = TypeVar("T")


# ----------------------------------------------------------------------------------------
# dtypes and arrays (ints and bools compute in float64, float16 in float32)
# ----------------------------------------------------------------------------------------
def normalize_dtype(dtype: Any) -> np.dtype:
    """The floating dtype convops computes in for an array of ``dtype``.

    Integers and bools become float64, float16 becomes float32, other floating and
    complex dtypes stay as they are, in the machine's byte order (a big-endian ``'>f8'``
    array computes in, and returns, native float64).  Raises ``TypeError`` for
    non-numeric dtypes.
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.kind == "f" and dtype.itemsize == 2:  # float16, in either byte order
        return np.dtype(np.float32)
    if dtype.kind in "fc":
        # computed and returned in the machine's byte order ('>f8' becomes float64)
        return dtype.newbyteorder("=")
    raise TypeError(f"dtype {dtype} is not numeric")


def as_numeric_array(value: Any, name: str) -> np.ndarray:
    """``np.asarray(value)`` that refuses non-numeric data with a message naming ``name``."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{name} must be a numeric array; could not convert it: {exc}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"{name} must be a numeric array (bool, int, float or complex); got dtype {arr.dtype}"
        ) from None
    return arr


# ----------------------------------------------------------------------------------------
# scalars and flags
# ----------------------------------------------------------------------------------------
def is_int(value: object) -> bool:
    """A Python or numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def validate_bool(value: object, name: str) -> bool:
    """``value`` must be ``True`` or ``False`` (a truthy string or number would silently pass)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}") from None
    return bool(value)


def validate_flip(flip: object) -> bool:
    """``flip`` must be a bool: ``False`` cross-correlation, ``True`` convolution."""
    return validate_bool(flip, "flip")


def validate_int(value: object, name: str, minimum: int | None = None) -> int:
    """An int (not a bool), at least ``minimum`` when given."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int; got {value!r}") from None
    number = int(value)
    if minimum is not None and number < minimum:
        raise ValueError(f"{name}={value!r} is not allowed: it must be >= {minimum}") from None
    return number


def validate_number(
    value: object,
    name: str,
    *,
    minimum: float | None = None,
    exclusive: bool = False,
    maximum: float | None = None,
) -> float:
    """A finite real number (int or float, not a bool), within ``[minimum, maximum]``.

    ``exclusive=True`` makes the lower bound strict (``> minimum``).
    """
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number; got {value!r}") from None
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name}={value!r} is not allowed: it must be finite") from None
    if minimum is not None and (number <= minimum if exclusive else number < minimum):
        relation = ">" if exclusive else ">="
        raise ValueError(
            f"{name}={value!r} is not allowed: it must be {relation} {minimum}"
        ) from None
    if maximum is not None and number > maximum:
        raise ValueError(f"{name}={value!r} is not allowed: it must be <= {maximum}") from None
    return number


def validate_choice(value: object, name: str, choices: Sequence[T]) -> T:
    """``value`` must be one of ``choices`` (strings compared exactly)."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not allowed; use one of {allowed}") from None
    return value  # type: ignore[return-value]


def validate_method(method: object) -> str:
    """``method`` names a realisation (``"direct"``, ``"fft"``, ``"matrix"``) or ``"auto"``."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method={method!r} is not a realisation; use one of {METHODS}") from None
    return method


def validate_groups(groups: object) -> int:
    """``groups`` as an int ``>= 1`` (whether it divides the channels is checked with them)."""
    return validate_int(groups, "groups", minimum=1)


# ----------------------------------------------------------------------------------------
# shapes and per-axis values
# ----------------------------------------------------------------------------------------
def check_axis_size(values: Sequence[int], name: str, value: object) -> None:
    """Every entry of ``values`` (parsed from ``value``, called ``name``) is <= MAX_AXIS_SIZE."""
    if any(v > MAX_AXIS_SIZE for v in values):
        raise ValueError(
            f"{name}={value!r} is too large: each entry must be at most 2**62 "
            "(sizes, strides, dilations and paddings are indices of numpy arrays)"
        ) from None


def check_elements(count: int, name: str, value: object, what: str) -> None:
    """``what`` (an array described by ``name``) must have at most MAX_ELEMENTS entries."""
    if count > MAX_ELEMENTS:
        raise ValueError(
            f"{name}={value!r} is too large: {what} would have {count} entries, more than "
            f"any array can hold (at most 2**59 = {MAX_ELEMENTS}); use smaller sizes"
        ) from None


def per_axis_ints(value: object, name: str, ndim: int, minimum: int) -> tuple[int, ...]:
    """An int or a sequence (tuple or list) of ``ndim`` ints, each ``>= minimum``."""
    if is_int(value):
        values: tuple[int, ...] = (int(value),) * ndim  # type: ignore[call-overload]
    elif isinstance(value, (tuple, list)) and all(is_int(v) for v in value):
        if len(value) != ndim:
            raise ValueError(
                f"{name}={value!r} has {len(value)} entries; expected one int or "
                f"{ndim} (one per spatial axis)"
            ) from None
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{name} must be an int or a tuple of {ndim} ints; got {value!r}") from None
    for v in values:
        if v < minimum:
            raise ValueError(
                f"{name}={value!r} is not allowed: each entry must be >= {minimum}"
            ) from None
    check_axis_size(values, name, value)
    return values


def shape_tuple(value: object, name: str) -> tuple[int, ...]:
    """An int or a sequence of ints (not bools), each ``>= 1``, as a tuple."""
    if is_int(value):
        value = (value,)
    try:
        if isinstance(value, (str, bytes)) or any(
            isinstance(v, (bool, np.bool_))
            for v in value  # type: ignore[attr-defined]
        ):
            raise TypeError
        shape = tuple(operator.index(v) for v in value)  # type: ignore[attr-defined]
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints; got {value!r}") from None
    if not shape:
        raise ValueError(f"{name}=() is empty: give one size per axis") from None
    if any(v < 1 for v in shape):
        raise ValueError(f"{name}={shape!r} is not allowed: every size must be >= 1") from None
    check_axis_size(shape, name, value)
    return shape


def validate_spatial_axes(ndim: int, name: str, value: object) -> int:
    """The number of spatial axes of ``value`` (called ``name``) must be 1, 2 or 3."""
    if not 1 <= ndim <= MAX_SPATIAL_AXES:
        raise ValueError(
            f"{name} {value!r} has {ndim} spatial axes; convops handles 1, 2 or 3"
        ) from None
    return ndim


def validate_rng(
    rng: object, name: str = "rng", *, default_seed: int | None = None
) -> np.random.Generator:
    """A numpy ``Generator`` from ``None``, an int seed ``>= 0`` or a ``Generator``.

    ``None`` gives ``default_rng(default_seed)`` (fresh entropy when that is ``None`` too).
    """
    if rng is None:
        return np.random.default_rng(default_seed)
    if isinstance(rng, np.random.Generator):
        return rng
    if is_int(rng):
        return np.random.default_rng(validate_int(rng, name, minimum=0))
    raise TypeError(
        f"{name} must be None, an int seed >= 0 or a numpy.random.Generator; got {rng!r}"
    ) from None
