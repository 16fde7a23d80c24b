"""The bank's working-day calendar: Monday–Friday, corrected by the days the planner lists.

Chinese banks follow the State Council's holiday notice: public holidays fall on weekdays and the
lost days are made up on weekends (调休), so counting weekdays is wrong around 元旦, 春节, 清明, 五一,
端午 and 国庆. ``CalendarDay`` lists only the days that differ from Monday–Friday; with no days
listed the calendar is plain Monday–Friday.

``working_days(first, last)`` is one aggregate query whatever the range, so a figure for every
subject (``rewards.figures``: ``{"working_days": "period"}``) costs one query, not one per person.

The campaign file's ``calendar`` section (``dump_section`` / ``load_section``) carries the listed
days inside the campaign's dates; loading writes them into the bank's calendar (a day already
listed takes the file's setting). The days are the bank's real dates, so starting a campaign on
another date (``--start``) does not move them.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from campaigns.models import CalendarDay

KEY = "calendar"
# Django's week_day lookup: 1 = Sunday … 7 = Saturday, the same on PostgreSQL and SQLite.
WEEKEND = (1, 7)


def weekdays(first: datetime.date, last: datetime.date) -> int:
    """Monday–Friday days in [first, last] (0 when last is before first)."""
    if last < first:
        return 0
    full_weeks, rest = divmod((last - first).days + 1, 7)
    start = first.weekday()
    return full_weeks * 5 + sum(1 for offset in range(rest) if (start + offset) % 7 < 5)


def working_days(first: datetime.date, last: datetime.date) -> int:
    """The bank's working days in [first, last]: weekdays, minus listed holidays on weekdays, plus
    listed make-up working days on weekends (one query)."""
    if last < first:
        return 0
    weekend = Q(day__week_day__in=WEEKEND)
    listed = CalendarDay.objects.filter(day__gte=first, day__lte=last).aggregate(
        holidays=Count("pk", filter=Q(working=False) & ~weekend),
        make_up=Count("pk", filter=Q(working=True) & weekend),
    )
    return weekdays(first, last) - listed["holidays"] + listed["make_up"]


def is_working_day(day: datetime.date) -> bool:
    return working_days(day, day) == 1


# --- The campaign file's ``calendar`` section ----------------------------------------------------


def dump_section(campaign) -> list:
    """The listed days within the campaign's dates, as plain data."""
    return [
        {"date": row.day.isoformat(), "working": row.working, **({"name": row.name} if row.name else {})}
        for row in CalendarDay.objects.filter(day__gte=campaign.start_date, day__lte=campaign.end_date)
    ]


def _parse_item(item, place: str, errors: list) -> CalendarDay | None:
    if not isinstance(item, dict):
        errors.append((place, _("expected {date, working, name}")))
        return None
    value = item.get("date")
    try:
        day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
    except ValueError:
        errors.append((f"{place}.date", _("%(value)r is not a date (YYYY-MM-DD)") % {"value": value}))
        return None
    working = item.get("working")
    if not isinstance(working, bool):
        errors.append((f"{place}.working", _("required: true (a make-up working day) or false (a holiday)")))
        return None
    name = str(item.get("name") or "")
    if len(name) > 100:
        errors.append((f"{place}.name", _("at most 100 characters")))
        return None
    return CalendarDay(day=day, working=working, name=name)


def load_section(campaign, items: list, errors: list) -> None:
    """Write the file's calendar days into the bank's calendar; append (place, message) errors."""
    days: dict[datetime.date, CalendarDay] = {}
    for index, item in enumerate(items):
        place = f"{KEY}[{index}]"
        row = _parse_item(item, place, errors)
        if row is None:
            continue
        if row.day in days:
            errors.append((f"{place}.date", _("%(day)s is listed twice") % {"day": row.day.isoformat()}))
            continue
        days[row.day] = row
    # One calendar serves every campaign, and paid months' teller bars were computed on it: a file
    # may add days but never turn a listed day around (change it in the admin, knowingly).
    existing = dict(CalendarDay.objects.filter(day__in=list(days)).values_list("day", "working"))
    for index, item in enumerate(items):
        row = days.get(_day_of(item))
        if row is not None and row.day in existing and existing[row.day] != row.working:
            errors.append(
                (
                    f"{KEY}[{index}].date",
                    _("%(day)s is already in the bank's calendar as a %(kind)s; change it in the admin if that is wrong")
                    % {"day": row.day.isoformat(), "kind": _("working day") if existing[row.day] else _("holiday")},
                )
            )
    if days and not errors:
        CalendarDay.objects.bulk_create(
            [row for day, row in days.items() if day not in existing], ignore_conflicts=True
        )


def _day_of(item) -> datetime.date | None:
    value = item.get("date") if isinstance(item, dict) else None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None
