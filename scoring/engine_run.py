"""What every step of a recompute shares: the run's context, table names, months, participant filters.

Split from ``scoring.engine`` so the ranking statements (``scoring.engine_rankings``) can use it
without a circular import.
"""

from __future__ import annotations

import calendar
import datetime
import logging
import time
from dataclasses import dataclass, field

from django.db import connection

from campaigns.models import Campaign, Metric, Phase
from scoring.models import Ranking, ResultSet, ScoringRule
from scoring.rules import SqlDialect

log = logging.getLogger("scoring.engine")


def T(model) -> str:  # noqa: N802 - reads like a table name in the SQL below
    return connection.ops.quote_name(model._meta.db_table)


def month_periods(start: datetime.date, end: datetime.date, day: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """(first, last) days of every month of [start, end] that has begun by ``day``, clipped to ``day``."""
    periods = []
    first = start
    last_day = min(day, end)
    while first <= last_day:
        month_end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        periods.append((first, min(month_end, last_day)))
        first = month_end + datetime.timedelta(days=1)
    return periods


@dataclass
class Run:
    campaign: Campaign
    day: datetime.date
    result_set: ResultSet
    previous_set_id: int | None
    sql: SqlDialect
    cursor: object
    rules: list[ScoringRule] = field(default_factory=list)
    metrics: dict[int, Metric] = field(default_factory=dict)
    component_counts: dict[int, int] = field(default_factory=dict)
    phases: list[Phase] = field(default_factory=list)
    rankings: list[Ranking] = field(default_factory=list)
    # metric id -> [(indicator id, sign, role)]
    components: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    # Which metric / rule each position of the score sheets' arrays holds (ResultSet.layout).
    layout: dict[str, list[int]] = field(default_factory=dict)
    # Named parameters of the statement being built (values that come from configuration text).
    params: dict[str, object] = field(default_factory=dict)

    def param(self, value) -> str:
        """A named placeholder for ``value`` in the statement being built (see ``execute_built``)."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def execute_built(self, sql: str) -> int:
        """Run a statement built with ``param()`` placeholders; returns its row count."""
        params, self.params = self.params, {}
        self.execute(sql, params or None)
        return self.cursor.rowcount

    def position(self, key: str, item_id: int) -> int:
        """1-based position of a metric or rule id in the layout list ``key`` (e.g. "metrics")."""
        return self.layout[key].index(int(item_id)) + 1

    def active_where(self, alias: str = "p") -> str:
        """Participants taking part on the day (joined by then, not left before), with literal dates."""
        day = self.sql.date(self.day)
        return (
            f"{alias}.campaign_id = {int(self.campaign.pk)} "
            f"AND ({alias}.joined_on IS NULL OR {alias}.joined_on <= {day}) "
            f"AND ({alias}.left_on IS NULL OR {alias}.left_on >= {day})"
        )

    def participant_condition(self, participants: dict, kind: str, unit: str) -> str:
        """An SQL condition on a participant's subject kind ``kind`` and its unit row ``unit`` (aliases)
        matching a filter such as ``{"level": "unit", "unit_kinds": ["outlet"], "categories": ["储蓄所"]}``;
        "" for no filter. Texts go in as named parameters."""
        from branches.models import SubjectKind

        conditions = []
        if participants and "level" in participants:
            level = SubjectKind.STAFF if participants["level"] == "staff" else SubjectKind.UNIT
            conditions.append(f"{kind} = {int(level)}")
        for key, column in (("unit_kinds", "kind"), ("categories", "category")):
            values = (participants or {}).get(key) or []
            if values:
                conditions.append(f"{unit}.{column} IN ({', '.join(self.param(v) for v in values)})")
        return " AND ".join(conditions)

    @property
    def begun_phases(self) -> list[Phase]:
        """Phases that have begun by the day, in date order."""
        return [p for p in self.phases if p.start_date <= self.period_end]

    def phase_for(self, code: str = "") -> Phase | None:
        """The named phase (if begun), else the phase the day falls in, else the last begun one."""
        begun = self.begun_phases
        if code:
            return next((p for p in begun if p.code == code), None)
        return next((p for p in begun if p.start_date <= self.day <= p.end_date), begun[-1] if begun else None)

    def metric_id(self, code: str) -> int:
        return next(m.pk for m in self.metrics.values() if m.code == code)

    def single_indicator(self, metric_id: int) -> bool:
        return self.component_counts.get(metric_id, 0) == 1

    @property
    def rs(self) -> int:
        return self.result_set.pk

    @property
    def period_end(self) -> datetime.date:
        return min(self.day, self.campaign.end_date)

    @property
    def start(self) -> datetime.date:
        return self.campaign.start_date

    def execute(self, sql: str, params: list | tuple = ()) -> None:
        started = time.monotonic()
        self.cursor.execute(sql, params)
        log.debug("%.3fs %s", time.monotonic() - started, " ".join(sql.split())[:160])

    def active_participants(self, alias: str = "p") -> tuple[str, list]:
        return (
            f"{alias}.campaign_id = {int(self.campaign.pk)} "
            f"AND ({alias}.joined_on IS NULL OR {alias}.joined_on <= %s) "
            f"AND ({alias}.left_on IS NULL OR {alias}.left_on >= %s)",
            [self.day, self.day],
        )

def participant_filter_sql(participants: dict, pid: str) -> tuple[str, list]:
    """An SQL condition (with its parameters) true when participant ``pid`` matches a filter such as
    ``{"level": "unit", "unit_kinds": ["outlet"], "categories": ["储蓄所"]}``; ("", []) for no filter."""
    from branches.models import SubjectKind, Unit

    if not participants:
        return "", []
    conditions, params = [], []
    if "level" in participants:
        kind = SubjectKind.STAFF if participants["level"] == "staff" else SubjectKind.UNIT
        conditions.append(f"pf.subject_kind = {int(kind)}")
    unit_conditions = []
    for key, column in (("unit_kinds", "kind"), ("categories", "category")):
        values = participants.get(key) or []
        if values:
            unit_conditions.append(f"u.{column} IN ({', '.join(['%s'] * len(values))})")
            params += list(values)
    if unit_conditions:
        conditions.append(f"pf.unit_id IN (SELECT u.id FROM {T(Unit)} u WHERE {' AND '.join(unit_conditions)})")
    if not conditions:
        return "", []
    return f"EXISTS (SELECT 1 FROM campaigns_participant pf WHERE pf.id = {pid} AND {' AND '.join(conditions)})", params
