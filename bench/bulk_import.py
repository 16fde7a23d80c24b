"""Issue 4's bulk path: the national daily staff file (staff × 10 indicators) through import_daily_file.

Lines: ``bulk_import_first`` (every figure new), ``bulk_import_reimport`` (the same file again:
every figure unchanged, no version written; known by the file's digest, see
``branches.fact_digest``) and ``bulk_import_reimport_compared`` (the same once more after the
day's digest is forgotten, as any write to the day makes it: every row compared with the day's
facts). Each runs what ``manage.py import_daily_file`` runs,
in its own process: seconds of the import call (the whole pipeline: COPY, validation, merge,
commit), that process's peak memory; the process's wall time incl. start-up is in latest.json. The floor, timed in the
same run, is a bare ``COPY`` of the same file into an unindexed, empty table.
Bars: ≤ 4 × floor, ≤ 60 s, ≤ 500 MiB. ``bulk_import_xlsx``: the file's first 500,000 rows as a
workbook (date and number cells), a new day's import; its floor is reading the workbook.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from django.db import connection, transaction

from bench.common import VAR_BENCH, line, raw_connection, run_child, settle, timer
from bench.synthetic import FILE_DAY, GENERATOR_VERSION, ensure_bank, write_daily_file

FLOOR_TABLE = "bench_copy_floor"
CHUNK = 1 << 20
# A workbook sheet holds at most 1,048,576 rows; half a million (the province file, a tenth of
# the national one) keeps the line to a minute at either size.
XLSX_ROWS = 500_000


def measure(size: str) -> list[dict]:
    ensure_bank(size)
    path = VAR_BENCH / f"daily-{size}-v{GENERATOR_VERSION}.csv"
    if not path.exists():
        write_daily_file(path, size=size)
    rows = sum(1 for _ in path.open("rb")) - 1
    _forget_file_day()
    settle()
    floor = copy_floor(path)
    settle()
    first_seconds, first_wall, first_peak = _import_in_child(path)
    written = _count("SELECT COUNT(*) FROM branches_fact WHERE business_date = %s", [FILE_DAY])
    settle()  # the first import's 700 MB of WAL and dirty pages, written before the next timing
    again_seconds, again_wall, again_peak = _import_in_child(path)
    _forget_digests()
    compared_seconds, compared_wall, compared_peak = _import_in_child(path)
    versions = _count("SELECT COUNT(*) FROM branches_factversion")
    _forget_file_day()
    if written != rows or versions != 0:
        raise RuntimeError(f"import wrote {written} of {rows} figures and {versions} versions")
    return [
        line("bulk_import_first", first_seconds, floor, first_peak, rows=rows, written=written, process_seconds=first_wall),
        line("bulk_import_reimport", again_seconds, floor, again_peak, rows=rows, new_versions=versions,
             process_seconds=again_wall),
        line("bulk_import_reimport_compared", compared_seconds, floor, compared_peak, rows=rows, new_versions=versions,
             process_seconds=compared_wall),
        _measure_xlsx(path, size),
    ]


def _measure_xlsx(csv_path: Path, size: str) -> dict:
    """The day's file as a workbook: its first XLSX_ROWS rows, a new day's import.

    Floor: reading every row of the workbook with openpyxl (read-only, values only), which the
    import cannot avoid; the CSV floor of the same rows is in latest.json as ``copy_floor``.
    """
    path = VAR_BENCH / f"daily-{size}-v{GENERATOR_VERSION}-{XLSX_ROWS}.xlsx"
    if not path.exists():
        _write_xlsx(csv_path, path)
    with timer() as reading:
        rows = _read_xlsx(path)
    _forget_file_day()
    settle()
    seconds, wall, peak = _import_in_child(path)
    written = _count("SELECT COUNT(*) FROM branches_fact WHERE business_date = %s", [FILE_DAY])
    _forget_file_day()
    if written != rows:
        raise RuntimeError(f"xlsx import wrote {written} of {rows} figures")
    return line("bulk_import_xlsx", seconds, reading.seconds, peak, rows=rows, written=written, process_seconds=wall)


def _write_xlsx(csv_path: Path, path: Path) -> None:
    import csv
    import datetime

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("日报")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        sheet.append(next(reader))
        for count, (day, employee_no, indicator, value) in enumerate(reader):
            if count >= XLSX_ROWS:
                break
            # As Excel keeps them: a date cell and a number cell.
            sheet.append([datetime.date.fromisoformat(day), employee_no, indicator, float(value)])
    partial = path.with_suffix(".partial")
    workbook.save(partial)
    partial.rename(path)


def _read_xlsx(path: Path) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 1
    finally:
        workbook.close()


def _import_in_child(path) -> tuple[float, float, float]:
    """(seconds of import_daily_file, wall seconds of the whole process, peak MiB of the process)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        wall, peak = run_child([sys.executable, "-m", "bench.bulk_import", str(path), FILE_DAY.isoformat(), out.name])
        return json.loads(Path(out.name).read_text())["seconds"], wall, peak


def _child(path: str, day: str, out: str) -> None:
    """What ``manage.py import_daily_file PATH --date DAY`` does, timed around the import call."""
    import datetime

    from bench.common import setup_django

    setup_django(migrate=False)
    from branches.bulk_import import import_daily_file

    with timer() as elapsed:
        outcome = import_daily_file(path, business_date=datetime.date.fromisoformat(day))
    if outcome.error_count:
        raise SystemExit(outcome.summary())
    Path(out).write_text(json.dumps({"seconds": elapsed.seconds, "summary": outcome.summary()}))
    print(outcome.summary(), flush=True)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3])


def copy_floor(path) -> float:
    """Seconds for a bare COPY of ``path`` into an empty table without indexes (the floor)."""
    with raw_connection() as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (business_date text, employee_no text, indicator text, value text)"
        )
        conn.execute(f"TRUNCATE {FLOOR_TABLE}")
        with timer() as elapsed, conn.cursor() as cursor, path.open("rb") as handle:
            with cursor.copy(f"COPY {FLOOR_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while chunk := handle.read(CHUNK):
                    copy.write(chunk)
        conn.execute(f"TRUNCATE {FLOOR_TABLE}")
    return elapsed.seconds


def _count(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _forget_digests() -> None:
    from branches import fact_digest

    with connection.cursor() as cursor:
        if fact_digest.is_installed(cursor):
            cursor.execute(f"DELETE FROM {fact_digest.TABLE}")


def _forget_file_day() -> None:
    """Put the bank back as generated: no figures for FILE_DAY, no versions, only the system batch.

    On partitioned facts the generator's days (loaded around branches.facts, so into the default
    partition) first get partitions of their own, as the migration gives an existing bank's days;
    then FILE_DAY's partition is dropped, as before a day's first load.
    """
    from branches import fact_partitions

    _forget_digests()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM branches_factversion")
        cursor.execute("DELETE FROM branches_importbatch WHERE kind <> 'system'")
        if fact_partitions.is_partitioned(cursor):
            with timer() as elapsed:
                moved = fact_partitions.split_default(cursor)
            if moved:
                print(f"  {moved} generated days moved to their own partitions in {elapsed.seconds:.1f} s", flush=True)
            cursor.execute(f"DROP TABLE IF EXISTS {fact_partitions.partition_name(FILE_DAY)}")
            return
        cursor.execute("DELETE FROM branches_fact WHERE business_date = %s", [FILE_DAY])
        deleted = cursor.rowcount
    if deleted:
        with raw_connection() as conn:
            conn.execute("VACUUM ANALYZE branches_fact")
