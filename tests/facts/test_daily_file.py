"""The bulk daily file: CSV or xlsx, Chinese or English headers, all-or-nothing, re-import writes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from branches.bulk_import import import_daily_file
from branches.models import Fact, FactVersion, ImportBatch, SubjectKind
from branches.tasks import import_daily_file_task
from tests.facts.conftest import DAY

GOOD_CSV = (
    "business_date,employee_no,indicator,value\n"
    "2027-01-04,E001,DEP,\"1,200,000.50\"\n"
    "2027-01-04,E002,DEP,300000\n"
    "2027-01-04,E002,POS,3\n"
)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_with_english_headers_is_imported(small_bank, indicators, tmp_path):
    outcome = import_daily_file(write(tmp_path, "daily.csv", GOOD_CSV))
    assert (outcome.rows, outcome.new, outcome.error_count) == (3, 3, 0)
    fact = Fact.objects.get(subject_kind=SubjectKind.STAFF, subject_id=small_bank["s1"].pk)
    assert (fact.value, fact.business_date, fact.source_row) == (Decimal("1200000.5"), DAY, 2)
    batch = ImportBatch.objects.get(pk=outcome.batch_id)
    assert (batch.kind, batch.reference, batch.status, batch.new_count) == ("file", "daily.csv", "merged", 3)


def test_reimporting_the_same_file_writes_no_new_version(small_bank, indicators, tmp_path):
    path = write(tmp_path, "daily.csv", GOOD_CSV)
    import_daily_file(path)
    again = import_daily_file(path)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    assert FactVersion.objects.count() == 0


def test_correction_file_keeps_the_old_value_as_a_version(small_bank, indicators, tmp_path):
    import_daily_file(write(tmp_path, "daily.csv", GOOD_CSV))
    outcome = import_daily_file(write(tmp_path, "fix.csv", "business_date,employee_no,indicator,value\n2027-01-04,E002,POS,4\n"))
    assert (outcome.new, outcome.changed) == (0, 1)
    assert FactVersion.objects.get().value == Decimal("3")


def test_gb18030_csv_with_chinese_headers_and_unit_codes(small_bank, indicators, tmp_path):
    text = "业务日期,机构号,指标,数值\n20270104,B1,存款余额,5000000\n20270104,B3,POS,2\n"
    outcome = import_daily_file(write(tmp_path, "机构日报.csv", text, encoding="gb18030"))
    assert (outcome.new, outcome.error_count) == (2, 0)
    assert Fact.objects.filter(subject_kind=SubjectKind.UNIT, subject_id=small_bank["b1"].pk).get().value == 5000000


def test_utf8_bom_and_date_option_fill_a_file_without_a_date_column(small_bank, indicators, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "工号,指标代码,指标值\nE003,DEP,10\n".encode())
    outcome = import_daily_file(path, business_date=DAY)
    assert (outcome.new, outcome.error_count) == (1, 0)
    assert Fact.objects.get().business_date == DAY


def test_every_bad_row_is_reported_and_nothing_is_written(small_bank, indicators, tmp_path, settings):
    text = (
        "business_date,employee_no,unit_code,indicator,value\n"
        "2027-01-04,E001,,DEP,100\n"  # good
        "2027-02-30,E001,,POS,1\n"  # impossible date
        "2027-01-04,E999,,DEP,1\n"  # unknown staff
        "2027-01-04,,B9,DEP,1\n"  # unknown unit
        "2027-01-04,E002,,XYZ,1\n"  # unknown indicator
        "2027-01-04,E002,,DEP,12abc\n"  # not a number
        "2027-01-04,E002,,POS,-2\n"  # negative count
        "2027-01-04,E002,,COLL,1.5\n"  # rate above 100 %
        "2027-01-04,E003,,DEP,\n"  # empty value
        "2027-01-04,,,DEP,1\n"  # no participant
        "2027-01-04,E004,,DEP,1\n"  # duplicate key, different values …
        "2027-01-04,E004,,DEP,2\n"  # … both rows
    )
    outcome = import_daily_file(write(tmp_path, "bad.csv", text))
    assert [(e.row_no, e.column) for e in outcome.errors] == [
        (3, "business_date"),
        (4, "employee_no"),
        (5, "unit_code"),
        (6, "indicator"),
        (7, "value"),
        (8, "value"),
        (9, "value"),
        (10, "value"),
        (11, "participant"),
        (12, "value"),
        (13, "value"),
    ]
    assert Fact.objects.count() == 0
    assert (settings.VAR_DIR / outcome.error_file).exists()


def test_row_dated_other_than_the_given_date_is_an_error(small_bank, indicators, tmp_path):
    outcome = import_daily_file(write(tmp_path, "d.csv", GOOD_CSV), business_date=datetime.date(2027, 1, 5))
    assert outcome.error_count == 3
    assert "not the date of this file" in outcome.errors[0].message


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.csv", b"", "empty"),
        ("fake.xlsx", b"business_date,employee_no\n", "not an Excel workbook"),
        ("odd.csv", "日期,工号,指标,数值,备注\n".encode(), "unknown header"),
        ("short.csv", b"employee_no,value\nE001,1\n", "missing column"),
    ],
)
def test_unusable_files_are_refused_with_one_clear_error(small_bank, indicators, tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    outcome = import_daily_file(path)
    assert outcome.error_count == 1
    assert fragment in outcome.errors[0].message
    assert outcome.status == ImportBatch.Status.REJECTED


def test_xlsx_file_is_streamed_like_a_csv(small_bank, indicators, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["业务日期", "工号", "指标", "数值"])
    sheet.append([datetime.datetime(2027, 1, 4), "E001", "DEP", 1234.5])
    sheet.append([datetime.datetime(2027, 1, 4), "E002", "POS", 2])
    path = tmp_path / "daily.xlsx"
    workbook.save(path)
    outcome = import_daily_file(path)
    assert (outcome.new, outcome.error_count) == (2, 0)
    assert Fact.objects.get(subject_id=small_bank["s1"].pk).value == Decimal("1234.5")


def test_small_fractions_in_xlsx_number_cells_are_read_as_written(small_bank, indicators, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["业务日期", "工号", "指标", "数值"])
    sheet.append([datetime.datetime(2027, 1, 4), "E001", "COLL", 0.00005])
    path = tmp_path / "daily.xlsx"
    workbook.save(path)
    outcome = import_daily_file(path)
    # Without the fix the cell reads '5e-05': not a number. Stored to 4 places (PostgreSQL rounds
    # half up to 0.0001; SQLite's float arithmetic lands on 0.0000).
    assert (outcome.new, outcome.error_count) == (1, 0)
    assert Fact.objects.get().value in (Decimal("0.0001"), Decimal("0"))


def test_preview_counts_without_writing(small_bank, indicators, tmp_path):
    outcome = import_daily_file(write(tmp_path, "daily.csv", GOOD_CSV), preview=True)
    assert (outcome.new, outcome.changed, outcome.unchanged, outcome.status) == (3, 0, 0, "preview")
    assert Fact.objects.count() == 0


def test_management_command_imports_and_fails_loudly_on_errors(small_bank, indicators, tmp_path):
    call_command("import_daily_file", str(write(tmp_path, "daily.csv", GOOD_CSV)))
    assert Fact.objects.count() == 3
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_daily_file", str(write(tmp_path, "bad.csv", "date,工号,指标,值\n2027-01-04,E001,DEP,x\n")))


def test_celery_task_imports_the_file_and_is_safe_to_run_twice(small_bank, indicators, tmp_path):
    path = str(write(tmp_path, "daily.csv", GOOD_CSV))
    first = import_daily_file_task.apply(args=(path, "2027-01-04")).get()
    second = import_daily_file_task.apply(args=(path, "2027-01-04")).get()
    assert (first["new"], first["status"]) == (3, "merged")
    assert (second["new"], second["changed"], second["unchanged"]) == (0, 0, 3)


@pytest.mark.parametrize("value", ["1.2.3", "+-5", "12345678901234567.5", "1e5"])
def test_values_that_only_look_like_numbers_are_named_as_errors(small_bank, indicators, tmp_path, value):
    text = f"business_date,employee_no,indicator,value\n2027-01-04,E001,DEP,100\n2027-01-04,E002,DEP,{value}\n"
    outcome = import_daily_file(write(tmp_path, "odd.csv", text))
    assert [(e.row_no, e.column, e.value) for e in outcome.errors] == [(3, "value", value)]
    assert Fact.objects.count() == 0


# --- header and encoding -------------------------------------------------------------------


def test_a_trailing_comma_after_the_header_and_every_row_is_ignored(small_bank, indicators, tmp_path):
    # Excel's "save as CSV" of a sheet with a formatted empty column writes one: the whole file
    # was once refused with "unknown header “”".
    text = "business_date,employee_no,indicator,value,\n2027-01-04,E001,DEP,100,\n2027-01-04,E002,POS,3,\n"
    outcome = import_daily_file(write(tmp_path, "trailing.csv", text))
    assert (outcome.new, outcome.error_count) == (2, 0), outcome.errors


def test_a_value_under_an_empty_trailing_header_is_named(small_bank, indicators, tmp_path):
    text = "business_date,employee_no,indicator,value,\n2027-01-04,E001,DEP,100,\n2027-01-04,E002,POS,3,note\n"
    outcome = import_daily_file(write(tmp_path, "trailing.csv", text))
    assert outcome.error_count == 1 and Fact.objects.count() == 0
    assert outcome.errors[0].row_no == 3 and "“note” stands under no header" in outcome.errors[0].message


def test_an_xlsx_with_a_stray_blank_cell_right_of_the_table_is_read(small_bank, indicators, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["业务日期", "工号", "指标", "数值"])
    sheet.append(["2027-01-04", "E001", "DEP", 5])
    sheet["H9"] = " "  # stretches every row, the header too, to column H
    path = tmp_path / "stray.xlsx"
    workbook.save(path)
    outcome = import_daily_file(path)
    assert (outcome.new, outcome.error_count) == (1, 0), outcome.errors


def test_a_gb18030_file_whose_first_64_kib_are_ascii_is_read_as_gb18030(small_bank, indicators, tmp_path):
    # The encoding was decided on the first 64 KiB alone: ASCII there meant UTF-8, and the
    # Chinese indicator name further down then "mixed encodings".
    # The same figure 3,000 times (written once), then a row with Chinese.
    lines = ["business_date,employee_no,indicator,value", *(["2027-01-04,E001,DEP,7"] * 3000), "2027-01-04,E002,存款余额,9"]
    path = write(tmp_path, "late.csv", "\n".join(lines) + "\n", encoding="gb18030")
    assert path.read_bytes()[:65536].isascii()
    outcome = import_daily_file(path)
    assert outcome.error_count == 0, outcome.errors
    assert Fact.objects.get(subject_id=small_bank["s2"].pk).value == 9


def test_a_title_row_above_the_header_is_refused_by_name(small_bank, indicators, tmp_path):
    # The rule (docs/performance.md): the daily file starts with its header; titles are the
    # browser import's business, which skips them.
    text = "2027年1月4日业务数据,,,\nbusiness_date,employee_no,indicator,value\n2027-01-04,E001,DEP,1\n"
    outcome = import_daily_file(write(tmp_path, "title.csv", text))
    assert outcome.error_count == 1 and Fact.objects.count() == 0
    message = outcome.errors[0].message
    assert "Row 1 is not the header" in message and "2027年1月4日业务数据" in message and "title rows" in message


def test_a_date_outside_every_campaign_is_an_error(small_bank, indicators, tmp_path):
    from campaigns.models import Campaign

    Campaign.objects.create(code="Q1", name="开门红", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 3, 31))
    text = "business_date,employee_no,indicator,value\n2027-01-04,E001,DEP,1\n2025-06-30,E002,DEP,2\n"
    outcome = import_daily_file(write(tmp_path, "old.csv", text))
    assert [(e.row_no, e.column) for e in outcome.errors] == [(3, "business_date")]
    assert "outside every campaign" in outcome.errors[0].message
    assert Fact.objects.count() == 0


def _formula_workbook(tmp_path, value_cell):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["business_date", "employee_no", "indicator", "value"])
    sheet.append(["2027-01-04", "E001", "DEP", 5])
    sheet.append(["2027-01-04", "E002", "DEP", value_cell])
    path = tmp_path / "formula.xlsx"
    workbook.save(path)
    return path


def test_an_xlsx_formula_without_a_stored_value_is_named_as_a_formula(small_bank, indicators, tmp_path):
    # openpyxl writes formulas without the value Excel would store; read for values, the cell
    # is empty: the error said "the value is empty".
    outcome = import_daily_file(_formula_workbook(tmp_path, "=1+2"))
    assert outcome.error_count == 1 and Fact.objects.count() == 0
    assert outcome.errors[0].row_no == 3
    assert "Cell D3 holds the formula =1+2 but no stored value" in outcome.errors[0].message


def test_an_xlsx_formula_with_a_stored_value_is_read_by_its_value(small_bank, indicators, tmp_path):
    import zipfile

    path = _formula_workbook(tmp_path, "=1+2")
    # What Excel saves: the formula and its value (<f>1+2</f><v>3</v>).
    with zipfile.ZipFile(path) as book:
        members = {name: book.read(name) for name in book.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert b"<f>1+2</f><v />" in members[sheet]
    members[sheet] = members[sheet].replace(b"<f>1+2</f><v />", b"<f>1+2</f><v>3</v>")
    with zipfile.ZipFile(path, "w") as book:
        for name, content in members.items():
            book.writestr(name, content)
    outcome = import_daily_file(path)
    assert (outcome.new, outcome.error_count) == (2, 0), outcome.errors
    assert Fact.objects.get(subject_id=small_bank["s2"].pk).value == 3
