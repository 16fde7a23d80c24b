"""A payout run goes draft → reviewed → approved → locked, by finance only, with four eyes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from branches import roles
from rewards import services
from rewards.models import PayoutRun, PeriodKind, RunState
from tests.rewards.conftest import JAN_END, Q1_START


def make_run(scheme, user):
    return services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.MONTH, period_start=Q1_START, period_end=JAN_END, by=user
    )


def test_run_moves_through_states_recording_who_and_when(scheme, finance):
    run = make_run(scheme, finance["maker"])
    assert run.state == RunState.DRAFT and run.created_by == finance["maker"]
    run = services.review_payout_run(run, by=finance["maker"])
    assert (run.state, run.reviewed_by) == (RunState.REVIEWED, finance["maker"]) and run.reviewed_at
    run = services.approve_payout_run(run, by=finance["checker"])
    assert (run.state, run.approved_by) == (RunState.APPROVED, finance["checker"]) and run.approved_at
    run = services.lock_payout_run(run, by=finance["checker"])
    assert (run.state, run.locked_by) == (RunState.LOCKED, finance["checker"]) and run.locked_at


def test_maker_may_not_approve_own_run(scheme, finance):
    run = services.review_payout_run(make_run(scheme, finance["maker"]), by=finance["checker"])
    with pytest.raises(services.PayoutError) as refused:
        services.approve_payout_run(run, by=finance["maker"])
    assert refused.value.code == "four_eyes"
    assert PayoutRun.objects.get(pk=run.pk).state == RunState.REVIEWED


def test_database_refuses_maker_as_approver(scheme, finance):
    run = make_run(scheme, finance["maker"])
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutRun.objects.filter(pk=run.pk).update(approved_by=finance["maker"])


def test_steps_must_follow_in_order(scheme, finance):
    run = make_run(scheme, finance["maker"])
    with pytest.raises(services.PayoutError):
        services.approve_payout_run(run, by=finance["checker"])
    with pytest.raises(services.PayoutError):
        services.lock_payout_run(run, by=finance["checker"])


@pytest.mark.parametrize("role", [roles.PLANNER, roles.BRANCH_MANAGER, roles.STAFF, roles.VIEWER])
def test_only_finance_may_make_or_approve_runs(scheme, finance, role_users, role):
    with pytest.raises(PermissionDenied):
        make_run(scheme, role_users[role])
    run = services.review_payout_run(make_run(scheme, finance["maker"]), by=finance["maker"])
    with pytest.raises(PermissionDenied):
        services.approve_payout_run(run, by=role_users[role])


def test_next_run_waits_until_the_open_run_is_locked(scheme, finance):
    make_run(scheme, finance["maker"])
    with pytest.raises(services.PayoutError) as refused:
        make_run(scheme, finance["checker"])
    assert refused.value.code == "open_run"


def test_returned_run_loses_its_sign_offs(scheme, finance):
    run = services.review_payout_run(make_run(scheme, finance["maker"]), by=finance["checker"])
    run = services.approve_payout_run(run, by=finance["checker"])
    run = services.return_payout_run_to_draft(run, by=finance["maker"])
    assert run.state == RunState.DRAFT and run.approved_by is None and run.reviewed_by is None


def test_run_may_not_end_before_the_latest_run(scheme, finance):
    from tests.rewards.conftest import FEB_END, settle

    settle(
        services.create_payout_run(
            scheme=scheme,
            period_kind=PeriodKind.MONTH,
            period_start=Q1_START,
            period_end=FEB_END,
            by=finance["maker"],
        ),
        finance,
    )
    with pytest.raises(services.PayoutError) as refused:
        make_run(scheme, finance["maker"])
    assert refused.value.code == "period_end"


def test_recalculating_a_draft_replaces_its_lines(scheme, finance, small_bank):
    from decimal import Decimal

    from rewards.models import RewardRule
    from tests.rewards.conftest import BASE_DAY, put_facts

    put_facts("DEP", [(small_bank["b1"], BASE_DAY, 0), (small_bank["b1"], JAN_END, 2_000_000)])
    RewardRule.objects.create(
        scheme=scheme,
        code="P",
        name="计件",
        kind="piece_rate",
        params={"figure": {"indicator": "DEP", "measure": "increase"}, "rate": "1000", "per": "1000000"},
    )
    run = make_run(scheme, finance["maker"])
    put_facts("DEP", [(small_bank["b1"], JAN_END, 3_000_000)])  # a late figure before review
    run = services.recalculate_payout_run(run, by=finance["maker"])
    assert [line.amount for line in run.lines.all()] == [Decimal("3000.00")]


@pytest.fixture
def locked_january(scheme, finance, small_bank):
    """A locked January run paying B1 1,000 (piece rate), and a third finance user."""
    from rewards.models import RewardRule
    from tests.rewards.conftest import BASE_DAY, pay, put_facts

    put_facts("DEP", [(small_bank["b1"], BASE_DAY, 0), (small_bank["b1"], JAN_END, 1_000_000)])
    RewardRule.objects.create(
        scheme=scheme,
        code="P",
        name="计件",
        kind="piece_rate",
        params={"figure": {"indicator": "DEP", "measure": "increase"}, "rate": "1000", "per": "1000000"},
    )
    return pay(scheme, finance, JAN_END)


def make_correction(scheme, user):
    return services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.CORRECTION, period_start=Q1_START, period_end=JAN_END, by=user
    )


def test_whoever_added_a_line_may_not_approve_the_run(scheme, finance, locked_january):
    from tests.conftest import make_user

    run = make_correction(scheme, finance["maker"])
    services.add_adjustment_line(
        run, original=locked_january.lines.get(), amount="99999", reason="bonus", by=finance["checker"]
    )
    run = services.review_payout_run(run, by=finance["maker"])
    with pytest.raises(services.PayoutError) as refused:
        services.approve_payout_run(run, by=finance["checker"])
    assert refused.value.code == "four_eyes"
    assert PayoutRun.objects.get(pk=run.pk).state == RunState.REVIEWED
    # Somebody who neither made nor changed it may.
    third = make_user("finance_third", roles.FINANCE)
    assert services.approve_payout_run(run, by=third).state == RunState.APPROVED


def test_whoever_recalculated_a_run_may_not_approve_it(scheme, finance, locked_january):
    run = make_correction(scheme, finance["maker"])
    run = services.recalculate_payout_run(run, by=finance["checker"])
    run = services.review_payout_run(run, by=finance["maker"])
    with pytest.raises(services.PayoutError) as refused:
        services.approve_payout_run(run, by=finance["checker"])
    assert refused.value.code == "four_eyes"


def test_a_run_records_everyone_who_changed_it(scheme, finance, locked_january):
    from rewards.models import RunChange

    run = make_correction(scheme, finance["maker"])
    services.recalculate_payout_run(run, by=finance["checker"])
    services.add_adjustment_line(
        run, original=locked_january.lines.get(), amount="-10", reason="typo", by=finance["maker"]
    )
    changes = list(run.changes.order_by("id").values_list("by__username", "action"))
    assert changes == [
        ("finance", RunChange.Action.MADE),
        ("finance_checker", RunChange.Action.RECALCULATED),
        ("finance", RunChange.Action.LINE_ADDED),
    ]


def test_sending_a_run_back_records_who_when_and_the_sign_offs_it_cleared(scheme, finance):
    from rewards.models import RunChange

    run = services.review_payout_run(make_run(scheme, finance["maker"]), by=finance["maker"])
    run = services.approve_payout_run(run, by=finance["checker"])
    reviewed_at, approved_at = run.reviewed_at, run.approved_at
    run = services.return_payout_run_to_draft(run, by=finance["checker"])
    assert (run.state, run.reviewed_by, run.approved_by) == (RunState.DRAFT, None, None)
    change = run.changes.order_by("id").last()
    assert (change.action, change.by) == (RunChange.Action.RETURNED, finance["checker"])
    assert change.details == {
        "from": "approved",
        "reviewed": {"by": "finance", "at": reviewed_at.isoformat()},
        "approved": {"by": "finance_checker", "at": approved_at.isoformat()},
    }
    # Sending back is not a change of the lines: the checker may approve the run once reviewed again.
    run = services.review_payout_run(run, by=finance["maker"])
    assert services.approve_payout_run(run, by=finance["checker"]).state == RunState.APPROVED


def test_the_run_page_shows_a_run_sent_back(client, scheme, finance):
    from django.urls import reverse

    run = services.review_payout_run(make_run(scheme, finance["maker"]), by=finance["maker"])
    services.return_payout_run_to_draft(run, by=finance["checker"])
    client.force_login(finance["maker"])
    page = client.get(reverse("rewards:run", args=[run.pk]))
    returned = list(page.context["changes"])[-1]
    assert returned.details_text() and returned.details_text() in page.content.decode()
    assert "finance" in returned.details_text()  # whose review it cleared


@pytest.mark.parametrize("edit", ["rule_saved", "rule_updated_in_sql", "rule_added", "budget"])
def test_a_run_whose_rules_changed_after_its_calculation_must_be_recalculated_before_approval(
    client, scheme, finance, locked_january, edit
):
    from django.urls import reverse

    from rewards.models import RewardRule

    run = services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.MONTH, period_start=JAN_END.replace(day=1), period_end=JAN_END,
        by=finance["maker"],
    )
    rule = scheme.rules.get()
    if edit == "rule_saved":  # what the admin's inline does
        rule.params = {**rule.params, "rate": "2000"}
        rule.save()
    elif edit == "rule_updated_in_sql":
        RewardRule.objects.filter(pk=rule.pk).update(name="计件（改）")
    elif edit == "rule_added":
        RewardRule.objects.create(scheme=scheme, code="Q", name="q", kind="piece_rate", params=rule.params)
    else:
        scheme.budget = 10
        scheme.save()
    client.force_login(finance["maker"])
    assert client.get(reverse("rewards:run", args=[run.pk])).context["rules_changed"] is True
    run = services.review_payout_run(run, by=finance["maker"])
    with pytest.raises(services.PayoutError) as refused:
        services.approve_payout_run(run, by=finance["checker"])
    assert refused.value.code == "rules_changed"
    run = services.return_payout_run_to_draft(run, by=finance["checker"])
    run = services.recalculate_payout_run(run, by=finance["maker"])
    run = services.review_payout_run(run, by=finance["maker"])
    assert services.approve_payout_run(run, by=finance["checker"]).state == RunState.APPROVED
