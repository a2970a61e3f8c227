"""The legacy sync: consumes ``transactions_ingested`` and writes the transactions into the
monolith's database with the monolith's own ingest rules (coexistence during phase 2)."""
