"""manage.py create_api_client: a system account with its token and scope, usable at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from branches.api_models import ApiClient
from branches.models import Fact

URL = "/api/figures/"


def figures(api, unit_code, batch_id):
    rows = [{"unit_code": unit_code, "indicator": "DEP", "business_date": "2027-01-04", "value": "5"}]
    return api.post(URL, {"batch_id": batch_id, "rows": rows}, format="json")


def token_client(key) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_the_printed_token_writes_figures_within_the_scope_only(small_bank, indicators, capsys):
    call_command("create_api_client", "数据仓库日终推送", "--username", "dw", "--scope-unit", "R1")
    out = capsys.readouterr().out
    key = out.rsplit("Token: ", 1)[1].strip()
    client = ApiClient.objects.get(user__username="dw")
    assert (client.name, client.scope_unit, client.can_write_figures) == ("数据仓库日终推送", small_bank["r1"], True)
    assert not client.user.has_usable_password()
    api = token_client(key)
    assert figures(api, "B1", "b-1").status_code == 201
    assert figures(api, "B3", "b-2").status_code != 201
    assert list(Fact.objects.values_list("subject_id", flat=True)) == [small_bank["b1"].pk]


def test_running_again_updates_the_scope_and_keeps_the_token_unless_rotated(small_bank, indicators, capsys):
    call_command("create_api_client", "dw feed", "--scope-unit", "R1")
    first = Token.objects.get(user__username="api-dw-feed").key
    call_command("create_api_client", "dw feed", "--read-only")
    client = ApiClient.objects.get(user__username="api-dw-feed")
    assert (client.scope_unit, client.can_write_figures) == (None, False)
    assert Token.objects.get(user=client.user).key == first
    call_command("create_api_client", "dw feed", "--rotate-token")
    assert Token.objects.get(user=client.user).key != first
    assert "no longer works" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "field"),
    [(["x", "--scope-unit", "NOPE"], "scope-unit"), (["  "], "name"), (["x", "--username", "alice"], "username")],
)
def test_bad_input_names_the_option_and_creates_nothing(small_bank, args, field):
    User.objects.create_user(username="alice", password="correct-horse-battery-staple")
    with pytest.raises(CommandError, match=f"^{field}:"):
        call_command("create_api_client", *args)
    assert not ApiClient.objects.exists() and not Token.objects.exists()
