"""Codes a reward rule reads from its campaign (rankings, metrics) must exist there.

Campaign figures are looked up by code (``{"rank": "top300"}``, ``{"metric": "DEP"}``,
``{"target": "DEP"}``); a code that names nothing reads as "no figure", so after a rename the
rule would silently pay nobody. These checks turn that into an error naming the rule and the code:
when a rule is saved (and so when a campaign file is imported) and before a payout run is made.
Unit codes (``of_unit``, head-to-head ``pairs``) are checked before a run only: a template is
imported before the bank's organisation is.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def campaign_codes(params) -> tuple[set[str], set[str]]:
    """The ranking codes and metric codes named anywhere in a rule's parameters."""
    rankings: set[str] = set()
    metrics: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("rank"), str):
                rankings.add(value["rank"])
            for key in ("metric", "target"):
                if isinstance(value.get(key), str):
                    metrics.add(value[key])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(params)
    return rankings, metrics


def missing_codes(*, rule_code: str, params: dict, campaign_code: str) -> list[str]:
    """Messages for every ranking or metric the rule names that its campaign lacks.

    No campaign of that code (a scheme on facts only, or not yet linked): nothing to check.
    """
    from campaigns.models import Campaign
    from scoring.models import Ranking

    rankings, metrics = campaign_codes(params)
    if not (rankings or metrics):
        return []
    campaign = Campaign.objects.filter(code=campaign_code).first() if campaign_code else None
    if campaign is None:
        return []
    messages = []
    known_rankings = set(Ranking.objects.filter(campaign=campaign).values_list("code", flat=True))
    for code in sorted(rankings - known_rankings):
        messages.append(
            _("Rule %(rule)s reads ranking %(code)s, which campaign %(campaign)s does not have.")
            % {"rule": rule_code, "code": code, "campaign": campaign.code}
        )
    known_metrics = set(campaign.metrics.values_list("code", flat=True))
    for code in sorted(metrics - known_metrics):
        messages.append(
            _("Rule %(rule)s reads metric %(code)s, which campaign %(campaign)s does not have.")
            % {"rule": rule_code, "code": code, "campaign": campaign.code}
        )
    return messages


def unit_codes(params) -> set[str]:
    """The unit codes a rule names: whole-bank figures (``of_unit``) and head-to-head ``pairs``."""
    codes: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("of_unit"), str):
                codes.add(value["of_unit"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(params)
    for pair in params.get("pairs") or []:
        codes.update(code for code in pair if isinstance(code, str))
    return codes


def scheme_problems(scheme) -> list[str]:
    """Every rule of ``scheme`` naming a ranking, metric or unit that does not exist (any more)."""
    from branches.models import Unit

    problems: list[str] = []
    rules = list(scheme.rules.all())
    named = {rule.code: unit_codes(rule.params) for rule in rules}
    known = set(Unit.objects.filter(code__in=set().union(*named.values())).values_list("code", flat=True))
    for rule in rules:
        problems += missing_codes(rule_code=rule.code, params=rule.params, campaign_code=scheme.campaign_code)
        for code in sorted(named[rule.code] - known):
            problems.append(
                _("Rule %(rule)s names unit %(code)s, which does not exist.") % {"rule": rule.code, "code": code}
            )
    return problems
