"""What a score means: decisions by threshold, and how an explanation is presented.

Shared by everything that serves a model, so that the monolith and the inference service
turn the same score and attributions into the same decision and the same explanation.
The attribution method itself is gradient x input on the model's raw feature vector;
``explain_rows`` is its single implementation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from contracts.features import FEATURE_NAMES
from contracts.predictions import Attribution, Decision

if TYPE_CHECKING:
    import torch

REVIEW_THRESHOLD = 0.35
DECLINE_THRESHOLD = 0.80
TOP_K_ATTRIBUTIONS = 5


def decide(score: float) -> Decision:
    """``decline`` at or above 0.80, ``review`` at or above 0.35, else ``approve``."""
    if score >= DECLINE_THRESHOLD:
        return Decision.DECLINE
    if score >= REVIEW_THRESHOLD:
        return Decision.REVIEW
    return Decision.APPROVE


def top_attributions(
    features: npt.NDArray[np.floating], attributions: npt.NDArray[np.floating]
) -> list[Attribution]:
    """The ``TOP_K_ATTRIBUTIONS`` largest attributions by magnitude, named by the spec.

    Ties are broken by feature order, so every implementation lists the same features.
    """
    magnitude = np.abs(attributions.astype(np.float64))
    order = sorted(range(len(FEATURE_NAMES)), key=lambda i: (-round(float(magnitude[i]), 9), i))
    return [
        Attribution(
            feature=FEATURE_NAMES[i],
            value=round(float(features[i]), 6),
            attribution=round(float(attributions[i]), 6),
        )
        for i in order[:TOP_K_ATTRIBUTIONS]
    ]


def explain_rows(
    model: torch.nn.Module, features: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Scores and gradient x input attributions (of the logit) for a batch of rows.

    The model maps a float32 ``(n, N_FEATURES)`` tensor to ``(n,)`` or ``(n, 1)`` logits.
    Rows are independent, so one backward pass of the summed logits gives every row's
    gradient.
    """
    import torch

    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)).requires_grad_(True)
    with torch.enable_grad():
        logits = model(x).reshape(-1)
        (gradient,) = torch.autograd.grad(logits.sum(), x)
    scores = torch.sigmoid(logits).detach().double().numpy()
    attributions = (gradient * x).detach().double().numpy()
    return scores, attributions
