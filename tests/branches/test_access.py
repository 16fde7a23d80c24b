from branches import access, roles, services
from branches.models import Position, UnitKind
from tests.conftest import QUARTER_START, make_user


def test_head_office_roles_see_the_whole_bank(role_users):
    for role in (roles.PLANNER, roles.FINANCE, roles.VIEWER):
        assert access.visible_units(role_users[role]).count() == 7


def test_branch_manager_sees_only_their_branch_subtree(role_users):
    manager = role_users[roles.BRANCH_MANAGER]
    assert sorted(access.visible_units(manager).values_list("code", flat=True)) == ["B1", "O1"]
    assert sorted(access.visible_staff(manager).values_list("employee_no", flat=True)) == ["E001", "E002", "E004"]


def test_branch_manager_cannot_see_another_branchs_staff(role_users, small_bank):
    manager = role_users[roles.BRANCH_MANAGER]
    assert not access.can_see_staff(manager, small_bank["s3"])
    assert not access.can_see_unit(manager, small_bank["b3"])


def test_a_manager_of_b1_does_not_see_b10_whose_code_starts_alike(role_users, small_bank):
    b10 = services.create_unit(code="B10", name="十号社", kind=UnitKind.BRANCH, parent=small_bank["r1"])
    services.hire_staff(employee_no="E010", name="赵敏", unit=b10, position=Position.TELLER, on=QUARTER_START)
    manager = role_users[roles.BRANCH_MANAGER]
    assert not access.can_see_unit(manager, b10)
    assert "E010" not in set(access.visible_staff(manager).values_list("employee_no", flat=True))


def test_a_region_manager_with_an_explicit_scope_sees_the_region(small_bank):
    roles.ensure_role_groups()
    regional = make_user("manager_r1", roles.BRANCH_MANAGER, scope_unit=small_bank["r1"])
    assert sorted(access.visible_units(regional).values_list("code", flat=True)) == ["B1", "B2", "O1", "R1"]


def test_a_staff_member_sees_only_themselves(role_users, small_bank):
    staff_user = role_users[roles.STAFF]
    assert list(access.visible_staff(staff_user).values_list("employee_no", flat=True)) == ["E002"]
    assert access.visible_units(staff_user).count() == 0
    assert not access.can_see_staff(staff_user, small_bank["s1"])


def test_a_user_without_a_role_sees_nothing(small_bank):
    nobody = make_user("nobody", None, staff=small_bank["s3"])
    assert access.scope_for(nobody).is_empty
    assert access.visible_staff(nobody).count() == 0


def test_role_groups_carry_their_permissions(db):
    groups = roles.ensure_role_groups()
    planner_perms = set(groups[roles.PLANNER].permissions.values_list("codename", flat=True))
    assert {"add_unit", "change_staff"} <= planner_perms
    assert not groups[roles.VIEWER].permissions.filter(codename="change_unit").exists()
    roles.ensure_role_groups()  # idempotent
    assert groups[roles.PLANNER].permissions.count() == len(roles.ROLES[roles.PLANNER].permissions)
