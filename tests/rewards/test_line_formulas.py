"""Every line explains itself: its formula shows how each kind of rule came to the amount."""

from __future__ import annotations

import pytest
from django.utils import translation

from branches.models import SubjectKind
from rewards.item_import import import_items
from rewards.models import PeriodKind, RewardRule
from tests.rewards.conftest import BASE_DAY, FEB_END, JAN_END, Q1_END, Q1_START, pay, put_facts

INCREASE = {"indicator": "DEP", "measure": "increase"}


@pytest.fixture
def figures(small_bank):
    """B1 +3,000,000, B2 +1,500,000, B3 +500,000 by the quarter end; B1's rate 0.96; E002's sales 5 and 9."""
    b1, b2, b3 = small_bank["b1"], small_bank["b2"], small_bank["b3"]
    put_facts("DEP", [(unit, BASE_DAY, 0) for unit in (b1, b2, b3)])
    put_facts("DEP", [(b1, Q1_END, 3_000_000), (b2, Q1_END, 1_500_000), (b3, Q1_END, 500_000)])
    put_facts("DONE", [(b1, Q1_END, "0.96"), (b2, Q1_END, "1"), (b3, Q1_END, "0.5")])
    put_facts("SALES", [(small_bank["s2"], JAN_END, 5), (small_bank["s2"], FEB_END, 9)], level=SubjectKind.STAFF)
    return small_bank


def quarter_formulas(scheme, finance, kind, params, **rule):
    RewardRule.objects.create(scheme=scheme, code="R", name="规则", kind=kind, params={"payment": "at_end", **params}, **rule)
    with translation.override("en"):
        quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    return {line.employee_no or line.unit_code: (line.formula, str(line.amount)) for line in quarter.lines.all()}


def test_piece_rate_per_full_block_and_in_proportion(figures, scheme, finance):
    assert quarter_formulas(scheme, finance, "piece_rate", {"figure": INCREASE, "rate": "1000", "per": "1000000"}) == {
        "B1": ("1000 × ⌊3000000 ÷ 1000000⌋", "3000.00"),
        "B2": ("1000 × ⌊1500000 ÷ 1000000⌋", "1000.00"),
    }  # B3's 500,000 is no full block: nothing, no line


def test_piece_rate_in_proportion_above_a_bar(figures, scheme, finance):
    got = quarter_formulas(
        scheme, finance, "piece_rate",
        {"figure": INCREASE, "rate": "0.001", "mode": "proportional", "above": "1000000",
         "conditions": [{"figure": INCREASE, "op": ">", "value": "1000000"}]},
    )
    assert got == {"B1": ("0.001 × 2000000 ÷ 1", "2000.00"), "B2": ("0.001 × 500000 ÷ 1", "500.00")}


def test_shortfall_penalty(figures, scheme, finance):
    put_facts("POS", [(figures["b1"], Q1_END, 1), (figures["b2"], Q1_END, 3)])
    put_facts("POS_TARGET", [(figures["b1"], Q1_END, 3), (figures["b2"], Q1_END, 3)])
    got = quarter_formulas(
        scheme, finance, "shortfall_penalty",
        {"figure": {"indicator": "POS"}, "target": {"indicator": "POS_TARGET"}, "rate": "500"},
    )
    assert got == {"B1": ("-500 × 2", "-1000.00")}


def test_rank_prize_names_the_place(figures, scheme, finance):
    got = quarter_formulas(scheme, finance, "rank_prize", {"by": INCREASE, "places": ["20000", "15000"]})
    assert got == {"B1": ("place 1 → 20000", "20000.00"), "B2": ("place 2 → 15000", "15000.00")}


def test_completion_bonus_in_full_and_pro_rata_from_the_floor(figures, scheme, finance):
    got = quarter_formulas(
        scheme, finance, "completion_bonus", {"completion": {"indicator": "DONE"}, "amount": "10000", "floor": "0.8"}
    )
    assert got == {"B1": ("10000 × 96.0000%", "9600.00"), "B2": ("10000", "10000.00")}


def test_threshold_bands_amount_step_and_percent(figures, scheme, finance):
    steps = quarter_formulas(
        scheme, finance, "threshold_bands",
        {"figure": INCREASE, "bands": [{"from": "1000000", "amount": "1400", "step": {"every": "500000", "amount": "20"}}]},
    )
    assert steps == {"B1": ("1400 + 4 × 20", "1480.00"), "B2": ("1400 + 1 × 20", "1420.00")}


def test_threshold_band_paying_a_percent_of_a_figure(figures, scheme, finance):
    got = quarter_formulas(
        scheme, finance, "threshold_bands",
        {"figure": INCREASE, "bands": [{"from": "2000000", "percent": "0.01", "of": INCREASE}]},
    )
    assert got == {"B1": ("3000000 × 1%", "30000.00")}


def test_head_to_head_winner_and_loser(figures, scheme, finance):
    got = quarter_formulas(
        scheme, finance, "head_to_head",
        {"pairs": [["B1", "B3"]], "by": INCREASE, "completion": {"indicator": "DONE"},
         "winner_amount": "1000", "loser_penalty": "500"},
    )
    assert got == {"B1": ("1000", "1000.00"), "B3": ("-500", "-500.00")}


def test_title_names_the_award(figures, scheme, finance):
    got = quarter_formulas(scheme, finance, "title", {"by": INCREASE, "top_n": 1, "award": "存款状元", "amount": "800"})
    assert got == {"B1": ("存款状元", "800.00")}


def test_item_bands_count_the_items_in_a_band(figures, scheme, finance):
    rows = [("E002", "POLICY", "P1", "2027-01-02", "5000"), ("E002", "POLICY", "P2", "2027-01-03", "500")]
    columns = ("staff", "kind", "item_no", "date", "amount")
    RewardRule.objects.create(scheme=scheme, code="ITEMS", name="逐单", kind="item_bands",
                              params={"items": ["POLICY"], "bands": [{"from": "1000", "amount": "50"}], "payment": "at_end"})
    assert import_items([(n, dict(zip(columns, row, strict=True))) for n, row in enumerate(rows, start=2)]).ok
    RewardRule.objects.filter(code="ITEMS").delete()
    got = quarter_formulas(scheme, finance, "item_bands", {"items": ["POLICY"], "bands": [{"from": "1000", "amount": "50"}]})
    assert got == {"E002": ("1 of 2 items in a band: 50", "50.00")}


def test_shares_others_share_and_the_budget_scale_are_written_into_the_formula(figures, scheme, finance):
    scheme.budget, scheme.scale_to_budget = 3000, True
    scheme.save()
    got = quarter_formulas(
        scheme, finance, "piece_rate",
        {"figure": INCREASE, "rate": "1000", "per": "1000000", "beneficiary": "head", "share": "0.5",
         "full_share_if": [{"figure": INCREASE, "op": ">=", "value": "5000000"}], "others_share": "0.5"},
    )
    # B1's head E001: 3,000 × 0.5 (others' share) × 0.5 (share) = 750, within the budget: no scaling.
    assert got == {"E001": ("1000 × ⌊3000000 ÷ 1000000⌋ × 0.5 (others' share) × 0.5", "750.00")}


def test_a_scaled_award_shows_the_factor(figures, scheme, finance):
    scheme.budget, scheme.scale_to_budget = 2000, True
    scheme.save()
    got = quarter_formulas(scheme, finance, "piece_rate", {"figure": INCREASE, "rate": "1000", "per": "1000000"})
    assert got["B1"] == ("1000 × ⌊3000000 ÷ 1000000⌋ × 0.500000 (scaled to the budget, to the fen rounded down)", "1500.00")


def test_a_later_line_shows_the_entitlement_and_what_was_paid(figures, scheme, finance):
    RewardRule.objects.create(
        scheme=scheme, code="S", name="计件", kind="piece_rate",
        params={"figure": {"indicator": "SALES", "measure": "value", "level": "staff"}, "rate": "10"},
    )
    with translation.override("en"):
        pay(scheme, finance, JAN_END)
        february = pay(scheme, finance, FEB_END)
    line = february.lines.get()
    assert line.formula == "10 × ⌊9 ÷ 1⌋ = 90.00; less paid 50.00"
    assert line.figures == {"figure": "9.0000", "above": "0", "counted": "9.0000"}


def test_a_line_no_longer_earned_says_so(figures, scheme, finance):
    RewardRule.objects.create(
        scheme=scheme, code="S", name="计件", kind="piece_rate",
        params={"figure": {"indicator": "SALES", "measure": "value", "level": "staff"}, "rate": "10",
                "conditions": [{"figure": {"indicator": "SALES", "measure": "value", "level": "staff"}, "op": "<", "value": "8"}]},
    )
    with translation.override("en"):
        pay(scheme, finance, JAN_END)
        february = pay(scheme, finance, FEB_END)
    assert february.lines.get().formula == "no longer earned = 0.00; less paid 50.00"


def test_formulas_are_written_in_the_users_language(figures, scheme, finance):
    RewardRule.objects.create(scheme=scheme, code="R", name="名次", kind="rank_prize",
                              params={"by": INCREASE, "places": ["20000"], "payment": "at_end"})
    with translation.override("zh-hans"):
        quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
        expected = translation.gettext("place %(rank)s → %(amount)s") % {"rank": 1, "amount": "20000"}
    assert quarter.lines.get().formula == expected != "place 1 → 20000"

