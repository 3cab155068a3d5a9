"""Real receivers for notifications: pytest-httpserver's HTTP server (the webhook and the
Slack-compatible endpoint) and an aiosmtpd SMTP server that wants STARTTLS and a login,
with a certificate made for the test and trusted through the channel's `ca_file`."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from controlplane.alerting.config import AlertsConfig
from controlplane.config import Settings

SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-pass-Zq81"


@dataclass
class SmtpServer:
    host: str
    port: int
    ca_file: str
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[Message]:
        with self.lock:
            return list(self.messages)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        # aiosmtpd refuses DATA before a login (auth_required), and a login before STARTTLS
        assert session.ssl is not None, "mail accepted without STARTTLS"
        with self.server.lock:
            self.server.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """An SMTP server on loopback: STARTTLS required, AUTH LOGIN/PLAIN after it."""
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer("localhost", _free_port(), str(cert))

    def authenticate(_server: Any, _session: Any, _envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:  # fmt: skip
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == SMTP_USER
            and auth_data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            server.logins.append(mechanism)
        return AuthResult(success=ok)

    controller = Controller(
        _Handler(server), hostname="127.0.0.1", port=server.port, tls_context=context,
        require_starttls=True, authenticator=authenticate, auth_required=True,
        auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    """The common settings on SQLite and on PostgreSQL (whose claims lock rows, SKIP LOCKED),
    with quick delivery retries (the default backoff is 30 s)."""
    alerts = AlertsConfig(delivery_attempts=4, delivery_backoff_seconds=0.1,
                          delivery_timeout_seconds=3)  # fmt: skip
    return dataclasses.replace(settings, database_url=database_url, alerts=alerts)
