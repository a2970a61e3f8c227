"""The monolith's network: the shared one in ``riskmodel`` (moved there so that the
training service trains the very same network without importing the monolith)."""

from riskmodel.network import RiskNet

__all__ = ["RiskNet"]
