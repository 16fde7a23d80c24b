"""Codes a reward rule names must exist, or the rule would silently read "no figure".

Campaign figures are looked up by code (``{"rank": "top300"}``, ``{"metric": "DEP"}``,
``{"target": "DEP"}``, and a rule's ``period: {"phase": "first_week"}``); a code that names nothing reads as "no figure", so after a rename the
rule would silently pay nobody. These checks turn that into an error naming the rule and the code:
when a rule is saved (and so when a campaign file is imported) and before a payout run is made.
Codes of the bank's own catalogues — units (``of_unit``, head-to-head ``pairs``), indicators
(``{"indicator": ...}``) — and planner flags are checked before a run only: a template is imported
before the bank's organisation and catalogue are, and flags are set on participants later.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _


def _objects(value) -> Iterator[dict]:
    """Every dict nested anywhere in ``value`` (a rule's params), outermost first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _named(params, *keys: str) -> set[str]:
    """The string values of ``keys`` in any object of ``params``."""
    return {obj[key] for obj in _objects(params) for key in keys if isinstance(obj.get(key), str)}


def campaign_codes(params) -> tuple[set[str], set[str], set[str]]:
    """The ranking, metric and phase codes named in a rule's parameters (a phase: ``period``)."""
    period = params.get("period")
    phases = {period["phase"]} if isinstance(period, dict) and isinstance(period.get("phase"), str) else set()
    return _named(params, "rank"), _named(params, "metric", "target"), phases


def unit_codes(params) -> set[str]:
    """The unit codes a rule names: whole-bank figures (``of_unit``) and head-to-head ``pairs``."""
    codes = _named(params, "of_unit")
    for pair in params.get("pairs") or []:
        codes.update(code for code in pair if isinstance(code, str))
    return codes


def indicator_codes(params) -> set[str]:
    """The indicator codes a rule's fact figures read."""
    return _named(params, "indicator")


def flag_codes(params) -> set[str]:
    """The planner flags a rule reads (``{"flag": "green"}``)."""
    return _named(params, "flag")


def item_kinds(params) -> set[str]:
    """The business-item kinds a rule reads (``items`` and ``among``, a code or a list)."""
    kinds: set[str] = set()
    for obj in _objects(params):
        for key in ("items", "among"):
            value = obj.get(key)
            if isinstance(value, str):
                kinds.add(value)
            elif isinstance(value, list):
                kinds.update(kind for kind in value if isinstance(kind, str))
    return kinds


def campaign_catalogue(campaign_code: str) -> tuple[set[str], set[str], set[str]] | None:
    """(ranking codes, metric codes, phase codes) of the campaign; None when there is no campaign
    of that code (a scheme on facts only, or not yet linked): nothing to check then."""
    from campaigns.models import Campaign
    from scoring.models import Ranking

    campaign = Campaign.objects.filter(code=campaign_code).first() if campaign_code else None
    if campaign is None:
        return None
    return (
        set(Ranking.objects.filter(campaign=campaign).values_list("code", flat=True)),
        set(campaign.metrics.values_list("code", flat=True)),
        set(campaign.phases.values_list("code", flat=True)),
    )


def missing_codes(*, rule_code: str, params: dict, campaign_code: str, catalogue=False) -> list[str]:
    """Messages for every ranking or metric the rule names that its campaign lacks.

    ``catalogue``: the campaign's codes when the caller checks many rules (read once for all).
    """
    rankings, metrics, phases = campaign_codes(params)
    if not (rankings or metrics or phases):
        return []
    if catalogue is False:
        catalogue = campaign_catalogue(campaign_code)
    if catalogue is None:
        if phases:  # a phase's dates come from the campaign: without one there are none
            return [
                _("Rule %(rule)s is paid for phase %(code)s, but its scheme names no campaign.")
                % {"rule": rule_code, "code": code}
                for code in sorted(phases)
            ]
        return []
    known_rankings, known_metrics, known_phases = catalogue
    messages = []
    for code in sorted(rankings - known_rankings):
        messages.append(
            _("Rule %(rule)s reads ranking %(code)s, which campaign %(campaign)s does not have.")
            % {"rule": rule_code, "code": code, "campaign": campaign_code}
        )
    for code in sorted(metrics - known_metrics):
        messages.append(
            _("Rule %(rule)s reads metric %(code)s, which campaign %(campaign)s does not have.")
            % {"rule": rule_code, "code": code, "campaign": campaign_code}
        )
    for code in sorted(phases - known_phases):
        messages.append(
            _("Rule %(rule)s is paid for phase %(code)s, which campaign %(campaign)s does not have.")
            % {"rule": rule_code, "code": code, "campaign": campaign_code}
        )
    return messages


def known_flags(campaign_code: str) -> set[str] | None:
    """Flags the campaign knows: declared in its option ``flags`` (a flag nobody holds yet, such as
    C's green rating before the reviews are in), set on a participant, required by a ranking or
    vetoing in a gate. None without a campaign (flags cannot be known then)."""
    from campaigns.models import Campaign
    from scoring.models import ParticipantFlag, Ranking

    campaign = Campaign.objects.filter(code=campaign_code).first() if campaign_code else None
    if campaign is None:
        return None
    known = set(ParticipantFlag.objects.filter(campaign=campaign).values_list("code", flat=True).distinct())
    for required in Ranking.objects.filter(campaign=campaign).values_list("required_flags", flat=True):
        known.update(code for code in required or [] if isinstance(code, str))
    known.update(campaign.gates.exclude(flag="").values_list("flag", flat=True))
    declared = (campaign.options or {}).get("flags") or []
    known.update(code for code in declared if isinstance(code, str))
    return known


def scheme_problems(scheme) -> list[str]:
    """Every rule of ``scheme`` naming a ranking, metric, unit, indicator or flag that does not
    exist (any more), or still holding a template's placeholder values."""
    from branches.models import Indicator, Unit

    problems: list[str] = []
    rules = list(scheme.rules.all())
    units = {rule.code: unit_codes(rule.params) for rule in rules}
    indicators = {rule.code: indicator_codes(rule.params) for rule in rules}
    flags = {rule.code: flag_codes(rule.params) for rule in rules}
    known_units = set(Unit.objects.filter(code__in=set().union(*units.values())).values_list("code", flat=True))
    known_indicators = set(
        Indicator.objects.filter(code__in=set().union(*indicators.values())).values_list("code", flat=True)
    )
    campaign_flags = known_flags(scheme.campaign_code) if any(flags.values()) else None
    catalogue = campaign_catalogue(scheme.campaign_code)
    for rule in rules:
        if rule.params.get("placeholders"):
            problems.append(
                _("Rule %(rule)s still holds placeholder values in %(fields)s: replace them and remove placeholders.")
                % {"rule": rule.code, "fields": ", ".join(rule.params["placeholders"])}
            )
        problems += missing_codes(
            rule_code=rule.code, params=rule.params, campaign_code=scheme.campaign_code, catalogue=catalogue
        )
        for code in sorted(units[rule.code] - known_units):
            problems.append(
                _("Rule %(rule)s names unit %(code)s, which does not exist.") % {"rule": rule.code, "code": code}
            )
        for code in sorted(indicators[rule.code] - known_indicators):
            problems.append(
                _("Rule %(rule)s reads indicator %(code)s, which is not in the indicator catalogue.")
                % {"rule": rule.code, "code": code}
            )
        for code in sorted(flags[rule.code] - (campaign_flags if campaign_flags is not None else flags[rule.code])):
            problems.append(
                _("Rule %(rule)s reads flag %(code)s, which no participant of campaign %(campaign)s has and no ranking requires; "
                  "if nobody holds it yet, declare it in the campaign option flags.")
                % {"rule": rule.code, "code": code, "campaign": scheme.campaign_code}
            )
    return problems
