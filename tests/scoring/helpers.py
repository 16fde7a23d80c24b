"""Reading a day's stored results back by participant code, for short assertions."""

from __future__ import annotations

from scoring.models import MetricResult, ParticipantResult, RankEntry, RuleScore


def by_code(build, rows):
    code_of = {p.pk: code for code, p in build.participants.items()}
    return {code_of[pid]: value for pid, value in rows}


def rule_points(build, result_set, rule):
    rows = RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=False)
    return by_code(build, rows.values_list("participant_id", "points"))


def figures(build, result_set, metric_code, column="actual"):
    rows = MetricResult.objects.filter(
        result_set_id=result_set.pk, metric_id=build.metrics[metric_code].pk, period_start=build.campaign.start_date, monthly=False
    )
    return by_code(build, rows.values_list("participant_id", column))


def totals(build, result_set, column="total_points"):
    rows = ParticipantResult.objects.filter(result_set_id=result_set.pk)
    return by_code(build, rows.values_list("participant_id", column))


def ranks(build, result_set, ranking, column="rank"):
    rows = RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk)
    return by_code(build, rows.values_list("participant_id", column))
