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


# --- the tree after the whole file (audit bug 1) -------------------------------------------


def test_unit_created_under_a_unit_moved_in_the_same_file_gets_the_new_path(small_bank, tmp_path):
    # O1 is listed before R1 moves under R2, and N1 is created under O1 after both.
    rows = [UNIT_HEADER, ["O1", "城关储蓄所", "B1", "储蓄所", ""], ["R1", "东片区", "R2", "片区", ""], ["N1", "新网点", "O1", "网点", ""]]
    apply_file("units", write(tmp_path, "u.csv", csv_bytes(rows)), filename="u.csv")
    paths = dict(Unit.objects.values_list("code", "path"))
    assert paths["O1"] == "/HO/R2/R1/B1/O1/"
    assert paths["N1"] == "/HO/R2/R1/B1/O1/N1/"
    assert Unit.objects.get(code="N1").depth == 5
    assert set(Unit.objects.filter(path__startswith="/HO/R2/").values_list("code", flat=True)) == {
        "R2", "B3", "R1", "B1", "B2", "O1", "N1"
    }


def test_moves_that_together_make_a_loop_are_refused_in_the_preview(small_bank, tmp_path):
    # Neither move alone puts a unit under itself; both together would (R1 → B3 → R2 → B1 → R1).
    rows = [UNIT_HEADER, ["R1", "东片区", "B3", "片区", ""], ["R2", "西片区", "B1", "片区", ""]]
    path = write(tmp_path, "u.csv", csv_bytes(rows))
    assert [(e.row_no, e.column) for e in preview_file("units", path, filename="u.csv").errors] == [(2, "上级机构号"), (3, "上级机构号")]
    with pytest.raises(ImportAborted):
        apply_file("units", path, filename="u.csv")
    assert Unit.objects.get(code="R1").path == "/HO/R1/"


# --- preview refuses what confirming would refuse (audit bug 3) ------------------------------


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        (["B9", "长" * 150, "R1", "支行", ""], "机构名称", "at most 100"),
        (["X" * 40, "甲", "R1", "支行", ""], "机构号", "at most 32"),
        (["B9", "甲", "R1", "支行", "类" * 60], "类别", "at most 50"),
    ],
)
def test_too_long_unit_cells_are_errors_in_the_preview_and_nothing_is_written(small_bank, tmp_path, cells, column, fragment):
    path = write(tmp_path, "u.csv", csv_bytes([UNIT_HEADER, cells]))
    preview = preview_file("units", path, filename="u.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(2, column)]
    assert fragment in preview.errors[0].message
    with pytest.raises(ImportAborted):
        apply_file("units", path, filename="u.csv")
    assert Unit.objects.count() == 7


def test_a_closed_unit_cannot_be_given_an_opening_date_after_it_closed(small_bank, tmp_path):
    from branches import services

    services.close_unit(small_bank["b2"], on=datetime.date(2027, 1, 31))
    rows = [[*UNIT_HEADER, "成立日期"], ["B2", "城东信用社", "R1", "信用社", "直管机构", "2027-06-01"]]
    path = write(tmp_path, "u.csv", csv_bytes(rows))
    preview = preview_file("units", path, filename="u.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(2, "成立日期")]
    assert "2027-01-31" in preview.errors[0].message
    with pytest.raises(ImportAborted):
        apply_file("units", path, filename="u.csv")


def test_too_long_staff_name_is_an_error_in_the_preview(small_bank, tmp_path):
    path = write(tmp_path, "s.csv", csv_bytes([STAFF_HEADER, ["E011", "长" * 80, "B1", "柜员", "2027-01-10"]]))
    preview = preview_file("staff", path, filename="s.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(2, "姓名")]
    with pytest.raises(ImportAborted):
        apply_file("staff", path, filename="s.csv")
    assert not Staff.objects.filter(employee_no="E011").exists()


def test_leaving_date_before_the_assignment_began_is_an_error_in_the_preview(small_bank, tmp_path):
    rows = [[*STAFF_HEADER, "离职日期"], ["E004", "刘洋", "O1", "柜员", "", "2026-06-30"]]
    path = write(tmp_path, "s.csv", csv_bytes(rows))
    preview = preview_file("staff", path, filename="s.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(2, "离职日期")]
    assert "2027-01-01" in preview.errors[0].message
    with pytest.raises(ImportAborted):
        apply_file("staff", path, filename="s.csv")
    assert Staff.objects.get(employee_no="E004").active_to is None


def test_new_hire_leaving_before_starting_is_an_error(small_bank, tmp_path):
    rows = [[*STAFF_HEADER, "离职日期"], ["E010", "新人", "B1", "柜员", "2027-01-10", "2027-01-09"]]
    preview = preview_file("staff", write(tmp_path, "s.csv", csv_bytes(rows)), filename="s.csv")
    assert [(e.row_no, e.column) for e in preview.errors] == [(2, "离职日期")]


def test_confirming_a_file_the_preview_refuses_answers_409_not_500(small_bank, role_users, client, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from branches import roles

    client.force_login(role_users[roles.PLANNER])
    rows = [UNIT_HEADER, ["B9", "长" * 150, "R1", "支行", ""]]
    response = client.post(reverse("imports:upload", args=["units"]), {"file": SimpleUploadedFile("u.csv", csv_bytes(rows))})
    page = client.get(response["Location"])
    assert not page.context["preview"].ok
    assert client.post(response["Location"]).status_code == 409
    assert not Unit.objects.filter(code="B9").exists()


# --- a new hire's leaving date (audit bug 4) -------------------------------------------------


def test_new_hire_with_a_leaving_date_keeps_it_and_a_reimport_changes_nothing(small_bank, tmp_path):
    rows = [[*STAFF_HEADER, "离职日期"], ["E010", "新人", "B1", "柜员", "2027-01-10", "2027-02-28"]]
    path = write(tmp_path, "s.csv", csv_bytes(rows))
    apply_file("staff", path, filename="s.csv")
    hire = Staff.objects.get(employee_no="E010")
    assert (hire.active_from, hire.active_to) == (datetime.date(2027, 1, 10), datetime.date(2027, 2, 28))
    assert list(hire.assignments.values_list("unit__code", "valid_from", "valid_to")) == [
        ("B1", datetime.date(2027, 1, 10), datetime.date(2027, 2, 28))
    ]
    assert preview_file("staff", path, filename="s.csv").changes_nothing


# --- history kept by the set-based write ---------------------------------------------------


def test_a_move_and_a_leaving_date_in_one_row_close_the_new_assignment(small_bank, tmp_path):
    rows = [[*STAFF_HEADER, "离职日期"], ["E002", "王芳", "B2", "柜员", "2027-02-01", "2027-03-15"]]
    apply_file("staff", write(tmp_path, "s.csv", csv_bytes(rows)), filename="s.csv")
    person = Staff.objects.get(employee_no="E002")
    assert (person.unit.code, person.position, person.active_to) == ("B2", "teller", datetime.date(2027, 3, 15))
    assert list(person.assignments.values_list("unit__code", "position", "valid_from", "valid_to")) == [
        ("B1", "account_manager", datetime.date(2027, 1, 1), datetime.date(2027, 1, 31)),
        ("B2", "teller", datetime.date(2027, 2, 1), datetime.date(2027, 3, 15)),
    ]


def test_a_corrected_leaving_date_moves_the_end_of_the_last_assignment(small_bank, tmp_path):
    header = [*STAFF_HEADER, "离职日期"]
    apply_file("staff", write(tmp_path, "a.csv", csv_bytes([header, ["E004", "刘洋", "O1", "柜员", "", "2027-02-28"]])), filename="a.csv")
    apply_file("staff", write(tmp_path, "b.csv", csv_bytes([header, ["E004", "刘洋", "O1", "柜员", "", "2027-03-31"]])), filename="b.csv")
    assert Staff.objects.get(employee_no="E004").active_to == datetime.date(2027, 3, 31)
    assert StaffAssignment.objects.get(staff=small_bank["s4"]).valid_to == datetime.date(2027, 3, 31)


def test_a_rename_keeps_unit_and_history(small_bank, tmp_path):
    apply_file("staff", write(tmp_path, "s.csv", csv_bytes([STAFF_HEADER, ["E003", "李娜娜", "B3", "", ""]])), filename="s.csv")
    person = Staff.objects.get(employee_no="E003")
    assert (person.name, person.unit.code, person.position) == ("李娜娜", "B3", "account_manager")
    assert person.assignments.count() == 1


# --- English headers, .xls ----------------------------------------------------------------


def test_units_and_staff_with_english_headers(small_bank, tmp_path):
    units = [["unit_code", "name", "parent_code", "kind", "category", "English name"], ["B9", "北关支行", "R1", "branch", "直管机构", "North Gate"]]
    result = apply_file("units", write(tmp_path, "u.csv", csv_bytes(units)), filename="u.csv")
    assert result.new == 1
    b9 = Unit.objects.get(code="B9")
    assert (b9.path, b9.kind, b9.name_en) == ("/HO/R1/B9/", "branch", "North Gate")
    staff = [["employee_no", "name", "unit_code", "position", "valid_from", "leaving date"], ["E009", "赵六", "B9", "teller", "2027-01-02", ""]]
    result = apply_file("staff", write(tmp_path, "s.csv", csv_bytes(staff)), filename="s.csv")
    assert result.new == 1
    assert Staff.objects.get(employee_no="E009").assignments.get().unit.code == "B9"


def test_units_and_staff_from_an_xls_workbook(small_bank, tmp_path):
    from tests.imports.conftest import xls_bytes

    units = [["机构号", "机构名称", "上级机构号", "机构类型"], [1001, "一号网点", "B1", "网点"]]
    path = write(tmp_path, "u.xls", xls_bytes(units))
    preview = preview_file("units", path, filename="u.xls")
    assert (preview.file_format, [f.fate for f in preview.fates]) == ("xls", ["new"])
    apply_file("units", path, filename="u.xls")
    assert Unit.objects.get(code="1001").path == "/HO/R1/B1/1001/"  # 1001.0 from Excel is the code 1001
    staff = [["工号", "姓名", "机构号", "岗位", "生效日期"], ["E020", "孙七", 1001, "柜员", "2027-01-15"]]
    apply_file("staff", write(tmp_path, "s.xls", xls_bytes(staff)), filename="s.xls")
    assert Staff.objects.get(employee_no="E020").unit.code == "1001"
