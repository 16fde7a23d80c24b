"""Reading settings from the environment, failing with one line that names the setting.

Every variable read here is documented in the README ("Settings").
"""

from __future__ import annotations

import os
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class SettingError(ImproperlyConfigured):
    """A setting from the environment is wrong; the message names it and says why."""

    def __init__(self, name: str, reason: str):
        self.setting = name
        super().__init__(f"{name}: {reason}")


def text(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(name, f"expected true/false (1/0), got {raw!r}")


def integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(name, f"expected a whole number, got {raw!r}") from None


def word_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database(name: str, default_sqlite_path: str) -> dict:
    """Parse DATABASE_URL; only PostgreSQL and SQLite are supported."""
    import dj_database_url

    raw = text(name)
    if raw is None:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": default_sqlite_path}
    scheme = urlparse(raw).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise SettingError(name, f"unsupported scheme {scheme!r}: use postgresql://… or sqlite:///…")
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for malformed URLs
        raise SettingError(name, f"cannot parse {raw!r} ({exc})") from None
    if config["ENGINE"].endswith("postgresql") and not config.get("NAME"):
        raise SettingError(name, "no database name in the URL")
    return config


def redis_url(name: str) -> str | None:
    raw = text(name)
    if raw is None:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in {"redis", "rediss", "unix"}:
        raise SettingError(name, f"expected redis://host:port/db, got {raw!r}")
    if parsed.scheme != "unix" and not parsed.hostname:
        raise SettingError(name, f"no host in {raw!r}")
    return raw


def time_zone(name: str, default: str) -> str:
    value = text(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(name, f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
    return value
