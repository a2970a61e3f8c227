"""The migration playbook: the ``kit`` command, phases as data, gates, runner and report."""
