"""Reading an uploaded spreadsheet into rows of cells, whatever its format says it is.

The format is sniffed from the content, never trusted from the extension: an .xlsx that is
really a CSV is read as CSV, a PDF renamed .csv is refused by name. CSV text is decoded as
UTF-8 (with or without BOM) when it strictly is, else as GB18030 (a superset of GBK, what
Chinese Excel writes); the encoding used is reported so the preview can show it.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from branches.imports.errors import ImportFileError

XLSX = "xlsx"
XLS = "xls"
CSV = "csv"

# Magic numbers of files people upload by mistake, so the error can say what the file is.
_KNOWN_NOT_SPREADSHEETS = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"Rar!", "RAR"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf", "7-Zip"),
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# A real .xlsx compresses its XML about 5–20 times; far more than this is a zip bomb.
_MAX_COMPRESSION_RATIO = 200


@dataclass
class Table:
    """Every row of the first sheet, as cells, with the row number the user sees."""

    rows: list[tuple[int, list]]
    file_format: str
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def read_table(path: str | os.PathLike, *, filename: str = "") -> Table:
    """Read the first sheet of the file at ``path`` (.xlsx, .xls or .csv, sniffed).

    Returns a :class:`Table` of non-empty rows. Raises :class:`ImportFileError` with a
    translated message for an empty, oversized, unreadable or not-a-spreadsheet file, for a
    formula without a stored value (naming the cell), and for more rows than IMPORT_MAX_ROWS.
    """
    size = os.path.getsize(path)
    if size == 0:
        raise ImportFileError(_("The file %(name)s is empty (0 bytes).") % {"name": filename or path})
    if size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(file_too_big_message(size))
    with open(path, "rb") as handle:
        head = handle.read(8)
    for magic, label in _KNOWN_NOT_SPREADSHEETS:
        if head.startswith(magic):
            raise ImportFileError(
                _("%(name)s is a %(kind)s file, not a spreadsheet: upload .xlsx, .xls or .csv.")
                % {"name": filename or "", "kind": label}
            )
    if head.startswith(_ZIP_MAGIC):
        table = _read_xlsx(path)
    elif head.startswith(_OLE2_MAGIC):
        table = _read_xls(path)
    else:
        table = _read_csv(path)
    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    if extension and extension != table.file_format:
        table.notes.append(
            _("The file is named .%(extension)s but its content is %(format)s; it was read as %(format)s.")
            % {"extension": extension, "format": table.file_format.upper()}
        )
    return table


def file_too_big_message(size: int | None) -> str:
    limit_mb = settings.IMPORT_MAX_BYTES / (1024 * 1024)
    if size is None:
        return _("The file is larger than the limit of %(limit).0f MB.") % {"limit": limit_mb}
    return _("The file is %(size).1f MB, above the limit of %(limit).0f MB. Split it, or use the bulk import.") % {
        "size": size / (1024 * 1024),
        "limit": limit_mb,
    }


def _row_limit_error() -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)s rows; load files this large with the bulk import (import_daily_file).")
        % {"limit": settings.IMPORT_MAX_ROWS}
    )


def _is_blank(cells: list) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


# --- xlsx ---------------------------------------------------------------------------------


def _check_zip(path) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ImportFileError(_("The file looks like an Excel workbook but is damaged (not a valid zip).")) from None
    with archive:
        names = set()
        unpacked = 0
        for info in archive.infolist():
            names.add(info.filename)
            unpacked += info.file_size
            if info.compress_size and info.file_size / info.compress_size > _MAX_COMPRESSION_RATIO and info.file_size > 10_000_000:
                raise ImportFileError(_("The workbook is packed suspiciously tightly (a zip bomb?); it was not opened."))
        if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
            raise ImportFileError(
                _("The workbook unpacks to %(size).0f MB, above the limit of %(limit).0f MB; it was not opened.")
                % {"size": unpacked / 1048576, "limit": settings.IMPORT_MAX_UNPACKED_BYTES / 1048576}
            )
        if "xl/workbook.xml" not in names:
            raise ImportFileError(_("The file is a zip archive, not an Excel workbook: upload .xlsx, .xls or .csv."))


def _read_xlsx(path) -> Table:
    import openpyxl
    from openpyxl.utils import get_column_letter

    _check_zip(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(_("The Excel workbook cannot be read: %(error)s") % {"error": error}) from error
    try:
        sheet = book.worksheets[0]
        rows = []
        blanks_seen = False
        for row_no, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_excel_cell(cell) for cell in cells]
            if _is_blank(cells):
                continue
            if None in cells:
                blanks_seen = True
            rows.append((row_no, cells))
            if len(rows) > settings.IMPORT_MAX_ROWS + 20:
                raise _row_limit_error()
    finally:
        book.close()
    if blanks_seen:
        _refuse_formulas_without_values(path, rows, get_column_letter)
    return Table(rows=rows, file_format=XLSX)


def _excel_cell(value):
    if isinstance(value, float):
        # repr() is the shortest decimal that round-trips: 0.1 stays 0.1, not 0.1000000000000000055.
        return Decimal(repr(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date()
    return value


def _refuse_formulas_without_values(path, rows, get_column_letter) -> None:
    """A formula cell read with data_only has no value when Excel never saved one (e.g. the
    file was written by a program): name the first such cell instead of calling it empty."""
    import openpyxl

    wanted = {row_no: {i for i, cell in enumerate(cells) if cell is None} for row_no, cells in rows if None in cells}
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = book.worksheets[0]
        for row_no, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            for index in wanted.get(row_no, ()):
                if index < len(cells) and isinstance(cells[index], str) and cells[index].startswith("="):
                    raise ImportFileError(
                        _(
                            "Cell %(cell)s holds the formula %(formula)s but no stored value. Open the file in "
                            "Excel and save it again, or paste the values only."
                        )
                        % {"cell": f"{get_column_letter(index + 1)}{row_no}", "formula": cells[index]}
                    )
    finally:
        book.close()


# --- xls ----------------------------------------------------------------------------------


def _read_xls(path) -> Table:
    import xlrd

    try:
        book = xlrd.open_workbook(path, on_demand=True)
    except Exception as error:  # xlrd raises XLRDError, CompDocError, struct/index errors on damage
        if isinstance(error, MemoryError):
            raise
        raise ImportFileError(_("The .xls workbook cannot be read: %(error)s") % {"error": error}) from error
    try:
        sheet = book.sheet_by_index(0)
        rows = []
        for index in range(sheet.nrows):
            cells = [_xls_cell(cell, book.datemode) for cell in sheet.row(index)]
            if not _is_blank(cells):
                rows.append((index + 1, cells))
            if len(rows) > settings.IMPORT_MAX_ROWS + 20:
                raise _row_limit_error()
    finally:
        book.release_resources()
    return Table(rows=rows, file_format=XLS)


def _xls_cell(cell, datemode):
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        value = cell.value
        return int(value) if value == int(value) else Decimal(repr(value))
    if cell.ctype == xlrd.XL_CELL_DATE:
        value = xlrd.xldate_as_datetime(cell.value, datemode)
        return value.date() if value.time() == datetime.time(0) else value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return "#" + xlrd.error_text_from_code.get(cell.value, "ERROR")
    return cell.value


# --- csv ----------------------------------------------------------------------------------


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (BOM or not) when valid, else GB18030. Returns (text, encoding)."""
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        return raw.decode("utf-16"), "UTF-16"
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("The file is neither UTF-8 nor GB18030/GBK text (byte %(position)s); save it as CSV UTF-8.")
            % {"position": error.start + 1}
        ) from None


def _read_csv(path) -> Table:
    with open(path, "rb") as handle:
        raw = handle.read()
    if b"\x00" in raw[:8192] and not (raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff")):
        raise ImportFileError(_("The file is binary, not a spreadsheet: upload .xlsx, .xls or .csv."))
    text, encoding = decode_text(raw)
    del raw
    return parse_csv_text(text, encoding=encoding)


def parse_csv_text(text: str, *, encoding: str = "UTF-8") -> Table:
    """Split CSV text into rows; the delimiter (comma, tab, semicolon) is sniffed."""
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            cells = [cell if cell.strip() else None for cell in cells]
            if not _is_blank(cells):
                rows.append((reader.line_num, cells))
            if len(rows) > settings.IMPORT_MAX_ROWS + 20:
                raise _row_limit_error()
    except csv.Error as error:
        raise ImportFileError(_("Line %(line)s is not valid CSV: %(error)s") % {"line": reader.line_num, "error": error}) from None
    return Table(rows=rows, file_format=CSV, encoding=encoding)
