"""Claim: bad input is refused with a ValueError or TypeError that names the parameter, the
value given and what is allowed — never an IndexError, a hang or a silently wrong shape."""

import numpy as np
import pytest

from convops import ConvOperator, conv, conv2d, conv_matrix, conv_transpose, conv_transpose2d

K3 = np.ones((3, 3))


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(stride=0), ValueError, ["stride=0", ">= 1"]),
        (dict(stride=(1, -1)), ValueError, ["stride=(1, -1)", ">= 1"]),
        (dict(stride=1.5), TypeError, ["stride", "1.5", "int"]),
        (dict(stride="2"), TypeError, ["stride", "'2'"]),
        (dict(stride=(1, 2, 3)), ValueError, ["stride=(1, 2, 3)", "3 entries", "2"]),
        (dict(dilation=0), ValueError, ["dilation=0", ">= 1"]),
        (dict(dilation=2.0), TypeError, ["dilation", "2.0"]),
        (dict(padding=-1), ValueError, ["padding=-1", ">= 0"]),
        (dict(padding=((1, -2), 0)), ValueError, ["padding=((1, -2), 0)", ">= 0"]),
        (dict(padding="sam"), ValueError, ["padding='sam'", "'valid'", "'same'", "'full'"]),
        (dict(padding=(1, 2, 3)), ValueError, ["padding=(1, 2, 3)", "3 entries", "expected 2"]),
        (dict(padding=1.5), TypeError, ["padding=1.5"]),
        (dict(padding=((1, 2, 3), 0)), TypeError, ["padding=((1, 2, 3), 0)", "(lo, hi)"]),
        (dict(boundary="wrap"), ValueError, ["boundary='wrap'", "circular", "reflect"]),
        (dict(method="gpu"), ValueError, ["method='gpu'", "direct", "fft", "matrix"]),
        (
            dict(padding="same", stride=2),
            ValueError,
            ["padding='same'", "stride", "explicit padding"],
        ),
        (dict(padding=5, boundary="circular"), ValueError, ["boundary='circular'", "at most 4"]),
        (dict(padding=4, boundary="reflect"), ValueError, ["boundary='reflect'", "at most 3"]),
        (dict(flip="yes"), TypeError, ["flip", "'yes'"]),
        (dict(groups=2), ValueError, ["groups=2", "single-channel"]),
    ],
)
def test_bad_parameters_are_named(kwargs, exc, words):
    with pytest.raises(exc) as info:
        ConvOperator(K3, (4, 4), **kwargs)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_widest_allowed_boundary_padding_is_accepted():
    ConvOperator(K3, (4, 4), padding=4, boundary="circular")
    ConvOperator(K3, (4, 4), padding=3, boundary="reflect")
    ConvOperator(K3, (4, 4), padding=10, boundary="replicate")


def test_kernel_that_does_not_fit():
    with pytest.raises(ValueError, match=r"kernel does not fit.*length 2 \+ 0 \+ 0 = 2.*spans 3"):
        conv(np.ones((2, 5)), K3)
    with pytest.raises(ValueError, match="spans 5"):
        conv(np.ones(4), np.ones(3), dilation=2)


def test_output_padding_must_be_below_max_of_stride_and_dilation():
    with pytest.raises(ValueError, match=r"output_padding=2 .*max\(stride, dilation\) = 2"):
        conv_transpose(np.ones((3, 3)), K3, stride=2, output_padding=2)
    conv_transpose(np.ones((3, 3)), K3, stride=1, dilation=3, output_padding=2)  # allowed


def test_groups_and_channels():
    x = np.ones((1, 4, 5, 5))
    with pytest.raises(ValueError, match="groups=3 must divide both channel counts"):
        conv2d(x, np.ones((6, 1, 3, 3)), groups=3)
    with pytest.raises(ValueError, match=r"expects 3 input channels.*has 4"):
        conv2d(x, np.ones((6, 3, 3, 3)))
    with pytest.raises(ValueError, match="groups=0"):
        conv2d(x, np.ones((4, 4, 3, 3)), groups=0)
    with pytest.raises(ValueError, match="input has 4 channels but the weight"):
        conv_transpose2d(x, np.ones((6, 1, 3, 3)))
    with pytest.raises(ValueError, match="not a conv2d weight"):
        conv2d(x, np.ones((3, 3)))
    with pytest.raises(ValueError, match="not a conv2d input"):
        conv2d(np.ones((5, 5)), np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"bias of shape \(3,\).*\(6,\)"):
        conv2d(x, np.ones((6, 4, 3, 3)), bias=np.ones(3))


def test_string_padding_refused_by_conv_transpose_nd():
    with pytest.raises(ValueError, match="padding='same' is not allowed in conv_transpose2d"):
        conv_transpose2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), padding="same")


def test_shapes_that_do_not_match_the_operator():
    op = ConvOperator(K3, (5, 6))
    with pytest.raises(ValueError, match=r"x of shape \(6, 5\) does not end with .*\(5, 6\)"):
        op.apply(np.ones((6, 5)))
    with pytest.raises(
        ValueError, match=r"x of shape \(29,\) does not fit this 12x30 operator.*\(30,\)"
    ):
        op.matvec(np.ones(29))
    with pytest.raises(ValueError, match=r"x of shape \(30,\) does not fit this 30x12"):
        op.rmatvec(np.ones(30))
    with pytest.raises(ValueError, match=r"X of shape \(29, 2\)"):
        op.matmat(np.ones((29, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        op @ np.ones(31)
    with pytest.raises(ValueError, match="same number of axes"):
        conv(np.ones((4, 4)), np.ones(3))
    with pytest.raises(ValueError, match="1, 2 or 3"):
        ConvOperator(np.ones((1, 1, 1, 1)), (2, 2, 2, 2))
    with pytest.raises(ValueError, match="does not fit input_shape"):
        ConvOperator(np.ones(3), (4, 4))
    with pytest.raises(ValueError, match=r"input_shape=.*>= 1"):
        ConvOperator(np.ones(1), (0,))


@pytest.mark.parametrize(
    "bad", [np.array(["a", "b", "c"]), np.array([object(), 1, 2], dtype=object)]
)
def test_non_numeric_arrays(bad):
    with pytest.raises(TypeError, match="kernel must be a numeric array"):
        ConvOperator(bad, (5,))
    with pytest.raises(TypeError, match="x must be a numeric array"):
        conv(bad, np.ones(2))
    op = ConvOperator(np.ones(2), (3,))
    with pytest.raises(TypeError, match="x must be a numeric array"):
        op.apply(bad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_and_inf_propagate_without_error():
    for method in ("matrix", "direct", "fft"):
        x = np.zeros(8)
        x[3] = np.nan
        y = conv(x, np.ones(3), method=method)
        assert np.isnan(y[1:4]).all()
        if method != "fft":  # the FFT realisation may spread a NaN over everything
            assert np.isfinite(y[[0, 4, 5]]).all()
        k = np.array([1.0, np.inf])
        out = conv(np.ones(4), k, method=method)
        # inf propagates (the FFT turns inf·0 into NaN: still not finite, still no error)
        assert (np.isinf(out) if method != "fft" else ~np.isfinite(out)).all()


def test_dense_form_over_the_limit_is_refused():
    op = ConvOperator(K3, (512, 512))  # 260100 x 262144 doubles = 508 GiB
    with pytest.raises(ValueError, match=r"508\.\d+ GiB.*op\.matrix\(\).*apply"):
        op.toarray()
    with pytest.raises(ValueError, match="max_bytes=1000"):
        ConvOperator(K3, (8, 8)).todense(max_bytes=1000)
    assert ConvOperator(K3, (8, 8)).toarray().shape == (36, 64)
    assert op.matrix().nnz == 9 * 510 * 510  # the sparse matrix is fine


def test_errors_hide_internal_frames():
    """The message a user sees is raised from our validation, not from numpy internals."""
    with pytest.raises(ValueError) as info:
        conv_matrix(K3, (4, 4), stride=(1, 0))
    assert info.value.__cause__ is None


def test_conv_transpose_nd_refuses_bad_groups_by_name():
    y, w = np.ones((1, 4, 3, 3)), np.ones((4, 1, 3, 3))
    with pytest.raises(ValueError, match=r"groups=0 is not allowed: it must be >= 1"):
        conv_transpose2d(y, w, groups=0)
    with pytest.raises(TypeError, match=r"groups must be an int; got 1\.5"):
        conv_transpose2d(y, w, groups=1.5)
