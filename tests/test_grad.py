"""Claims about ``convops.grad``, ``torch.nn.grad`` on numpy arrays.

- ``conv{1,2,3}d_weight`` and ``conv{1,2,3}d_input`` equal ``torch.nn.grad``'s functions of
  the same names and arguments, and ``torch.autograd`` (where PyTorch is installed; skipped
  cleanly otherwise), on hypothesis-drawn geometries: strides, paddings, dilations, groups,
  batches, in 1D, 2D and 3D;
- with ``padding_mode`` they are the gradients of the padded convolution: equal to autograd
  through ``torch.nn.functional.pad(mode=…)`` followed by an unpadded convolution;
- complex arrays give the adjoints, which is what PyTorch's autograd computes;
- without PyTorch: both are the gradients of ½‖conv(x, w) − y‖² (central finite differences),
  for every padding mode;
- unbatched arrays give the batched result of one item; an empty batch an empty result;
- bad input names the parameter, the value and what is allowed (hypothesis classes).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import convops
from convops import grad

MODES = ("zeros", "circular", "reflect", "replicate")
TORCH_PAD_MODE = {"circular": "circular", "reflect": "reflect", "replicate": "replicate"}


@st.composite
def problems(draw, max_ndim=3, modes=("zeros",)):
    """A batched convolution layer: input, weight, output gradient and its parameters."""
    D = draw(st.integers(1, max_ndim))
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    n_batch = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3 if D < 3 else 2)) for _ in range(D))
    s = tuple(draw(st.integers(1, 3)) for _ in range(D))
    d = tuple(draw(st.integers(1, 2)) for _ in range(D))
    p = tuple(draw(st.integers(0, 2)) for _ in range(D))
    mode = draw(st.sampled_from(modes))
    n = []
    for ka, da, pa in zip(k, d, p, strict=True):
        least = max(1, da * (ka - 1) + 1 - 2 * pa)
        if mode == "reflect":
            least = max(least, pa + 1)
        elif mode == "circular":
            least = max(least, pa)
        n.append(least + draw(st.integers(0, 4 if D < 3 else 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.standard_normal((n_batch, cin) + tuple(n))
    w = rng.standard_normal((cout, cin // groups) + k)
    kw = dict(stride=s, padding=p, dilation=d, groups=groups)
    out = getattr(convops, f"conv{D}d")(x, w, padding_mode=mode, **kw)
    g = rng.standard_normal(out.shape)
    return dict(D=D, x=x, w=w, g=g, kw=kw, mode=mode, rng=rng)


@given(problem=problems())
def test_matches_torch_nn_grad_and_autograd(problem):
    torch = pytest.importorskip("torch")
    D, x, w, g, kw = (problem[key] for key in ("D", "x", "w", "g", "kw"))
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tg = torch.tensor(g)
    ours_w = getattr(grad, f"conv{D}d_weight")(x, w.shape, g, *kw.values())
    ours_x = getattr(grad, f"conv{D}d_input")(x.shape, w, g, *kw.values())
    theirs_w = getattr(torch.nn.grad, f"conv{D}d_weight")(tx.detach(), w.shape, tg, **kw)
    theirs_x = getattr(torch.nn.grad, f"conv{D}d_input")(x.shape, tw.detach(), tg, **kw)
    assert ours_w.shape == w.shape and ours_x.shape == x.shape
    np.testing.assert_allclose(ours_w, theirs_w.numpy(), atol=1e-11)
    np.testing.assert_allclose(ours_x, theirs_x.numpy(), atol=1e-11)
    out = getattr(torch.nn.functional, f"conv{D}d")(tx, tw, **kw)
    auto_x, auto_w = torch.autograd.grad(out, (tx, tw), tg)
    np.testing.assert_allclose(ours_w, auto_w.numpy(), atol=1e-11)
    np.testing.assert_allclose(ours_x, auto_x.numpy(), atol=1e-11)


@given(
    problem=problems(modes=("circular", "reflect", "replicate")),
    method=st.sampled_from(["direct", "fft", "matrix"]),
)
def test_padding_modes_match_autograd_through_torch_pad(problem, method):
    """PyTorch has no padding_mode in torch.nn.grad; its autograd through F.pad does."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    D, x, w, g, kw, mode = (problem[key] for key in ("D", "x", "w", "g", "kw", "mode"))
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    pads = [p for p in reversed(kw["padding"]) for _ in (0, 1)]  # last axis first, (lo, hi)
    unpadded = dict(kw, padding=0)
    out = getattr(F, f"conv{D}d")(F.pad(tx, pads, mode=TORCH_PAD_MODE[mode]), tw, **unpadded)
    assert out.shape == g.shape
    auto_x, auto_w = torch.autograd.grad(out, (tx, tw), torch.tensor(g))
    ours_w = getattr(grad, f"conv{D}d_weight")(
        x, w.shape, g, *kw.values(), padding_mode=mode, method=method
    )
    ours_x = getattr(grad, f"conv{D}d_input")(
        x.shape, w, g, *kw.values(), padding_mode=mode, method=method
    )
    np.testing.assert_allclose(ours_w, auto_w.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours_x, auto_x.numpy(), atol=1e-10)


def test_complex_arrays_give_the_adjoints_as_torch_autograd_does():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6)) + 1j * rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2)) + 1j * rng.standard_normal((4, 3, 3, 2))
    kw = dict(stride=2, padding=1)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = torch.nn.functional.conv2d(tx, tw, **kw)
    g = rng.standard_normal(out.shape) + 1j * rng.standard_normal(out.shape)
    auto_x, auto_w = torch.autograd.grad(out, (tx, tw), torch.tensor(g))
    np.testing.assert_allclose(grad.conv2d_weight(x, w.shape, g, **kw), auto_w.numpy(), atol=1e-12)
    np.testing.assert_allclose(grad.conv2d_input(x.shape, w, g, **kw), auto_x.numpy(), atol=1e-12)
    # the adjoint: <conv(x, w), g> = <w, gw> = <x, gx> with the conjugating inner product
    y = convops.conv2d(x, w, **kw)
    assert np.isclose(np.vdot(g, y), np.vdot(grad.conv2d_weight(x, w.shape, g, **kw), w))
    assert np.isclose(np.vdot(g, y), np.vdot(grad.conv2d_input(x.shape, w, g, **kw), x))


@given(problem=problems(max_ndim=2, modes=MODES))
def test_both_are_gradients_of_the_least_squares_loss(problem):
    """∂/∂w and ∂/∂x of ½‖conv(x, w) − y‖², against central finite differences."""
    D, x, w, kw, mode, rng = (problem[key] for key in ("D", "x", "w", "kw", "mode", "rng"))
    conv = getattr(convops, f"conv{D}d")
    y = rng.standard_normal(conv(x, w, padding_mode=mode, **kw).shape)

    def loss(xx, ww):
        return 0.5 * float(np.sum((conv(xx, ww, padding_mode=mode, **kw) - y) ** 2))

    r = conv(x, w, padding_mode=mode, **kw) - y
    gw = getattr(grad, f"conv{D}d_weight")(x, w.shape, r, padding_mode=mode, **kw)
    gx = getattr(grad, f"conv{D}d_input")(x.shape, w, r, padding_mode=mode, **kw)
    h = 1e-6
    for j in range(w.size):  # every weight entry
        e = np.zeros(w.size)
        e[j] = h
        e = e.reshape(w.shape)
        fd = (loss(x, w + e) - loss(x, w - e)) / (2 * h)
        assert np.isclose(gw.flat[j], fd, rtol=1e-5, atol=1e-5), (j, gw.flat[j], fd)
    for j in rng.choice(x.size, size=min(x.size, 12), replace=False):  # some input entries
        e = np.zeros(x.size)
        e[j] = h
        e = e.reshape(x.shape)
        fd = (loss(x + e, w) - loss(x - e, w)) / (2 * h)
        assert np.isclose(gx.flat[j], fd, rtol=1e-5, atol=1e-5), (j, gx.flat[j], fd)


@pytest.mark.parametrize("D", [1, 2, 3])
def test_unbatched_arrays_and_empty_batches(D):
    rng = np.random.default_rng(D)
    x = rng.standard_normal((1, 2) + (6,) * D)
    w = rng.standard_normal((4, 2) + (3,) * D)
    g = rng.standard_normal((1, 4) + (4,) * D)
    weight = getattr(grad, f"conv{D}d_weight")
    inp = getattr(grad, f"conv{D}d_input")
    np.testing.assert_allclose(weight(x[0], w.shape, g[0]), weight(x, w.shape, g), atol=1e-12)
    # input_size without the batch entry: the batch (or its absence) follows grad_output
    np.testing.assert_allclose(inp(x.shape[1:], w, g[0]), inp(x.shape, w, g)[0], atol=1e-12)
    np.testing.assert_allclose(inp(x.shape[1:], w, g), inp(x.shape, w, g), atol=1e-12)
    empty = (0,) + x.shape[1:]
    assert inp(empty, w, np.zeros((0,) + g.shape[1:])).shape == empty
    gw = weight(np.zeros(empty), w.shape, np.zeros((0,) + g.shape[1:]))
    assert gw.shape == w.shape and not gw.any()


def test_torch_size_and_dtypes_are_accepted():
    x = np.ones((2, 3, 8, 8), dtype=np.float32)
    w = np.ones((4, 3, 3, 3), dtype=np.float32)
    g = np.ones((2, 4, 6, 6), dtype=np.float32)
    assert grad.conv2d_weight(x, w.shape, g).dtype == np.float32
    assert grad.conv2d_input(x.shape, w, g).dtype == np.float32
    assert grad.conv2d_weight(x, w.shape, g.astype(np.float64)).dtype == np.float64
    torch = pytest.importorskip("torch")
    assert grad.conv2d_weight(x, torch.Size(w.shape), g).shape == w.shape
    assert grad.conv2d_input(torch.Size(x.shape), w, g).shape == x.shape


# ----------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------
@given(
    cin=st.integers(1, 6),
    groups=st.integers(1, 3),
    cin_g=st.integers(1, 6),
)
def test_weight_size_whose_channel_axis_does_not_match_is_named(cin, groups, cin_g):
    assume(cin_g * groups != cin)
    x = np.ones((1, cin, 6, 6))
    size = (groups * 2, cin_g, 3, 3)
    with pytest.raises(ValueError) as info:
        grad.conv2d_weight(x, size, np.ones((1, groups * 2, 4, 4)), groups=groups)
    text = str(info.value)
    assert f"weight_size={size!r}" in text and f"has {cin}" in text and "allowed" in text


@given(
    which=st.sampled_from(["weight", "input"]),
    batched=st.booleans(),
    change=st.sampled_from(["spatial", "channels", "batch", "drop"]),
    amount=st.integers(1, 3),
    axis=st.integers(0, 1),
)
def test_grad_output_of_the_wrong_shape_is_named(which, batched, change, amount, axis):
    x = np.ones((2, 3, 7, 6))
    w = np.ones((4, 3, 3, 3))
    right = (2, 4, 3, 2)  # stride 2: (7 − 3)//2 + 1, (6 − 3)//2 + 1
    expected = right if batched else right[1:]
    shape = list(expected)
    if change == "spatial":
        shape[-2 + axis] += amount
    elif change == "channels":
        shape[-3] += amount
    elif change == "batch":
        assume(batched)  # unbatched: grad_output has no batch entry to get wrong
        shape[0] += amount
    else:
        shape = shape[min(amount, len(shape) - 1) :]
    g = np.ones(shape)
    with pytest.raises(ValueError) as info:
        if which == "weight":
            grad.conv2d_weight(x if batched else x[0], w.shape, g, stride=2)
        else:
            grad.conv2d_input(x.shape if batched else x.shape[1:], w, g, stride=2)
    text = str(info.value)
    assert f"grad_output of shape {tuple(shape)}" in text and str(expected) in text, text
    # the right shape is accepted
    assert grad.conv2d_weight(x, w.shape, np.ones(right), stride=2).shape == w.shape


@given(
    mode=st.one_of(
        st.text(max_size=8).filter(lambda t: t not in MODES),
        st.none(),
        st.integers(),
        st.sampled_from(["Zeros", "wrap", "symmetric", "same"]),
    ),
    which=st.sampled_from(["weight", "input", "transpose"]),
)
def test_padding_mode_not_in_the_list_is_named(mode, which):
    x, w, g = np.ones((1, 2, 6, 6)), np.ones((3, 2, 3, 3)), np.ones((1, 3, 4, 4))
    with pytest.raises(ValueError) as info:
        if which == "weight":
            grad.conv2d_weight(x, w.shape, g, padding_mode=mode)
        elif which == "input":
            grad.conv2d_input(x.shape, w, g, padding_mode=mode)
        else:
            convops.conv_transpose2d(g, w, padding_mode=mode)
    text = str(info.value)
    assert f"padding_mode={mode!r}" in text and "'reflect'" in text and "'circular'" in text


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (
            lambda: grad.conv2d_weight(np.ones((1, 2, 6, 6)), (3, 2, 3), np.ones((1, 3, 4, 4))),
            ValueError,
            ["weight_size=(3, 2, 3)", "4 entries"],
        ),
        (
            lambda: grad.conv2d_weight(np.ones((2, 6, 6, 1, 1)), (3, 2, 3, 3), np.ones(3)),
            ValueError,
            ["input of shape (2, 6, 6, 1, 1)", "4 axes"],
        ),
        (
            lambda: grad.conv2d_weight(np.ones((1, 2, 6, 6)), "3233", np.ones(3)),
            TypeError,
            ["weight_size"],
        ),
        (
            lambda: grad.conv2d_input((2, 6), np.ones((3, 2, 3, 3)), np.ones((1, 3, 4, 4))),
            ValueError,
            ["input_size=(2, 6)", "4 entries", "or 3"],
        ),
        (
            lambda: grad.conv2d_input("1266", np.ones((3, 2, 3, 3)), np.ones((1, 3, 4, 4))),
            TypeError,
            ["input_size"],
        ),
        (
            lambda: grad.conv2d_input((-1, 2, 6, 6), np.ones((3, 2, 3, 3)), np.ones(3)),
            ValueError,
            ["input_size=(-1, 2, 6, 6)", ">= 0"],
        ),
        (
            lambda: grad.conv2d_input((1, 2, 6, 6), np.ones((3, 2, 3)), np.ones(3)),
            ValueError,
            ["weight of shape (3, 2, 3)", "4 axes"],
        ),
        (
            lambda: grad.conv2d_input((1, 5, 6, 6), np.ones((3, 2, 3, 3)), np.ones(3)),
            ValueError,
            ["input_size=(1, 5, 6, 6)", "5 input channels", "reads 2"],
        ),
        (
            lambda: grad.conv2d_weight(np.ones((1, 2, 6, 6)), (3, 2, 3, 3), np.ones(3), groups=0),
            ValueError,
            ["groups=0"],
        ),
        (
            lambda: grad.conv2d_weight(np.ones((1, 2, 6, 6)), (3, 2, 3, 3), np.ones(3), stride=0),
            ValueError,
            ["stride=0"],
        ),
        (
            lambda: grad.conv1d_weight(
                np.ones((1, 2, 6)), (3, 2, 3), np.ones((1, 3, 4)), method="x"
            ),
            ValueError,
            ["method='x'"],
        ),
    ],
)
def test_bad_arguments_are_named(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert info.value.__cause__ is None


def test_docstring_examples_run_and_are_in_the_source():
    """Each function's docstring is written where it is defined, numpydoc, and its example runs."""
    import ast
    import doctest
    import inspect
    from pathlib import Path

    tree = ast.parse(Path(grad.__file__).read_text(encoding="utf-8"))
    docs = {
        node.name: ast.get_docstring(node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in grad.__all__
    }
    assert set(docs) == set(grad.__all__)
    for name, doc in docs.items():
        assert inspect.cleandoc(getattr(grad, name).__doc__) == doc, name
        for section in ("Parameters", "Returns", "Raises", "See Also", "Examples"):
            assert f"\n{section}\n" in doc, (name, section)
    result = doctest.testmod(grad, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 20 and result.failed == 0


@pytest.mark.parametrize("padding", ["same", "valid", "full", ((1, 0), (0, 2)), (2, (1, 0))])
@pytest.mark.parametrize("mode", MODES)
def test_string_and_pair_paddings(padding, mode):
    """convops' padding forms PyTorch lacks here, against finite differences of the loss."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 2, 4, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    y = rng.standard_normal(convops.conv2d(x, w, padding=padding, padding_mode=mode).shape)

    def loss(ww):
        return 0.5 * np.sum((convops.conv2d(x, ww, padding=padding, padding_mode=mode) - y) ** 2)

    r = convops.conv2d(x, w, padding=padding, padding_mode=mode) - y
    gw = grad.conv2d_weight(x, w.shape, r, padding=padding, padding_mode=mode)
    gx = grad.conv2d_input(x.shape, w, r, padding=padding, padding_mode=mode)
    h = 1e-6
    fd = np.array(
        [
            (loss(w + h * e.reshape(w.shape)) - loss(w - h * e.reshape(w.shape))) / (2 * h)
            for e in np.eye(w.size)
        ]
    )
    np.testing.assert_allclose(gw.ravel(), fd, rtol=1e-6, atol=1e-6)
    # the input gradient: the same loss in x, one direction at a time
    v = rng.standard_normal(x.shape)

    def loss_x(xx):
        return 0.5 * np.sum((convops.conv2d(xx, w, padding=padding, padding_mode=mode) - y) ** 2)

    directional = (loss_x(x + h * v) - loss_x(x - h * v)) / (2 * h)
    assert np.isclose(np.vdot(gx, v), directional, rtol=1e-6, atol=1e-6)
