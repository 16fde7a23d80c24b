"""Importing the organisation: units (with their parent) and staff (with moves and leavers).

Rows are compared with the database to give each its fate. Units or staff absent from the file
are left as they are: a file adds and changes, it never deletes. A staff row whose unit differs
from the person's current unit is a move from the row's effective date (生效日期), or from the
date given with the upload; figures before that date stay with the old unit.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches import services
from branches.imports import values
from branches.imports.errors import RowError
from branches.imports.headers import Column, cell, locate_header
from branches.imports.preview import CHANGED, ERROR, NEW, UNCHANGED, ImportResult, Preview, RowFate
from branches.imports.reader import Table
from branches.models import UNIT_CODE_VALIDATOR, Position, Staff, StaffAssignment, Unit, UnitKind

UNIT_COLUMNS = (
    Column("unit_code", gettext_lazy("unit code (机构号)"), ("机构号", "机构代码", "机构编码", "机构编号", "网点号", "unit", "code"), True),
    Column("name", gettext_lazy("name (机构名称)"), ("机构名称", "名称", "网点名称", "name", "unit name"), True),
    Column("parent_code", gettext_lazy("parent unit code (上级机构号)"), ("上级机构号", "上级机构", "上级机构代码", "parent", "parent code")),
    Column("kind", gettext_lazy("kind (机构类型)"), ("机构类型", "类型", "层级", "机构层级", "kind", "type"), True),
    Column("category", gettext_lazy("category (类别)"), ("类别", "分类", "机构类别", "category")),
    Column("name_en", gettext_lazy("English name (英文名称)"), ("英文名称", "英文名", "english name", "name en")),
    Column("active_from", gettext_lazy("active from (成立日期)"), ("成立日期", "启用日期", "开业日期", "active from")),
)

STAFF_COLUMNS = (
    Column("employee_no", gettext_lazy("employee number (工号)"), ("工号", "员工号", "员工编号", "人员编号", "employee number", "employee"), True),
    Column("name", gettext_lazy("name (姓名)"), ("姓名", "员工姓名", "name"), True),
    Column("unit_code", gettext_lazy("unit code (机构号)"), ("机构号", "所属机构号", "机构代码", "网点号", "unit", "unit code"), True),
    Column("position", gettext_lazy("position (岗位)"), ("岗位", "职务", "职位", "position")),
    Column("valid_from", gettext_lazy("effective date (生效日期)"), ("生效日期", "调动日期", "入职日期", "起始日期", "effective date", "valid from", "from")),
    Column("active_to", gettext_lazy("leaving date (离职日期)"), ("离职日期", "离岗日期", "leaving date", "active to")),
)

KIND_WORDS = {
    UnitKind.HEAD_OFFICE: ("head_office", "head office", "总行", "联社", "县联社", "农商行", "分行"),
    UnitKind.REGION: ("region", "片区", "战区", "区域", "管辖行"),
    UnitKind.BRANCH: ("branch", "支行", "信用社", "信用社(部)"),
    UnitKind.OUTLET: ("outlet", "网点", "储蓄所", "分理处", "营业部"),
    UnitKind.DEPARTMENT: ("department", "部门", "部室"),
}
POSITION_WORDS = {
    Position.HEAD: ("head", "负责人", "行长", "主任", "社主任"),
    Position.DEPUTY: ("deputy", "副职", "副行长", "副主任"),
    Position.MIDDLE_MANAGER: ("middle_manager", "middle manager", "中层", "部门经理"),
    Position.ACCOUNT_MANAGER: ("account_manager", "account manager", "客户经理"),
    Position.TELLER: ("teller", "柜员"),
    Position.AGENT: ("agent", "营销员"),
    Position.SUPERVISOR: ("supervisor", "主管"),
    Position.ADMINISTRATIVE: ("administrative", "综合岗"),
    Position.STAFF: ("staff", "员工"),
}


def _word_table(words: dict) -> dict[str, str]:
    table = {}
    for key, aliases in words.items():
        for alias in aliases:
            table[alias.lower()] = key
        table[str(key.label).lower()] = key
    return table


class ImportAborted(Exception):
    """Confirming found errors (the data changed since the preview): nothing was written."""

    def __init__(self, preview: Preview):
        self.preview = preview
        super().__init__(_("The file has errors; nothing was written."))


# --- units --------------------------------------------------------------------------------


def _read_unit_rows(table: Table):
    header = locate_header(table, UNIT_COLUMNS)
    index = header.index_of
    kinds = _word_table(KIND_WORDS)
    label = {column.key: header.label(index[column.key]) if column.key in index else str(column.label) for column in UNIT_COLUMNS}
    parsed, errors = [], {}
    for row_no, cells in table.rows:
        if row_no <= header.header_row_no:
            continue
        problems = []
        code = values.parse_code(cell(cells, index.get("unit_code")))
        if not code:
            problems.append(RowError(row_no, label["unit_code"], _("the unit code is empty")))
        else:
            try:
                UNIT_CODE_VALIDATOR(code)
            except ValidationError as error:
                problems.append(RowError(row_no, label["unit_code"], " ".join(error.messages)))
        name = values.parse_text(cell(cells, index.get("name")))
        if not name:
            problems.append(RowError(row_no, label["name"], _("the name is empty")))
        kind_text = values.parse_text(cell(cells, index.get("kind")))
        kind = kinds.get(kind_text.lower())
        if kind is None:
            problems.append(
                RowError(row_no, label["kind"], _("“%(value)s” is not a unit kind (总行, 片区, 支行, 网点, 部门)") % {"value": kind_text})
            )
        active_from = None
        raw_from = cell(cells, index.get("active_from"))
        if not values.is_empty(raw_from):
            try:
                active_from = values.parse_date(raw_from)
            except ValueError as error:
                problems.append(RowError(row_no, label["active_from"], str(error)))
        row = {
            "row_no": row_no,
            "code": code,
            "name": name,
            "kind": kind,
            "parent_code": values.parse_code(cell(cells, index.get("parent_code"))),
            "category": values.parse_text(cell(cells, index.get("category"))),
            "name_en": values.parse_text(cell(cells, index.get("name_en"))),
            "active_from": active_from,
        }
        parsed.append(row)
        if problems:
            errors[row_no] = problems
    return header, label, parsed, errors


def preview_units(table: Table, *, filename: str = "", options: dict | None = None) -> Preview:
    """Each unit row's fate: new, changed (field: old → new, a new parent is a move), unchanged, error."""
    preview = Preview(kind="units", filename=filename, file_format=table.file_format, encoding=table.encoding, notes=list(table.notes))
    _header, label, rows, errors = _read_unit_rows(table)
    preview.header_row_no = _header.header_row_no
    codes = {row["code"] for row in rows} | {row["parent_code"] for row in rows if row["parent_code"]}
    existing = {unit.code: unit for unit in Unit.objects.filter(code__in=codes).select_related("parent")}
    in_file = {}
    codes_in_file = {r["code"] for r in rows}
    parent_in_file = {r["code"]: r["parent_code"] for r in rows if r["parent_code"]}
    for row in rows:
        problems = errors.get(row["row_no"], [])
        if row["code"] in in_file:
            problems.append(
                RowError(row["row_no"], label["unit_code"], _("unit %(code)s is also in row %(row)s") % {"code": row["code"], "row": in_file[row["code"]]["row_no"]})
            )
        else:
            in_file[row["code"]] = row
        parent = row["parent_code"]
        if parent and parent not in existing and parent not in codes_in_file:
            problems.append(RowError(row["row_no"], label["parent_code"], _("no unit with code %(code)s") % {"code": parent}))
        if parent and _parent_chain_loops(row["code"], parent_in_file):
            problems.append(RowError(row["row_no"], label["parent_code"], _("a unit cannot be its own parent (directly or through other rows)")))
        unit = existing.get(row["code"])
        if not parent and not (unit and unit.parent_id is None) and row["kind"] != UnitKind.HEAD_OFFICE:
            problems.append(RowError(row["row_no"], label["parent_code"], _("the parent unit code is empty")))
        if unit and parent and parent in existing and existing[parent].path.startswith(unit.path):
            problems.append(RowError(row["row_no"], label["parent_code"], _("a unit cannot be moved under one of its own sub-units")))
        key = f"{row['code']} {row['name']}"
        if problems:
            preview.fates.append(RowFate(row["row_no"], ERROR, key, errors=problems))
            continue
        if unit is None:
            preview.fates.append(RowFate(row["row_no"], NEW, key, new=f"{row['kind']} ← {parent or '—'}"))
            continue
        diffs = _unit_diffs(unit, row)
        if diffs:
            preview.fates.append(
                RowFate(row["row_no"], CHANGED, key, old="; ".join(d[1] for d in diffs), new="; ".join(d[2] for d in diffs))
            )
        else:
            preview.fates.append(RowFate(row["row_no"], UNCHANGED, key))
    return preview


def _parent_chain_loops(code: str, parent_in_file: dict[str, str]) -> bool:
    """Whether following the file's parent codes upwards from ``code`` comes back to it."""
    seen = {code}
    current = parent_in_file.get(code)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parent_in_file.get(current)
    return False


def _unit_diffs(unit: Unit, row: dict) -> list[tuple[str, str, str]]:
    diffs = []
    for field in ("name", "kind", "category", "name_en"):
        if row[field] != getattr(unit, field) and not (field in ("category", "name_en") and not row[field]):
            diffs.append((field, f"{field}: {getattr(unit, field)}", f"{field}: {row[field]}"))
    current_parent = unit.parent.code if unit.parent_id else ""
    if row["parent_code"] and row["parent_code"] != current_parent:
        diffs.append(("parent", f"parent: {current_parent}", f"parent: {row['parent_code']}"))
    if row["active_from"] and row["active_from"] != unit.active_from:
        diffs.append(("active_from", f"active_from: {unit.active_from}", f"active_from: {row['active_from']}"))
    return diffs


@transaction.atomic
def apply_units(table: Table, *, filename: str = "", options: dict | None = None, user=None) -> ImportResult:
    """Re-validate and write every unit row in one transaction; raise ImportAborted on any error."""
    preview = preview_units(table, filename=filename, options=options)
    if not preview.ok:
        raise ImportAborted(preview)
    _header, _label, rows, _errors = _read_unit_rows(table)
    result = ImportResult(kind="units")
    by_code = {row["code"]: row for row in rows}
    done: dict[str, Unit] = {}

    def unit_for(code):
        if code in done:
            return done[code]
        if code in by_code:
            return write(by_code[code])
        return Unit.objects.get(code=code)

    def write(row):
        if row["code"] in done:
            return done[row["code"]]
        done[row["code"]] = None  # marks "in progress" for cycle safety
        parent = unit_for(row["parent_code"]) if row["parent_code"] else None
        unit = Unit.objects.filter(code=row["code"]).first()
        if unit is None:
            unit = services.create_unit(
                code=row["code"], name=row["name"], kind=row["kind"], parent=parent, category=row["category"],
                name_en=row["name_en"], active_from=row["active_from"],
            )
            result.new += 1
        else:
            diffs = _unit_diffs(unit, row)
            if not diffs:
                result.unchanged += 1
            else:
                result.changed += 1
                fields = {f: row[f] for f, _o, _n in diffs if f in ("name", "kind", "category", "name_en", "active_from")}
                if fields:
                    Unit.objects.filter(pk=unit.pk).update(**fields)
                if any(f == "parent" for f, _o, _n in diffs):
                    services.move_unit(unit, new_parent=parent)
                unit.refresh_from_db()
        done[row["code"]] = unit
        return unit

    for row in rows:
        write(row)
    return result


# --- staff --------------------------------------------------------------------------------


def _read_staff_rows(table: Table, default_date):
    header = locate_header(table, STAFF_COLUMNS)
    index = header.index_of
    positions = _word_table(POSITION_WORDS)
    label = {c.key: header.label(index[c.key]) if c.key in index else str(c.label) for c in STAFF_COLUMNS}
    rows, errors = [], {}
    for row_no, cells in table.rows:
        if row_no <= header.header_row_no:
            continue
        problems = []
        number = values.parse_code(cell(cells, index.get("employee_no")))
        if not number:
            problems.append(RowError(row_no, label["employee_no"], _("the employee number is empty")))
        name = values.parse_text(cell(cells, index.get("name")))
        if not name:
            problems.append(RowError(row_no, label["name"], _("the name is empty")))
        unit_code = values.parse_code(cell(cells, index.get("unit_code")))
        if not unit_code:
            problems.append(RowError(row_no, label["unit_code"], _("the unit code is empty")))
        position_text = values.parse_text(cell(cells, index.get("position")))
        position = positions.get(position_text.lower()) if position_text else None
        if position_text and position is None:
            problems.append(RowError(row_no, label["position"], _("“%(value)s” is not a position") % {"value": position_text}))
        dates = {}
        for field in ("valid_from", "active_to"):
            raw = cell(cells, index.get(field))
            dates[field] = None
            if not values.is_empty(raw):
                try:
                    dates[field] = values.parse_date(raw)
                except ValueError as error:
                    problems.append(RowError(row_no, label[field], str(error)))
        rows.append(
            {
                "row_no": row_no, "employee_no": number, "name": name, "unit_code": unit_code, "position": position,
                "valid_from": dates["valid_from"] or default_date, "active_to": dates["active_to"],
            }
        )
        if problems:
            errors[row_no] = problems
    return header, label, rows, errors


def _staff_plan(table: Table, options: dict | None):
    """Each staff row with what writing it means: hire, move, rename, leave — or its errors."""
    options = options or {}
    header, label, rows, errors = _read_staff_rows(table, options.get("default_date"))
    units = {u.code: u for u in Unit.objects.filter(code__in={r["unit_code"] for r in rows})}
    staff = {s.employee_no: s for s in Staff.objects.filter(employee_no__in={r["employee_no"] for r in rows}).select_related("unit")}
    current = {
        a.staff_id: a
        for a in StaffAssignment.objects.filter(staff__in=staff.values(), valid_to__isnull=True)
    }
    seen = {}
    plan = []
    for row in rows:
        problems = errors.get(row["row_no"], [])
        if row["employee_no"] in seen:
            problems.append(
                RowError(row["row_no"], label["employee_no"], _("employee %(no)s is also in row %(row)s") % {"no": row["employee_no"], "row": seen[row["employee_no"]]})
            )
        seen.setdefault(row["employee_no"], row["row_no"])
        unit = units.get(row["unit_code"])
        if row["unit_code"] and unit is None:
            problems.append(RowError(row["row_no"], label["unit_code"], _("no unit with code %(code)s") % {"code": row["unit_code"]}))
        person = staff.get(row["employee_no"])
        actions = []
        if not problems:
            if person is None:
                if row["valid_from"] is None:
                    problems.append(RowError(row["row_no"], label["valid_from"], _("a new staff member needs the date they start")))
                actions.append(("hire", _("hired at %(unit)s from %(date)s") % {"unit": unit.code, "date": row["valid_from"]}))
            else:
                if row["name"] != person.name:
                    actions.append(("rename", _("name: %(old)s → %(new)s") % {"old": person.name, "new": row["name"]}))
                position = row["position"] or person.position
                if unit.pk != person.unit_id or position != person.position:
                    assignment = current.get(person.pk)
                    if row["valid_from"] is None:
                        problems.append(RowError(row["row_no"], label["valid_from"], _("a move needs the date it takes effect")))
                    elif assignment is not None and row["valid_from"] <= assignment.valid_from:
                        problems.append(
                            RowError(row["row_no"], label["valid_from"], _("the move must start after %(date)s, when the current assignment began") % {"date": assignment.valid_from})
                        )
                    else:
                        actions.append(
                            ("move", _("%(old)s → %(new)s from %(date)s") % {"old": f"{person.unit.code}/{person.position}", "new": f"{unit.code}/{position}", "date": row["valid_from"]})
                        )
                if row["active_to"] and row["active_to"] != person.active_to:
                    actions.append(("leave", _("leaves after %(date)s") % {"date": row["active_to"]}))
        plan.append((row, unit, person, actions, problems))
    return header, plan


def preview_staff(table: Table, *, filename: str = "", options: dict | None = None) -> Preview:
    """Each staff row's fate: new (hire), changed (move from a date, rename, leaving), unchanged, error."""
    preview = Preview(kind="staff", filename=filename, file_format=table.file_format, encoding=table.encoding, notes=list(table.notes))
    header, plan = _staff_plan(table, options)
    preview.header_row_no = header.header_row_no
    for row, _unit, person, actions, problems in plan:
        key = f"{row['employee_no']} {row['name']}"
        if problems:
            preview.fates.append(RowFate(row["row_no"], ERROR, key, errors=problems))
        elif person is None:
            preview.fates.append(RowFate(row["row_no"], NEW, key, new=str(actions[0][1])))
        elif actions:
            preview.fates.append(RowFate(row["row_no"], CHANGED, key, new="; ".join(str(a[1]) for a in actions)))
        else:
            preview.fates.append(RowFate(row["row_no"], UNCHANGED, key))
    return preview


@transaction.atomic
def apply_staff(table: Table, *, filename: str = "", options: dict | None = None, user=None) -> ImportResult:
    """Re-validate and write hires, moves, renames and leavers in one transaction, or nothing."""
    preview = preview_staff(table, filename=filename, options=options)
    if not preview.ok:
        raise ImportAborted(preview)
    _header, plan = _staff_plan(table, options)
    result = ImportResult(kind="staff")
    for row, unit, person, actions, _problems in plan:
        if not actions:
            result.unchanged += 1
            continue
        if person is None:
            services.hire_staff(
                employee_no=row["employee_no"], name=row["name"], unit=unit,
                position=row["position"] or Position.STAFF, on=row["valid_from"],
            )
            result.new += 1
            person = Staff.objects.get(employee_no=row["employee_no"])
        else:
            result.changed += 1
        for action, _text in actions:
            if action == "rename":
                Staff.objects.filter(pk=person.pk).update(name=row["name"])
            elif action == "move":
                services.move_staff(person, to_unit=unit, on=row["valid_from"], position=row["position"])
            elif action == "leave":
                person.refresh_from_db()
                services.end_staff(person, on=row["active_to"])
    return result
