"""Gates: checks that say pass, fail or insufficient-data, with the evidence."""
