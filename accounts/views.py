from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import deletion
from .forms import DeleteAccountForm, ProfileForm


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """GET explains what goes and what stays; POST, confirmed, deletes and logs out."""
    user = request.user
    summary = deletion.summary(user)
    data = request.POST if request.method == "POST" else None  # an empty POST has errors
    form = DeleteAccountForm(data, user=user, request=request)
    if request.method == "POST":
        if summary.blocked:
            messages.error(
                request,
                "Nothing was deleted: first make another member organiser of "
                + ", ".join(g.name for g in summary.handover)
                + ".",
            )
        elif form.is_valid():
            deletion.delete_account(user)
            logout(request)
            messages.success(
                request,
                "Your account is deleted, with your contacts, meetings, ledger and follow-ups. "
                "Your slips stay in your groups' history as “former member”.",
            )
            return redirect("home")
    context = {"form": form, "summary": summary}
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/delete.html", context, status=status)
