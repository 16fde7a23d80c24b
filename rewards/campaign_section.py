"""The ``rewards`` section of the campaign file: the campaign's reward schemes and their rules.

A scheme's dates default to the campaign's, so a template started on another date moves with it;
dates written in the section (a scheme's own dates, a rule's period, a figure's ``on``, ``base_date``
or ``from``) move with the campaign's (``shift``, called by ``campaign_file.shift_dates``). A
scheme's code is stored as ``<campaign code>-<code>`` so the same template can serve many
campaigns. Rule parameters are validated by their kind and errors name the place in the file.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rewards import sponsorship
from rewards.models import RewardRule, RewardScheme

KEY = "rewards"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _map_dates(value, change: Callable[[datetime.date], str]):
    """``value`` (plain data) with every date, or string written as one (YYYY-MM-DD), replaced by ``change(date)``."""
    if isinstance(value, dict):
        return {key: _map_dates(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_dates(item, change) for item in value]
    if isinstance(value, datetime.date):
        return change(value)
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            return change(datetime.date.fromisoformat(value))
        except ValueError:
            return value
    return value


def shift(items: list, moved: Callable[[datetime.date], datetime.date]) -> list:
    """The section with every date in it moved by ``moved`` (the campaign file's date shift)."""
    return _map_dates(items, lambda day: moved(day).isoformat())


def _local_code(scheme: RewardScheme, campaign) -> str:
    prefix = f"{campaign.code}-"
    return scheme.code[len(prefix) :] if scheme.code.startswith(prefix) else scheme.code


def dump(campaign) -> list:
    """Every reward scheme of ``campaign`` with its rules, as plain data."""
    schemes = (
        RewardScheme.objects.filter(campaign_code=campaign.code).prefetch_related("rules").order_by("code")
    )
    out = []
    for scheme in schemes:
        item = {"code": _local_code(scheme, campaign), "name": scheme.name}
        if scheme.start != campaign.start_date:
            item["start"] = scheme.start.isoformat()
        if scheme.end != campaign.end_date:
            item["end"] = scheme.end.isoformat()
        if scheme.budget is not None:
            item["budget"] = str(scheme.budget)
            item["scale_to_budget"] = scheme.scale_to_budget
        if scheme.sponsorships:
            item["sponsorships"] = scheme.sponsorships
        item["rules"] = [
            {
                "code": rule.code,
                "name": rule.name,
                "kind": rule.kind,
                "params": rule.params,
                **({"stacking_group": rule.stacking_group} if rule.stacking_group else {}),
            }
            for rule in scheme.rules.all()
        ]
        out.append(item)
    return out


def load(campaign, items: list, errors: list) -> None:
    """Create the schemes and rules in ``items`` for ``campaign``; append (place, message) errors."""
    for index, item in enumerate(items):
        place = f"{KEY}[{index}]"
        if not isinstance(item, dict) or not item.get("code"):
            errors.append((place, "code: required"))
            continue
        try:
            budget = Decimal(str(item["budget"])) if item.get("budget") not in (None, "") else None
        except InvalidOperation:
            errors.append((f"{place}.budget", "not a number"))
            continue
        sponsorships = item.get("sponsorships") or []
        try:
            sponsorship.validate(sponsorships)
        except ValidationError as error:
            errors.extend((place, message) for message in error.messages)
            continue
        try:
            with transaction.atomic():
                scheme = RewardScheme.objects.create(
                    code=f"{campaign.code}-{item['code']}",
                    name=item.get("name") or item["code"],
                    campaign_code=campaign.code,
                    start=item.get("start") or campaign.start_date,
                    end=item.get("end") or campaign.end_date,
                    budget=budget,
                    scale_to_budget=bool(item.get("scale_to_budget", False)),
                    sponsorships=sponsorships,
                )
        except (IntegrityError, ValidationError) as error:
            errors.append((place, str(error)))
            continue
        for position, rule in enumerate(item.get("rules") or []):
            rule_place = f"{place}.rules[{position}]"
            try:
                RewardRule.objects.create(
                    scheme=scheme,
                    code=rule.get("code") or f"R{position + 1}",
                    name=rule.get("name") or rule.get("code", ""),
                    kind=rule.get("kind", ""),
                    # YAML reads an unquoted date as a date; parameters are JSON, so dates are ISO strings.
                    params=_map_dates(rule.get("params") or {}, datetime.date.isoformat),
                    stacking_group=rule.get("stacking_group", ""),
                    position=position,
                )
            except ValidationError as error:
                errors.extend((f"{rule_place}.params", message) for message in error.messages)


def register() -> None:
    from campaigns.campaign_file import Section, register_section

    register_section(Section(key=KEY, dump=dump, load=load, shift=shift))
