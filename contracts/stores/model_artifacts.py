"""The monolith's model artifact folder, as the model export reads it: one folder per
version (``model_versions.artifact_path``) holding these files.

``riskmodel.artifacts`` writes and reads them (the monolith through it, the export too).
"""

from __future__ import annotations

#: ``state_dict`` of ``riskmodel.RiskNet`` (``torch.save``; loaded with ``weights_only``).
WEIGHTS = "model.pt"
#: The reference distribution drift is measured against: features (rows x features) and
#: scores, float32 ``.npy`` arrays.
REFERENCE_FEATURES = "reference_features.npy"
REFERENCE_SCORES = "reference_scores.npy"
#: What a person reads: version, metrics, data window, feature spec.
META = "meta.json"
