"""Indicators of the three measures on top of the shared small bank."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from branches.models import Indicator, IndicatorKind, Measure

DAY = datetime.date(2027, 1, 4)


@pytest.fixture(autouse=True)
def _var_dir_and_language(settings, tmp_path):
    # Error files go under var/imports/: keep them out of the work tree. Messages are checked in
    # English (the product's default language is zh-hans).
    settings.VAR_DIR = tmp_path
    with translation.override("en"):
        yield


@pytest.fixture
def indicators(small_bank):
    return {
        "deposits": Indicator.objects.create(code="DEP", name="存款余额", name_en="Deposit balance"),
        "pos": Indicator.objects.create(
            code="POS", name="POS机布放", measure=Measure.COUNT, kind=IndicatorKind.COUNT, unit_label="台"
        ),
        "collection": Indicator.objects.create(
            code="COLL", name="到期贷款收回率", measure=Measure.RATE, kind=IndicatorKind.RATE, unit_label="%"
        ),
    }
