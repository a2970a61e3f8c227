"""Data contracts: the columns the kit's data moves read or write in a deployable's store.

A data move (audit backfill, transaction reconciliation, model export) runs against a
store it does not own, through the database URL the topology gives. It must not import the
owner's code, so what it relies on is declared here, as SQLAlchemy Core tables holding only
those columns. Each deployable's real schema must contain them with compatible types: the
contract tests (``tests/contract/test_store_contracts.py``) create each store's schema the
way its owner does and hold it to its contract, on SQLite and PostgreSQL.
"""
