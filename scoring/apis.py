"""REST API: a day's leaderboard (by group, paginated) and one participant's explained scores.

Both read stored results through ``scoring.selectors``. A leaderboard is shown to every user
with a scope (managers compare themselves with the whole bank, as on the lobby screen); one
participant's scores only to those who may see that participant (else 404).
"""

from __future__ import annotations

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from branches.apis import ApiThrottle, api_scope
from branches.imports.values import parse_date
from campaigns.apis import visible_participants
from campaigns.models import Campaign, Group
from scoring import selectors
from scoring.models import Ranking
from scoring.serializers import BoardRowSerializer, ParticipantScoresSerializer

MAX_PAGE_SIZE = 1000


def _day(request) -> datetime.date:
    raw = request.query_params.get("date")
    if not raw:
        raise ValidationError({"date": _("Give the business date, e.g. date=2027-01-31.")})
    try:
        return parse_date(raw)
    except ValueError as error:
        raise ValidationError({"date": str(error)}) from None


def _positive(request, name, default, maximum=None) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: _("Expected a whole number of at least 1.")})
    return min(int(raw), maximum) if maximum else int(raw)


class LeaderboardView(APIView):
    throttle_classes = [ApiThrottle]

    @extend_schema(
        parameters=[
            OpenApiParameter("date", datetime.date, required=True),
            OpenApiParameter("ranking", str, description=_("Ranking code; default: the campaign's first ranking")),
            OpenApiParameter("group", str, description=_("Group code, to show one group (e.g. one region)")),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description=_("At most 1000; default 100")),
        ],
        responses=BoardRowSerializer(many=True),
    )
    def get(self, request, code):
        campaign = get_object_or_404(Campaign, code=code)
        if api_scope(request.user).is_empty:
            raise Http404
        day = _day(request)
        ranking_code = request.query_params.get("ranking")
        if not ranking_code:
            first = Ranking.objects.filter(campaign=campaign).order_by("position", "id").first()
            if first is None:
                raise Http404(_("This campaign has no ranking."))
            ranking_code = first.code
        page = _positive(request, "page", 1)
        page_size = _positive(request, "page_size", 100, MAX_PAGE_SIZE)
        try:
            rows = selectors.leaderboard(
                campaign.pk, day, ranking_code, request.query_params.get("group") or None,
                limit=page_size + 1, offset=(page - 1) * page_size,
            )
        except Ranking.DoesNotExist:
            raise Http404(_("No ranking %(code)s in this campaign.") % {"code": ranking_code}) from None
        except Group.DoesNotExist:
            raise Http404(_("No group %(code)s in this ranking.") % {"code": request.query_params.get("group")}) from None
        has_next = len(rows) > page_size
        return Response(
            {
                "ranking": ranking_code,
                "date": day,
                "page": page,
                "page_size": page_size,
                "has_next": has_next,
                "results": BoardRowSerializer(rows[:page_size], many=True).data,
            }
        )


class ParticipantScoresView(APIView):
    throttle_classes = [ApiThrottle]

    @extend_schema(parameters=[OpenApiParameter("date", datetime.date, required=True)], responses=ParticipantScoresSerializer)
    def get(self, request, code, participant_id):
        campaign = get_object_or_404(Campaign, code=code)
        if not visible_participants(request.user, campaign).filter(pk=participant_id).exists():
            raise Http404
        scores = selectors.participant_scores(campaign.pk, _day(request), participant_id)
        if scores is None:
            raise Http404(_("No results for this participant on that day."))
        return Response(ParticipantScoresSerializer(scores).data)
