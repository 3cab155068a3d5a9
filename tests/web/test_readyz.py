"""/readyz says why the console is not ready, and recovers by itself."""

from __future__ import annotations

from pathlib import Path

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.services import build_services
from controlplane.web import create_app


def test_readyz_is_503_with_the_reason_while_the_broker_is_down(tmp_path: Path) -> None:
    broker = EmbeddedRedis().start()
    settings = Settings(broker_url=broker.url, database_url=f"sqlite:///{tmp_path}/cp.db")
    services = build_services(settings)
    db.upgrade(services.engine)
    client = create_app(services, {"TESTING": True}).test_client()
    try:
        assert client.get("/readyz").status_code == 200

        port = broker.port
        broker.stop()
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "unavailable"
        assert "broker" in body["problems"] and "database" not in body["problems"]
        assert client.get("/healthz").status_code == 200  # alive, just not ready

        broker = EmbeddedRedis(port=port).start()
        assert client.get("/readyz").status_code == 200
    finally:
        services.close()
        broker.stop()
