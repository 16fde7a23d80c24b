"""Celery tasks of the rewards app. Tasks take ids, look things up fresh and are safe to run twice."""

from __future__ import annotations

import logging
import os
import tempfile

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation

from rewards import exporters
from rewards.models import ExportState, PayoutExport

log = logging.getLogger(__name__)


@shared_task(name="rewards.render_payout_export", acks_late=True)
def render_payout_export(export_id: int, language: str | None = None) -> str:
    """Write one requested export to storage, updating its progress; returns the final state.

    ``language``: the requester's (the kinds and figures are written in words), default the
    site's. A second copy of the task (redelivery after a killed worker) finds the export no longer
    queued and does nothing, unless it was left running by a dead worker: then it starts over.
    """
    with translation.override(language or settings.LANGUAGE_CODE):
        return _render(export_id)


def _render(export_id: int) -> str:
    with transaction.atomic():
        export = PayoutExport.objects.select_for_update().select_related("run__scheme").get(pk=export_id)
        if export.state == ExportState.DONE:
            return export.state
        export.state, export.rows_done = ExportState.RUNNING, 0
        export.rows_total = export.run.lines.count()
        export.save(update_fields=["state", "rows_done", "rows_total"])
    exporter = exporters.get(export.exporter)

    def progress(rows: int) -> None:
        PayoutExport.objects.filter(pk=export_id).update(rows_done=rows)

    handle, path = tempfile.mkstemp(suffix="." + exporter.extension)
    os.close(handle)
    try:
        exporter.render(export.run, path, progress=progress)
        with open(path, "rb") as rendered:
            export.file.save(exporter.filename(export.run), File(rendered), save=False)
        export.state, export.rows_done, export.finished_at = (
            ExportState.DONE,
            export.rows_total,
            timezone.now(),
        )
        export.save(update_fields=["file", "state", "rows_done", "finished_at"])
    except Exception as error:
        log.exception("payout export %s failed", export_id)
        PayoutExport.objects.filter(pk=export_id).update(state=ExportState.FAILED, error=str(error)[:2000])
        raise
    finally:
        os.unlink(path)
    return export.state
