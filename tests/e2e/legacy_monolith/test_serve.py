"""`python -m legacy_monolith` for real: env-configured start, ingest, train, predict, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from datagen import generate

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def monolith(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'monolith.db'}",
        "MONOLITH_MODEL_DIR": str(tmp_path / "models"),
        "MONOLITH_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "monolith.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "legacy_monolith"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "monolith.log").read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the monolith did not become ready in 60 s"
            time.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


def test_ingest_train_predict_over_http_then_stop_cleanly(
    monolith: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> None:
    process, base = monolith
    traffic = [t.model_dump(mode="json") for t in generate(2000, seed=61)]
    with httpx.Client(base_url=base, timeout=30) as client:
        for start in range(0, len(traffic), 1000):
            receipt = client.post(
                "/api/v1/transactions", json={"transactions": traffic[start : start + 1000]}
            )
            assert receipt.status_code == 202, receipt.text
            assert receipt.json()["accepted"] == 1000

        started = client.post("/api/v1/models/training-runs", json={"epochs": 3})
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        deadline = time.monotonic() + 120
        while (run := client.get(location).json())["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, run
            time.sleep(0.2)
        assert run["status"] == "succeeded", run["error"]
        assert run["metrics"]["roc_auc"] > 0.7

        scored = client.post("/api/v1/predictions", json={"transactions": traffic[:10]})
        assert scored.status_code == 200, scored.text
        predictions = scored.json()["predictions"]
        assert [p["model_version"] for p in predictions] == ["1"] * 10
        assert all(len(p["explanation"]) == 5 for p in predictions)
        audit = client.get(f"/api/v1/predictions/{predictions[0]['prediction_id']}")
        assert audit.status_code == 200
        assert client.get("/readyz").json()["model_version"] == "1"
        assert "monolith_predictions_total" in client.get("/metrics").text

    assert (tmp_path / "models" / "v1" / "model.pt").is_file()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, (tmp_path / "monolith.log").read_text()
