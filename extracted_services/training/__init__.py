"""The training service: a nameko worker that trains the risk model on the transactions
ingestion accepted, registers every version in MLflow, and promotes by policy."""
