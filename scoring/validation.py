"""Checks on scoring configuration (rules, gates, rankings); errors name the field."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def validate_rule(rule) -> None:
    """Kind and parameters valid; a metric where the kind needs one; parts add up; bonus not a part."""
    from scoring.models import Evaluation, RuleKind
    from scoring.rules import rule_kind_for

    kind = rule_kind_for(rule)  # raises ValidationError naming 'kind' or 'params'
    errors = {}
    if kind.needs_metric and not rule.metric_id:
        errors["metric"] = _("This rule kind needs a metric.")
    if rule.metric_id and rule.metric.campaign_id != rule.campaign_id:
        errors["metric"] = _("The metric belongs to another campaign.")
    if rule.points is not None and rule.points < 0:
        errors["points"] = _("Points cannot be negative.")
    if rule.parent_id:
        if rule.parent.kind != RuleKind.PARTS:
            errors["parent"] = _("Only a 'parts' rule can have parts.")
        if rule.kind in (RuleKind.PARTS, RuleKind.BONUS):
            errors["kind"] = _("A part cannot itself be a 'parts' rule or a bonus item.")
    if rule.kind == RuleKind.PARTS and rule.evaluation == Evaluation.MONTHLY:
        errors["evaluation"] = _("Set monthly evaluation on the parts, not on the 'parts' rule.")
    if rule.group_set_id and rule.kind != RuleKind.RELATIVE_TO_BEST:
        errors["group_set"] = _("Only a relative-to-best rule compares within groups.")
    _check_filter(rule, errors)
    if errors:
        raise ValidationError(errors)


def parts_error(rule) -> str | None:
    """A message when the parts of a 'parts' rule do not add up to its points, else None."""
    total = sum((part.points for part in rule.parts.all()), Decimal(0))
    if total != rule.points:
        return _("The parts of rule %(code)s add up to %(total)s, not %(points)s.") % {
            "code": rule.code, "total": total, "points": rule.points,
        }
    return None


def check_weights(campaign) -> str | None:
    """A message when the base points (top-level, non-bonus rules) do not sum to the campaign's total.

    Also reports 'parts' rules whose parts do not add up. None when all is well.
    """
    from scoring.models import RuleKind, ScoringRule

    top = list(ScoringRule.objects.filter(campaign=campaign, parent__isnull=True).prefetch_related("parts"))
    scored = [r for r in top if r.kind != RuleKind.BONUS]

    def level_of(rule) -> str | None:
        """The level a rule scores: its own filter's, or for parts without one, their parts' common level."""
        own = (rule.participants or {}).get("level")
        if own or rule.kind != RuleKind.PARTS:
            return own
        below = {level_of(part) for part in rule.parts.all()}
        return below.pop() if len(below) == 1 else None

    rule_levels = {r.pk: level_of(r) for r in scored}
    levels = set(rule_levels.values()) - {None}
    messages = []
    if not levels:
        base = sum((r.points for r in scored), Decimal(0))
        if base != campaign.total_points:
            messages.append(
                _("The base points add up to %(sum)s, not the stated total %(total)s.") % {"sum": base, "total": campaign.total_points}
            )
    else:
        # Units and staff side by side: each level's scheme (its own rules and the rules for everybody)
        # adds up to the total on its own; a level no rule scores is ranked on figures only.
        for level in ("unit", "staff"):
            base = sum((r.points for r in scored if rule_levels[r.pk] in (None, level)), Decimal(0))
            if base and base != campaign.total_points:
                messages.append(
                    _("The base points for %(level)s add up to %(sum)s, not the stated total %(total)s.") % {
                        "level": _("units") if level == "unit" else _("staff"), "sum": base, "total": campaign.total_points,
                    }
                )
    messages += [m for m in (parts_error(r) for r in top if r.kind == RuleKind.PARTS) if m]
    return " ".join(messages) or None


def validate_gate(gate) -> None:
    from scoring.models import GateKind

    errors = {}
    if gate.kind == GateKind.FLAG and not gate.flag:
        errors["flag"] = _("A flag gate needs the flag that vetoes.")
    if gate.kind in (GateKind.METRIC_BELOW, GateKind.STAFF_BELOW, GateKind.METRIC_ABOVE):
        if not gate.metric_id:
            errors["metric"] = _("This gate needs a metric.")
    if gate.kind in (GateKind.METRIC_BELOW, GateKind.STAFF_BELOW) and gate.minimum is None:
        errors["minimum"] = _("This gate needs a minimum.")
    if gate.kind == GateKind.METRIC_ABOVE and gate.maximum is None:
        errors["maximum"] = _("A ceiling needs a maximum.")
    if gate.per_metric_id and gate.kind not in (GateKind.METRIC_BELOW, GateKind.METRIC_ABOVE):
        errors["per_metric"] = _("Only a floor or a ceiling on a figure can divide it by another metric.")
    if gate.per_metric_id and gate.on_completion:
        errors["per_metric"] = _("A share of another metric is read on the figures, not on the completion rate.")
    _check_filter(gate, errors)
    if errors:
        raise ValidationError(errors)


def validate_ranking(ranking) -> None:
    """Basis has what it needs; eligibility floors and flags well-formed and naming known metrics."""
    from scoring.models import RankingBasis

    errors = {}
    if ranking.basis == RankingBasis.RULE_POINTS and not ranking.rule_id:
        errors["rule"] = _("A ranking on a rule's points needs the rule.")
    if ranking.basis in (RankingBasis.METRIC_FIGURE, RankingBasis.METRIC_COMPLETION) and not ranking.metric_id:
        errors["metric"] = _("A ranking on a metric needs the metric.")
    if ranking.period in ("month", "phase") and ranking.basis not in (RankingBasis.METRIC_FIGURE, RankingBasis.METRIC_COMPLETION):
        errors["period"] = _("Only a ranking on a metric's figure or completion can rank a month or a phase.")
    if ranking.phase and ranking.period != "phase":
        errors["phase"] = _("A phase is named only for a ranking of period 'phase'.")
    if ranking.phase and ranking.campaign_id and not ranking.campaign.phases.filter(code=ranking.phase).exists():
        errors["phase"] = _("Unknown phase code %(code)s.") % {"code": ranking.phase}
    if ranking.period == "phase" and ranking.campaign_id and not ranking.campaign.phases.exists():
        errors["period"] = _("The campaign has no phases.")
    _check_filter(ranking, errors)
    only = ranking.only_groups
    if not isinstance(only, list) or not all(isinstance(c, str) and c for c in only):
        errors["only_groups"] = _("'Only these groups' must be a list of group codes.")
    elif only and not ranking.group_set_id:
        errors["only_groups"] = _("Only a ranking per group of a group set can be limited to some groups.")
    elif only:
        known = set(ranking.group_set.groups.values_list("code", flat=True))
        missing = sorted(set(only) - known)
        if missing:
            errors["only_groups"] = _("Unknown group code(s) in %(set)s: %(codes)s.") % {
                "set": ranking.group_set.code, "codes": ", ".join(missing)
            }
    if ranking.rank_groups and not ranking.group_set_id:
        errors["rank_groups"] = _("Ranking groups against each other needs a group set.")
    if ranking.rank_groups and ranking.group_aggregate == "completion_of_sums" and ranking.basis != RankingBasis.METRIC_COMPLETION:
        errors["group_aggregate"] = _("Σ actual ÷ Σ target needs a ranking on a metric's completion rate.")
    if ranking.tie_break_metric and ranking.rank_groups:
        errors["tie_break_metric"] = _("Groups ranked against each other have no tie-break metric.")
    elif ranking.tie_break_metric and ranking.campaign_id and not ranking.campaign.metrics.filter(code=ranking.tie_break_metric).exists():
        errors["tie_break_metric"] = _("Unknown metric code %(code)s.") % {"code": ranking.tie_break_metric}
    floors = ranking.eligibility
    codes = set(ranking.campaign.metrics.values_list("code", flat=True)) if ranking.campaign_id else set()
    if not isinstance(floors, list):
        errors["eligibility"] = _("Eligibility must be a list of floors.")
    else:
        for index, floor in enumerate(floors, start=1):
            ok = isinstance(floor, dict) and floor.get("metric") in codes and floor.get("on", "figure") in ("figure", "completion")
            try:
                Decimal(str(floor.get("min"))) if ok else None
            except Exception:  # noqa: BLE001 - any bad number is the same user error
                ok = False
            if not ok:
                errors["eligibility"] = _("Floor %(n)s needs a known metric, 'on' figure or completion, and a numeric 'min'.") % {"n": index}
                break
    if not isinstance(ranking.required_flags, list) or not all(isinstance(f, str) and f for f in ranking.required_flags):
        errors["required_flags"] = _("Required flags must be a list of flag names.")
    else:
        for flag in ranking.required_flags:
            name = flag.removeprefix("not:")
            if name.startswith("met:") and ranking.campaign_id and name[4:] not in codes:
                errors["required_flags"] = _("“%(flag)s” names no metric of the campaign.") % {"flag": flag}
                break
            if not name or name.startswith("not:"):
                errors["required_flags"] = _("“%(flag)s” is not a flag name.") % {"flag": flag}
                break
    if errors:
        raise ValidationError(errors)


def _check_filter(obj, errors: dict) -> None:
    from campaigns.validation import validate_participant_filter

    try:
        validate_participant_filter(obj.participants)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
