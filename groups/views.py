"""Members' pages: my groups, the roster, slips between members, joining by invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.adapter import PENDING_INVITE
from referralcrm.http import parse_id

from . import invitations, slips
from .forms import (
    CloseSlipForm,
    CorrectSlipForm,
    GroupForm,
    NoteForm,
    OutsideForm,
    SharingForm,
    SlipForm,
    VisitorForm,
)
from .members import contact_for, current_memberships, fellow_membership
from .models import (
    CURRENT_STATUSES,
    GAINS_PARTS,
    Membership,
    MembershipStatus,
    OutsideReport,
    Role,
    Slip,
)
from .roster import render as render_roster

ROSTER_PAGE = 100
_NAMES = ("display_name", "email")
ROSTER_FIELDS = (
    *("group_id", "user_id", "role", "seat", "status", "shared_gains"),
    *(f"user__{f}" for f in (*_NAMES, "business_name", *(part for part, _ in GAINS_PARTS))),
)
MY_SLIP_FIELDS = (
    *("group_id", "giver_id", "receiver_id", "prospect_name", "referred_on", "status"),
    *("value", "currency", "giver__user_id", "receiver__user_id"),
    *(f"{side}__user__{f}" for side in ("giver", "receiver") for f in _NAMES),
)


# --- Scoping: the only ways these views fetch group data by id ------------------------


def _my_membership(request: HttpRequest, group_pk: int) -> Membership:
    """The user's current membership of the group; 404 for non-members and ex-members."""
    return get_object_or_404(
        current_memberships(request.user).select_related("group", "user"), group_id=group_pk
    )


def _get_slip(request: HttpRequest, pk: int) -> Slip:
    """A slip the user gave or received; 404 for anyone else (organisers use /organise/)."""
    return get_object_or_404(
        Slip.objects.for_party(request.user).select_related(
            "group", "giver__user", "receiver__user"
        ),
        pk=pk,
    )


# --- My groups ----------------------------------------------------------------------------


@login_required
def my_groups(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.of_user(request.user)
        .exclude(status=MembershipStatus.LEFT)
        .select_related("group")
        .order_by("group__name")
    )
    return render(request, "groups/my_groups.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None, initial={"currency": request.user.default_currency})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            group = form.save()
            Membership.objects.create(
                group=group, user=request.user, role=Role.ORGANISER, seat=request.user.profession
            )
        messages.success(
            request,
            f"{group.name} is started and you are its organiser. Invite members from the "
            "organisers' site.",
        )
        return redirect(group)
    return render(request, "groups/group_form.html", {"form": form})


def _detail_context(request: HttpRequest, me: Membership, **forms) -> dict:
    group = me.group
    # Only what the rows show (groups/roster.py): a page of 100 members and their users.
    roster = (
        Membership.objects.filter(group=group, status__in=CURRENT_STATUSES)
        .select_related("user")
        .only(*ROSTER_FIELDS)
        .order_by("user__display_name", "user__email", "pk")
    )
    page = Paginator(roster, ROSTER_PAGE).get_page(request.GET.get("page"))
    members = list(page.object_list)
    linked = dict(
        request.user.contacts.filter(linked_user__in=[m.user_id for m in members]).values_list(
            "linked_user", "pk"
        )
    )
    for m in members:
        m.my_contact_id = linked.get(m.user_id)
    rows = render_roster(
        members, user_id=request.user.pk, group_id=group.pk, csrf_token=get_token(request)
    )
    today = timezone.localdate()
    outside = OutsideReport.objects.filter(membership=me, month=today.replace(day=1)).first()
    return {
        "group": group,
        "me": me,
        "page": page,
        "members": members,
        "roster_rows": rows,
        "sharing_form": SharingForm(initial={"shared": me.shared_gains}),
        "outside_form": OutsideForm(initial={"count": outside.count if outside else 0}),
        "visitor_form": VisitorForm(group=group, initial={"visited_on": today}),
        "my_slips": list(
            Slip.objects.filter(group=group)
            .filter(Q(giver=me) | Q(receiver=me))
            .select_related("giver__user", "receiver__user")
            .only(*MY_SLIP_FIELDS)
            .order_by("-referred_on", "-pk")[:10]
        ),
        "next_meeting": group.meetings.upcoming(today).first(),
        **forms,
    }


@login_required
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    me = _my_membership(request, pk)
    return render(request, "groups/group_detail.html", _detail_context(request, me))


@login_required
@require_POST
def member_contact(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Add a fellow member to my contacts (linked), or open the contact I have for them."""
    me = _my_membership(request, pk)
    member = get_object_or_404(
        Membership.objects.filter(group=me.group, status__in=CURRENT_STATUSES).select_related(
            "user"
        ),
        pk=member_pk,
    )
    if member.user_id == request.user.pk:
        raise Http404("That is you.")
    contact, created = contact_for(request.user, member.user, member.seat)
    if request.POST.get("then") == "log":
        return redirect(f"{reverse('contacts:meeting_log')}?contact={contact.pk}")
    if created:
        messages.success(
            request, f"{contact.name} is in your contacts, linked to their group profile."
        )
    return redirect(contact)


@login_required
@require_POST
def sharing(request: HttpRequest, pk: int) -> HttpResponse:
    me = _my_membership(request, pk)
    form = SharingForm(request.POST)
    if form.is_valid():
        me.shared_gains = form.cleaned_data["shared"]
        me.save(update_fields=["shared_gains"])
        messages.success(request, f"Saved what {me.group.name} sees of your profile.")
    else:
        messages.error(request, "Pick parts of your GAINS profile from the list.")
    return redirect(f"{me.group.get_absolute_url()}#sharing")


@login_required
@require_POST
def outside(request: HttpRequest, pk: int) -> HttpResponse:
    me = _my_membership(request, pk)
    form = OutsideForm(request.POST)
    if form.is_valid():
        month = timezone.localdate().replace(day=1)
        OutsideReport.objects.update_or_create(
            membership=me, month=month, defaults={"count": form.cleaned_data["count"]}
        )
        messages.success(request, "Reported. Only the number is shared with the group.")
        return redirect(f"{me.group.get_absolute_url()}#outside")
    return _detail_with_form(request, me, "outside_form", form)


@login_required
@require_POST
def visitor_create(request: HttpRequest, pk: int) -> HttpResponse:
    me = _my_membership(request, pk)
    form = VisitorForm(request.POST, group=me.group)
    if form.is_valid():
        visitor = form.save(commit=False)
        visitor.group, visitor.brought_by = me.group, me
        visitor.meeting = me.group.meetings.filter(on=visitor.visited_on).first()
        visitor.save()
        messages.success(request, f"Thank you for bringing {visitor.name}: the organisers see it.")
        return redirect(f"{me.group.get_absolute_url()}#visitors")
    return _detail_with_form(request, me, "visitor_form", form)


def _detail_with_form(request, me: Membership, name: str, form) -> HttpResponse:
    """The group page again with one form's errors and its input kept."""
    context = _detail_context(request, me, **{name: form})
    return render(request, "groups/group_detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    me = _my_membership(request, pk)
    if request.method == "POST":
        me.leave()
        messages.success(
            request,
            f"You left {me.group.name}. Your slips stay in its history; your contacts and "
            "ledger are yours as before.",
        )
        return redirect("groups:mine")
    return render(request, "groups/leave.html", {"me": me, "group": me.group})


# --- Slips ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def slip_create(request: HttpRequest) -> HttpResponse:
    mine = list(current_memberships(request.user).select_related("group"))
    if not mine:
        messages.info(request, "Slips go to fellow members of a group: join or start one first.")
        return redirect("groups:mine")
    fellows = list(
        Membership.objects.filter(
            group__in=[m.group_id for m in mine], status=MembershipStatus.ACTIVE
        )
        .exclude(user=request.user)
        .select_related("user", "group")
        .order_by("group__name", "user__display_name", "user__email")
    )
    initial = {}
    if to := parse_id(request.GET.get("to")):
        initial["receiver"] = to
    form = SlipForm(request.POST or None, giver_memberships=mine, fellows=fellows, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        slip = slips.give(
            giver=data["giver_membership"],
            receiver=data["receiver_membership"],
            by=request.user,
            prospect_name=data["prospect_name"],
            prospect_reach=data["prospect_reach"],
            need=data["need"],
            referred_on=data["referred_on"],
            temperature=data["temperature"],
            note=data["note"],
        )
        messages.success(
            request, f"Slip passed to {slip.receiver.name}: it is in both your ledgers."
        )
        return redirect(slip)
    return render(request, "groups/slip_form.html", {"form": form, "fellows": fellows})


def _slip_context(request, slip: Slip, **extra) -> dict:
    row = slips.own_row(slip, request.user)
    is_receiver = slip.receiver.user_id == request.user.pk
    return {
        "slip": slip,
        "is_receiver": is_receiver,
        "is_giver": not is_receiver,
        "row": row,
        "changes": list(slip.changes.select_related("changed_by")),
        "close_form": CloseSlipForm(slip=slip),
        "note_form": NoteForm(initial={"notes": row.notes if row else ""}),
        **extra,
    }


@login_required
def slip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    slip = _get_slip(request, pk)
    return render(request, "groups/slip_detail.html", _slip_context(request, slip))


@login_required
@require_POST
def slip_advance(request: HttpRequest, pk: int) -> HttpResponse:
    slip = _get_slip(request, pk)
    if slip.receiver.user_id != request.user.pk:
        messages.error(request, "The member who received the slip moves it forward.")
    elif slips.advance(slip, request.user):
        messages.success(request, f"Moved to “{slip.get_status_display()}”.")
    else:
        messages.info(request, "It had already moved on; here it is as it stands.")
    return redirect(slip)


@login_required
@require_http_methods(["GET", "POST"])
def slip_close(request: HttpRequest, pk: int) -> HttpResponse:
    slip = _get_slip(request, pk)
    if slip.receiver.user_id != request.user.pk:
        messages.error(request, "The member who received the slip closes it; you can correct it.")
        return redirect(slip)
    if not slip.is_open:
        messages.info(
            request,
            f"This slip is already closed ({slip.get_status_display().lower()}"
            f"{', ' + slip.value_display if slip.value is not None else ''}). "
            "Nothing was added; correct it below if something is wrong.",
        )
        return redirect(slip)
    form = CloseSlipForm(request.POST or None, slip=slip)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if slips.close(
            slip, request.user, status=data["status"], on=data["closed_on"], value=data["value"]
        ):
            if slip.status == "won":
                messages.success(
                    request,
                    f"Closed: {slip.value_display}. {slip.giver.name} will hear of your thank-you.",
                )
            else:
                messages.success(request, f"Closed: {slip.get_status_display().lower()}.")
        else:
            messages.info(request, "This slip was already closed: nothing was added.")
        return redirect(slip)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "groups/slip_detail.html",
        _slip_context(request, slip, close_form=form),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def slip_correct(request: HttpRequest, pk: int) -> HttpResponse:
    slip = _get_slip(request, pk)
    form = CorrectSlipForm(request.POST or None, slip=slip)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = slips.correct(
            slip,
            request.user,
            **{k: data[k] for k in ("status", "value", "currency", "referred_on", "closed_on")},
        )
        if changes:
            messages.success(
                request,
                f"Corrected {', '.join(c.field.replace('_', ' ') for c in changes)}: "
                "both of you and the organisers see the change in the history.",
            )
        else:
            messages.info(request, "Nothing changed.")
        return redirect(slip)
    status = 400 if request.method == "POST" else 200
    return render(request, "groups/slip_correct.html", {"slip": slip, "form": form}, status=status)


@login_required
@require_POST
def slip_note(request: HttpRequest, pk: int) -> HttpResponse:
    slip = _get_slip(request, pk)
    form = NoteForm(request.POST)
    row = slips.own_row(slip, request.user)
    if row is None:
        messages.error(request, "Your ledger row of this slip was deleted with its contact.")
    elif form.is_valid():
        row.notes = form.cleaned_data["notes"]
        row.save(update_fields=["notes", "updated_at"])
        messages.success(request, "Your private note is saved.")
    else:
        return render(
            request,
            "groups/slip_detail.html",
            _slip_context(request, slip, note_form=form),
            status=400,
        )
    return redirect(slip)


@login_required
@require_POST
def pick_member(request: HttpRequest, member_pk: int) -> HttpResponse:
    """Pick a fellow member in the contact picker: their linked contact, made if need be."""
    member = fellow_membership(request.user, member_pk)
    if member is None or member.user_id == request.user.pk:
        raise Http404("No such fellow member.")
    contact, _ = contact_for(request.user, member.user, member.seat)
    if contact.is_archived:
        contact.unarchive()
    field = request.GET.get("field", "attendees")
    return render(request, "contacts/picker.html#chip", {"contact": contact, "field": field})


# --- Invitations ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation e-mail: see the group, then sign up or log in, then join.

    GET only shows; joining is a POST (mail scanners that follow links change nothing).
    """
    try:
        invitation = invitations.read(token)
        user = request.user if request.user.is_authenticated else None
        invitations.check(invitation, user)
    except invitations.InvitationError as exc:
        request.session.pop(PENDING_INVITE, None)
        context = {"error": exc, "invitation": exc.invitation}
        status = 200 if exc.code == "used_by_you" else 400
        if exc.code == "wrong_account":
            status = 403
        return render(request, "groups/join.html", context, status=status)
    if user is None:
        # After sign-up (and e-mail verification) or log-in, allauth brings them back here.
        request.session[PENDING_INVITE] = token
        return render(request, "groups/join.html", {"invitation": invitation, "token": token})
    if request.method == "POST":
        try:
            membership = invitations.accept(invitation, user)
        except invitations.InvitationError as exc:
            return render(
                request, "groups/join.html", {"error": exc, "invitation": invitation}, status=400
            )
        request.session.pop(PENDING_INVITE, None)
        messages.success(request, f"Welcome to {membership.group.name}!")
        return redirect(membership.group)
    return render(request, "groups/join.html", {"invitation": invitation, "token": token})
