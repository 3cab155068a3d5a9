"""Settings: defaults for a laptop, and one clear line with exit code 2 for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from controlplane.config import Settings, load_settings, redact_url
from controlplane.errors import SettingsError


def test_defaults_serve_a_laptop() -> None:
    settings = load_settings({})
    assert settings.broker_url is None
    assert settings.database_url == "sqlite:///controlplane.db"
    assert settings.host == "127.0.0.1" and settings.port == 8080
    assert not settings.effective_cookie_secure


def test_environment_and_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "cp.toml"
    config.write_text('[controlplane]\nport = 9000\nqueues = ["a", "b"]\nsample_interval = 2\n')
    settings = load_settings({"CONTROLPLANE_PORT": "9100"}, config_file=config)
    assert settings.port == 9100  # the environment wins over the file
    assert settings.queues == ("a", "b")
    assert settings.sample_interval == 2.0


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("CONTROLPLANE_BROKER_URL", "http://nope", "CONTROLPLANE_BROKER_URL"),
        ("CONTROLPLANE_BROKER_URL", "redis://host:notaport/0", "cannot parse"),
        ("CONTROLPLANE_DATABASE_URL", "::::", "CONTROLPLANE_DATABASE_URL"),
        ("CONTROLPLANE_SAMPLE_INTERVAL", "-5", "positive"),
        ("CONTROLPLANE_PORT", "99999", "between 1 and 65535"),
        ("CONTROLPLANE_REDACT_PATTERN", "(", "regular expression"),
        ("CONTROLPLANE_COOKIE_SECURE", "maybe", "true or false"),
        ("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS", '{"visibility": 1}', "not understood"),
        ("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS", '{"priority_steps": [0, "x"]}', "integers"),
        ("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS", '{"sep": ""}', "must not be empty"),
        ("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS", "[1]", "expected a table"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({name: value})
    assert name in str(error.value)
    assert words in str(error.value)


def test_the_fleets_transport_options_from_json_or_a_toml_table(tmp_path: Path) -> None:
    env = {"CONTROLPLANE_BROKER_TRANSPORT_OPTIONS": '{"priority_steps": [9, 0, 5],'
           ' "global_keyprefix": "prod:"}'}  # fmt: skip
    options = load_settings(env).broker_transport_options
    assert (options.priority_steps, options.sep, options.global_keyprefix) == (
        (0, 5, 9),
        "\x06\x16",
        "prod:",
    )
    assert options.for_celery() == {"priority_steps": [0, 5, 9], "global_keyprefix": "prod:"}
    config = tmp_path / "cp.toml"
    config.write_text('[controlplane.broker_transport_options]\nsep = ":"\n')
    assert load_settings({}, config_file=config).broker_transport_options.sep == ":"
    assert load_settings({}).broker_transport_options.for_celery() == {}


def test_passwords_never_show_in_repr() -> None:
    settings = Settings(broker_url="redis://:hunter2@h:6379/0", secret_key="s3cr3t")
    assert "hunter2" not in repr(settings) and "s3cr3t" not in repr(settings)
    assert redact_url("amqp://guest:guest@h:5672//") == "amqp://guest:***@h:5672//"


def test_cli_exits_2_with_one_line_on_a_bad_setting(tmp_path: Path) -> None:
    env = dict(os.environ, CONTROLPLANE_SAMPLE_INTERVAL="-1")
    result = subprocess.run(
        [sys.executable, "-m", "controlplane.cli", "db", "upgrade"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "CONTROLPLANE_SAMPLE_INTERVAL" in lines[0]
