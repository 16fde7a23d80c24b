"""A realistic demo bank: 5 regions, 60 branches (some with outlets), 600 staff, one account per role.

Deterministic (seeded) and idempotent: loading twice changes nothing and creates no duplicates.
Built set-based (bulk_create of whole levels), so it loads in a couple of seconds on SQLite.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from branches import roles
from branches.models import Position, Staff, StaffAssignment, Unit, UnitKind, UserProfile

DEMO_START = datetime.date(2026, 1, 1)
REGIONS = [("R01", "城区片区"), ("R02", "东部片区"), ("R03", "西部片区"), ("R04", "南部片区"), ("R05", "北部片区")]
TOWNS = "城关 城东 城西 城南 城北 新华 建设 人民 解放 中山 和平 胜利 光明 长江 黄河 太平 永安 长安 兴隆 丰收".split()
SURNAMES = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 罗 高".split()
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 英 华 玲 斌 鹏 宇 浩 晨".split()
BRANCHES_PER_REGION = 12
STAFF_PER_BRANCH = 10
# Position of each of a branch's ten staff, in order.
BRANCH_POSITIONS = [Position.HEAD, Position.DEPUTY] + [Position.ACCOUNT_MANAGER] * 4 + [Position.TELLER] * 3 + [
    Position.ADMINISTRATIVE
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    description: str


ACCOUNTS = [
    DemoAccount("planner", roles.PLANNER, "Kmh-planner-2027", "总行计划财务部 / head-office planner"),
    DemoAccount("manager", roles.BRANCH_MANAGER, "Kmh-manager-2027", "B0101 城区片区城关支行 branch manager"),
    DemoAccount("finance", roles.FINANCE, "Kmh-finance-2027", "财务部 / finance"),
    DemoAccount("staff", roles.STAFF, "Kmh-staff-2027", "客户经理 E010103 / staff member"),
    DemoAccount("viewer", roles.VIEWER, "Kmh-viewer-2027", "只读 / viewer"),
    DemoAccount("admin", "superuser", "Kmh-admin-2027", "IT administrator (Django admin)"),
]


def load_demo_bank() -> dict:
    """Create the demo organisation and accounts if missing. Returns counts of what exists."""
    roles.ensure_role_groups()
    with transaction.atomic():
        if not Unit.objects.filter(code="HO").exists():
            _create_organisation()
        _create_accounts()
    return {
        "units": Unit.objects.count(),
        "branches": Unit.objects.filter(kind=UnitKind.BRANCH).count(),
        "staff": Staff.objects.count(),
    }


def _create_organisation() -> None:
    rng = random.Random(2027)
    head_office = Unit(code="HO", name="开门红农商银行总行", name_en="Kaimenhong Rural Commercial Bank", kind=UnitKind.HEAD_OFFICE)
    head_office.save()
    regions = []
    for code, name in REGIONS:
        region = Unit(code=code, name=name, kind=UnitKind.REGION, parent=head_office, active_from=DEMO_START)
        region.path, region.depth = region.compute_path(), 1
        regions.append(region)
    Unit.objects.bulk_create(regions)

    branches = []
    for region in regions:
        for number in range(1, BRANCHES_PER_REGION + 1):
            town = TOWNS[(number - 1) % len(TOWNS)]
            # The first eight of a region are directly-managed institutions, the rest savings offices.
            category = "直管机构" if number <= 8 else "储蓄所"
            kind_name = "支行" if category == "直管机构" else "储蓄所"
            branch = Unit(
                code=f"B{region.code[1:]}{number:02d}",
                name=f"{region.name[:2]}{town}{kind_name}",
                kind=UnitKind.BRANCH,
                category=category,
                parent=region,
                active_from=DEMO_START,
            )
            branch.path, branch.depth = branch.compute_path(), 2
            branches.append(branch)
    Unit.objects.bulk_create(branches)

    outlets = []
    for branch in branches[::6]:
        outlet = Unit(
            code=f"O{branch.code[1:]}",
            name=f"{branch.name}营业部",
            kind=UnitKind.OUTLET,
            category="网点",
            parent=branch,
            active_from=DEMO_START,
        )
        outlet.path, outlet.depth = outlet.compute_path(), 3
        outlets.append(outlet)
    Unit.objects.bulk_create(outlets)

    branch_ids = dict(Unit.objects.filter(kind=UnitKind.BRANCH).values_list("code", "id"))
    staff_rows = []
    for branch in branches:
        for index, position in enumerate(BRANCH_POSITIONS, start=1):
            staff_rows.append(
                Staff(
                    employee_no=f"E{branch.code[1:]}{index:02d}",
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else ""),
                    unit_id=branch_ids[branch.code],
                    position=position,
                    active_from=DEMO_START,
                )
            )
    Staff.objects.bulk_create(staff_rows)
    StaffAssignment.objects.bulk_create(
        StaffAssignment(staff_id=staff_id, unit_id=unit_id, position=position, valid_from=DEMO_START)
        for staff_id, unit_id, position in Staff.objects.values_list("id", "unit_id", "position")
    )


def _create_accounts() -> None:
    manager_unit = Unit.objects.get(code="B0101")
    for account in ACCOUNTS:
        user, created = User.objects.get_or_create(username=account.username)
        if created:
            user.set_password(account.password)
            user.first_name = account.description.split(" / ")[0]
            if account.role == "superuser":
                user.is_staff = user.is_superuser = True
            user.save()
        if account.role != "superuser":
            roles.grant_role(user, account.role)
        staff = None
        if account.role == roles.BRANCH_MANAGER:
            staff = Staff.objects.get(employee_no="E010101")
        elif account.role == roles.STAFF:
            staff = Staff.objects.get(employee_no="E010103")
        UserProfile.objects.update_or_create(
            user=user,
            defaults={"staff": staff, "scope_unit": manager_unit if account.role == roles.BRANCH_MANAGER else None},
        )
