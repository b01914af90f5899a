"""Run a stretch of small LAPACK calls on one BLAS thread: :func:`single_threaded_blas`,
and independent ones side by side on the cores: :func:`parallel_lapack`.

:func:`convops.norm_bounds` factorises hundreds of 64–512-sized Hermitian matrices, one
LAPACK call each.  OpenBLAS splits such a call over its threads, which gains nothing at
these sizes (measured: a 256×256 complex Cholesky factorisation takes 0.9 ms on one thread
and 0.7–1.1 ms on two) and loses badly when the cores are shared: each call waits at its
barriers for a worker that the scheduler has parked, 5–60 ms instead of 1–2 ms on a machine
with other jobs.  OpenBLAS 0.3.27 and later have ``openblas_set_num_threads_local``, which
sets the thread count *for the calling thread only* and returns the previous one: the
context manager uses it on every OpenBLAS library the process has loaded (numpy and scipy
each bring their own), and restores the previous counts on exit, and on request for a
stretch of large matrix products inside it, which do gain from the threads.  Elsewhere
(another BLAS, an older OpenBLAS, a system without ``/proc/self/maps``) it does nothing.

Independent factorisations gain from the cores the other way: one call per Python thread,
each call on one BLAS thread.  :func:`parallel_lapack` runs them on a small pool of threads
whose OpenBLAS calls are set to one thread each — only where that can be set (else two
threads would each start their own BLAS threads on the same cores), and only on a machine
with more than one core the process may use.  The calls must release the GIL, which
scipy's LAPACK wrappers do not; numpy's ``cholesky`` does, but spends as long again
copying its matrix in and out (8.5 ms for a 512×512 complex factorisation, 5.5 ms in
LAPACK).  :func:`cholesky_succeeds` therefore calls OpenBLAS's ``zpotrf`` itself, through
``ctypes`` (which releases the GIL), on the matrix in place: the library numpy loaded,
found the way the thread setters are, with every integer argument passed as a 64-bit
integer (read correctly by 32- and 64-bit-integer LAPACK alike on a little-endian machine)
and checked on small matrices against numpy before it is trusted; anywhere else it is
numpy's ``cholesky``.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

_T = TypeVar("_T")
_R = TypeVar("_R")

_setters_by_path: dict[str, Callable[[int], int] | None] = {}
_lock = threading.Lock()


def _openblas_paths() -> set[str]:
    """The files of the OpenBLAS libraries the process has loaded (Linux), else none."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return {
                line.split()[-1]
                for line in maps
                if "openblas" in line.lower() and line.split()[-1].startswith("/")
            }
    except OSError:
        return set()


def _setters() -> list[Callable[[int], int]]:
    """``openblas_set_num_threads_local`` of each OpenBLAS the process has loaded."""
    paths = _openblas_paths()
    with _lock:
        for path in sorted(paths - set(_setters_by_path)):
            setter = None
            try:  # only libraries already loaded (RTLD_NOLOAD): never load a new one
                lib = ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_NOLOAD", 4))
                setter = lib.openblas_set_num_threads_local
                setter.argtypes = [ctypes.c_int]
                setter.restype = ctypes.c_int
            except (OSError, AttributeError):
                setter = None
            _setters_by_path[path] = setter
        return [f for path, f in sorted(_setters_by_path.items()) if path in paths and f]


class _Previous:
    """The thread counts in force before :func:`single_threaded_blas`."""

    def __init__(self, setters: list[Callable[[int], int]], counts: list[int]):
        self.setters, self.counts = setters, counts

    @contextmanager
    def threaded(self) -> Iterator[None]:
        """Within the block, the previous counts again (for large products, which gain)."""
        for setter, count in zip(self.setters, self.counts, strict=True):
            setter(count)
        try:
            yield
        finally:
            for setter in self.setters:
                setter(1)


@contextmanager
def single_threaded_blas() -> Iterator[_Previous]:
    """Within the block, the calling thread's OpenBLAS calls run on one thread.

    The value bound by ``as`` has a ``threaded()`` context manager that brings the previous
    counts back for a stretch of large matrix products inside the block.
    """
    setters = _setters()
    previous = [setter(1) for setter in setters]
    try:
        yield _Previous(setters, previous)
    finally:
        for setter, count in zip(setters, previous, strict=True):
            setter(count)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


@contextmanager
def parallel_lapack(workers: int | None = None) -> Iterator[Callable[..., list]]:
    """A ``map(fn, items) -> list`` running ``fn`` on up to ``workers`` threads at once.

    Each thread's OpenBLAS calls run on one BLAS thread.  ``fn`` must release the GIL for
    this to gain (numpy's ``linalg`` does).  Where the per-thread count cannot be set, or
    the process has one core, the map runs the calls one after another in the caller.
    """
    setters = _setters()
    count = min(workers or _cores(), _cores())
    if not setters or count < 2:

        def serial(fn: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
            return [fn(item) for item in items]

        yield serial
        return

    def one_thread() -> None:
        for setter in setters:
            setter(1)

    with ThreadPoolExecutor(count, initializer=one_thread) as pool:

        def parallel(fn: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
            return list(pool.map(fn, items))

        yield parallel


# ----------------------------------------------------------------------------------------
# zpotrf without the GIL
# ----------------------------------------------------------------------------------------
#: The names OpenBLAS builds give ``zpotrf`` (the wheels of numpy and scipy prefix theirs).
_POTRF_NAMES = ("scipy_zpotrf_64_", "zpotrf_64_", "scipy_zpotrf_", "zpotrf_")
_potrf_found: list[Callable[..., None] | None] = []  # [] until looked up once


def _potrf_call(fn: Callable[..., None], a: np.ndarray) -> int:
    """``info`` of ``zpotrf('U', n, a, n)`` on the Fortran-ordered view of ``a`` (C order)."""
    n = ctypes.c_int64(a.shape[0])
    info = ctypes.c_int64(0)
    fn(b"U", ctypes.byref(n), a.ctypes.data, ctypes.byref(n), ctypes.byref(info), 1)
    return int(info.value)


def _checked(fn: Callable[..., None]) -> bool:
    """Whether ``fn`` factorises as LAPACK's ``zpotrf`` should, on a few small matrices."""
    rng = np.random.default_rng(0)
    for n in (1, 3, 17):
        b = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        good = b @ np.conj(b.T) + n * np.eye(n)
        a = np.array(good)
        if _potrf_call(fn, a) != 0:
            return False
        # C order seen as Fortran is conj(good); its upper factor U: Uᴴ U = conj(good)
        U = np.triu(a.T)
        if not np.allclose(np.conj(U.T) @ U, np.conj(good), rtol=1e-12, atol=1e-12 * n):
            return False
        bad = np.array(good)
        bad[n - 1, n - 1] = -1.0
        if _potrf_call(fn, bad) == 0:
            return False
    return True


def _potrf() -> Callable[..., None] | None:
    """OpenBLAS's ``zpotrf`` through ``ctypes``, checked, or ``None`` (use numpy)."""
    with _lock:
        if _potrf_found:
            return _potrf_found[0]
        found = None
        if sys.byteorder == "little":  # (the 64-bit integers read as 32-bit ones)
            for path in sorted(_openblas_paths(), key=lambda p: "openblas64" not in p):
                try:
                    lib = ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_NOLOAD", 4))
                except OSError:
                    continue
                for name in _POTRF_NAMES:
                    fn = getattr(lib, name, None)
                    if fn is None:
                        continue
                    fn.argtypes = [
                        ctypes.c_char_p,
                        ctypes.POINTER(ctypes.c_int64),
                        ctypes.c_void_p,
                        ctypes.POINTER(ctypes.c_int64),
                        ctypes.POINTER(ctypes.c_int64),
                        ctypes.c_size_t,  # gfortran's hidden length of the string
                    ]
                    fn.restype = None
                    if _checked(fn):
                        found = fn
                        break
                if found is not None:
                    break
        _potrf_found.append(found)
        return found


def cholesky_succeeds(a: np.ndarray) -> bool:
    """Whether the Cholesky factorisation of the Hermitian ``a`` succeeds (``a`` destroyed).

    ``a``: a C-contiguous ``(n, n)`` complex128 array; LAPACK reads its lower triangle
    (the upper one of the Fortran-ordered transpose, ``conj(a)``: the same spectrum).
    Releases the GIL.
    """
    fn = _potrf()
    if fn is not None and a.dtype == np.complex128 and a.flags.c_contiguous:
        return _potrf_call(fn, a) == 0
    try:
        np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return False
    return True
