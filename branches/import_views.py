"""Browser imports (upload → preview → confirm) and the target-decomposition page. Planners only.

The views are thin: they check the role, keep the upload under a token, and call
``branches.imports.kinds`` (preview/apply: django-import-export's dry run, then the import in one
transaction) or ``campaigns.decomposition``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from branches import roles
from branches.imports import kinds, store
from branches.imports.errors import ImportFileError
from branches.imports.preview import ROWS_KEPT
from branches.imports.reader import file_too_big_message
from branches.imports.upload import SizeLimitUploadHandler, declared_length_too_large

PREVIEW_ROWS_SHOWN = ROWS_KEPT


def planner_required(view):
    """Only head-office planners may import (branches.roles)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if roles.PLANNER not in roles.roles_of(request.user):
            raise PermissionDenied(_("Only head-office planners may import files."))
        return view(request, *args, **kwargs)

    return wrapped


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (.xlsx, .xls or .csv)"))
    default_date = forms.DateField(
        label=gettext_lazy("Date for files without a date column"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    campaign = forms.ModelChoiceField(queryset=None, required=False, label=gettext_lazy("Campaign"))

    def __init__(self, *args, import_kind, **kwargs):
        super().__init__(*args, **kwargs)
        from campaigns.models import Campaign

        self.fields["campaign"].queryset = Campaign.objects.all()
        self.fields["campaign"].required = import_kind.needs_campaign
        if not import_kind.needs_campaign:
            del self.fields["campaign"]
        if import_kind.key != "figures":
            self.fields["default_date"].label = gettext_lazy("Effective date for rows without one")

    def options(self) -> dict:
        options = {"default_date": self.cleaned_data.get("default_date")}
        if self.cleaned_data.get("campaign") is not None:
            options["campaign_id"] = self.cleaned_data["campaign"].pk
        return options


@planner_required
def import_index(request):
    return render(request, "imports/index.html", {"kinds": kinds.KINDS.values()})


@csrf_exempt
def import_upload(request, kind: str):
    """Upload a file for ``kind``. The size is checked before the body is read (csrf after)."""
    if request.method == "POST":
        if declared_length_too_large(request):
            return _too_large(request, kind)
        request.upload_handlers.insert(0, SizeLimitUploadHandler(request))
    return _import_upload(request, kind)


@csrf_protect
@planner_required
def _import_upload(request, kind: str):
    import_kind = kinds.get_kind(kind)
    if import_kind is None:
        raise Http404
    if request.method == "POST":
        limiter = request.upload_handlers[0]
        form = UploadForm(request.POST, request.FILES, import_kind=import_kind)
        if isinstance(limiter, SizeLimitUploadHandler) and limiter.exceeded:
            return _too_large(request, kind)
        if form.is_valid():
            stored = store.save_upload(
                uploaded_file=form.cleaned_data["file"], kind=kind, user_id=request.user.pk, options=form.options()
            )
            return redirect("imports:preview", token=stored.token)
    else:
        form = UploadForm(import_kind=import_kind)
    return render(request, "imports/upload.html", {"form": form, "kind": import_kind})


def _too_large(request, kind):
    # The body is not read: answer at once (413) with the limit in the user's language.
    response = render(request, "imports/too_large.html", {"message": file_too_big_message(None), "kind_key": kind}, status=413)
    response["Connection"] = "close"
    return response


@planner_required
def import_preview(request, token: str):
    """GET: the dry run of the stored file. POST: confirm — validate again, write all or nothing."""
    stored = store.load_upload(token, user_id=request.user.pk)
    if stored is None:
        raise Http404(_("This upload is unknown or has expired; upload the file again."))
    import_kind = kinds.get_kind(stored.kind)
    if request.method == "POST":
        try:
            result = kinds.apply_file(
                stored.kind, stored.path, filename=stored.filename, options=stored.options, user=request.user
            )
        except ImportFileError as error:
            messages.error(request, error.message)
        except kinds.ImportAborted as aborted:
            messages.error(request, _("The file has errors now (the data changed since the preview); nothing was written."))
            return _render_preview(request, aborted.preview, stored, import_kind, status=409)
        else:
            store.discard_upload(token)
            return render(request, "imports/done.html", {"result": result, "kind": import_kind, "filename": stored.filename})
    preview = kinds.preview_file(stored.kind, stored.path, filename=stored.filename, options=stored.options)
    return _render_preview(request, preview, stored, import_kind)


def _render_preview(request, preview, stored, import_kind, status=200) -> HttpResponse:
    errors_first = sorted(preview.fates, key=lambda fate: (fate.fate != "error", fate.row_no))
    context = {
        "preview": preview,
        "stored": stored,
        "kind": import_kind,
        "fates": errors_first[:PREVIEW_ROWS_SHOWN],
        "hidden_count": max(0, preview.row_count - min(len(errors_first), PREVIEW_ROWS_SHOWN)),
    }
    return render(request, "imports/preview.html", context, status=status)


# --- target decomposition -------------------------------------------------------------------


class DecomposeForm(forms.Form):
    """What a planner chooses to split a file of units' targets (campaigns.decomposition_import)."""

    LEVELS = [("units", gettext_lazy("its direct sub-units")), ("staff", gettext_lazy("its staff on a date"))]
    METHODS = [
        ("equal", gettext_lazy("equally")),
        ("weights", gettext_lazy("by weights (pasted, or a file)")),
        ("last_year", gettext_lazy("in proportion to last year's figures")),
    ]
    QUANTA = [("0.01", gettext_lazy("to the fen (0.01)")), ("10000", gettext_lazy("whole 万元"))]

    campaign = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Campaign"))
    targets_file = forms.FileField(
        label=gettext_lazy("Targets to split (.xlsx, .xls or .csv)"),
        help_text=gettext_lazy("机构号, one column per metric (its code or name), optional 期间 and 尾差承担."),
    )
    level = forms.ChoiceField(label=gettext_lazy("Split each unit's target to"), choices=LEVELS)
    method = forms.ChoiceField(label=gettext_lazy("How"), choices=METHODS)
    weights = forms.CharField(
        label=gettext_lazy("Weights: paste two columns (code, weight) from Excel, or one “code weight” per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    weights_file = forms.FileField(
        label=gettext_lazy("or a weights file"),
        required=False,
        help_text=gettext_lazy("机构号 or 工号, and 权重 (for every metric) or one column per metric."),
    )
    last_year_from = forms.DateField(
        label=gettext_lazy("Last year's figures from"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: the campaign's dates one year earlier."),
    )
    last_year_to = forms.DateField(
        label=gettext_lazy("Last year's figures to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    staff_on = forms.DateField(
        label=gettext_lazy("Staff as on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: the campaign's first day."),
    )
    remainder_to = forms.CharField(
        label=gettext_lazy("Rounding remainder goes to (code)"),
        required=False,
        max_length=32,
        help_text=gettext_lazy("Unless the file's 尾差承担 column names someone for that row."),
    )
    amount_quantum = forms.ChoiceField(label=gettext_lazy("Round amounts"), choices=QUANTA, help_text=gettext_lazy("Counts are split in whole numbers."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from campaigns.models import Campaign

        self.fields["campaign"].queryset = Campaign.objects.all()

    def clean(self):
        data = super().clean()
        if data.get("method") == "weights" and not (data.get("weights") or "").strip() and not data.get("weights_file"):
            self.add_error("weights", _("Paste the weights or choose a weights file."))
        if data.get("last_year_from") and data.get("last_year_to") and data["last_year_from"] > data["last_year_to"]:
            self.add_error("last_year_to", _("“To” is before “From”."))
        return data

    def options(self):
        from campaigns.decomposition_import import Options

        data = self.cleaned_data
        return Options(
            campaign_id=data["campaign"].pk,
            level=data["level"],
            method=data["method"],
            remainder_to=(data.get("remainder_to") or "").strip(),
            amount_quantum=Decimal(data["amount_quantum"]),
            staff_on=data.get("staff_on"),
            last_year_from=data.get("last_year_from"),
            last_year_to=data.get("last_year_to"),
            weights_text=data.get("weights") or "",
        )


@csrf_exempt
def decompose_target(request):
    """Upload the targets to split (sizes checked before the body is read, csrf after)."""
    if request.method == "POST":
        if declared_length_too_large(request):
            return _decompose_too_large(request)
        request.upload_handlers.insert(0, SizeLimitUploadHandler(request))
    return _decompose_target(request)


@csrf_protect
@planner_required
def _decompose_target(request):
    if request.method == "POST":
        form = DecomposeForm(request.POST, request.FILES)
        limiter = request.upload_handlers[0]
        if isinstance(limiter, SizeLimitUploadHandler) and limiter.exceeded:
            return _decompose_too_large(request)
        if form.is_valid():
            options = form.options().as_json()
            weights_file = form.cleaned_data.get("weights_file")
            if weights_file and form.cleaned_data["method"] == "weights":
                weights = store.save_upload(uploaded_file=weights_file, kind="decomposition-weights", user_id=request.user.pk, options={})
                options["weights_token"] = weights.token
            stored = store.save_upload(
                uploaded_file=form.cleaned_data["targets_file"], kind="decomposition", user_id=request.user.pk, options=options
            )
            return redirect("imports:decompose-preview", token=stored.token)
    else:
        form = DecomposeForm()
    return render(request, "imports/decompose.html", {"form": form})


def _decompose_too_large(request):
    response = render(
        request, "imports/decompose.html", {"form": DecomposeForm(), "too_large": file_too_big_message(None)}, status=413
    )
    response["Connection"] = "close"
    return response


@planner_required
def decompose_preview(request, token: str):
    """GET: every share of the split, sums checked (``?format=csv``: the split for the target
    import). POST: work it out again and write every share as a target, all or none."""
    from campaigns import decomposition_import

    stored = store.load_upload(token, user_id=request.user.pk)
    if stored is None or stored.kind != "decomposition":
        raise Http404(_("This upload is unknown or has expired; upload the file again."))
    options = dict(stored.options)
    weights = store.load_upload(options.pop("weights_token", ""), user_id=request.user.pk)
    arguments = {
        "filename": stored.filename,
        "options": decomposition_import.Options.from_json(options),
        "weights_path": weights.path if weights else None,
        "weights_filename": weights.filename if weights else "",
    }
    try:
        if request.method == "POST":
            try:
                plan, written = decomposition_import.confirm_decomposition(stored.path, **arguments, by=request.user)
            except decomposition_import.DecompositionAborted as aborted:
                messages.error(request, _("The split has errors now (the data changed since the preview); nothing was written."))
                return _render_split(request, aborted.plan, stored, status=409)
            store.discard_upload(token)
            if weights:
                store.discard_upload(weights.token)
            return render(request, "imports/decompose_done.html", {"plan": plan, "written": written, "stored": stored})
        plan = decomposition_import.plan_decomposition(stored.path, **arguments)
    except ImportFileError as error:
        return render(request, "imports/decompose_preview.html", {"file_error": error.message, "stored": stored}, status=400)
    if request.GET.get("format") == "csv":
        if not plan.ok:
            return _render_split(request, plan, stored, status=409)
        return _split_csv(decomposition_import.shares_csv_rows(plan))
    return _render_split(request, plan, stored)


def _render_split(request, plan, stored, status=200) -> HttpResponse:
    return render(request, "imports/decompose_preview.html", {"plan": plan, "stored": stored}, status=status)


def _split_csv(rows) -> HttpResponse:
    import csv

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="target-split.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    csv.writer(response).writerows(rows)
    return response


# --- figure history -------------------------------------------------------------------------


class FigureHistoryForm(forms.Form):
    unit_code = forms.CharField(label=gettext_lazy("Unit code (机构号)"), required=False, max_length=32)
    employee_no = forms.CharField(label=gettext_lazy("or employee number (工号)"), required=False, max_length=32)
    indicator = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Indicator"))
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from branches.models import Indicator

        self.fields["indicator"].queryset = Indicator.objects.all()

    def clean(self):
        data = super().clean()
        if not data.get("unit_code") and not data.get("employee_no"):
            self.add_error("unit_code", _("Give a unit code or an employee number."))
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("“To” is before “From”."))
        return data


@login_required
def figure_history(request):
    """Every version of one unit's or staff member's figure, with who, when and from where.

    Same scope as every page: a unit or person outside what the user may see is 404. A staff
    member's figures are shown for the days they worked inside the user's scope
    (``access.staff_periods_visible``): figures before a move stay with the old unit.
    """
    from branches import access
    from branches.fact_selectors import fact_history
    from branches.models import Staff, SubjectKind, Unit

    form = FigureHistoryForm(request.GET or None)
    entries = None
    subject = None
    if form.is_valid():
        data = form.cleaned_data
        within = None
        if data["employee_no"]:
            subject = Staff.objects.select_related("unit").filter(employee_no=data["employee_no"]).first()
            if subject is None:
                raise Http404
            within = access.staff_periods_visible(access.scope_for(request.user), subject)
            if within == []:
                raise Http404
            key = (SubjectKind.STAFF, subject.pk)
        else:
            subject = Unit.objects.filter(code=data["unit_code"]).first()
            if subject is None or not access.can_see_unit(request.user, subject):
                raise Http404
            key = (SubjectKind.UNIT, subject.pk)
        entries = fact_history(
            key[0], key[1], data["indicator"].pk, date_from=data["date_from"], date_to=data["date_to"], within=within
        )
    can_correct = roles.PLANNER in roles.roles_of(request.user)
    return render(
        request, "imports/figure_history.html", {"form": form, "entries": entries, "subject": subject, "can_correct": can_correct}
    )


class FigureCorrectionForm(forms.Form):
    unit_code = forms.CharField(label=gettext_lazy("Unit code (机构号)"), required=False, max_length=32)
    employee_no = forms.CharField(label=gettext_lazy("or employee number (工号)"), required=False, max_length=32)
    indicator = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Indicator"))
    business_date = forms.DateField(label=gettext_lazy("Business date"), widget=forms.DateInput(attrs={"type": "date"}))
    value = forms.DecimalField(label=gettext_lazy("Corrected value"), max_digits=20, decimal_places=4)
    reason = forms.CharField(label=gettext_lazy("Reason (shown in the figure's history)"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from branches.models import Indicator

        self.fields["indicator"].queryset = Indicator.objects.all()

    def clean(self):
        from branches.models import Staff, SubjectKind, Unit

        data = super().clean()
        if data.get("employee_no"):
            person = Staff.objects.filter(employee_no=data["employee_no"]).first()
            if person is None:
                self.add_error("employee_no", _("No staff member has this employee number."))
            else:
                data["subject"] = (SubjectKind.STAFF, person.pk)
        elif data.get("unit_code"):
            unit = Unit.objects.filter(code=data["unit_code"]).first()
            if unit is None:
                self.add_error("unit_code", _("No unit has this code."))
            else:
                data["subject"] = (SubjectKind.UNIT, unit.pk)
        else:
            self.add_error("unit_code", _("Give a unit code or an employee number."))
        return data


@planner_required
def figure_correct(request):
    """A planner corrects one figure by hand (手工修改): a new version with who, when and why.

    GET shows the form (filled from the history page's choice); POST writes through
    ``branches.fact_corrections.correct_figure`` and shows the figure's history, or the form with
    the refusal on its field. Planners only: they see the whole bank.
    """
    from django.core.exceptions import ValidationError
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import urlencode

    from branches.fact_corrections import correct_figure

    form = FigureCorrectionForm(request.POST or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind, subject_id = data["subject"]
        try:
            correct_figure(
                indicator_id=data["indicator"].pk, subject_kind=kind, subject_id=subject_id,
                business_date=data["business_date"], value=data["value"], reason=data["reason"], by=request.user,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            query = {"indicator": data["indicator"].pk, "date_from": data["business_date"], "date_to": data["business_date"]}
            query["employee_no" if data["employee_no"] else "unit_code"] = data["employee_no"] or data["unit_code"]
            return redirect(f"{reverse('imports:figure-history')}?{urlencode(query)}")
    return render(request, "imports/figure_correct.html", {"form": form}, status=400 if form.errors else 200)
