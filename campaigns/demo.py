"""The demo campaign: rulebook A's template run on the demo bank's 60 branches for Q1 2026.

Figures are generated (seeded, so every install shows the same board) for each day of the
quarter, written through the facts write path, and every day is recomputed, so the demo shows a
full quarter of leaderboards. Idempotent: an existing demo campaign is left as it is.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction

from branches.facts import FactSource, merge_facts
from branches.models import Indicator, SubjectKind, Unit, UnitKind
from campaigns import services
from campaigns.campaign_file import import_campaign, load_template
from campaigns.models import Campaign

DEMO_CODE = "DEMO-2026Q1"
START = datetime.date(2026, 1, 1)
END = datetime.date(2026, 3, 31)
WAN = 10_000


def load_demo_campaign(*, recompute: bool = True) -> Campaign:
    """Create, fill and publish the demo campaign if it does not exist yet; return it."""
    existing = Campaign.objects.filter(code=DEMO_CODE).first()
    if existing is not None:
        if recompute:
            # A migration that rebuilds the result tables leaves the demo without boards.
            _score_days(existing, only_missing=True)
        return existing
    branches = list(Unit.objects.filter(kind=UnitKind.BRANCH, path__startswith="/HO/").order_by("code"))
    if not branches:
        raise RuntimeError("load the demo bank first (branches.demo.load_demo_bank)")
    rng = random.Random(2026)
    profiles = {b.code: _profile(rng) for b in branches}
    with transaction.atomic():
        doc = load_template("a-county-credit-union")
        doc["participants"] = [{"select": {"under": "HO", "kinds": ["branch"]}}]
        doc["targets"] = [
            {"participant": code, "metric": metric, "period": "campaign", "target": str(value)}
            for code, p in profiles.items()
            for metric, value in (
                ("deposits", p["deposit_target"]),
                ("interest", p["interest_target"]),
                ("npl_decline", p["npl_target"]),
                ("card_deposits", p["card_target"]),
                ("collection_rate", Decimal("0.97")),
                ("pos", p["pos_target"]),
            )
        ]
        campaign = import_campaign(
            doc, code=DEMO_CODE, name="2026年首季开门红业务竞赛（演示）", start_date=START
        )
        campaign.name_en = "2026 first-quarter business contest (demo)"
        campaign.save(update_fields=["name_en"])
        # The rows are generated while PostgreSQL's COPY streams them: the generator must not query
        # the database itself, so the indicator ids are read first.
        indicators = dict(Indicator.objects.values_list("code", "id"))
        outcome = merge_facts(
            rows=_figures(branches, profiles, indicators, rng), source=FactSource(kind="manual", reference="demo data")
        )
        if not outcome.ok:
            raise RuntimeError(f"demo figures refused: {outcome.errors[:3]}")
        services.publish_campaign(campaign)
    if recompute:
        _score_days(campaign, only_missing=False)
    return campaign


def _score_days(campaign: Campaign, *, only_missing: bool) -> None:
    from scoring import engine
    from scoring.models import ResultSet

    scored = set()
    if only_missing:
        scored = set(ResultSet.objects.filter(campaign=campaign, is_current=True).values_list("business_date", flat=True))
    day = START
    while day <= END:
        if day not in scored:
            engine.recompute(campaign.pk, day)
        day += datetime.timedelta(days=1)


def _profile(rng: random.Random) -> dict:
    """A branch's size and how well it does this quarter (some lead, some lag, a few fall back)."""
    size = rng.choice([3, 4, 5, 6, 8])  # deposits of 3–8 亿
    form = rng.uniform(0.55, 1.25)
    return {
        "size": size,
        "form": form,
        "deposit_target": int(size * 200) * WAN,  # net increase of 600–1,600 万
        "interest_target": int(size * 14) * WAN,
        "npl_target": int(size * 6) * WAN,
        "card_target": int(size * 40) * WAN,
        "pos_target": rng.choice([0, 1, 1, 2]),
        "collection": rng.uniform(0.93, 1.0),
    }


def _figures(branches, profiles, indicators: dict[str, int], rng: random.Random):
    """(indicator id, subject kind, subject id, date, value, row) for every branch and day."""
    days = (END - START).days + 1
    row = 0
    for branch in branches:
        p = profiles[branch.code]
        deposits = int(p["size"] * 10_000) * WAN
        card = int(p["size"] * 600) * WAN
        npl = int(p["size"] * 60) * WAN
        loans = int(p["size"] * 7_000) * WAN
        base_day = START - datetime.timedelta(days=1)
        for code, value in (("DEP_BAL", deposits), ("CARD_DEP_BAL", card), ("NPL_BAL", npl), ("LOAN_BAL", loans)):
            row += 1
            yield indicators[code], SubjectKind.UNIT, branch.pk, base_day, Decimal(value), row
        daily_deposit = int(p["deposit_target"] * p["form"] / days)
        for offset in range(days):
            day = START + datetime.timedelta(days=offset)
            # Deposits climb with noise; the Spring Festival weeks (mid-February) pull them back.
            festival = -3 if datetime.date(2026, 2, 10) <= day <= datetime.date(2026, 2, 20) else 1
            deposits += int(daily_deposit * festival * rng.uniform(0.4, 1.6))
            card += int(p["card_target"] * p["form"] / days * rng.uniform(0.2, 1.8))
            npl -= int(p["npl_target"] * p["form"] / days * rng.uniform(0, 2))
            loans += int(daily_deposit * 0.6 * rng.uniform(0, 2))
            interest = int(p["interest_target"] * p["form"] / days * rng.uniform(0.5, 1.5))
            due = int(p["size"] * 6_000 * rng.uniform(0.5, 1.5))
            collected = int(due * min(1.0, p["collection"] + rng.uniform(-0.03, 0.03)))
            values = [
                ("DEP_BAL", deposits), ("CARD_DEP_BAL", card), ("NPL_BAL", max(npl, 0)), ("LOAN_BAL", loans),
                ("INTEREST_INCOME", interest), ("LOAN_DUE", due), ("LOAN_COLLECTED", collected),
            ]
            if rng.random() < p["pos_target"] * p["form"] / 45:
                values.append(("POS_PLACED", 1))
            for code, value in values:
                row += 1
                yield indicators[code], SubjectKind.UNIT, branch.pk, day, Decimal(value), row
