"""The risk model's network and trainer, shared by every side that trains a model.

The monolith and the training service train the same network the same way (same data and
seed give the same model), so the code lives here instead of being copied into each.
"""

from contracts.modeling.network import RiskNet
from contracts.modeling.trainer import HOLDOUT_SHARE, REFERENCE_ROWS, TrainingResult, train_model

__all__ = ["HOLDOUT_SHARE", "REFERENCE_ROWS", "RiskNet", "TrainingResult", "train_model"]
