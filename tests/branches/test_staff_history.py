import datetime

import pytest
from django.core.exceptions import ValidationError

from branches import selectors, services
from branches.models import StaffAssignment

FEB_15 = datetime.date(2027, 2, 15)


def test_a_move_mid_quarter_keeps_the_old_unit_for_earlier_dates(small_bank):
    staff = small_bank["s2"]
    services.move_staff(staff, to_unit=small_bank["b3"], on=FEB_15)
    assert selectors.unit_of_staff_on(staff, datetime.date(2027, 2, 14)).code == "B1"
    assert selectors.unit_of_staff_on(staff, FEB_15).code == "B3"
    assert staff.unit.code == "B3"


def test_a_move_closes_the_previous_assignment_the_day_before(small_bank):
    services.move_staff(small_bank["s2"], to_unit=small_bank["b3"], on=FEB_15)
    history = list(StaffAssignment.objects.filter(staff=small_bank["s2"]).values_list("unit__code", "valid_from", "valid_to"))
    assert history == [
        ("B1", datetime.date(2027, 1, 1), datetime.date(2027, 2, 14)),
        ("B3", FEB_15, None),
    ]


def test_staff_under_a_region_follow_the_move_by_date(small_bank):
    services.move_staff(small_bank["s2"], to_unit=small_bank["b3"], on=FEB_15)
    before = {s.employee_no for s in selectors.staff_under_on(small_bank["r1"], datetime.date(2027, 1, 31))}
    after = {s.employee_no for s in selectors.staff_under_on(small_bank["r1"], datetime.date(2027, 3, 1))}
    assert before == {"E001", "E002", "E004"}
    assert after == {"E001", "E004"}


def test_a_move_dated_before_the_current_assignment_is_refused(small_bank):
    with pytest.raises(ValidationError) as err:
        services.move_staff(small_bank["s2"], to_unit=small_bank["b3"], on=datetime.date(2026, 12, 31))
    assert "valid_from" in err.value.message_dict


def test_a_leaver_is_not_anyones_staff_after_their_last_day(small_bank):
    services.end_staff(small_bank["s3"], on=datetime.date(2027, 1, 31))
    assert selectors.unit_of_staff_on(small_bank["s3"], datetime.date(2027, 2, 1)) is None
    assert selectors.unit_of_staff_on(small_bank["s3"], datetime.date(2027, 1, 31)).code == "B3"


def test_a_closed_outlet_is_not_active_after_its_last_day(small_bank):
    services.close_unit(small_bank["o1"], on=datetime.date(2027, 2, 28), merged_into=small_bank["b1"])
    active_march = {u.code for u in selectors.units_active_on(datetime.date(2027, 3, 1))}
    active_feb = {u.code for u in selectors.units_active_on(datetime.date(2027, 2, 28))}
    assert "O1" in active_feb and "O1" not in active_march
