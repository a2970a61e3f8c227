"""The route table on a service mesh: Istio and Gateway API resources from a kit route table,
with what they cannot express listed, validated against the vendored CRD schemas."""

from migration_playbook.mesh.gateway_api import export_gateway_api
from migration_playbook.mesh.istio import export_istio
from migration_playbook.mesh.model import ExportError, ExportOptions, Gap, GapKind, MeshExport
from migration_playbook.mesh.render import render
from migration_playbook.mesh.schemas import schema_errors

__all__ = [
    "ExportError",
    "ExportOptions",
    "Gap",
    "GapKind",
    "MeshExport",
    "export_gateway_api",
    "export_istio",
    "render",
    "schema_errors",
]
