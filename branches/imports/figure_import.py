"""The daily-figures import of the browser: preview against the current facts, then merge through
``branches.facts.merge_facts`` (all or nothing, with history)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils.translation import gettext as _

from branches.facts import FactSource, merge_facts
from branches.imports.errors import RowError
from branches.imports.figures import FigureRow, locate_figure_header, records_from_table, validate_records
from branches.imports.org import ImportAborted
from branches.imports.preview import CHANGED, ERROR, NEW, UNCHANGED, ImportResult, Preview, RowFate
from branches.imports.reader import Table
from branches.models import Fact, ImportBatch

_LOOKUP_CHUNK = 2000


def _parse(table: Table, options: dict):
    header = locate_figure_header(table, default_date=options.get("default_date"))
    records, skipped = records_from_table(table, header, default_date=options.get("default_date"))
    columns = {key: header.label(index) for key, index in header.index_of.items()}
    rows, errors = validate_records(records, columns=columns)
    notes = []
    if header.skipped_title_rows:
        notes.append(_("%(count)s title row(s) above the header (row %(row)s) were skipped.") % {"count": header.skipped_title_rows, "row": header.header_row_no})
    if skipped:
        notes.append(_("%(count)s empty indicator cell(s) were skipped: no figure is written for them.") % {"count": skipped})
    for _index, (indicator, scale) in header.indicator_columns.items():
        if scale != 1:
            notes.append(_("Column %(column)s: values multiplied by %(scale)s (stored in yuan).") % {"column": indicator.name, "scale": scale})
    if header.ignored:
        notes.append(_("Columns not imported: %(columns)s.") % {"columns": ", ".join(header.ignored)})
    if "business_date" not in header.index_of:
        notes.append(_("No date column: every figure is dated %(date)s.") % {"date": options.get("default_date")})
    return header, records, rows, errors, notes


def current_values(rows: Iterable[FigureRow]) -> dict[tuple, Decimal]:
    """The current fact value of each row's key (absent keys are new); a few chunked queries."""
    rows = list(rows)
    found: dict[tuple, Decimal] = {}
    wanted = {row.key for row in rows}
    subject_ids = sorted({row.subject_id for row in rows})
    dates = sorted({row.business_date for row in rows})
    indicator_ids = sorted({row.indicator_id for row in rows})
    for start in range(0, len(subject_ids), _LOOKUP_CHUNK):
        chunk = subject_ids[start : start + _LOOKUP_CHUNK]
        existing = Fact.objects.filter(
            subject_id__in=chunk, indicator_id__in=indicator_ids, business_date__in=dates
        ).values_list("indicator_id", "subject_kind", "subject_id", "business_date", "value")
        for indicator_id, kind, subject_id, day, value in existing:
            key = (indicator_id, kind, subject_id, day)
            if key in wanted:
                found[key] = value
    return found


def preview_figures(table: Table, *, filename: str = "", options: dict | None = None) -> Preview:
    """Every figure's fate (new, changed old → new, unchanged) and every row's errors. Never writes."""
    options = options or {}
    header, _records, rows, errors, notes = _parse(table, options)
    preview = Preview(
        kind="figures", filename=filename, file_format=table.file_format, encoding=table.encoding,
        header_row_no=header.header_row_no, notes=list(table.notes) + notes,
    )
    existing = current_values(rows)
    fates = [RowFate(row_no, ERROR, _("row %(row)s") % {"row": row_no}, errors=problems) for row_no, problems in errors.items()]
    for row in rows:
        old = existing.get(row.key)
        if old is None:
            fates.append(RowFate(row.row_no, NEW, row.label, new=_format(row.value)))
        elif old != row.value:
            fates.append(RowFate(row.row_no, CHANGED, row.label, old=_format(old), new=_format(row.value)))
        else:
            fates.append(RowFate(row.row_no, UNCHANGED, row.label, old=_format(old), new=_format(row.value)))
    fates.sort(key=lambda fate: fate.row_no)
    preview.fates = fates
    return preview


def apply_figures(table: Table, *, filename: str = "", options: dict | None = None, user=None) -> ImportResult:
    """Validate again and merge every figure of the file in one transaction, or none.

    Raises ImportAborted (with a preview of the errors) when a row is wrong now.
    """
    options = options or {}
    preview = preview_figures(table, filename=filename, options=options)
    if not preview.ok:
        raise ImportAborted(preview)
    _header, _records, rows, _errors, _notes = _parse(table, options)
    source = FactSource(kind=ImportBatch.Kind.FILE, reference=filename, user=user)
    outcome = merge_facts(rows=merge_rows(rows), source=source)
    if not outcome.ok:
        raise ImportAborted(preview_from_outcome(outcome, kind="figures", filename=filename))
    return ImportResult(kind="figures", new=outcome.new, changed=outcome.changed, unchanged=outcome.unchanged, batch_id=outcome.batch_id)


def merge_rows(rows: Iterable[FigureRow]):
    """FigureRows as ``merge_facts`` takes them."""
    return (
        (row.indicator_id, row.subject_kind, row.subject_id, row.business_date, row.value, row.row_no) for row in rows
    )


def preview_from_outcome(outcome, *, kind: str, filename: str) -> Preview:
    """A preview holding the errors ``merge_facts`` found (checks made inside the merge)."""
    preview = Preview(kind=kind, filename=filename)
    for error in outcome.errors:
        preview.fates.append(
            RowFate(error.row_no, ERROR, _("row %(row)s") % {"row": error.row_no}, errors=[RowError(error.row_no, error.column, error.message)])
        )
    if not preview.fates:
        preview.file_errors.append(outcome.summary())
    return preview


def _format(value: Decimal) -> str:
    return f"{value.normalize():f}"
