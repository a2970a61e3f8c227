"""An export as one YAML stream: the gaps as a comment block, then the resources in the
order to apply them (``kubectl apply -f`` reads the stream as is)."""

from __future__ import annotations

import yaml

from migration_playbook.mesh.model import GapKind, MeshExport

_HEADER = (
    "# Rendered by `kit routes export {platform}` from the kit's route table; do not edit.",
    "# Behaviour of the kit's proxy these resources do not carry is listed below. Where a",
    "# 'missing' line matters, keep the kit's proxy as the edge inside the cluster and point",
    "# these resources at it (migration_playbook/docs/kubernetes.md).",
)


class _Dumper(yaml.SafeDumper):
    """Plain YAML: a value used twice is written twice, never as an anchor and alias."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def render(export: MeshExport) -> str:
    lines = [line.format(platform=export.platform) for line in _HEADER]
    for kind in (GapKind.MISSING, GapKind.APPROXIMATED):
        chosen = [gap for gap in export.gaps if gap.kind is kind]
        if chosen:
            lines.append(f"# {kind.value}:")
            lines += [f"#   {gap.route}: {gap.feature}: {gap.detail}" for gap in chosen]
    if not export.gaps:
        lines.append("# nothing missing")
    body = "---\n".join(
        yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
        for document in export.documents
    )
    return "\n".join(lines) + "\n---\n" + body
