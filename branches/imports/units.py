"""Importing units (机构) with their parent: new units, renames, moves of whole subtrees.

Each row is compared with the database to give its fate. Units absent from the file are left as
they are: a file adds and changes, it never deletes. A parent may be defined further down the
same file. The tree after the file is computed once for the whole file, so a unit created under
a unit that the same file moves gets the new path, and a loop through several rows (or a move
under one's own sub-unit) is refused. Everything the database would refuse (lengths, a unit
opening after it closed, a path too deep) is refused in the preview already, naming the cell.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches import services
from branches.imports import values
from branches.imports.errors import RowError
from branches.imports.headers import Column, cell, ignored_columns_note, locate_header
from branches.imports.preview import CHANGED, ERROR, NEW, UNCHANGED, entry
from branches.imports.reader import Table
from branches.imports.resources import FileInfo, PlannedResource, dataset
from branches.models import UNIT_CODE_VALIDATOR, Unit, UnitKind

UNIT_COLUMNS = (
    Column("unit_code", gettext_lazy("unit code (机构号)"), ("机构号", "机构代码", "机构编码", "机构编号", "网点号", "unit", "code"), True),
    Column("name", gettext_lazy("name (机构名称)"), ("机构名称", "名称", "网点名称", "name", "unit name"), True),
    Column("parent_code", gettext_lazy("parent unit code (上级机构号)"), ("上级机构号", "上级机构", "上级机构代码", "parent", "parent code")),
    Column("kind", gettext_lazy("kind (机构类型)"), ("机构类型", "类型", "层级", "机构层级", "kind", "type"), True),
    Column("category", gettext_lazy("category (类别)"), ("类别", "分类", "机构类别", "category")),
    Column("name_en", gettext_lazy("English name (英文名称)"), ("英文名称", "英文名", "english name", "name en")),
    Column("active_from", gettext_lazy("active from (成立日期)"), ("成立日期", "启用日期", "开业日期", "active from")),
)
FIELDS = ("row_no", *(column.key for column in UNIT_COLUMNS))

KIND_WORDS = {
    UnitKind.HEAD_OFFICE: ("head_office", "head office", "总行", "联社", "县联社", "农商行", "分行"),
    UnitKind.REGION: ("region", "片区", "战区", "区域", "管辖行"),
    UnitKind.BRANCH: ("branch", "支行", "信用社", "信用社(部)"),
    UnitKind.OUTLET: ("outlet", "网点", "储蓄所", "分理处", "营业部"),
    UnitKind.DEPARTMENT: ("department", "部门", "部室"),
}
LOOKUP_CHUNK = 10_000


def word_table(words: dict) -> dict[str, str]:
    """Every accepted word (and the choice's own label) in lower case → the choice."""
    table = {}
    for key, aliases in words.items():
        for alias in aliases:
            table[alias.lower()] = key
        table[str(key.label).lower()] = key
    return table


def max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def too_long(row_no: int, column: str, text: str, limit: int) -> RowError:
    return RowError(row_no, column, _("%(length)s characters, at most %(limit)s allowed") % {"length": len(text), "limit": limit})


def build_dataset(table: Table, options: dict):
    """The unit rows below the header as a Dataset (cells as read), and what the read found."""
    header = locate_header(table, UNIT_COLUMNS)
    index = [header.index_of.get(column.key) for column in UNIT_COLUMNS]
    rows = (
        (row_no, *(cell(cells, i) for i in index)) for row_no, cells in table.rows if row_no > header.header_row_no
    )
    return dataset(FIELDS, rows), FileInfo.of(table, header, UNIT_COLUMNS, ignored_columns_note(header))


@dataclass
class UnitRow:
    row_no: int
    code: str
    name: str
    kind: str | None
    parent_code: str
    category: str
    name_en: str
    active_from: datetime.date | None
    problems: list[RowError] = field(default_factory=list)


def _parse(data, labels: dict[str, str]) -> list[UnitRow]:
    kinds = word_table(KIND_WORDS)
    limits = {key: max_length(Unit, key) for key in ("code", "name", "category", "name_en")}
    rows = []
    for row_no, raw_code, raw_name, raw_parent, raw_kind, raw_category, raw_name_en, raw_from in data:
        problems = []
        code = values.parse_code(raw_code)
        if not code:
            problems.append(RowError(row_no, labels["unit_code"], _("the unit code is empty")))
        elif len(code) > limits["code"]:
            problems.append(too_long(row_no, labels["unit_code"], code, limits["code"]))
        else:
            try:
                UNIT_CODE_VALIDATOR(code)
            except ValidationError as error:
                problems.append(RowError(row_no, labels["unit_code"], " ".join(error.messages)))
        name = values.parse_text(raw_name)
        if not name:
            problems.append(RowError(row_no, labels["name"], _("the name is empty")))
        elif len(name) > limits["name"]:
            problems.append(too_long(row_no, labels["name"], name, limits["name"]))
        kind_text = values.parse_text(raw_kind)
        kind = kinds.get(kind_text.lower())
        if kind is None:
            problems.append(
                RowError(row_no, labels["kind"], _("“%(value)s” is not a unit kind (总行, 片区, 支行, 网点, 部门)") % {"value": kind_text})
            )
        category, name_en = values.parse_text(raw_category), values.parse_text(raw_name_en)
        for key, text in (("category", category), ("name_en", name_en)):
            if len(text) > limits[key]:
                problems.append(too_long(row_no, labels[key], text, limits[key]))
        active_from = None
        if not values.is_empty(raw_from):
            try:
                active_from = values.parse_date(raw_from)
            except ValueError as error:
                problems.append(RowError(row_no, labels["active_from"], str(error)))
        rows.append(UnitRow(row_no, code, name, kind, values.parse_code(raw_parent), category, name_en, active_from, problems))
    return rows


@dataclass(frozen=True)
class ExistingUnit:
    pk: int
    code: str
    name: str
    kind: str
    category: str
    name_en: str
    parent_code: str
    path: str
    active_from: datetime.date
    active_to: datetime.date | None


def _existing(codes: set[str]) -> dict[str, ExistingUnit]:
    found = {}
    codes = sorted(code for code in codes if code)
    for start in range(0, len(codes), LOOKUP_CHUNK):
        for unit in Unit.objects.filter(code__in=codes[start : start + LOOKUP_CHUNK]).values_list(
            "pk", "code", "name", "kind", "category", "name_en", "parent__code", "path", "active_from", "active_to"
        ):
            found[unit[1]] = ExistingUnit(*unit[:6], unit[6] or "", *unit[7:])
    return found


# A unit whose parent chain runs into a loop of other rows: it has no path, but is not in error itself.
_UNDER_A_LOOP = ""


def final_paths(rows_by_code: dict[str, UnitRow], existing: dict[str, ExistingUnit]) -> dict[str, str | None]:
    """Each unit's path once the file is written (None: the unit is in a loop of parents).

    A unit's parent is the file's when the file gives one, else its current one; the current
    parents of units outside the file are read from the paths of the units loaded.
    """
    current_parent: dict[str, str | None] = {}
    for unit in existing.values():
        chain = unit.path.strip("/").split("/")
        for position, code in enumerate(chain):
            current_parent.setdefault(code, chain[position - 1] if position else None)

    def parent_of(code):
        row = rows_by_code.get(code)
        if row is not None and row.parent_code:
            return row.parent_code
        return current_parent.get(code)

    paths: dict[str, str | None] = {}
    for start in rows_by_code:
        chain, seen, code = [], set(), start
        while code is not None and code not in paths:
            if code in seen:
                loop_starts = chain.index(code)
                for member in chain[loop_starts:]:
                    paths[member] = None
                for member in chain[:loop_starts]:
                    paths[member] = _UNDER_A_LOOP
                break
            seen.add(code)
            chain.append(code)
            code = parent_of(code)
        else:
            base = "/" if code is None else paths[code]
            for member in reversed(chain):
                base = base + member + "/" if base else _UNDER_A_LOOP
                paths[member] = base
    return paths


def _diffs(unit: ExistingUnit, row: UnitRow) -> list[tuple[str, str, str]]:
    diffs = []
    for name in ("name", "kind", "category", "name_en"):
        old, new = getattr(unit, name), getattr(row, name)
        if new != old and not (name in ("category", "name_en") and not new):
            diffs.append((name, f"{name}: {old}", f"{name}: {new}"))
    if row.parent_code and row.parent_code != unit.parent_code:
        diffs.append(("parent", f"parent: {unit.parent_code}", f"parent: {row.parent_code}"))
    if row.active_from and row.active_from != unit.active_from:
        diffs.append(("active_from", f"active_from: {unit.active_from}", f"active_from: {row.active_from}"))
    return diffs


class UnitPlan:
    """Every unit row's fate, and the file as ``services.import_units`` writes it."""

    def __init__(self, data, labels: dict[str, str]):
        rows = _parse(data, labels)
        codes_in_file = {row.code for row in rows}
        existing = _existing(codes_in_file | {row.parent_code for row in rows})
        first_row: dict[str, UnitRow] = {}
        for row in rows:
            if row.code:
                first_row.setdefault(row.code, row)
        paths = final_paths(first_row, existing)
        path_limit = max_length(Unit, "path")
        self.entries: list[tuple] = []
        self.new: list[services.UnitRecord] = []
        self.changed: list[services.UnitRecord] = []
        self.moved_paths: dict[str, str] = {}
        for row in rows:
            problems = row.problems
            unit = existing.get(row.code)
            parent = row.parent_code
            if not row.code:
                pass  # already reported: the unit code is empty
            elif first_row[row.code] is not row:
                problems.append(
                    RowError(row.row_no, labels["unit_code"], _("unit %(code)s is also in row %(row)s") % {"code": row.code, "row": first_row[row.code].row_no})
                )
            elif parent and parent not in existing and parent not in codes_in_file:
                problems.append(RowError(row.row_no, labels["parent_code"], _("no unit with code %(code)s") % {"code": parent}))
            elif paths.get(row.code) is None:
                if unit and parent in existing and existing[parent].path.startswith(unit.path):
                    message = _("a unit cannot be moved under one of its own sub-units")
                else:
                    message = _("a unit cannot be its own parent (directly or through other rows)")
                problems.append(RowError(row.row_no, labels["parent_code"], message))
            elif paths[row.code] and len(paths[row.code]) > path_limit:
                problems.append(
                    RowError(row.row_no, labels["parent_code"], _("the unit would lie too deep in the tree (a path of %(length)s characters, at most %(limit)s)") % {"length": len(paths[row.code]), "limit": path_limit})
                )
            if not parent and not (unit and not unit.parent_code) and row.kind != UnitKind.HEAD_OFFICE:
                problems.append(RowError(row.row_no, labels["parent_code"], _("the parent unit code is empty")))
            if unit and row.active_from and unit.active_to and row.active_from > unit.active_to:
                problems.append(
                    RowError(row.row_no, labels["active_from"], _("the unit closed on %(date)s; it cannot open after that") % {"date": unit.active_to})
                )
            key = f"{row.code} {row.name}"
            if problems:
                self.entries.append(entry(row.row_no, ERROR, key, errors=problems))
                continue
            path = paths[row.code] or None
            if unit is None:
                self.entries.append(entry(row.row_no, NEW, key, new=f"{row.kind} ← {parent or '—'}"))
                self.new.append(
                    services.UnitRecord(
                        code=row.code, name=row.name, kind=row.kind, category=row.category, name_en=row.name_en,
                        active_from=row.active_from or Unit._meta.get_field("active_from").get_default(),
                        parent_code=parent or None, path=path,
                    )
                )
                continue
            if path and path != unit.path:
                self.moved_paths[unit.path] = path
            diffs = _diffs(unit, row)
            if not diffs:
                self.entries.append(entry(row.row_no, UNCHANGED, key))
                continue
            self.entries.append(entry(row.row_no, CHANGED, key, old="; ".join(d[1] for d in diffs), new="; ".join(d[2] for d in diffs)))
            changed = {name for name, _old, _new in diffs}
            self.changed.append(
                services.UnitRecord(
                    code=row.code,
                    **{name: getattr(row, name) for name in ("name", "kind", "category", "name_en", "active_from") if name in changed},
                    parent_code=parent if "parent" in changed else None,
                )
            )

    def entry_at(self, index: int) -> tuple:
        return self.entries[index]


class UnitResource(PlannedResource):
    """Units through django-import-export: planned for the whole file, written set-based."""

    kind = "units"
    columns = FIELDS

    def make_plan(self, dataset) -> UnitPlan:
        return UnitPlan(dataset, self.info.labels)

    def write(self, plan: UnitPlan) -> None:
        services.import_units(new=plan.new, changed=plan.changed, moved_paths=plan.moved_paths)


RESOURCE = UnitResource
