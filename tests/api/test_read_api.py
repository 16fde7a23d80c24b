"""Read endpoints: campaigns, participants, leaderboard, explained scores, figure history, schema.

Access follows the pages: a branch manager (or a token scoped to a unit) sees their subtree's
participants and figures; anything else is 404.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from branches import roles
from tests.api.conftest import DAY, token_client


@pytest.fixture
def planner_api(role_users):
    return token_client(role_users[roles.PLANNER])


@pytest.fixture
def manager_api(role_users):  # manages B1 (region R1); B1's subtree is B1 and O1
    return token_client(role_users[roles.BRANCH_MANAGER])


def test_campaign_list_and_detail(planner_api, campaign):
    assert [c["code"] for c in planner_api.get("/api/campaigns/").json()["results"]] == ["Q1"]
    assert planner_api.get("/api/campaigns/Q1/").json()["start_date"] == "2027-01-01"
    assert planner_api.get("/api/campaigns/NOPE/").status_code == 404


def test_participants_are_limited_to_the_callers_subtree(planner_api, manager_api, scored_campaign):
    everyone = [p["code"] for p in planner_api.get("/api/campaigns/Q1/participants/").json()["results"]]
    assert everyone == ["B1", "B2", "B3"]
    assert [p["code"] for p in manager_api.get("/api/campaigns/Q1/participants/").json()["results"]] == ["B1"]


def test_scoped_token_sees_its_region_only(make_system_account, small_bank, scored_campaign):
    east = make_system_account("east", scope_unit=small_bank["r1"])
    assert [p["code"] for p in east.get("/api/campaigns/Q1/participants/").json()["results"]] == ["B1", "B2"]
    b3 = scored_campaign["b3"].pk
    assert east.get(f"/api/campaigns/Q1/participants/{b3}/scores/", {"date": DAY}).status_code == 404


def test_leaderboard_by_group_and_paginated(planner_api, scored_campaign):
    board = planner_api.get("/api/campaigns/Q1/leaderboard/", {"date": DAY, "ranking": "overall", "page_size": 2}).json()
    assert [(r["code"], r["rank"]) for r in board["results"]] == [("B1", 1), ("B2", 2)] and board["has_next"]
    page2 = planner_api.get("/api/campaigns/Q1/leaderboard/", {"date": DAY, "ranking": "overall", "page_size": 2, "page": 2}).json()
    assert [r["code"] for r in page2["results"]] == ["B3"] and not page2["has_next"]
    west = planner_api.get("/api/campaigns/Q1/leaderboard/", {"date": DAY, "ranking": "by_region", "group": "west"}).json()
    assert [(r["code"], r["rank"]) for r in west["results"]] == [("B3", 1)]
    assert planner_api.get("/api/campaigns/Q1/leaderboard/", {"date": DAY, "ranking": "nope"}).status_code == 404
    assert planner_api.get("/api/campaigns/Q1/leaderboard/", {"date": DAY, "ranking": "by_region", "group": "nope"}).status_code == 404
    assert planner_api.get("/api/campaigns/Q1/leaderboard/", {"date": "soon"}).status_code == 400


def test_participant_scores_explain_every_point(manager_api, scored_campaign):
    b1 = scored_campaign["b1"].pk
    scores = manager_api.get(f"/api/campaigns/Q1/participants/{b1}/scores/", {"date": DAY}).json()
    assert Decimal(scores["total_points"]) == Decimal(90)
    (line,) = scores["rules"]
    assert line["code"] == "dep" and Decimal(line["points"]) == Decimal(90) and line["explanation"]
    assert scores["ranks"]["overall"]["rank"] == 1


def test_another_branchs_participant_is_not_found_for_a_manager(manager_api, scored_campaign):
    b2 = scored_campaign["b2"].pk
    assert manager_api.get(f"/api/campaigns/Q1/participants/{b2}/scores/", {"date": DAY}).status_code == 404


def test_figure_history_shows_every_version_with_its_source(make_system_account, manager_api, campaign):
    api = make_system_account("dw")
    for batch_id, value in (("b-1", "100"), ("b-2", "120")):
        api.post("/api/figures/", {"batch_id": batch_id, "rows": [{"unit_code": "B1", "indicator": "DEP_BAL", "business_date": "2027-01-05", "value": value}]}, format="json")
    history = manager_api.get("/api/figures/history/", {"unit_code": "B1", "indicator": "存款余额"}).json()
    assert [(h["value"], h["source_reference"], h["is_current"]) for h in history] == [
        ("120.0000", "b-2", True), ("100.0000", "b-1", False)
    ]
    assert manager_api.get("/api/figures/history/", {"unit_code": "B2", "indicator": "DEP_BAL"}).status_code == 404
    assert manager_api.get("/api/figures/history/", {"employee_no": "E003", "indicator": "DEP_BAL"}).status_code == 404
    assert manager_api.get("/api/figures/history/", {"employee_no": "E001", "indicator": "DEP_BAL"}).status_code == 200


def test_unauthenticated_reads_are_refused(client, campaign):
    assert client.get("/api/campaigns/").status_code in (401, 403)


def test_schema_and_offline_docs_are_served(planner_api, client, role_users):
    schema = planner_api.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/figures/" in schema.content
    client.force_login(role_users[roles.PLANNER])
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    body = docs.content.decode()
    assert "swagger-ui" in body and "cdn.jsdelivr" not in body and "unpkg" not in body
