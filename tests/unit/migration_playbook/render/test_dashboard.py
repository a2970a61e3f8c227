"""The Grafana dashboard loads, is well formed, and every query names a metric the
deployables export: checked against the exposition of each deployable's own registry
(the code's ``Metrics`` classes, rendered by prometheus_client as ``/metrics`` would)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from migration_playbook.render.dashboard import DATASOURCE_UID

REPO = Path(__file__).resolve().parents[4]
DASHBOARD = REPO / "compose/grafana/dashboards/migration.json"
#: RabbitMQ's own exporter (rabbitmq_prometheus, per-object endpoint): no kit process
#: exports queue depths per queue, and no RabbitMQ with that plugin runs in the tests.
RABBITMQ_EXPORTER = {"rabbitmq_queue_messages_ready", "rabbitmq_queue_messages"}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}
_PROMQL_WORDS = set(
    "sum max min avg count by without rate increase irate histogram_quantile on ignoring "
    "and or unless".split()
)


def exposed_names(exposition: str) -> set[str]:
    """Every sample name an exposition can carry, samples present or not (a labelled
    metric with no children yet still declares its family)."""
    names = set()
    for family in text_string_to_metric_families(exposition):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def query_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    bare = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", "", bare)  # grouping labels
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # range selectors
    tokens = re.findall(r"(?<![\w:])[A-Za-z_:][\w:]*(?![\w:])(?!\s*\()", bare)
    return {t for t in tokens if t not in _PROMQL_WORDS and not re.fullmatch(r"\d.*", t)}


def _registry_text(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def code_exports(tmp_path: Path) -> set[str]:
    from extracted_services.inference.metrics import Metrics as InferenceMetrics
    from extracted_services.ingestion.metrics import Metrics as IngestionMetrics
    from extracted_services.monitoring.metrics import Metrics as MonitoringMetrics
    from extracted_services.training.metrics import Metrics as TrainingMetrics
    from legacy_monolith.observability import Metrics as MonolithMetrics
    from legacy_monolith.sync.service import LegacySync
    from legacy_monolith.sync.settings import SyncSettings
    from strangler_proxy.metrics import ProxyMetrics

    registries = [cls().registry for cls in (InferenceMetrics, IngestionMetrics,
                  MonitoringMetrics, TrainingMetrics, MonolithMetrics, ProxyMetrics)]  # fmt: skip
    sync = LegacySync(SyncSettings(database_url=f"sqlite:///{tmp_path / 'sync.db'}"))
    registries.append(sync.registry)
    names: set[str] = set()
    for registry in registries:
        names |= exposed_names(_registry_text(registry))
    return names


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _queries(dashboard: dict) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"]
            for target in panel.get("targets", [])]  # fmt: skip


def test_the_dashboard_is_well_formed(dashboard: dict) -> None:
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        assert {"id", "type", "title", "gridPos"} <= set(panel)
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == DATASOURCE_UID
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs))


def test_the_provisioned_datasource_is_the_one_the_panels_use() -> None:
    provisioning = yaml.safe_load(
        (REPO / "compose/grafana/provisioning/datasources/prometheus.yaml").read_text()
    )
    assert [d["uid"] for d in provisioning["datasources"]] == [DATASOURCE_UID]
    dashboards = yaml.safe_load(
        (REPO / "compose/grafana/provisioning/dashboards/kit.yaml").read_text()
    )
    compose = yaml.safe_load((REPO / "compose/phase-0.yaml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{dashboards['providers'][0]['options']['path']}:ro" in mounts


def test_the_dashboard_covers_what_a_migration_watches(dashboard: dict) -> None:
    metrics = set().union(*(query_metrics(expr) for _, expr in _queries(dashboard)))
    for wanted in ("proxy_requests_total", "proxy_request_duration_seconds_bucket",
                   "proxy_shadow_mismatches_total", "proxy_shadow_decisions_total",
                   "proxy_canary_weight_percent", "proxy_rollbacks_total",
                   "inference_served_model_version", "rabbitmq_queue_messages_ready",
                   "legacy_sync_events_parked_total", "monitoring_feature_psi"):  # fmt: skip
        assert wanted in metrics, wanted


def test_every_query_names_a_metric_the_code_exports(dashboard: dict, tmp_path: Path) -> None:
    exported = code_exports(tmp_path)
    unknown = [
        (title, name)
        for title, expr in _queries(dashboard)
        for name in query_metrics(expr)
        if name not in exported and name not in RABBITMQ_EXPORTER
    ]
    assert not unknown, unknown


def test_a_misspelt_metric_is_caught(tmp_path: Path) -> None:
    exported = code_exports(tmp_path)
    assert query_metrics("sum by (route) (rate(proxy_request_total[1m]))") == {
        "proxy_request_total"
    }
    assert "proxy_request_total" not in exported
    assert "proxy_requests_total" in exported
