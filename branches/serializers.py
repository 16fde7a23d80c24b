"""Shapes of the figures API: a batch in, an answer out, a figure's history."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_BATCH_ROWS = 10_000


class FigureRowSerializer(serializers.Serializer):
    """One figure, as documented in the schema (rows are checked together, with errors per row)."""

    unit_code = serializers.CharField(required=False, help_text=_("Unit code (机构号); or employee_no"))
    employee_no = serializers.CharField(required=False, help_text=_("Employee number (工号); or unit_code"))
    indicator = serializers.CharField(help_text=_("Indicator code or name, e.g. DEP_BAL or 存款余额"))
    business_date = serializers.DateField()
    value = serializers.CharField(help_text=_("A number as a string (Decimal), e.g. \"1234567.89\"; rates as 0.97 or \"97%\""))


@extend_schema_field(FigureRowSerializer(many=True))
class FigureRowsField(serializers.ListField):
    """A list of row objects, checked together by the import code (errors per row), not by DRF."""


class FigureBatchSerializer(serializers.Serializer):
    batch_id = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]{1,100}$",
        help_text=_("The client's id of this batch: sending the same id again writes nothing and returns the first answer."),
    )
    rows = FigureRowsField(
        child=serializers.DictField(), min_length=1, max_length=MAX_BATCH_ROWS, help_text=_("Up to 10,000 figures.")
    )

    class Meta:
        ref_name = "FigureBatch"


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("1-based position of the row in ``rows``"))
    column = serializers.CharField()
    message = serializers.CharField()


class FigureBatchAnswerSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["merged", "rejected"])
    replayed = serializers.BooleanField(help_text=_("True when this batch id was already accepted: nothing was written now."))
    rows = serializers.IntegerField()
    new = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)


class FactHistoryEntrySerializer(serializers.Serializer):
    business_date = serializers.DateField()
    version_no = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=20, decimal_places=4)
    previous_value = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    is_current = serializers.BooleanField()
    source_kind = serializers.CharField()
    source_reference = serializers.CharField()
    source_row = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField()
    recorded_at = serializers.DateTimeField(allow_null=True)
