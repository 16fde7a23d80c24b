"""The error file of an import batch, for download: every error of a rejected file, not only the
first 1,000 the page or the command shows. Planners only (they run the imports; the file names
figures of the whole bank)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from branches.fact_selectors import error_file_of
from branches.import_views import planner_required
from branches.models import ImportBatch


@planner_required
def batch_error_file(request, batch_id: int):
    """GET /imports/batches/<id>/errors/: var/imports/batch-<id>-errors.csv as an attachment."""
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    path = error_file_of(batch)
    if path is None:
        raise Http404(_("Batch %(batch)s has no error file.") % {"batch": batch.pk})
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type="text/csv; charset=utf-8"
    )
