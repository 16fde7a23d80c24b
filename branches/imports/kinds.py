"""The imports a planner can run in the browser, and the two calls every one of them answers:
``preview_file`` (a dry run giving every row's fate) and ``apply_file`` (all rows or none).

Each kind is a module with ``build_dataset(table, options) -> (tablib.Dataset, FileInfo)`` and a
django-import-export Resource ``RESOURCE`` (see ``branches.imports.resources``).
"""

from __future__ import annotations

import datetime
import gc
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.imports import resources
from branches.imports.errors import ImportAborted, ImportFileError
from branches.imports.preview import ImportResult, Preview
from branches.imports.reader import read_table
from branches.imports.values import parse_date

__all__ = ["KINDS", "ImportAborted", "ImportKind", "apply_file", "preview_file", "get_kind"]


@dataclass(frozen=True)
class ImportKind:
    key: str
    label: str
    help_text: str
    module: str
    needs_campaign: bool = False

    def load(self):
        # Imported on use: the target import lives in campaigns, which depends on branches.
        return importlib.import_module(self.module)


KINDS: dict[str, ImportKind] = {
    kind.key: kind
    for kind in (
        ImportKind(
            "figures",
            gettext_lazy("Daily figures (每日业务数据)"),
            gettext_lazy("One row per unit (机构号) or staff member (工号) and date (日期); one column per indicator, or 指标 + 数值."),
            "branches.imports.figure_import",
        ),
        ImportKind(
            "units",
            gettext_lazy("Units (机构)"),
            gettext_lazy("Columns 机构号, 机构名称, 上级机构号, 机构类型 (总行/片区/支行/网点/部门), optional 类别, 英文名称, 成立日期."),
            "branches.imports.units",
        ),
        ImportKind(
            "staff",
            gettext_lazy("Staff (人员)"),
            gettext_lazy("Columns 工号, 姓名, 机构号, optional 岗位, 生效日期 (a new unit is a move from that date), 离职日期."),
            "branches.imports.staff",
        ),
        ImportKind(
            "targets",
            gettext_lazy("Targets (任务)"),
            gettext_lazy("Columns 机构号 or 工号, then one column per metric (its code or name), optional 基数 columns; per campaign."),
            "campaigns.target_import",
            needs_campaign=True,
        ),
    )
}


def get_kind(key: str) -> ImportKind | None:
    return KINDS.get(key)


def normalise_options(options: dict | None) -> dict:
    """Options as stored with the upload (JSON) back to Python values."""
    options = dict(options or {})
    if isinstance(options.get("default_date"), str) and options["default_date"]:
        options["default_date"] = parse_date(options["default_date"])
    elif not isinstance(options.get("default_date"), datetime.date):
        options["default_date"] = None
    return options


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a file is read, planned and written.

    A 50,000-row file makes several hundred thousand small objects that live to the end of the
    import; the collector walks them again and again (a third of a preview's time) and finds no
    cycle among them. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _resource_and_dataset(kind: str, path, *, filename: str, options: dict | None, user=None):
    module = KINDS[kind].load()
    options = normalise_options(options)
    table = read_table(path, filename=filename)
    data, info = module.build_dataset(table, options)
    del table  # the Dataset holds what is needed; let the cells of the sheet go
    return module.RESOURCE(info=info, options=options, user=user, filename=filename), data


def preview_file(kind: str, path, *, filename: str = "", options: dict | None = None) -> Preview:
    """Read the file at ``path`` and dry-run it as ``kind`` (import-export's dry run). Never writes.

    A file that cannot be read at all gives a Preview whose ``file_errors`` say why.
    """
    with _cycle_collector_paused():
        try:
            resource, data = _resource_and_dataset(kind, path, filename=filename, options=options)
        except ImportFileError as error:
            return Preview(kind=kind, filename=filename, file_errors=[error.message])
        return resources.preview(resource, data)


def apply_file(kind: str, path, *, filename: str = "", options: dict | None = None, user=None) -> ImportResult:
    """Read, validate again and write the whole file as ``kind``, or nothing.

    Raises ImportFileError (unreadable file) or ImportAborted (row errors, with the preview).
    """
    with _cycle_collector_paused():
        resource, data = _resource_and_dataset(kind, path, filename=filename, options=options, user=user)
        try:
            written, preview = resources.confirm(resource, data)
        except (DatabaseError, ValidationError) as error:
            # The checks mirror the database's; this is a change made meanwhile by someone else.
            reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error).strip()
            refused = Preview(kind=kind, filename=filename, file_errors=[
                _("The database refused the file (%(error)s); nothing was written.") % {"error": reason}
            ])
            raise ImportAborted(refused) from error
    if not preview.ok or written is None:
        raise ImportAborted(preview)
    return written
