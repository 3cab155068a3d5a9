"""`[controlplane.alerts]`: the README's example loads as written, secrets stay out of the
settings' repr, and a wrong key is refused by name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from controlplane.config import load_settings
from controlplane.errors import SettingsError
from tests.conftest import ROOT


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Notifications: rules, channels, silences") :]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match
    return match.group(1)


def test_the_readme_example_loads_and_keeps_its_secrets_out_of_repr(tmp_path: Path) -> None:
    path = tmp_path / "controlplane.toml"
    path.write_text(readme_example())
    settings = load_settings(environ={}, config_file=path)
    alerts = settings.alerts
    assert [r.name for r in alerts.rules] == ["idle-queues"]
    [rule] = alerts.rules
    assert (rule.condition, rule.queues, rule.for_seconds, rule.repeat_seconds) == (
        "queue_without_consumer", "billing-*", 60, 3600)  # fmt: skip
    kinds = {c.name: c.kind for c in alerts.channels}
    assert kinds == {"ops-hook": "webhook", "ops-chat": "slack", "ops-mail": "email"}
    assert alerts.public_url == "https://console.example.org"
    shown = repr(settings)
    assert "a-long-shared-secret" not in shown and "hooks.slack.com" not in shown
    assert hash(settings) == hash(load_settings(environ={}, config_file=path))  # still a key


@pytest.mark.parametrize(
    ("alerts", "named"),
    [
        ('{"rules": {"r": {"condition": "x", "for": -1}}}', "rules.r.for"),
        ('{"rules": {"r": {"condition": "x", "every": 1}}}', "unknown key 'every'"),
        ('{"channels": {"c": {"kind": "pager"}}}', "channels.c.kind"),
        ('{"channels": {"c": {"kind": "webhook", "url": "ftp://x"}}}', "channels.c.url"),
        ('{"channels": {"c": {"kind": "email", "host": "h", "sender": "a@b"}}}', "channels.c.to"),
        ('{"delivery_attempts": 0}', "CONTROLPLANE_ALERTS"),
    ],
)
def test_a_wrong_alerts_setting_is_refused_by_name(alerts: str, named: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(named)):
        load_settings(environ={"CONTROLPLANE_ALERTS": alerts})
