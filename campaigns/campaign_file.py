"""The campaign file: a whole campaign's configuration as one YAML document, and back.

Participants, groups, metrics, rules and targets are written by code (unit code, employee number,
metric code …), never by database id, so a file exported from one bank's system loads into
another's with the same organisation codes. The format is documented in docs/campaign-file.md.

Loading validates every object with the same checks the planner's forms use (model ``clean()``
→ ``campaigns.validation`` / ``scoring.validation``) and either creates the whole campaign or
nothing; errors name the place in the file (``rules[3].params``) and the reason.

Other apps add their own sections (rewards) through ``register_section``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from branches.models import Indicator
from campaigns.models import (
    Campaign,
    GroupMembership,
    Participant,
)
from scoring.models import Gate, ParticipantFlag, Ranking, ScoringRule

FORMAT = "kaimenhong-campaign/1"
TEMPLATE_DIR = Path(__file__).resolve().parent / "builtin_templates"


class CampaignFileError(Exception):
    """The file cannot be loaded; ``errors`` is a list of (place in the file, reason)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{place}: {reason}" for place, reason in errors))


# --- Plain fields -------------------------------------------------------------------------

# Fields never written to the file: ids, links handled by hand, and state that belongs to a
# running campaign rather than to its configuration.
SKIPPED_FIELDS = {
    "id", "campaign", "status", "published_at", "published_by", "created_at", "period_start",
    "set_by", "set_at", "subject_kind", "subject_id",
}


def plain_fields(model: type[models.Model], handled: set[str] = frozenset()) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in SKIPPED_FIELDS and field.name not in handled and not field.is_relation
    ]


def to_file_value(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def dump_plain(obj: models.Model, handled: set[str] = frozenset()) -> dict:
    out = {}
    for field in plain_fields(type(obj), handled):
        value = getattr(obj, field.attname)
        default = field.get_default() if field.has_default() else None
        if value in ("", None) or (field.has_default() and value == default and field.name not in {"code", "name"}):
            continue
        out[field.name] = to_file_value(value)
    return out


def load_plain(model: type[models.Model], data: dict, place: str, errors: list, handled: set[str]) -> dict:
    """Convert the plain fields of one mapping; unknown keys and bad values become errors."""
    fields = {f.name: f for f in plain_fields(model, handled)}
    values = {}
    if not isinstance(data, dict):
        errors.append((place, _("expected a mapping of field to value")))
        return values
    for key, raw in data.items():
        if key in handled:
            continue
        field = fields.get(key)
        if field is None:
            errors.append((f"{place}.{key}", _("unknown field")))
            continue
        try:
            values[key] = field.to_python(str(raw) if isinstance(raw, float) else raw)
        except ValidationError as exc:
            errors.append((f"{place}.{key}", " ".join(exc.messages)))
    return values


def collect(errors: list, place: str, obj: models.Model, exclude: list[str] | None = None) -> bool:
    """full_clean ``obj``; on failure add one error per field under ``place``."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            where = place if field == "__all__" else f"{place}.{field}"
            errors.extend((where, message) for message in messages)
        return False
    return True


# --- Extension sections -------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A section another app adds to the file: ``dump(campaign) -> list`` and ``load(campaign, items, errors)``;
    ``shift(items, moved) -> list`` moves the section's own dates when the campaign starts on another day."""

    key: str
    dump: Callable[[Campaign], list]
    load: Callable[[Campaign, list, list], None]
    shift: Callable[[list, Callable[[datetime.date], datetime.date]], list] | None = None


_SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> None:
    _SECTIONS[section.key] = section


# --- Export -------------------------------------------------------------------------------


def participant_code(participant: Participant) -> str:
    return participant.unit.code if participant.unit_id else participant.staff.employee_no


def export_campaign(campaign: Campaign) -> dict:
    """The campaign's whole configuration as plain data (what ``dump_yaml`` writes)."""
    participants = list(campaign.participants.select_related("unit", "staff").order_by("id"))
    code_of = {p.pk: participant_code(p) for p in participants}
    memberships: dict[int, dict[str, str]] = {}
    for m in GroupMembership.objects.filter(participant__campaign=campaign).select_related("group__group_set"):
        memberships.setdefault(m.participant_id, {})[m.group.group_set.code] = m.group.code
    flags: dict[int, list[str]] = {}
    for flag in ParticipantFlag.objects.filter(campaign=campaign).order_by("code"):
        flags.setdefault(flag.participant_id, []).append(flag.code)

    metrics = list(campaign.metrics.prefetch_related("components__indicator").order_by("position", "code"))
    indicator_ids = {c.indicator_id for m in metrics for c in m.components.all()}
    rules = list(ScoringRule.objects.filter(campaign=campaign).select_related("metric", "parent", "group_set"))
    doc = {
        "format": FORMAT,
        "campaign": dump_plain(campaign),
        "phases": [dump_plain(p) for p in campaign.phases.order_by("start_date")],
        "indicators": [dump_plain(i) for i in Indicator.objects.filter(pk__in=indicator_ids).order_by("code")],
        "group_sets": [
            {**dump_plain(gs), "groups": [dump_plain(g, {"group_set"}) for g in gs.groups.order_by("code")]}
            for gs in campaign.group_sets.order_by("code")
        ],
        "metrics": [
            {
                **dump_plain(m),
                "components": [
                    {"indicator": c.indicator.code, "sign": c.sign, "role": c.role} for c in m.components.order_by("role", "id")
                ],
            }
            for m in metrics
        ],
        "participants": [
            {
                **({"unit": p.unit.code} if p.unit_id else {"staff": p.staff.employee_no}),
                **dump_plain(p),
                **({"groups": memberships[p.pk]} if p.pk in memberships else {}),
                **({"flags": flags[p.pk]} if p.pk in flags else {}),
            }
            for p in participants
        ],
        "rules": [
            {
                **dump_plain(r, {"params"}),
                **({"metric": r.metric.code} if r.metric_id else {}),
                **({"parent": r.parent.code} if r.parent_id else {}),
                **({"group_set": r.group_set.code} if r.group_set_id else {}),
                **({"params": r.params} if r.params else {}),
            }
            for r in sorted(rules, key=lambda r: (r.parent_id is not None, r.position, r.pk))
        ],
        "rankings": [
            {
                **dump_plain(k),
                **({"metric": k.metric.code} if k.metric_id else {}),
                **({"rule": k.rule.code} if k.rule_id else {}),
                **({"group_set": k.group_set.code} if k.group_set_id else {}),
            }
            for k in Ranking.objects.filter(campaign=campaign).select_related("metric", "rule", "group_set")
        ],
        "gates": [
            {
                **dump_plain(g),
                **({"metric": g.metric.code} if g.metric_id else {}),
                **({"per_metric": g.per_metric.code} if g.per_metric_id else {}),
                **({"rankings": sorted(g.rankings.values_list("code", flat=True))} if g.rankings.exists() else {}),
            }
            for g in Gate.objects.filter(campaign=campaign).select_related("metric", "per_metric").order_by("code")
        ],
        "targets": [
            {
                "participant": code_of[t.participant_id],
                "metric": t.metric.code,
                "period": t.period,
                **({"phase": t.phase.code} if t.phase_id else {}),
                **({"month": t.month.strftime("%Y-%m")} if t.month else {}),
                "target": to_file_value(t.target_value),
                **({"base": to_file_value(t.base_value)} if t.base_value is not None else {}),
            }
            for t in campaign.targets.select_related("metric", "phase").order_by("participant_id", "metric__position", "period_start")
        ],
    }
    for section in _SECTIONS.values():
        doc[section.key] = section.dump(campaign)
    return doc


def dump_yaml(campaign: Campaign) -> str:
    return yaml.safe_dump(export_campaign(campaign), allow_unicode=True, sort_keys=False, width=120)


# --- Import -------------------------------------------------------------------------------


class _FileLoader(yaml.SafeLoader):
    """YAML with 1.2 booleans: only true/false are booleans, so a key such as ``on:`` stays a word."""


_FileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_date(loader: _FileLoader, node: yaml.ScalarNode):
    """An unquoted date that cannot exist (2027-02-30) is an error naming its line, not a crash."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, _("%(value)s is not a date that exists") % {"value": node.value}, node.start_mark
        ) from None


_FileLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date)


def parse_yaml(text: str) -> dict:
    try:
        doc = yaml.load(text, Loader=_FileLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _("line %(line)s") % {"line": mark.line + 1} if mark else _("the file")
        raise CampaignFileError([(where, _("not valid YAML: %(problem)s") % {"problem": getattr(exc, "problem", exc)})]) from None
    if not isinstance(doc, dict):
        raise CampaignFileError([(_("the file"), _("expected a mapping with a 'campaign' section"))])
    return doc


def load_template(name: str) -> dict:
    """A built-in template (``a-county-credit-union`` …) as plain data."""
    path = TEMPLATE_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(builtin_templates())
        raise CampaignFileError([(name, _("no such template; known: %(known)s") % {"known": known})])
    return parse_yaml(path.read_text(encoding="utf-8"))


def builtin_templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.yaml"))


def import_campaign(doc: dict | str, *, code: str | None = None, name: str | None = None, start_date=None) -> Campaign:
    """Create a campaign from a file (text or parsed). All or nothing.

    ``code``/``name`` override the file's (to start a new campaign from a template or from last
    year's); ``start_date`` shifts every date in the file by the same number of days.
    Raises CampaignFileError listing every problem found.
    """
    if isinstance(doc, str):
        doc = parse_yaml(doc)
    errors: list[tuple[str, str]] = []
    if doc.get("format") != FORMAT:
        errors.append(("format", _("expected '%(format)s'") % {"format": FORMAT}))
        raise CampaignFileError(errors)
    if start_date is not None:
        doc = shift_dates(doc, start_date)
    try:
        with transaction.atomic():
            from campaigns.campaign_file_loader import Loader  # it builds on this module's helpers

            campaign = Loader(doc, errors).load(code=code, name=name)
            if errors:
                raise _Rollback
    except _Rollback:
        raise CampaignFileError(errors) from None
    return campaign


class _Rollback(Exception):
    pass


def shift_dates(doc: dict, new_start: datetime.date) -> dict:
    """A copy of ``doc`` with every date moved so the campaign starts on ``new_start``.

    When the new start falls on the same day of the month, dates move by whole calendar months
    and a month's last day stays its last day, so last year's 1 Jan – 31 Mar stays a whole first
    quarter in a leap year; otherwise every date moves by the same number of days.
    """
    import calendar
    import copy

    old_start = datetime.date.fromisoformat(str(doc["campaign"]["start_date"]))
    month_delta = (new_start.year - old_start.year) * 12 + (new_start.month - old_start.month)
    by_month = new_start.day == old_start.day

    def moved(day: datetime.date) -> datetime.date:
        if not by_month:
            return day + (new_start - old_start)
        index = day.year * 12 + (day.month - 1) + month_delta
        year, month = divmod(index, 12)
        last = calendar.monthrange(year, month + 1)[1]
        was_last = day.day == calendar.monthrange(day.year, day.month)[1]
        return datetime.date(year, month + 1, last if was_last else min(day.day, last))

    def move(mapping: dict, keys: tuple[str, ...]):
        for key in keys:
            if mapping.get(key):
                mapping[key] = moved(datetime.date.fromisoformat(str(mapping[key]))).isoformat()

    doc = copy.deepcopy(doc)
    move(doc["campaign"], ("start_date", "end_date"))
    for phase in doc.get("phases", []):
        move(phase, ("start_date", "end_date"))
    for participant in doc.get("participants", []):
        move(participant, ("joined_on", "left_on"))
    for target in doc.get("targets", []):
        if target.get("month"):
            year, month = (int(x) for x in str(target["month"]).split("-")[:2])
            target["month"] = moved(datetime.date(year, month, 1)).strftime("%Y-%m")
    for section in _SECTIONS.values():
        if section.shift is not None and isinstance(doc.get(section.key), list):
            doc[section.key] = section.shift(doc[section.key], moved)
    return doc


def _register_calendar_section() -> None:
    # The bank's calendar rides in the file so a campaign's working days travel with it; its dates are
    # real days (holidays), so the section has no date shift.
    from campaigns import bank_calendar

    register_section(Section(key=bank_calendar.KEY, dump=bank_calendar.dump_section, load=bank_calendar.load_section))


_register_calendar_section()
