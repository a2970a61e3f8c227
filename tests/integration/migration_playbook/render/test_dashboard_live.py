"""Every proxy metric the Grafana dashboard queries is on a live proxy's ``/metrics``, and
every monolith metric on a live monolith's (the apps themselves, serving for real)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.settings import Settings as MonolithSettings
from strangler_proxy.app import create_app as create_proxy
from strangler_proxy.settings import Settings as ProxySettings
from tests.integration.strangler_proxy.servers import ServerThread
from tests.unit.migration_playbook.render.test_dashboard import exposed_names, query_metrics

REPO = Path(__file__).resolve().parents[4]
DASHBOARD = json.loads((REPO / "compose/grafana/dashboards/migration.json").read_text())


def _wanted(prefix: str) -> set[str]:
    names = set()
    for panel in DASHBOARD["panels"]:
        for target in panel.get("targets", []):
            names |= {n for n in query_metrics(target["expr"]) if n.startswith(prefix)}
    return names


def test_the_proxy_metrics_the_dashboard_queries_are_live(tmp_path: Path) -> None:
    table = tmp_path / "routes.yaml"
    table.write_text((REPO / "compose/routes/phase-1.yaml").read_text())
    settings = ProxySettings(auth_disabled=True, route_table=table, watch_table=False)
    server = ServerThread(create_proxy(settings)).start()
    try:
        response = httpx.get(f"{server.url}/metrics", timeout=5)
    finally:
        server.stop()
    assert response.status_code == 200
    wanted = _wanted("proxy_")
    assert len(wanted) >= 8
    missing = wanted - exposed_names(response.text)
    assert not missing, missing


def test_the_monolith_metrics_the_dashboard_queries_are_live(tmp_path: Path) -> None:
    settings = MonolithSettings(
        database_url=f"sqlite:///{tmp_path / 'monolith.db'}", model_dir=tmp_path / "models"
    )
    response = create_monolith(settings).test_client().get("/metrics")
    assert response.status_code == 200
    wanted = _wanted("monolith_")
    assert wanted
    missing = wanted - exposed_names(response.get_data(as_text=True))
    assert not missing, missing
