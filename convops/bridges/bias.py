"""What the bridges do with a layer's bias: the one policy ``from_torch`` and ``from_keras`` share.

A convolution layer computes ``A x + b``; only ``A`` is a linear operator.  Silently dropping
``b`` would make ``op.apply(x)`` differ from the layer's output with no sign of why, so the
bridges ask: ``bias="refuse"`` (the default) refuses a layer that has one, ``"drop"`` returns
``A`` alone, ``"return"`` returns ``(A, b)``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validate import validate_choice

__all__ = ["BIAS_CHOICES", "BiasPolicy", "apply_bias_policy", "validate_bias_policy"]

BiasPolicy = Literal["refuse", "drop", "return"]
BIAS_CHOICES: tuple[BiasPolicy, ...] = ("refuse", "drop", "return")


def validate_bias_policy(bias: object) -> BiasPolicy:
    """``bias`` itself if it is one of :data:`BIAS_CHOICES`; a ``ValueError`` naming it if not."""
    return validate_choice(bias, "bias", BIAS_CHOICES)


def apply_bias_policy(
    op: Any, bias_array: np.ndarray | None, policy: BiasPolicy, *, what: str, broadcast: str
) -> Any:
    """``op``, or ``(op, bias_array)`` for ``"return"``; refuses a bias under ``"refuse"``.

    ``what`` names the layer in the message (``"the Conv2d"``), ``broadcast`` is how the
    bias reaches the output (``"[:, None, None]"``, or ``""`` for channels last).
    """
    if bias_array is not None and policy == "refuse":
        raise ValueError(
            f"{what} has a bias of shape {bias_array.shape}, and a bias is affine, not part of "
            "a linear operator: pass bias='drop' for the operator alone, or bias='return' "
            f"for (op, bias), with layer(x) = op.apply(x) + bias{broadcast}"
        )
    if policy == "return":
        return op, bias_array
    return op
