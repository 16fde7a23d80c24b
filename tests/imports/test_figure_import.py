"""Daily figures from a file: every row's fate in the preview, then all or nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches.imports.kinds import ImportAborted, apply_file, preview_file
from branches.models import Fact, FactVersion, SubjectKind
from tests.imports.conftest import csv_bytes, write, xlsx_bytes

DAY = datetime.date(2027, 1, 5)


@pytest.fixture
def bank(small_bank, indicators, quarter_campaign):
    return small_bank


def fates(preview):
    return [(f.row_no, f.fate) for f in preview.fates]


def messages(preview):
    return [(e.row_no, e.column, e.message) for e in preview.errors]


def test_wide_file_previews_new_figures_and_writes_nothing(bank, tmp_path):
    path = write(tmp_path, "d.csv", csv_bytes([["机构号", "日期", "存款余额", "POS布放"], ["B1", "2027-01-05", "100.5", "3"]]))
    preview = preview_file("figures", path, filename="d.csv")
    assert preview.ok
    assert fates(preview) == [(2, "new"), (2, "new")]
    assert Fact.objects.count() == 0


def test_confirm_writes_figures_through_merge_with_history(bank, tmp_path, role_users):
    path = write(tmp_path, "d.csv", csv_bytes([["unit_code", "business_date", "DEP_BAL"], ["B1", "2027-01-05", "100"]]))
    result = apply_file("figures", path, filename="d.csv")
    assert (result.new, result.changed) == (1, 0)
    fact = Fact.objects.get()
    assert (fact.subject_kind, fact.subject_id, fact.value, fact.source_row) == (SubjectKind.UNIT, bank["b1"].pk, Decimal("100"), 2)
    path2 = write(tmp_path, "d2.csv", csv_bytes([["unit_code", "business_date", "DEP_BAL"], ["B1", "2027-01-05", "120"]]))
    preview = preview_file("figures", path2, filename="d2.csv")
    assert [(f.fate, f.old, f.new) for f in preview.fates] == [("changed", "100", "120")]
    apply_file("figures", path2, filename="d2.csv")
    assert FactVersion.objects.get().value == Decimal("100")


def test_reimporting_the_same_file_changes_nothing_and_says_so(bank, tmp_path):
    path = write(tmp_path, "d.csv", csv_bytes([["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "100"]]))
    apply_file("figures", path, filename="d.csv")
    preview = preview_file("figures", path, filename="d.csv")
    assert preview.changes_nothing
    result = apply_file("figures", path, filename="d.csv")
    assert not result.changed_anything and result.unchanged == 1
    assert FactVersion.objects.count() == 0


def test_staff_figures_by_employee_number_and_long_layout(bank, tmp_path):
    rows = [["工号", "日期", "指标", "数值"], ["E002", "2027/1/5", "存款余额", "50"], ["E003", "20270105", "POS", "2"]]
    result = apply_file("figures", write(tmp_path, "s.csv", csv_bytes(rows)), filename="s.csv")
    assert result.new == 2
    assert set(Fact.objects.values_list("subject_kind", "subject_id")) == {
        (SubjectKind.STAFF, bank["s2"].pk), (SubjectKind.STAFF, bank["s3"].pk)
    }


def test_header_unit_in_wan_yuan_is_scaled_to_yuan_and_shown(bank, tmp_path):
    path = write(tmp_path, "w.csv", csv_bytes([["机构号", "日期", "存款余额(万元)"], ["B1", "2027-01-05", "1.5"]]))
    preview = preview_file("figures", path, filename="w.csv")
    assert preview.fates[0].new == "15000"
    assert any("10000" in note for note in preview.notes)


def test_title_rows_above_the_header_are_skipped(bank, tmp_path):
    rows = [["机构号", "日期", "存款余额"], ["B1", datetime.date(2027, 1, 5), 100]]
    path = write(tmp_path, "t.xlsx", xlsx_bytes([["制表单位：县联社", None, None]] + rows, merge_title="2027年1月存款余额表"))
    preview = preview_file("figures", path, filename="t.xlsx")
    assert preview.header_row_no == 3
    assert fates(preview) == [(4, "new")]


def test_no_header_row_is_a_clear_error(bank, tmp_path):
    path = write(tmp_path, "x.csv", csv_bytes([["foo", "bar"], ["1", "2"]]))
    preview = preview_file("figures", path, filename="x.csv")
    assert not preview.ok
    assert "header" in preview.file_errors[0]


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        (["B9", "2027-01-05", "1", "1", "0.9"], "机构号", "B9"),
        (["B1", "2027-13-45", "1", "1", "0.9"], "日期", "2027-13-45"),
        (["B1", "2027-01-05", "abc", "1", "0.9"], "存款余额", "abc"),
        (["B1", "2027-01-05", "1", "-2", "0.9"], "POS布放", "negative"),
        (["B1", "2027-01-05", "1", "1.5", "0.9"], "POS布放", "whole"),
        (["B1", "2027-01-05", "1", "1", "101%"], "到期贷款收回率", "100"),
        (["B1", "2027-01-05", "1", "1", "97"], "到期贷款收回率", "100"),
        (["B1", "2025-06-30", "1", "1", "0.9"], "日期", "outside"),
        (["", "2027-01-05", "1", "1", "0.9"], "机构号", "neither"),
    ],
)
def test_bad_cells_name_row_column_and_reason_and_nothing_is_written(bank, tmp_path, cells, column, fragment):
    rows = [["机构号", "日期", "存款余额", "POS布放", "到期贷款收回率"], ["B2", "2027-01-05", "5", "1", "0.99"], cells]
    path = write(tmp_path, "bad.csv", csv_bytes(rows))
    preview = preview_file("figures", path, filename="bad.csv")
    errors = messages(preview)
    assert errors and errors[0][0] == 3 and errors[0][1] == column and fragment in errors[0][2]
    with pytest.raises(ImportAborted):
        apply_file("figures", path, filename="bad.csv")
    assert Fact.objects.count() == 0


def test_percent_rate_is_read_as_a_fraction(bank, tmp_path):
    path = write(tmp_path, "r.csv", csv_bytes([["机构号", "日期", "到期贷款收回率"], ["B1", "2027-01-05", "97.5%"]]))
    apply_file("figures", path, filename="r.csv")
    assert Fact.objects.get().value == Decimal("0.975")


def test_same_key_twice_with_different_values_is_an_error_naming_both_rows(bank, tmp_path):
    rows = [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "1"], ["B1", "2027-01-05", "2"]]
    preview = preview_file("figures", write(tmp_path, "d.csv", csv_bytes(rows)), filename="d.csv")
    assert messages(preview)[0][0] == 3 and "row 2" in messages(preview)[0][2]


def test_same_key_twice_with_the_same_value_is_written_once(bank, tmp_path):
    rows = [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "1"], ["B1", "2027-01-05", "1.00"]]
    result = apply_file("figures", write(tmp_path, "d.csv", csv_bytes(rows)), filename="d.csv")
    assert result.new == 1 and Fact.objects.count() == 1


def test_empty_wide_cell_is_skipped_and_the_preview_says_so(bank, tmp_path):
    rows = [["机构号", "日期", "存款余额", "POS布放"], ["B1", "2027-01-05", "1", ""]]
    preview = preview_file("figures", write(tmp_path, "d.csv", csv_bytes(rows)), filename="d.csv")
    assert fates(preview) == [(2, "new")]
    assert any("empty" in note for note in preview.notes)


def test_gbk_csv_imports_like_utf8(bank, tmp_path):
    rows = [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "7"]]
    preview = preview_file("figures", write(tmp_path, "g.csv", csv_bytes(rows, encoding="gb18030")), filename="g.csv")
    assert preview.ok and preview.encoding == "GB18030"


def test_file_without_date_column_uses_the_date_given(bank, tmp_path):
    rows = [["机构号", "存款余额"], ["B1", "7"]]
    path = write(tmp_path, "n.csv", csv_bytes(rows))
    assert not preview_file("figures", path, filename="n.csv").ok
    apply_file("figures", path, filename="n.csv", options={"default_date": "2027-01-05"})
    assert Fact.objects.get().business_date == DAY
