"""``from_torch``: a ``torch.nn.Conv*d`` / ``ConvTranspose*d`` module as a convops operator.

PyTorch is not imported here, nor anywhere in convops: a module is recognised by the names of
the classes in its MRO (``torch.nn``'s ``Conv1d`` … ``ConvTranspose3d``, so that subclasses
work) and read through its attributes (``weight``, ``bias``, ``stride``, ``padding``,
``dilation``, ``groups``, ``padding_mode``, ``output_padding``, and for the non-zero padding
modes the ``_reversed_padding_repeated_twice`` that its forward hands to ``F.pad``) and
tensor methods (``detach``, ``cpu``, ``numpy``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np

from .._validate import is_int, per_axis_ints, shape_tuple, validate_choice
from ..geometry import Method, make_geometry, validate_method
from ..operators import ConvOperator
from .bias import BiasPolicy, apply_bias_policy, validate_bias_policy

__all__ = ["from_torch"]

#: The torch.nn classes from_torch reads: name -> (spatial axes, transposed).
_KINDS: dict[str, tuple[int, bool]] = {
    "Conv1d": (1, False),
    "Conv2d": (2, False),
    "Conv3d": (3, False),
    "ConvTranspose1d": (1, True),
    "ConvTranspose2d": (2, True),
    "ConvTranspose3d": (3, True),
}
_ACCEPTED = "torch.nn.Conv1d/2d/3d or torch.nn.ConvTranspose1d/2d/3d (or a subclass)"
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
# the widest border torch's F.pad (and convops' boundary map) allows per side, for length n
_WIDEST = {"reflect": lambda n: n - 1, "circular": lambda n: n}
_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


# ----------------------------------------------------------------------------------------
# recognising the module
# ----------------------------------------------------------------------------------------
def _torch_base(module: object) -> type | None:
    """The ``torch.nn`` convolution class in ``module``'s MRO, or None.

    Only classes defined under ``torch.nn`` count: the quantized modules (``torch.ao``) reuse
    the names ``Conv2d`` etc. with a packed weight and other arithmetic.
    """
    for cls in type(module).__mro__:
        where = getattr(cls, "__module__", "") or ""
        if cls.__name__ in _KINDS and where.startswith("torch.nn.") and "quantized" not in where:
            return cls
    return None


def _describe(module: Any) -> str:
    name = type(module).__name__
    if callable(getattr(module, "named_modules", None)):
        try:
            convs = [n for n, sub in module.named_modules() if n and _torch_base(sub)]
        except Exception:  # a broken container: describe it by its type alone
            convs = []
        if convs:
            shown = ", ".join(repr(n) for n in convs[:4]) + (" …" if len(convs) > 4 else "")
            return (
                f"a {name}, which is not a convolution but contains convolutions at {shown}: "
                f"pass one of them, e.g. from_torch(module.get_submodule({convs[0]!r}), ...) "
                "(the layers around it are not part of its linear map)"
            )
        return f"a {name} module"
    return f"an object of type {name}"


def _check_module(module: object) -> tuple[type, int, bool]:
    base = _torch_base(module)
    if base is None:
        raise TypeError(f"module must be a {_ACCEPTED}; got {_describe(module)}") from None
    ndim, transposed = _KINDS[base.__name__]
    has_uninitialised = getattr(module, "has_uninitialized_params", None)
    if callable(has_uninitialised) and has_uninitialised():
        raise ValueError(
            f"module is a {type(module).__name__} whose parameters are not initialised yet "
            "(a lazy module learns in_channels from its first input): run it once on an "
            "input, module(x), then call from_torch"
        ) from None
    # a subclass that replaces forward may compute something else than torch's convolution
    # (e.g. quantisation-aware training's fake-quantised weight): the operator is built
    # from the weight and the geometry, so say so rather than pretend
    for method_name in ("forward", "_conv_forward"):
        own = getattr(type(module), method_name, None)
        if own is not None and own is not getattr(base, method_name, None):
            warnings.warn(
                f"{type(module).__name__} overrides {base.__name__}.{method_name}; the operator "
                f"is built from its weight and attributes with {base.__name__}'s arithmetic "
                "and computes what torch's convolution would, which may not be what this "
                "module's forward computes",
                UserWarning,
                stacklevel=3,
            )
            break
    return base, ndim, transposed


def _to_numpy(tensor: Any, what: str) -> np.ndarray:
    """A numpy copy of a torch tensor (parameter), from any device, dtype kept.

    bfloat16 and the other floating types numpy lacks are read as float32 (convops computes
    float16 in float32 too).
    """
    if not callable(getattr(tensor, "detach", None)):
        raise TypeError(f"{what} must be a torch tensor; got {type(tensor).__name__}") from None
    t = tensor.detach()
    if getattr(t, "is_meta", False):
        raise ValueError(
            f"{what} is on the 'meta' device and holds no values; materialise the module "
            "first (e.g. module.to_empty(device='cpu') and load its weights)"
        ) from None
    t = t.cpu()
    # conjugate and negative views cannot be exported to numpy as they stand
    for resolve in ("resolve_conj", "resolve_neg"):
        if callable(getattr(t, resolve, None)):
            t = getattr(t, resolve)()
    try:
        arr = t.numpy()
    except TypeError:
        if not (callable(getattr(t, "is_floating_point", None)) and t.is_floating_point()):
            raise TypeError(
                f"{what} has dtype {t.dtype}, which convops cannot take: use a floating "
                "or complex dtype"
            ) from None
        arr = t.float().numpy()
    if arr.dtype.kind not in "fc":
        raise TypeError(
            f"{what} has dtype {t.dtype}; convops takes floating and complex weights"
        ) from None
    # a copy: training the module later must not change what from_torch returned
    return np.array(arr, copy=True)


# ----------------------------------------------------------------------------------------
# the geometry, as torch computes it
# ----------------------------------------------------------------------------------------
def _spatial_input(
    input_shape: object, module: object, ndim: int, channels: int, transposed: bool
) -> tuple[int, ...]:
    """The spatial sizes from ``input_shape`` (``(C_in, *n)`` or ``n``), C_in checked."""
    kind = type(module).__name__
    axes = _AXES[ndim]
    example_n = (32,) * ndim if not transposed else (8,) * ndim
    if input_shape is None:
        raise ValueError(
            f"input_shape is required: a {kind} works on any spatial size, and the operator "
            f"needs one; pass the shape of one unbatched input, (C_in, {', '.join(axes)}), "
            f"e.g. from_torch(module, input_shape={(channels, *example_n)!r}), or only the "
            f"spatial sizes, input_shape={example_n!r}"
        ) from None
    shape = shape_tuple(input_shape, "input_shape")
    if len(shape) == ndim:
        return shape
    if len(shape) == ndim + 1:
        if shape[0] != channels:
            raise ValueError(
                f"input_shape={input_shape!r} has {shape[0]} channels, but the {kind} takes "
                f"{channels} (in_channels); use input_shape={(channels, *shape[1:])!r}"
            ) from None
        return shape[1:]
    hint = (
        f"; it looks batched: drop the batch axis, input_shape={shape[1:]!r} "
        "(op.apply takes batches (N, C_in, ...) anyway)"
        if len(shape) == ndim + 2 and shape[1] == channels
        else ""
    )
    raise ValueError(
        f"input_shape={input_shape!r} has {len(shape)} entries; a {kind} takes "
        f"(C_in, {', '.join(axes)}) = {ndim + 1} entries or the {ndim} spatial sizes "
        f"({', '.join(axes)}){hint}"
    ) from None


def _conv_padding(
    module: Any,
    ndim: int,
    kernel_size: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    padding_mode: str,
) -> tuple[tuple[int, int], ...]:
    """``(lo, hi)`` per axis: what torch's Conv*d pads its input by."""
    kind = type(module).__name__
    if padding_mode != "zeros":
        # torch pads with F.pad(input, module._reversed_padding_repeated_twice, mode), then
        # convolves without padding: read the list it pads with (last axis first, (lo, hi)
        # each), not module.padding, which it derived that list from at construction
        rp = getattr(module, "_reversed_padding_repeated_twice", None)
        if rp is not None:
            if (
                not isinstance(rp, (list, tuple))
                or len(rp) != 2 * ndim
                or not all(is_int(v) and v >= 0 for v in rp)
            ):
                raise ValueError(
                    f"the {kind}'s _reversed_padding_repeated_twice={rp!r} is not "
                    f"{2 * ndim} ints >= 0, as torch's F.pad needs"
                ) from None
            return tuple(
                (int(rp[2 * (ndim - 1 - i)]), int(rp[2 * (ndim - 1 - i) + 1])) for i in range(ndim)
            )
    padding = module.padding
    if isinstance(padding, str):
        spans = [d * (k - 1) for d, k in zip(dilation, kernel_size, strict=True)]
        if padding == "valid":
            return tuple((0, 0) for _ in spans)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"the {kind} has padding='same' with stride={stride!r}, which torch "
                    "refuses ('same' is not supported for strided convolutions)"
                ) from None
            # torch's split: lo = total // 2, the odd pixel after (convops' "same" too)
            return tuple((t // 2, t - t // 2) for t in spans)
        raise ValueError(
            f"the {kind} has padding={padding!r}; torch accepts 'valid', 'same', an int or "
            f"a tuple of {ndim} ints"
        ) from None
    widths = per_axis_ints(padding, f"{kind}.padding", ndim, 0)
    return tuple((p, p) for p in widths)


def _check_fits(
    kind: str,
    input_shape: object,
    spatial: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    kernel_size: tuple[int, ...],
    dilation: tuple[int, ...],
    padding_mode: str,
) -> None:
    """The padded input holds the dilated kernel, and the border is no wider than the
    padding mode allows (torch's F.pad: reflect < n, circular <= n)."""
    for axis, (n, (lo, hi), k, d) in enumerate(
        zip(spatial, pads, kernel_size, dilation, strict=True)
    ):
        span = d * (k - 1) + 1
        widest = _WIDEST.get(padding_mode)
        # the smallest size this axis takes: the padded input holds the kernel, and the
        # border is no wider than the mode allows
        least = max(1, span - lo - hi)
        if padding_mode == "reflect":
            least = max(least, lo + 1, hi + 1)
        elif padding_mode == "circular":
            least = max(least, lo, hi)
        if n >= least:
            continue
        if widest is not None and max(lo, hi) > widest(n):
            why = (
                f"padded by ({lo}, {hi}) with padding_mode={padding_mode!r}, which allows at "
                f"most {widest(n)} per side on a size of {n} (torch's F.pad refuses it too)"
            )
        else:
            why = (
                f"padded by ({lo}, {hi}), the input of size {n} is shorter than the kernel "
                f"of size {k} with dilation {d} (span {span})"
            )
        raise ValueError(
            f"input_shape={input_shape!r} is too small for the {kind}: on spatial axis {axis}, "
            f"{why}; the axis needs size >= {least}"
        ) from None


def _transpose_sizes(
    kind: str,
    input_shape: object,
    m: tuple[int, ...],
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    output_padding: tuple[int, ...],
    output_size: object,
    out_channels: int,
) -> tuple[int, ...]:
    """The output sizes of torch's ConvTranspose*d: ``(m − 1)·s − 2p + d·(k − 1) + op + 1``."""
    ndim = len(m)
    smallest = tuple(
        (mi - 1) * s - 2 * p + d * (k - 1) + 1
        for mi, s, p, d, k in zip(m, stride, padding, dilation, kernel_size, strict=True)
    )
    if output_size is not None:
        # torch's forward(input, output_size=...): output_padding = output_size − smallest,
        # each size between smallest and smallest + stride − 1 (channel and batch entries
        # may lead, as in torch)
        sizes = shape_tuple(output_size, "output_size")
        if len(sizes) not in (ndim, ndim + 1, ndim + 2):
            raise ValueError(
                f"output_size={output_size!r} has {len(sizes)} entries; give the {ndim} "
                f"spatial sizes, or (C_out, *spatial) as torch accepts"
            ) from None
        if len(sizes) > ndim and sizes[-ndim - 1] != out_channels:
            raise ValueError(
                f"output_size={output_size!r} names {sizes[-ndim - 1]} channels, but the "
                f"{kind} has {out_channels} output channels"
            ) from None
        sizes = sizes[-ndim:]
        largest = tuple(lo + s - 1 for lo, s in zip(smallest, stride, strict=True))
        if any(not lo <= n <= hi for n, lo, hi in zip(sizes, smallest, largest, strict=True)):
            raise ValueError(
                f"output_size={output_size!r} is not allowed for input_shape={input_shape!r}: "
                f"the {kind}'s valid output sizes range from {smallest} to {largest} "
                "(as torch's forward(input, output_size) requires)"
            ) from None
        return sizes
    for p, s, d in zip(output_padding, stride, dilation, strict=True):
        if p >= max(s, d):
            raise ValueError(
                f"the {kind} has output_padding={output_padding!r}, which torch refuses: each "
                f"entry must be smaller than max(stride, dilation) = {max(s, d)} on its axis"
            ) from None
    sizes = tuple(lo + p for lo, p in zip(smallest, output_padding, strict=True))
    if any(n < 1 for n in sizes):
        raise ValueError(
            f"input_shape={input_shape!r} is too small for the {kind}: with padding="
            f"{padding!r} its output would have spatial size {sizes}; every size must be >= 1 "
            f"(each axis m needs (m − 1)·stride − 2·padding + dilation·(kernel − 1) + "
            "output_padding + 1 >= 1)"
        ) from None
    return sizes


# ----------------------------------------------------------------------------------------
# the public function
# ----------------------------------------------------------------------------------------
@overload
def from_torch(
    module: Any,
    input_shape: Sequence[int] | int | None = ...,
    *,
    bias: Literal["refuse", "drop"] = ...,
    output_size: Sequence[int] | None = ...,
    method: Method = ...,
) -> ConvOperator: ...


@overload
def from_torch(
    module: Any,
    input_shape: Sequence[int] | int | None = ...,
    *,
    bias: Literal["return"],
    output_size: Sequence[int] | None = ...,
    method: Method = ...,
) -> tuple[ConvOperator, np.ndarray | None]: ...


def from_torch(
    module: Any,
    input_shape: Sequence[int] | int | None = None,
    *,
    bias: BiasPolicy = "refuse",
    output_size: Sequence[int] | None = None,
    method: Method = "auto",
) -> ConvOperator | tuple[ConvOperator, np.ndarray | None]:
    r"""The linear part of a PyTorch convolution module as a convops operator.

    For ``torch.nn.Conv1d/2d/3d`` and ``torch.nn.ConvTranspose1d/2d/3d`` (and their
    subclasses): an operator whose ``apply`` computes what the module computes, bias left
    out, on arrays in the module's own layout — ``(C_in, *spatial)`` unbatched or
    ``(N, C_in, *spatial)`` batched, channels first.  Its ``.H`` is the module's
    vector-Jacobian product (what ``torch.autograd.grad(module(x), x, v)`` returns).
    PyTorch is not imported: the module is read through its attributes and weights.

    Parameters
    ----------
    module : torch.nn.Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d or ConvTranspose3d
        The module (any subclass; a lazy module once it has run).  Its ``weight``,
        ``stride``, ``padding`` (ints, tuples, ``"valid"``, ``"same"``), ``dilation``,
        ``groups``, ``padding_mode`` (``"zeros"``, ``"reflect"``, ``"replicate"``,
        ``"circular"``) and, transposed, ``output_padding`` are read once: the operator
        keeps a copy of the weight and does not follow later training.
    input_shape : tuple of int
        The shape of one unbatched input of the module: ``(C_in, *spatial)``, or only the
        spatial sizes (the module fixes ``C_in``; in 1D an int is the length).  Required:
        a convolution module works on any spatial size.  For a transposed module this is
        *its* input, whose ``C_in`` is ``weight.shape[0]``.
    bias : {"refuse", "drop", "return"}
        What to do with the module's bias, which is affine, not part of a linear map.
        ``"refuse"`` (default) raises ``ValueError`` for a module with a bias;
        ``"drop"`` returns the operator alone; ``"return"`` returns ``(operator, bias)``.
        A module without a bias works with every choice.
    output_size : tuple of int, optional
        Transposed modules only: torch's ``module(input, output_size=...)``, which picks
        the output padding from the output size instead of ``module.output_padding``.
        The spatial sizes, or with the channel (and batch) entries in front, as torch takes.
    method : {"auto", "direct", "fft", "matrix"}
        The realisation, as in :class:`~convops.ConvOperator`.

    Returns
    -------
    ConvOperator
        With ``bias="refuse"`` or ``"drop"``.  ``op.input_shape`` is ``(C_in, *n)`` and
        ``op.output_shape`` ``(C_out, *m)``, the module's; ``op.dtype`` is the weight's
        (float32 stays float32; float16 and bfloat16 compute in float32).
    (ConvOperator, ndarray or None)
        With ``bias="return"``: the operator and the bias as a numpy array of shape
        ``(C_out,)`` (a copy), or None when the module has none, so that the module's output
        is ``op.apply(x) + bias.reshape(-1, *[1] * ndim)`` (``bias[:, None, None]`` in 2D).

    Raises
    ------
    TypeError
        ``module`` is not one of the classes above (e.g. ``nn.Linear``, or a
        ``nn.Sequential`` holding a convolution: the message names where it sits),
        ``input_shape`` is not a tuple of ints, or the weight's dtype is not floating.
    ValueError
        ``input_shape`` is missing, has the wrong length or number of channels, or is too
        small for the kernel or the padding mode; the module has a bias and ``bias`` is
        ``"refuse"``; ``bias`` is not one of the three choices; a lazy module has not run
        yet; the module is in a configuration torch itself refuses (a transposed module
        with a ``padding_mode`` other than ``"zeros"``, a strided ``"same"``, an
        ``output_padding`` or ``output_size`` out of range).

    Warns
    -----
    UserWarning
        When the module's class overrides ``forward``: the operator computes torch's
        convolution with the module's weight, which that ``forward`` may not.

    Notes
    -----
    ``Conv{1,2,3}d`` gives ``ConvOperator(weight, (C_in, *n), stride=..., padding=...,
    dilation=..., groups=..., boundary=padding_mode)``: per spatial axis, with the
    padding ``(lo, hi)`` torch uses (``p`` on each side; ``"same"`` puts
    ``lo = ⌊d·(k − 1)/2⌋`` before and the rest after, as convops' ``"same"`` does)

    .. math:: m = \left\lfloor \frac{n + lo + hi - d\,(k - 1) - 1}{s} \right\rfloor + 1 .

    For a ``padding_mode`` other than ``"zeros"`` torch pads with
    ``F.pad(x, module._reversed_padding_repeated_twice, mode)`` and convolves unpadded;
    those widths are read, and convops' boundary of the same name fills the border the same
    way (``"reflect"`` mirrors without repeating the edge and allows at most ``n − 1`` per
    side, ``"circular"`` at most ``n``, as ``F.pad`` does).

    ``ConvTranspose{1,2,3}d`` with ``weight`` of shape ``(C_in, C_out/groups, *k)`` gives the
    adjoint of the convolution ``C_out → C_in`` with the same weight, stride, padding,
    dilation and groups, whose input is the transposed module's output:

    .. math:: n = (m - 1)\,s - 2p + d\,(k - 1) + \mathrm{output\_padding} + 1,

    so that, with ``T = from_torch(convT, ...)`` and real weights,
    ``⟨conv(x), y⟩ = ⟨x, T.apply(y)⟩`` (``T.H`` is that convolution).  When ``output_padding >= stride``
    (possible when dilation > stride) the convolution's output is cropped to ``m``, as in
    :func:`convops.conv_transpose2d`.  torch's transposed convolution does not conjugate a
    complex weight, so for complex weights the operator is the plain transpose ``A.T`` of
    that convolution (for real weights ``A.T`` and ``A.H`` are the same).  Either way the
    returned operator's ``.H`` is the module's vector-Jacobian product.

    The bias ``b`` makes the module affine, ``x ↦ A x + b``; its linear part ``A`` is the
    operator, and the bias is refused, dropped or returned as ``bias`` says.

    Examples
    --------
    >>> import numpy as np, torch, convops
    >>> conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
    >>> A = convops.from_torch(conv, (3, 32, 32))
    >>> A.input_shape, A.output_shape, A.dtype
    ((3, 32, 32), (8, 16, 16), dtype('float32'))
    >>> x = np.random.default_rng(0).standard_normal((3, 32, 32), dtype=np.float32)
    >>> bool(np.allclose(A.apply(x), conv(torch.from_numpy(x)).detach().numpy(), atol=1e-5))
    True

    A bias is not linear: ask for it.

    >>> deconv = torch.nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)
    >>> B, b = convops.from_torch(deconv, (8, 16, 16), bias="return")
    >>> B.output_shape, b.shape
    ((3, 32, 32), (3,))
    >>> y = np.random.default_rng(1).standard_normal((8, 16, 16), dtype=np.float32)
    >>> expected = deconv(torch.from_numpy(y)).detach().numpy()
    >>> bool(np.allclose(B.apply(y) + b[:, None, None], expected, atol=1e-5))
    True
    """
    base, ndim, transposed = _check_module(module)
    kind = type(module).__name__
    bias = validate_bias_policy(bias)
    validate_method(method)

    weight = _to_numpy(module.weight, f"{kind}.weight")
    if weight.ndim != ndim + 2:
        raise ValueError(
            f"{kind}.weight has shape {weight.shape}; a {base.__name__} weight has {ndim + 2} axes"
        ) from None
    padding_mode = getattr(module, "padding_mode", "zeros")
    validate_choice(padding_mode, f"{kind}.padding_mode", _PADDING_MODES)
    groups = module.groups
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{kind}.groups={groups!r} must be an int >= 1") from None
    groups = int(groups)
    stride = per_axis_ints(module.stride, f"{kind}.stride", ndim, 1)
    dilation = per_axis_ints(module.dilation, f"{kind}.dilation", ndim, 1)
    kernel_size = tuple(int(k) for k in weight.shape[2:])

    if not transposed:
        if output_size is not None:
            raise ValueError(
                f"output_size={output_size!r} is for transposed modules; a {kind} has one "
                "output size per input_shape"
            ) from None
        channels = weight.shape[1] * groups
        spatial = _spatial_input(input_shape, module, ndim, channels, transposed)
        pads = _conv_padding(module, ndim, kernel_size, dilation, stride, padding_mode)
        _check_fits(kind, input_shape, spatial, pads, kernel_size, dilation, padding_mode)
        op = ConvOperator(
            weight,
            (channels, *spatial),
            stride=stride,
            padding=pads,
            dilation=dilation,
            groups=groups,
            boundary=padding_mode,
            method=method,
        )
    else:
        if padding_mode != "zeros":
            # torch's ConvTranspose*d refuses these in __init__ and forward (pytorch#46027);
            # convops' adjoint with a fold exists (conv_transpose2d(..., padding_mode=...)),
            # but it is not what this module computes
            raise ValueError(
                f"the {kind} has padding_mode={padding_mode!r}, which torch's transposed "
                "convolutions refuse (only 'zeros'); for the exact adjoint of a "
                "Conv with that padding_mode, take from_torch(conv, ...).H"
            ) from None
        if isinstance(module.padding, str):
            raise ValueError(
                f"the {kind} has padding={module.padding!r}; torch's transposed "
                "convolutions take an int or a tuple of ints"
            ) from None
        padding = per_axis_ints(module.padding, f"{kind}.padding", ndim, 0)
        output_padding = per_axis_ints(
            getattr(module, "output_padding", 0), f"{kind}.output_padding", ndim, 0
        )
        channels, out_channels = weight.shape[0], weight.shape[1] * groups
        if channels % groups:
            raise ValueError(
                f"the {kind}'s groups={groups} does not divide its {channels} input channels"
            ) from None
        m = _spatial_input(input_shape, module, ndim, channels, transposed)
        n = _transpose_sizes(
            kind,
            input_shape,
            m,
            kernel_size,
            stride,
            padding,
            dilation,
            output_padding,
            output_size,
            out_channels,
        )
        # the convolution C_out → C_in with the same weight, on the transposed module's
        # output; cropped to m where output_padding >= stride makes its natural output longer
        geometry = make_geometry(
            weight.shape,
            (out_channels, *n),
            stride=stride,
            padding=tuple((p, p) for p in padding),
            dilation=dilation,
            groups=groups,
            output_size=m,
        )
        # torch does not conjugate a complex weight: its transposed convolution is the plain
        # transpose A.T = (the adjoint of the convolution with conj(weight)); A.H when real
        kernel = np.conj(weight) if np.iscomplexobj(weight) else weight
        op = ConvOperator.from_geometry(kernel, geometry.transpose(), method)
    # checked last, so that a call refused for its bias is otherwise right
    bias_tensor = getattr(module, "bias", None)
    bias_array = None if bias_tensor is None else _to_numpy(bias_tensor, f"{kind}.bias")
    index = ", ".join([":"] + ["None"] * ndim)
    return apply_bias_policy(op, bias_array, bias, what=f"the {kind}", broadcast=f"[{index}]")
