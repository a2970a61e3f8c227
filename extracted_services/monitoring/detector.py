"""Drift over a window and drift *episodes*: pure logic, pinned by the unit tests.

The statistics are ``riskmodel.drift``'s (the monolith's too). An episode starts with the
first check that finds drift (the one that raises ``drift_detected``), and ends after
``settle_checks`` consecutive checks without drift, or when another model version starts
serving (its own reference, its own episodes). Checks without enough data change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from contracts.features import FEATURE_NAMES
from contracts.monitoring import DriftReport, DriftThresholds, DriftWindow
from riskmodel.drift import feature_drift

SCORE = "score"


@dataclass(frozen=True)
class WindowRow:
    features: Sequence[float]
    score: float
    created_at: datetime


def compute_report(
    reference: dict[str, Sequence[float]] | None,
    model_version: str | None,
    rows: Sequence[WindowRow],
    requested: int,
    thresholds: DriftThresholds,
) -> DriftReport:
    """Per-feature PSI/KS and score drift of ``rows`` against ``reference``
    (feature name -> reference sample; ``score`` for the predicted score)."""
    times = [r.created_at for r in rows]
    window = DriftWindow(
        requested=requested,
        size=len(rows),
        start=min(times) if times else None,
        end=max(times) if times else None,
    )
    reference_rows = len(reference.get(FEATURE_NAMES[0], ())) if reference else 0
    base = {
        "model_version": model_version,
        "reference_rows": reference_rows,
        "window": window,
        "thresholds": thresholds,
        "computed_at": datetime.now(UTC),
    }
    if not reference:
        return DriftReport(status="no_reference", drifted_features=[], features=[], **base)
    if len(rows) < thresholds.min_samples:
        return DriftReport(status="insufficient_data", drifted_features=[], features=[], **base)
    matrix = np.asarray([r.features for r in rows], dtype=np.float64)
    per_feature = [
        feature_drift(name, reference[name], matrix[:, i], thresholds)
        for i, name in enumerate(FEATURE_NAMES)
        if name in reference
    ]
    score = None
    if SCORE in reference:
        score = feature_drift(SCORE, reference[SCORE], [r.score for r in rows], thresholds)
    drifted = [f.feature for f in per_feature if f.drifted]
    return DriftReport(
        status="drift" if drifted else "ok",
        drifted_features=drifted,
        features=per_feature,
        score=score,
        **base,
    )


@dataclass
class EpisodeState:
    """Where one model version stands: in an episode or not, and how many calm checks in a
    row since its last drifting one (the monitor keeps it in its store across restarts)."""

    active: bool = False
    calm_checks: int = 0
    started_at: datetime | None = None


@dataclass
class EpisodeTracker:
    """Decides which checks raise an alarm: the first drifting check of each episode."""

    settle_checks: int = 3
    _by_version: dict[str | None, EpisodeState] = field(default_factory=dict)
    episodes: int = 0

    def state(self, model_version: str | None) -> EpisodeState:
        """A copy of one version's state (a fresh one if it was never checked)."""
        state = self._by_version.get(model_version, EpisodeState())
        return EpisodeState(state.active, state.calm_checks, state.started_at)

    def restore(self, states: dict[str | None, EpisodeState]) -> None:
        """Set versions' states (read back from the store after a restart, or put back
        after a check whose outcome could not be stored)."""
        for version, state in states.items():
            self._by_version[version] = EpisodeState(
                state.active, state.calm_checks, state.started_at
            )

    def observe(self, report: DriftReport) -> bool:
        """Record one check; ``True`` when it opens a new episode (publish the alarm)."""
        state = self._by_version.setdefault(report.model_version, EpisodeState())
        if report.status == "drift":
            state.calm_checks = 0
            if not state.active:
                state.active = True
                state.started_at = report.computed_at
                self.episodes += 1
                return True
            return False
        if report.status == "ok" and state.active:
            state.calm_checks += 1
            if state.calm_checks >= self.settle_checks:
                state.active = False
        return False

    def in_episode(self, model_version: str | None) -> bool:
        state = self._by_version.get(model_version)
        return bool(state and state.active)
