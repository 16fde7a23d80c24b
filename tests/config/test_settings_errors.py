"""A wrong setting fails at start with one line naming the setting (run as a real process)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/kmh"),
        ("DATABASE_URL", "not a url at all"),
        ("REDIS_URL", "http://127.0.0.1:6379/0"),
        ("TIME_ZONE", "Mars/Olympus_Mons"),
        ("DEBUG", "perhaps"),
        ("EMAIL_PORT", "twenty-five"),
    ],
)
def test_a_wrong_setting_fails_with_one_line_naming_it(variable, value):
    result = run_manage("check", **{variable: value})
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert variable in message


def test_secret_key_is_required_when_debug_is_off():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "kaimenhong: configuration error: SECRET_KEY: required when DEBUG is off (set DEBUG=1 for local use)"
    ]


def test_an_unreachable_database_fails_with_one_line_naming_database_url():
    result = run_manage("migrate", "--check", DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kaimenhong: DATABASE_URL: cannot use the database")
