"""The daily-figures import of the browser, through django-import-export: one Dataset row per
figure, checked for the whole file at once against the catalogue and the current facts, then
merged through ``branches.facts.merge_facts`` once (all or nothing, with history)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils.translation import gettext as _

from branches.facts import FactSource, merge_facts
from branches.imports.errors import ImportAborted, RowError
from branches.imports.figures import (
    FIGURE_COLUMNS,
    FIGURE_FIELDS,
    FigureRecord,
    FigureRow,
    Repeat,
    figure_rows,
    locate_figure_header,
    validate_records,
)
from branches.imports.headers import ignored_columns_note
from branches.imports.preview import (
    CHANGED,
    ERROR,
    NEW,
    UNCHANGED,
    FateRowResult,
    FileResult,
    ImportResult,
    Preview,
    entry,
)
from branches.imports.reader import Table
from branches.imports.resources import FileInfo, PlannedResource, dataset
from branches.models import Fact, ImportBatch

_LOOKUP_CHUNK = 2000


def build_dataset(table: Table, options: dict):
    """One Dataset row per figure (a wide row gives one per filled indicator cell), and the notes."""
    default_date = options.get("default_date")
    header = locate_figure_header(table, default_date=default_date)
    rows, skipped = figure_rows(table, header, default_date=default_date)
    notes = []
    if header.skipped_title_rows:
        notes.append(_("%(count)s title row(s) above the header (row %(row)s) were skipped.") % {"count": header.skipped_title_rows, "row": header.header_row_no})
    if skipped:
        notes.append(_("%(count)s empty indicator cell(s) were skipped: no figure is written for them.") % {"count": skipped})
    for _index, (indicator, scale) in header.indicator_columns.items():
        if scale != 1:
            notes.append(_("Column %(column)s: values multiplied by %(scale)s (stored in yuan).") % {"column": indicator.name, "scale": scale})
    notes += ignored_columns_note(header)
    if "business_date" not in header.index_of:
        notes.append(_("No date column: every figure is dated %(date)s.") % {"date": default_date})
    info = FileInfo.of(table, header, FIGURE_COLUMNS, notes)
    # Only the key columns the file has are named after it; the others keep our labels.
    info.labels = {key: label for key, label in info.labels.items() if key in header.index_of}
    return dataset(FIGURE_FIELDS, rows), info


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


class FigurePlan:
    """Every figure's outcome (checked set-based for the whole file) and the current values."""

    def __init__(self, data, labels: dict[str, str]):
        records = [FigureRecord(*row) for row in data]
        self.outcomes: list = []
        self.rows, _errors = validate_records(records, columns=labels, outcomes=self.outcomes)
        del records
        self.existing = current_values(self.rows)

    def entry_at(self, index: int) -> tuple:
        outcome = self.outcomes[index]
        if isinstance(outcome, FigureRow):
            old = self.existing.get(outcome.key)
            if old is None:
                return (outcome.row_no, NEW, outcome.label, "", _format(outcome.value), ())
            fate = CHANGED if old != outcome.value else UNCHANGED
            return (outcome.row_no, fate, outcome.label, _format(old), _format(outcome.value), ())
        if isinstance(outcome, Repeat):
            text = _("%(value)s, as in row %(row)s (written once)") % {"value": _format(outcome.value), "row": outcome.first_row}
            return entry(outcome.row_no, UNCHANGED, outcome.label, new=text)
        row_no = outcome[0].row_no if outcome else 0
        return entry(row_no, ERROR, _("row %(row)s") % {"row": row_no}, errors=outcome)


class FigureResource(PlannedResource):
    """Figures through django-import-export, non-model: validated for the whole file in
    ``before_import``, merged once by ``merge_facts`` in ``after_import``."""

    kind = "figures"
    columns = FIGURE_FIELDS

    def make_plan(self, dataset) -> FigurePlan:
        return FigurePlan(dataset, self.info.labels)

    def write(self, plan: FigurePlan) -> ImportResult:
        source = FactSource(kind=ImportBatch.Kind.FILE, reference=self.filename, user=self.user)
        outcome = merge_facts(rows=merge_rows(plan.rows), source=source)
        if not outcome.ok:
            # import-export records the exception as a base error and rolls the file back.
            raise ImportAborted(preview_from_outcome(outcome, kind=self.kind, filename=self.filename))
        return ImportResult(
            kind=self.kind, new=outcome.new, changed=outcome.changed, unchanged=outcome.unchanged, batch_id=outcome.batch_id
        )


RESOURCE = FigureResource


def merge_rows(rows: Iterable[FigureRow]):
    """FigureRows as ``merge_facts`` takes them."""
    return (
        (row.indicator_id, row.subject_kind, row.subject_id, row.business_date, row.value, row.row_no) for row in rows
    )


def preview_from_outcome(outcome, *, kind: str, filename: str) -> Preview:
    """A preview holding the errors ``merge_facts`` found (checks made inside the merge)."""
    fates = [
        FateRowResult(
            error.row_no, ERROR, _("row %(row)s") % {"row": error.row_no}, errors=[RowError(error.row_no, error.column, error.message)]
        )
        for error in outcome.errors
    ]
    preview = Preview(kind=kind, filename=filename, result=FileResult.of(fates))
    if not fates:
        preview.file_errors.append(outcome.summary())
    return preview


def _format(value: Decimal) -> str:
    return f"{value.normalize():f}"
