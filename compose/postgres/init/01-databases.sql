-- Rendered by `kit render compose`: one database per store (no service shares one).
CREATE DATABASE inference;
CREATE DATABASE ingestion;
CREATE DATABASE mlflow;
CREATE DATABASE monitoring;
CREATE DATABASE monolith;
CREATE DATABASE training;
