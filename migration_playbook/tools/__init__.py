"""Tools around the migration: the faulty candidate build (``chaos``), the monolith's
ten-second tour and the end-to-end migration demo."""
