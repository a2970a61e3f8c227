"""The monolith's network: the shared one in ``contracts.modeling`` (moved there so that the
training service trains the very same network without importing the monolith)."""

from contracts.modeling.network import RiskNet

__all__ = ["RiskNet"]
