"""The imports a planner can run in the browser, and the two calls every one of them answers:
``preview_file`` (a dry run giving every row's fate) and ``apply_file`` (all rows or none)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from branches.imports import figure_import, org
from branches.imports.errors import ImportFileError
from branches.imports.org import ImportAborted
from branches.imports.preview import ImportResult, Preview
from branches.imports.reader import read_table
from branches.imports.values import parse_date

__all__ = ["KINDS", "ImportAborted", "ImportKind", "apply_file", "preview_file", "get_kind"]


@dataclass(frozen=True)
class ImportKind:
    key: str
    label: str
    help_text: str
    preview: Callable[..., Preview]
    apply: Callable[..., ImportResult]
    needs_campaign: bool = False


def _target_preview(table, **kwargs):
    from campaigns import target_import

    return target_import.preview_targets(table, **kwargs)


def _target_apply(table, **kwargs):
    from campaigns import target_import

    return target_import.apply_targets(table, **kwargs)


KINDS: dict[str, ImportKind] = {
    kind.key: kind
    for kind in (
        ImportKind(
            "figures",
            _("Daily figures (每日业务数据)"),
            _("One row per unit (机构号) or staff member (工号) and date (日期); one column per indicator, or 指标 + 数值."),
            figure_import.preview_figures,
            figure_import.apply_figures,
        ),
        ImportKind(
            "units",
            _("Units (机构)"),
            _("Columns 机构号, 机构名称, 上级机构号, 机构类型 (总行/片区/支行/网点/部门), optional 类别, 英文名称, 成立日期."),
            org.preview_units,
            org.apply_units,
        ),
        ImportKind(
            "staff",
            _("Staff (人员)"),
            _("Columns 工号, 姓名, 机构号, optional 岗位, 生效日期 (a new unit is a move from that date), 离职日期."),
            org.preview_staff,
            org.apply_staff,
        ),
        ImportKind(
            "targets",
            _("Targets (任务)"),
            _("Columns 机构号 or 工号, then one column per metric (its code or name), optional 基数 columns; per campaign."),
            _target_preview,
            _target_apply,
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


def preview_file(kind: str, path, *, filename: str = "", options: dict | None = None) -> Preview:
    """Read the file at ``path`` and dry-run it as ``kind``. Never writes.

    A file that cannot be read at all gives a Preview whose ``file_errors`` say why.
    """
    import_kind = KINDS[kind]
    try:
        table = read_table(path, filename=filename)
        return import_kind.preview(table, filename=filename, options=normalise_options(options))
    except ImportFileError as error:
        return Preview(kind=kind, filename=filename, file_errors=[error.message])


def apply_file(kind: str, path, *, filename: str = "", options: dict | None = None, user=None) -> ImportResult:
    """Read, validate again and write the whole file as ``kind``, or nothing.

    Raises ImportFileError (unreadable file) or ImportAborted (row errors, with the preview).
    """
    table = read_table(path, filename=filename)
    return KINDS[kind].apply(table, filename=filename, options=normalise_options(options), user=user)
