"""Shared fixtures: a small bank (head office, two regions, branches, outlets, staff) and users per role."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from branches import roles, services
from branches.models import Position, UnitKind, UserProfile

QUARTER_START = datetime.date(2027, 1, 1)


def pytest_report_header(config):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "Redis" if settings.REDIS_URL else "in-process (eager)"
    if engine == "sqlite3":
        return (
            f"kaimenhong: database SQLite, tasks {broker}; "
            "set DATABASE_URL and REDIS_URL to run on PostgreSQL and Redis as CI does"
        )
    return f"kaimenhong: database {engine}, tasks {broker}"


@pytest.fixture
def small_bank(db):
    """Head office HO with regions R1 (branches B1, B2; outlet O1 under B1) and R2 (branch B3)."""
    ho = services.create_unit(code="HO", name="县联社", kind=UnitKind.HEAD_OFFICE)
    r1 = services.create_unit(code="R1", name="东片区", kind=UnitKind.REGION, parent=ho)
    r2 = services.create_unit(code="R2", name="西片区", kind=UnitKind.REGION, parent=ho)
    b1 = services.create_unit(code="B1", name="城关信用社", kind=UnitKind.BRANCH, parent=r1, category="直管机构")
    b2 = services.create_unit(code="B2", name="城东信用社", kind=UnitKind.BRANCH, parent=r1, category="直管机构")
    b3 = services.create_unit(code="B3", name="西镇信用社", kind=UnitKind.BRANCH, parent=r2, category="直管机构")
    o1 = services.create_unit(code="O1", name="城关储蓄所", kind=UnitKind.OUTLET, parent=b1, category="储蓄所")
    staff = {
        "s1": services.hire_staff(employee_no="E001", name="张伟", unit=b1, position=Position.HEAD, on=QUARTER_START),
        "s2": services.hire_staff(employee_no="E002", name="王芳", unit=b1, position=Position.ACCOUNT_MANAGER, on=QUARTER_START),
        "s3": services.hire_staff(employee_no="E003", name="李娜", unit=b3, position=Position.ACCOUNT_MANAGER, on=QUARTER_START),
        "s4": services.hire_staff(employee_no="E004", name="刘洋", unit=o1, position=Position.TELLER, on=QUARTER_START),
    }
    return {"ho": ho, "r1": r1, "r2": r2, "b1": b1, "b2": b2, "b3": b3, "o1": o1, **staff}


def make_user(username: str, role: str | None, *, staff=None, scope_unit=None) -> User:
    user = User.objects.create_user(username=username, password="correct-horse-battery-staple")
    if role:
        roles.grant_role(user, role)
    UserProfile.objects.create(user=user, staff=staff, scope_unit=scope_unit)
    return user


@pytest.fixture
def role_users(small_bank):
    roles.ensure_role_groups()
    return {
        roles.PLANNER: make_user("planner", roles.PLANNER),
        roles.BRANCH_MANAGER: make_user("manager_b1", roles.BRANCH_MANAGER, staff=small_bank["s1"]),
        roles.FINANCE: make_user("finance", roles.FINANCE),
        roles.STAFF: make_user("staff_e002", roles.STAFF, staff=small_bank["s2"]),
        roles.VIEWER: make_user("viewer", roles.VIEWER),
    }


def require_service(name: str) -> str | None:
    """The service URL from the environment, or skip — but fail when CI requires services."""
    import os

    url = os.environ.get(name)
    if not url:
        if os.environ.get("KMH_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{name} is not set but KMH_REQUIRE_SERVICES=1: CI must run on the real services")
        pytest.skip(f"{name} not set: runs on the real service in CI")
    return url


@pytest.fixture
def redis_url():
    return require_service("REDIS_URL")


@pytest.fixture
def queued_recomputes(monkeypatch):
    """(campaign id, day) of every ``recompute_campaign_day`` task queued, recorded instead of sent:
    the tests that use it check which days a change queues, not what the worker then computes."""
    from scoring.tasks import recompute_campaign_day

    queued = []
    monkeypatch.setattr(recompute_campaign_day, "delay", lambda campaign_id, day: queued.append((campaign_id, day)))
    return queued
