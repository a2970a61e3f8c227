"""Shadow scoring: a proposed version scored beside the champion on live traffic.

Before a new version may serve, training proposes it (``challenger_proposed``). Every
instance then loads it (on the model-load thread, with the checks a promotion gets) and,
for the next ``rows`` live decisions, scores each batch with it as well, after the
champion, whose answers are the ones clients get. It counts the decisions both would
have taken alike, each side's declines and mean score, and the rows the challenger could
not score, then reports once (``shadow_scored``) and drops the challenger. A different
champion meanwhile (a promotion) ends it as ``aborted``; a version that cannot be loaded
is reported ``failed``. Scoring runs on the scoring thread between batches: a few tens of
microseconds per row, off the answer's path only in the sense that the answer is already
computed; the audit write waits for it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from contracts.events.models import ChallengerProposed, ShadowScored
from contracts.predictions import Decision
from extracted_services.inference.registry import ServedModel
from riskmodel.scoring import DECLINE_THRESHOLD, decide

logger = logging.getLogger(__name__)


@dataclass
class ShadowRun:
    """One proposed version being scored beside ``champion_version`` on this instance."""

    proposal: ChallengerProposed
    challenger: ServedModel | None  # None: it could not be loaded (the run has failed)
    champion_version: str
    instance: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rows: int = 0
    agreements: int = 0
    challenger_declines: int = 0
    champion_declines: int = 0
    challenger_score_sum: float = 0.0
    champion_score_sum: float = 0.0
    errors: int = 0
    outcome: str | None = None  # set when it ends: completed | aborted | failed
    reason: str = ""
    reported: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def observe(
        self,
        served_version: str,
        features: npt.NDArray[np.float32],
        champion_scores: npt.NDArray[np.float64],
    ) -> None:
        """Score one batch with the challenger (called on the scoring thread)."""
        if self.done:
            return
        if served_version != self.champion_version:
            self.end("aborted", f"the champion changed to v{served_version} first")
            return
        if self.challenger is None:
            self.end("failed", "the proposed version is not loaded")
            return
        wanted = self.proposal.rows - self.rows
        features, champion_scores = features[:wanted], champion_scores[:wanted]
        try:
            scores, _ = self.challenger.backend.explain(features)
        except Exception as exc:  # noqa: BLE001 - the report says so; serving goes on
            self.end("failed", f"the challenger failed to score a batch: {exc}")
            return
        finite = np.isfinite(scores)
        self.errors += int((~finite).sum())
        scores = np.clip(np.where(finite, scores, 0.0), 0.0, 1.0)
        mine = [decide(float(v)) for v in scores]
        theirs = [decide(float(v)) for v in champion_scores]
        with self._lock:
            self.rows += len(mine)
            self.agreements += sum(a == b for a, b in zip(mine, theirs, strict=True))
            self.challenger_declines += int((scores >= DECLINE_THRESHOLD).sum())
            self.champion_declines += sum(d is Decision.DECLINE for d in theirs)
            self.challenger_score_sum += float(scores.sum())
            self.champion_score_sum += float(np.clip(champion_scores, 0.0, 1.0).sum())
        if self.rows >= self.proposal.rows:
            self.end("completed", "")

    def end(self, outcome: str, reason: str) -> None:
        if self.outcome is None:
            self.outcome, self.reason = outcome, reason
            logger.info(
                "shadow scoring of v%s %s after %d rows%s",
                self.proposal.model_version,
                outcome,
                self.rows,
                f": {reason}" if reason else "",
            )

    def report(self) -> ShadowScored:
        """The ``shadow_scored`` of this run (it must have ended)."""
        rows = max(self.rows, 1)
        outcome = self.outcome or "aborted"
        return ShadowScored(
            model_version=self.proposal.model_version,
            champion_version=self.champion_version,
            instance=self.instance,
            outcome=outcome,
            reason=self.reason,
            rows=self.rows,
            agreement=round(self.agreements / rows, 6),
            challenger_decline_rate=round(self.challenger_declines / rows, 6),
            champion_decline_rate=round(self.champion_declines / rows, 6),
            challenger_mean_score=round(self.challenger_score_sum / rows, 6),
            champion_mean_score=round(self.champion_score_sum / rows, 6),
            errors=self.errors,
            started_at=self.started_at,
            finished_at=datetime.now(UTC),
        )
