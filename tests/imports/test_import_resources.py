"""The browser imports run through django-import-export, planned and written for the whole file:
a handful of queries whatever the number of rows, the preview a dry run, the confirmation one
transaction, the kept row results bounded."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from import_export.results import RowResult

from branches.imports import figure_import, resources, staff, units
from branches.imports.kinds import apply_file, preview_file
from branches.imports.preview import ROWS_KEPT
from branches.imports.reader import read_table
from branches.models import Staff, StaffAssignment, Unit
from tests.imports.conftest import csv_bytes, write

UNIT_HEADER = ["机构号", "机构名称", "上级机构号", "机构类型"]
STAFF_HEADER = ["工号", "姓名", "机构号", "岗位", "生效日期"]


def unit_file(tmp_path, count, name):
    rows = [UNIT_HEADER] + [[f"N{i}", f"新网点{i}", f"B{1 + i % 2}", "网点"] for i in range(count)]
    return write(tmp_path, name, csv_bytes(rows))


def staff_file(tmp_path, count, name, *, prefix="H", unit="B1", on="2027-01-05"):
    rows = [STAFF_HEADER] + [[f"{prefix}{i:05d}", f"新人{i}", unit, "柜员", on] for i in range(count)]
    return write(tmp_path, name, csv_bytes(rows))


def queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def test_unit_import_takes_the_same_queries_for_10_or_300_rows(small_bank, tmp_path, django_assert_max_num_queries):
    small = queries(lambda: apply_file("units", unit_file(tmp_path, 10, "a.csv"), filename="a.csv"))
    large = queries(lambda: apply_file("units", unit_file(tmp_path, 300, "b.csv"), filename="b.csv"))
    assert large == small
    moves = [UNIT_HEADER] + [[f"N{i}", f"新网点{i}", "B3", "网点"] for i in range(300)]
    with django_assert_max_num_queries(small + 1):  # + the one read of the paths a move rewrites
        apply_file("units", write(tmp_path, "c.csv", csv_bytes(moves)), filename="c.csv")
    assert Unit.objects.get(code="N7").path == "/HO/R2/B3/N7/"


def test_staff_hires_and_moves_take_the_same_queries_for_10_or_300_rows(small_bank, tmp_path, django_assert_max_num_queries):
    small = queries(lambda: apply_file("staff", staff_file(tmp_path, 10, "a.csv", prefix="G"), filename="a.csv"))
    large = queries(lambda: apply_file("staff", staff_file(tmp_path, 300, "b.csv"), filename="b.csv"))
    assert large == small
    with django_assert_max_num_queries(small + 2):  # + the current assignments read and closed
        apply_file("staff", staff_file(tmp_path, 300, "c.csv", unit="B2", on="2027-02-01"), filename="c.csv")
    assert StaffAssignment.objects.filter(staff__employee_no="H00007").count() == 2
    assert Staff.objects.filter(unit__code="B2", employee_no__startswith="H").count() == 300


def test_the_preview_is_import_exports_dry_run_and_writes_nothing(small_bank, tmp_path):
    path = unit_file(tmp_path, 3, "u.csv")
    data, info = units.build_dataset(read_table(path, filename="u.csv"), {})
    assert data.headers == list(units.FIELDS) and len(data) == 3
    resource = units.UnitResource(info=info, filename="u.csv")
    result = resource.import_data(data, dry_run=True, raise_errors=False)
    assert result.totals[RowResult.IMPORT_TYPE_NEW] == 3
    assert [row.import_type for row in result.rows] == ["new"] * 3
    assert not Unit.objects.filter(code="N0").exists()


def test_an_error_row_is_import_exports_invalid_row_naming_the_column(small_bank, tmp_path):
    path = write(tmp_path, "s.csv", csv_bytes([STAFF_HEADER, ["E002", "王芳", "NOPE", "", "2027-02-01"]]))
    data, info = staff.build_dataset(read_table(path, filename="s.csv"), {})
    result = staff.StaffResource(info=info).import_data(data, dry_run=True, raise_errors=False)
    assert result.has_validation_errors()
    assert result.invalid_rows[0].error_dict == {"机构号": ["no unit with code NOPE"]}


def test_confirming_a_file_with_an_error_writes_none_of_its_rows(small_bank, tmp_path):
    rows = [STAFF_HEADER, ["E009", "赵六", "B3", "柜员", "2027-01-10"], ["E002", "王芳", "NOPE", "", "2027-02-01"]]
    path = write(tmp_path, "s.csv", csv_bytes(rows))
    data, info = staff.build_dataset(read_table(path, filename="s.csv"), {})
    written, preview = resources.confirm(staff.StaffResource(info=info), data)
    assert written is None and not preview.ok
    assert not Staff.objects.filter(employee_no="E009").exists()


def test_a_figure_file_is_merged_once_after_the_rows(small_bank, indicators, quarter_campaign, tmp_path, monkeypatch):
    calls = []
    real_merge = figure_import.merge_facts

    def counting_merge(**kwargs):
        calls.append(kwargs)
        return real_merge(**kwargs)

    monkeypatch.setattr(figure_import, "merge_facts", counting_merge)
    rows = [["机构号", "日期", "存款余额", "POS布放"]] + [[f"B{1 + i % 3}", f"2027-01-{1 + i // 3:02d}", 100 + i, i] for i in range(30)]
    path = write(tmp_path, "d.csv", csv_bytes(rows))
    assert preview_file("figures", path, filename="d.csv").counts["new"] == 60
    assert calls == []  # the dry run never merges
    result = apply_file("figures", path, filename="d.csv")
    assert (len(calls), result.new) == (1, 60)


def test_a_large_preview_keeps_only_the_rows_a_page_shows_but_counts_all(small_bank, tmp_path, role_users, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from branches import roles

    count = ROWS_KEPT + 200
    rows = [UNIT_HEADER] + [[f"N{i}", f"新网点{i}", "B1", "网点"] for i in range(count)] + [["BAD", "坏", "NOPE", "网点"]]
    preview = preview_file("units", write(tmp_path, "u.csv", csv_bytes(rows)), filename="u.csv")
    assert preview.counts == {"new": count, "changed": 0, "unchanged": 0, "error": 1}
    assert len(preview.fates) == ROWS_KEPT + 1  # the first ROWS_KEPT rows, and every error
    client.force_login(role_users[roles.PLANNER])
    upload = client.post(reverse("imports:upload", args=["units"]), {"file": SimpleUploadedFile("u.csv", csv_bytes(rows))})
    page = client.get(upload["Location"])
    assert page.context["fates"][0].fate == "error" and page.context["hidden_count"] == count + 1 - ROWS_KEPT


def test_a_file_above_the_browser_row_limit_is_sent_to_the_bulk_import(small_bank, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 50
    preview = preview_file("units", unit_file(tmp_path, 100, "u.csv"), filename="u.csv")
    assert "bulk import" in preview.file_errors[0]
    assert preview_file("units", unit_file(tmp_path, 50, "v.csv"), filename="v.csv").ok


def test_a_database_refusal_on_confirm_is_reported_and_rolls_back(small_bank, tmp_path, monkeypatch):
    from django.db import IntegrityError

    from branches import services
    from branches.imports.errors import ImportAborted

    def refuse(**kwargs):
        Unit.objects.filter(code="B1").update(name="changed inside")
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "import_units", refuse)
    with pytest.raises(ImportAborted) as aborted:
        apply_file("units", unit_file(tmp_path, 2, "u.csv"), filename="u.csv")
    assert "nothing was written" in aborted.value.preview.file_errors[0]
    assert Unit.objects.get(code="B1").name == "城关信用社"


def test_moving_a_unit_with_a_deep_subtree_rewrites_every_path_once(small_bank, tmp_path):
    from branches import services

    parent = small_bank["o1"]
    for depth in range(4):  # O1 → D0 → D1 → D2 → D3
        parent = services.create_unit(code=f"D{depth}", name=f"深{depth}", kind="department", parent=parent)
    rows = [UNIT_HEADER, ["B1", "城关信用社", "R2", "信用社"]]
    apply_file("units", write(tmp_path, "u.csv", csv_bytes(rows)), filename="u.csv")
    d3 = Unit.objects.get(code="D3")
    assert (d3.path, d3.depth) == ("/HO/R2/B1/O1/D0/D1/D2/D3/", 7)
    assert datetime.date(2000, 1, 1) == d3.active_from


def test_the_garbage_collector_runs_again_after_an_import_even_one_that_fails(small_bank, tmp_path):
    import gc

    from branches.imports.errors import ImportAborted

    preview_file("units", unit_file(tmp_path, 3, "u.csv"), filename="u.csv")
    assert gc.isenabled()
    bad = write(tmp_path, "b.csv", csv_bytes([UNIT_HEADER, ["B7", "坏", "NOPE", "支行"]]))
    with pytest.raises(ImportAborted):
        apply_file("units", bad, filename="b.csv")
    assert gc.isenabled()
