"""The training store on SQLite and on PostgreSQL: every Trainer test of
``tests/unit/extracted_services/training/test_trainer.py`` (idempotent ingestion, run
records and their outbox events, proposals, promotions, drift alarms) runs here
again on both backends.

The tests are imported, so pytest collects them in this module, where ``parts`` is this
module's fixture: the same test bodies, a database of each kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.postgres_support import BACKENDS, fresh_database
from tests.unit.extracted_services.training.test_trainer import (  # noqa: F401 - collected here again
    test_a_drift_run_that_does_not_beat_the_champion_is_tried_again_later,
    test_a_failed_run_is_recorded_and_published_and_nothing_moves,
    test_a_proposal_whose_shadow_scoring_fails_or_is_overtaken_never_serves,
    test_a_run_is_recorded_published_and_promoted_by_policy_after_shadow,
    test_an_insufficient_hold_out_never_promotes,
    test_drift_starts_one_retraining_run_then_cools_down,
    test_ingestion_is_idempotent_per_event_and_per_transaction,
    test_promoting_an_older_version_is_a_rollback,
    test_the_run_in_progress_and_the_cool_down_survive_a_restart,
    test_unknown_run_is_not_found,
    trainer_on,
)


@pytest.fixture(params=BACKENDS)
def parts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with fresh_database(request.param, tmp_path, "training") as url, trainer_on(url) as parts:
        yield parts
