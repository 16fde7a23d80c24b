"""Every user-facing string has its Chinese text: extract the messages afresh and count the gaps."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "var", ".git", "staticfiles", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}


@pytest.mark.skipif(shutil.which("xgettext") is None or shutil.which("msgfmt") is None, reason="GNU gettext not installed")
def test_the_chinese_catalogue_translates_every_message(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in SKIP_DIRS])
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", "KMH_VAR_DIR": str(tmp_path / "var")})
    extract = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--ignore=tests", "--ignore=bench", "-v0"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300,
    )
    assert extract.returncode == 0, extract.stderr
    po = copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    stats = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(po)], capture_output=True, text=True, timeout=60
    )
    assert stats.returncode == 0, stats.stderr
    # The last line counts them, e.g. "812 translated messages." — "untranslated" or "fuzzy" there
    # means a string shows in English to a Chinese user.
    summary = stats.stderr.strip().splitlines()[-1]
    assert "untranslated" not in summary and "fuzzy" not in summary, summary
