"""A tiny helpdesk monolith (tickets), one service extracted from it, and what a team
writes to migrate it with the kit (``kit/``). See ``migration_playbook/docs/adopting.md``."""
