"""Hypothesis strategies for convolution geometries and operators.

Public so that users can property-test their own code against convops::

    from hypothesis import given
    from convops.testing import strategies as cst

    @given(cst.operators(max_ndim=2))
    def test_mine(op):
        ...

Every drawn specification is valid (``make_geometry`` accepts it) and small enough for a
dense reference (at most a few thousand matrix entries per side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised only without the test extra
    raise ImportError(
        "convops.testing.strategies needs hypothesis: pip install 'convops[test]' "
        "(or pip install hypothesis)"
    ) from None

from ..geometry import BOUNDARIES, ConvGeometry, make_geometry
from ..operators import ConvOperator

__all__ = ["DTYPES", "ConvSpec", "conv_specs", "geometries", "kernels", "operators"]

#: The dtypes the strategies draw from by default.
DTYPES: tuple[str, ...] = ("float32", "float64", "complex128")


@dataclass(frozen=True)
class ConvSpec:
    """A valid set of arguments for :class:`~convops.ConvOperator` / ``make_geometry``."""

    kernel_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def geometry(self) -> ConvGeometry:
        return make_geometry(self.kernel_shape, self.input_shape, **self.kwargs)


def _padding_value(pads: list[tuple[int, int]], form: str):
    """Write the per-axis (lo, hi) widths in one of the accepted syntaxes."""
    if form == "int":
        return pads[0][0]
    if form == "ints":
        return tuple(lo for lo, _ in pads)
    if form == "pairs":
        return tuple(pads) if len(pads) > 1 or pads[0][0] == pads[0][1] else pads[0]
    return [list(p) if i % 2 else p[0] if p[0] == p[1] else p for i, p in enumerate(pads)]


@st.composite
def conv_specs(
    draw,
    *,
    min_ndim: int = 1,
    max_ndim: int = 3,
    multichannel: bool | None = None,
    boundaries: Sequence[str] = BOUNDARIES,
    max_stride: int = 3,
    max_dilation: int = 3,
    max_kernel: int = 3,
    flip: bool | None = None,
) -> ConvSpec:
    """Draw a valid convolution: shapes, stride, padding (every syntax), dilation, boundary,
    flip and, for multichannel kernels, channels and groups."""
    ndim = draw(st.integers(min_ndim, max_ndim))
    # fewer and smaller axes in 3D keep dense references cheap
    max_k = max_kernel if ndim < 3 else min(max_kernel, 2)
    k = tuple(draw(st.integers(1, max_k)) for _ in range(ndim))
    d = tuple(
        draw(st.integers(1, max_dilation if ndim < 3 else min(max_dilation, 2)))
        for _ in range(ndim)
    )
    s = tuple(draw(st.integers(1, max_stride)) for _ in range(ndim))
    boundary = draw(st.sampled_from(list(boundaries)))
    spans = [di * (ki - 1) for di, ki in zip(d, k, strict=True)]

    forms = ["valid", "full", "int", "ints", "pairs", "mixed", "same_upper"]
    if all(si == 1 for si in s):
        forms.append("same")
    form = draw(st.sampled_from(forms))
    if form == "valid":
        pads, padding = [(0, 0)] * ndim, "valid"
    elif form == "full":
        pads, padding = [(t, t) for t in spans], "full"
    elif form == "same":
        pads, padding = [(t // 2, t - t // 2) for t in spans], "same"
    elif form == "same_upper":  # depends on n: at most d·(k − 1) per axis, set below
        pads, padding = [(0, 0)] * ndim, "same_upper"
    elif form == "int":
        p = draw(st.integers(0, 3))
        pads = [(p, p)] * ndim
        padding = p
    elif form == "ints":
        pads = [(p, p) for p in (draw(st.integers(0, 3)) for _ in range(ndim))]
        padding = _padding_value(pads, "ints")
    else:
        pads = [(draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(ndim)]
        padding = _padding_value(pads, form)

    max_n = 9 if ndim == 1 else 7 if ndim == 2 else 4
    n = []
    for (lo, hi), span in zip(pads, spans, strict=True):
        least = max(1, span + 1 - lo - hi)
        if boundary == "circular":
            least = max(least, lo, hi)
        elif boundary == "reflect":
            least = max(least, lo + 1, hi + 1)
        if form == "same_upper" and boundary in ("circular", "reflect"):
            least = max(least, span + 1)  # lo, hi <= d·(k − 1) < n: every mode can pad it
        n.append(least + draw(st.integers(0, max(0, max_n - least))))

    kwargs: dict[str, Any] = dict(
        stride=s if len(set(s)) > 1 else s[0],
        padding=padding,
        dilation=d if len(set(d)) > 1 else d[0],
        boundary=boundary,
    )
    kwargs["flip"] = draw(st.booleans()) if flip is None else flip
    if multichannel is None:
        multichannel = draw(st.booleans())
    if multichannel:
        groups = draw(st.sampled_from([1, 1, 2, 3] if ndim < 3 else [1, 2]))
        cin = groups * draw(st.integers(1, 2))
        cout = groups * draw(st.integers(1, 2))
        kwargs["groups"] = groups
        return ConvSpec((cout, cin // groups) + k, (cin,) + tuple(n), kwargs)
    return ConvSpec(k, tuple(n), kwargs)


def geometries(**spec_options) -> st.SearchStrategy[ConvGeometry]:
    """Valid :class:`~convops.ConvGeometry` objects (see :func:`conv_specs` for options)."""
    return conv_specs(**spec_options).map(ConvSpec.geometry)


def _array(draw, shape, dtype: str) -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


@st.composite
def kernels(draw, shape: Sequence[int], dtypes: Sequence[str] = DTYPES) -> np.ndarray:
    """A random kernel of ``shape`` (standard normal entries, seeded by hypothesis)."""
    return _array(draw, tuple(shape), draw(st.sampled_from(list(dtypes))))


@st.composite
def operators(
    draw,
    *,
    methods: Sequence[str] = ("matrix", "direct", "fft"),
    dtypes: Sequence[str] = DTYPES,
    **spec_options,
) -> ConvOperator:
    """A :class:`~convops.ConvOperator` (or, half the time, its adjoint ``.H``)."""
    spec = draw(conv_specs(**spec_options))
    kernel = draw(kernels(spec.kernel_shape, dtypes))
    method = draw(st.sampled_from(list(methods)))
    op = ConvOperator(kernel, spec.input_shape, method=method, **spec.kwargs)
    return op.H if draw(st.booleans()) else op


def arrays(shape: Sequence[int], dtype: str = "float64") -> st.SearchStrategy[np.ndarray]:
    """Random standard-normal arrays of ``shape`` and ``dtype`` (seeded by hypothesis)."""
    return st.composite(lambda draw: _array(draw, tuple(shape), dtype))()
