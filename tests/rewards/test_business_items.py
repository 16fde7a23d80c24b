"""Business items (deposits, policies): the import, the part above a bar stacked oldest first
(rulebook D) and the award per policy by its premium band (rulebook C).

Rulebook D, one employee (E002), 1 – 10 March 2027 (10 days), bar 2,000,000 daily average, items
stacked by deposit date, oldest first (each item's share of the daily average = amount × days held
÷ 10):

item  kind     amount     date        held          share      running total   above 2,000,000
D1    TIME_1Y  1,000,000  15 January  1–5 March      500,000     500,000        –
      (withdrawn 6 March)
A1    CORP       800,000   1 February all 10 days    800,000   1,300,000        –
B1    TIME_1Y  1,000,000  10 February all 10 days  1,000,000   2,300,000      300,000
E1    TIME_1Y    600,000   1 March    all 10 days    600,000   2,900,000      600,000
C1    SHORT      500,000   6 March    6–10 March     250,000   3,150,000      250,000

Above 2,000,000: time ≥ 1 year 900,000, short 250,000, corporate 0 (it was deposited early).
Above 3,000,000: short 150,000 only. Rates 10 / 5 / 4 per 10,000: 900 + 125 + 0 = 1,025.
E003's deposits (all 1,000,000 of them) stay below the bar: figure 0. E001 has none: no figure.

Rulebook C, first-sale day 1 – 4 January, bands from 1,000 → 50, 5,000 → 200, 10,000 → 500 per
policy, surrendered within 15 days → nothing (E004, an agent):
P1 800 (1 Jan) → 0; P2 5,000 (2 Jan) → 200; P3 12,000 (4 Jan) → 500; P4 20,000 (3 Jan,
surrendered 10 Jan) → 0; P5 50,000 (5 Jan, outside) → –; P6 3,000 (2 Jan, surrendered 20 Feb,
after the cooling-off) → 50: 750. E002: P7 10,000 (1 Jan) → 500.
Later P3 is found surrendered on 12 January: the February run claws back 500.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from branches.models import SubjectKind
from rewards.figures import FigureBook
from rewards.item_import import import_item_file, import_items
from rewards.models import BusinessItem, LineKind, RewardRule, RewardScheme
from tests.rewards.conftest import FEB_END, JAN_END, pay

MAR_1, MAR_10 = datetime.date(2027, 3, 1), datetime.date(2027, 3, 10)
KINDS = ["TIME_1Y", "SHORT", "CORP"]


@pytest.fixture(autouse=True)
def kinds_read(db):
    """A rule (of a scheme of its own, so no run here pays it) reading every kind these tests load:
    the import accepts only kinds some rule reads."""
    other = RewardScheme.objects.create(
        code="KINDS", name="kinds", start=datetime.date(2027, 1, 1), end=datetime.date(2027, 3, 31)
    )
    RewardRule.objects.create(
        scheme=other, code="kinds", name="kinds", kind="item_bands",
        params={"items": [*KINDS, "POLICY"], "bands": [{"from": "1", "amount": "1"}]},
    )


def rows(*items):
    return [(n, dict(zip(("staff", "kind", "item_no", "date", "amount", "end_date"), item, strict=False))) for n, item in enumerate(items, start=2)]


@pytest.fixture
def deposits(small_bank):
    result = import_items(
        rows(
            ("E002", "TIME_1Y", "D1", "2027-01-15", "1000000", "2027-03-06"),
            ("E002", "CORP", "A1", "2027-02-01", "800000"),
            ("E002", "TIME_1Y", "B1", "2027-02-10", "1000000"),
            ("E002", "TIME_1Y", "E1", "2027-03-01", "600000"),
            ("E002", "SHORT", "C1", "2027-03-06", "500000"),
            ("E003", "CORP", "X1", "2026-12-01", "1000000"),
        )
    )
    assert result.ok, result.errors
    return small_bank


def above(kind: str, bar: str, *, book=None) -> dict:
    book = book or FigureBook(start=MAR_1, as_of=MAR_10)
    return book.evaluate({"items": [kind], "among": KINDS, "above": bar, "measure": "daily_average", "level": "staff"})


def test_the_part_above_the_bar_is_decided_by_deposit_date_oldest_first(deposits):
    e002, e003 = deposits["s2"].pk, deposits["s3"].pk
    assert above("TIME_1Y", "2000000") == {e002: Decimal(900_000), e003: Decimal(0)}
    assert above("SHORT", "2000000") == {e002: Decimal(250_000), e003: Decimal(0)}
    assert above("CORP", "2000000") == {e002: Decimal(0), e003: Decimal(0)}
    assert above("SHORT", "3000000")[e002] == Decimal(150_000)
    assert above("TIME_1Y", "3000000")[e002] == Decimal(0)


def test_an_early_withdrawn_deposit_earns_nothing_but_keeps_filling_the_stack(deposits):
    # E1 (one-year time, 600,000 from 1 March) withdrawn on 9 March: held 8 days, it weighs 480,000;
    # running totals B1 2,300,000, E1 2,780,000, C1 3,030,000.
    withdrawn = import_items(rows(("E002", "TIME_1Y", "E1", "2027-03-01", "600000", "2027-03-09")))
    assert withdrawn.ok, withdrawn.errors
    e002 = deposits["s2"].pk
    assert above("TIME_1Y", "2000000")[e002] == Decimal(780_000)
    book = FigureBook(start=MAR_1, as_of=MAR_10)
    voided = book.evaluate(
        {"items": ["TIME_1Y"], "among": KINDS, "above": "2000000", "measure": "daily_average", "level": "staff",
         "void_if_ended_within_days": 365}
    )
    assert voided[e002] == Decimal(300_000)  # B1's part only
    assert above("SHORT", "2000000", book=book)[e002] == Decimal(250_000)  # C1 stays above the bar
    # D1 ended within a year too, but lay below the bar: voiding it changes nothing else.


def test_a_deposit_withdrawn_on_its_maturity_day_is_not_early_and_a_leap_year_has_366_days(small_bank):
    # E004, 1 – 10 March 2027, no bar. M1 (a year from 5 March 2026) withdrawn on its maturity day,
    # held 1 – 4 March: 4 × 1,000,000 ÷ 10 = 400,000, earned. M2 withdrawn the day before its
    # maturity: void. L1 from 9 March 2027 withdrawn on 8 March 2028, 366 days later but the day
    # before the same date a year later (29 February 2028 lies between): void. Z1 ended on its
    # own date: accepted, weighs 0 days.
    result = import_items(
        rows(
            ("E004", "TIME_1Y", "M1", "2026-03-05", "1000000", "2027-03-05"),
            ("E004", "TIME_1Y", "M2", "2026-03-06", "1000000", "2027-03-05"),
            ("E004", "TIME_1Y", "L1", "2027-03-09", "1000000", "2028-03-08"),
            ("E004", "TIME_1Y", "Z1", "2027-03-03", "1000000", "2027-03-03"),
        )
    )
    assert result.ok, result.errors
    e004 = small_bank["s4"].pk
    book = FigureBook(start=MAR_1, as_of=MAR_10)
    figure = {"items": ["TIME_1Y"], "measure": "daily_average", "level": "staff"}
    assert book.evaluate(figure) == {e004: Decimal(1_000_000)}  # M1 400,000 + M2 400,000 + L1 200,000 + Z1 0
    assert book.evaluate({**figure, "void_if_ended_within_years": 1}) == {e004: Decimal(400_000)}


def test_without_a_bar_the_items_add_up_to_the_daily_average_and_sum_counts_the_periods_items(deposits):
    book = FigureBook(start=MAR_1, as_of=MAR_10)
    every = book.evaluate({"items": KINDS, "measure": "daily_average", "level": "staff"})
    assert every == {deposits["s2"].pk: Decimal(3_150_000), deposits["s3"].pk: Decimal(1_000_000)}
    new = book.evaluate({"items": KINDS, "measure": "sum", "level": "staff"})
    assert new == {deposits["s2"].pk: Decimal(1_100_000)}  # E1 and C1 were deposited in the period


def test_the_per_10000_rates_pay_the_deposits_above_the_bar(deposits, scheme, finance):
    for code, kind, rate in (("time", "TIME_1Y", "10"), ("short", "SHORT", "5"), ("corp", "CORP", "4")):
        RewardRule.objects.create(
            scheme=scheme,
            code=code,
            name=code,
            kind="piece_rate",
            params={
                "figure": {"items": [kind], "among": KINDS, "above": "2000000", "measure": "daily_average", "level": "staff"},
                "rate": rate,
                "per": "10000",
                "mode": "proportional",
                "period": {"start": "2027-03-01", "end": "2027-03-10"},
            },
        )
    run = pay(scheme, finance, datetime.date(2027, 3, 31), start=MAR_1)
    paid = {(line.rule.code, line.employee_no): line.amount for line in run.lines.select_related("rule") if line.amount}
    assert paid == {("time", "E002"): Decimal("900.00"), ("short", "E002"): Decimal("125.00")}


@pytest.fixture
def policies(small_bank):
    result = import_items(
        rows(
            ("E004", "POLICY", "P1", "2027-01-01", "800"),
            ("E004", "POLICY", "P2", "2027-01-02", "5000"),
            ("E004", "POLICY", "P3", "2027-01-04", "12000"),
            ("E004", "POLICY", "P4", "2027-01-03", "20000", "2027-01-10"),
            ("E004", "POLICY", "P5", "2027-01-05", "50000"),
            ("E004", "POLICY", "P6", "2027-01-02", "3000", "2027-02-20"),
            ("E002", "POLICY", "P7", "2027-01-01", "10000"),
        )
    )
    assert result.ok, result.errors
    return small_bank


def first_sale_day(scheme, **cooling_off) -> RewardRule:
    return RewardRule.objects.create(
        scheme=scheme,
        code="first_sale_day",
        name="首卖日逐单奖励",
        kind="item_bands",
        params={
            "items": ["POLICY"],
            "level": "staff",
            "bands": [{"from": "1000", "amount": "50"}, {"from": "5000", "amount": "200"}, {"from": "10000", "amount": "500"}],
            "period": {"start": "2027-01-01", "end": "2027-01-04"},
            **cooling_off,
        },
    )


def test_each_policy_of_the_first_sale_days_earns_its_premium_bands_award_and_a_surrender_is_clawed_back(
    policies, scheme, finance
):
    first_sale_day(scheme, cancelled_within_days=15)
    january = pay(scheme, finance, JAN_END)
    assert {line.employee_no: line.amount for line in january.lines.all()} == {
        "E004": Decimal("750.00"),
        "E002": Decimal("500.00"),
    }
    assert january.lines.get(employee_no="E004").figures == {"items": 4, "items_in_a_band": 3}
    surrendered = import_items(rows(("E004", "POLICY", "P3", "2027-01-04", "12000", "2027-01-12")))
    assert surrendered.ok and BusinessItem.objects.get(item_no="P3").end_date == datetime.date(2027, 1, 12)
    february = pay(scheme, finance, FEB_END)
    assert [(line.employee_no, line.kind, line.amount) for line in february.lines.all()] == [
        ("E004", LineKind.CLAWBACK, Decimal("-500.00"))
    ]


def test_without_a_cooling_off_period_a_surrendered_policy_still_earns_its_band(policies, scheme, finance):
    """The rulebook names no cooling-off (犹豫期): none unless the planner sets cancelled_within_days."""
    first_sale_day(scheme)
    january = pay(scheme, finance, JAN_END)
    # E004: P2 200 + P3 500 + P4 500 (surrendered on 10 Jan, counted) + P6 50; P1 below every band.
    assert {line.employee_no: line.amount for line in january.lines.all()} == {
        "E004": Decimal("1250.00"),
        "E002": Decimal("500.00"),
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "items"),
        ({"bands": [{"from": "5000", "amount": "200"}, {"from": "1000", "amount": "50"}]}, "bands[1].from"),
        ({"bands": [{"from": "1000", "amount": "lots"}]}, "amount"),
        ({"cancelled_within_days": "-1"}, "cancelled_within_days"),
    ],
)
def test_item_band_rules_with_wrong_params_are_refused_naming_the_field(scheme, change, field):
    rule = RewardRule(
        scheme=scheme,
        code="x",
        name="x",
        kind="item_bands",
        params={"items": ["POLICY"], "bands": [{"from": "1000", "amount": "50"}], **change},
    )
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert field in str(error.value)


def test_an_item_file_with_chinese_headers_loads_and_a_second_load_updates(small_bank, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("工号,类别,编号,日期,金额,结束日期\nE002,TIME_1Y,A-1,2027-01-05,\"1,000,000\",\nE003,SHORT,A-2,2027-01-06,50000,\n", encoding="utf-8")
    assert import_item_file(path, filename="items.csv").written == 2
    path.write_text("工号,类别,编号,日期,金额,结束日期\nE002,TIME_1Y,A-1,2027-01-05,1000000,2027-02-01\n", encoding="utf-8")
    assert import_item_file(path, filename="items.csv").ok
    item = BusinessItem.objects.get(item_no="A-1")
    assert (item.subject_kind, item.subject_id, item.amount, item.end_date) == (
        SubjectKind.STAFF, small_bank["s2"].pk, Decimal("1000000.00"), datetime.date(2027, 2, 1)
    )
    assert BusinessItem.objects.count() == 2


def test_a_wrong_item_file_names_row_and_column_and_writes_nothing(small_bank):
    result = import_items(
        rows(
            ("E002", "TIME_1Y", "A-1", "2027-01-05", "1000000"),
            ("E999", "TIME_1Y", "A-2", "2027-01-05", "1000000"),
            ("E002", "TIME_1Y", "A-3", "5 January", "1000000"),
            ("E002", "TIME_1Y", "A-4", "2027-01-05", "-3"),
            ("E002", "TIME_1Y", "A-5", "2027-01-05", "100", "2027-01-04"),
            ("E002", "TIME_1Y", "A-1", "2027-01-06", "100"),
            ("E002", "", "A-6", "2027-01-05", "100"),
            ("E002", "TIME_1", "A-7", "2027-01-05", "100"),  # no rule reads this kind: a typo
        )
    )
    assert [(row, column) for row, column, _message in result.errors] == [
        (3, "staff"), (4, "date"), (5, "amount"), (6, "end_date"), (7, "item_no"), (8, "kind"), (9, "kind")
    ]
    assert "TIME_1" in result.errors[-1][2]
    assert not BusinessItem.objects.exists()


def test_the_command_loads_a_file_and_reports_every_problem(small_bank, tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("staff,kind,item_no,date,amount\nE002,POLICY,P-1,2027-01-02,5000\n", encoding="utf-8")
    bad.write_text("staff,kind,item_no,date,amount\nE999,POLICY,P-2,2027-01-02,5000\nE002,POLICY,P-3,x,1\n", encoding="utf-8")
    with translation.override("en"):
        call_command("import_items", str(good))
        assert "1 item loaded" in capsys.readouterr().out
        with pytest.raises(CommandError) as error:
            call_command("import_items", str(bad))
    assert "row 2, staff" in str(error.value) and "row 3, date" in str(error.value)
    assert list(BusinessItem.objects.values_list("item_no", flat=True)) == ["P-1"]
