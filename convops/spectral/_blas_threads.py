"""Run a stretch of small LAPACK calls on one BLAS thread: :func:`single_threaded_blas`.

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
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_setters_by_path: dict[str, Callable[[int], int] | None] = {}
_lock = threading.Lock()


def _setters() -> list[Callable[[int], int]]:
    """``openblas_set_num_threads_local`` of each OpenBLAS the process has loaded."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {
                line.split()[-1]
                for line in maps
                if "openblas" in line.lower() and line.split()[-1].startswith("/")
            }
    except OSError:
        return []
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
