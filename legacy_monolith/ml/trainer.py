"""The monolith's trainer: the shared one in ``riskmodel`` (moved there so that the
training service trains the same way without importing the monolith)."""

from riskmodel.trainer import HOLDOUT_SHARE, REFERENCE_ROWS, TrainingResult, train_model

__all__ = ["HOLDOUT_SHARE", "REFERENCE_ROWS", "TrainingResult", "train_model"]
