"""Rendering the topology and the phase files for other platforms (Docker Compose).

The rendered files are committed under ``compose/`` and a test fails when they drift from
what the kit renders: the topology and the phase files stay the one source of truth.
"""

from migration_playbook.render.compose import RenderError
from migration_playbook.render.files import check_files, render_files, write_files

__all__ = ["RenderError", "check_files", "render_files", "write_files"]
