"""Units and staff from a file: new, changed (moves), unchanged, errors; all or nothing."""

from __future__ import annotations

import datetime

import pytest

from branches.imports.kinds import ImportAborted, apply_file, preview_file
from branches.models import Staff, StaffAssignment, Unit
from tests.imports.conftest import csv_bytes, write

UNIT_HEADER = ["机构号", "机构名称", "上级机构号", "机构类型", "类别"]
STAFF_HEADER = ["工号", "姓名", "机构号", "岗位", "生效日期"]


def test_units_preview_shows_new_changed_and_unchanged(small_bank, tmp_path):
    rows = [
        UNIT_HEADER,
        ["B1", "城关信用社", "R1", "信用社", "直管机构"],
        ["B2", "城东支行", "R1", "支行", "直管机构"],
        ["B4", "北关信用社", "R2", "信用社", "直管机构"],
    ]
    preview = preview_file("units", write(tmp_path, "u.csv", csv_bytes(rows)), filename="u.csv")
    assert [(f.row_no, f.fate) for f in preview.fates] == [(2, "unchanged"), (3, "changed"), (4, "new")]
    assert "城东信用社" in preview.fates[1].old and "城东支行" in preview.fates[1].new
    assert not Unit.objects.filter(code="B4").exists()


def test_units_confirm_creates_children_after_parents_and_moves_subtrees(small_bank, tmp_path):
    rows = [
        UNIT_HEADER,
        ["O9", "新储蓄所", "B9", "储蓄所", "储蓄所"],  # parent defined in a later row
        ["B9", "新信用社", "R2", "信用社", "直管机构"],
        ["B1", "城关信用社", "R2", "信用社", "直管机构"],  # a move: O1 follows B1
    ]
    result = apply_file("units", write(tmp_path, "u.csv", csv_bytes(rows)), filename="u.csv")
    assert (result.new, result.changed) == (2, 1)
    assert Unit.objects.get(code="O9").path == "/HO/R2/B9/O9/"
    assert Unit.objects.get(code="O1").path == "/HO/R2/B1/O1/"


def test_units_with_errors_write_nothing(small_bank, tmp_path):
    rows = [UNIT_HEADER, ["B8", "好", "R1", "支行", ""], ["B7", "坏", "NOPE", "支行", ""], ["B6", "坏", "R1", "银河", ""]]
    path = write(tmp_path, "u.csv", csv_bytes(rows))
    preview = preview_file("units", path, filename="u.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(3, "上级机构号"), (4, "机构类型")]
    with pytest.raises(ImportAborted):
        apply_file("units", path, filename="u.csv")
    assert not Unit.objects.filter(code="B8").exists()


def test_unit_cannot_move_under_its_own_subunit(small_bank, tmp_path):
    rows = [UNIT_HEADER, ["B1", "城关信用社", "O1", "信用社", ""]]
    preview = preview_file("units", write(tmp_path, "u.csv", csv_bytes(rows)), filename="u.csv")
    assert preview.errors[0].column == "上级机构号"


def test_staff_row_with_a_new_unit_is_a_move_from_the_given_date(small_bank, tmp_path):
    rows = [STAFF_HEADER, ["E002", "王芳", "B2", "客户经理", "2027-02-01"], ["E009", "赵六", "B3", "柜员", "2027-01-10"]]
    path = write(tmp_path, "s.csv", csv_bytes(rows))
    preview = preview_file("staff", path, filename="s.csv")
    assert [(f.row_no, f.fate) for f in preview.fates] == [(2, "changed"), (3, "new")]
    result = apply_file("staff", path, filename="s.csv")
    assert (result.new, result.changed) == (1, 1)
    history = list(StaffAssignment.objects.filter(staff=small_bank["s2"]).values_list("unit__code", "valid_from", "valid_to"))
    assert history == [("B1", datetime.date(2027, 1, 1), datetime.date(2027, 1, 31)), ("B2", datetime.date(2027, 2, 1), None)]
    assert Staff.objects.get(employee_no="E009").unit.code == "B3"


def test_reimporting_the_same_staff_file_changes_nothing(small_bank, tmp_path):
    rows = [STAFF_HEADER, ["E002", "王芳", "B2", "客户经理", "2027-02-01"]]
    path = write(tmp_path, "s.csv", csv_bytes(rows))
    apply_file("staff", path, filename="s.csv")
    assert preview_file("staff", path, filename="s.csv").changes_nothing
    assert not apply_file("staff", path, filename="s.csv").changed_anything


def test_staff_move_dated_before_the_current_assignment_is_an_error(small_bank, tmp_path):
    rows = [STAFF_HEADER, ["E002", "王芳", "B2", "客户经理", "2026-12-01"], ["E003", "李娜", "NOPE", "", "2027-02-01"]]
    path = write(tmp_path, "s.csv", csv_bytes(rows))
    preview = preview_file("staff", path, filename="s.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(2, "生效日期"), (3, "机构号")]
    with pytest.raises(ImportAborted):
        apply_file("staff", path, filename="s.csv")
    assert Staff.objects.get(employee_no="E002").unit.code == "B1"


def test_staff_leaving_date_ends_the_assignment(small_bank, tmp_path):
    rows = [STAFF_HEADER + ["离职日期"], ["E004", "刘洋", "O1", "柜员", "", "2027-02-28"]]
    path = write(tmp_path, "s.csv", csv_bytes(rows))
    assert [f.fate for f in preview_file("staff", path, filename="s.csv").fates] == ["changed"]
    apply_file("staff", path, filename="s.csv")
    assert Staff.objects.get(employee_no="E004").active_to == datetime.date(2027, 2, 28)
    assert StaffAssignment.objects.get(staff=small_bank["s4"]).valid_to == datetime.date(2027, 2, 28)


def test_units_that_are_each_others_parents_are_refused(small_bank, tmp_path):
    rows = [UNIT_HEADER, ["X1", "甲", "X2", "支行", ""], ["X2", "乙", "X1", "支行", ""]]
    preview = preview_file("units", write(tmp_path, "u.csv", csv_bytes(rows)), filename="u.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(2, "上级机构号"), (3, "上级机构号")]
