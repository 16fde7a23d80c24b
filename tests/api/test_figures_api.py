"""POST /api/figures/: token scope, batches all or nothing, idempotent batch ids, row errors."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from branches.models import Fact, FactVersion, ImportBatch
from tests.api.conftest import token_client

URL = "/api/figures/"
# Hypothesis runs many examples inside one test (one database transaction): fresh names each.
ACCOUNTS = itertools.count()


def batch(batch_id, *rows):
    return {"batch_id": batch_id, "rows": list(rows)}


def row(code="B1", indicator="DEP_BAL", day="2027-01-05", value="100.50", **extra):
    return {"unit_code": code, "indicator": indicator, "business_date": day, "value": value, **extra}


def test_batch_is_merged_with_history_and_answers_the_counts(make_system_account, campaign):
    api = make_system_account("dw")
    response = api.post(URL, batch("2027-01-05-a", row(), row("B2", value="7"), row(indicator="存款余额", code="B3")), format="json")
    assert response.status_code == 201, response.json()
    assert response.json() | {"errors": []} == {
        "batch_id": "2027-01-05-a", "status": "merged", "replayed": False, "rows": 3, "new": 3, "changed": 0,
        "unchanged": 0, "error_count": 0, "errors": [],
    }
    assert Fact.objects.count() == 3
    assert ImportBatch.objects.get(kind="api").reference == "2027-01-05-a"


def test_same_batch_id_twice_writes_once_and_replays_the_answer(make_system_account, campaign):
    api = make_system_account("dw")
    first = api.post(URL, batch("b-1", row()), format="json")
    second = api.post(URL, batch("b-1", row()), format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["replayed"] is True and second.json()["new"] == 1
    assert ImportBatch.objects.filter(kind="api", status="merged").count() == 1


def test_same_batch_id_with_other_figures_is_a_conflict(make_system_account, campaign):
    api = make_system_account("dw")
    api.post(URL, batch("b-1", row()), format="json")
    response = api.post(URL, batch("b-1", row(value="999")), format="json")
    assert response.status_code == 409
    assert Fact.objects.get().value == Decimal("100.5")


def test_a_correction_in_a_new_batch_keeps_the_old_version(make_system_account, campaign):
    api = make_system_account("dw")
    api.post(URL, batch("b-1", row()), format="json")
    assert api.post(URL, batch("b-2", row(value="120")), format="json").json()["changed"] == 1
    assert FactVersion.objects.get().value == Decimal("100.5")


def test_one_bad_row_rejects_the_whole_batch_with_errors_per_row(make_system_account, campaign):
    api = make_system_account("dw")
    response = api.post(
        URL,
        batch(
            "b-1", row(), row("NOPE"), row(indicator="POS", value="-1"), row(indicator="COLL_RATE", value="1.2"),
            row(indicator="XX"), row(day="2020-01-01"), row(value="abc"), row(code=""),
        ),
        format="json",
    )
    assert response.status_code == 400
    errors = [(e["row"], e["column"]) for e in response.json()["errors"]]
    assert errors == [
        (2, "unit_code"), (3, "value"), (4, "value"), (5, "indicator"), (6, "business_date"), (7, "value"), (8, "unit_code")
    ]
    assert Fact.objects.count() == 0
    # The id of a rejected batch stays free for the corrected batch.
    assert api.post(URL, batch("b-1", row()), format="json").status_code == 201


def test_same_key_twice_with_different_values_in_one_batch_is_an_error(make_system_account, campaign):
    response = make_system_account("dw").post(URL, batch("b", row(value="1"), row(value="2")), format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["row"] == 2


def test_token_scope_limits_the_units_it_may_write(make_system_account, small_bank, campaign):
    api = make_system_account("east", scope_unit=small_bank["r1"])
    refused = api.post(URL, batch("b", row("B1"), row("B3")), format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["row"] == 2
    assert api.post(URL, batch("b", row("B1"), row("O1"), {"employee_no": "E002", "indicator": "POS", "business_date": "2027-01-05", "value": 2}), format="json").status_code == 201


def test_a_row_naming_both_a_unit_and_a_staff_member_is_refused(make_system_account, campaign):
    # The bulk path refuses such a row (two_subjects); the API once took it as the person's figure.
    both = row(employee_no="E002")
    response = make_system_account("dw").post(URL, batch("b", row("B2"), both), format="json")
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "unit_code / employee_no")]
    assert "not both" in response.json()["errors"][0]["message"]
    assert Fact.objects.count() == 0


def test_a_batch_of_10000_rows_is_accepted_whole(make_system_account, campaign, small_bank):
    from branches.models import Position, Staff

    Staff.objects.bulk_create(
        [Staff(employee_no=f"E{n:06d}", name="客户经理", unit=small_bank["b1"], position=Position.STAFF) for n in range(2000)]
    )
    rows = [
        {"employee_no": f"E{n:06d}", "indicator": "存款余额", "business_date": f"2027-01-{day:02d}", "value": "123456789.50"}
        for n in range(2000)
        for day in range(5, 10)
    ]
    response = make_system_account("dw").post(URL, batch("big", *rows), format="json")
    assert response.status_code == 201, response.content[:300]
    assert (response.json()["rows"], response.json()["new"]) == (10_000, 10_000)
    assert Fact.objects.count() == 10_000


def test_batches_above_10000_rows_are_refused(make_system_account, campaign):
    response = make_system_account("dw").post(URL, batch("big", *[row()] * 10_001), format="json")
    assert response.status_code == 400 and "rows" in response.json()


@pytest.mark.parametrize(("role", "status"), [("branch_manager", 403), ("viewer", 403), ("planner", 201)])
def test_people_need_the_planner_role_to_send_figures(role_users, campaign, role, status):
    response = token_client(role_users[role]).post(URL, batch("b", row()), format="json")
    assert response.status_code == status


def test_anonymous_and_read_only_accounts_are_refused(client, make_system_account, campaign):
    assert client.post(URL, batch("b", row()), content_type="application/json").status_code in (401, 403)
    assert make_system_account("ro", can_write=False).post(URL, batch("b", row()), format="json").status_code == 403


def test_figure_batches_are_throttled(make_system_account, campaign, settings):
    settings.API_FIGURES_THROTTLE_RATE = "2/min"
    api = make_system_account("fast")
    cache.clear()
    codes = [api.post(URL, batch(f"b{i}", row(value=str(i))), format="json").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    cache.clear()


CODES = st.sampled_from(["B1", "B2", "B3", "O1", "NOPE", "", None, 7, "b1"])
INDICATORS = st.sampled_from(["DEP_BAL", "POS", "COLL_RATE", "存款余额", "??", None, 3])
DAYS = st.one_of(st.dates().map(str), st.sampled_from(["2027-01-05", "2027/1/6", "nope", "", None]), st.integers())
VALUES = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8), st.none()
)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({"unit_code": CODES, "indicator": INDICATORS, "business_date": DAYS, "value": VALUES}), min_size=1, max_size=8))
def test_random_rows_never_crash_the_api(make_system_account, campaign, rows):
    cache.clear()
    api = make_system_account(f"h{next(ACCOUNTS)}")
    before = Fact.objects.count()
    response = api.post(URL, {"batch_id": "h", "rows": rows}, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert Fact.objects.count() == before


# SQLite keeps a decimal as a double: exact to 15 significant digits only (PostgreSQL: all 20).
EXACT_LIMIT = 10**10 if connection.vendor == "sqlite" else 10**15


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.decimals(min_value=-EXACT_LIMIT, max_value=EXACT_LIMIT, places=4), min_size=1, max_size=3, unique=True))
def test_valid_rows_round_trip_exactly(make_system_account, campaign, values):
    cache.clear()
    api = make_system_account(f"r{next(ACCOUNTS)}")
    rows = [row(code, value=str(value)) for code, value in zip(["B1", "B2", "B3"], values, strict=False)]
    response = api.post(URL, {"batch_id": "rt", "rows": rows}, format="json")
    assert response.status_code == 201, response.json()
    stored = dict(Fact.objects.filter(business_date="2027-01-05").values_list("subject_id", "value"))
    from branches.models import Unit

    ids = dict(Unit.objects.values_list("code", "pk"))
    for code, value in zip(["B1", "B2", "B3"], values, strict=False):
        assert stored[ids[code]] == value


def test_row_errors_follow_the_callers_language(make_system_account, campaign):
    api = make_system_account("zh")
    response = api.post(URL, batch("b", row(indicator="POS", value="-1")), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["errors"][0]["message"] == "数量不能为负数（-1）"
