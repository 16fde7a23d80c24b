"""Importing staff (人员): hires, renames, moves and leavers, with the assignment history.

Each row is compared with the database to give its fate. Staff absent from the file are left as
they are. A row whose unit or position differs from the person's current one is a move from
the row's effective date (生效日期), or from the date given with the upload: the current
assignment ends the day before, so figures before that date stay with the old unit. A leaving
date (离职日期) ends the person and their assignment then — a new hire's too. Everything the
database would refuse (lengths, a leaving date before the assignment began) is refused in the
preview already, naming the cell.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches import services
from branches.imports import values
from branches.imports.errors import RowError
from branches.imports.headers import Column, cell, ignored_columns_note, locate_header
from branches.imports.preview import CHANGED, ERROR, NEW, UNCHANGED, entry
from branches.imports.reader import Table
from branches.imports.resources import FileInfo, PlannedResource, dataset
from branches.imports.units import LOOKUP_CHUNK, max_length, too_long, word_table
from branches.models import Position, Staff, StaffAssignment, Unit

STAFF_COLUMNS = (
    Column("employee_no", gettext_lazy("employee number (工号)"), ("工号", "员工号", "员工编号", "人员编号", "employee number", "employee"), True),
    Column("name", gettext_lazy("name (姓名)"), ("姓名", "员工姓名", "name"), True),
    Column("unit_code", gettext_lazy("unit code (机构号)"), ("机构号", "所属机构号", "机构代码", "网点号", "unit", "unit code"), True),
    Column("position", gettext_lazy("position (岗位)"), ("岗位", "职务", "职位", "position")),
    Column("valid_from", gettext_lazy("effective date (生效日期)"), ("生效日期", "调动日期", "入职日期", "起始日期", "effective date", "valid from", "from")),
    Column("active_to", gettext_lazy("leaving date (离职日期)"), ("离职日期", "离岗日期", "leaving date", "active to")),
)
FIELDS = ("row_no", *(column.key for column in STAFF_COLUMNS))

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


def build_dataset(table: Table, options: dict):
    """The staff rows below the header as a Dataset (cells as read), and what the read found."""
    header = locate_header(table, STAFF_COLUMNS)
    index = [header.index_of.get(column.key) for column in STAFF_COLUMNS]
    rows = (
        (row_no, *(cell(cells, i) for i in index)) for row_no, cells in table.rows if row_no > header.header_row_no
    )
    return dataset(FIELDS, rows), FileInfo.of(table, header, STAFF_COLUMNS, ignored_columns_note(header))


@dataclass(frozen=True)
class Person:
    pk: int
    name: str
    unit_id: int
    unit_code: str
    position: str
    active_from: datetime.date
    active_to: datetime.date | None


@dataclass(frozen=True)
class LatestAssignment:
    pk: int
    valid_from: datetime.date
    valid_to: datetime.date | None


def _in_chunks(keys: set, lookup):
    keys = sorted(key for key in keys if key)
    for start in range(0, len(keys), LOOKUP_CHUNK):
        yield from lookup(keys[start : start + LOOKUP_CHUNK])


def _lookups(rows):
    units = dict(
        _in_chunks({row[3] for row in rows}, lambda codes: Unit.objects.filter(code__in=codes).values_list("code", "pk"))
    )
    people = {
        number: Person(*rest)
        for number, *rest in _in_chunks(
            {row[1] for row in rows},
            lambda numbers: Staff.objects.filter(employee_no__in=numbers).values_list(
                "employee_no", "pk", "name", "unit_id", "unit__code", "position", "active_from", "active_to"
            ),
        )
    }
    latest: dict[int, LatestAssignment] = {}
    ids = {person.pk for person in people.values()}
    for staff_id, pk, valid_from, valid_to in _in_chunks(
        ids,
        lambda chunk: StaffAssignment.objects.filter(staff_id__in=chunk)
        .order_by("staff_id", "valid_from")
        .values_list("staff_id", "pk", "valid_from", "valid_to"),
    ):
        latest[staff_id] = LatestAssignment(pk, valid_from, valid_to)  # ordered: the last one stays
    return units, people, latest


class StaffPlan:
    """Every staff row's fate, and the file as ``services.import_staff`` writes it."""

    def __init__(self, data, labels: dict[str, str], default_date: datetime.date | None):
        # What a row's fate says, translated once for the file (gettext per row costs seconds).
        self.texts = {
            "hire": _("hired at %(unit)s from %(date)s"),
            "rename": _("name: %(old)s → %(new)s"),
            "move": _("%(old)s → %(new)s from %(date)s"),
            "leave": _("leaves after %(date)s"),
        }
        self.limits = {key: max_length(Staff, key) for key in ("employee_no", "name")}
        parsed = [self._parse(row, labels, default_date, self.limits) for row in data]
        units, people, latest = _lookups([row for row, _problems in parsed])
        self.entries: list[tuple] = []
        self.records: list[services.StaffRecord] = []
        seen: dict[str, int] = {}
        for (row_no, number, name, unit_code, position, starts_on, leaves_on), problems in parsed:
            if number in seen:
                problems.append(
                    RowError(row_no, labels["employee_no"], _("employee %(no)s is also in row %(row)s") % {"no": number, "row": seen[number]})
                )
            elif number:
                seen[number] = row_no
            unit_id = units.get(unit_code)
            if unit_code and unit_id is None:
                problems.append(RowError(row_no, labels["unit_code"], _("no unit with code %(code)s") % {"code": unit_code}))
            person = people.get(number)
            key = f"{number} {name}"
            fate = ""
            if not problems:
                if person is None:
                    fate = self._hire(row_no, number, name, unit_id, unit_code, position, starts_on, leaves_on, labels, problems)
                else:
                    fate = self._change(
                        row_no, number, name, unit_id, unit_code, position, starts_on, leaves_on, person, latest.get(person.pk),
                        labels, problems,
                    )
            if problems:
                self.entries.append(entry(row_no, ERROR, key, errors=problems))
            elif person is None:
                self.entries.append(entry(row_no, NEW, key, new=fate))
            elif fate:
                self.entries.append(entry(row_no, CHANGED, key, new=fate))
            else:
                self.entries.append(entry(row_no, UNCHANGED, key))

    @staticmethod
    def _parse(row, labels, default_date, limits):
        row_no, raw_number, raw_name, raw_unit, raw_position, raw_from, raw_to = row
        problems = []
        number = values.parse_code(raw_number)
        limit = limits["employee_no"]
        if not number:
            problems.append(RowError(row_no, labels["employee_no"], _("the employee number is empty")))
        elif len(number) > limit:
            problems.append(too_long(row_no, labels["employee_no"], number, limit))
        name = values.parse_text(raw_name)
        limit = limits["name"]
        if not name:
            problems.append(RowError(row_no, labels["name"], _("the name is empty")))
        elif len(name) > limit:
            problems.append(too_long(row_no, labels["name"], name, limit))
        unit_code = values.parse_code(raw_unit)
        if not unit_code:
            problems.append(RowError(row_no, labels["unit_code"], _("the unit code is empty")))
        position_text = values.parse_text(raw_position)
        position = _POSITIONS.get(position_text.lower()) if position_text else None
        if position_text and position is None:
            problems.append(RowError(row_no, labels["position"], _("“%(value)s” is not a position") % {"value": position_text}))
        dates = {}
        for key, raw in (("valid_from", raw_from), ("active_to", raw_to)):
            dates[key] = None
            if not values.is_empty(raw):
                try:
                    dates[key] = values.parse_date(raw)
                except ValueError as error:
                    problems.append(RowError(row_no, labels[key], str(error)))
        return (row_no, number, name, unit_code, position, dates["valid_from"] or default_date, dates["active_to"]), problems

    def _hire(self, row_no, number, name, unit_id, unit_code, position, starts_on, leaves_on, labels, problems) -> str:
        if starts_on is None:
            problems.append(RowError(row_no, labels["valid_from"], _("a new staff member needs the date they start")))
            return ""
        if leaves_on is not None and leaves_on < starts_on:
            problems.append(_leaves_before(row_no, labels, starts_on))
            return ""
        self.records.append(
            services.StaffRecord(
                employee_no=number, name=name, unit_id=unit_id, position=position or Position.STAFF,
                starts_on=starts_on, leaves_on=leaves_on,
            )
        )
        text = self.texts["hire"] % {"unit": unit_code, "date": starts_on}
        if leaves_on is not None:
            text += "; " + self.texts["leave"] % {"date": leaves_on}
        return text

    def _change(self, row_no, number, name, unit_id, unit_code, position, starts_on, leaves_on, person, latest, labels, problems) -> str:
        actions = []
        record = {}
        if name != person.name:
            actions.append(self.texts["rename"] % {"old": person.name, "new": name})
            record["name"] = name
        position = position or person.position
        moves = unit_id != person.unit_id or position != person.position
        if moves:
            if starts_on is None:
                problems.append(RowError(row_no, labels["valid_from"], _("a move needs the date it takes effect")))
            elif latest is not None and starts_on <= latest.valid_from:
                problems.append(
                    RowError(row_no, labels["valid_from"], _("the move must start after %(date)s, when the current assignment began") % {"date": latest.valid_from})
                )
            elif latest is not None and latest.valid_to is not None and starts_on <= latest.valid_to:
                problems.append(
                    RowError(row_no, labels["valid_from"], _("the move must start after %(date)s, when the last assignment ended") % {"date": latest.valid_to})
                )
            else:
                actions.append(
                    self.texts["move"]
                    % {"old": f"{person.unit_code}/{person.position}", "new": f"{unit_code}/{position}", "date": starts_on}
                )
                record.update(unit_id=unit_id, position=position, starts_on=starts_on)
                if latest is not None and latest.valid_to is None:
                    record["closes_assignment_id"] = latest.pk
        if leaves_on is not None and leaves_on != person.active_to:
            # The assignment open on the last day: the one this row opens, else the latest one
            # (open, or closed by an earlier leaving date that this row corrects).
            began = starts_on if moves else (latest.valid_from if latest is not None else person.active_from)
            if began is not None and leaves_on < began:
                problems.append(_leaves_before(row_no, labels, began))
            else:
                actions.append(self.texts["leave"] % {"date": leaves_on})
                record["leaves_on"] = leaves_on
                if not moves and latest is not None and latest.valid_to in (None, person.active_to):
                    record["ends_assignment_id"] = latest.pk
        if problems or not actions:
            return ""
        self.records.append(services.StaffRecord(employee_no=number, staff_id=person.pk, **record))
        return "; ".join(actions)

    def entry_at(self, index: int) -> tuple:
        return self.entries[index]


_POSITIONS = word_table(POSITION_WORDS)


def _leaves_before(row_no, labels, began) -> RowError:
    return RowError(
        row_no, labels["active_to"], _("the leaving date lies before %(date)s, when the assignment began") % {"date": began}
    )


class StaffResource(PlannedResource):
    """Staff through django-import-export: planned for the whole file, written set-based."""

    kind = "staff"
    columns = FIELDS

    def make_plan(self, dataset) -> StaffPlan:
        return StaffPlan(dataset, self.info.labels, self.options.get("default_date"))

    def write(self, plan: StaffPlan) -> None:
        services.import_staff(plan.records)


RESOURCE = StaffResource
