"""At 50,000 units, "everything under a region" is an index range scan on PostgreSQL, not a table scan."""

import pytest
from django.db import connection

from branches import selectors
from branches.models import Unit, UnitKind
from tests.conftest import require_service

REGIONS = 20
BRANCHES_PER_REGION = 2_500  # 20 × 2,500 = 50,000 branches


@pytest.fixture
def national_tree(db):
    if connection.vendor != "postgresql":
        require_service("DATABASE_URL")
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    head = Unit(code="HQ", name="总行", kind=UnitKind.HEAD_OFFICE)
    head.save()
    regions = [Unit(code=f"R{r:02d}", name=f"片区{r}", kind=UnitKind.REGION, parent=head) for r in range(REGIONS)]
    for region in regions:
        region.path, region.depth = region.compute_path(), 1
    Unit.objects.bulk_create(regions)
    branches = []
    for region in regions:
        for b in range(BRANCHES_PER_REGION):
            branch = Unit(code=f"{region.code}B{b:04d}", name="支行", kind=UnitKind.BRANCH, parent=region)
            branch.path, branch.depth = branch.compute_path(), 2
            branches.append(branch)
    Unit.objects.bulk_create(branches, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE branches_unit")
    return {"head": head, "region": Unit.objects.get(code="R07")}


def test_subtree_of_one_region_among_50000_units_uses_the_path_index(national_tree):
    query = selectors.subtree(national_tree["region"]).values("id")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "unit_path_prefix_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_subtree_of_one_region_counts_its_2500_branches(national_tree):
    assert Unit.objects.count() == 1 + REGIONS + REGIONS * BRANCHES_PER_REGION
    assert selectors.subtree(national_tree["region"], include_self=False).count() == BRANCHES_PER_REGION
