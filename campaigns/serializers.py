"""Shapes of campaigns and participants in the REST API."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.models import Campaign


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["code", "name", "name_en", "start_date", "end_date", "status", "participant_level", "total_points"]


class ParticipantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="Unit code (机构号) or employee number (工号)")
    name = serializers.CharField(source="display_name")
    subject_kind = serializers.IntegerField(help_text="1 = unit, 2 = staff member")
    joined_on = serializers.DateField(allow_null=True)
    left_on = serializers.DateField(allow_null=True)
