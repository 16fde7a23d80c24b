"""``manage.py create_api_client NAME [--username U] [--scope-unit CODE] [--read-only] [--rotate-token]``

Creates (or updates) a REST API system account — a user without a password, its ApiClient record
(name, the unit subtree it may write and read, whether it may send figures) and its DRF token —
and prints the token. Run again with the same user name to change the scope or the write right;
the token is kept unless ``--rotate-token`` replaces it (the old one stops working at once).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from branches.api_models import ApiClient
from branches.models import Unit


@dataclass(frozen=True)
class ApiAccount:
    client: ApiClient
    token: str
    created: bool
    token_rotated: bool


def create_api_client(
    *, name: str, username: str = "", scope_unit_code: str = "", can_write_figures: bool = True, rotate_token: bool = False
) -> ApiAccount:
    """Create or update the system account ``username`` (default ``api-<name as a slug>``).

    Raises ValueError naming the field: an empty name, an unknown scope unit, a user name that
    belongs to a person (a user without an ApiClient record).
    """
    name = name.strip()
    if not name:
        raise ValueError(_("name: give the account a name, e.g. 数据仓库日终推送."))
    username = username.strip() or f"api-{slugify(name) or 'client'}"
    scope_unit = None
    if scope_unit_code:
        scope_unit = Unit.objects.filter(code=scope_unit_code.strip()).first()
        if scope_unit is None:
            raise ValueError(_("scope-unit: there is no unit with code “%(code)s”.") % {"code": scope_unit_code})
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(username=username)
        if created:
            # A system account signs in with its token only.
            user.set_unusable_password()
            user.save(update_fields=["password"])
        elif not ApiClient.objects.filter(user=user).exists():
            raise ValueError(
                _("username: “%(username)s” is a person's account, not a system account; choose another name.")
                % {"username": username}
            )
        client, _created = ApiClient.objects.update_or_create(
            user=user, defaults={"name": name, "scope_unit": scope_unit, "can_write_figures": can_write_figures}
        )
        rotated = False
        if rotate_token:
            rotated = Token.objects.filter(user=user).delete()[0] > 0
        token, _made = Token.objects.get_or_create(user=user)
    return ApiAccount(client=client, token=token.key, created=created, token_rotated=rotated)


class Command(BaseCommand):
    help = "Create or update a REST API system account with its token and scope, and print the token."

    def add_arguments(self, parser):
        parser.add_argument("name", help="What the account is, e.g. 数据仓库日终推送")
        parser.add_argument("--username", default="", help="User name (default: api-<name as a slug>)")
        parser.add_argument("--scope-unit", default="", help="Unit code: the token may write and read that subtree only")
        parser.add_argument("--read-only", action="store_true", help="The token may read but not send figures")
        parser.add_argument("--rotate-token", action="store_true", help="Replace the account's token")

    def handle(self, *args, **options):
        try:
            account = create_api_client(
                name=options["name"],
                username=options["username"],
                scope_unit_code=options["scope_unit"],
                can_write_figures=not options["read_only"],
                rotate_token=options["rotate_token"],
            )
        except ValueError as problem:
            raise CommandError(str(problem)) from None
        client = account.client
        scope = client.scope_unit.code if client.scope_unit_id else _("the whole bank")
        self.stdout.write(
            _("%(action)s system account %(username)s (%(name)s): scope %(scope)s, %(right)s.")
            % {
                "action": _("Created") if account.created else _("Updated"),
                "username": client.user.get_username(),
                "name": client.name,
                "scope": scope,
                "right": _("may send figures") if client.can_write_figures else _("read only"),
            }
        )
        if account.token_rotated:
            self.stdout.write(_("The previous token no longer works."))
        self.stdout.write(_("Token: %(token)s") % {"token": account.token})
