"""The browser imports as django-import-export Resources, planned and written for a whole file.

Out of the box import-export works a row at a time: it loads each row's instance, validates and
saves it, inside a savepoint per row — several queries per row, minutes for 50,000 staff. Here
each import is a non-model ``PlannedResource``:

* its module builds the ``tablib.Dataset`` from our reader and header finder
  (``reader.read_table`` sniffs .xlsx/.xls/.csv and UTF-8/GB18030; ``headers.locate_header``
  skips title rows, maps Chinese/English headers, reads 万元 scales), one Dataset row per row
  the preview lists, with the row number the spreadsheet shows in ``row_no``;
* ``before_import`` checks the whole Dataset at once — a few chunked queries, whatever the
  number of rows — into a plan: every row's fate, and what writing the file means;
* ``import_row`` only turns the plan's entry for that row into its ``FateRowResult`` (past the
  rows a page lists, which the Result does not keep, one shared result per fate: a 200,000-row
  file does not make 200,000 objects to count them);
* ``after_import`` (not on a dry run, and only when no row is in error) writes the whole plan
  with a few set-based statements.

``preview`` runs ``import_data(dataset, dry_run=True, raise_errors=False)``; ``confirm`` runs
``import_data(dataset, dry_run=False, use_transactions=True)`` with a rollback on any row error:
the whole file goes in or nothing does. Confirming plans again from the database as it is then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import tablib
from import_export import resources
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult

from branches.imports.errors import ImportFileError
from branches.imports.headers import HeaderMap
from branches.imports.preview import ERROR, ROWS_KEPT, FateRowResult, FileResult, ImportResult, Preview
from branches.imports.reader import Table


@dataclass
class FileInfo:
    """What reading the file found. ``labels``: each column key → the header as the file writes it."""

    file_format: str = ""
    encoding: str | None = None
    header_row_no: int | None = None
    notes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, table: Table, header: HeaderMap, columns: Iterable, notes: Iterable[str] = ()) -> FileInfo:
        """The info of ``table`` read with ``header``: every column's label (the file's, else ours)."""
        labels = {
            column.key: header.label(header.index_of[column.key]) if column.key in header.index_of else str(column.label)
            for column in columns
        }
        return cls(table.file_format, table.encoding, header.header_row_no, [*table.notes, *notes], labels)


def dataset(headers: Iterable[str], rows: Iterable[tuple]) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=list(headers))


class PlannedResource(resources.Resource):
    """A browser import: ``make_plan`` checks the whole Dataset, ``write`` writes the whole plan.

    Subclasses set ``kind`` and ``columns`` (the Dataset's headers) and implement
    ``make_plan(dataset)`` (returning an object whose ``entry_at(index)`` gives the fate of the
    Dataset's row ``index``, counted from 0, as ``(row_no, fate, key, old, new, errors)``) and
    ``write(plan)`` (returning an ImportResult, or None for the counts of the rows' fates).
    """

    kind = ""
    columns: tuple[str, ...] = ()  # the Dataset's headers

    class Meta:
        # No savepoint and no instance per row: the file is one transaction, written in after_import.
        use_bulk = True
        skip_diff = True
        report_skipped = True  # unchanged rows are listed too
        use_transactions = True
        instance_loader_class = BaseInstanceLoader  # never asked: no instance is loaded per row

    def __init__(self, *, info: FileInfo, options: dict | None = None, user=None, filename: str = ""):
        super().__init__()
        self.info = info
        self.options = options or {}
        self.user = user
        self.filename = filename
        self.plan = None
        self.dry_run = True
        self.written: ImportResult | None = None

    @classmethod
    def get_result_class(cls):
        return FileResult

    def get_diff_headers(self):
        return list(self.columns)

    def import_data(self, dataset, dry_run=False, **kwargs):
        # before_import does not see dry_run; after_import must know it even for an empty file.
        self.dry_run = dry_run
        return super().import_data(dataset, dry_run=dry_run, **kwargs)

    def before_import(self, dataset, **kwargs):
        self.plan = self.make_plan(dataset)
        self.valid_results = 0
        self.shared_results: dict[str, FateRowResult] = {}

    def import_row(self, row, instance_loader, **kwargs):
        if self.plan is None:
            # before_import failed: its error is in the result's base errors and is raised from there.
            failed = FateRowResult(0, ERROR, "")
            failed.import_type = failed.IMPORT_TYPE_ERROR
            return failed
        row_no, fate, key, old, new, errors = self.plan.entry_at(kwargs["row_number"] - 1)
        if fate != ERROR:
            if self.valid_results >= ROWS_KEPT:  # FileResult keeps no more: only the count matters
                if fate not in self.shared_results:
                    self.shared_results[fate] = FateRowResult(0, fate, "")
                return self.shared_results[fate]
            self.valid_results += 1
        return FateRowResult(row_no, fate, key, old, new, errors)

    def after_import(self, dataset, result, **kwargs):
        if self.dry_run or result.has_errors() or result.has_validation_errors():
            return
        written = self.write(self.plan)
        if written is None:
            totals = result.totals
            written = ImportResult(
                kind=self.kind,
                new=totals[RowResult.IMPORT_TYPE_NEW],
                changed=totals[RowResult.IMPORT_TYPE_UPDATE],
                unchanged=totals[RowResult.IMPORT_TYPE_SKIP],
            )
        self.written = written

    def make_plan(self, dataset):
        raise NotImplementedError

    def write(self, plan) -> ImportResult | None:
        raise NotImplementedError

    def preview_of(self, result: FileResult) -> Preview:
        info = self.info
        return Preview(
            kind=self.kind, filename=self.filename, file_format=info.file_format, encoding=info.encoding,
            header_row_no=info.header_row_no, notes=list(info.notes), result=result,
        )


def _raise_base_errors(result: FileResult) -> None:
    """An error outside the rows (in before_import or the write) is raised as it was."""
    if result.base_errors:
        raise result.base_errors[0].error


def preview(resource: PlannedResource, data: tablib.Dataset) -> Preview:
    """The dry run: every row's fate, nothing written (import-export rolls the transaction back)."""
    try:
        result = resource.import_data(data, dry_run=True, raise_errors=False)
        _raise_base_errors(result)
    except ImportFileError as error:
        return Preview(kind=resource.kind, filename=resource.filename, file_errors=[error.message])
    return resource.preview_of(result)


def confirm(resource: PlannedResource, data: tablib.Dataset) -> tuple[ImportResult | None, Preview]:
    """Plan again and write the whole file in one transaction, or nothing (any row in error)."""
    result = resource.import_data(
        data, dry_run=False, raise_errors=False, use_transactions=True, rollback_on_validation_errors=True
    )
    _raise_base_errors(result)
    return resource.written, resource.preview_of(result)
