"""Shapes of a day's board and of one participant's explained scores in the REST API."""

from __future__ import annotations

from rest_framework import serializers

FIGURE = {"max_digits": 24, "decimal_places": 6, "allow_null": True}


class BoardRowSerializer(serializers.Serializer):
    participant_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    group_id = serializers.IntegerField(allow_null=True)
    rank = serializers.IntegerField()
    value = serializers.DecimalField(**FIGURE)
    points = serializers.DecimalField(**FIGURE)
    previous_rank = serializers.IntegerField(allow_null=True)
    movement = serializers.IntegerField(allow_null=True)
    gap_value = serializers.DecimalField(**FIGURE)
    gap_points = serializers.DecimalField(**FIGURE)
    in_top = serializers.BooleanField()
    in_bottom = serializers.BooleanField()
    warnings = serializers.ListField(child=serializers.CharField(), help_text="Names of the warning gates that hit the participant.")


class MonthLineSerializer(serializers.Serializer):
    month = serializers.DateField()
    points = serializers.DecimalField(**FIGURE)
    explanation = serializers.CharField()


class RuleLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    points = serializers.DecimalField(**FIGURE)
    actual = serializers.DecimalField(**FIGURE)
    target = serializers.DecimalField(**FIGURE)
    completion = serializers.DecimalField(**FIGURE)
    explanation = serializers.CharField(help_text="The rule, the figures used, the formula and the result.")
    months = MonthLineSerializer(many=True)


class ParticipantScoresSerializer(serializers.Serializer):
    participant_id = serializers.IntegerField()
    business_date = serializers.DateField(source="result_set.business_date")
    version = serializers.IntegerField(source="result_set.version")
    computed_at = serializers.DateTimeField(source="result_set.computed_at")
    total_points = serializers.DecimalField(**FIGURE)
    base_points = serializers.DecimalField(**FIGURE)
    bonus_points = serializers.DecimalField(**FIGURE)
    met_all_targets = serializers.BooleanField()
    vetoed_by = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField(), help_text="Warning gates that hit the participant: shown, not scored.")
    rules = RuleLineSerializer(many=True)
    ranks = serializers.SerializerMethodField()

    def get_ranks(self, scores) -> dict:
        return {code: {"rank": entry.rank, "group_id": entry.group_id, "movement": entry.movement} for code, entry in scores.ranks.items()}
