"""The monolith's business logic, one module per capability, all on one database."""
