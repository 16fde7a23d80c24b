"""The five roles, as Django groups with permissions, and how to ask which a user holds.

Role names are stable identifiers used in code; their Chinese labels come from gettext.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    key: str
    label: str
    # (app_label, codename) pairs; the permissions must exist (run after migrate).
    permissions: tuple[tuple[str, str], ...]


PLANNER = "planner"
BRANCH_MANAGER = "branch_manager"
FINANCE = "finance"
STAFF = "staff"
VIEWER = "viewer"

_ORG_VIEW = (
    ("branches", "view_unit"),
    ("branches", "view_staff"),
    ("branches", "view_staffassignment"),
)
_ORG_EDIT = (
    ("branches", "add_unit"),
    ("branches", "change_unit"),
    ("branches", "add_staff"),
    ("branches", "change_staff"),
    ("branches", "add_staffassignment"),
    ("branches", "change_staffassignment"),
)

ROLES: dict[str, Role] = {
    PLANNER: Role(PLANNER, _("Head-office planner"), _ORG_VIEW + _ORG_EDIT),
    BRANCH_MANAGER: Role(BRANCH_MANAGER, _("Branch manager"), _ORG_VIEW),
    FINANCE: Role(FINANCE, _("Finance"), _ORG_VIEW),
    STAFF: Role(STAFF, _("Staff member"), ()),
    VIEWER: Role(VIEWER, _("Viewer"), (("branches", "view_unit"),)),
}

# When a user holds several roles, the home page follows the first in this order.
ROLE_PRECEDENCE = (PLANNER, FINANCE, BRANCH_MANAGER, STAFF, VIEWER)


def ensure_role_groups() -> dict[str, Group]:
    """Create or update one Django group per role with exactly its permissions. Idempotent."""
    groups = {}
    for role in ROLES.values():
        group, _created = Group.objects.get_or_create(name=role.key)
        wanted = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in role.permissions
        ]
        group.permissions.set(wanted)
        groups[role.key] = group
    return groups


def roles_of(user) -> set[str]:
    """The role keys a user holds (superusers hold the planner role implicitly)."""
    if not user.is_authenticated:
        return set()
    held = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if user.is_superuser:
        held.add(PLANNER)
    return held


def primary_role(user) -> str | None:
    held = roles_of(user)
    return next((key for key in ROLE_PRECEDENCE if key in held), None)


def grant_role(user, role_key: str) -> None:
    if role_key not in ROLES:
        raise ValueError(f"unknown role {role_key!r}; expected one of {sorted(ROLES)}")
    user.groups.add(Group.objects.get_or_create(name=role_key)[0])
