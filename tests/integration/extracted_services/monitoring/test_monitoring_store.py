"""The monitoring store on SQLite and on PostgreSQL: the Monitor tests of
``tests/unit/extracted_services/monitoring/test_drift_episodes.py`` (references, the
deduplicated prediction log, windows, one alarm per episode in the outbox, pruning) run
here again on both backends.

The tests are imported, so pytest collects them in this module, where ``monitor`` is this
module's fixture: the same test bodies, a database of each kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from extracted_services.monitoring.monitor import Monitor
from tests.postgres_support import BACKENDS, fresh_database
from tests.unit.extracted_services.monitoring.test_drift_episodes import (  # noqa: F401 - collected here again
    monitor_on,
    test_an_episode_and_how_far_it_settled_survive_a_restart,
    test_no_alarm_on_a_window_too_small_for_the_statistics,
    test_the_detector_window_is_time_bounded_and_the_log_is_pruned,
    test_the_monitor_raises_one_alarm_per_episode_and_settles_on_a_new_model,
)


@pytest.fixture(params=BACKENDS)
def monitor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Monitor]:
    with fresh_database(request.param, tmp_path, "monitoring") as url, monitor_on(url) as monitor:
        yield monitor
