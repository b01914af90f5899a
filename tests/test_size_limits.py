"""Claim: no integer overflow, and memory is refused before it is spent.

Shapes are computed with Python integers; sizes that no array can hold are refused by the
geometry with a ``ValueError`` naming the parameter.  Work that would need more memory than
``convops.get_config().max_work_bytes`` (adjustable with ``convops.configure``) is refused
up front, naming the limit — proven in a subprocess whose address space is capped, so that
an attempt to allocate would fail with ``MemoryError`` instead of the refusal.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convops


@given(
    value=st.integers(2**62 + 1, 2**90),
    name=st.sampled_from(["stride", "dilation", "padding"]),
)
def test_huge_per_axis_values_are_refused_by_name(value, name):
    with pytest.raises(ValueError, match=rf"{name}=.*too large"):
        convops.ConvOperator(np.ones(3), (5,), **{name: value})


@pytest.mark.parametrize(
    "shape",
    [(2**40, 2**20, 2**10), (2**63,), (2**62, 2), (3, 2**30, 2**30)],
)
def test_input_shapes_no_array_can_hold_are_refused(shape):
    kernel = np.ones((1,) * len(shape))
    with pytest.raises(ValueError, match=r"input_shape=.*too large"):
        convops.ConvOperator(kernel, shape)


def test_padding_no_array_can_hold_is_refused():
    with pytest.raises(ValueError, match=r"padding=.*too large"):
        convops.ConvOperator(np.ones((3, 3)), (5, 5), padding=2**31)


def test_shapes_are_exact_python_integers():
    op = convops.ConvOperator(np.ones(3), (5,), padding=2**40)
    assert op.shape == (2**41 + 3, 5)
    assert all(type(v) is int for v in op.shape)
    big = convops.ConvOperator(np.ones((1, 1, 1)), (2**20, 2**20, 2**10))
    assert big.shape == (2**50, 2**50)


def _run_capped(code: str, cap_bytes: int = 3 * 2**30) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter whose address space is capped at ``cap_bytes``."""
    prelude = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({cap_bytes}, {cap_bytes}))
        import numpy as np, convops
        def refused(call, *words):
            try:
                call()
            except ValueError as exc:
                text = str(exc)
                missing = [w for w in words if w not in text]
                assert not missing, (missing, text)
                print("refused:", text)
            else:
                raise AssertionError("not refused")
        """
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_memory_is_refused_before_it_is_spent():
    res = _run_capped(
        """
        op = convops.ConvOperator(np.ones(3), (5,), padding=10**12)
        refused(lambda: op @ np.ones(5), "max_work_bytes", "convops.configure")
        refused(lambda: convops.conv(np.ones(5), np.ones(3), padding=10**12), "max_work_bytes")
        refused(lambda: convops.kernel_spectrum(np.ones(3), (10**12,)), "max_work_bytes")
        refused(lambda: op.matrix(), "max_work_bytes")
        big = convops.ConvOperator(np.ones((64, 64, 3, 3)), (64, 2048, 2048), padding=1)
        refused(lambda: big.toarray(), "max_bytes")
        """
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("refused:") == 5


def test_the_matrix_builder_works_in_memory_proportional_to_its_entries():
    res = _run_capped(
        """
        A = convops.conv_matrix(np.ones(2), (2,), stride=10**12, padding=(0, 10**12))
        assert A.shape == (2, 2) and A.nnz == 2, (A.shape, A.nnz)
        print("ok")
        """,
        cap_bytes=2 * 2**30,
    )
    assert res.returncode == 0, res.stderr
    assert "ok" in res.stdout


def test_the_limit_is_adjustable():
    op = convops.ConvOperator(np.ones(3), (4096,), method="direct")
    x = np.ones(4096)
    with convops.configure(max_work_bytes=1024):
        with pytest.raises(ValueError, match="max_work_bytes=1024"):
            op @ x
    np.testing.assert_allclose(op @ x, 3.0)


def test_animations_are_refused_before_their_frames_are_built():
    pytest.importorskip("matplotlib")
    from convops import plotting
    from convops.plotting.animation_frames import story_bytes

    op = convops.ConvOperator(np.ones((3, 3)), (66, 66))
    need = story_bytes(op.geometry, False)
    assert 200 * 2**20 < need < 800 * 2**20  # frames × cells: hundreds of MiB at 66×66
    with convops.configure(max_work_bytes=need - 1):
        with pytest.raises(ValueError, match=r"frames of this animation.*max_work_bytes"):
            plotting.animate(op)
    huge = convops.ConvOperator(np.ones((3, 3)), (4000, 4000))
    with pytest.raises(ValueError, match="max_work_bytes"):
        plotting.animate(huge)  # terabytes of frames: refused at the default limit


@pytest.mark.parametrize("mode", ["forward", "scatter", "fractional"])
@pytest.mark.parametrize(
    "kw", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=(1, 2))]
)
def test_the_animation_estimate_bounds_what_a_story_keeps(mode, kw):
    pytest.importorskip("matplotlib")
    from convops.plotting import animation_frames as af

    op = convops.ConvOperator(np.ones((3, 3)), (9, 8), **kw)
    A = op if mode == "forward" else op.H
    build = {
        "forward": af.story_forward,
        "scatter": af.story_scatter,
        "fractional": af.story_fractional,
    }
    story = build[mode](A.geometry, A.kernel, np.ones(A.input_shape), 2, False)
    kept = sum(v.nbytes for v in vars(story).values() if isinstance(v, np.ndarray))
    kept += sum(
        v.nbytes
        for grid in (story.left, story.right, story.kernel)
        for v in vars(grid).values()
        if isinstance(v, np.ndarray)
    )
    assert kept <= af.story_bytes(A.geometry, mode == "fractional")


@given(
    n=st.integers(1, 5),
    k=st.integers(1, 3),
    stride=st.integers(1, 2**45),
    rows=st.integers(1, 6),
    lo=st.integers(0, 3),
    ndim=st.integers(1, 2),
)
def test_huge_strides_and_paddings_give_small_exact_matrices(n, k, stride, rows, lo, ndim):
    """Index arithmetic in the matrix builder stays exact (no int32/int64 wrap) when the
    stride and the padding are astronomically larger than the input."""
    hi = max(0, (rows - 1) * stride + k - n - lo)  # exactly ``rows`` outputs per axis
    if n + lo + hi < k:
        hi = k - n - lo
    kw = dict(stride=stride, padding=[(lo, hi)] * ndim)
    w = np.arange(1.0, k**ndim + 1).reshape((k,) * ndim)
    matrix = convops.ConvOperator(w, (n,) * ndim, method="matrix", **kw)
    direct = convops.ConvOperator(w, (n,) * ndim, method="direct", **kw)
    # rows outputs per axis, or more where lo alone exceeds them (stride 1): a small matrix
    per_axis = (n + lo + hi - k) // stride + 1
    assert per_axis <= max(rows, n + lo) and matrix.shape[0] == per_axis**ndim
    eye = np.eye(matrix.shape[1])
    np.testing.assert_array_equal(matrix.toarray(), direct @ eye)


def test_the_dense_refusal_names_what_each_operator_is_applied_to():
    """``op.apply(x)`` for a convolution, ``op.apply(w)`` for the kernel map and
    ``op.apply(y)`` for its adjoint (the name the shape errors use too)."""
    op = convops.ConvOperator(np.ones((2, 2, 3)), (2, 40))
    kernel_map = convops.KernelOperator(np.ones((2, 40)), (2, 2, 3))
    for operator, name in [(op, "x"), (kernel_map, "w"), (kernel_map.H, "y")]:
        with pytest.raises(ValueError, match=rf"op\.apply\({name}\)"):
            operator.toarray(max_bytes=8)
        with pytest.raises(ValueError, match=rf"^{name} of shape \(7,\) does not end with"):
            operator.apply(np.ones(7))
