"""Reading spreadsheets: formats sniffed from content, encodings, limits, broken files."""

from __future__ import annotations

import datetime
import zipfile
from decimal import Decimal

import pytest

from branches.imports.errors import ImportFileError
from branches.imports.reader import read_table
from tests.imports.conftest import csv_bytes, write, xls_bytes, xlsx_bytes

ROWS = [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "1,234.50"], ["B2", "2027-01-05", "99"]]


def test_utf8_csv_with_bom_is_read_and_says_so(tmp_path):
    path = write(tmp_path, "f.csv", b"\xef\xbb\xbf" + csv_bytes(ROWS))
    table = read_table(path, filename="f.csv")
    assert table.encoding == "UTF-8 (BOM)"
    assert table.rows[0] == (1, ["机构号", "日期", "存款余额"])


def test_gb18030_csv_from_chinese_excel_is_detected(tmp_path):
    path = write(tmp_path, "f.csv", csv_bytes(ROWS, encoding="gbk"))
    table = read_table(path, filename="f.csv")
    assert table.encoding == "GB18030"
    assert table.rows[0][1][0] == "机构号"


def test_xlsx_numbers_and_dates_arrive_typed(tmp_path):
    rows = [["机构号", "日期", "存款余额"], ["B1", datetime.date(2027, 1, 5), 1234.5]]
    table = read_table(write(tmp_path, "f.xlsx", xlsx_bytes(rows)), filename="f.xlsx")
    assert table.file_format == "xlsx"
    assert table.rows[1][1] == ["B1", datetime.date(2027, 1, 5), Decimal("1234.5")]


def test_xls_workbook_is_read(tmp_path):
    table = read_table(write(tmp_path, "f.xls", xls_bytes([["机构号", "存款余额"], ["B1", 12.25]])), filename="f.xls")
    assert table.file_format == "xls"
    assert table.rows[1][1] == ["B1", Decimal("12.25")]


def test_xlsx_that_is_really_a_csv_is_read_as_csv_with_a_note(tmp_path):
    table = read_table(write(tmp_path, "f.xlsx", csv_bytes(ROWS)), filename="f.xlsx")
    assert table.file_format == "csv"
    assert "CSV" in table.notes[0]


def test_pdf_renamed_csv_is_refused_by_name(tmp_path):
    path = write(tmp_path, "f.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    with pytest.raises(ImportFileError, match="PDF"):
        read_table(path, filename="f.csv")


def test_zero_byte_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="0"):
        read_table(write(tmp_path, "f.csv", b""), filename="f.csv")


def test_file_above_the_size_limit_is_refused_before_reading(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(ImportFileError, match="MB"):
        read_table(write(tmp_path, "f.csv", csv_bytes(ROWS) * 100), filename="f.csv")


def test_zip_bomb_is_refused_before_opening(tmp_path, settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 1_000_000
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * 5_000_000)
    with pytest.raises(ImportFileError, match="unpacks"):
        read_table(path, filename="bomb.xlsx")


def test_plain_zip_is_not_a_workbook(tmp_path):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFileError, match="zip"):
        read_table(path, filename="a.xlsx")


def test_formula_without_stored_value_names_the_cell(tmp_path):
    rows = [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "=1+2"]]
    with pytest.raises(ImportFileError, match="C2"):
        read_table(write(tmp_path, "f.xlsx", xlsx_bytes(rows)), filename="f.xlsx")


def test_formula_with_stored_value_gives_the_value(tmp_path):
    # openpyxl cannot store a cached value; write the workbook XML as Excel does.
    source = xlsx_bytes([["机构号", "存款余额"], ["B1", "=1+2"]])
    (tmp_path / "src.xlsx").write_bytes(source)
    with zipfile.ZipFile(tmp_path / "src.xlsx") as archive, zipfile.ZipFile(tmp_path / "cached.xlsx", "w") as target:
        for item in archive.infolist():
            data = archive.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>1+2</f><v />" in data
                data = data.replace(b"<f>1+2</f><v />", b"<f>1+2</f><v>3</v>")
            target.writestr(item, data)
    table = read_table(tmp_path / "cached.xlsx", filename="cached.xlsx")
    assert table.rows[1][1] == ["B1", 3]


def test_binary_garbage_is_refused(tmp_path):
    with pytest.raises(ImportFileError):
        read_table(write(tmp_path, "f.csv", b"\x00\x01\x02\x03" * 100), filename="f.csv")
