"""Claims about convops.plotting.explore (Agg backend, set in conftest; synthetic mouse events).

- pointing at an output entry highlights exactly its row of the matrix, the nonzero columns
  of that row (the input entries it reads) and the kernel footprint o·s + t·d on x̃, and
  writes its sum out with the value of the output;
- pointing at an input entry highlights exactly its column and the nonzero rows of it;
- pointing at a matrix entry highlights the (output, input, tap) pairs it stands for, whose
  weights add up to the entry;
- the same with the adjoint switch, read the other way;
- a control rebuilds a view equal (pixel for pixel) to a fresh explore() with those
  arguments; a combination the library refuses shows its own message in the figure;
- on Agg the figure says how to get the interactive view; refusals name the limit.

Expected values come from outside the explorer: the brute-force dense matrix and boundary
rules of tests/reference.py, the footprint o·s + t·d written out here, numpy's FFT, and
hand-computed sums.
"""

from __future__ import annotations

import itertools
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backend_bases import MouseEvent
from reference import dense_of_geometry, source_index

from convops import ConvOperator, make_geometry
from convops import plotting as P
from convops.plotting import explore_model
from convops.plotting.explore import GID
from convops.testing.strategies import conv_specs
from convops.text import format_value


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------------------
# helpers: synthetic events, what is drawn, independent references
# ----------------------------------------------------------------------------------------
def send(ex, panel, cell, name="motion_notify_event"):
    """A mouse event at the centre of ``cell`` (row, col) of panel ``panel``, processed."""
    fig = ex.figure
    for ax in fig.axes:
        ax.apply_aspect()  # the boxes a draw would give them (aspect="equal")
    ax = ex.axes[panel]
    x, y = ax.transData.transform((cell[1], cell[0]))
    button = 1 if name == "button_press_event" else None
    event = MouseEvent(name, fig.canvas, x, y, button=button)
    assert event.inaxes is ax, f"the event at {cell} is not over the {panel} panel"
    fig.canvas.callbacks.process(name, event)


def drawn_cells(ax, gid):
    """``{(row, col)}`` of the unit cells of the collections with ``gid`` on ``ax``."""
    cells = set()
    for coll in ax.collections:
        if coll.get_gid() != gid:
            continue
        for path in coll.get_paths():
            x, y = path.vertices[:4].mean(axis=0)
            cells.add((round(float(y)), round(float(x))))
    return cells


def bands(ax):
    """``(rows, columns)`` the matrix panel's row and column bands cover."""
    rows, cols = set(), set()
    for p in ax.patches:
        x, y = p.get_xy()
        if p.get_gid() == GID["row"]:
            rows.add(round(y + 0.5))
        elif p.get_gid() == GID["column"]:
            cols.add(round(x + 0.5))
    return rows, cols


def lifted(g, index):
    return (0, index[0]) if g.ndim == 1 else tuple(index)


def reference_footprint(g, o):
    """Padded cells o·s + t·d of output ``o`` and the input entries they read (or None)."""
    cells, reads = [], []
    for t in itertools.product(*map(range, g.kernel_size)):
        p = tuple(o[a] * g.stride[a] + t[a] * g.dilation[a] for a in range(g.ndim))
        src = [
            source_index(p[a] - g.padding[a][0], g.spatial_in[a], g.boundary) for a in range(g.ndim)
        ]
        cells.append(p)
        reads.append(None if any(v is None for v in src) else tuple(src))
    return cells, reads


def figure_pixels(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def explorable(spec) -> bool:
    g = spec.geometry()
    padded = [n + lo + hi for n, (lo, hi) in zip(g.spatial_in, g.padding, strict=True)]
    return g.ndim <= 2 and max(g.shape) <= 64 and max(padded) <= 64  # the stated limits


small_specs = conv_specs(max_ndim=2, multichannel=False, max_kernel=3).filter(explorable)


def integer_kernel(spec, seed):
    """Positive integers: no cancellations (the nonzeros are the structure), exact sums."""
    return np.random.default_rng(seed).integers(1, 6, size=spec.kernel_shape).astype(float)


# ----------------------------------------------------------------------------------------
# the example: 3×3 kernel 1…9 on a 4×4 image
# ----------------------------------------------------------------------------------------
class TestExample:
    def test_output_cell_row_footprint_and_sum(self):
        x = np.arange(16.0).reshape(4, 4)
        ex = P.explore(input_shape=(4, 4), kernel_shape=(3, 3), data=x)
        send(ex, "y", (0, 1))  # y[0,1]
        h = ex.highlight
        assert h.pointed == "output" and h.index == (0, 1)
        assert h.rows == (1,)
        # row 1 of the printed matrix 0 1 2 3 0 4 5 6 0 7 8 9 0 0 0 0: its nonzero columns
        assert h.columns == (1, 2, 3, 5, 6, 7, 9, 10, 11)
        assert drawn_cells(ex.axes["matrix"], GID["entry"]) == {(1, c) for c in h.columns}
        assert bands(ex.axes["matrix"]) == ({1}, set())
        assert drawn_cells(ex.axes["x"], GID["footprint"]) == {
            (r, c) for r in range(3) for c in range(1, 4)
        }
        # y[0,1] = Σ w·x over the window x[0:3, 1:4], by hand: 1·1 + 2·2 + 3·3 + 4·5 + … + 9·11
        value = sum(w * v for w, v in zip(range(1, 10), [1, 2, 3, 5, 6, 7, 9, 10, 11], strict=True))
        assert value == 348
        assert h.lines[1] == "= " + " + ".join(
            f"w[{a},{b}]·x[{a},{b + 1}]" for a in range(3) for b in range(3)
        )
        assert h.lines[2] == "= 1·1 + 2·2 + 3·3 + 4·5 + 5·6 + 6·7 + 7·9 + 8·10 + 9·11 = 348"
        info = next(t for t in ex.figure.texts if t.get_gid() == GID["info"]).get_text()
        assert "= 348" in info and "row 1 of A" in info

    def test_input_cell_column_and_outputs_reached(self):
        ex = P.explore(input_shape=(4, 4), kernel_shape=(3, 3))
        send(ex, "x", (1, 2))  # x[1,2] (no padding: padded cell = input cell)
        h = ex.highlight
        assert h.pointed == "input" and h.index == (1, 2)
        assert h.columns == (6,)
        # column 6 of the printed matrix: 6, 5, 3, 2 in rows 0…3 (all nonzero)
        assert h.rows == (0, 1, 2, 3)
        assert bands(ex.axes["matrix"]) == (set(), {6})
        assert drawn_cells(ex.axes["y"], GID["reached"]) == {(0, 0), (0, 1), (1, 0), (1, 1)}
        assert sorted(t.weight.real for t in h.terms) == [2, 3, 5, 6]

    def test_matrix_entry_is_output_input_tap(self):
        ex = P.explore(input_shape=(4, 4), kernel_shape=(3, 3))
        send(ex, "matrix", (2, 12))  # A[2, 12] = 7 in the printed matrix
        h = ex.highlight
        assert h.pointed == "entry" and h.index == (2, 12)
        (term,) = h.terms  # y[1,0] reads x[3,0] with tap w[2,0] = 7
        assert (term.output, term.input, term.tap, term.weight) == ((1, 0), (3, 0), (2, 0), 7)
        assert drawn_cells(ex.axes["x"], GID["pointed"]) == {(3, 0)}
        assert drawn_cells(ex.axes["y"], GID["pointed"]) == {(1, 0)}
        assert bands(ex.axes["matrix"]) == ({2}, {12})
        send(ex, "matrix", (0, 3))  # a structural zero
        assert ex.highlight.terms == () and "structural zero" in ex.highlight.lines[0]

    def test_adjoint_reads_the_same_picture_the_other_way(self):
        ex = P.explore(input_shape=(4, 4), kernel_shape=(3, 3), controls=True)
        ex.controls["transposed"].set_active(0)  # the switch
        assert ex.adjoint and ex.operator.shape == (16, 4)
        send(ex, "x", (1, 2))  # now an output: x[1,2] = row 6 of Aᴴ
        h = ex.highlight
        assert h.pointed == "output" and h.rows == (6,) and h.columns == (0, 1, 2, 3)
        assert bands(ex.axes["matrix"]) == ({6}, set())
        y = ex.model.y.ravel()
        # x[1,2] = Σ w[t]·y[o] over the outputs whose window covers it: taps 6, 5, 3, 2
        assert h.lines[2].endswith(
            f"= {format_value(6 * y[0] + 5 * y[1] + 3 * y[2] + 2 * y[3], 2)}"
        )
        send(ex, "y", (0, 1))  # an input of Aᴴ: column 1, scattered onto the 3×3 window
        h = ex.highlight
        assert h.pointed == "input" and h.columns == (1,)
        assert h.rows == (1, 2, 3, 5, 6, 7, 9, 10, 11)
        assert figure_pixels(ex.figure).shape  # draws
        fresh = P.explore(input_shape=(4, 4), kernel_shape=(3, 3), transposed=True, controls=True)
        ex.clear()
        assert np.array_equal(figure_pixels(ex.figure), figure_pixels(fresh.figure))

    def test_explore_op_is_explore_with_its_arguments(self):
        w = np.arange(1, 10).reshape(3, 3)
        op = ConvOperator(w, (5, 5), stride=2, padding=1)
        a = P.explore(op)
        b = P.explore(input_shape=(5, 5), kernel_shape=(3, 3), stride=2, padding=1)
        assert np.array_equal(figure_pixels(a.figure), figure_pixels(b.figure))
        c = P.explore(op.H)
        assert c.adjoint and c.operator.shape == (25, 9)


# ----------------------------------------------------------------------------------------
# the highlight claims on every small geometry
# ----------------------------------------------------------------------------------------
@given(spec=small_specs, seed=st.integers(0, 2**16), transposed=st.booleans(), pick=st.randoms())
def test_model_highlights_match_the_reference_matrix(spec, seed, transposed, pick):
    """The model's selections against the brute-force matrix and footprint (fast: no figure)."""
    w = integer_kernel(spec, seed)
    A = ConvOperator(w, spec.input_shape, **spec.kwargs)
    g = A.geometry
    D = dense_of_geometry(w, g)  # rows y, columns x
    op = A.H if transposed else A
    M = D.conj().T if transposed else D
    m = explore_model.ExploreModel(op)
    rows, cols = M.shape
    for r in pick.sample(range(rows), min(rows, 3)):
        h = m.point_x(r) if transposed else m.point_y(r)
        assert h.rows == (r,)
        assert h.columns == tuple(np.flatnonzero(M[r]))
        assert h.inputs == tuple(
            tuple(int(v) for v in np.unravel_index(c, op.input_shape)) for c in h.columns
        )
        assert set(h.entries) == {(r, int(c)) for c in np.flatnonzero(M[r])}
        if not transposed:  # the footprint and what each tap reads
            o = np.unravel_index(r, g.spatial_out)
            cells, reads = reference_footprint(g, o)
            assert h.padded == tuple(sorted(set(cells)))
            assert [t.input for t in h.terms] == reads
            assert h.lines[2].endswith(f"= {format_value((D @ m.x.ravel())[r], 2)}")
    for c in pick.sample(range(cols), min(cols, 3)):
        h = m.point_x(c) if not transposed else m.point_y(c)
        assert h.columns == (c,)
        assert h.rows == tuple(np.flatnonzero(M[:, c]))
    for r, c in [(pick.randrange(rows), pick.randrange(cols)) for _ in range(3)]:
        y_flat, x_flat = (c, r) if transposed else (r, c)
        h = m.point_pair(y_flat, x_flat)
        assert sum(t.weight for t in h.terms) == pytest.approx(M[r, c])
        for t in h.terms:  # each pair is (output, input, tap) of the operator
            assert t.output == tuple(int(v) for v in np.unravel_index(r, op.output_shape))
            assert t.input == tuple(int(v) for v in np.unravel_index(c, op.input_shape))


@settings(max_examples=15)  # each example draws a figure (about half a second)
@given(spec=small_specs, seed=st.integers(0, 2**16), transposed=st.booleans(), pick=st.randoms())
def test_mouse_events_highlight_the_row_column_and_footprint(spec, seed, transposed, pick):
    """Synthetic mouse events on the figure: what is drawn is exactly the claims."""
    w = integer_kernel(spec, seed)
    A = ConvOperator(w, spec.input_shape, **spec.kwargs)
    g = A.geometry
    D = dense_of_geometry(w, g)
    op = A.H if transposed else A
    M = D.conj().T if transposed else D
    ex = P.explore(op, spectrum=False, controls=False)
    ax_m = ex.axes["matrix"]
    # an output entry: its row and the nonzero columns of the row
    r = pick.randrange(M.shape[0])
    out = np.unravel_index(r, op.output_shape)
    if transposed:  # an entry of x: point at its cell of the padded grid
        send(ex, "x", tuple(np.add(lifted(g, out), lifted(g, [lo for lo, _ in g.padding]))))
    else:
        send(ex, "y", lifted(g, out))
    assert ex.highlight.rows == (r,)
    assert drawn_cells(ax_m, GID["entry"]) == {(r, int(c)) for c in np.flatnonzero(M[r])}
    assert bands(ax_m) == ({r}, set())
    if not transposed:
        cells, _ = reference_footprint(g, out)
        assert drawn_cells(ex.axes["x"], GID["footprint"]) == {lifted(g, c) for c in cells}
    # an input entry: its column and the nonzero rows of it
    c = pick.randrange(M.shape[1])
    inp = np.unravel_index(c, op.input_shape)
    if transposed:
        send(ex, "y", lifted(g, inp))
    else:
        send(ex, "x", tuple(np.add(lifted(g, inp), lifted(g, [lo for lo, _ in g.padding]))))
    assert ex.highlight.columns == (c,)
    assert drawn_cells(ax_m, GID["entry"]) == {(int(q), c) for q in np.flatnonzero(M[:, c])}
    assert bands(ax_m) == (set(), {c})
    # a matrix entry: its (output, input, tap) pairs add up to it
    r, c = pick.randrange(M.shape[0]), pick.randrange(M.shape[1])
    send(ex, "matrix", (r, c))
    h = ex.highlight
    assert h.pointed == "entry" and h.index == (r, c)
    assert sum(t.weight for t in h.terms) == pytest.approx(M[r, c])
    assert bands(ax_m) == ({r}, {c})


# ----------------------------------------------------------------------------------------
# padding copies, pinning, the spectrum
# ----------------------------------------------------------------------------------------
def test_replicate_padding_copies_show_the_entry_they_copy():
    # 1-D, n = 3, k = 3, padding 1, replicate: y[0] reads x̃ = (x[0], x[0], x[1])
    ex = P.explore(
        input_shape=(3,), kernel=np.array([1.0, 2.0, 4.0]), padding=1, boundary="replicate"
    )
    send(ex, "matrix", (0, 0))
    h = ex.highlight
    assert [(t.tap, t.padded) for t in h.terms] == [((0,), (0,)), ((1,), (1,))]
    assert sum(t.weight for t in h.terms) == 3.0 == ex.operator.matrix().toarray()[0, 0]
    assert "several taps" in h.lines[2]
    send(ex, "y", (0, 0))
    arrows = [p for p in ex.axes["x"].patches if p.get_gid() == GID["copies"]]
    assert len(arrows) == 1  # from the copy x̃[0] to x[0] (drawn at x̃[1])
    assert drawn_cells(ex.axes["x"], GID["copies"]) == {(0, 1)}
    labels = [t.get_text() for t in ex.axes["x"].texts]
    assert "x[0]" in labels
    send(ex, "x", (0, 0))  # pointing at the copy points at the entry it copies
    assert ex.highlight.pointed == "input" and ex.highlight.index == (0,)


def test_flip_names_the_taps_of_the_kernel_as_given():
    import scipy.signal

    w = np.array([1.0, 2.0, 3.0])
    x = np.array([1.0, 0.0, 2.0, 5.0])
    ex = P.explore(input_shape=(4,), kernel=w, flip=True, data=x)
    h = ex.point_output(0)  # y[0] = Σ w[2 − t]·x[t]: the signal-processing convolution
    assert [(t.tap, t.input, t.weight) for t in h.terms] == [
        ((2,), (0,), 3.0),
        ((1,), (1,), 2.0),
        ((0,), (2,), 1.0),
    ]
    assert h.lines[1] == "= w[2]·x[0] + w[1]·x[1] + w[0]·x[2]"
    expected = scipy.signal.convolve(x, w, mode="valid")[0]
    assert h.lines[2] == f"= 3·1 + 2·0 + 1·2 = {format_value(expected, 2)}"


def test_zero_padding_cell_is_not_an_input():
    ex = P.explore(input_shape=(4, 4), kernel_shape=(3, 3), padding=1)
    send(ex, "x", (0, 0))
    h = ex.highlight
    assert h.pointed == "padding" and h.rows == () and h.columns == ()
    assert [t.output for t in h.terms] == [(0, 0)] and h.terms[0].input is None
    assert "zero padding" in h.lines[0]


def test_click_pins_and_releases():
    ex = P.explore(input_shape=(4, 4), kernel_shape=(3, 3), spectrum=False)
    send(ex, "y", (1, 1), "button_press_event")
    assert ex.pinned and ex.highlight.index == (1, 1)
    send(ex, "y", (0, 0))  # hovering does not move a pinned highlight
    assert ex.highlight.index == (1, 1)
    send(ex, "y", (1, 1), "button_press_event")  # clicking it again releases it
    assert not ex.pinned and ex.highlight is None
    send(ex, "y", (0, 0))
    assert ex.highlight.index == (0, 0)


def test_spectrum_hover_writes_out_the_value():
    w = np.array([1.0, 2.0, 3.0])
    ex = P.explore(input_shape=(6,), kernel=w)
    N = ex.operator.geometry.fft_shape[0]
    ax = ex.axes["spectrum"]
    for a in ex.figure.axes:
        a.apply_aspect()
    f_index = 2  # frequency 2/N
    x, y = ax.transData.transform((f_index / N, float(np.mean(ax.get_ylim()))))
    event = MouseEvent("motion_notify_event", ex.figure.canvas, x, y)
    assert event.inaxes is ax
    ex.figure.canvas.callbacks.process("motion_notify_event", event)
    expected = np.conj(np.fft.fft(w, N))[f_index]  # Ĥ = conj(fft(w)) for cross-correlation
    info = next(t for t in ex.figure.texts if t.get_gid() == GID["info"]).get_text()
    assert f"{format_value(expected, 3)}" in info
    assert f"f = (+{f_index / N:.3f})" in info


# ----------------------------------------------------------------------------------------
# controls: rebuild, refusals in the figure
# ----------------------------------------------------------------------------------------
def test_controls_rebuild_the_view_of_a_fresh_explore():
    ex = P.explore(input_shape=(5, 5), kernel_shape=(3, 3), controls=True)
    ex.controls["stride"].set_val("2")
    ex.controls["padding"].set_val("0:1,1")
    ex.controls["boundary"].set_active(3)  # replicate
    ex.controls["input_shape"].set_val("6x5")
    ex.controls["dilation"].set_val("1,2")
    assert ex.error is None
    g = ex.operator.geometry
    assert g.stride == (2, 2) and g.padding == ((0, 1), (1, 1)) and g.boundary == "replicate"
    assert g.dilation == (1, 2) and g.spatial_in == (6, 5)
    fresh = P.explore(
        input_shape=(6, 5),
        kernel_shape=(3, 3),
        stride=2,
        padding=((0, 1), 1),
        boundary="replicate",
        dilation=(1, 2),
        controls=True,
    )
    assert np.array_equal(ex.operator.matrix().toarray(), fresh.operator.matrix().toarray())
    ex.controls["padding"].set_val("0:1,1")  # unchanged text: no rebuild, same picture
    fresh.controls["padding"].set_val("0:1,1")
    assert np.array_equal(figure_pixels(ex.figure), figure_pixels(fresh.figure))


def test_set_params_equals_a_fresh_explore():
    ex = P.explore(input_shape=(7,), kernel_shape=(3,), spectrum=False)
    assert ex.set_params(dilation=2, padding="same", boundary="circular")
    fresh = P.explore(
        input_shape=(7,),
        kernel_shape=(3,),
        dilation=2,
        padding="same",
        boundary="circular",
        spectrum=False,
    )
    assert np.array_equal(figure_pixels(ex.figure), figure_pixels(fresh.figure))
    assert ex.set_params(kernel_shape=(4,))  # a new size: kernel 1, 2, 3, 4
    assert ex.operator.kernel.tolist() == [1, 2, 3, 4]


def text_of(ex, gid):
    return " ".join(" ".join(t.get_text() for t in ex.figure.texts if t.get_gid() == gid).split())


def test_refused_combinations_show_the_library_message():
    ex = P.explore(
        input_shape=(5, 5),
        kernel_shape=(3, 3),
        stride=2,
        padding=1,
        boundary="reflect",
        controls=True,
    )
    before = ex.operator
    common = dict(stride=2, boundary="reflect")
    for control, text, fixed, kwargs in [
        ("kernel_shape", "9x9", "3x3", dict(padding=1)),  # does not fit
        ("padding", "same", "1", dict(padding="same")),  # "same" with a stride
        ("padding", "5", "1", dict(padding=5)),  # wider than reflect allows
    ]:
        ex.controls[control].set_val(text)
        shape = (9, 9) if control == "kernel_shape" else (3, 3)
        with pytest.raises(ValueError) as refused:
            make_geometry(shape, (5, 5), **common, **kwargs)
        assert ex.error == str(refused.value)
        assert " ".join(str(refused.value).split()) in text_of(ex, GID["error"])
        assert ex.operator is before  # the view keeps the last geometry that worked
        ex.controls[control].set_val(fixed)
        assert ex.error is None and text_of(ex, GID["error"]) == ""
        assert ex.operator.geometry == before.geometry
        before = ex.operator


def test_unreadable_control_text_is_refused_in_the_figure():
    ex = P.explore(input_shape=(5, 5), kernel_shape=(3, 3), controls=True)
    ex.controls["input_shape"].set_val("5y5")
    assert "is not a shape" in text_of(ex, GID["error"])
    assert ex.operator.input_shape == (5, 5)


def test_too_large_in_set_params_is_shown_not_raised():
    ex = P.explore(input_shape=(5, 5), kernel_shape=(3, 3), spectrum=False)
    assert not ex.set_params(input_shape=(12, 12))
    assert "at most 64 rows and 64 columns" in ex.error and "144" in text_of(ex, GID["error"])


# ----------------------------------------------------------------------------------------
# where it runs; refusals
# ----------------------------------------------------------------------------------------
def test_static_view_says_how_to_get_the_interactive_one():
    ex = P.explore(input_shape=(5, 5), kernel_shape=(3, 3), stride=2, padding=1)
    hint = text_of(ex, GID["hint"])
    assert "%matplotlib widget" in hint and "convops[interactive]" in hint
    command = "convops explore --input 5x5 --kernel 3x3 --stride 2 --padding 1"
    assert command in hint
    assert not ex.controls  # no controls on a non-interactive backend unless asked


def test_refusals_name_the_limit_and_the_way_out():
    with pytest.raises(ValueError, match=r"at most 64 rows and 64 columns.*100×100"):
        P.explore(input_shape=(10, 10), kernel_shape=(3, 3), padding=1)
    with pytest.raises(ValueError, match=r"64 cells along each axis of the padded input.*65 cells"):
        P.explore(input_shape=(3,), kernel_shape=(3,), padding=31, stride=8)
    with pytest.raises(ValueError, match="1-D and 2-D"):
        P.explore(input_shape=(3, 3, 3), kernel_shape=(2, 2, 2))
    with pytest.raises(ValueError, match=r"single-channel.*kernel\[co, ci\]"):
        P.explore(ConvOperator(np.ones((2, 1, 3, 3)), (1, 5, 5)))
    with pytest.raises(TypeError, match="not both"):
        P.explore(ConvOperator(np.ones((3, 3)), (5, 5)), stride=2)
    with pytest.raises(TypeError, match="ConvOperator"):
        P.explore(np.ones((3, 3)))
    with pytest.raises(TypeError, match="input_shape"):
        P.explore(kernel_shape=(3, 3))
    with pytest.raises(ValueError, match="stride"):  # the library's own message
        P.explore(input_shape=(5, 5), kernel_shape=(3, 3), stride=0)
    ex = P.explore(input_shape=(5, 5), kernel_shape=(3, 3), spectrum=False)
    with pytest.raises(ValueError, match="out of range"):
        ex.point_output((3, 0))
    with pytest.raises(TypeError, match="multi-index"):
        ex.point_input("a")
    with pytest.raises(ValueError, match="outside the 9×25 matrix"):
        ex.point_entry(9, 0)
    with pytest.raises(TypeError, match="unknown parameter"):
        ex.set_params(strides=2)


def test_cropped_transposed_output_is_refused():
    # conv_transpose's output_padding: the adjoint of a convolution whose output is cropped
    g = make_geometry((3, 3), (7, 7), stride=2, output_size=(2, 2))  # natural: 3×3
    op = ConvOperator.from_geometry(np.ones((3, 3)), g.transpose())
    with pytest.raises(ValueError, match="output_padding"):
        P.explore(op)


def test_docstring_examples_run():
    import doctest

    from convops.plotting import explore as module

    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_explore_is_exported():
    assert "explore" in P.__all__ and P.explore is not None
    assert re.search(r"Small geometries only", P.explore.__doc__)


def test_the_limit_itself_is_accepted():
    ex = P.explore(input_shape=(8, 8), kernel_shape=(3, 3), padding=1, spectrum=False)  # 64×64
    assert ex.operator.shape == (64, 64)
    ex = P.explore(input_shape=(4,), kernel_shape=(3,), padding=30, stride=8, spectrum=False)
    assert ex.model.padded_shape == (1, 64)  # 64 cells along the axis


# ----------------------------------------------------------------------------------------
# convops explore
# ----------------------------------------------------------------------------------------
def test_cli_saves_the_static_picture_with_a_highlight(tmp_path, capsys):
    from PIL import Image

    from convops import cli

    out = tmp_path / "explore.png"
    argv = [
        "explore",
        "--input",
        "5x5",
        "--kernel",
        "3x3",
        "--stride",
        "2",
        "--padding",
        "1",
        "--point",
        "1,1",
        "--save",
        str(out),
    ]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "stride=(2, 2)" in printed
    with Image.open(out) as im:
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
    # the pointed cell's yellow (#ffe066) is in the picture
    assert (np.abs(pixels.astype(int) - [255, 224, 102]).sum(axis=1) < 8).any()


def test_cli_without_a_display_says_what_to_do(capsys):
    from convops import cli

    assert cli.main(["explore", "--input", "5x5", "--kernel", "3x3"]) == 2  # Agg: no window
    err = capsys.readouterr().err
    assert "no interactive matplotlib backend" in err and "--save FILE" in err
    assert cli.main(["explore", "--input", "12x12", "--kernel", "3x3", "--save", "x.png"]) == 2
    assert "at most 64 rows and 64 columns" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("input_shape", "kernel", "kwargs"),
    [
        ((6,), [1.0, -2.0, 1.0], dict(stride=2, padding=(1, 2), boundary="reflect")),
        ((5, 6), [[1.0, 2.0], [3.0, 4.0]], dict(padding=(1, 2), dilation=(1, 2))),
        ((5, 6), [[1.0, 2.0], [3.0, 4.0]], dict(padding=((0, 1), 2), stride=(2, 1))),
        ((5, 5), [[1.0, 2.0], [3.0, 4.0]], dict(padding="valid", boundary="circular")),
    ],
)
def test_hint_command_opens_the_same_view(input_shape, kernel, kwargs):
    """The command the static picture names builds the operator the picture shows."""
    from convops import cli

    w = np.array(kernel)
    ex = P.explore(input_shape=input_shape, kernel=w, transposed=True, **kwargs)
    command = ex.command_line().split()[2:]
    values = "--values=" + ",".join(map(str, w.ravel()))
    args = cli.build_parser().parse_args(["explore", *command, values])
    op = ConvOperator(
        args.values.reshape(tuple(args.kernel)),
        tuple(args.input),
        stride=args.stride,
        padding=args.padding,
        dilation=args.dilation,
        boundary=args.boundary,
    ).H
    assert args.transpose
    assert np.array_equal(op.matrix().toarray(), ex.operator.matrix().toarray())
    # and the controls show the same texts: submitting them changes nothing
    ex2 = P.explore(input_shape=input_shape, kernel=w, controls=True, **kwargs)
    before = ex2.operator
    ex2.controls["padding"].set_val(ex2.controls["padding"].text + " ")
    assert ex2.error is None and ex2.operator is before  # no rebuild: the same parameters
