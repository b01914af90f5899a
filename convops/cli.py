"""The ``convops`` command line: print a convolution's matrix, animate it, check it, take the tour.

::

    convops matrix  --input 4x4 --kernel 3x3    # the 4x16 matrix of the 3x3 kernel 1..9 on 4x4
    convops matrix  --input 4x4 --kernel 3x3 --transpose  # its 16x4 transpose
    convops animate --input 5x5 --kernel 3x3 --stride 2 --padding 1 --out conv.gif
    convops check   --input 8x8 --kernel 3x3 --stride 2  # matrix = direct = fft, dot test
    convops tour    --out convops-output                 # every tutorial, figures to a folder

Bad arguments exit with status 2 and one line ``convops: error: ...`` on stderr; the
library's own ``ValueError``/``TypeError`` messages (which name the parameter, the value and
what is allowed) are passed through on that line.

This module only parses arguments and runs commands: the matrix text comes from
:mod:`convops.text`, its structure from :mod:`convops.structure`, the pictures from
:mod:`convops.plotting` and the tour from :mod:`convops.tutorials`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar, cast

import numpy as np

from . import syntax
from ._validate import validate_groups
from .structure import describe_structure, structural_nnz
from .text import format_entries, format_matrix, index_labels

if TYPE_CHECKING:
    from .geometry import Method
    from .operators import ConvOperator

__all__ = ["build_parser", "main"]

#: Matrices with more rows or columns than this print a summary instead of every entry.
PRINT_LIMIT = 100
#: ``check`` refuses geometries whose reference matrix would store more entries than this.
CHECK_NNZ_LIMIT = 20_000_000
#: ``--full`` still refuses to print more entries than this.
FULL_LIMIT = 250_000

#: A value that starts with '-' but is a number or a list of numbers (``-1``, ``-1,2,3``,
#: ``-0.5:1``, ``-1j``): argparse would take it for an option, see :func:`attach_values`.
NEGATIVE_VALUE = re.compile(r"^-[\d.][\d.,:eEj+-]*$")


class CLIError(Exception):
    """A bad argument found after parsing (reported as one line, exit status 2)."""


def attach_values(argv: Sequence[str], value_options: frozenset[str]) -> list[str]:
    """``--opt -1,2`` → ``--opt=-1,2`` for every option in ``value_options``.

    argparse reads a word that starts with ``-`` as an option unless it looks like one
    negative number, so ``--values -1,2,3`` would be "expected one argument". Written
    ``--values=-1,2,3`` it is unambiguous, and that is what the word is rewritten to when it
    follows an option that takes a value and looks like numbers (:data:`NEGATIVE_VALUE`).
    Nothing after ``--`` is touched.
    """
    out: list[str] = []
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            out.extend(words[i:])
            break
        following = words[i + 1] if i + 1 < len(words) else None
        if word in value_options and following is not None and NEGATIVE_VALUE.match(following):
            out.append(f"{word}={following}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line on stderr (no usage block), exit status 2.

    ``value_options`` (set by :func:`build_parser` on the top-level parser) are the option
    strings that take a value; a negative value after one of them is attached to it before
    parsing (:func:`attach_values`).
    """

    value_options: frozenset[str] = frozenset()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.value_options:
            args = attach_values(sys.argv[1:] if args is None else args, self.value_options)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        message = " ".join(str(message).split())
        self.exit(2, f"convops: error: {message} (see '{self.prog} --help')\n")


# ----------------------------------------------------------------------------------------
# argument types: the library's syntax (convops.syntax), errors as argparse reports them
# ----------------------------------------------------------------------------------------
T = TypeVar("T")


def _argument_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """``parse`` with its ``ValueError`` turned into argparse's (the message kept whole)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


parse_shape = _argument_type(syntax.parse_shape)
parse_input_shape = _argument_type(syntax.parse_input_shape)
parse_kernel_shape = _argument_type(syntax.parse_kernel_shape)
parse_ints = _argument_type(syntax.parse_ints)
parse_padding = _argument_type(syntax.parse_padding)
parse_channels = _argument_type(syntax.parse_channels)
parse_values = _argument_type(syntax.parse_values)


# ----------------------------------------------------------------------------------------
# the geometry arguments shared by matrix, animate and check
# ----------------------------------------------------------------------------------------
_GEOMETRY_HELP = """\
shapes are sizes separated by x (4x4, 16, 8x8x8); --stride/--dilation take an int or one
per axis (2 or 1,2); --padding takes valid, same (PyTorch's, stride 1), same_upper
(TensorFlow's "same", any stride), full, an int, or one entry per axis
separated by commas, each N or LO:HI (1,2 or 0:1,1:1). Kernel values are read in C order
over (C_out, C_in/groups, *kernel); they default to 1, 2, ..., k (complex: 1+2j); negative
values may follow the option (--values -1,2,3) or be attached (--values=-1,2,3). --input is
always the convolution's input (with --transpose, the transposed convolution's output)."""

#: ``add(container, *names, **kwargs)``: ``add_argument`` that also records the option
#: strings of options taking a value (see :func:`attach_values`).
AddArgument = Callable[..., argparse.Action]


def _add_geometry(add: AddArgument, p: argparse.ArgumentParser, *, values_default: str) -> None:
    g = p.add_argument_group("geometry")
    add(
        g,
        "--input",
        "-i",
        type=parse_input_shape,
        required=True,
        metavar="SHAPE",
        help="spatial input size of the convolution, e.g. 4x4 (or CxHxW with --kernel "
        "OxIxkHxkW: the channels in the shapes)",
    )
    add(
        g,
        "--kernel",
        "-k",
        type=parse_kernel_shape,
        required=True,
        metavar="SHAPE",
        help="spatial kernel size, e.g. 3x3 (or C_out x C_in/groups x kH x kW)",
    )
    add(
        g,
        "--values",
        type=parse_values,
        metavar="V1,V2,...",
        help=f"kernel values in C order (default: {values_default})",
    )
    add(
        g,
        "--stride",
        "-s",
        type=parse_ints,
        default=1,
        metavar="S",
        help="stride: int or one per axis (default 1)",
    )
    add(
        g,
        "--padding",
        "-p",
        type=parse_padding,
        default=0,
        metavar="P",
        help="valid | same | same_upper | full | N | per-axis N or LO:HI, comma-separated "
        "(default 0); same is PyTorch's rule (stride 1), same_upper TensorFlow's "
        "(ceil(n/stride) outputs, the odd pixel after)",
    )
    add(
        g,
        "--dilation",
        "-d",
        type=parse_ints,
        default=1,
        metavar="D",
        help="dilation: int or one per axis (default 1)",
    )
    add(
        g,
        "--boundary",
        "-b",
        default="zeros",
        metavar="B",
        help="zeros | circular | reflect | replicate (default zeros)",
    )
    add(
        g,
        "--flip",
        action="store_true",
        help="flip the kernel: signal-processing convolution instead of cross-correlation",
    )
    add(
        g,
        "--channels",
        "-c",
        type=parse_channels,
        metavar="CIN:COUT",
        help="multi-channel: input (CIN, *input), kernel (COUT, CIN/groups, *kernel)",
    )
    add(
        g,
        "--groups",
        "-g",
        type=int,
        default=1,
        metavar="G",
        help="grouped convolution (needs --channels; G divides CIN and COUT)",
    )


def _full_shapes(args: argparse.Namespace) -> tuple[int, int] | None:
    """``(C_in, C_out)`` when the shapes carry the channels: ``--input CxHxW --kernel OxIxkHxkW``.

    The kernel then has one entry more than the input (``C_out`` and ``C_in/groups`` before
    the spatial sizes, PyTorch's layout); without ``--channels`` that is otherwise refused
    (the kernel must have as many axes as the input), so the two forms cannot be confused.
    """
    if args.channels is not None or len(args.kernel) != len(args.input) + 1:
        return None
    if len(args.input) < 2:
        return None  # a 1D input with a 2D kernel: the library's own mismatch error
    groups = validate_groups(args.groups)
    cin, cout, per_group = args.input[0], args.kernel[0], args.kernel[1]
    if per_group * groups != cin:
        raise CLIError(
            f"--kernel {'x'.join(map(str, args.kernel))} has {per_group} input channels per "
            f"group, but --input {'x'.join(map(str, args.input))} has {cin} channels and "
            f"--groups is {groups}: the kernel's second size must be C_in/groups = "
            f"{cin / groups:g}"
        )
    return cin, cout


def _split_channels(args: argparse.Namespace) -> None:
    """Rewrite ``--input CxHxW --kernel OxIxkHxkW`` as spatial shapes with ``--channels``."""
    if not (hasattr(args, "kernel") and hasattr(args, "input")):
        return
    full = _full_shapes(args)
    if full is not None:
        args.channels, args.kernel, args.input = full, args.kernel[2:], args.input[1:]
        return
    for option, shape in (("--input", args.input), ("--kernel", args.kernel)):
        if len(shape) > 3:
            text = "x".join(map(str, shape))
            raise CLIError(
                f"{option} {text} has {len(shape)} sizes: give the spatial sizes (1 to 3, "
                "channels in --channels CIN:COUT), or the full shapes --input CxHxW with "
                "--kernel C_outxC_in/groupsxkHxkW (the kernel one size longer than the input)"
            )


def _kernel_array(args: argparse.Namespace, default: str) -> np.ndarray:
    shape = tuple(args.kernel)
    if args.channels is not None:
        cin, cout = args.channels
        # whether the groups divide both channel counts is the library's check (with the
        # kernel built here); only >= 1 is needed to build it
        groups = validate_groups(args.groups)
        shape = (cout, max(cin // groups, 1)) + shape
    elif args.groups != 1:
        raise CLIError(f"--groups {args.groups} needs --channels CIN:COUT (a multi-channel kernel)")
    size = int(np.prod(shape))
    if args.values is None:
        if default == "random":
            return np.random.default_rng(args.seed).standard_normal(size).reshape(shape)
        return np.arange(1, size + 1).reshape(shape)
    if args.values.size != size:
        order = "(C_out, C_in/groups, *kernel)" if args.channels else "the kernel"
        raise CLIError(
            f"--values has {args.values.size} numbers but the kernel of shape {shape} needs "
            f"{size} (C order over {order})"
        )
    return args.values.reshape(shape)


def _input_shape(args: argparse.Namespace) -> tuple[int, ...]:
    shape = tuple(args.input)
    return ((args.channels[0],) + shape) if args.channels is not None else shape


def _geometry_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return dict(
        stride=args.stride,
        padding=args.padding,
        dilation=args.dilation,
        groups=args.groups,
        boundary=args.boundary,
        flip=args.flip,
    )


def _operator(
    args: argparse.Namespace, *, values_default: str = "1..k", method: Method = "auto"
) -> tuple[ConvOperator, np.ndarray]:
    from .operators import ConvOperator

    kernel = _kernel_array(args, values_default)
    op = ConvOperator(kernel, _input_shape(args), method=method, **_geometry_kwargs(args))
    return op, kernel


# ----------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------
def _use_agg() -> None:
    import matplotlib

    matplotlib.use("Agg")


def _save_plot(op: ConvOperator, path: Path, *, large: bool) -> None:
    _use_agg()
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from . import plotting

    ax = plotting.spy(op) if large else plotting.plot_matrix(op)
    figure = ax.figure
    assert isinstance(figure, Figure)  # without ax=, both draw on a figure of their own
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def _kernel_summary(kernel: np.ndarray) -> str:
    flat = kernel.ravel()
    cells = format_entries(flat[:9], 4)
    return ", ".join(cells) + (", ..." if flat.size > 9 else "")


def cmd_matrix(args: argparse.Namespace) -> int:
    """``convops matrix``: print the matrix (or a summary), optionally save a plot."""
    op, kernel = _operator(args, method="matrix")
    if args.transpose:
        op = op.H
    g = op.geometry
    rows, cols = op.shape
    name_in, name_out = ("y", "x") if g.transposed else ("x", "y")
    what = "transposed convolution" if g.transposed else "convolution"
    print(f"{g}")
    print(
        f"matrix of the {what}: {rows} x {cols}  ({name_out} = M {name_in}, "
        f"{name_in} of shape {op.input_shape} and {name_out} of shape {op.output_shape} "
        "flattened in C order)"
    )
    large = rows > PRINT_LIMIT or cols > PRINT_LIMIT
    if (large and not args.full) or args.summary:
        nnz = structural_nnz(g)
        per_row = g.in_channels // g.groups * int(np.prod(g.kernel_size))
        if large and not args.summary:
            print(
                f"too large to print every entry (limit {PRINT_LIMIT} rows and columns; "
                "--full overrides)"
            )
        else:
            print("summary:")
        print(f"  shape:        {rows} x {cols} = {rows * cols:,} entries")
        print(
            f"  nonzeros:     {nnz:,} stored entries ({nnz / (rows * cols):.3g} of all), "
            f"at most {per_row} per {'column' if g.transposed else 'row'}"
        )
        print(f"  structure:    {describe_structure(g)}")
        print(f"  kernel:       shape {kernel.shape}, values {_kernel_summary(kernel)}")
    else:
        if rows * cols > FULL_LIMIT:
            raise CLIError(
                f"--full would print {rows * cols:,} entries (limit {FULL_LIMIT:,}); "
                "use the summary (drop --full) or --plot FILE"
            )
        dense = op.matrix().toarray()
        labels = index_labels(name_out, op.output_shape) if args.labels else None
        print(format_matrix(dense, precision=args.precision, row_labels=labels))
        if args.labels:
            cols_txt = index_labels(name_in, op.input_shape)
            if len(cols_txt) > 8:
                cols_txt = [*cols_txt[:4], "...", *cols_txt[-2:]]
            print(f"columns: {' '.join(cols_txt)}")
        print(f"structure: {describe_structure(g)}")
    if args.plot is not None:
        _save_plot(op, args.plot, large=large)
        print(f"wrote {args.plot}")
    return 0


def cmd_animate(args: argparse.Namespace) -> int:
    """``convops animate``: save the sliding-window (or scatter) animation."""
    op, _ = _operator(args, method="direct")
    if args.out.suffix.lower() not in (".gif", ".mp4"):
        raise CLIError(f"--out {str(args.out)!r} must end in .gif or .mp4")
    if args.fractional and not args.transpose:
        raise CLIError("--fractional shows the transposed convolution; add --transpose")
    _use_agg()
    import matplotlib.pyplot as plt

    from . import plotting

    target = op.H if args.transpose else op
    kwargs = {"fractional": True} if args.fractional else {}
    start = time.perf_counter()
    anim = plotting.animate(target, **kwargs)
    try:
        plotting.save_animation(anim, args.out, fps=args.fps)
    except RuntimeError as exc:  # e.g. no ffmpeg for an .mp4: say so in one line
        raise CLIError(str(exc)) from None
    finally:
        plt.close("all")
    frames = ""
    if args.out.suffix.lower() == ".gif":
        from PIL import Image

        with Image.open(args.out) as im:
            frames = f" ({im.n_frames} frames)"
    print(f"{target.geometry}")
    print(f"wrote {args.out}{frames} in {time.perf_counter() - start:.1f} s")
    return 0


# --- convops explore (issue 16) ---------------------------------------------------------
def cmd_explore(args: argparse.Namespace) -> int:
    """``convops explore``: open the interactive view in a window, or save it (--save)."""
    kernel = _kernel_array(args, "1..k")
    if args.save is not None:
        _use_agg()
    import matplotlib.pyplot as plt

    from . import plotting
    from .plotting.explore import is_interactive_canvas

    ex = plotting.explore(
        kernel=kernel,
        input_shape=_input_shape(args),
        stride=args.stride,
        padding=args.padding,
        dilation=args.dilation,
        boundary=args.boundary,
        flip=args.flip,
        transposed=args.transpose,
        spectrum=not args.no_spectrum,
        controls=args.save is None,
    )
    if args.point is not None:
        ex.point_output(args.point)
    if args.save is not None:
        ex.figure.savefig(args.save, dpi=110, bbox_inches="tight")
        plt.close(ex.figure)
        print(f"{ex.operator.geometry}")
        print(f"wrote {args.save}")
        return 0
    if not is_interactive_canvas(ex.figure):
        plt.close(ex.figure)
        raise CLIError(
            "no interactive matplotlib backend here (no display, or no GUI toolkit such as "
            "tkinter): add --save FILE for a picture, or use convops.plotting.explore in a "
            "notebook with %matplotlib widget (pip install 'convops[interactive]')"
        )
    print(f"{ex.operator.geometry}")
    print("hover or click a cell; close the window to quit")
    plt.show()
    return 0


def _add_explore_parser(sub: Any, add: AddArgument, formatter: Any) -> None:
    p = sub.add_parser(
        "explore",
        help="open the interactive view: picture, matrix and spectrum, linked",
        description=_wrap(
            "Open one window with the padded input, the output, the matrix and the kernel "
            "spectrum of a small 1D or 2D convolution. Point at an output to see its row "
            "and the inputs it sums, at an input to see its column and the outputs it "
            "reaches, at a matrix entry to see its (output, input, tap); the controls "
            "change the geometry. With --save, write the static picture instead."
        ),
        epilog=_GEOMETRY_HELP + "\n\nexamples:\n"
        "  convops explore --input 5x5 --kernel 3x3 --stride 2 --padding 1\n"
        "  convops explore --input 7 --kernel 3 --padding 2 --boundary reflect --transpose\n"
        "  convops explore --input 4x4 --kernel 3x3 --point 1,1 --save explore.png",
        formatter_class=formatter,
    )
    _add_geometry(add, p, values_default="1, 2, ..., k")
    add(
        p,
        "--transpose",
        "-T",
        action="store_true",
        help="start with the transposed convolution (the adjoint)",
    )
    add(
        p,
        "--point",
        type=parse_ints,
        metavar="I,J",
        help="highlight this entry of the output (its row, the inputs it sums)",
    )
    add(p, "--no-spectrum", action="store_true", help="leave out the kernel spectrum panel")
    add(
        p,
        "--save",
        type=Path,
        metavar="FILE",
        help="write the static picture to FILE (PNG, SVG, PDF) instead of opening a window",
    )
    p.set_defaults(func=cmd_explore)


# --- end of convops explore -------------------------------------------------------------


# --- convops norm (issue 14) ------------------------------------------------------------
#: ``convops norm`` reports progress on stderr once a computation has run this long (s).
NORM_PROGRESS_AFTER = 1.0


def cmd_norm(args: argparse.Namespace) -> int:
    """``convops norm``: the certified interval around ``‖A‖₂`` (:func:`convops.norm_bounds`)."""
    from ._validate import validate_int
    from .operators import ConvOperator
    from .spectral import norm_bounds

    validate_int(args.seed, "--seed", minimum=0)  # before numpy's own refusal of the seed
    kernel = _kernel_array(args, args.values_default)
    op = ConvOperator(kernel, _input_shape(args), **_geometry_kwargs(args))
    if args.transpose:
        op = op.H
    start = time.perf_counter()

    def progress(message: str) -> None:
        elapsed = time.perf_counter() - start
        if elapsed >= NORM_PROGRESS_AFTER:  # quiet for quick ones, a line a step for long ones
            print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)

    b = norm_bounds(op, rtol=args.rtol, maxiter=args.maxiter, rng=args.seed, progress=progress)
    seconds = time.perf_counter() - start
    what = "transposed convolution" if op.geometry.transposed else "convolution"
    print(f"{op.geometry}")
    if b.exact:
        print(f"||A||_2 = {b.upper:.10g} (exact) for this {op.shape[0]}x{op.shape[1]} {what}")
    else:
        print(
            f"||A||_2 in [{b.lower:.10g}, {b.upper:.10g}] for this {op.shape[0]}x"
            f"{op.shape[1]} {what}: upper/lower = {b.gap:.6f}"
        )
    if b.exact:
        print(f"  how: {b.upper_method}; its top singular vector is the witness")
    else:
        print(f"  upper: {b.upper_method}")
        print(f"  lower: {b.lower_method}")
    products = f"{b.applications} product{'s' if b.applications != 1 else ''} with A or A*"
    margin = f"; upper includes a rounding margin of {b.rounding:.1e}" if b.rounding else ""
    print(f"  {products}, {seconds:.2f} s{margin}")
    return 0


def _add_norm_parser(sub: Any, add: AddArgument, formatter: Any) -> None:
    p = sub.add_parser(
        "norm",
        help="how far the convolution can stretch a vector: a certified interval for ||A||_2",
        description=_wrap(
            "Print lower <= ||A||_2 <= upper for the convolution (convops.norm_bounds): the "
            "upper bound is proven (a circular convolution containing A, the padding map's "
            "norm, or a Collatz-Wielandt bound for nonnegative kernels), the lower bound is "
            "||A w||/||w|| for a witness w found by Lanczos iterations. Block-circulant "
            "geometries (circular boundary, lo + hi = d(k - 1), input divisible by the "
            "stride) print the exact norm. Also prints how each bound was obtained and the "
            "time; long computations report progress on stderr."
        ),
        epilog=_GEOMETRY_HELP + "\n\nexamples:\n"
        "  convops norm --input 64x56x56 --kernel 64x64x3x3 --stride 2 --padding 1\n"
        "  convops norm --input 56x56 --kernel 3x3 --channels 64:64 --stride 2 --padding 1\n"
        "  convops norm --input 32x32 --kernel 3x3 --channels 16:16 --boundary reflect "
        "--padding 1\n"
        "  convops norm --input 16x16 --kernel 3x3 --boundary circular --padding 1 --stride 2",
        formatter_class=formatter,
    )
    _add_geometry(add, p, values_default="random normal (--seed)")
    add(
        p,
        "--transpose",
        "-T",
        action="store_true",
        help="the transposed convolution (the same norm; the witness lives on its input)",
    )
    add(p, "--rtol", type=float, default=1e-3, help="target upper/lower - 1 (default 1e-3)")
    add(p, "--maxiter", type=int, default=100, help="at most this many Lanczos steps (100)")
    add(p, "--seed", type=int, default=0, help="seed of the random kernel values (default 0)")
    p.set_defaults(func=cmd_norm, values_default="random")


# --- end of convops norm ----------------------------------------------------------------


def _relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a − b| / max|b|`` (the absolute difference when ``b`` is zero)."""
    difference = float(np.max(np.abs(a - b), initial=0.0))
    scale = float(np.max(np.abs(b), initial=0.0))
    return difference / scale if scale > 0 else difference


def cmd_check(args: argparse.Namespace) -> int:
    """``convops check``: the three realisations agree and pass the dot test (exit 0), or not (1)."""
    from .geometry import make_geometry
    from .operators import REALISATIONS, ConvOperator
    from .testing import default_rtol, dot_test

    kernel = _kernel_array(args, args.values_default)
    dtype = np.dtype(args.dtype)
    if np.iscomplexobj(kernel) and dtype.kind != "c":
        dtype = np.result_type(dtype, np.complex64)
    kernel = kernel.astype(dtype)
    common = _geometry_kwargs(args)
    nnz = structural_nnz(make_geometry(kernel.shape, _input_shape(args), **common))
    if nnz > CHECK_NNZ_LIMIT:
        raise CLIError(
            f"check builds the explicit matrix as its reference, and this one has {nnz:,} stored "
            f"entries (limit {CHECK_NNZ_LIMIT:,}); use a smaller geometry"
        )
    # REALISATIONS names every method but "auto"
    ops = {
        m: ConvOperator(kernel, _input_shape(args), method=cast("Method", m), **common)
        for m in REALISATIONS
    }
    ref = ops["matrix"]
    rng = np.random.default_rng(args.seed)

    def rand(shape: tuple[int, ...]) -> np.ndarray:
        v = rng.standard_normal(shape)
        if dtype.kind == "c":
            v = v + 1j * rng.standard_normal(shape)
        return v.astype(dtype)

    x, y = rand(ref.input_shape), rand(ref.output_shape)
    Ax_ref, AHy_ref = ref.apply(x), ref.H.apply(y)
    tol = args.rtol if args.rtol is not None else 1000 * np.finfo(dtype).eps
    dot_tol = default_rtol(dtype)

    print(f"{ref.geometry}")
    print(
        f"A: {ref.shape[0]} x {ref.shape[1]}, dtype {ref.dtype}, kernel {kernel.shape}; "
        f"A x has shape {ref.output_shape}, A* y has shape {ref.input_shape}"
    )
    header = (
        f"{'realisation':<12} {'A x shape':<14} {'A* y shape':<14} {'max|Δ(A x)|':>12} "
        f"{'max|Δ(A* y)|':>13} {'dot test':>10}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name, op in ops.items():
        Ax, AHy = op.apply(x), op.H.apply(y)
        shapes_ok = Ax.shape == Ax_ref.shape and AHy.shape == AHy_ref.shape
        e_fwd = _relative_difference(Ax, Ax_ref) if shapes_ok else float("inf")
        e_adj = _relative_difference(AHy, AHy_ref) if shapes_ok else float("inf")
        try:
            dot = dot_test(op, rng=args.seed, rtol=dot_tol)
            dot_txt = f"{dot:.1e}"
        except AssertionError:
            dot, dot_txt = float("inf"), "FAILED"
        ok &= shapes_ok and e_fwd <= tol and e_adj <= tol and dot <= dot_tol
        fwd_txt, adj_txt = (
            ("(reference)",) * 2 if name == "matrix" else (f"{e_fwd:.1e}", f"{e_adj:.1e}")
        )
        print(
            f"{name:<12} {Ax.shape!s:<14} {AHy.shape!s:<14} "
            f"{fwd_txt:>12} {adj_txt:>13} {dot_txt:>10}"
        )
    print("-" * len(header))
    print(
        "max|Δ| is the largest difference from the matrix realisation, relative to the largest "
        "entry of the matrix result"
    )
    if ok:
        print(
            f"OK: the three realisations agree (max|Δ| <= {tol:.1e}) and pass the dot test "
            f"(<= {dot_tol:.0e})"
        )
        return 0
    print(
        f"MISMATCH: a realisation differs by more than {tol:.1e} or fails the dot test "
        f"(rtol {dot_tol:.0e})"
    )
    return 1


class _TutorialEntry(Protocol):
    name: str
    title: str


class _TourModule(Protocol):
    """What ``convops tour`` uses of :mod:`convops.tutorials`."""

    TUTORIALS: Sequence[_TutorialEntry]

    def tutorial_path(self, which: int | str) -> Path: ...

    def tour(
        self, out: str | os.PathLike[str], *, only: Sequence[int] | None, quiet: bool
    ) -> int: ...


def _tutorials() -> _TourModule:
    # convops.tutorials is the top-level tutorials/ folder, mapped onto the package by
    # pyproject's package-dir; the type checker reads only convops/, so it is imported by name
    return cast(_TourModule, importlib.import_module("convops.tutorials"))


def cmd_tour(args: argparse.Namespace) -> int:
    """``convops tour``: run the tutorials (or list them)."""
    _use_agg()
    tutorials = _tutorials()
    count = len(tutorials.TUTORIALS)
    if args.list:
        for i, t in enumerate(tutorials.TUTORIALS, 1):
            print(f"{i}. {t.title:<36} {tutorials.tutorial_path(t.name)}")
        return 0
    only = None
    if args.only is not None:
        try:
            only = [int(p) for p in args.only.split(",")]
        except ValueError:
            raise CLIError(
                f"--only {args.only!r} is not a comma-separated list of tutorial numbers"
            ) from None
        if any(not 1 <= i <= count for i in only):
            raise CLIError(f"--only {args.only!r}: there are tutorials 1 to {count}")
    return tutorials.tour(args.out, only=only, quiet=args.quiet)


# ----------------------------------------------------------------------------------------
# the parser
# ----------------------------------------------------------------------------------------
def _wrap(text: str) -> str:
    return textwrap.fill(text, 88)


def build_parser() -> argparse.ArgumentParser:
    """The ``convops`` argument parser (one subcommand per job)."""
    formatter = argparse.RawDescriptionHelpFormatter
    value_options: set[str] = set()

    def add(container: Any, *names: str, **kwargs: Any) -> argparse.Action:
        action: argparse.Action = container.add_argument(*names, **kwargs)
        if action.nargs != 0:  # flags (store_true, --version) take no value
            value_options.update(action.option_strings)
        return action

    parser = _Parser(
        prog="convops",
        description="Convolution and transposed convolution as one linear map and its adjoint.\n"
        "Start with:  convops tour",
        formatter_class=formatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"convops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "matrix",
        help="print the matrix of a convolution (or its transpose)",
        description=_wrap(
            "Print the matrix of a convolution (rows: outputs, columns: inputs, both "
            "flattened in C order), or of its transposed convolution with --transpose. "
            "Integers print as integers; large matrices print a summary."
        ),
        epilog=_GEOMETRY_HELP + "\n\nexamples:\n"
        "  convops matrix --input 4x4 --kernel 3x3\n"
        "  convops matrix --input 4x4 --kernel 3x3 --transpose\n"
        "  convops matrix --input 5 --kernel 3 --stride 2 --padding 1 --labels\n"
        "  convops matrix --input 4 --kernel 3 --values -1,2,-1\n"
        "  convops matrix --input 64x64 --kernel 3x3 --padding same   # summary",
        formatter_class=formatter,
    )
    _add_geometry(add, p, values_default="1, 2, ..., k")
    add(
        p,
        "--transpose",
        "-T",
        action="store_true",
        help="the transposed convolution's matrix (the conjugate transpose)",
    )
    add(p, "--labels", action="store_true", help="prefix each row with its output index")
    add(
        p,
        "--precision",
        type=int,
        default=4,
        help="significant digits for non-integers (default 4)",
    )
    add(
        p,
        "--full",
        action="store_true",
        help=f"print every entry even past {PRINT_LIMIT} rows/columns",
    )
    add(
        p,
        "--summary",
        action="store_true",
        help="print only the summary (shape, nonzeros, structure)",
    )
    add(
        p,
        "--plot",
        type=Path,
        metavar="FILE",
        help="also save a heatmap (or sparsity plot) to FILE",
    )
    p.set_defaults(func=cmd_matrix)

    p = sub.add_parser(
        "animate",
        help="save the conv-arithmetic animation of a geometry (GIF)",
        description=_wrap(
            "Save the sliding-window animation (Dumoulin & Visin): the kernel footprint "
            "moving over the padded input by the stride. With --transpose, the scatter "
            "view of the transposed convolution; with --fractional, its equivalent "
            "zero-inserted ('fractionally strided') direct convolution. 1D and 2D."
        ),
        epilog=_GEOMETRY_HELP + "\n\nexamples:\n"
        "  convops animate --input 5x5 --kernel 3x3 --stride 2 --padding 1 --out conv.gif\n"
        "  convops animate --input 5x5 --kernel 3x3 --stride 2 --out up.gif --transpose "
        "--fractional",
        formatter_class=formatter,
    )
    _add_geometry(add, p, values_default="1, 2, ..., k")
    add(
        p,
        "--out",
        "-o",
        type=Path,
        required=True,
        metavar="FILE.gif",
        help="where to write the animation",
    )
    add(
        p,
        "--transpose",
        "-T",
        action="store_true",
        help="animate the transposed convolution (scatter)",
    )
    add(
        p,
        "--fractional",
        action="store_true",
        help="with --transpose: show the zero-inserted input and a direct convolution",
    )
    add(p, "--fps", type=float, default=2.0, help="frames per second (default 2)")
    p.set_defaults(func=cmd_animate)
    _add_explore_parser(sub, add, formatter)  # convops explore (issue 16)

    p = sub.add_parser(
        "check",
        help="check that matrix, direct and fft agree and pass the dot test",
        description=_wrap(
            "Apply the three realisations (matrix, direct, fft) of A and of A* to the same "
            "random vectors, print the output shapes and the largest differences from the "
            "matrix result, and run the dot test <Ax, y> = <x, A*y> on each. "
            "Exit status 0 when they agree, 1 when they do not."
        ),
        epilog=_GEOMETRY_HELP + "\n\nexamples:\n"
        "  convops check --input 8x8 --kernel 3x3 --stride 2 --padding 1\n"
        "  convops check --input 6x6x6 --kernel 3x3x3 --channels 2:4 --boundary circular "
        "--padding 1\n"
        "  convops check --input 16 --kernel 4 --values=1,2j,-1,0.5 --dtype complex128",
        formatter_class=formatter,
    )
    _add_geometry(add, p, values_default="random normal (--seed)")
    add(
        p,
        "--dtype",
        default="float64",
        choices=["float64", "float32", "complex128", "complex64"],
        help="dtype of kernel and vectors (default float64)",
    )
    add(p, "--seed", type=int, default=0, help="seed of the random vectors (default 0)")
    add(
        p,
        "--rtol",
        type=float,
        default=None,
        help="largest relative difference accepted (default 1000 x machine epsilon)",
    )
    p.set_defaults(func=cmd_check, values_default="random")
    _add_norm_parser(sub, add, formatter)  # convops norm (issue 14)

    p = sub.add_parser(
        "tour",
        help="run every tutorial: narrative and results here, figures to a folder",
        description=_wrap(
            "Run the tutorials in order: their text and results are printed here, every "
            "figure and animation is written to --out, and the files written are listed "
            "at the end. Each tutorial asserts what it claims, so a run that finishes "
            "has checked all of it."
        ),
        epilog="examples:\n  convops tour\n  convops tour --out /tmp/tour --only 1,3\n"
        "  convops tour --list",
        formatter_class=formatter,
    )
    add(
        p,
        "--out",
        "-o",
        type=Path,
        default=Path("convops-output"),
        metavar="DIR",
        help="folder for figures and animations (default ./convops-output)",
    )
    add(p, "--only", metavar="N,M", help="run only these tutorials (numbers, e.g. 1,3)")
    add(p, "--quiet", "-q", action="store_true", help="no narrative, only results and progress")
    add(
        p,
        "--list",
        action="store_true",
        help="list the tutorials and where their scripts are, then exit",
    )
    p.set_defaults(func=cmd_tour)

    parser.value_options = frozenset(value_options)
    return parser


def _reconfigure_streams() -> None:
    # the narrative uses symbols like ‖ and ᵀ; never crash on a terminal that cannot show them
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors="replace")
        except ValueError:
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``convops`` command line; returns the exit status."""
    _reconfigure_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        _split_channels(args)
        status: int = args.func(args)
        return status
    except (CLIError, ValueError, TypeError) as exc:
        message = " ".join(str(exc).split())
        print(f"convops: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("convops: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into e.g. `head`: stop quietly (the recipe of the Python docs)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
