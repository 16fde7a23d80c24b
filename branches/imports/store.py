"""Keeping an uploaded file between its preview and the user's confirmation, keyed by a token.

The file is stored under IMPORT_UPLOAD_DIR/<token>/ with a small JSON of who uploaded it, what
kind of import and which options; confirming reads it back and validates it again. Tokens are
random, checked against a strict pattern (no path tricks), belong to the user who uploaded, and
expire after ``MAX_AGE``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

MAX_AGE = datetime.timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class StoredUpload:
    token: str
    path: Path
    kind: str
    filename: str
    user_id: int
    options: dict
    sha256: str


def _root() -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR)


def save_upload(*, uploaded_file, kind: str, user_id: int, options: dict) -> StoredUpload:
    """Copy ``uploaded_file`` (a Django UploadedFile) under a new token; return what was stored."""
    _remove_expired()
    token = secrets.token_urlsafe(24)
    folder = _root() / token
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / "upload"
    digest = hashlib.sha256()
    with open(path, "wb") as target:
        for chunk in uploaded_file.chunks():
            digest.update(chunk)
            target.write(chunk)
    meta = {
        "kind": kind,
        "filename": uploaded_file.name or "",
        "user_id": user_id,
        "options": options,
        "sha256": digest.hexdigest(),
    }
    (folder / "meta.json").write_text(json.dumps(meta, default=str), encoding="utf-8")
    return StoredUpload(token=token, path=path, **meta)


def load_upload(token: str, *, user_id: int) -> StoredUpload | None:
    """The upload stored under ``token`` by ``user_id``, or None (unknown, expired, someone else's)."""
    if not _TOKEN.match(token or ""):
        return None
    folder = _root() / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if meta.get("user_id") != user_id:
        return None
    return StoredUpload(token=token, path=folder / "upload", **meta)


def discard_upload(token: str) -> None:
    if _TOKEN.match(token or ""):
        shutil.rmtree(_root() / token, ignore_errors=True)


def _remove_expired() -> None:
    root = _root()
    if not root.exists():
        return
    cutoff = time.time() - MAX_AGE.total_seconds()
    for folder in root.iterdir():
        if folder.is_dir() and _TOKEN.match(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
