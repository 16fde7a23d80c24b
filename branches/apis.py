"""REST API of the organisation's figures: POST a batch, read a figure's history.

Also the pieces every API view shares: who may see what (``api_scope``: a system account's
token scope, else the user's page scope from branches.access) and the throttles.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from branches import access, roles
from branches.api_models import ApiClient
from branches.fact_selectors import fact_history
from branches.imports import api_batches
from branches.imports.headers import indicator_lookup, normalise
from branches.imports.values import parse_date
from branches.models import Indicator, Staff, SubjectKind, Unit
from branches.serializers import (
    FactHistoryEntrySerializer,
    FigureBatchAnswerSerializer,
    FigureBatchSerializer,
)


class ApiThrottle(UserRateThrottle):
    """Requests per user or token (API_THROTTLE_RATE)."""

    scope = "api"

    def get_rate(self):
        return settings.API_THROTTLE_RATE


class FiguresThrottle(UserRateThrottle):
    """Figure batches per user or token (API_FIGURES_THROTTLE_RATE): each may hold 10,000 rows."""

    scope = "figures"

    def get_rate(self):
        return settings.API_FIGURES_THROTTLE_RATE


class KmhApiView(APIView):
    throttle_classes = [ApiThrottle]


def client_of(user) -> ApiClient | None:
    try:
        return user.api_client
    except ApiClient.DoesNotExist:
        return None


def api_scope(user) -> access.Scope:
    """What ``user`` may see through the API: a system account its token's unit subtree (the
    whole bank when unscoped); anyone else exactly what their pages show (branches.access)."""
    client = client_of(user)
    if client is not None:
        if client.scope_unit_id is None:
            return access.Scope(whole_bank=True)
        return access.Scope(whole_bank=False, unit_path=client.scope_unit.path)
    return access.scope_for(user)


def scope_sees(scope: access.Scope, *, unit_path: str | None = None, staff_id: int | None = None) -> bool:
    """Whether ``scope`` covers a unit (by path) or a staff member (by id and current unit path)."""
    if scope.whole_bank:
        return True
    if scope.unit_path and unit_path and unit_path.startswith(scope.unit_path):
        return True
    return staff_id is not None and scope.staff_id == staff_id


class FigureBatchView(KmhApiView):
    """POST /api/figures/ — a batch of up to 10,000 figures, all or nothing, idempotent by batch id."""

    throttle_classes = [ApiThrottle, FiguresThrottle]

    @extend_schema(
        request=FigureBatchSerializer,
        responses={201: FigureBatchAnswerSerializer, 200: FigureBatchAnswerSerializer, 400: FigureBatchAnswerSerializer},
        description=_(
            "Send figures. Each row: unit_code or employee_no, indicator (code or name), business_date, value. "
            "The whole batch is written or none of it; errors name the row (1-based) and the field. "
            "Sending an accepted batch_id again writes nothing and returns the first answer (200, replayed)."
        ),
    )
    def post(self, request):
        client = client_of(request.user)
        if client is not None:
            if not client.can_write_figures:
                raise PermissionDenied(_("This account may not send figures."))
            writable = client.scope_unit.path if client.scope_unit_id else None
        elif roles.PLANNER in roles.roles_of(request.user):
            writable = None
        else:
            raise PermissionDenied(_("Only planners and system accounts may send figures."))
        serializer = FigureBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            answer = api_batches.receive_figure_batch(
                user=request.user,
                batch_id=serializer.validated_data["batch_id"],
                rows=serializer.validated_data["rows"],
                writable_unit_path=writable,
            )
        except api_batches.BatchConflict as conflict:
            return Response({"detail": str(conflict)}, status=status.HTTP_409_CONFLICT)
        if not answer.accepted:
            return Response(answer.body, status=status.HTTP_400_BAD_REQUEST)
        return Response(answer.body, status=status.HTTP_200_OK if answer.replayed else status.HTTP_201_CREATED)


class FigureHistoryView(KmhApiView):
    """GET /api/figures/history/ — every version of one unit's or staff member's figure."""

    @extend_schema(
        parameters=[
            OpenApiParameter("unit_code", str, description=_("Unit code (机构号); or employee_no")),
            OpenApiParameter("employee_no", str, description=_("Employee number (工号)")),
            OpenApiParameter("indicator", str, required=True, description=_("Indicator code or name")),
            OpenApiParameter("date_from", datetime.date),
            OpenApiParameter("date_to", datetime.date),
        ],
        responses=FactHistoryEntrySerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        scope = api_scope(request.user)
        within = None
        if params.get("employee_no"):
            staff = Staff.objects.select_related("unit").filter(employee_no=params["employee_no"]).first()
            if staff is None:
                raise Http404
            # A person's figures follow the unit they were at on each date, not their current one.
            within = access.staff_periods_visible(scope, staff)
            if within == []:
                raise Http404
            subject = (SubjectKind.STAFF, staff.pk)
        elif params.get("unit_code"):
            unit = Unit.objects.filter(code=params["unit_code"]).first()
            if unit is None or not scope_sees(scope, unit_path=unit.path):
                raise Http404
            subject = (SubjectKind.UNIT, unit.pk)
        else:
            raise ValidationError({"unit_code": _("Give unit_code or employee_no.")})
        indicator = indicator_lookup(Indicator.objects.all()).get(normalise(params.get("indicator", ""))[0])
        if indicator is None:
            raise ValidationError({"indicator": _("No indicator %(name)s.") % {"name": params.get("indicator", "")}})
        bounds = {}
        for name in ("date_from", "date_to"):
            if params.get(name):
                try:
                    bounds[name] = parse_date(params[name])
                except ValueError as error:
                    raise ValidationError({name: str(error)}) from None
        if len(bounds) == 2 and bounds["date_from"] > bounds["date_to"]:
            raise ValidationError({"date_to": _("date_to is before date_from.")})
        entries = fact_history(subject[0], subject[1], indicator.pk, **bounds, within=within)
        return Response(FactHistoryEntrySerializer(entries, many=True).data)
