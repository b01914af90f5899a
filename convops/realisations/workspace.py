"""Where the realisations work: reused work arrays, the thread pool, and their settings.

Everything the realisations share at run time lives here, and nowhere else:

* **Settings**, one frozen :class:`WorkspaceConfig`: how many threads the direct
  realisation's tap loop uses, how many workers ``scipy.fft`` gets, how large a work array
  may be kept between calls, and whether the channel GEMM is formed row by row.  Read them
  with :func:`get_config`; change them with :func:`configure`, which applies at once and,
  used as a context manager, restores the previous settings on exit::

      with convops.configure(threads=1, fft_workers=1):
          y = op @ x          # single-threaded

* **Work arrays** (:func:`scratch`): one reusable buffer per thread and
  :class:`Purpose`.  Touching freshly allocated memory costs page faults that on a virtual
  machine take longer than the arithmetic (measured: a 1024² float64 3×3 convolution spent
  over half its time faulting in its work arrays), so the arrays a realisation needs on
  every call are kept.  A scratch array is overwritten by the next call of the same
  purpose in the same thread: a realisation copies its result out of it before returning.
* **Threads**: the pool the direct realisation splits its tap loop over
  (:func:`thread_pool`), and how many threads or workers a call of a given size uses
  (:func:`tap_loop_threads`, :func:`transform_workers`): below a size threshold starting
  threads costs more than they save, so small calls run in the calling thread.

The settings are process-wide (as threadpoolctl's limits are): a change made in one
thread applies to the calls of every thread.
"""

from __future__ import annotations

import enum
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from types import TracebackType

import numpy as np
from numpy.typing import DTypeLike

from .._validate import validate_bool, validate_int

__all__ = [
    "DIRECT_THREADS_MIN_ELEMENTS",
    "FFT_THREADS_MIN_POINTS",
    "ConfigChange",
    "Purpose",
    "WorkspaceConfig",
    "check_work",
    "configure",
    "get_config",
    "scratch",
    "tap_loop_threads",
    "thread_pool",
    "transform_workers",
]

#: Destinations of the direct tap loop smaller than this many entries run in the calling
#: thread only: handing blocks to the pool costs more than the threads save.
DIRECT_THREADS_MIN_ELEMENTS = 1 << 17

#: ``scipy.fft`` transforms of fewer points than this run on one worker: starting the
#: workers costs more than they save (a 270² grid takes 0.7 ms on one thread, 1.2 ms with two).
FFT_THREADS_MIN_POINTS = 1 << 18


def _default_threads() -> int:
    # more than 8 threads did not speed the memory-bound tap loop up further
    return max(1, min(os.cpu_count() or 1, 8))


def _default_max_work_bytes() -> int:
    """Three quarters of the machine's physical memory (16 GiB where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) * 3 // 4
    except (AttributeError, OSError, ValueError):  # not POSIX, or the value is unknown
        return 16 * 2**30


@dataclass(frozen=True)
class WorkspaceConfig:
    """The run-time settings of the realisations (see :func:`configure`).

    Parameters
    ----------
    threads : int
        Threads of the direct realisation's single-channel tap loop, which splits large
        outputs (at least :data:`DIRECT_THREADS_MIN_ELEMENTS` entries) into blocks shared
        between them; ``>= 1``.  Default: the number of cores, at most 8 (the loop is
        memory-bound; more threads did not help).  The channel GEMMs use the BLAS's own
        threads, which threadpoolctl controls.
    fft_workers : int
        The ``workers`` of the FFT realisation's ``scipy.fft`` calls on grids of at least
        :data:`FFT_THREADS_MIN_POINTS` points (smaller ones use one); ``-1`` = all cores,
        or a count ``>= 1``.  Default ``-1``: large transforms are split over every core.
    scratch_max_bytes : int
        Work arrays up to this many bytes are kept per thread and :class:`Purpose` and
        reused across calls (larger ones are allocated per call); ``0`` disables the
        reuse.  Default 64 MiB: it covers a 1024² float64 grid and its work arrays, while
        bounding what stays allocated between calls to about that much per purpose and
        thread.
    row_gemm : bool or None
        How the direct realisation forms its channel GEMM where both ways apply:
        ``None`` (default) lets :func:`convops.realisations.direct.row_gemm_pays` choose
        from the memory each moves; ``True`` forces the row-wise product (one GEMM per
        kernel row), ``False`` the full im2col.  Forcing is for tests and benchmarks.
    max_work_bytes : int
        The memory one computation may need: an application of an operator (its input,
        output and work arrays, estimated by :func:`convops.cost.work_bytes`), a CSR
        matrix built (its entries and indices), a kernel spectrum.  Anything estimated
        above it is refused with a ``ValueError`` before a byte is allocated, instead of
        a ``MemoryError`` after trying, or the kernel's out-of-memory killer.  Default:
        three quarters of the machine's physical memory; ``>= 1``.
    """

    threads: int = _default_threads()
    fft_workers: int = -1
    scratch_max_bytes: int = 64 * 2**20
    row_gemm: bool | None = None
    max_work_bytes: int = _default_max_work_bytes()

    def __post_init__(self) -> None:
        # frozen: the validated (normalised) values are set through object.__setattr__
        object.__setattr__(self, "threads", validate_int(self.threads, "threads", minimum=1))
        workers = validate_int(self.fft_workers, "fft_workers")
        if workers == 0 or workers < -1:
            raise ValueError(
                f"fft_workers={self.fft_workers!r} is not allowed: use -1 (all cores) or a "
                "worker count >= 1"
            )
        object.__setattr__(self, "fft_workers", workers)
        object.__setattr__(
            self,
            "scratch_max_bytes",
            validate_int(self.scratch_max_bytes, "scratch_max_bytes", minimum=0),
        )
        if self.row_gemm is not None:
            object.__setattr__(self, "row_gemm", validate_bool(self.row_gemm, "row_gemm"))
        object.__setattr__(
            self, "max_work_bytes", validate_int(self.max_work_bytes, "max_work_bytes", minimum=1)
        )


_config = WorkspaceConfig()
_config_lock = threading.Lock()


def get_config() -> WorkspaceConfig:
    """The settings in force (a frozen :class:`WorkspaceConfig`)."""
    return _config


class ConfigChange:
    """What :func:`configure` returns: the settings before and after the change.

    The change is already applied.  Used as a context manager it restores
    :attr:`previous` on exit; :meth:`restore` does the same explicitly.
    """

    def __init__(self, previous: WorkspaceConfig, config: WorkspaceConfig) -> None:
        self.previous = previous
        self.config = config

    def restore(self) -> None:
        """Put the settings back as they were before this change."""
        global _config
        with _config_lock:
            _config = self.previous

    def __enter__(self) -> WorkspaceConfig:
        return self.config

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.restore()

    def __repr__(self) -> str:
        return f"ConfigChange({self.previous!r} -> {self.config!r})"


def configure(**changes: object) -> ConfigChange:
    """Change the realisations' run-time settings; they apply at once.

    Parameters
    ----------
    **changes
        Any of the fields of :class:`WorkspaceConfig`: ``threads``, ``fft_workers``,
        ``scratch_max_bytes``, ``row_gemm``, ``max_work_bytes``.  Fields not given keep
        their value.

    Returns
    -------
    ConfigChange
        Used as a context manager (``with convops.configure(threads=1): ...``) it restores
        the previous settings on exit; otherwise the change stays.

    Raises
    ------
    TypeError
        For an unknown keyword or a value of the wrong type (the message names it).
    ValueError
        For a value out of range.

    Examples
    --------
    >>> import convops
    >>> with convops.configure(threads=1) as config:
    ...     config.threads
    1
    >>> convops.get_config().threads == convops.WorkspaceConfig().threads
    True
    """
    known = {f.name for f in fields(WorkspaceConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise TypeError(
            f"configure() got an unknown setting {unknown[0]!r}; the settings are "
            + ", ".join(sorted(known))
        )
    global _config
    with _config_lock:
        previous = _config
        _config = replace(previous, **changes)  # type: ignore[arg-type]
        return ConfigChange(previous, _config)


def check_work(nbytes: int, what: str) -> None:
    """Refuse ``what`` before it runs if it needs more than ``max_work_bytes``.

    ``nbytes`` is an estimate made from shapes alone (Python integers: it cannot
    overflow), so the refusal comes before any allocation.
    """
    limit = _config.max_work_bytes
    if nbytes > limit:
        raise ValueError(
            f"{what} would need about {nbytes / 2**30:.3g} GiB, over the limit "
            f"max_work_bytes={limit} ({limit / 2**30:.3g} GiB); use smaller sizes, or raise "
            "the limit with convops.configure(max_work_bytes=...) if the machine has the memory"
        ) from None


# ----------------------------------------------------------------------------------------
# work arrays
# ----------------------------------------------------------------------------------------
class Purpose(enum.IntEnum):
    """What a scratch array holds: each purpose has its own buffer per thread.

    Two arrays needed at the same time must have different purposes.  (An ``IntEnum``:
    its members hash as ints, in C; a plain ``Enum`` member hashes in Python, which shows
    in :func:`scratch`, called several times per application.)
    """

    #: fft: the spectrum-sized array the pruned transform works in.
    SPECTRUM = enum.auto()
    #: direct: the zero-padded source (``x``, or ``y`` for ``A*``).
    PADDED_SOURCE = enum.auto()
    #: direct: the polyphase components ``x̃[r::s]`` of a strided ``A``.
    POLYPHASE = enum.auto()
    #: direct, one channel: the sum over taps on the flat grid.
    TAP_SUM = enum.auto()
    #: direct, one channel: one tap's product, per thread of the tap loop.
    TAP_PRODUCT = enum.auto()
    #: direct, channels: the im2col columns.
    IM2COL = enum.auto()
    #: direct, channels: the shifts along the last axis of the row-wise product.
    ROW_SHIFTS = enum.auto()
    #: direct, channels: the GEMM result on the flat grid.
    GEMM_RESULT = enum.auto()
    #: direct, channels: one kernel row's partial product.
    GEMM_ROW = enum.auto()


_pools = threading.local()


def scratch(purpose: Purpose, shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """A reusable, uninitialised work array of the calling thread.

    Arrays up to :attr:`WorkspaceConfig.scratch_max_bytes` come from one buffer per thread
    and ``purpose`` (grown when a larger one is needed); larger ones are allocated afresh.
    The contents are undefined, and the next request of the same purpose in the same
    thread overwrites them: never return a scratch array (or a view of one) to a caller.

    Parameters
    ----------
    purpose : Purpose
        What the array is for.
    shape : tuple of int
    dtype : dtype

    Returns
    -------
    ndarray
        C-contiguous, of ``shape`` and ``dtype``.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _config.scratch_max_bytes:
        return np.empty(shape, dtype=dtype)
    pool: dict[Purpose, np.ndarray] | None = getattr(_pools, "buffers", None)
    if pool is None:
        pool = _pools.buffers = {}
    buf = pool.get(purpose)
    if buf is None or buf.nbytes < nbytes:
        # at least 64 KiB: small requests of growing size do not reallocate each time
        buf = pool[purpose] = np.empty(max(nbytes, 1 << 16), dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


# ----------------------------------------------------------------------------------------
# threads
# ----------------------------------------------------------------------------------------
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def thread_pool() -> ThreadPoolExecutor:
    """The pool of :attr:`WorkspaceConfig.threads` threads the direct realisation uses.

    Made on first use; a change of ``threads`` makes a new pool on the next call (the old
    one finishes what it runs and its threads exit once it is no longer referenced).
    """
    global _pool
    threads = _config.threads
    current = _pool
    if current is not None and current[0] == threads:
        return current[1]
    with _pool_lock:
        if _pool is None or _pool[0] != threads:
            _pool = (threads, ThreadPoolExecutor(threads, thread_name_prefix="convops-direct"))
        return _pool[1]


def tap_loop_threads(entries: int) -> int:
    """Threads for a direct tap loop over ``entries`` destination entries.

    :attr:`WorkspaceConfig.threads` from :data:`DIRECT_THREADS_MIN_ELEMENTS` entries on,
    else 1.
    """
    return _config.threads if entries >= DIRECT_THREADS_MIN_ELEMENTS else 1


def transform_workers(points: int) -> int:
    """The ``workers`` of a ``scipy.fft`` call over ``points`` array entries.

    :attr:`WorkspaceConfig.fft_workers` from :data:`FFT_THREADS_MIN_POINTS` points on,
    else 1.
    """
    return _config.fft_workers if points >= FFT_THREADS_MIN_POINTS else 1
