"""Tools for checking operators: the dot (adjoint) test, and hypothesis strategies.

``convops.testing.strategies`` needs hypothesis (the ``test`` extra); importing this
package does not.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validate import validate_number, validate_rng

__all__ = ["default_rtol", "dot_test"]


def default_rtol(dtype) -> float:
    """About 1e-4 in single and 1e-10 in double precision."""
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def _random(rng: np.random.Generator, n: int, complex_: bool) -> np.ndarray:
    v = rng.standard_normal(n)
    if complex_:
        v = v + 1j * rng.standard_normal(n)
    return v


def dot_test(
    op: LinearOperator, *, rng=None, rtol: float | None = None, atol: float = 0.0
) -> float:
    r"""Check ⟨A x, y⟩ = ⟨x, A* y⟩ for random ``x`` and ``y``.

    ``x`` and ``y`` are real standard normal vectors for a real operator and complex ones
    (independent real and imaginary parts) for a complex operator, so a missing
    conjugation is caught.  With ``⟨u, v⟩ = Σ conj(v)·u``, the relative error is

    .. math:: \frac{|⟨Ax, y⟩ − ⟨x, A^*y⟩|}{\max(|⟨Ax, y⟩|, |⟨x, A^*y⟩|)}.

    Parameters
    ----------
    op : LinearOperator
        Anything with ``shape``, ``dtype``, ``matvec`` and ``rmatvec``.
    rng : numpy.random.Generator or int, optional
        Source of the random vectors (``numpy.random.default_rng(rng)``).
    rtol : float, optional
        Largest relative error accepted; default :func:`default_rtol` of ``op.dtype``.
    atol : float, optional
        Also accept ``|⟨Ax, y⟩ − ⟨x, A*y⟩| <= atol · ‖x‖ · ‖y‖``. The relative error is
        meaningless when both inner products are rounding noise (an operator that is zero, or
        nearly so, e.g. a geometry whose outputs read only zero padding); pass about
        ``eps · ‖A‖`` then. Default 0: the relative test alone.

    Returns
    -------
    float
        The relative error.

    Raises
    ------
    AssertionError
        With both inner products and the error when it exceeds ``rtol``.
    """
    if not all(hasattr(op, a) for a in ("shape", "dtype", "matvec", "rmatvec")):
        raise TypeError(
            f"op must be a LinearOperator (shape, dtype, matvec, rmatvec); got {type(op).__name__}"
        )
    rng = validate_rng(rng)
    dtype = np.dtype(op.dtype)
    if rtol is None:
        rtol = default_rtol(dtype)
    else:
        rtol = validate_number(rtol, "rtol", minimum=0, exclusive=True)
    atol = validate_number(atol, "atol", minimum=0)
    complex_ = dtype.kind == "c"
    rows, cols = op.shape
    x = _random(rng, cols, complex_).astype(dtype if dtype.kind in "fc" else np.float64)
    y = _random(rng, rows, complex_).astype(x.dtype)
    ax_y = np.vdot(y, op.matvec(x))  # ⟨Ax, y⟩ = Σ conj(y)·Ax
    x_ahy = np.vdot(op.rmatvec(y), x)  # ⟨x, A*y⟩ = Σ conj(A*y)·x
    scale = max(abs(ax_y), abs(x_ahy))
    err = float(abs(ax_y - x_ahy) / scale) if scale > 0 else 0.0
    floor = atol * float(np.linalg.norm(x) * np.linalg.norm(y))
    if not (err <= rtol or abs(ax_y - x_ahy) <= floor):
        raise AssertionError(
            f"dot test failed for {op!r}: <Ax, y> = {ax_y:.12g}, <x, A*y> = {x_ahy:.12g}, "
            f"relative error {err:.3g} > rtol {rtol:.3g}"
        )
    return err
