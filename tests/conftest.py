"""Shared test setup: hypothesis profiles and the Agg backend.

``HYPOTHESIS_PROFILE=ci`` (used by ``.ci/run``) draws more examples than the default.
"""

import os

import matplotlib

matplotlib.use("Agg")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI draws more examples, derandomised so that a run is reproducible from the commit alone
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
