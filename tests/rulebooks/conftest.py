"""Fixtures every rulebook payout test shares."""

import pytest

from branches import roles
from tests.conftest import make_user


@pytest.fixture
def finance(db):
    """The maker and a different finance user who approves (four eyes)."""
    return {"maker": make_user("finance_maker", roles.FINANCE), "checker": make_user("finance_checker", roles.FINANCE)}
