import pytest
from django.urls import reverse

from branches import roles


def test_login_page_is_chinese_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="zh-hans"' in body
    assert "登录" in body


def test_login_page_in_english_on_request(client, db):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in response.content.decode()


def test_home_requires_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "expected_heading"),
    [
        (roles.PLANNER, "计划"),
        (roles.BRANCH_MANAGER, "我的机构"),
        (roles.FINANCE, "奖励发放"),
        (roles.STAFF, "我的业绩"),
        (roles.VIEWER, "排行榜"),
    ],
)
def test_each_role_gets_its_own_home_page(client, role_users, role, expected_heading):
    client.force_login(role_users[role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert expected_heading in response.content.decode()
    assert f"branches/home_{role}.html" in [t.name for t in response.templates]


def test_manager_home_counts_only_their_scope(client, role_users):
    client.force_login(role_users[roles.BRANCH_MANAGER])
    response = client.get(reverse("home"))
    assert response.context["visible_staff_count"] == 3
    assert response.context["scope_unit"].code == "B1"


def test_login_with_a_password_logs_in(client, role_users):
    response = client.post(reverse("login"), {"username": "planner", "password": "correct-horse-battery-staple"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_wrong_password_is_told_in_chinese(client, role_users):
    response = client.post(reverse("login"), {"username": "planner", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名和密码不匹配" in response.content.decode()


def test_admin_is_labelled_in_chinese(admin_client):
    response = admin_client.get("/admin/branches/unit/")
    assert response.status_code == 200
    assert "机构" in response.content.decode()


def test_health_page_reports_database_and_cache(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
