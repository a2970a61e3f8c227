"""The extracted ingestion service: ``POST /api/v1/transactions`` plus the
``transactions_ingested`` event, published through a transactional outbox."""
