import pytest
from django.core.exceptions import ValidationError

from branches import selectors, services
from branches.models import Unit, UnitKind


def codes(units):
    return sorted(u.code for u in units)


def test_subtree_of_a_region_holds_its_branches_and_outlets(small_bank):
    assert codes(selectors.subtree(small_bank["r1"])) == ["B1", "B2", "O1", "R1"]


def test_subtree_without_self(small_bank):
    assert codes(selectors.subtree(small_bank["b1"], include_self=False)) == ["O1"]


def test_codes_that_share_a_prefix_do_not_leak_into_each_others_subtree(small_bank):
    b10 = services.create_unit(code="B10", name="十号社", kind=UnitKind.BRANCH, parent=small_bank["r2"])
    assert b10.path == "/HO/R2/B10/"
    assert "B10" not in codes(selectors.subtree(small_bank["b1"]))


def test_moving_a_unit_moves_its_whole_subtree(small_bank):
    services.move_unit(small_bank["b1"], new_parent=small_bank["r2"])
    assert Unit.objects.get(code="O1").path == "/HO/R2/B1/O1/"
    assert Unit.objects.get(code="O1").depth == 3
    assert codes(selectors.subtree(small_bank["r2"])) == ["B1", "B3", "O1", "R2"]


def test_a_unit_cannot_move_under_its_own_subtree(small_bank):
    with pytest.raises(ValidationError) as err:
        services.move_unit(small_bank["r1"], new_parent=small_bank["o1"])
    assert "parent" in err.value.message_dict


def test_unit_code_with_a_slash_is_refused_naming_the_field(small_bank):
    with pytest.raises(ValidationError) as err:
        services.create_unit(code="B/9", name="坏代码", kind=UnitKind.BRANCH, parent=small_bank["r1"])
    assert "code" in err.value.message_dict


def test_duplicate_unit_code_is_refused(small_bank):
    with pytest.raises(ValidationError) as err:
        services.create_unit(code="B1", name="重复", kind=UnitKind.BRANCH, parent=small_bank["r2"])
    assert "code" in err.value.message_dict
