"""The migration's phases as data: one YAML file per phase, validated by ``models``."""
