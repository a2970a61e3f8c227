"""Rehearsing a rollback: the same phase with a faulty build as the canary's candidate."""

from __future__ import annotations

from migration_playbook.phases.models import Phase


def with_candidate(phase: Phase, candidate: str) -> Phase:
    """The same phase with the canary steps' candidate replaced by another process.

    Used to rehearse a rollback with a faulty build: shadow steps keep the real candidate
    (a shadow never reaches clients), every canary patch points at ``candidate``, whose
    upstream entry copies the original candidate's settings with the new URL.
    """
    table = dict(phase.route_table)
    upstreams = dict(table.get("upstreams", {}))
    originals = {p.candidate for s in phase.steps for p in s.set if p.mode == "canary"}
    template = next((dict(upstreams[name]) for name in originals if name in upstreams), {})
    upstreams[candidate] = {**template, "url": f"{{{candidate}}}"}
    table["upstreams"] = upstreams
    steps = tuple(
        step.model_copy(
            update={
                "set": tuple(
                    p.model_copy(update={"candidate": candidate}) if p.mode == "canary" else p
                    for p in step.set
                )
            }
        )
        for step in phase.steps
    )
    processes = phase.processes if candidate in phase.processes else (*phase.processes, candidate)
    return phase.model_copy(update={"steps": steps, "route_table": table, "processes": processes})
