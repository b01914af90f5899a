"""Claims about the views in convops.plotting (Agg backend, set in conftest).

Every expected value comes from outside the code under test: hand-written matrices (the 3×3
kernel 1…9 on a 4×4 image), the brute-force reference in tests/reference.py, numpy's FFT, or
hand-derived counts.
"""

import shutil

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image
from reference import dense_of_geometry
from scipy.sparse.linalg import aslinearoperator

from convops import ConvOperator, make_geometry, structure
from convops import plotting as P
from convops.testing.strategies import conv_specs
from convops.text import format_value

# the 4×16 matrix of the 3×3 kernel 1…9 on a 4×4 image (the example of the transposed-
# convolution literature), written out by hand
EXAMPLE_MATRIX = np.array(
    [
        [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
        [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0],
        [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9],
    ]
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def example_op():
    return ConvOperator(np.arange(1, 10).reshape(3, 3), (4, 4))


def cell_texts(ax) -> dict:
    """``{(row, col): text}`` of the values printed in matrix/overlap cells."""
    out = {}
    for t in ax.texts:
        if t.get_gid() == "convops.cell":
            x, y = t.get_position()
            out[(round(float(y)), round(float(x)))] = t.get_text()
    return out


def line_positions(ax, gid):
    """(horizontal y positions, vertical x positions) of a block-line collection."""
    hs, vs = [], []
    for coll in ax.collections:
        if coll.get_gid() != gid:
            continue
        for seg in coll.get_segments():
            (x0, y0), (x1, y1) = seg
            if y0 == y1:
                hs.append(y0)
            else:
                assert x0 == x1
                vs.append(x0)
    return sorted(hs), sorted(vs)


def rendered_variance(fig) -> float:
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    return float(pixels.var())


def pixel_at(ax, x, y):
    """RGB of the rendered pixel at data coordinates (x, y)."""
    fig = ax.figure
    fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    img = np.asarray(fig.canvas.buffer_rgba())
    return img[img.shape[0] - round(float(py)) - 1, round(float(px)), :3]


# ----------------------------------------------------------------------------------------
# plot_matrix: the numbers in the cells are the matrix entries
# ----------------------------------------------------------------------------------------
class TestMatrixCells:
    def test_example_matrix_printed_as_integers_with_blank_zeros(self):
        ax = P.plot_matrix(example_op())
        texts = cell_texts(ax)
        expected = {(i, j): str(v) for (i, j), v in np.ndenumerate(EXAMPLE_MATRIX) if v != 0}
        assert texts == expected  # every nonzero as an integer, nothing in the zero cells

    def test_transpose_prints_the_transposed_entries(self):
        ax = P.plot_matrix(example_op().H)
        expected = {(i, j): str(v) for (i, j), v in np.ndenumerate(EXAMPLE_MATRIX.T) if v != 0}
        assert cell_texts(ax) == expected

    @pytest.mark.parametrize("kind", ["op", "sparse", "dense", "list", "coo"])
    def test_same_cells_for_every_kind_of_input(self, kind):
        A = example_op()
        obj = {
            "op": A,
            "sparse": sp.csr_matrix(EXAMPLE_MATRIX),
            "dense": EXAMPLE_MATRIX.astype(float),
            "list": EXAMPLE_MATRIX.tolist(),
            "coo": sp.coo_array(EXAMPLE_MATRIX),
        }[kind]
        ax = P.plot_matrix(obj)
        expected = {(i, j): str(v) for (i, j), v in np.ndenumerate(EXAMPLE_MATRIX) if v != 0}
        assert cell_texts(ax) == expected

    @pytest.mark.parametrize("precision", [1, 2, 3])
    def test_floats_with_the_stated_precision(self, precision):
        rng = np.random.default_rng(3)
        w = rng.standard_normal((3, 3))
        A = ConvOperator(w, (5, 5), stride=2, padding=1)
        dense = dense_of_geometry(w, A.geometry)
        ax = P.plot_matrix(A, precision=precision)
        texts = cell_texts(ax)
        assert set(texts) == {tuple(ij) for ij in np.argwhere(dense != 0)}
        for (i, j), t in texts.items():
            assert len(t.split(".")[1]) == precision
            assert abs(float(t) - dense[i, j]) <= 0.5 * 10.0**-precision + 1e-12

    def test_stored_zeros_stay_blank_and_white(self):
        M = sp.csr_array(
            (np.array([0.0, 2.0, -3.0]), np.array([0, 1, 2]), np.array([0, 2, 3])), shape=(2, 3)
        )
        ax = P.plot_matrix(M)
        assert cell_texts(ax) == {(0, 1): "2", (1, 2): "-3"}
        assert tuple(pixel_at(ax, 0, 0)) == (255, 255, 255)  # the stored zero
        assert tuple(pixel_at(ax, 0, 2)) == (255, 255, 255)  # a structural zero
        assert tuple(pixel_at(ax, 1, 0)) != (255, 255, 255)

    def test_signed_values_use_a_colour_map_centred_on_zero(self):
        ax = P.plot_matrix(np.array([[1.0, -4.0], [0.0, 2.0]]))
        norm = ax.images[0].norm
        assert norm.vmin == -4.0 and norm.vmax == 4.0
        assert np.allclose(ax.images[0].cmap(norm(0.0))[:3], 1.0, atol=0.04)  # zero is white

    def test_no_values_for_large_matrices_unless_asked(self):
        A = ConvOperator(np.ones((3, 3)), (8, 8))  # 36×64
        assert cell_texts(P.plot_matrix(A)) == {}
        assert len(cell_texts(P.plot_matrix(A, annotate=True))) == A.matrix().nnz

    def test_complex_entries_drawn_by_modulus(self):
        A = ConvOperator(np.array([1 + 1j, 2.0, 0.5j]), (4,))
        texts = cell_texts(P.plot_matrix(A, precision=3))
        dense = A.matrix().toarray()
        assert {k: float(v) for k, v in texts.items()} == pytest.approx(
            {tuple(ij): round(abs(dense[tuple(ij)]), 3) for ij in np.argwhere(dense != 0)}, abs=1e-3
        )


class TestMatrixBlocksAndLabels:
    def test_example_block_lines_between_input_rows(self):
        ax = P.plot_matrix(example_op())
        hs, vs = line_positions(ax, "convops.blocks")
        # rows: output rows of 2 entries; columns: input rows of 4 entries
        assert hs == [1.5] and vs == [3.5, 7.5, 11.5]
        assert line_positions(ax, "convops.channel-blocks") == ([], [])

    def test_transpose_swaps_the_blocks(self):
        ax = P.plot_matrix(example_op().H)
        hs, vs = line_positions(ax, "convops.blocks")
        assert hs == [3.5, 7.5, 11.5] and vs == [1.5]

    def test_multichannel_channel_and_toeplitz_blocks(self):
        # kernel (C_out=2, C_in=3, 3, 3) on (3, 4, 5): output (2, 2, 3), input (3, 4, 5)
        A = ConvOperator(np.ones((2, 3, 3, 3)), (3, 4, 5))
        ax = P.plot_matrix(A, annotate=False)
        assert line_positions(ax, "convops.channel-blocks") == ([5.5], [19.5, 39.5])
        hs, vs = line_positions(ax, "convops.blocks")
        assert hs == [2.5, 8.5]
        assert vs == [v - 0.5 for v in range(5, 60, 5) if v not in (20, 40)]

    def test_one_dimensional_has_no_block_lines(self):
        ax = P.plot_matrix(ConvOperator(np.ones(3), (6,)))
        assert line_positions(ax, "convops.blocks") == ([], [])

    def test_plain_matrix_with_given_blocks(self):
        ax = P.plot_matrix(np.arange(1, 25).reshape(4, 6), blocks=(2, 3))
        assert line_positions(ax, "convops.blocks") == ([1.5], [2.5])

    def test_tick_labels_name_multi_indices(self):
        ax = P.plot_matrix(example_op())
        xl = [t.get_text() for t in ax.get_xticklabels()]
        yl = [t.get_text() for t in ax.get_yticklabels()]
        assert xl == [f"x[{i},{j}]" for i in range(4) for j in range(4)]
        assert yl == ["y[0,0]", "y[0,1]", "y[1,0]", "y[1,1]"]
        ax = P.plot_matrix(example_op().H)
        assert [t.get_text() for t in ax.get_yticklabels()][5] == "x[1,1]"
        assert [t.get_text() for t in ax.get_xticklabels()][2] == "y[1,0]"

    def test_multichannel_labels_carry_the_channel(self):
        A = ConvOperator(np.ones((2, 2, 3)), (2, 5), padding=1)
        ax = P.plot_matrix(A)
        xl = [t.get_text() for t in ax.get_xticklabels()]
        assert xl[0] == "x₀[0]" and xl[7] == "x₁[2]"

    def test_draws_into_a_given_axes(self):
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        assert P.plot_matrix(example_op(), ax=a) is a
        assert P.plot_matrix(example_op().H, ax=b, colorbar=False) is b
        assert len(cell_texts(a)) == np.count_nonzero(EXAMPLE_MATRIX)
        assert rendered_variance(fig) > 0


# ----------------------------------------------------------------------------------------
# spy
# ----------------------------------------------------------------------------------------
class TestSpy:
    def test_small_pattern_is_exact(self):
        A = ConvOperator(np.ones((3, 3)), (6, 6), stride=2, padding=1)
        ax = P.spy(A)
        img = np.asarray(ax.images[0].get_array())
        assert np.array_equal(img.astype(bool), dense_of_geometry(np.ones((3, 3)), A.geometry) != 0)
        hs, vs = line_positions(ax, "convops.blocks")
        assert hs == [2.5, 5.5] and vs == [5.5 + 6 * i for i in range(5)]

    def test_stored_zeros_are_not_marked(self):
        M = sp.csr_array(
            (np.array([0.0, 1.0]), np.array([0, 1]), np.array([0, 1, 2])), shape=(2, 2)
        )
        img = np.asarray(P.spy(M).images[0].get_array())
        assert img.tolist() == [[0, 0], [0, 1]]

    def test_large_sparse_matrix_binned_and_not_blank(self):
        A = ConvOperator(np.ones((3, 3)), (64, 64), padding=1)  # 4096 × 4096
        ax = P.spy(A)
        img = np.asarray(ax.images[0].get_array())
        assert img.shape[0] < 4096 and img.any()
        assert ax.get_xlim() == (-0.5, 4095.5)
        assert rendered_variance(ax.figure) > 0

    def test_dense_input_and_transpose(self):
        ax = P.spy(EXAMPLE_MATRIX.T)
        assert np.array_equal(
            np.asarray(ax.images[0].get_array()).astype(bool), EXAMPLE_MATRIX.T != 0
        )
        ax = P.spy(example_op().H)
        assert line_positions(ax, "convops.blocks") == ([3.5, 7.5, 11.5], [1.5])


# ----------------------------------------------------------------------------------------
# animate: frame counts, the values it computes, the GIF
# ----------------------------------------------------------------------------------------
def _frames(anim) -> int:
    return len(list(anim.new_frame_seq()))


class TestAnimate:
    @pytest.mark.parametrize(
        "kernel, n, kwargs, m",
        [
            ((3, 3), (5, 5), dict(stride=2, padding=1), (3, 3)),
            ((2, 3), (6, 5), dict(stride=(2, 1), padding=((1, 0), 2), dilation=(1, 2)), (3, 5)),
            ((3,), (7,), dict(stride=2, padding=1), (4,)),
            ((2, 2), (4, 4), dict(padding=1, boundary="circular"), (5, 5)),
        ],
    )
    def test_one_frame_per_output_and_per_input_of_the_transpose(self, kernel, n, kwargs, m):
        A = ConvOperator(np.ones(kernel), n, **kwargs)
        assert A.geometry.spatial_out == m
        for op, count in [(A, np.prod(m)), (A.H, np.prod(m))]:
            anim = P.animate(op)
            assert isinstance(anim, FuncAnimation)
            assert anim.frame_count == count == _frames(anim)
        if A.geometry.boundary == "zeros":
            anim = P.animate(A.H, fractional=True)
            assert anim.frame_count == np.prod(n) == _frames(anim)

    def test_saved_gif_has_one_image_per_frame(self, tmp_path):
        A = ConvOperator(np.array([1.0, 2.0, 3.0]), (6,), stride=2, padding=1)  # 3 outputs
        for op, name in [(A, "a.gif"), (A.H, "ah.gif")]:
            anim = P.animate(op, interval=100)
            path = P.save_animation(anim, tmp_path / name, dpi=40)
            with Image.open(path) as im:
                assert im.n_frames == anim.frame_count == 3

    def test_fractional_gif(self, tmp_path):
        A = ConvOperator(np.ones((2, 2)), (2, 3), stride=2)  # 1×1 output; 6 fractional frames
        anim = P.animate(A.H, fractional=True)
        path = P.save_animation(anim, tmp_path / "f.gif", fps=5, dpi=30)
        with Image.open(path) as im:
            assert im.n_frames == 6

    def test_complex_kernel_scatters_the_conjugate(self):
        w = np.array([1 + 2j, -1j, 0.5])
        A = ConvOperator(w, (6,), stride=2, padding=(2, 1))
        dense = dense_of_geometry(w, A.geometry)
        y = np.array([1.0, 2.0, -1.0, 3.0])  # m = (6 + 3 − 3)//2 + 1 = 4
        np.testing.assert_allclose(P.animate(A.H, data=y).result, dense.conj().T @ y)
        np.testing.assert_allclose(
            P.animate(A.H, data=y, fractional=True).result, dense.conj().T @ y
        )
        np.testing.assert_allclose(P.animate(A.T, data=y).result, dense.T @ y)  # plain transpose

    # three figures per example: fewer examples than the profile keep this file fast
    @settings(max_examples=25)
    @given(spec=conv_specs(max_ndim=2, multichannel=False))
    def test_the_pictured_sums_are_the_convolution(self, spec):
        rng = np.random.default_rng(0)
        w = rng.integers(-2, 3, spec.kernel_shape).astype(float)
        A = ConvOperator(w, spec.input_shape, **spec.kwargs)
        dense = dense_of_geometry(w, A.geometry)
        x = rng.integers(0, 4, A.input_shape).astype(float)
        y = rng.integers(0, 4, A.output_shape).astype(float)
        forward = P.animate(A, data=x)
        np.testing.assert_allclose(forward.result.ravel(), dense @ x.ravel(), atol=1e-9)
        scatter = P.animate(A.H, data=y)
        np.testing.assert_allclose(scatter.result.ravel(), dense.T @ y.ravel(), atol=1e-9)
        if A.geometry.boundary == "zeros":
            frac = P.animate(A.H, data=y, fractional=True)
            np.testing.assert_allclose(frac.result.ravel(), dense.T @ y.ravel(), atol=1e-9)
        plt.close("all")

    def test_fractional_with_output_padding_crop(self):
        # conv_transpose's output_padding: the convolution's output cropped to 3 of 4
        g = make_geometry((3,), (8,), stride=2, padding=1, output_size=(3,))
        w = np.array([1.0, -2.0, 3.0])
        A = ConvOperator.from_geometry(w, g)
        y = np.array([1.0, 2.0, 3.0])
        anim = P.animate(A.H, data=y, fractional=True)
        np.testing.assert_allclose(anim.result, dense_of_geometry(w, g).T @ y)
        assert anim.frame_count == 8

    def test_last_frame_shows_the_output_values(self):
        w = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
        A = ConvOperator(w, (5, 5), stride=2, padding=1)
        x = np.arange(25.0).reshape(5, 5) % 4
        anim = P.animate(A, data=x)
        anim.draw_frame(anim.frame_count - 1)
        shown = sorted(
            float(t.get_text())
            for t in anim.figure.axes[0].texts
            if t.get_gid() == "convops.running-value"
        )
        assert shown == sorted((dense_of_geometry(w, A.geometry) @ x.ravel()).tolist())
        assert rendered_variance(anim.figure) > 0

    def test_the_figure_is_a_documented_attribute_with_frame_zero_drawn(self):
        A = ConvOperator(np.ones((2, 2)), (3, 3))  # 2×2 output: 4 frames
        anim = P.animate(A, data=np.arange(9.0).reshape(3, 3), interval=250)
        assert isinstance(anim, P.ConvAnimation) and isinstance(anim.figure, Figure)
        assert anim.interval == 250
        captions = [
            t.get_text() for t in anim.figure.axes[0].texts if t.get_text().startswith("frame ")
        ]
        # by hand: y[0,0] = x[0,0] + x[0,1] + x[1,0] + x[1,1] = 0 + 1 + 3 + 4
        assert captions == [
            "frame 1/4:  y[0,0] = Σₜ w[t]·x̃[0,0·s + t·d] = 1·0 + 1·1 + 1·3 + 1·4 = 8"
        ]
        with pytest.raises(ValueError, match="frame=4 is not allowed"):
            anim.draw_frame(4)

    @pytest.mark.filterwarnings("error")
    def test_discarding_an_animation_does_not_warn(self):
        import gc

        P.animate(ConvOperator(np.ones(3), (5,)))
        gc.collect()  # matplotlib's "deleted without rendering" warning would be an error here

    def test_mp4_needs_ffmpeg(self, tmp_path):
        anim = P.animate(ConvOperator(np.ones(2), (3,)))
        if shutil.which("ffmpeg"):
            pytest.skip("ffmpeg is installed here")
        with pytest.raises(RuntimeError, match="ffmpeg"):
            P.save_animation(anim, tmp_path / "a.mp4")

    def test_bad_arguments(self, tmp_path):
        A3 = ConvOperator(np.ones((2, 2, 2)), (3, 3, 3))
        with pytest.raises(ValueError, match="2-D slice"):
            P.animate(A3)
        with pytest.raises(ValueError, match="single-channel"):
            P.animate(ConvOperator(np.ones((2, 1, 3)), (1, 5)))
        with pytest.raises(TypeError, match="ConvOperator"):
            P.animate(np.ones((3, 3)))
        A = ConvOperator(np.ones((2, 2)), (4, 4), padding=1, boundary="circular")
        with pytest.raises(ValueError, match=r"op\.H"):
            P.animate(A, fractional=True)
        with pytest.raises(ValueError, match="scatter view"):
            P.animate(A.H, fractional=True)
        with pytest.raises(ValueError, match="data of shape"):
            P.animate(A, data=np.ones((3, 3)))
        anim = P.animate(A)
        with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
            P.save_animation(anim, tmp_path / "a.png")
        with pytest.raises(TypeError, match="fractional must be True or False"):
            P.animate(A.H, fractional="yes")
        with pytest.raises(ValueError, match="values='some'"):
            P.animate(A, values="some")
        with pytest.raises(ValueError, match="precision=-1"):
            P.animate(A, precision=-1)
        with pytest.raises(TypeError, match="precision must be an int"):
            P.animate(A, precision=1.5)
        with pytest.raises(ValueError, match="interval=-100 is not allowed: it must be > 0"):
            P.animate(A, interval=-100)
        with pytest.raises(ValueError, match="interval=0 is not allowed"):
            P.animate(A, interval=0)
        with pytest.raises(TypeError, match="interval must be a real number; got '700'"):
            P.animate(A, interval="700")
        with pytest.raises(ValueError, match="fps=0 is not allowed: it must be > 0"):
            P.save_animation(anim, tmp_path / "a.gif", fps=0)
        with pytest.raises(TypeError, match="fps must be a real number"):
            P.save_animation(anim, tmp_path / "a.gif", fps="5")
        with pytest.raises(ValueError, match="dpi=-1 is not allowed"):
            P.save_animation(anim, tmp_path / "a.gif", dpi=-1)
        with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike"):
            P.save_animation(anim, 5)
        with pytest.raises(TypeError, match="anim must be a matplotlib Animation"):
            P.save_animation(A, tmp_path / "a.gif")


# ----------------------------------------------------------------------------------------
# overlap counts of the transposed convolution
# ----------------------------------------------------------------------------------------
class TestOverlap:
    @given(spec=conv_specs())
    def test_counts_are_column_sums_of_the_pattern(self, spec):
        ones = np.ones(spec.kernel_shape)
        A = ConvOperator(ones, spec.input_shape, **spec.kwargs)
        g = A.geometry
        # brute force: all-ones kernel, column sums count every (output, tap) with multiplicity
        ref = dense_of_geometry(ones, g).sum(axis=0).reshape(g.conv_input_shape)
        counts = P.overlap_counts(A.H, channels=True)
        np.testing.assert_array_equal(counts, ref)
        spatial = P.overlap_counts(A)
        assert spatial.shape == g.spatial_in
        if g.multichannel:
            np.testing.assert_array_equal(spatial * (g.out_channels // g.groups), ref[0])
        if g.boundary == "zeros":  # no folding: the 0/1 pattern of the sparse matrix gives the same
            pattern = sp.csr_array(A.matrix(), copy=True)
            pattern.data[:] = 1
            np.testing.assert_array_equal(counts.ravel(), pattern.sum(axis=0))

    def test_three_by_three_stride_two_is_a_checkerboard(self):
        A = ConvOperator(np.ones((3, 3)), (9, 9), stride=2, padding=1)
        per_axis = np.array([1, 2, 1, 2, 1, 2, 1, 2, 1])  # by hand: odd pixels get 2 taps
        np.testing.assert_array_equal(P.overlap_counts(A.H), np.outer(per_axis, per_axis))
        ax = P.plot_overlap(A.H)
        assert "uneven" in ax.get_title()
        texts = cell_texts(ax)
        assert texts == {(i, j): str(per_axis[i] * per_axis[j]) for i in range(9) for j in range(9)}

    def test_four_by_four_stride_two_is_even_inside(self):
        A = ConvOperator(np.ones((4, 4)), (10, 10), stride=2, padding=1)
        per_axis = np.array([1] + [2] * 8 + [1])  # by hand: borders lose one tap
        counts = P.overlap_counts(A.H)
        np.testing.assert_array_equal(counts, np.outer(per_axis, per_axis))
        assert np.unique(counts[1:-1, 1:-1]).tolist() == [4]
        title = P.plot_overlap(A.H).get_title()
        assert "even: 4 in the interior" in title and "uneven" not in title

    def test_four_by_four_stride_two_circular_is_even_everywhere(self):
        # circular with lo + hi = k − s: the placements tile the torus
        A = ConvOperator(np.ones((4, 4)), (10, 10), stride=2, padding=1, boundary="circular")
        np.testing.assert_array_equal(P.overlap_counts(A), np.full((10, 10), 4))
        assert "4 everywhere" in P.plot_overlap(A).get_title()
        B = ConvOperator(
            np.ones((3, 3)), (10, 10), stride=2, padding=((0, 1), (0, 1)), boundary="circular"
        )
        assert np.unique(P.overlap_counts(B)).tolist() == [1, 2, 4]

    def test_one_dimensional_bars(self):
        A = ConvOperator(np.ones(3), (7,), stride=2, padding=1)
        ax = P.plot_overlap(A)
        heights = [p.get_height() for p in ax.patches]
        assert heights == [1, 2, 1, 2, 1, 2, 1]
        assert rendered_variance(ax.figure) > 0

    def test_counts_are_the_structure_modules(self):
        assert P.overlap_counts is structure.overlap_counts

    def test_bad_arguments(self):
        with pytest.raises(TypeError, match="ConvOperator"):
            P.overlap_counts(np.ones((3, 3)))
        with pytest.raises(ValueError, match="3-D"):
            P.plot_overlap(ConvOperator(np.ones((2, 2, 2)), (4, 4, 4)))


# ----------------------------------------------------------------------------------------
# spectra: the drawn curves are numpy's DFT of the kernel
# ----------------------------------------------------------------------------------------
def _line(fig, gid):
    for ax in fig.axes:
        for artist in ax.lines + ax.collections:
            if artist.get_gid() == gid:
                return artist
    raise AssertionError(f"no artist {gid!r}")


def _dilated(w, d, N):
    wd = np.zeros(N)
    wd[: d * (len(w) - 1) + 1 : d] = w
    return wd


class TestSpectrum:
    @pytest.mark.parametrize("flip", [False, True])
    @pytest.mark.parametrize("conjugate", [False, True])
    def test_magnitude_and_phase_are_the_kernel_dft(self, flip, conjugate):
        w, d, N = np.array([1.0, 3.0, -1.0, 0.5]), 2, 32
        fig = P.plot_spectrum(w, (N,), dilation=d, flip=flip, conjugate=conjugate)
        F = np.fft.fft(_dilated(w, d, N))
        # cross-correlation multiplies by conj(F), convolution (flip) by F; conjugate negates
        H = F if flip else np.conj(F)
        H = np.conj(H) if conjugate else H
        mag = _line(fig, "convops.magnitude").get_ydata()
        phase = _line(fig, "convops.phase").get_ydata()
        np.testing.assert_allclose(
            _line(fig, "convops.magnitude").get_xdata(), np.fft.fftshift(np.fft.fftfreq(N))
        )
        np.testing.assert_allclose(mag, np.abs(np.fft.fftshift(H)), atol=1e-12)
        ok = ~np.isnan(phase)
        diff = np.angle(np.exp(1j * (phase[ok] - np.angle(np.fft.fftshift(H))[ok])))
        np.testing.assert_allclose(diff, 0, atol=1e-9)

    def test_folding_and_replication_for_a_stride(self):
        w, s, N = np.array([1.0, 2.0, 1.0, -0.5]), 2, 16
        fig = P.plot_spectrum(w, (N,), stride=s)
        assert len(fig.axes) == 4
        # the strided periodic correlation of a unit impulse, by brute force
        z = np.zeros(N)
        for t, wt in enumerate(w):  # x̃[p] = Σ_t w[t] δ[(p + t) mod N]: w[t] lands at p = −t
            z[(-t) % N] += wt
        Y = np.fft.fft(z[::s])
        np.testing.assert_allclose(
            _line(fig, "convops.folded").get_ydata(), np.abs(np.fft.fftshift(Y)), atol=1e-12
        )
        # zero insertion tiles Y; the transposed conv then multiplies by conj(Ĥ) = fft(w)
        tiled = np.tile(Y, s)
        expected = np.abs(np.fft.fftshift(np.fft.fft(_dilated(w, 1, N)) * tiled))
        np.testing.assert_allclose(
            _line(fig, "convops.replicated").get_ydata(), expected, atol=1e-12
        )

    def test_two_dimensional_images(self):
        rng = np.random.default_rng(1)
        w = rng.standard_normal((3, 2))
        fig = P.plot_spectrum(w, (8, 6), stride=2)
        assert len([a for a in fig.axes if a.images]) == 4
        F = np.fft.fft2(w, (8, 6))
        mag = fig.axes[0].images[0].get_array()
        np.testing.assert_allclose(mag, np.abs(np.fft.fftshift(F)), atol=1e-12)
        z = np.zeros((8, 6))
        for (a, b), wt in np.ndenumerate(w):
            z[(-a) % 8, (-b) % 6] += wt
        folded = [a for a in fig.axes if a.images][2].images[0].get_array()
        np.testing.assert_allclose(
            folded, np.abs(np.fft.fftshift(np.fft.fft2(z[::2, ::2]))), atol=1e-12
        )
        assert rendered_variance(fig) > 0

    def test_operator_gives_grid_and_conjugate(self):
        A = ConvOperator(np.array([1.0, 2.0, 0.5]), (10,), dilation=2)
        fig = P.plot_spectrum(A.H)
        N = A.geometry.fft_shape[0]
        mag = _line(fig, "convops.magnitude").get_ydata()
        assert mag.size == N
        np.testing.assert_allclose(
            mag, np.abs(np.fft.fftshift(np.fft.fft(_dilated([1.0, 2.0, 0.5], 2, N)))), atol=1e-12
        )
        assert "conj" in fig.axes[0].get_title()

    def test_single_axes_gets_the_magnitude(self):
        fig, ax = plt.subplots()
        assert P.plot_spectrum(np.ones(3), ax=ax) is fig
        assert len(ax.lines) == 1 and len(fig.axes) == 1

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="pad the grid to 18"):
            P.plot_spectrum(np.ones(3), (17,), stride=3)
        with pytest.raises(ValueError, match="1-D and 2-D"):
            P.plot_spectrum(np.ones((2, 2, 2)), (4, 4, 4))
        with pytest.raises(ValueError, match="shape="):
            P.plot_spectrum(np.ones((2, 2, 3)))
        with pytest.raises(ValueError, match=r"2 Axes|one per panel"):
            P.plot_spectrum(np.ones(3), ax=[plt.subplots()[1]])
        with pytest.raises(TypeError, match="flip must be True or False"):
            P.plot_spectrum(np.ones(3), flip="yes")
        with pytest.raises(TypeError, match="conjugate must be True or False"):
            P.plot_spectrum(np.ones(3), conjugate=1)
        with pytest.raises(ValueError, match=r"stride=.* has 2 entries"):
            P.plot_spectrum(np.ones(3), (8,), stride=(2, 2))
        with pytest.raises(TypeError, match="shape must be a tuple of ints"):
            P.plot_spectrum(np.ones(3), (8.0,))
        with pytest.raises(ValueError, match=r"shape=.* has 2 entries; the operator has 1"):
            P.plot_spectrum(ConvOperator(np.ones(3), (8,)), (8, 8))


# ----------------------------------------------------------------------------------------
# every view draws something and refuses what it cannot draw
# ----------------------------------------------------------------------------------------
class TestViewsDrawAndRefuse:
    def test_each_view_renders_a_non_blank_image(self):
        A = ConvOperator(np.arange(1.0, 10).reshape(3, 3), (5, 5), stride=2, padding=1)
        figs = [
            P.plot_matrix(A).figure,
            P.spy(A.H).figure,
            P.plot_overlap(A.H).figure,
            P.plot_spectrum(A),
            P.animate(A.H, fractional=True).figure,
        ]
        for fig in figs:
            assert rendered_variance(fig) > 0

    @pytest.mark.parametrize(
        "bad, error, match",
        [
            (np.arange(5.0), ValueError, "2-D"),
            (np.ones((2, 3, 4)), ValueError, "2-D"),
            (np.ones((0, 3)), ValueError, "empty"),
            ("abc", TypeError, "ConvOperator"),
            (None, TypeError, "ConvOperator"),
            (aslinearoperator(np.eye(3)), TypeError, "LinearOperator"),
            (make_geometry((3,), (5,)), TypeError, "ConvGeometry"),
        ],
    )
    def test_matrix_views_refuse_non_matrices(self, bad, error, match):
        for view in (P.plot_matrix, P.spy):
            with pytest.raises(error, match=match):
                view(bad)

    def test_matrix_argument_errors(self):
        with pytest.raises(ValueError, match="blocks="):
            P.plot_matrix(EXAMPLE_MATRIX, blocks=(0, 2))
        with pytest.raises(ValueError, match="precision="):
            P.plot_matrix(EXAMPLE_MATRIX, precision=-1)
        with pytest.raises(TypeError, match="ax must be"):
            P.plot_matrix(EXAMPLE_MATRIX, ax="left")
        with pytest.raises(ValueError, match="spy"):
            P.plot_matrix(sp.eye_array(3000, format="csr"))
        with pytest.raises(ValueError, match="part='phase' is not allowed"):
            P.plot_matrix(EXAMPLE_MATRIX, part="phase")
        with pytest.raises(ValueError, match="annotate='yes' is not allowed"):
            P.plot_matrix(EXAMPLE_MATRIX, annotate="yes")
        with pytest.raises(TypeError, match="colorbar must be True or False"):
            P.plot_matrix(EXAMPLE_MATRIX, colorbar="no")
        with pytest.raises(ValueError, match="annotate=2 is not allowed"):
            P.plot_overlap(example_op(), annotate=2)

    def test_no_view_calls_show(self, monkeypatch):
        def fail(*args, **kwargs):
            raise AssertionError("plt.show() was called")

        monkeypatch.setattr(plt, "show", fail)
        A = ConvOperator(np.ones((2, 2)), (3, 3))
        P.plot_matrix(A), P.spy(A), P.plot_overlap(A), P.plot_spectrum(A), P.animate(A)


@pytest.mark.filterwarnings("error")
def test_complex_kernels_animate_without_warnings_and_format_both_parts():
    assert format_value(1.5 - 0.25j, 2) == "1.50-0.25j"
    assert format_value(3 + 0j, 2) == "3"
    op = ConvOperator(np.array([1 + 1j, 2, 3j]), (5,))
    for o in (op, op.H):
        anim = P.animate(o)
        for i in range(anim.frame_count):
            anim.draw_frame(i)  # a ComplexWarning here would fail the test


def test_docstring_examples_run():
    import doctest

    from convops.plotting import animation, matrix, spectrum

    for module in (matrix, animation, spectrum):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, module.__name__
