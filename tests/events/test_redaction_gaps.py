"""The one redactor (issue 15 items 7 and 16): what the earlier rules let through."""

from __future__ import annotations

import json

import pytest

from controlplane.config import DEFAULT_REDACT_PATTERN
from controlplane.events.redact import Redactor

REDACTOR = Redactor(DEFAULT_REDACT_PATTERN, max_arg_chars=4000, max_traceback_chars=4000)
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("['postgres://app:pa/ss@db:5432/x']", "pa/ss"),
        ("['postgres://app:p@ss/w0rd@db:5432/x']", "p@ss/w0rd"),
        ("['redis://:s3cr/et@cache:6379/0']", "s3cr/et"),
        ("{'pwd': 'hunter2'}", "hunter2"),
        ("{'dsn': 'mysql://u@db/x'}", "mysql://u@db/x"),
        ("{'jwt': 'abc.def.ghi'}", "abc.def.ghi"),
        ("{'bearer': 'tok-123'}", "tok-123"),
        ("{'secret_key': 'k-1'}", "k-1"),
        ("{'private_key': 'pk-1'}", "pk-1"),
        ("['host=db user=app password=hunter2 dbname=x']", "hunter2"),
        ("""['{"user": "ann", "password": "hunter2"}']""", "hunter2"),
        ("['Authorization: Bearer abcdef123456']", "abcdef123456"),
        ("{b'password': b'hunter2'}", "hunter2"),
        (f"['{AWS_KEY}']", AWS_KEY),
        (f"('deploy', '{GITHUB_TOKEN}')", GITHUB_TOKEN),
        (f"['{JWT}']", JWT[40:]),
    ],
)
def test_task_args_keep_no_secret(text: str, secret: str) -> None:
    stored, _ = REDACTOR.call_args(text)
    assert stored is not None and secret not in stored, stored


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("HTTPError: 401 for headers {'Authorization': 'Bearer abcdef123456'}", "abcdef123456"),
        ("requests failed: Authorization: Bearer abcdef123456 was refused", "abcdef123456"),
        ("OperationalError: connection to postgres://app:p@ss/w0rd@db/x failed", "p@ss/w0rd"),
        ('ValueError: bad config {"password": "hunter2", "n": 1}', "hunter2"),
        ("psycopg.OperationalError: host=db password=hunter2 port=5432", "hunter2"),
        (f"boto: key {AWS_KEY} refused", AWS_KEY),
        (f"git push with {GITHUB_TOKEN} failed", GITHUB_TOKEN),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "MIIE",
        ),
    ],
)
def test_exceptions_keep_no_secret(text: str, secret: str) -> None:
    assert secret not in (REDACTOR.free_text(text) or "")
    assert secret not in (REDACTOR.free_text(text, traceback=True) or "")


def test_ordinary_text_is_left_alone() -> None:
    for text in ("['report-2024.csv', 42]", "ValueError: disk full on /data",
                 "{'user': 'ann', 'queue': 'reports'}", "a bearer of good news"):  # fmt: skip
        assert REDACTOR.free_text(text) == text
        assert REDACTOR.call_args(text)[0] == text


def test_action_parameters_are_redacted_in_depth_and_in_text() -> None:
    params = {
        "name": "x",
        "kwargs": {
            "db": {"password": "hunter2"},
            "url": "amqp://u:s3cret@mq//",
            "note": "api_key=k-999",
        },  # fmt: skip
        "args": ["Authorization: Bearer abcdef123456", {b"token": "t-1"}],
        "deep": json.loads("[" * 60 + '"hidden"' + "]" * 60),
    }
    shown = json.dumps(REDACTOR.structure({**params, "deep": params["deep"]}), default=str)
    for secret in ("hunter2", "s3cret", "k-999", "abcdef123456", "t-1", "hidden"):
        assert secret not in shown, shown
    assert '"name": "x"' in shown
