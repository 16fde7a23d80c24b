"""Property tests: random rows through the CSV reader and the figure preview never crash, and
what a CSV writer wrote comes back cell for cell."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branches.imports.errors import ImportFileError
from branches.imports.kinds import preview_file
from branches.imports.reader import read_table

CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from([",", '"', "\n", "存", "款", " "]), max_size=12)
TABLE = st.lists(st.lists(CELL, min_size=1, max_size=5), min_size=1, max_size=8)


def written(rows, encoding):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def expected(rows):
    kept = []
    for cells in rows:
        cells = [cell if cell.strip() else None for cell in cells]
        if any(cell is not None for cell in cells):
            kept.append(cells)
    return kept


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=TABLE, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_what_a_csv_writer_wrote_reads_back_cell_for_cell(tmp_path, rows, encoding):
    path = tmp_path / "p.csv"
    path.write_bytes(written(rows, encoding))
    try:
        table = read_table(path, filename="p.csv")
    except ImportFileError:
        assert not expected(rows)  # only a file without any value may be refused
        return
    got = [cells for _row_no, cells in table.rows]
    if len(rows[0]) == 1 or any(len(r) != len(rows[0]) for r in rows):
        # Ragged or one-column rows may sniff another delimiter: then only "no crash" is promised.
        return
    assert got == expected(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=400))
def test_random_bytes_are_read_or_refused_with_a_message(tmp_path, raw):
    path = tmp_path / "r.csv"
    path.write_bytes(raw)
    try:
        read_table(path, filename="r.csv")
    except ImportFileError as error:
        assert error.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.one_of(CELL, st.sampled_from(["B1", "E002", "2027-01-05", "存款余额", "POS", "-1", "1e400", "97%"])), min_size=3, max_size=3), max_size=6))
def test_random_figure_rows_never_crash_the_preview(tmp_path, small_bank, indicators, quarter_campaign, rows):
    path = tmp_path / "f.csv"
    path.write_bytes(written([["机构号", "日期", "存款余额"], *rows], "utf-8"))
    preview = preview_file("figures", path, filename="f.csv")
    assert preview.ok or preview.errors or preview.file_errors
