from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import FollowUp


def _get_followup(request: HttpRequest, pk: int) -> FollowUp:
    return get_object_or_404(FollowUp.objects.for_user(request.user), pk=pk)


@login_required
@require_POST
def mark_done(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _get_followup(request, pk)
    followup.mark_done()
    if request.htmx:
        response = render(request, "followups/widgets/due.html#item", {"item": followup})
        response["HX-Trigger"] = "followupChanged"
        return response
    return redirect("dashboard")
