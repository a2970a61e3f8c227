"""Training the risk network on labelled feature rows, with a held-out evaluation.

Pure function of its inputs (rows, labels, options, seed): the same data and seed give
the same model, which keeps the monolith's behaviour reproducible in tests and demos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from contracts.registry import ModelMetrics
from riskmodel.network import RiskNet
from riskmodel.quality import average_precision, brier, roc_auc

HOLDOUT_SHARE = 0.2
REFERENCE_ROWS = 5000
_BATCH_SIZE = 256
_LEARNING_RATE = 5e-3


@dataclass(frozen=True)
class TrainingResult:
    """A trained model, its held-out metrics and the reference distribution for drift."""

    model: RiskNet
    metrics: ModelMetrics
    reference_features: npt.NDArray[np.float32]
    reference_scores: npt.NDArray[np.float32]


def _split(n: int, seed: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    order = np.random.default_rng(seed).permutation(n)
    holdout = max(1, int(n * HOLDOUT_SHARE))
    return order[holdout:], order[:holdout]


def train_model(
    features: npt.NDArray[np.float32],
    labels: npt.NDArray[np.bool_],
    *,
    epochs: int = 8,
    seed: int = 0,
) -> TrainingResult:
    """Train on 80 % of the rows, evaluate on the other 20 %."""
    if features.shape[0] != labels.shape[0]:
        raise ValueError("features and labels differ in length")
    torch.manual_seed(seed)
    train_idx, holdout_idx = _split(features.shape[0], seed)
    x_train = torch.from_numpy(features[train_idx])
    y_train = torch.from_numpy(labels[train_idx].astype(np.float32)).unsqueeze(1)

    model = RiskNet(n_features=features.shape[1])
    model.set_standardisation(x_train.mean(dim=0), x_train.std(dim=0))
    positives = float(y_train.sum())
    # Fraud is rare: weight positives up (capped) so the network does not learn "always no".
    pos_weight = torch.tensor([min(20.0, (len(y_train) - positives) / max(positives, 1.0))])
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimiser = torch.optim.Adam(model.parameters(), lr=_LEARNING_RATE)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        permutation = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(x_train), _BATCH_SIZE):
            batch = permutation[start : start + _BATCH_SIZE]
            optimiser.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimiser.step()
    model.eval()

    with torch.inference_mode():
        holdout_scores = torch.sigmoid(model(torch.from_numpy(features[holdout_idx]))).squeeze(1)
        all_scores = torch.sigmoid(model(torch.from_numpy(features))).squeeze(1)
    holdout_labels = labels[holdout_idx]
    scores = holdout_scores.numpy()
    metrics = ModelMetrics(
        roc_auc=round(roc_auc(holdout_labels, scores), 6),
        pr_auc=round(average_precision(holdout_labels, scores), 6),
        brier=round(brier(holdout_labels, scores), 6),
        train_rows=int(len(train_idx)),
        holdout_rows=int(len(holdout_idx)),
        fraud_rate=round(float(labels.mean()) if labels.size else 0.0, 6),
    )
    reference = np.random.default_rng(seed).permutation(features.shape[0])[:REFERENCE_ROWS]
    return TrainingResult(
        model=model,
        metrics=metrics,
        reference_features=features[reference],
        reference_scores=all_scores.numpy()[reference].astype(np.float32),
    )
