"""The risk model shared by every side that trains, serves or monitors one: the network,
the trainer, what a score means (`scoring`), quality metrics (`quality`) and drift
statistics (`drift`).

The monolith and the training service train the same network the same way (same data and
seed give the same model), so the code lives here instead of being copied into each.
"""

from riskmodel.network import RiskNet
from riskmodel.trainer import HOLDOUT_SHARE, REFERENCE_ROWS, TrainingResult, train_model

__all__ = ["HOLDOUT_SHARE", "REFERENCE_ROWS", "RiskNet", "TrainingResult", "train_model"]
