"""The synthetic bank of `make bench`: deterministic, generated set-based, kept between runs.

Sizes (bench.common.SIZES): province = 5,000 branches and 50,000 staff; national = 50,000
branches and 500,000 staff; both under one head office and 20 regions. Ten indicators (balances
in the millions of yuan, flows, counts, a rate). Figures: 90 days (the first quarter of 2027) for
every branch, and the current day (STAFF_DAY) for every staff member.

Two campaigns are built on it through the campaign models (draft, so imports queue no
recompute): a staff campaign and a branch campaign, each with 10 metrics scored "completion ×
10 points, capped at 100 %", targets per participant, and two rankings (overall and per region).

Everything is generated in the database: units, staff and assignments are streamed with COPY;
the facts (up to 50 million rows) and targets are INSERT … SELECT over generate_series with an
integer hash of (subject, indicator, day, SEED), which is both deterministic and much faster than
shipping rows from a client. Indexes of the fact table are dropped during the load and rebuilt.
A marker table records (generator version, size): a rerun with the same marker reuses the bank.
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass

from django.db import connection

from bench.common import INDICATORS, REGIONS, SIZES, UNIT_DAYS

GENERATOR_VERSION = "5"
SEED = 20270101
START = datetime.date(2027, 1, 1)
STAFF_DAY = datetime.date(2027, 3, 30)  # the "current day" with staff figures; the recompute day
FILE_DAY = datetime.date(2027, 3, 31)  # the day of the generated daily file (new figures)
END = START + datetime.timedelta(days=UNIT_DAYS - 1)  # 2027-03-31
MARKER = "bench_synthetic_marker"
DAILY_AVERAGE_CAMPAIGN = "BENCH-UNIT-AVG"
PROGRESS = "bench_synthetic_progress"

# code, name, measure, kind, unit label; the shape of the generated value follows the kind.
INDICATOR_SPECS = [
    ("DEP_CORP", "对公存款余额", "amount", "balance", "万元"),
    ("DEP_SAV", "储蓄存款余额", "amount", "balance", "万元"),
    ("LOAN", "贷款余额", "amount", "balance", "万元"),
    ("CARD_DEP", "卡存资金", "amount", "balance", "万元"),
    ("INT_INCOME", "利息收入", "amount", "flow", "万元"),
    ("NPL_RECOVERED", "不良贷款清收", "amount", "flow", "万元"),
    ("INTL_SETTLE", "国际业务结算量", "amount", "flow", "万元"),
    ("POS", "POS机布放", "count", "count", "台"),
    ("MOBILE_BANKING", "手机银行开户", "count", "count", "户"),
    ("COLLECTION_RATE", "到期贷款收回率", "rate", "rate", "%"),
]
assert len(INDICATOR_SPECS) == INDICATORS


@dataclass(frozen=True)
class Bank:
    size: str
    staff_campaign_id: int
    unit_campaign_id: int
    staff_count: int
    branch_count: int
    seconds_generated: float


def ensure_bank(size: str, *, log=print) -> Bank:
    """The bank of ``size`` in the bench database, generated unless the marker says it is there."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (version text, size text, seconds float, info jsonb)")
        cursor.execute(f"SELECT version, size, seconds, info FROM {MARKER}")
        row = cursor.fetchone()
    if row and row[0] == GENERATOR_VERSION and row[1] == size:
        info = json.loads(row[3]) if isinstance(row[3], str) else row[3]
        return Bank(size, info["staff_campaign_id"], info["unit_campaign_id"], info["staff"], info["branches"], row[2])
    log(f"generating the {size} bank (generator v{GENERATOR_VERSION}) …")
    started = time.perf_counter()
    bank = _generate(size, log=log)
    seconds = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKER}")
        cursor.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, %s, %s)",
            [
                GENERATOR_VERSION,
                size,
                seconds,
                json.dumps(
                    {
                        "staff_campaign_id": bank.staff_campaign_id,
                        "unit_campaign_id": bank.unit_campaign_id,
                        "staff": bank.staff_count,
                        "branches": bank.branch_count,
                    }
                ),
            ],
        )
    log(f"generated in {seconds:.1f} s")
    return Bank(size, bank.staff_campaign_id, bank.unit_campaign_id, bank.staff_count, bank.branch_count, seconds)


def _execute(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _generate(size: str, *, log) -> Bank:
    branches, staff = SIZES[size]["branches"], SIZES[size]["staff"]
    _execute(f"DELETE FROM {MARKER}")
    _execute(f"CREATE TABLE IF NOT EXISTS {PROGRESS} (version text, size text, step text)")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {PROGRESS} WHERE version = %s AND size = %s AND step = 'facts'", [GENERATOR_VERSION, size])
        facts_done = cursor.fetchone() is not None
    if facts_done:
        # The organisation and its 50 million facts are there from an interrupted run: keep them.
        log("  organisation and facts: kept from an earlier run")
        _execute("TRUNCATE campaigns_campaign RESTART IDENTITY CASCADE")
    else:
        _execute(f"DELETE FROM {PROGRESS}")
        # Everything of the previous bank goes, whatever refers to it (campaigns, results, payouts).
        _execute(
            "TRUNCATE branches_unit, branches_staff, branches_staffassignment, branches_indicator, branches_fact,"
            " branches_factversion, branches_importbatch, campaigns_campaign RESTART IDENTITY CASCADE"
        )
        step = time.perf_counter()
        _copy_units(branches)
        _copy_staff(staff, branches)
        _execute(
            "INSERT INTO branches_indicator (code, name, name_en, measure, kind, unit_label) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(INDICATOR_SPECS)),
            [v for code, name, measure, kind, label in INDICATOR_SPECS for v in (code, name, code.lower(), measure, kind, label)],
        )
        log(f"  organisation: {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        batch_id = _system_batch()
        _load_facts(batch_id, log=log)
        _execute("ANALYZE")
        _execute(f"INSERT INTO {PROGRESS} VALUES (%s, %s, 'facts')", [GENERATOR_VERSION, size])
        log(f"  facts: {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    staff_campaign = _campaign("BENCH-STAFF", "staff", subject_kind=2, log=log)
    unit_campaign = _campaign("BENCH-UNIT", "unit", subject_kind=1, log=log)
    log(f"  campaigns: {time.perf_counter() - step:.1f} s")
    _execute("VACUUM ANALYZE")
    return Bank(size, staff_campaign, unit_campaign, staff, branches, 0.0)


def _copy_units(branches: int) -> None:
    with connection.cursor() as cursor:
        columns = "id, code, name, name_en, kind, category, parent_id, path, depth, active_from"
        with cursor.cursor.copy(f"COPY branches_unit ({columns}) FROM STDIN") as copy:
            copy.write_row([1, "HO", "总行", "Head office", "head_office", "", None, "/HO/", 0, START.replace(year=2000)])
            for r in range(1, REGIONS + 1):
                code = f"R{r:02d}"
                copy.write_row([1 + r, code, f"第{r}片区", f"Region {r}", "region", "", 1, f"/HO/{code}/", 1, "2000-01-01"])
            for b in range(1, branches + 1):
                region = (b - 1) % REGIONS + 1
                code = f"B{b:05d}"
                copy.write_row(
                    [1 + REGIONS + b, code, f"第{b}支行", f"Branch {b}", "branch", "直管机构", 1 + region,
                     f"/HO/R{region:02d}/{code}/", 2, "2000-01-01"]
                )
        cursor.execute("SELECT setval(pg_get_serial_sequence('branches_unit', 'id'), (SELECT MAX(id) FROM branches_unit))")


def _copy_staff(staff: int, branches: int) -> None:
    with connection.cursor() as cursor:
        columns = "id, employee_no, name, unit_id, position, active_from, attributes"
        with cursor.cursor.copy(f"COPY branches_staff ({columns}) FROM STDIN") as copy:
            for s in range(1, staff + 1):
                unit_id = 1 + REGIONS + (s - 1) % branches + 1
                copy.write_row([s, f"E{s:07d}", f"员工{s}", unit_id, "account_manager", "2026-01-01", "{}"])
        cursor.execute(
            "INSERT INTO branches_staffassignment (staff_id, unit_id, position, valid_from)"
            " SELECT id, unit_id, position, active_from FROM branches_staff"
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('branches_staff', 'id'), (SELECT MAX(id) FROM branches_staff))")


def _system_batch() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO branches_importbatch (kind, reference, actor, status, started_at, finished_at, row_count,"
            " new_count, changed_count, unchanged_count, error_count, error_file)"
            " VALUES ('system', 'bench synthetic bank', 'system:bench', 'merged', now(), now(), 0, 0, 0, 0, 0, '')"
            " RETURNING id"
        )
        return cursor.fetchone()[0]


def value_sql(subject: str, indicator_alias: str, day_no: str, *, staff: bool) -> str:
    """Deterministic figure of (subject, indicator, day): an integer hash, shaped by the indicator's kind."""
    # mod(), not %: these fragments go into statements with query parameters.
    h = f"mod({subject} * 1103515245 + {indicator_alias}.id * 12345 + {SEED}, 2147483647)"
    noise = f"(mod({subject} * 7919 + {indicator_alias}.id * 104729 + ({day_no}) * 1299709 + {SEED}, 1000) / 1000.0)"
    base_balance = f"500000 + mod({h}, 19500000)" if staff else f"50000000 + mod({h}, 450000000)"
    base_flow = f"1000 + mod({h}, 19000)" if staff else f"10000 + mod({h}, 190000)"
    counts = 4 if staff else 20
    return (
        f"CASE {indicator_alias}.kind "
        f"WHEN 'balance' THEN ROUND(({base_balance}) * (1 + 0.003 * ({day_no}) + 0.01 * ({noise} - 0.5)), 2) "
        f"WHEN 'flow' THEN ROUND(({base_flow}) * (0.5 + {noise}), 2) "
        f"WHEN 'count' THEN FLOOR({noise} * {counts}) "
        f"ELSE ROUND(0.9 + 0.1 * {noise}, 4) END"
    )


def _load_facts(batch_id: int, *, log) -> None:
    """Unit facts for 90 days and staff facts for STAFF_DAY, with the fact indexes rebuilt after."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'branches_fact' AND indexname <> 'branches_fact_pkey'"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'branches_fact'::regclass AND contype IN ('u', 'f')"
        )
        constraints = cursor.fetchall()
        for name, _definition in constraints:
            cursor.execute(f'ALTER TABLE branches_fact DROP CONSTRAINT "{name}"')
        constraint_names = {name for name, _ in constraints}
        for name, _definition in indexes:
            if name not in constraint_names:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        columns = "indicator_id, subject_kind, subject_id, business_date, value, version_no, batch_id"
        step = time.perf_counter()
        rows = 0
        for day_no in range(UNIT_DAYS):
            # One day per statement: the rows of a day lie together, as a daily load leaves them.
            cursor.execute(
                f"INSERT INTO branches_fact ({columns})"
                f" SELECT i.id, 1, u.id, %s, {value_sql('u.id', 'i', str(day_no), staff=False)}, 1, %s"
                " FROM branches_indicator i CROSS JOIN branches_unit u WHERE u.kind = 'branch'",
                [START + datetime.timedelta(days=day_no), batch_id],
            )
            rows += cursor.rowcount
        log(f"    unit facts: {rows} rows in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        staff_day_no = (STAFF_DAY - START).days
        cursor.execute(
            f"INSERT INTO branches_fact ({columns})"
            f" SELECT i.id, 2, s.id, %s, {value_sql('s.id', 'i', str(staff_day_no), staff=True)}, 1, %s"
            " FROM branches_indicator i CROSS JOIN branches_staff s",
            [STAFF_DAY, batch_id],
        )
        log(f"    staff facts: {cursor.rowcount} rows in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for name, definition in indexes:
            if name not in constraint_names:
                cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE branches_fact ADD CONSTRAINT "{name}" {definition}')
        log(f"    fact indexes: {time.perf_counter() - step:.1f} s")
        # Rows inserted through the parent land in its default partition; the bank's own loads put
        # each day in a partition of its own, and so must the bench, or every read measures the default.
        step = time.perf_counter()
        from branches import fact_partitions

        days = fact_partitions.split_default(cursor)
        log(f"    facts split into {days} day partitions: {time.perf_counter() - step:.1f} s")


def ensure_daily_average_campaign(*, log=print) -> int:
    """The branch campaign again with every metric a daily average (日均) over the quarter so far:
    the engine reads 89 days of facts per branch and metric. Created on first use, kept after."""
    from campaigns.models import Campaign

    existing = Campaign.objects.filter(code=DAILY_AVERAGE_CAMPAIGN).values_list("pk", flat=True).first()
    if existing:
        return existing
    step = time.perf_counter()
    campaign_id = _campaign(DAILY_AVERAGE_CAMPAIGN, "unit", subject_kind=1, log=log, figure="daily_average")
    log(f"  {DAILY_AVERAGE_CAMPAIGN}: {time.perf_counter() - step:.1f} s")
    return campaign_id


def _campaign(code: str, level: str, *, subject_kind: int, log, figure: str = "value_at_date") -> int:
    """A draft campaign over every staff member (or branch): 10 completion rules, 2 rankings."""
    from campaigns.models import Campaign, Group, GroupSet, Metric, MetricComponent
    from scoring.models import Ranking, ScoringRule

    campaign = Campaign.objects.create(
        code=code, name=f"基准{code}", start_date=START, end_date=END, participant_level=level
    )
    region_set = GroupSet.objects.create(campaign=campaign, code="region", name="片区", kind="region")
    Group.objects.bulk_create(
        [Group(group_set=region_set, code=f"R{r:02d}", name=f"第{r}片区") for r in range(1, REGIONS + 1)]
    )
    from branches.models import Indicator

    for position, indicator in enumerate(Indicator.objects.order_by("id")):
        metric = Metric.objects.create(
            campaign=campaign, code=indicator.code.lower(), name=indicator.name, measure=indicator.measure,
            figure=figure, position=position,
        )
        MetricComponent.objects.create(metric=metric, indicator=indicator)
        ScoringRule.objects.create(
            campaign=campaign, code=f"pts_{metric.code}", name=indicator.name, kind="completion", metric=metric,
            points=10, params={"floor": "0", "cap": "1"}, position=position,
        )
    Ranking.objects.create(campaign=campaign, code="overall", name="总排名", position=0)
    Ranking.objects.create(campaign=campaign, code="by_region", name="片区排名", group_set=region_set, position=1)

    if subject_kind == 2:
        region_of = (
            "JOIN branches_staff s ON s.id = p.staff_id JOIN branches_unit b ON b.id = s.unit_id"
            " JOIN branches_unit r ON r.id = b.parent_id"
        )
        subjects = "SELECT id, NULL::bigint, id FROM branches_staff"
    else:
        region_of = "JOIN branches_unit b ON b.id = p.unit_id JOIN branches_unit r ON r.id = b.parent_id"
        subjects = "SELECT id, id, NULL::bigint FROM branches_unit WHERE kind = 'branch'"
    step = time.perf_counter()
    _execute(
        "INSERT INTO campaigns_participant (campaign_id, subject_kind, subject_id, unit_id, staff_id)"
        f" SELECT %s, %s, x.* FROM ({subjects}) x",
        [campaign.pk, subject_kind],
    )
    _execute("ANALYZE campaigns_participant")
    _execute(
        "INSERT INTO campaigns_groupmembership (group_set_id, group_id, participant_id)"
        f" SELECT %s, g.id, p.id FROM campaigns_participant p {region_of}"
        " JOIN campaigns_group g ON g.group_set_id = %s AND g.code = r.code WHERE p.campaign_id = %s",
        [region_set.pk, region_set.pk, campaign.pk],
    )
    _execute("ANALYZE campaigns_groupmembership")
    log(f"    {code} participants and groups: {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    # Targets around today's figure (70 % … 130 %), so completion rates straddle 100 %.
    _execute(
        "INSERT INTO campaigns_target (campaign_id, participant_id, metric_id, period, period_start, target_value)"
        " SELECT %s, p.id, m.id, 'campaign', %s,"
        "   CASE WHEN i.kind = 'rate' THEN 0.97"
        "        ELSE GREATEST(1, ROUND(f.value * (0.7 + mod(p.subject_id * 31 + m.id * 7, 600) / 1000.0), 2)) END"
        " FROM campaigns_participant p"
        " JOIN campaigns_metric m ON m.campaign_id = p.campaign_id"
        " JOIN campaigns_metriccomponent c ON c.metric_id = m.id"
        " JOIN branches_indicator i ON i.id = c.indicator_id"
        " JOIN branches_fact f ON f.indicator_id = c.indicator_id AND f.subject_kind = p.subject_kind"
        "   AND f.subject_id = p.subject_id AND f.business_date = %s"
        " WHERE p.campaign_id = %s",
        [campaign.pk, START, STAFF_DAY, campaign.pk],
    )
    _execute("ANALYZE campaigns_target")
    log(f"    {code} targets: {time.perf_counter() - step:.1f} s")
    return campaign.pk


def write_daily_file(path, *, size: str) -> int:
    """The day's staff file (FILE_DAY; every staff member × 10 indicators) as CSV; returns rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    day_no = (FILE_DAY - START).days
    query = (
        "COPY (SELECT %s AS business_date, s.employee_no, i.code AS indicator,"
        f" {value_sql('s.id', 'i', str(day_no), staff=True)} AS value"
        " FROM branches_staff s CROSS JOIN branches_indicator i ORDER BY s.id, i.id)"
        " TO STDOUT WITH (FORMAT csv, HEADER true)"
    )
    with connection.cursor() as cursor, path.open("wb") as handle:
        with cursor.cursor.copy(query.replace("%s", f"'{FILE_DAY.isoformat()}'")) as copy:
            for chunk in copy:
                handle.write(chunk)
    return SIZES[size]["staff"] * INDICATORS
