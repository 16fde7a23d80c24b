"""Issue 3's recompute: one day of the generated staff and branch campaigns, against the floor.

Lines: ``recompute_staff`` and ``recompute_units``: ``scoring.engine.recompute`` of STAFF_DAY in
its own process (time measured around the call; peak memory of that process). The floor, timed
in the same run: ONE hand-written ``INSERT … SELECT`` computing the weighted completion score
(10 metrics, points × min(actual ÷ target, 1)) and the overall and per-region ranks of every
participant, from the same tables; the faster of PostgreSQL's default planner settings and the
engine's. ``recompute_units_daily_average``: the branch campaign with every metric a daily average
over the quarter so far, against the same statement on averages. Bars: ≤ 2 × floor, ≤ 60 s, ≤ 1 GiB.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from django.db import connection, transaction

from bench.common import line, run_child, settle, timer, vacuum
from bench.synthetic import STAFF_DAY, START, ensure_bank, ensure_daily_average_campaign

FLOOR_TABLE = "bench_floor_scores"


def _floor_sql(figure: str, figures_join: str) -> str:
    """The floor statement: weighted completion (points × clamp(figure ÷ target, 0, 1)) summed per
    participant, ranked overall and per region, with ``figures_join`` giving ``figure``."""
    return f"""
INSERT INTO {FLOOR_TABLE} (participant_id, total_points, overall_rank, region_rank)
SELECT pid, total, RANK() OVER (ORDER BY total DESC), RANK() OVER (PARTITION BY group_id ORDER BY total DESC)
FROM (
    SELECT p.id AS pid, gm.group_id, SUM(r.points * LEAST(GREATEST({figure} / t.target_value, 0), 1)) AS total
    FROM campaigns_participant p
    JOIN campaigns_groupmembership gm ON gm.participant_id = p.id AND gm.group_set_id = %(group_set)s
    JOIN campaigns_target t ON t.participant_id = p.id AND t.period = 'campaign'
    JOIN scoring_scoringrule r ON r.metric_id = t.metric_id
    JOIN campaigns_metriccomponent c ON c.metric_id = t.metric_id
    {figures_join}
    WHERE p.campaign_id = %(campaign)s
    GROUP BY p.id, gm.group_id
) scored
"""


FLOOR_SQL = _floor_sql(
    "f.value",
    "JOIN branches_fact f ON f.indicator_id = c.indicator_id AND f.subject_kind = p.subject_kind"
    " AND f.subject_id = p.subject_id AND f.business_date = %(day)s",
)

# The same, on each metric's daily average from the campaign's start to the day (calendar days).
FLOOR_DAILY_AVERAGE_SQL = _floor_sql(
    "a.average",
    "JOIN (SELECT f.indicator_id, f.subject_id, SUM(f.value) / %(days)s AS average FROM branches_fact f"
    " WHERE f.subject_kind = 1 AND f.business_date BETWEEN %(start)s AND %(day)s"
    " GROUP BY f.indicator_id, f.subject_id) a ON a.indicator_id = c.indicator_id AND a.subject_id = p.subject_id",
)


def measure(size: str) -> list[dict]:
    bank = ensure_bank(size)
    lines = []
    campaigns = [
        ("recompute_staff", bank.staff_campaign_id, FLOOR_SQL),
        ("recompute_units", bank.unit_campaign_id, FLOOR_SQL),
        ("recompute_units_daily_average", ensure_daily_average_campaign(), FLOOR_DAILY_AVERAGE_SQL),
    ]
    for name, campaign_id, floor_sql in campaigns:
        forget_day(campaign_id, STAFF_DAY)
        settle()
        floor, participants = floor_seconds(campaign_id, floor_sql)
        settle()
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            _, peak = run_child(
                [sys.executable, "-m", "bench.recompute", str(campaign_id), STAFF_DAY.isoformat(), out.name]
            )
            seconds = json.loads(Path(out.name).read_text())["seconds"]
        lines.append(line(name, seconds, floor, peak, participants=participants))
    return lines


def forget_day(campaign_id: int, day) -> None:
    """Drop the day's earlier results (untimed), so each run measures the morning's first recompute
    of a day rather than a re-run that also deletes the version before last."""
    from scoring.engine import RESULT_MODELS
    from scoring.models import ResultSet

    ids = list(
        ResultSet.objects.filter(campaign_id=campaign_id, business_date=day).values_list("pk", flat=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for model in RESULT_MODELS:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE result_set_id = ANY(%s)", [ids])
        ResultSet.objects.filter(pk__in=ids).delete()
    vacuum(*(model._meta.db_table for model in RESULT_MODELS))


def floor_seconds(campaign_id: int, floor_sql: str = FLOOR_SQL) -> tuple[float, int]:
    from scoring.engine import BULK_SETTINGS

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (participant_id bigint, total_points numeric,"
            " overall_rank bigint, region_rank bigint)"
        )
        cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
        cursor.execute(
            "SELECT id FROM campaigns_groupset WHERE campaign_id = %s AND code = 'region'", [campaign_id]
        )
        group_set = cursor.fetchone()[0]
        # The floor is the faster of two runs: PostgreSQL's default settings and the engine's own
        # (scoring.engine.BULK_SETTINGS). With the default work_mem its sorts spill to disk at national
        # size; with the engine's, nested loops are off, which the floor's plan may want.
        timings = []
        for settings in ({}, BULK_SETTINGS):
            cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
            with transaction.atomic():
                for name, value in settings.items():
                    cursor.execute(f"SET LOCAL {name} = {value}")
                with timer() as elapsed:
                    cursor.execute(
                        floor_sql,
                        {
                            "group_set": group_set,
                            "day": STAFF_DAY,
                            "campaign": campaign_id,
                            "start": START,
                            "days": (STAFF_DAY - START).days + 1,
                        },
                    )
                participants = cursor.rowcount
            timings.append(elapsed.seconds)
        cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
    return min(timings), participants


def _child(campaign_id: int, day: str, out: str) -> None:
    import datetime

    from bench.common import setup_django

    setup_django(migrate=False)
    from scoring.engine import recompute

    with timer() as elapsed:
        recompute(campaign_id, datetime.date.fromisoformat(day))
    Path(out).write_text(json.dumps({"seconds": elapsed.seconds}))


if __name__ == "__main__":
    _child(int(sys.argv[1]), sys.argv[2], sys.argv[3])
