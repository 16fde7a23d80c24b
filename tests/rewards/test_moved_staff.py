"""A staff member who moves: where their reward belongs, and which managers see it on the statement.

Small bank: B1 (under R1) and B3 (under R2); E002 王芳 starts the quarter at B1. Figures dated
before a move stay with the old unit, so a reward computed on a window belongs to the unit the
person was assigned to for most of it (ties: the later); a unit's result handed to its staff
belongs to that unit. A branch manager sees on a person's statement the lines that belong to
their subtree, and only those.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from branches import roles
from branches import services as org
from branches.models import SubjectKind
from rewards.models import PeriodKind, RewardRule
from tests.conftest import make_user
from tests.rewards.conftest import BASE_DAY, JAN_END, Q1_END, Q1_START, pay, put_facts

FEB_1, MAR_1 = datetime.date(2027, 2, 1), datetime.date(2027, 3, 1)


def pos_rule(scheme, **params):
    """100 per POS the staff member placed (a staff fact summed over the window)."""
    return RewardRule.objects.create(
        scheme=scheme, code="POS", name="POS计件", kind="piece_rate",
        params={"figure": {"indicator": "POS", "measure": "sum", "level": "staff"}, "rate": "100", **params},
    )


def sheet_units(response) -> list[str]:
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True))["机构号"] for row in rows[1:]]


@pytest.fixture
def managers(role_users, small_bank):
    return {"B1": role_users[roles.BRANCH_MANAGER], "B3": make_user("manager_b3", roles.BRANCH_MANAGER, scope_unit=small_bank["b3"])}


def test_the_old_branchs_manager_sees_what_was_earned_there_and_the_new_one_does_not(
    client, scheme, finance, small_bank, managers
):
    s2 = small_bank["s2"]
    put_facts("POS", [(s2, JAN_END, 3)], level=SubjectKind.STAFF)
    pos_rule(scheme)
    january = pay(scheme, finance, JAN_END)
    assert [(line.unit_code, line.amount) for line in january.lines.all()] == [("B1", Decimal("300.00"))]
    org.move_staff(s2, to_unit=small_bank["b3"], on=FEB_1)
    url = reverse("rewards:staff_statement", args=[s2.pk])

    client.force_login(managers["B1"])  # s2 is no longer theirs, but January was earned at B1
    assert [line.pk for line in client.get(url).context["lines"]] == [january.lines.get().pk]
    assert sheet_units(client.get(url + "?format=xlsx")) == ["B1"]

    client.force_login(managers["B3"])  # s2 is theirs now: the statement opens, without January
    page = client.get(url)
    assert page.status_code == 200 and list(page.context["lines"]) == []
    assert "300.00" not in page.content.decode()
    assert sheet_units(client.get(url + "?format=xlsx")) == []

    client.force_login(finance["maker"])  # the whole bank sees everything
    assert len(client.get(url).context["lines"]) == 1


def test_a_manager_who_never_had_the_person_is_refused(client, scheme, finance, small_bank, managers):
    client.force_login(managers["B3"])
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s2"].pk])).status_code == 403


@pytest.mark.parametrize(
    ("moved_on", "belongs_to"),
    [(MAR_1, "B1"), (FEB_1, "B3")],  # 59 of the quarter's 90 days at B1; or 31 at B1, 59 at B3
)
def test_a_quarter_reward_belongs_to_the_unit_of_most_of_the_quarter(scheme, finance, small_bank, moved_on, belongs_to):
    s2 = small_bank["s2"]
    put_facts("POS", [(s2, JAN_END, 3), (s2, Q1_END, 2)], level=SubjectKind.STAFF)
    pos_rule(scheme, payment="at_end")
    org.move_staff(s2, to_unit=small_bank["b3"], on=moved_on)
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert [(line.unit_code, line.amount) for line in quarter.lines.all()] == [(belongs_to, Decimal("500.00"))]


@pytest.mark.parametrize(("moved_on", "paid"), [(MAR_1, []), (FEB_1, [("B3", Decimal("500.00"))])])
def test_a_unit_wide_condition_reads_the_unit_the_reward_belongs_to(scheme, finance, small_bank, moved_on, paid):
    """Template A's 退钱交荣誉: staff of a falsified branch lose their POS reward. B1 is found
    falsified; E002 spent most of the quarter at B1 (moved 1 March) and loses it, or most of it at
    B3 (moved 1 February) and keeps it, filed under B3."""
    s2, b1, b3 = small_bank["s2"], small_bank["b1"], small_bank["b3"]
    put_facts("POS", [(s2, JAN_END, 3), (s2, Q1_END, 2)], level=SubjectKind.STAFF)
    put_facts("FALSIFIED", [(b1, Q1_END, 1), (b3, Q1_END, 0)])
    pos_rule(
        scheme, payment="at_end",
        conditions=[{"figure": {"unit_of": {"indicator": "FALSIFIED"}}, "op": "==", "value": "0"}],
    )
    org.move_staff(s2, to_unit=b3, on=moved_on)
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert [(line.unit_code, line.amount) for line in quarter.lines.filter(employee_no="E002")] == paid


def test_a_units_result_handed_to_its_staff_belongs_to_that_unit(client, scheme, finance, small_bank, managers):
    """B1 met its deposit plan: 200 to every employee of B1 in post on 31 March. E003 came from B3
    on 1 March (most of the quarter at B3): the line is B1's money, seen by B1's manager only."""
    s3, b1 = small_bank["s3"], small_bank["b1"]
    put_facts("DEP", [(b1, BASE_DAY, 0), (b1, Q1_END, 1_000_000)])
    RewardRule.objects.create(
        scheme=scheme, code="ALL", name="全员奖", kind="threshold_bands",
        params={
            "figure": {"indicator": "DEP", "measure": "increase"}, "bands": [{"from": "1000000", "amount": "200"}],
            "beneficiary": "every_staff", "payment": "at_end",
        },
    )
    org.move_staff(s3, to_unit=b1, on=MAR_1)
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert {(line.employee_no, line.unit_code) for line in quarter.lines.all()} == {
        ("E001", "B1"), ("E002", "B1"), ("E003", "B1")
    }
    url = reverse("rewards:staff_statement", args=[s3.pk])
    client.force_login(managers["B1"])
    assert [line.unit_code for line in client.get(url).context["lines"]] == ["B1"]
    client.force_login(managers["B3"])
    assert list(client.get(url).context["lines"]) == []
