"""Data moves: the copies and comparisons between stores a migration needs (audit backfill,
transaction reconciliation, the model export). Each reads and writes stores only through
their configured URLs and the data contracts in ``contracts``."""
