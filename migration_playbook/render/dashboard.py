"""The migration's Grafana dashboard and its provisioning (the data source, the folder).

Every query names a metric the deployables export (their ``/metrics``; a test checks each
name against the code's own registries and a live proxy) or RabbitMQ's exporter
(``rabbitmq_*``: queue depths and dead letters per queue, which no kit process exports).
Rows follow what a migration watches: traffic per route and side, the shadow comparison,
the canary, the served model, the queues, and drift per feature.
"""

from __future__ import annotations

from typing import Any

DATASOURCE_UID = "kit-prometheus"
DASHBOARD_UID = "kit-migration"
_DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}

#: (row title, [(panel title, unit, [PromQL, ...]), ...])
PANELS: tuple[tuple[str, tuple[tuple[str, str, tuple[str, ...]], ...]], ...] = (
    (
        "Traffic per route and side",
        (
            ("Requests/s by route and side", "reqps",
             ("sum by (route, side) (rate(proxy_requests_total[1m]))",)),
            ("Errors/s by route and side (5xx answers and failed exchanges)", "reqps",
             ('sum by (route, side) (rate(proxy_requests_total{status_class="5xx"}[1m]))',
              "sum by (route, side) (rate(proxy_upstream_errors_total[1m]))")),
            ("p99 latency by route and side", "s",
             ("histogram_quantile(0.99, sum by (route, side, le) "
              "(rate(proxy_request_duration_seconds_bucket[5m])))",)),
            ("Fallbacks and breakers", "short",
             ("sum by (route, upstream) (rate(proxy_fallbacks_total[5m]))",
              "max by (upstream) (proxy_breaker_state)")),
        ),
    ),
    (
        "Shadow comparison",
        (
            ("Shadow mismatch rate", "percentunit",
             ("sum by (route) (rate(proxy_shadow_mismatches_total[5m])) / "
              "sum by (route) (rate(proxy_shadow_comparisons_total[5m]))",)),
            ("Decision agreement", "percentunit",
             ('sum by (route) (rate(proxy_shadow_decisions_total{agreed="true"}[5m])) / '
              "sum by (route) (rate(proxy_shadow_decisions_total[5m]))",)),
        ),
    ),
    (
        "Canary",
        (
            ("Canary weight (%)", "percent", ("max by (route) (proxy_canary_weight_percent)",)),
            ("Rollbacks (last hour)", "short",
             ("sum by (route, threshold) (increase(proxy_rollbacks_total[1h]))",)),
            ("Route table version", "short", ("max(proxy_route_table_version)",)),
        ),
    ),
    (
        "Served model",
        (
            ("Served model version", "short",
             ("max(inference_served_model_version)", "max(monolith_model_version)")),
            ("Model swaps and refusals", "short",
             ("increase(inference_model_swaps_total[1h])",
              "increase(inference_model_refusals_total[1h])")),
        ),
    ),
    (
        "Queues and dead letters",
        (
            ("Queue depth by queue", "short",
             ('sum by (queue) (rabbitmq_queue_messages_ready{queue!~".*\\\\.dlq"})',
              "max(ingestion_outbox_depth)", "max(inference_queue_depth_requests)")),
            ("Dead letters by queue", "short",
             ('sum by (queue) (rabbitmq_queue_messages{queue=~".*\\\\.dlq"})',
              "max(legacy_sync_events_parked_total)")),
        ),
    ),
    (
        "Drift per feature",
        (
            ("PSI by feature", "short", ("max by (feature) (monitoring_feature_psi)",)),
            ("KS statistic by feature", "short",
             ("max by (feature) (monitoring_feature_ks_statistic)",)),
            ("Drift active", "short", ("max(monitoring_drift_active)",)),
        ),
    ),
)  # fmt: skip


def _panel(
    panel_id: int, title: str, unit: str, exprs: tuple[str, ...], y: int, x: int
) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": _DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": _DATASOURCE, "expr": expr}
            for i, expr in enumerate(exprs)
        ],
    }


def render_dashboard() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    next_id = 1
    for row_title, row_panels in PANELS:
        panels.append(
            {"id": next_id, "type": "row", "title": row_title, "collapsed": False,
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}
        )  # fmt: skip
        next_id += 1
        y += 1
        for index, (title, unit, exprs) in enumerate(row_panels):
            panels.append(
                _panel(next_id, title, unit, exprs, y + 8 * (index // 2), 12 * (index % 2))
            )
            next_id += 1
        y += 8 * ((len(row_panels) + 1) // 2)
    return {
        "uid": DASHBOARD_UID,
        "title": "AI migration kit: strangler migration",
        "tags": ["ai-migration-kit"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "panels": panels,
    }


def datasource_provisioning() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "uid": DATASOURCE_UID,
                "type": "prometheus",
                "access": "proxy",
                "url": "http://prometheus:9090",
                "isDefault": True,
            }
        ],
    }


def dashboard_provisioning() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "ai-migration-kit",
                "folder": "AI migration kit",
                "type": "file",
                "options": {"path": "/var/lib/grafana/dashboards"},
            }
        ],
    }
