"""Refusing an oversized upload while it streams in, instead of after it filled the disk."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class UploadTooLarge(Exception):
    pass


def declared_length_too_large(request) -> bool:
    """True when the request announces a body above IMPORT_MAX_BYTES (plus room for the form)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.IMPORT_MAX_BYTES + 64 * 1024


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts the bytes of each uploaded file and stops the upload past IMPORT_MAX_BYTES.

    Install it first in ``request.upload_handlers`` before the body is read; the view then sees
    ``handler.exceeded`` and shows the limit instead of a half-read file.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.IMPORT_MAX_BYTES:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None
