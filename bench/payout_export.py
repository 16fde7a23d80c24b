"""Payouts: calculating a run for every staff member, and exporting 500,000 lines to a workbook.

``payout_calculate_staff``: ``create_payout_run`` with one staff-level piece rate (1 yuan per 10,000
of the savings balance, in proportion) over the synthetic bank's staff (50,000 / 500,000); the
floor is one ``INSERT … SELECT`` computing the same amounts from the fact table. No bar in the
issue; reported so that growth is visible.

``payout_export_xlsx``: 500,000 lines streamed from PostgreSQL into a constant-memory workbook.

Bars (issue 5): the export ≤ 1.5 × the floor and peak memory ≤ 300 MiB. The floor, timed in the
same run, is a bare XlsxWriter ``constant_memory`` write of the same rows (already in memory and
converted to strings and numbers, ``write_row`` only, no formats, no neutralising). Each side runs in its own child process so that each
peak memory is its own (the floor holds every row in memory on purpose; the export must not).

    python -m bench --only payout_export
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.common import bench_environment, line, peak_mib, raw_connection, run_child, timer, vacuum

LINES = 500_000
SCHEME_CODE = "BENCH-PAYOUT"


def _prepare(lines: int) -> int:
    """A draft run with ``lines`` lines, loaded with COPY; reused when already there. Returns its id."""
    from django.contrib.auth.models import User

    from rewards.models import PayoutRun, RewardScheme

    scheme, _ = RewardScheme.objects.get_or_create(
        code=SCHEME_CODE,
        defaults={"name": "bench", "start": datetime.date(2027, 1, 1), "end": datetime.date(2027, 3, 31)},
    )
    run = scheme.runs.first()
    if run is not None and run.lines.count() == lines:
        return run.pk
    if run is not None:
        from rewards.calculate import delete_draft_lines

        delete_draft_lines(run)
        run.delete()
        vacuum("rewards_payoutline")
    maker, _ = User.objects.get_or_create(username="bench-finance")
    run = PayoutRun.objects.create(
        scheme=scheme,
        period_kind="quarter",
        period_start=scheme.start,
        period_end=scheme.end,
        created_by=maker,
    )
    columns = (
        "run_id, payee_kind, payee_id, payee_name, employee_no, unit_code, unit_name, rule_name, "
        "period_start, period_end, kind, amount, non_cash_award, comparison_value, figures, formula"
    )
    with raw_connection() as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY rewards_payoutline ({columns}) FROM STDIN") as copy:
            for number in range(lines):
                increase = 1_000_000 + number * 37 % 9_000_000
                copy.write_row(
                    (
                        run.pk,
                        2,
                        number + 1,
                        f"员工{number:06d}",
                        f"E{number:07d}",
                        f"B{number % 5000:04d}",
                        f"第{number % 5000}信用社",
                        "存款计件奖励",
                        scheme.start,
                        scheme.end,
                        "award",
                        f"{increase // 1_000_000 * 1000}.00",
                        "",
                        "0.00",
                        "{}",
                        f"1000 × ⌊{increase} ÷ 1000000⌋",
                    )
                )
        cursor.execute("ANALYZE rewards_payoutline")
    return run.pk


def _floor(run_id: int, out: str) -> float:
    """Bare constant-memory write of the run's rows: loaded into memory and converted to plain
    strings and numbers first (untimed: dates as Excel serials, amounts as floats), then only
    ``write_row`` per row, no formats. The cheapest way XlsxWriter can write these cells."""
    import xlsxwriter

    from rewards.exporters import EXCEL_EPOCH, LINE_FIELDS
    from rewards.models import PayoutLine

    fields = [field for field in LINE_FIELDS if field != "run_id"]
    rows = [
        (*row[:6], (row[6] - EXCEL_EPOCH).days, (row[7] - EXCEL_EPOCH).days, float(row[8]), *row[9:], run_id)
        for row in PayoutLine.objects.filter(run_id=run_id).values_list(*fields).iterator(5000)
    ]
    with timer() as elapsed:
        workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
        sheet = workbook.add_worksheet()
        write_row = sheet.write_row
        for number, row in enumerate(rows, start=1):
            write_row(number, 0, row)
        workbook.close()
    return elapsed.seconds


def _export(run_id: int, out: str) -> float:
    """The product's path: the registered payout workbook exporter, streaming from the database."""
    from rewards import exporters
    from rewards.models import PayoutRun

    run = PayoutRun.objects.select_related("scheme", "created_by").get(pk=run_id)
    with timer() as elapsed:
        exporters.get("payout_xlsx").render(run, out)
    return elapsed.seconds


CALC_SCHEME = "BENCH-CALC"
CALC_FLOOR_TABLE = "bench_payout_floor"


def _calc_scheme():
    from bench.synthetic import END, START
    from rewards.models import RewardRule, RewardScheme

    scheme, _ = RewardScheme.objects.get_or_create(
        code=CALC_SCHEME, defaults={"name": "bench", "start": START, "end": END}
    )
    RewardRule.objects.get_or_create(
        scheme=scheme,
        code="PIECE",
        defaults={
            "name": "储蓄存款计件",
            "kind": "piece_rate",
            "params": {
                "figure": {"indicator": "DEP_SAV", "level": "staff"},
                "rate": "1",
                "per": "10000",
                "mode": "proportional",
            },
        },
    )
    return scheme


def _calc_floor() -> tuple[float, int]:
    from django.db import connection

    from bench.synthetic import STAFF_DAY

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {CALC_FLOOR_TABLE} (payee_id bigint, amount numeric(14,2))"
        )
        cursor.execute(f"TRUNCATE {CALC_FLOOR_TABLE}")
        with timer() as elapsed:
            cursor.execute(
                f"INSERT INTO {CALC_FLOOR_TABLE} SELECT f.subject_id, ROUND(GREATEST(f.value, 0) / 10000, 2)"
                " FROM branches_fact f JOIN branches_indicator i ON i.id = f.indicator_id"
                " WHERE i.code = 'DEP_SAV' AND f.subject_kind = 2 AND f.business_date = %s",
                [STAFF_DAY],
            )
            rows = cursor.rowcount
        cursor.execute(f"DROP TABLE {CALC_FLOOR_TABLE}")
    return elapsed.seconds, rows


def _calculate() -> tuple[float, int]:
    """The product's path: ``create_payout_run`` for the whole staff; the run is removed afterwards."""
    from django.contrib.auth.models import User

    from bench.synthetic import STAFF_DAY, START
    from branches import roles
    from rewards import services
    from rewards.calculate import delete_draft_lines

    scheme = _calc_scheme()
    for run in scheme.runs.all():
        delete_draft_lines(run)
        run.delete()
    vacuum("rewards_payoutline")
    roles.ensure_role_groups()
    user, _ = User.objects.get_or_create(username="bench-finance")
    roles.grant_role(user, roles.FINANCE)
    with timer() as elapsed:
        run = services.create_payout_run(
            scheme=scheme, period_kind="quarter", period_start=START, period_end=STAFF_DAY, by=user
        )
    made = run.lines.count()
    delete_draft_lines(run)
    run.delete()
    return elapsed.seconds, made


def measure(size: str) -> list[dict]:
    """The run calculation over the synthetic bank's staff, then the export of ``LINES`` lines."""
    from bench.synthetic import ensure_bank

    ensure_bank(size)
    _calc_scheme()
    calc_floor, calc_rows = _calc_floor()
    with tempfile.TemporaryDirectory() as workdir:
        result = Path(workdir) / "calculate.json"
        run_child(
            [
                sys.executable,
                "-m",
                "bench.payout_export",
                "calculate",
                "0",
                str(Path(workdir) / "unused"),
                str(result),
            ],
            env=bench_environment(),
        )
        calc = json.loads(result.read_text())
    report_lines = [
        line(
            "payout_calculate_staff",
            calc["seconds"],
            calc_floor,
            calc["self_peak"],
            rows=calc_rows,
            lines_made=calc["lines"],
        )
    ]
    return report_lines + _measure_export()


def _measure_export() -> list[dict]:
    """Time the floor and the export of ``LINES`` lines, each in a child process (size: same at both)."""
    lines = int(os.environ.get("BENCH_PAYOUT_LINES", LINES))
    with timer() as load:
        run_id = _prepare(lines)
    report = {}
    with tempfile.TemporaryDirectory() as workdir:
        for side in ("floor", "export"):
            result = Path(workdir) / f"{side}.json"
            run_child(
                [
                    sys.executable,
                    "-m",
                    "bench.payout_export",
                    side,
                    str(run_id),
                    str(Path(workdir) / f"{side}.xlsx"),
                    str(result),
                ],
                env=bench_environment(),
            )
            measured = json.loads(result.read_text())
            report[side] = {**measured, "peak": measured["self_peak"]}
    floor, export = report["floor"], report["export"]
    return [
        line(
            "payout_export_floor_xlsxwriter",
            floor["seconds"],
            None,
            floor["peak"],
            rows=lines,
            load_seconds=round(load.seconds, 2),
        ),
        line(
            "payout_export_xlsx",
            export["seconds"],
            floor["seconds"],
            export["peak"],
            rows=lines,
            bars={"ratio": 1.5, "peak_mib": 300},
            file_mib=export["file_mib"],
        ),
    ]


def own_peak_mib() -> float:
    """This process's peak resident memory since exec (VmHWM). ru_maxrss would also count the
    parent's memory inherited at fork, which is not this measurement's."""
    for text in Path("/proc/self/status").read_text().splitlines():
        if text.startswith("VmHWM:"):
            return int(text.split()[1]) / 1024
    return peak_mib()


def _child(side: str, run_id: str, out: str, result: str) -> None:
    from bench.common import setup_django

    setup_django(migrate=False)
    if side == "calculate":
        seconds, made = _calculate()
        Path(result).write_text(json.dumps({"seconds": seconds, "lines": made, "self_peak": own_peak_mib()}))
        return
    seconds = (_floor if side == "floor" else _export)(int(run_id), out)
    Path(result).write_text(
        json.dumps(
            {
                "seconds": seconds,
                "file_mib": round(os.path.getsize(out) / 2**20, 1),
                "self_peak": own_peak_mib(),
            }
        )
    )


if __name__ == "__main__":
    _child(*sys.argv[1:5])
