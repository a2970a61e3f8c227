"""The legacy AI monolith: one Flask process, one database, everything coupled."""
