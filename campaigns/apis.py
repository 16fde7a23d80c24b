"""REST API: campaigns and their participants (participants limited to what the caller may see)."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework import generics

from branches.apis import ApiThrottle, api_scope
from branches.models import SubjectKind
from campaigns.models import Campaign, Participant
from campaigns.serializers import CampaignSerializer, ParticipantSerializer


class CampaignList(generics.ListAPIView):
    """Every campaign (a campaign's rules are no secret inside the bank), newest first."""

    serializer_class = CampaignSerializer
    throttle_classes = [ApiThrottle]
    queryset = Campaign.objects.all()


class CampaignDetail(generics.RetrieveAPIView):
    serializer_class = CampaignSerializer
    throttle_classes = [ApiThrottle]
    queryset = Campaign.objects.all()
    lookup_field = "code"


def visible_participants(user, campaign: Campaign):
    """The campaign's participants ``user`` may see: units of their subtree and staff assigned
    under it now, or only themselves (branches.access rules, or an API token's scope)."""
    scope = api_scope(user)
    participants = Participant.objects.filter(campaign=campaign).select_related("unit", "staff")
    if scope.whole_bank:
        return participants
    condition = Q(pk__in=[])
    if scope.unit_path:
        condition |= Q(subject_kind=SubjectKind.UNIT, unit__path__startswith=scope.unit_path)
        condition |= Q(subject_kind=SubjectKind.STAFF, staff__unit__path__startswith=scope.unit_path)
    if scope.staff_id:
        condition |= Q(subject_kind=SubjectKind.STAFF, staff_id=scope.staff_id)
    return participants.filter(condition)


class ParticipantList(generics.ListAPIView):
    serializer_class = ParticipantSerializer
    throttle_classes = [ApiThrottle]

    def get_queryset(self):
        campaign = get_object_or_404(Campaign, code=self.kwargs["code"])
        return visible_participants(self.request.user, campaign).order_by("id")
