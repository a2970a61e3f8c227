"""Model versions and which one serves: rows in the database, artifacts on disk.

The serving model is cached in memory and swapped under a lock on promotion, so a request
always scores with one complete model. The database row is the truth: with several
gunicorn worker processes (``MONOLITH_WORKERS``) a promotion answered by one worker reaches
the others when they next look (at most every ``follow_interval_s``), the way a team's
multi-process monolith would read a shared setting.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from contracts.features import FEATURE_SPEC_VERSION
from contracts.registry import DataWindow, ModelList, ModelMetrics, ModelVersion
from legacy_monolith.clock import as_utc, utcnow
from legacy_monolith.db import Database
from legacy_monolith.errors import NotFound
from legacy_monolith.schema import ModelVersionRow, ServingStateRow
from riskmodel import artifacts as store
from riskmodel.trainer import TrainingResult

logger = logging.getLogger(__name__)


class ModelRegistry:
    """Registers trained models, promotes versions and hands out the serving one."""

    def __init__(self, db: Database, model_dir: Path, follow_interval_s: float = 1.0) -> None:
        self._db = db
        self._model_dir = model_dir
        self._lock = threading.Lock()
        self._serving: store.LoadedModel | None = None
        self.load_error: str | None = None
        self._follow_interval_s = follow_interval_s
        self._checked_at = time.monotonic()

    # -- registration -------------------------------------------------------------------
    def register(
        self,
        result: TrainingResult,
        window: DataWindow,
        training_run_id: str | None,
    ) -> int:
        """Store a trained model as the next version; returns the version number."""
        with self._lock, self._db.session() as session:
            version = int(session.scalar(select(func.max(ModelVersionRow.version))) or 0) + 1
            folder = self._model_dir / f"v{version}"
            meta: dict[str, Any] = {
                "version": version,
                "feature_spec_version": FEATURE_SPEC_VERSION,
                "metrics": result.metrics.model_dump(),
                "data_window": window.model_dump(mode="json"),
                "training_run_id": training_run_id,
            }
            store.save(folder, result, meta)
            session.add(
                ModelVersionRow(
                    version=version,
                    created_at=utcnow(),
                    training_run_id=training_run_id,
                    feature_spec_version=FEATURE_SPEC_VERSION,
                    metrics=result.metrics.model_dump(),
                    window_start=window.start,
                    window_end=window.end,
                    window_rows=window.rows,
                    artifact_path=str(folder),
                )
            )
        logger.info("registered model version %s (roc_auc %.3f)", version, result.metrics.roc_auc)
        return version

    # -- serving ------------------------------------------------------------------------
    def promote(self, version: int) -> ModelVersion:
        """Make ``version`` the serving model (also how a rollback is done)."""
        with self._db.session() as session:
            row = session.get(ModelVersionRow, version)
            if row is None:
                raise NotFound(f"model version {version} does not exist")
            loaded = store.load(Path(row.artifact_path), version)
            now = utcnow()
            row.promoted_at = now
            state = session.get(ServingStateRow, 1)
            if state is None:
                session.add(ServingStateRow(id=1, current_version=version, updated_at=now))
            else:
                state.current_version = version
                state.updated_at = now
        with self._lock:
            self._serving = loaded
            self.load_error = None
        logger.info("promoted model version %s", version)
        return self.get(version)

    def load_serving(self) -> None:
        """Load the promoted version at start-up; a broken artifact is recorded, not fatal."""
        version = self.current_version()
        if version is None:
            return
        try:
            with self._db.session() as session:
                row = session.get(ModelVersionRow, version)
                path = Path(row.artifact_path) if row else None
            if path is None:
                raise FileNotFoundError(f"no row for version {version}")
            loaded = store.load(path, version)
        except (OSError, RuntimeError) as exc:
            self.load_error = f"model version {version} failed to load: {exc}"
            logger.error(self.load_error)
            return
        with self._lock:
            self._serving = loaded

    def serving(self) -> store.LoadedModel | None:
        """The model that scores requests now, or None.

        Follows promotions made by another worker process: at most once per
        ``follow_interval_s`` it reads the serving version and loads it when it changed.
        """
        now = time.monotonic()
        if now - self._checked_at >= self._follow_interval_s:
            self._checked_at = now
            self._follow()
        return self._serving

    def _follow(self) -> None:
        try:
            version = self.current_version()
        except Exception as exc:  # noqa: BLE001 - keep serving what is loaded
            logger.warning("could not read the serving version: %s", exc)
            return
        serving = self._serving
        if version is None or (serving is not None and serving.version == version):
            return
        logger.info("another worker promoted version %s; loading it", version)
        self.load_serving()

    def current_version(self) -> int | None:
        with self._db.session() as session:
            state = session.get(ServingStateRow, 1)
            return state.current_version if state else None

    # -- reading ------------------------------------------------------------------------
    def get(self, version: int) -> ModelVersion:
        current = self.current_version()
        with self._db.session() as session:
            row = session.get(ModelVersionRow, version)
            if row is None:
                raise NotFound(f"model version {version} does not exist")
            return _to_contract(row, current)

    def list(self) -> ModelList:
        current = self.current_version()
        with self._db.session() as session:
            rows = session.scalars(select(ModelVersionRow).order_by(ModelVersionRow.version.desc()))
            models = [_to_contract(row, current) for row in rows]
        return ModelList(
            current_version=str(current) if current is not None else None, models=models
        )


def _to_contract(row: ModelVersionRow, current: int | None) -> ModelVersion:
    return ModelVersion(
        version=str(row.version),
        created_at=as_utc(row.created_at),
        training_run_id=row.training_run_id,
        feature_spec_version=row.feature_spec_version,
        metrics=ModelMetrics.model_validate(row.metrics),
        data_window=DataWindow(
            start=as_utc(row.window_start), end=as_utc(row.window_end), rows=row.window_rows
        ),
        is_current=row.version == current,
        promoted_at=as_utc(row.promoted_at) if row.promoted_at else None,
    )
