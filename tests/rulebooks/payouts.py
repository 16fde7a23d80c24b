"""Paying a rulebook's campaign the way finance does, shared by the rulebook payout tests."""

from rewards import services
from rewards.models import PeriodKind, RewardScheme
from scoring import engine


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
