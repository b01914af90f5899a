"""Claims about the ``convops`` command line.

- ``convops matrix`` prints the matrices of the 3×3 kernel 1..9 on a 4×4 image (the
  example of the transposed-convolution literature) with aligned integer columns, and
  summaries for large ones;
- ``convops check`` reports agreement (exit 0) and catches a broken realisation (exit 1);
- ``convops tour --out DIR`` writes every file it lists (the one slow test);
- bad arguments exit with status 2 and one ``convops: error:`` line, never a traceback;
- ``--help`` works for every command.

The main commands run as subprocesses (``sys.executable -m convops``), as a user runs them;
the long lists of bad arguments run in-process through ``main`` (same code path, faster).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convops import cli, structure, text
from convops.geometry import make_geometry

# the 3x3 kernel 1..9 on a 4x4 image, as the literature prints it, typed in: the rows of the
# 4x16 matrix and of its 16x4 transpose
PRINTED_ROWS = [
    "1 2 3 0 4 5 6 0 7 8 9 0 0 0 0 0",
    "0 1 2 3 0 4 5 6 0 7 8 9 0 0 0 0",
    "0 0 0 0 1 2 3 0 4 5 6 0 7 8 9 0",
    "0 0 0 0 0 1 2 3 0 4 5 6 0 7 8 9",
]
PRINTED_TRANSPOSE_ROWS = [
    "1 0 0 0",
    "2 1 0 0",
    "3 2 0 0",
    "0 3 0 0",
    "4 0 1 0",
    "5 4 2 1",
    "6 5 3 2",
    "0 6 0 3",
    "7 0 4 0",
    "8 7 5 4",
    "9 8 6 5",
    "0 9 0 6",
    "0 0 7 0",
    "0 0 8 7",
    "0 0 9 8",
    "0 0 0 9",
]


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "convops", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        encoding="utf-8",
    )


def number_rows(text: str) -> list[str]:
    """Lines made only of numbers, with whitespace normalised."""
    return [
        " ".join(line.split())
        for line in text.splitlines()
        if line.strip() and re.fullmatch(r"[\s\d.+\-ej]+", line)
    ]


# ----------------------------------------------------------------------------------------
# convops matrix
# ----------------------------------------------------------------------------------------
def test_matrix_prints_the_4x16_matrix():
    res = run("matrix", "--input", "4x4", "--kernel", "3x3")
    assert res.returncode == 0, res.stderr
    assert number_rows(res.stdout) == PRINTED_ROWS
    # aligned columns: single-digit entries separated by exactly one space
    for row in PRINTED_ROWS:
        assert row in res.stdout.splitlines()


def test_matrix_transpose_prints_its_16x4_transpose():
    res = run("matrix", "--input", "4x4", "--kernel", "3x3", "--transpose")
    assert res.returncode == 0, res.stderr
    assert number_rows(res.stdout) == PRINTED_TRANSPOSE_ROWS


def run_main(argv, capsys):
    """``cli.main`` in-process: (exit status, stdout, stderr)."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse's own exits (--help, parse errors)
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_matrix_stride_and_padding_hand_derived(capsys):
    # kernel [1 2 3], n = 5, padding 1, stride 2: output o reads x[2o - 1 .. 2o + 1]
    status, out, _ = run_main(["matrix", "-i", "5", "-k", "3", "-s", "2", "-p", "1"], capsys)
    assert status == 0
    assert number_rows(out) == ["2 3 0 0 0", "0 1 2 3 0", "0 0 0 1 2"]


def test_matrix_channels_and_values(capsys):
    # 1 -> 2 channels, kernel (2, 1, 2) = [[[1, 2]], [[3, 4]]] on n = 3: two stacked Toeplitz blocks
    status, out, _ = run_main(
        ["matrix", "-i", "3", "-k", "2", "-c", "1:2", "--values", "1,2,3,4"], capsys
    )
    assert status == 0
    assert number_rows(out) == ["1 2 0", "0 1 2", "3 4 0", "0 3 4"]


def test_matrix_non_integer_and_negative_values_align(capsys):
    status, out, _ = run_main(["matrix", "-i", "4", "-k", "3", "--values", "-1.5,2,0.25"], capsys)
    assert status == 0
    rows = [line for line in out.splitlines() if re.fullmatch(r"[\s\d.\-]+", line)]
    assert [r.split() for r in rows] == [["-1.5", "2", "0.25", "0"], ["0", "-1.5", "2", "0.25"]]
    assert len({len(r) for r in rows}) == 1  # right-aligned columns: equal line lengths


def test_negative_values_after_an_option_are_values():
    """``--values -1,2,3`` and ``--padding -1`` reach the argument types (argparse alone would
    take ``-1,2,3`` for an option); ``--values=-1,2,3`` is the same."""
    parser = cli.build_parser()
    args = parser.parse_args(["matrix", "-i", "4", "-k", "3", "--values", "-1,2,-3", "-p", "-1"])
    assert args.values.tolist() == [-1, 2, -3] and args.padding == -1
    attached = parser.parse_args(["matrix", "-i", "4", "-k", "3", "--values=-1,2,-3"])
    assert attached.values.tolist() == [-1, 2, -3]
    assert cli.attach_values(
        ["--values", "-1j", "--", "--values", "-1"], frozenset({"--values"})
    ) == [
        "--values=-1j",
        "--",
        "--values",
        "-1",
    ]


def test_a_negative_number_after_a_flag_is_refused(capsys):
    status, _, err = run_main(["matrix", "-i", "4", "-k", "3", "--flip", "-1"], capsys)
    assert status == 2 and err.startswith("convops: error: ")


def test_matrix_labels(capsys):
    status, out, _ = run_main(["matrix", "-i", "4x4", "-k", "3x3", "-T", "--labels"], capsys)
    assert status == 0
    assert "x[1,1] | 5 4 2 1" in out
    assert "columns: y[0,0] y[0,1] y[1,0] y[1,1]" in out


def test_large_matrix_prints_a_summary(capsys):
    status, out, _ = run_main(["matrix", "-i", "64x64", "-k", "3x3", "-p", "same"], capsys)
    assert status == 0
    assert "4096 x 4096" in out
    # per axis each of the 64 outputs reads 3 taps, minus one tap at each end in the
    # zero padding: 64·3 − 2 = 190; the 2D count is 190² = 36,100
    assert "36,100 stored entries" in out
    assert "Toeplitz" in out
    assert len(out.splitlines()) < 12  # no millions of numbers


def test_matrix_plot_writes_a_png(tmp_path, capsys):
    path = tmp_path / "m.png"
    status, _, _ = run_main(["matrix", "-i", "4x4", "-k", "3x3", "--plot", str(path)], capsys)
    assert status == 0
    assert np.asarray(Image.open(path).convert("L")).std() > 0


@pytest.mark.parametrize(
    "kernel, input_shape, kw",
    [
        ((3,), (7,), dict(padding=2, boundary="reflect")),
        ((3, 3), (5, 6), dict(stride=2, padding=1, dilation=(1, 2))),
        ((2, 3, 2, 2), (3, 5, 5), dict(padding=1, boundary="circular")),
        ((4, 1, 3, 3), (2, 6, 6), dict(groups=2, stride=(2, 1), padding=1)),
        ((2, 2, 2), (4, 5, 3), dict(padding=((1, 0), 2, (0, 1)), boundary="replicate")),
        ((5,), (3,), dict(padding=2, boundary="circular")),  # wrap-around folds taps together
    ],
)
def test_structural_nnz_counts_the_stored_entries(kernel, input_shape, kw):
    from convops import conv_matrix

    g = make_geometry(kernel, input_shape, **kw)
    w = np.random.default_rng(0).uniform(1, 2, kernel)  # no cancellation: every entry > 0
    assert structure.structural_nnz(g) == conv_matrix(w, input_shape, **kw).nnz


def test_describe_structure_names_the_structure():
    assert "Toeplitz" in structure.describe_structure(make_geometry((3,), (8,)))
    assert "BTTB" in structure.describe_structure(make_geometry((3, 3), (8, 8)))
    assert "BCCB" in structure.describe_structure(
        make_geometry((3, 3), (8, 8), padding=1, boundary="circular")
    )
    assert "every s-th row" in structure.describe_structure(make_geometry((3, 3), (8, 8), stride=2))
    assert "transpose" in structure.describe_structure(make_geometry((3, 3), (8, 8)).transpose())
    assert "2 groups" in structure.describe_structure(
        make_geometry((4, 1, 3, 3), (2, 8, 8), groups=2)
    )


def test_format_matrix_integers_as_integers_and_complex():
    assert text.format_matrix(np.array([[1.0, 10.0], [0.0, -2.0]])) == " 1 10\n 0 -2"
    assert text.format_matrix(np.array([[1 + 2j, 0], [3, -1j]])).split() == [
        "1+2j",
        "0",
        "3",
        "-1j",
    ]
    assert text.format_matrix(np.array([[1 / 3]]), precision=3) == "0.333"


# ----------------------------------------------------------------------------------------
# convops check
# ----------------------------------------------------------------------------------------
def test_check_reports_agreement():
    res = run("check", "--input", "8x8", "--kernel", "3x3", "--stride", "2", "--padding", "1")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK" in res.stdout
    for name in ("matrix", "direct", "fft"):
        assert re.search(rf"^{name}\s+\(4, 4\)\s+\(8, 8\)", res.stdout, re.M), res.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["-i", "6x5x4", "-k", "3x3x2", "-c", "2:4", "-b", "circular", "-p", "1"],
        ["-i", "16", "-k", "4", "--values=1,2j,-1,0.5", "--dtype", "complex128", "-s", "3"],
        ["-i", "9x9", "-k", "3x3", "--dtype", "float32", "-d", "2", "-b", "reflect", "-p", "2"],
    ],
)
def test_check_agrees_on_other_geometries(argv, capsys):
    status, out, err = run_main(["check", *argv], capsys)
    assert status == 0, out + err
    assert "OK" in out


def test_check_catches_a_broken_realisation(monkeypatch, capsys):
    from convops.realisations import fft

    original = fft.forward

    def broken(x, kernel, geometry, cache=None):
        out = original(x, kernel, geometry, cache)
        return out + 1e-3 * np.abs(out).max()

    monkeypatch.setattr(fft, "forward", broken)
    status, out, _ = run_main(["check", "-i", "8x8", "-k", "3x3"], capsys)
    assert status == 1
    assert "MISMATCH" in out


# ----------------------------------------------------------------------------------------
# convops animate
# ----------------------------------------------------------------------------------------
def test_animate_writes_a_gif(tmp_path, capsys):
    # 1D keeps it quick: n = 5, k = 3, padding 1, stride 2 gives m = 3 outputs -> 3 frames
    path = tmp_path / "conv.gif"
    status, out, err = run_main(
        ["animate", "-i", "5", "-k", "3", "-s", "2", "-p", "1", "--out", str(path)], capsys
    )
    assert status == 0, err
    assert Image.open(path).n_frames == 3  # one frame per output position
    assert "wrote" in out
    path_t = tmp_path / "up.gif"
    status, _, err = run_main(
        ["animate", "-i", "5", "-k", "3", "-s", "2", "-p", "1", "-T", "--out", str(path_t)], capsys
    )
    assert status == 0, err
    assert Image.open(path_t).n_frames == 3  # scatter: one frame per input of A* (3)
    path_f = tmp_path / "frac.gif"
    status, _, err = run_main(
        [
            "animate",
            "-i",
            "5",
            "-k",
            "3",
            "-s",
            "2",
            "-p",
            "1",
            "-T",
            "--fractional",
            "--out",
            str(path_f),
        ],
        capsys,
    )
    assert status == 0, err
    assert Image.open(path_f).n_frames > 1


@pytest.mark.parametrize(
    "command, full, split",
    [
        ("matrix", ["-i", "2x5", "-k", "3x2x3"], ["-i", "5", "-k", "3", "-c", "2:3"]),
        (
            "norm",
            ["-i", "4x9x9", "-k", "6x2x3x3", "-g", "2", "-s", "2", "-p", "1"],
            ["-i", "9x9", "-k", "3x3", "-c", "4:6", "-g", "2", "-s", "2", "-p", "1"],
        ),
        (
            "check",
            ["-i", "2x3x4x5", "-k", "1x2x2x2x2"],
            ["-i", "3x4x5", "-k", "2x2x2", "-c", "2:1"],
        ),
    ],
)
def test_full_shapes_carry_the_channels(command, full, split, capsys):
    # --input CxHxW --kernel OxIxkHxkW (PyTorch's layout) is the same as --channels CIN:COUT
    status, out_full, _ = run_main([command, *full], capsys)
    assert status == 0
    status, out_split, _ = run_main([command, *split], capsys)
    assert status == 0
    # check prints its timings, which differ from run to run: compare its other lines
    keep = [ln for ln in out_full.splitlines() if not re.search(r"\d s|ms|µs", ln)]
    assert keep == [ln for ln in out_split.splitlines() if not re.search(r"\d s|ms|µs", ln)]
    assert keep


@pytest.mark.parametrize(
    "argv, words",
    [
        (["-i", "4x6x6", "-k", "8x2x3x3"], ["8x2x3x3", "2 input channels per group", "4 channels"]),
        (["-i", "4x6x6", "-k", "8x2x3x3", "-g", "3"], ["--groups is 3"]),
        (["-i", "4x4x4x4", "-k", "3x3x3x3"], ["--input 4x4x4x4 has 4 sizes", "--channels"]),
        (["-i", "4x4x4x4x4", "-k", "3"], ["5 spatial axes"]),
    ],
)
def test_full_shapes_that_do_not_fit_are_refused(argv, words, capsys):
    status, out, err = run_main(["matrix", *argv], capsys)
    assert status == 2 and not out
    assert err.startswith("convops: error:") and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)


# ----------------------------------------------------------------------------------------
# bad arguments and help
# ----------------------------------------------------------------------------------------
BAD = [
    ["matrix", "--input", "4x", "--kernel", "3x3"],  # not a shape
    ["matrix", "--input", "2x2", "--kernel", "3x3"],  # kernel larger than input
    ["matrix", "-i", "4x4", "-k", "3x3", "--stride", "0"],  # stride 0
    ["matrix", "-i", "4x4", "-k", "3x3", "--boundary", "mirror"],  # unknown boundary
    ["matrix", "-i", "4x4", "-k", "3x3", "--values", "1,2"],  # wrong number of values
    ["matrix", "-i", "4x4", "-k", "3x3", "--values", "1,a,3"],  # not numbers
    ["matrix", "-i", "4x4", "-k", "3x3", "--padding", "same", "-s", "2"],
    ["matrix", "-i", "4x4", "-k", "3x3", "--padding", "1,2,3"],  # wrong number of axes
    ["matrix", "-i", "4x4", "-k", "3x3", "--padding", "-1"],  # negative padding
    ["matrix", "-i", "4x4", "-k", "3x3", "--padding", "x"],
    ["matrix", "-i", "4x4", "-k", "3"],  # kernel/input axes differ
    ["matrix", "-i", "4x4x4x4", "-k", "3x3x3x3"],  # 4 spatial axes
    ["matrix", "-i", "4x4", "-k", "3x3", "-c", "2:3", "-g", "2"],  # groups do not divide
    ["matrix", "-i", "4x4", "-k", "3x3", "-g", "2"],  # groups without channels
    ["matrix", "-i", "4x4", "-k", "3x3", "-c", "2"],  # channels syntax
    ["matrix", "-i", "4x4", "-k", "3x3", "-b", "circular", "-p", "5"],
    ["matrix", "-k", "3x3"],  # missing --input
    ["matrix", "-i", "1000x1000", "-k", "3x3", "--full"],  # too many to print
    ["check", "-i", "4", "-k", "2", "--dtype", "int8"],
    ["animate", "-i", "4x4", "-k", "3x3", "--out", "a.png"],
    ["animate", "-i", "4x4", "-k", "3x3", "--out", "a.gif", "--fractional"],
    ["tour", "--only", "9"],
    ["tour", "--only", "one"],
    ["bogus"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_arguments_exit_2_with_one_line(argv, capsys):
    status, _, err = run_main(argv, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convops: error: "), err
    assert "Traceback" not in err


def test_bad_arguments_as_a_subprocess():
    res = run("matrix", "--input", "2x2", "--kernel", "3x3")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert res.stderr.startswith("convops: error: the kernel does not fit")


@pytest.mark.parametrize("command", [[], ["matrix"], ["animate"], ["check"], ["tour"]])
def test_help_for_every_command(command, capsys):
    status, out, _ = run_main([*command, "--help"], capsys)
    assert status == 0
    assert out.startswith("usage: convops")


def test_help_as_a_subprocess_and_no_arguments():
    res = run("matrix", "--help")
    assert res.returncode == 0 and "--padding" in res.stdout and "LO:HI" in res.stdout
    res = run()
    assert res.returncode == 0 and "tour" in res.stdout


def test_tour_list_names_scripts_that_exist(capsys):
    status, out, _ = run_main(["tour", "--list"], capsys)
    assert status == 0
    paths = [Path(line.split()[-1]) for line in out.splitlines()]
    from convops.tutorials import TUTORIALS

    assert len(paths) == len(TUTORIALS) and all(p.is_file() and p.suffix == ".py" for p in paths)


# ----------------------------------------------------------------------------------------
# convops tour (the slow one)
# ----------------------------------------------------------------------------------------
def test_tour_writes_the_files_it_lists(tmp_path):
    out = tmp_path / "tour"
    res = run("tour", "--out", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    listing = res.stdout.split("Files written")[1]
    files = re.findall(r"^\s+[\d.]+ (?:B|kB|MB)\s+(.+)$", listing, re.M)
    assert len(files) >= 12
    for name in files:
        path = Path(name)
        assert path.is_file() and path.stat().st_size > 0, name
        assert path.parent == out.resolve()
    names = {Path(f).name for f in files}
    assert {"01_matrix_A_and_transpose.png", "03_conv_stride2.gif", "05_deconvolution.png"} <= names
    # the narrative and the results are in the terminal output, tutorial by tutorial
    for number in range(1, 6):
        assert f"Tutorial {number}:" in res.stdout
    for row in PRINTED_ROWS:
        assert row in res.stdout
    # nothing lands in the current directory's default folder when --out is given
    assert not (tmp_path / "convops-output").exists()
