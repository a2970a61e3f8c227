"""The monolith's trainer: the model learns, and the same data and seed give the same model."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from contracts.features import N_FEATURES, transform_many
from datagen import generate
from riskmodel import artifacts as store
from riskmodel.quality import roc_auc
from riskmodel.trainer import REFERENCE_ROWS, TrainingResult, train_model

TRAIN_ROWS = 15_000
HELDOUT_ROWS = 3_000
MIN_HELDOUT_AUC = 0.85


def _rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    transactions = generate(n, seed=seed)
    return transform_many(transactions), np.array([bool(t.is_fraud) for t in transactions])


@pytest.fixture(scope="module")
def training_rows() -> tuple[np.ndarray, np.ndarray]:
    torch.set_num_threads(1)
    return _rows(TRAIN_ROWS, seed=101)


@pytest.fixture(scope="module")
def trained(training_rows: tuple[np.ndarray, np.ndarray]) -> TrainingResult:
    features, labels = training_rows
    return train_model(features, labels, epochs=8, seed=0)


def _scores(model: torch.nn.Module, features: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return torch.sigmoid(model(torch.from_numpy(features))).squeeze(1).numpy()


def test_the_model_learns_on_separately_seeded_held_out_data(
    trained: TrainingResult, record_property: pytest.RecordProperty, capsys: pytest.CaptureFixture
) -> None:
    features, labels = _rows(HELDOUT_ROWS, seed=202)  # another stream: other accounts, times
    assert 0 < labels.sum() < len(labels)

    auc = roc_auc(labels, _scores(trained.model, features))

    record_property("heldout_roc_auc", round(auc, 4))
    with capsys.disabled():
        sys.stdout.write(
            f"\n[trainer] held-out ROC AUC {auc:.4f} on {HELDOUT_ROWS} rows "
            f"({int(labels.sum())} fraud); internal split {trained.metrics.roc_auc:.4f}\n"
        )
    assert auc >= MIN_HELDOUT_AUC
    assert trained.metrics.roc_auc >= MIN_HELDOUT_AUC
    assert trained.metrics.pr_auc > 3 * trained.metrics.fraud_rate  # far above a random ranking


def test_metrics_describe_the_split(trained: TrainingResult) -> None:
    metrics = trained.metrics
    assert metrics.train_rows == TRAIN_ROWS * 4 // 5
    assert metrics.holdout_rows == TRAIN_ROWS // 5
    assert 0.01 <= metrics.fraud_rate <= 0.03
    assert 0.0 <= metrics.brier < 0.1
    assert trained.reference_features.shape == (REFERENCE_ROWS, N_FEATURES)
    assert trained.reference_scores.shape == (REFERENCE_ROWS,)
    assert np.all((trained.reference_scores >= 0) & (trained.reference_scores <= 1))


def test_the_same_data_and_seed_give_the_same_model(
    training_rows: tuple[np.ndarray, np.ndarray],
) -> None:
    features, labels = training_rows[0][:3000], training_rows[1][:3000]
    one = train_model(features, labels, epochs=2, seed=7)
    two = train_model(features, labels, epochs=2, seed=7)
    other = train_model(features, labels, epochs=2, seed=8)

    assert one.metrics == two.metrics
    for name, tensor in one.model.state_dict().items():
        assert torch.equal(tensor, two.model.state_dict()[name]), name
    np.testing.assert_array_equal(one.reference_scores, two.reference_scores)
    assert not torch.equal(
        one.model.state_dict()["layers.0.weight"], other.model.state_dict()["layers.0.weight"]
    )


def test_features_and_labels_must_have_one_length() -> None:
    with pytest.raises(ValueError):
        train_model(np.zeros((10, N_FEATURES), np.float32), np.zeros(9, bool))


def test_a_saved_model_scores_exactly_as_the_trained_one(
    trained: TrainingResult, training_rows: tuple[np.ndarray, np.ndarray], tmp_path
) -> None:
    folder = tmp_path / "v1"
    store.save(folder, trained, {"version": 1})
    loaded = store.load(folder, 1)

    rows = training_rows[0][:500]
    np.testing.assert_array_equal(_scores(loaded.network, rows), _scores(trained.model, rows))
    np.testing.assert_array_equal(loaded.reference_features, trained.reference_features)
    assert loaded.version == 1
    with pytest.raises(FileExistsError):  # versions are immutable
        store.save(folder, trained, {"version": 1})
