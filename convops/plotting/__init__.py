"""Views of a convolution: its matrix, sparsity, conv arithmetic, spectrum and overlap.

Importing this package imports matplotlib (``import convops`` does not).  Every function
draws with matplotlib's object-oriented API, returns what it made — the ``Axes`` for a
one-panel view, the ``Figure`` for a multi-panel one, the animation (whose ``figure``
attribute is the Figure it draws on) for :func:`animate` — accepts an existing ``ax``
where it draws one panel, and never calls ``plt.show()``.

======================  =============================================================
:func:`plot_matrix`     heatmap of a small matrix with values in the cells and lines
                        between the Toeplitz blocks (:mod:`.matrix`)
:func:`spy`             sparsity pattern of a large matrix, block structure visible
                        (:mod:`.matrix`)
:func:`animate`         the conv-arithmetic picture (Dumoulin & Visin): gather for A,
                        scatter or "fractionally strided" for the transposed convolution
                        (:mod:`.animation`; the frames computed in :mod:`.animation_frames`)
:func:`save_animation`  write an animation as GIF (Pillow) or MP4 (ffmpeg)
:func:`plot_spectrum`   magnitude and phase of the kernel spectrum Ĥ; folding and
                        replication for a stride (:mod:`.spectrum`)
:func:`overlap_counts`  how many (input position, tap) pairs of a transposed convolution
                        land on each output pixel (computed in :mod:`convops.structure`)
:func:`plot_overlap`    those counts drawn: the checkerboard of 3×3 kernels with stride 2
                        (:mod:`.overlap`)
:func:`explore`         one interactive view linking the padded input, the output, the
                        matrix and the spectrum: point at a cell, see its row, column or
                        (output, input, tap) (:mod:`.explore`; what is highlighted is
                        computed in :mod:`.explore_model`)
======================  =============================================================
"""

from __future__ import annotations

from ..structure import overlap_counts
from .animation import ConvAnimation as ConvAnimation
from .animation import animate, save_animation
from .explore import Explorer as Explorer
from .explore import explore
from .matrix import ANNOTATE_LIMIT as ANNOTATE_LIMIT
from .matrix import DENSE_PLOT_LIMIT as DENSE_PLOT_LIMIT
from .matrix import plot_matrix, spy
from .overlap import plot_overlap
from .spectrum import plot_spectrum

__all__ = [
    "animate",
    "explore",
    "overlap_counts",
    "plot_matrix",
    "plot_overlap",
    "plot_spectrum",
    "save_animation",
    "spy",
]
