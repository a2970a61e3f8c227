"""The monitor: stores predictions and references, reports drift, and checks periodically.

Written against plain ``threading`` (green threads in the nameko worker). An alarm is
written to the outbox in its own transaction and relayed with publisher confirms.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from contracts.events.models import DriftDetected, PredictionLogged, TrainingCompleted
from contracts.monitoring import DriftReport
from eventbus import SyncPublisher, encode
from eventbus.relay_sync import SyncOutboxRelay
from extracted_services.monitoring.detector import (
    EpisodeState,
    EpisodeTracker,
    WindowRow,
    compute_report,
)
from extracted_services.monitoring.metrics import Metrics
from extracted_services.monitoring.registry import registry_reference
from extracted_services.monitoring.settings import Settings
from extracted_services.monitoring.store import (
    Database,
    as_utc,
    ignore_duplicates,
    load_episodes,
    predictions,
    references,
    save_episode,
    stored_prediction_ids,
)

logger = logging.getLogger(__name__)


def drift_alarm(report: DriftReport) -> DriftDetected:
    """The ``drift_detected`` of a drifting report: which features, by how much, which window."""
    return DriftDetected(
        model_version=report.model_version,
        window_size=report.window.size,
        drifted_features=report.drifted_features,
        features=[f for f in report.features if f.drifted],
        detected_at=report.computed_at,
    )


class Monitor:
    def __init__(self, settings: Settings, db: Database, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.db = db
        self.metrics = metrics or Metrics()
        self.tracker = EpisodeTracker(settings.settle_checks)
        self._episodes_restored = False
        self.relay: SyncOutboxRelay | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._registry_failures: dict[str, float] = {}

    # -- events ----------------------------------------------------------------------------
    def record_prediction(self, event: PredictionLogged) -> int:
        """Add one event's decisions to the log; returns how many were new."""
        return self.record_predictions([event])

    def record_predictions(self, events: Sequence[PredictionLogged]) -> int:
        """Add the decisions of several events in one statement and one commit; returns how
        many were new (a redelivered prediction id, in the batch or stored, adds nothing)."""
        received_at = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "prediction_id": d.prediction.prediction_id,
                "model_version": d.prediction.model_version,
                "score": d.prediction.score,
                "features": list(d.features),
                "created_at": d.prediction.created_at.astimezone(UTC),
                "received_at": received_at,
            }
            for e in events
            for d in e.decisions
        ]
        if not rows:
            return 0
        unique = list(_first_per_key(rows, "prediction_id").items())
        with self.db.session() as session:
            stored = stored_prediction_ids(session, [pid for pid, _ in unique])
            fresh = [row for pid, row in unique if pid not in stored]
            if fresh:
                # One executemany (compiled once, cached); a concurrent insert of the same
                # id is ignored, as a redelivery is.
                session.execute(ignore_duplicates(session, predictions), fresh)
        added = len(fresh)
        if added:
            self.metrics.predictions.inc(added)
        return added

    def record_reference(self, event: TrainingCompleted) -> bool:
        """Keep the reference distribution of a newly trained version (success only)."""
        if event.status != "succeeded" or event.model_version is None or not event.reference:
            return False
        samples = {r.feature: list(r.sample) for r in event.reference}
        with self.db.session() as session:
            if self.db.processed.seen(session, event.event_id):
                return False
            session.execute(
                delete(references).where(references.c.model_version == event.model_version)
            )
            session.execute(
                references.insert().values(
                    model_version=event.model_version,
                    run_id=event.run_id,
                    feature_spec_version=event.feature_spec_version,
                    samples=samples,
                    received_at=datetime.now(UTC),
                )
            )
            self.db.processed.record(session, event.event_id, event.event_type)
        logger.info("reference of model version %s stored", event.model_version)
        return True

    # -- reports ---------------------------------------------------------------------------
    def serving_version(self) -> str | None:
        """The model version of the newest prediction: the one serving now."""
        with self.db.session() as session:
            return session.execute(
                select(predictions.c.model_version).order_by(predictions.c.id.desc()).limit(1)
            ).scalar_one_or_none()

    def report(self, window: int, max_age_s: float | None = None) -> DriftReport:
        """Drift of the newest ``window`` predictions of the serving version (and, for the
        detector, none older than ``max_age_s``) against that version's reference."""
        version = self.serving_version()
        with self.db.session() as session:
            ref = None
            if version is not None:
                ref = session.execute(
                    select(references.c.samples).where(references.c.model_version == version)
                ).scalar_one_or_none()
            query = (
                select(predictions.c.features, predictions.c.score, predictions.c.created_at)
                .where(predictions.c.model_version == version)
                .order_by(predictions.c.id.desc())
                .limit(window)
            )
            if max_age_s is not None:
                oldest = datetime.now(UTC) - timedelta(seconds=max_age_s)
                query = query.where(predictions.c.created_at >= oldest)
            rows = [
                WindowRow(features, float(score), as_utc(created))
                for features, score, created in session.execute(query)
            ]
        if ref is None and version is not None:
            ref = self._reference_from_registry(version)
        return compute_report(ref, version, rows, window, self.settings.thresholds())

    def _reference_from_registry(self, version: str) -> dict[str, list[float]] | None:
        """Read (and keep) a version's reference from MLflow; failures retry after a while."""
        uri = self.settings.mlflow_tracking_uri
        failed_at = self._registry_failures.get(version)
        if uri is None or (
            failed_at is not None and time.monotonic() - failed_at < self.settings.registry_retry_s
        ):
            return None
        try:
            run_id, samples = registry_reference(uri, self.settings.model_name, version)
        except Exception as exc:  # noqa: BLE001 - no reference yet; reported as such
            self._registry_failures[version] = time.monotonic()
            logger.warning("no reference for model version %s in the registry: %s", version, exc)
            return None
        with self.db.session() as session:
            session.execute(delete(references).where(references.c.model_version == version))
            session.execute(
                references.insert().values(
                    model_version=version,
                    run_id=run_id,
                    feature_spec_version="1",
                    samples=samples,
                    received_at=datetime.now(UTC),
                )
            )
        logger.info("reference of model version %s read from the registry", version)
        return samples

    # -- the periodic check ----------------------------------------------------------------
    def check(self) -> DriftReport:
        """One detector pass: update the metrics; on a new episode, stage ``drift_detected``."""
        report = self.report(self.settings.detect_window, self.settings.detect_max_age_s)
        self.metrics.window_size.set(report.window.size)
        for f in [*report.features, *([report.score] if report.score else [])]:
            self.metrics.psi.labels(f.feature).set(f.psi)
            self.metrics.ks.labels(f.feature).set(f.ks_statistic)
        self.metrics.drifted_features.set(len(report.drifted_features))
        observed = report
        if report.window.size < self.settings.alarm_min_samples and report.status in (
            "ok",
            "drift",
        ):
            observed = report.model_copy(update={"status": "insufficient_data"})
        self._restore_episodes()
        version = observed.model_version
        before = self.tracker.state(version)
        opened = self.tracker.observe(observed)
        after = self.tracker.state(version)
        if opened or after != before:
            # The episode's state and the alarm that opens it commit together: after a
            # restart the worker knows the episode, and the alarm is in the outbox.
            try:
                with self.db.session() as session:
                    save_episode(
                        session, version, after.active, after.calm_checks, after.started_at
                    )
                    if opened:
                        self.db.outbox.add(session, encode(drift_alarm(report)))
            except Exception:
                self.tracker.restore({version: before})  # the next check decides again
                if opened:
                    self.tracker.episodes -= 1
                raise
        if opened:
            if self.relay is not None:
                self.relay.wake()
            self.metrics.episodes.inc()
            logger.warning(
                "drift on model %s over %d predictions: %s",
                report.model_version,
                report.window.size,
                ", ".join(report.drifted_features),
            )
        self.metrics.drifting.set(1 if self.tracker.in_episode(report.model_version) else 0)
        return report

    def _restore_episodes(self) -> None:
        """Read the episode states back from the store, once (the first check after start)."""
        if self._episodes_restored:
            return
        with self.db.session() as session:
            stored = load_episodes(session)
        self.tracker.restore({version: EpisodeState(*state) for version, state in stored.items()})
        self._episodes_restored = True

    def prune(self) -> int:
        """Delete predictions beyond the newest ``retention_rows``."""
        with self.db.session() as session:
            newest = session.execute(select(func.max(predictions.c.id))).scalar_one_or_none()
            if newest is None or newest <= self.settings.retention_rows:
                return 0
            cutoff = newest - self.settings.retention_rows
            result = session.execute(delete(predictions).where(predictions.c.id <= cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.check_interval_s):
            try:
                self.check()
                self.prune()
            except Exception:  # noqa: BLE001 - the next check tries again
                logger.exception("drift check failed")

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, relay: bool = True, checks: bool = True) -> None:
        if relay:
            self.relay = SyncOutboxRelay(
                self.db.session,
                self.db.outbox,
                SyncPublisher(self.settings.amqp_uri, name="monitoring-publisher"),
                poll_interval_s=self.settings.relay_interval_s,
            )
            self.relay.start()
        if checks:
            self._thread = threading.Thread(target=self._loop, name="drift-checks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.relay is not None:
            self.relay.stop(timeout)


def _first_per_key(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """One row per ``key`` value, the first one (a repeat later in a batch is ignored)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out.setdefault(str(row[key]), row)
    return out
