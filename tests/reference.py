"""A brute-force dense reference for the convolution, written from the definition.

Deliberately naive and independent of convops' index arithmetic: scalar loops over every
output, channel and tap, the boundary rules spelt out one by one. Only for small sizes.
"""

import itertools

import numpy as np


def source_index(p: int, n: int, boundary: str):
    """The input index read at position ``p`` of the padded input's frame (p = padded − lo)."""
    if 0 <= p < n:
        return p
    if boundary == "zeros":
        return None
    if boundary == "circular":
        return p % n
    if boundary == "replicate":
        return 0 if p < 0 else n - 1
    if boundary == "reflect":  # mirror about the edge entries, edge not repeated
        return -p if p < 0 else 2 * (n - 1) - p
    raise AssertionError(boundary)


def dense_matrix(
    kernel, input_shape, *, stride, padding, dilation, groups, boundary, flip, out_shape
):
    """Dense matrix of the convolution with per-axis parameters already normalised.

    ``padding`` is a list of (lo, hi); ``stride``/``dilation`` per-axis tuples; ``out_shape``
    the spatial output size (may be smaller than natural: output_padding's crop).
    """
    kernel = np.asarray(kernel)
    ndim = len(out_shape)
    multich = kernel.ndim == ndim + 2
    w = kernel if multich else kernel.reshape((1, 1) + kernel.shape)
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * ndim]
    cout, cin_g = w.shape[:2]
    ksize = w.shape[2:]
    spatial_in = tuple(input_shape[1:] if multich else input_shape)
    cin = cin_g * groups
    cout_g = cout // groups
    A = np.zeros(
        (cout * int(np.prod(out_shape)), cin * int(np.prod(spatial_in))),
        dtype=np.result_type(w, float),
    )
    for co in range(cout):
        grp = co // cout_g
        for o in itertools.product(*map(range, out_shape)):
            row = np.ravel_multi_index((co,) + o, (cout,) + tuple(out_shape))
            for ci in range(cin_g):
                for t in itertools.product(*map(range, ksize)):
                    src = []
                    for a in range(ndim):
                        p = o[a] * stride[a] + t[a] * dilation[a] - padding[a][0]
                        src.append(source_index(p, spatial_in[a], boundary))
                    if any(q is None for q in src):
                        continue
                    col = np.ravel_multi_index(
                        (grp * cin_g + ci,) + tuple(src), (cin,) + spatial_in
                    )
                    A[row, col] += w[(co, ci) + t]
    return A


def dense_of_geometry(kernel, geometry):
    """The reference matrix for a ConvGeometry (reads only its normalised parameters)."""
    g = geometry
    return dense_matrix(
        kernel,
        g.conv_input_shape,
        stride=g.stride,
        padding=g.padding,
        dilation=g.dilation,
        groups=g.groups,
        boundary=g.boundary,
        flip=g.flip,
        out_shape=g.spatial_out,
    )


def tolerance(dtype, size: int) -> float:
    """Absolute tolerance for unit-scale data: machine epsilon times a size factor."""
    eps = np.finfo(np.dtype(dtype)).eps
    return 50 * eps * max(1.0, np.sqrt(size))
