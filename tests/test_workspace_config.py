"""Claim: the realisations' settings have one documented home, change only what they say,
and every bad value is refused under the keyword's name.

``convops.configure(...)`` applies at once and, used as a context manager, restores the
previous settings; results are the same under every setting (threads, FFT workers, work
array reuse, the channel GEMM's way); the memory limit refuses before anything runs.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convops
from convops.realisations import workspace
from convops.testing import strategies as cst


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(threads=0), ValueError, ["threads=0", ">= 1"]),
        (dict(threads=1.5), TypeError, ["threads", "1.5"]),
        (dict(threads=True), TypeError, ["threads", "True"]),
        (dict(fft_workers=0), ValueError, ["fft_workers=0", "-1"]),
        (dict(fft_workers=-2), ValueError, ["fft_workers=-2"]),
        (dict(scratch_max_bytes=-1), ValueError, ["scratch_max_bytes=-1", ">= 0"]),
        (dict(row_gemm="yes"), TypeError, ["row_gemm", "'yes'"]),
        (dict(max_work_bytes=0), ValueError, ["max_work_bytes=0", ">= 1"]),
        (dict(max_work_bytes="1GB"), TypeError, ["max_work_bytes", "'1GB'"]),
        (dict(thread=2), TypeError, ["'thread'", "threads"]),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, exc, words):
    before = convops.get_config()
    with pytest.raises(exc) as info:
        convops.configure(**kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert convops.get_config() == before  # nothing changed


def test_configure_applies_at_once_and_restores():
    before = convops.get_config()
    with convops.configure(threads=1, scratch_max_bytes=0) as config:
        assert config.threads == 1 and convops.get_config() is config
        assert config.fft_workers == before.fft_workers  # fields not given keep their value
        with convops.configure(threads=2):
            assert convops.get_config().threads == 2 and convops.get_config().scratch_max_bytes == 0
        assert convops.get_config().threads == 1
    assert convops.get_config() == before
    change = convops.configure(row_gemm=True)
    try:
        assert convops.get_config().row_gemm is True
    finally:
        change.restore()
    assert convops.get_config() == before


def test_a_change_of_threads_makes_a_new_pool():
    with convops.configure(threads=1):
        one = workspace.thread_pool()
        assert one is workspace.thread_pool()
    with convops.configure(threads=2):
        assert workspace.thread_pool() is not one


SETTINGS = [
    dict(threads=1),
    dict(threads=2, fft_workers=1),
    dict(scratch_max_bytes=0),
    dict(row_gemm=True),
    dict(row_gemm=False),
]


@given(op=cst.operators(max_ndim=3, methods=("direct", "fft")), setting=st.sampled_from(SETTINGS))
def test_results_do_not_depend_on_the_settings(op, setting):
    x = np.random.default_rng(0).standard_normal(op.shape[1]).astype(op.dtype)
    want = op @ x
    with convops.configure(**setting):
        got = op @ x
    tol = 1e-4 if op.dtype in (np.float32, np.complex64) else 1e-11
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, float(np.abs(want).max())))


def test_the_default_memory_limit_is_most_of_the_machine():
    limit = convops.WorkspaceConfig().max_work_bytes
    assert 2**28 <= limit <= 2**50
