"""What a dry run tells the user: every row's fate, and the file-level facts about the read.

A fate is a django-import-export row result (``FateRowResult``, a ``RowResult``): its
``import_type`` is import-export's (new, update, skip, invalid) and it carries what the preview
shows — the row number as the spreadsheet shows it, the key, old → new, and the errors naming
row, column and reason. ``FileResult`` is import-export's ``Result`` keeping only what a page
shows (the first ``ROWS_KEPT`` rows and the first ``ROWS_KEPT`` rows in error) while its totals
count every row: a 200,000-row file does not hold 200,000 row results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export.results import Result, RowResult

from branches.imports.errors import RowError

NEW = "new"
CHANGED = "changed"
UNCHANGED = "unchanged"
ERROR = "error"
FATE_LABELS = {NEW: _("new"), CHANGED: _("changed"), UNCHANGED: _("unchanged"), ERROR: _("error")}
IMPORT_TYPE_OF_FATE = {
    NEW: RowResult.IMPORT_TYPE_NEW,
    CHANGED: RowResult.IMPORT_TYPE_UPDATE,
    UNCHANGED: RowResult.IMPORT_TYPE_SKIP,
    ERROR: RowResult.IMPORT_TYPE_INVALID,
}
FATE_OF_IMPORT_TYPE = {
    **{import_type: fate for fate, import_type in IMPORT_TYPE_OF_FATE.items()},
    RowResult.IMPORT_TYPE_ERROR: ERROR,
}
# Rows a page lists (errors first); the counts always cover the whole file.
ROWS_KEPT = 1000


def entry(row_no: int, fate: str, key: str, old: str = "", new: str = "", errors=()) -> tuple:
    """A row's fate as a plan keeps it, until import-export asks for the row (``FateRowResult``)."""
    return (row_no, fate, key, old, new, tuple(errors))


class FateRowResult(RowResult):
    """One row of the file (or one figure or target of a wide row): what confirming does with it."""

    def __init__(self, row_no: int, fate: str, key: str, old: str = "", new: str = "", errors=()):
        super().__init__()
        self.import_type = IMPORT_TYPE_OF_FATE[fate]
        self.row_no = row_no
        self.key = key
        self.old = old
        self.new = new
        self.row_errors: list[RowError] = list(errors)
        if self.row_errors:
            by_column: dict[str, list[str]] = {}
            for error in self.row_errors:
                by_column.setdefault(error.column, []).append(str(error.message))
            self.validation_error = ValidationError(by_column)

    @property
    def fate(self) -> str:
        return FATE_OF_IMPORT_TYPE.get(self.import_type, ERROR)

    @property
    def fate_label(self) -> str:
        return str(FATE_LABELS[self.fate])


class FileResult(Result):
    """import-export's Result of one file: totals of every row, the row results a page shows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_valid = 0
        self.kept_errors = 0

    def append_row_result(self, row_result):
        if row_result.is_valid():
            if self.kept_valid < ROWS_KEPT:
                self.kept_valid += 1
                self.rows.append(row_result)
        elif self.kept_errors < ROWS_KEPT:
            self.kept_errors += 1
            self.rows.append(row_result)

    def append_invalid_row(self, number, row, validation_error):
        if len(self.invalid_rows) < ROWS_KEPT:
            super().append_invalid_row(number, row, validation_error)

    def append_error_row(self, number, row, errors):
        if len(self.error_rows) < ROWS_KEPT:
            super().append_error_row(number, row, errors)

    @classmethod
    def of(cls, fates) -> FileResult:
        """A result holding ``fates`` (for errors found outside import-export, e.g. in the merge)."""
        result = cls()
        for fate in fates:
            result.increment_row_result_total(fate)
            result.append_row_result(fate)
            if fate.validation_error is not None:
                result.append_invalid_row(fate.row_no, {}, fate.validation_error)
        return result


@dataclass
class Preview:
    """The dry run of one file. ``ok`` when nothing is in error: only then may it be confirmed."""

    kind: str
    filename: str
    file_format: str = ""
    encoding: str | None = None
    header_row_no: int | None = None
    notes: list[str] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    result: FileResult | None = None

    @property
    def fates(self) -> list[FateRowResult]:
        """The rows kept for the page, in file order (every row of a file up to ROWS_KEPT)."""
        return list(self.result.rows) if self.result is not None else []

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((NEW, CHANGED, UNCHANGED, ERROR), 0)
        if self.result is not None:
            for import_type, count in self.result.totals.items():
                if import_type in FATE_OF_IMPORT_TYPE:
                    counts[FATE_OF_IMPORT_TYPE[import_type]] += count
        return counts

    @property
    def row_count(self) -> int:
        return sum(self.counts.values())

    @property
    def errors(self) -> list[RowError]:
        return [error for fate in self.fates for error in fate.row_errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and self.counts[ERROR] == 0

    @property
    def changes_nothing(self) -> bool:
        counts = self.counts
        return self.ok and counts[NEW] == 0 and counts[CHANGED] == 0


@dataclass
class ImportResult:
    """What a confirmed import wrote."""

    kind: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    batch_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.new or self.changed)
