"""Finance pages for payouts: thin views that check the role, call one service or selector, render."""

from __future__ import annotations

import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches import access, roles
from branches.models import Staff, Unit
from rewards import exporters, selectors, services, sponsorship
from rewards.models import ExportState, PayoutExport, PeriodKind, RewardScheme, RunState
from rewards.resources import statement_sheet

ACTIONS = {
    "review": services.review_payout_run,
    "approve": services.approve_payout_run,
    "lock": services.lock_payout_run,
    "return": services.return_payout_run_to_draft,
    "recalculate": services.recalculate_payout_run,
    "acknowledge": services.acknowledge_corrections_on_manual_adjustments,
}


def finance_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if roles.FINANCE not in roles.roles_of(request.user):
            raise PermissionDenied(_("Only finance (财务部) may work on payout runs."))
        return view(request, *args, **kwargs)

    return wrapped


@finance_required
def run_list(request):
    if request.method == "POST":
        try:
            run = services.create_payout_run(
                scheme=get_object_or_404(RewardScheme, pk=request.POST.get("scheme")),
                period_kind=request.POST.get("period_kind", ""),
                period_start=datetime.date.fromisoformat(request.POST.get("period_start", "")),
                period_end=datetime.date.fromisoformat(request.POST.get("period_end", "")),
                by=request.user,
            )
        except ValueError:
            messages.error(request, _("Period start and end: give dates as YYYY-MM-DD."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return redirect("rewards:run", run_id=run.pk)
    runs = selectors.runs_for(request.user)
    return render(
        request,
        "rewards/run_list.html",
        {
            "runs": runs[:200],
            "schemes": RewardScheme.objects.all(),
            "period_kinds": PeriodKind.choices,
        },
    )


@finance_required
def run_detail(request, run_id: int):
    run = get_object_or_404(selectors.runs_for(request.user), pk=run_id)
    page = Paginator(selectors.run_lines(run), 200).get_page(request.GET.get("page"))
    return render(
        request,
        "rewards/run_detail.html",
        {
            "run": run,
            "page": page,
            "lines": selectors.described(page),
            "total": selectors.run_total(run),
            "by_unit": selectors.totals_by_unit(run),
            "by_rule": selectors.totals_by_rule(run),
            "budget": selectors.budget_status(run),
            "changes": run.changes.select_related("by"),
            "corrections_on_manual": selectors.corrections_on_manual_adjustments(run),
            "acknowledged": selectors.corrections_acknowledged(run),
            "rules_changed": selectors.rules_changed_since_calculation(run),
            "exporters": exporters.names(),
            "exports": run.exports.all()[:10],
            "states": RunState,
        },
    )


@finance_required
@require_POST
def run_action(request, run_id: int, action: str):
    run = get_object_or_404(selectors.runs_for(request.user), pk=run_id)
    if action not in ACTIONS:
        raise Http404
    try:
        ACTIONS[action](run, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("rewards:run", run_id=run.pk)


@finance_required
def add_adjustment(request, run_id: int):
    """A manual adjustment (手工调整) of a locked line, added to a draft run: the line's number,
    the amount and the reason (``services.add_adjustment_line``; four eyes record it)."""
    run = get_object_or_404(selectors.runs_for(request.user), pk=run_id)
    data = request.POST if request.method == "POST" else request.GET
    form = {key: data.get(key, "") for key in ("line", "amount", "reason")}
    original = selectors.adjustable_line(run, form["line"]) if form["line"] else None
    if request.method == "POST":
        try:
            if original is None:
                raise services.PayoutError(
                    {"line": _("Line: %(line)r is not the number of a line of a locked run of this scheme.") % {"line": form["line"]}}
                )
            line = services.add_adjustment_line(
                run, original=original, amount=form["amount"], reason=form["reason"], by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Manual adjustment #%(line)s of %(amount)s yuan added to payout run #%(id)s.")
                % {"line": line.pk, "amount": line.amount, "id": run.pk},
            )
            return redirect("rewards:run", run_id=run.pk)
    history = selectors.described(selectors.paid_for_rule(original)) if original else []
    return render(
        request,
        "rewards/adjust.html",
        {"run": run, "form": form, "original": original, "history": history, "states": RunState},
    )


@finance_required
@require_POST
def request_export(request, run_id: int, identifier: str):
    run = get_object_or_404(selectors.runs_for(request.user), pk=run_id)
    try:
        services.request_payout_export(run, exporter=identifier, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("rewards:run", run_id=run.pk)


@finance_required
def export_progress(request, export_id: int):
    export = get_object_or_404(
        PayoutExport.objects.filter(run__in=selectors.runs_for(request.user)), pk=export_id
    )
    return JsonResponse(
        {
            "state": export.state,
            "percent": export.percent,
            "rows_done": export.rows_done,
            "rows_total": export.rows_total,
            "error": export.error,
        }
    )


@finance_required
def export_download(request, export_id: int):
    export = get_object_or_404(
        PayoutExport.objects.filter(run__in=selectors.runs_for(request.user)), pk=export_id
    )
    if export.state != ExportState.DONE or not export.file:
        raise Http404
    exporter = exporters.get(export.exporter)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=exporter.filename(export.run),
        content_type=exporter.content_type,
    )


def _statement(request, *, title: str, lines, filename: str, sponsored=()):
    if roles.FINANCE not in roles.roles_of(request.user):
        lines = lines.filter(run__state=RunState.LOCKED)  # others see only what was paid
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            statement_sheet(lines, sponsored), content_type=exporters.PayoutWorkbook.content_type
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response
    return render(
        request,
        "rewards/statement.html",
        {
            "title": title,
            "lines": selectors.described(lines),
            "total": sum((line.amount for line in lines), 0),
            "sponsored": sponsored,
        },
    )


@login_required
def staff_statement(request, staff_id: int):
    staff = get_object_or_404(Staff.objects.select_related("unit"), pk=staff_id)
    lines = selectors.staff_statement_for(request.user, staff)
    if lines is None:
        raise PermissionDenied
    return _statement(
        request,
        title=f"{staff.employee_no} {staff.name}",
        lines=lines,
        filename=f"statement-{staff.employee_no}",
        sponsored=sponsorship.sponsored_units(staff.employee_no),
    )


@login_required
def unit_statement(request, unit_code: str):
    unit = get_object_or_404(Unit, code=unit_code)
    if not access.can_see_unit(request.user, unit):
        raise PermissionDenied
    lines = selectors.unit_statement(unit_code=unit.code)
    return _statement(
        request, title=f"{unit.code} {unit.name}", lines=lines, filename=f"statement-{unit.code}"
    )
