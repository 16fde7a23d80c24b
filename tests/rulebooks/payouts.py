"""Paying a rulebook's campaign the way finance does, shared by the rulebook payout tests."""

from django.db.models import Sum

from rewards import services
from rewards.models import PayoutLine, PeriodKind, RewardScheme
from scoring import engine


def payee(line: PayoutLine) -> str:
    """A line's payee as the tests name it: the employee number, else the unit code."""
    return line.employee_no or line.unit_code


def paid_per_payee_and_rule(runs) -> dict:
    """{(payee, rule code): amount} summed over every line of ``runs`` (monthly lines and adjustments)."""
    rows = PayoutLine.objects.filter(run__in=runs).values("employee_no", "unit_code", "rule__code").annotate(total=Sum("amount"))
    return {(row["employee_no"] or row["unit_code"], row["rule__code"]): row["total"] for row in rows}


def placeholders_replaced(doc: dict) -> dict:
    """``doc`` (a loaded template) as the planner leaves it after replacing the placeholder values:
    the tests keep the template's made-up figures (their expectations are worked out on them)."""
    for scheme in doc.get("rewards", []):
        for rule in scheme["rules"]:
            rule["params"].pop("placeholders", None)
    return doc


def pay(campaign, finance, period_end, *, kind=PeriodKind.MONTH, start=None):
    """Recompute the scores for ``period_end``, then make, review, approve (the other person) and lock the run.

    ``finance`` holds two finance users: ``maker`` makes and reviews, ``checker`` approves and locks.
    """
    engine.recompute(campaign.pk, period_end)
    run = services.create_payout_run(
        scheme=RewardScheme.objects.get(campaign_code=campaign.code),
        period_kind=kind,
        period_start=start or period_end.replace(day=1),
        period_end=period_end,
        by=finance["maker"],
    )
    run = services.review_payout_run(run, by=finance["maker"])
    run = services.approve_payout_run(run, by=finance["checker"])
    return services.lock_payout_run(run, by=finance["checker"])
