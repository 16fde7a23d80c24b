"""The home page: one per role. Later issues replace the placeholders with real pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from branches import access, roles
from branches.models import Unit, UserProfile


@login_required
def home(request):
    role = roles.primary_role(request.user)
    scope = access.scope_for(request.user)
    profile = UserProfile.objects.select_related("staff__unit", "scope_unit").filter(user=request.user).first()
    scope_unit = None
    if scope.unit_path:
        scope_unit = Unit.objects.filter(path=scope.unit_path).first()
    context = {
        "role": role,
        "role_label": roles.ROLES[role].label if role else None,
        "profile": profile,
        "scope_unit": scope_unit,
        "visible_unit_count": access.visible_units(request.user).count(),
        "visible_staff_count": access.visible_staff(request.user).count(),
    }
    template = f"branches/home_{role}.html" if role else "branches/home_no_role.html"
    return render(request, template, context)
