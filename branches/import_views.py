"""Browser imports (upload → preview → confirm) and the target-decomposition page. Planners only.

The views are thin: they check the role, keep the upload under a token, and call
``branches.imports.kinds`` (preview/apply: django-import-export's dry run, then the import in one
transaction) or ``campaigns.decomposition``.
"""

from __future__ import annotations

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
    LEVELS = [("units", gettext_lazy("its direct sub-units")), ("staff", gettext_lazy("its staff on the date"))]
    METHODS = [
        ("equal", gettext_lazy("equally")),
        ("weights", gettext_lazy("by the weights given")),
        ("last_year", gettext_lazy("in proportion to last year's figures")),
    ]
    QUANTA = [("0.01", gettext_lazy("to the fen (0.01)")), ("1", gettext_lazy("whole numbers (counts)")), ("10000", gettext_lazy("whole 万元"))]

    unit_code = forms.CharField(label=gettext_lazy("Unit code (机构号) whose target is split"), max_length=32)
    level = forms.ChoiceField(label=gettext_lazy("Split to"), choices=LEVELS)
    total = forms.DecimalField(label=gettext_lazy("Target to split (in yuan or the metric's unit)"), max_digits=20, decimal_places=4)
    method = forms.ChoiceField(label=gettext_lazy("How"), choices=METHODS)
    weights = forms.CharField(
        label=gettext_lazy("Weights: one “code weight” per line"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    indicator = forms.ModelChoiceField(queryset=None, required=False, label=gettext_lazy("Last year's figure: indicator"))
    last_year_date = forms.DateField(
        label=gettext_lazy("Last year's figure: date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    on = forms.DateField(label=gettext_lazy("Staff as on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    remainder_to = forms.CharField(label=gettext_lazy("Rounding remainder goes to (code)"), max_length=32)
    quantum = forms.ChoiceField(label=gettext_lazy("Round each share"), choices=QUANTA)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from branches.models import Indicator

        self.fields["indicator"].queryset = Indicator.objects.all()

    def clean(self):
        data = super().clean()
        if data.get("method") == "last_year" and not (data.get("indicator") and data.get("last_year_date")):
            self.add_error("indicator", _("Choose the indicator and the date of last year's figure."))
        if data.get("level") == "staff" and not data.get("on"):
            self.add_error("on", _("Give the date on which the staff are counted."))
        return data


@planner_required
def decompose_target(request):
    """Show the split of a unit's target (and offer it as a CSV for the target import)."""
    from campaigns import decomposition

    form = DecomposeForm(request.GET or None)
    shares = None
    if form.is_valid():
        try:
            participants, subject_kind = _decomposition_participants(form.cleaned_data)
            weights = _decomposition_weights(form.cleaned_data, participants, subject_kind)
            from decimal import Decimal

            shares = decomposition.split(
                form.cleaned_data["method"],
                form.cleaned_data["total"],
                weights,
                remainder_to=form.cleaned_data["remainder_to"],
                quantum=Decimal(form.cleaned_data["quantum"]),
            )
        except decomposition.DecompositionError as error:
            form.add_error(None, str(error))
            shares = None
        if shares is not None and request.GET.get("format") == "csv":
            return _shares_csv(shares, subject_kind)
    return render(request, "imports/decompose.html", {"form": form, "shares": shares and list(shares.items())})


def _decomposition_participants(data) -> tuple[dict[str, int], int]:
    from branches import selectors
    from branches.models import SubjectKind, Unit
    from campaigns.decomposition import DecompositionError

    unit = Unit.objects.filter(code=data["unit_code"]).first()
    if unit is None:
        raise DecompositionError(_("No unit with code %(code)s.") % {"code": data["unit_code"]})
    if data["level"] == "units":
        children = Unit.objects.filter(parent=unit).order_by("code").values_list("code", "pk")
        return dict(children), SubjectKind.UNIT
    staff = selectors.staff_under_on(unit, data["on"]).order_by("employee_no").values_list("employee_no", "pk")
    return dict(staff), SubjectKind.STAFF


def _decomposition_weights(data, participants: dict[str, int], subject_kind: int):
    from decimal import Decimal, InvalidOperation

    from campaigns import decomposition

    if data["method"] == decomposition.LAST_YEAR:
        return decomposition.last_year_figures(
            subject_kind=subject_kind, subjects=participants, indicator_id=data["indicator"].pk, on=data["last_year_date"]
        )
    if data["method"] == decomposition.EQUAL:
        return {code: Decimal(1) for code in participants}
    weights = {}
    for line_no, line in enumerate((data.get("weights") or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").replace("\t", " ").split()
        try:
            code, weight = parts[0], Decimal(parts[1])
        except (IndexError, InvalidOperation):
            raise decomposition.DecompositionError(
                _("Weights, line %(line)s: write a code and a number, e.g. “B1 3”.") % {"line": line_no}
            ) from None
        if code not in participants:
            raise decomposition.DecompositionError(
                _("Weights, line %(line)s: %(code)s is not one of the participants.") % {"line": line_no, "code": code}
            )
        weights[code] = weight
    return weights


def _shares_csv(shares, subject_kind) -> HttpResponse:
    import csv

    from branches.models import SubjectKind

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="target-split.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    writer = csv.writer(response)
    writer.writerow(["工号" if subject_kind == SubjectKind.STAFF else "机构号", "target"])
    for code, share in shares.items():
        writer.writerow([code, share])
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
        return data


@login_required
def figure_history(request):
    """Every version of one unit's or staff member's figure, with who, when and from where.

    Same scope as every page: a unit or person outside what the user may see is 404.
    """
    from branches import access
    from branches.fact_selectors import fact_history
    from branches.models import Staff, SubjectKind, Unit

    form = FigureHistoryForm(request.GET or None)
    entries = None
    subject = None
    if form.is_valid():
        data = form.cleaned_data
        if data["employee_no"]:
            subject = Staff.objects.select_related("unit").filter(employee_no=data["employee_no"]).first()
            if subject is None or not access.can_see_staff(request.user, subject):
                raise Http404
            key = (SubjectKind.STAFF, subject.pk)
        else:
            subject = Unit.objects.filter(code=data["unit_code"]).first()
            if subject is None or not access.can_see_unit(request.user, subject):
                raise Http404
            key = (SubjectKind.UNIT, subject.pk)
        entries = fact_history(key[0], key[1], data["indicator"].pk, date_from=data["date_from"], date_to=data["date_to"])
    return render(request, "imports/figure_history.html", {"form": form, "entries": entries, "subject": subject})
