"""Arrays of other libraries: the array-API namespace of a call, its device and its dtype.

Functions that take arrays (so far the spectrum-in/spectrum-out functions of
:mod:`convops.spectral.spectrum`) compute on numpy arrays exactly as they always have.  When
an operand is an array of another library implementing the `array API standard
<https://data-apis.org/array-api/>`_ (PyTorch, JAX, CuPy, …, reached through
``array_api_compat``), they compute with that library's own operations instead, so that the
result is of the same kind, on the same device, and automatic differentiation (``torch``
autograd, ``jax.grad``) runs through it.  This module decides which of the two applies and
puts the operands in the form the computation needs.

The rules (every function built on this module documents them by reference):

* **numpy**: every operand is a numpy array, a numpy scalar or array_like (lists, Python
  numbers): :func:`backend_of` returns ``None`` and the caller's numpy code runs, unchanged.
* **one other library**: its namespace (``array_api_compat.array_namespace``), which must
  have the ``fft`` extension, and one device, which all its operands must share
  (``ValueError`` otherwise).  Arrays of two different libraries (say a torch tensor and a
  JAX array) are refused with a ``TypeError``: there is no device or dtype to agree on.
* **numpy beside another library**: the numpy (or array_like) operand is a constant of the
  other library's computation: it is converted to that library, on that device, in the
  *precision* of that library's operands (float32 beside float32 or complex64, float64 beside
  float64 or complex128), a complex one staying complex.  So a float64 numpy kernel used with
  a complex64 CUDA tensor computes in complex64 on the GPU, never in float64 on the CPU.
* **dtypes** of the other library's arrays: float32, float64, complex64 and complex128 are
  kept; the half precisions (float16, bfloat16, complex32) compute in float32 / complex64, as
  numpy's float16 does in convops.  Integer and bool arrays are refused with a ``TypeError``
  (numpy's ints compute in float64, which is exactly the silent float64 this module avoids):
  cast them first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from ._validate import as_numeric_array

__all__ = ["AnyArray", "Backend", "backend_of"]

#: A numpy array_like, or an array of a library implementing the array API standard.
AnyArray: TypeAlias = Any

_SUPPORTED = "float32, float64, complex64 or complex128 (float16 and bfloat16 compute in float32)"


def _type_name(value: object) -> str:
    cls = type(value)
    return f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"


def _is_other_array(value: object) -> bool:
    """An array of an array-API library other than numpy (numpy arrays take the numpy path)."""
    if type(value) is np.ndarray:  # the common case, decided without array_api_compat
        return False
    import array_api_compat as aac

    return aac.is_array_api_obj(value) and not aac.is_numpy_array(value)


@dataclass(frozen=True)
class Backend:
    """The array library a call computes with, when it is not numpy.

    Attributes
    ----------
    xp : module
        The array-API namespace (``array_api_compat``'s wrapper where it has one).
    device : object
        The device of the library's operands; every array created here goes there.
    kind : str
        The operands' type as users know it (``"torch.Tensor"``), for messages.
    precision : int
        32 or 64: the precision of the library's operands (the larger one when they
        differ); numpy operands are converted to it.
    """

    xp: Any
    device: Any
    kind: str
    precision: int

    def complex_dtype(self, precision: int) -> Any:
        """The namespace's complex dtype of ``precision`` (32: complex64, 64: complex128)."""
        return self.xp.complex128 if precision == 64 else self.xp.complex64

    def precision_of(self, dtype: Any) -> int:
        """64 for float64 and complex128, 32 for the other dtypes :meth:`operand` returns."""
        return 64 if dtype in (self.xp.float64, self.xp.complex128) else 32

    def operand(self, value: AnyArray, name: str) -> Any:
        """``value`` as an array of this library in a dtype the computation takes.

        The library's own arrays keep their dtype (half precisions become float32 or
        complex64); numpy operands and array_likes are converted, on :attr:`device`, to
        :attr:`precision` (complex stays complex).  ``TypeError`` for non-numeric data.
        """
        xp = self.xp
        if _is_other_array(value):
            return _floating(xp, value, name)
        arr = as_numeric_array(value, name)
        kind = "complex" if arr.dtype.kind == "c" else "float"
        target = np.dtype(f"{kind}{self.precision * (2 if kind == 'complex' else 1)}")
        return xp.asarray(arr.astype(target), device=self.device)

    def fft(self, function: str, x: Any, name: str, **kwargs: Any) -> Any:
        """``xp.fft.<function>(x, **kwargs)``; a failure (a device or dtype the library's
        FFT cannot take) becomes a ``TypeError`` naming the array, its dtype and device."""
        call: Callable[..., Any] = getattr(self.xp.fft, function)
        try:
            return call(x, **kwargs)
        except (RuntimeError, NotImplementedError, TypeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TypeError(
                f"{name}: {self.kind}'s fft.{function} cannot take a {x.dtype} array on device "
                f"{self.device!s} ({first}); move it to a device whose FFT supports it, or cast "
                f"it to complex64 / complex128"
            ) from None


def _floating(xp: Any, value: Any, name: str) -> Any:
    """``value`` (an array of ``xp``) in a dtype the computation takes; ``TypeError`` otherwise."""
    dtype = value.dtype
    if dtype in (xp.float32, xp.float64, xp.complex64, xp.complex128):
        return value
    try:
        real = xp.isdtype(dtype, "real floating")
        complex_ = xp.isdtype(dtype, "complex floating")
    except (TypeError, ValueError):  # a dtype the namespace does not classify
        real = complex_ = False
    if real:  # float16, bfloat16: computed in float32, as numpy's float16 is in convops
        return xp.astype(value, xp.float32)
    if complex_:  # complex32
        return xp.astype(value, xp.complex64)
    raise TypeError(
        f"{name} has dtype {dtype}; a {_type_name(value)} must be {_SUPPORTED}. Integer and "
        f"bool arrays are not promoted (that would be float64): cast {name} first, e.g. "
        f"{_cast_hint(value, name)}"
    ) from None


def _cast_hint(value: object, name: str) -> str:
    """How a user of ``value``'s library casts it to float32."""
    library = type(value).__module__.split(".")[0]
    if library == "torch":
        return f"{name}.to(torch.float32)"
    if library in ("jax", "jaxlib"):
        return f"{name}.astype(jnp.float32)"
    return f"xp.astype({name}, xp.float32)"


def backend_of(**operands: AnyArray) -> Backend | None:
    """The library the operands (keyword: the user's names for them) compute with.

    ``None`` when every operand is a numpy array, numpy scalar or array_like: the numpy
    code path.  Otherwise the :class:`Backend` of the one other library among them (see the
    module docstring for the rules).

    Raises
    ------
    TypeError
        Arrays of two libraries; a namespace without the ``fft`` extension; a sparse
        tensor; an integer, bool or other non-floating dtype.
    ValueError
        The library's operands on different devices.
    """
    others = {name: v for name, v in operands.items() if _is_other_array(v)}
    if not others:
        return None
    import array_api_compat as aac

    try:
        xp = aac.array_namespace(*others.values())
    except TypeError:
        kinds = ", ".join(f"{name} is a {_type_name(v)}" for name, v in others.items())
        raise TypeError(
            f"the arrays come from different libraries ({kinds}): give them all from one "
            "library (numpy arrays may accompany any one of them)"
        ) from None
    first = next(iter(others))
    kind = _type_name(others[first])
    if getattr(xp, "fft", None) is None:
        raise TypeError(
            f"{first} is a {kind}, whose array namespace {getattr(xp, '__name__', xp)!r} has no "
            "fft extension; the spectral functions need one (numpy, PyTorch, JAX and CuPy have it)"
        ) from None
    for name, v in others.items():
        if aac.is_torch_array(v) and str(v.layout) != "torch.strided":
            raise TypeError(
                f"{name} is a torch tensor with layout {v.layout}; the spectral functions take "
                f"dense (strided) tensors: call {name}.to_dense() first"
            ) from None
    # None: no device to speak of (a JAX tracer under jax.grad or jit), compatible with any
    devices = {name: d for name, v in others.items() if (d := aac.device(v)) is not None}
    device = next(iter(devices.values()), None)
    for name, d in devices.items():
        if d != device:
            at = next(n for n, dn in devices.items() if dn == device)
            raise ValueError(
                f"{name} is on device {d!s} but {at} is on device {device!s}: put every "
                f"array on one device first (e.g. {name}.to({at}.device) for torch tensors)"
            ) from None
    floating = {name: _floating(xp, v, name) for name, v in others.items()}
    precision = max(64 if f.dtype in (xp.float64, xp.complex128) else 32 for f in floating.values())
    return Backend(xp=xp, device=device, kind=kind, precision=precision)
