"""The organisers' site at /organise/: a Django AdminSite of its own.

An organiser sees and manages only the groups they organise (``Group.objects.organised_by``,
applied in ``OrganiserAdmin.get_queryset`` and to every foreign-key choice), and only the
group's own tables: memberships, invitations, meetings and attendance, visitors, slips and
their audit trail. Nothing here reads a member's private contacts, meetings, notes, spends,
follow-ups or outside referrals. Entering requires two-factor authentication.

The ordinary /admin/ (staff only) registers the same models for superusers.
"""

from __future__ import annotations

from datetime import date, timedelta

from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from referralcrm.links import csrf_field

from . import attendance_rows, invitations, report, report_page
from .models import (
    ATTENDANCE_CYCLE,
    CURRENT_STATUSES,
    FORMER_MEMBER,
    Attendance,
    AttendanceCode,
    Group,
    GroupMeeting,
    Invitation,
    InvitationState,
    Membership,
    MembershipStatus,
    Role,
    Slip,
    SlipChange,
    Visitor,
)

SCHEDULE_WEEKS = 8
# Only the groups the organiser organises: the plain "group" filter lists every group.
GROUP_FILTER = ("group", admin.RelatedOnlyFieldListFilter)


def organised_ids(request: HttpRequest) -> set[int]:
    """Ids of the groups the user organises, looked up once per request."""
    if not hasattr(request, "_organised_ids"):
        request._organised_ids = set(
            Group.objects.organised_by(request.user).values_list("pk", flat=True)
        )
    return request._organised_ids


class OrganiserSite(admin.AdminSite):
    site_header = "Referral CRM · Organisers"
    site_title = "Organisers"
    index_title = "Your groups"
    site_url = "/dashboard/"
    index_template = "organise/index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        """An active organiser with two-factor authentication (decided once per request)."""
        if not hasattr(request, "_organiser_ok"):
            user = request.user
            request._organiser_ok = bool(
                user.is_active
                and user.is_authenticated
                and organised_ids(request)
                and is_mfa_enabled(user)
            )
        return request._organiser_ok

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Not an organiser's login form: send each kind of visitor where they can go on."""
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("organise:index")
        if not request.user.is_authenticated:
            return redirect_to_login(target, reverse("account_login"))
        if not organised_ids(request):
            return render(request, "organise/not_organiser.html", status=403)
        if not is_mfa_enabled(request.user):
            messages.warning(
                request,
                "The organisers' site needs two-factor authentication: set up an "
                "authenticator app, then open the organisers' site again.",
            )
            return redirect("mfa_activate_totp")
        return redirect(target)

    def get_urls(self):
        custom = [
            path("report/", self.admin_view(self.report_view), name="report"),
            path("report.csv", self.admin_view(self.report_csv), name="report_csv"),
            path(
                "thresholds/<int:group_id>/",
                self.admin_view(self.thresholds_view),
                name="thresholds",
            ),
            path(
                "meetings/<int:meeting_id>/attendance/",
                self.admin_view(self.attendance_view),
                name="attendance",
            ),
            path(
                "meetings/<int:meeting_id>/attendance/<int:membership_id>/",
                self.admin_view(self.attendance_mark),
                name="attendance_mark",
            ),
        ]
        # Without the "view on site" shortcut, which would redirect to any object's page.
        return custom + [u for u in super().get_urls() if getattr(u, "name", "") != "view_on_site"]

    def index(self, request, extra_context=None):
        groups = list(
            Group.objects.filter(pk__in=organised_ids(request)).annotate(
                members=Count("memberships", filter=_current_members())
            )
        )
        upcoming = GroupMeeting.objects.next_per_group([g.pk for g in groups])
        for group in groups:
            group.upcoming = upcoming.get(group.pk)
        return super().index(request, {"groups": groups, **(extra_context or {})})

    # --- Scoping helpers for the custom views -------------------------------------------

    def _group(self, request, group_id) -> Group:
        if group_id not in organised_ids(request):
            raise Http404("No such group of yours.")
        return get_object_or_404(Group, pk=group_id)

    def _meeting(self, request, meeting_id) -> GroupMeeting:
        return get_object_or_404(
            GroupMeeting.objects.select_related("group"),
            pk=meeting_id,
            group__in=organised_ids(request),
        )

    # --- The member report ----------------------------------------------------------------

    def _report_form(self, request) -> ReportForm:
        # The groups (and so each one's report_version) are read before any figure is.
        groups = list(Group.objects.filter(pk__in=organised_ids(request)))
        return ReportForm(request.GET or None, groups=groups)

    def report_view(self, request):
        form = self._report_form(request)
        shown = None
        if form.is_valid():
            data = form.cleaned_data
            shown = report_page.page(data["group"], data["start"], data["end"], data["sort"])
        context = {
            **self.each_context(request),
            "title": "Member report",
            "form": form,
            "report": shown,
            "sort": request.GET.get("sort", "name"),
            "query": request.GET.urlencode(),
            "sortable": SORTABLE,
            "codes": [(c, AttendanceCode(c).label) for c in ATTENDANCE_CYCLE],
        }
        response = TemplateResponse(
            request, "organise/report.html", context, status=200 if shown else 400
        )
        if shown is not None:
            # Rendered now, then the rows' HTML (~600 kB for 300 members) let go: Django's
            # template Context is a reference cycle (each ContextDict points back at it), so
            # whatever it holds waits for a full garbage collection, which a worker with
            # frozen startup objects runs rarely. A worker's memory grew ~30 kB a view.
            response.render()
            shown.rows = ""
        return response

    def report_csv(self, request):
        form = self._report_form(request)
        if not form.is_valid():
            return self.report_view(request)
        data = form.cleaned_data
        built = report.build(data["group"], data["start"], data["end"])
        rows = report.sort_rows(built.rows, data.get("sort") or "name")
        response = HttpResponse(report.to_csv(built, rows), content_type="text/csv; charset=utf-8")
        name = f"member-report-{built.start:%Y%m%d}-{built.end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def thresholds_view(self, request, group_id: int):
        group = self._group(request, group_id)
        form = ThresholdsForm(request.POST or None, group=group)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(
                request, f"Thresholds of {group.name} saved: the report uses them now."
            )
            return redirect(f"{reverse('organise:report')}?group={group.pk}")
        context = {
            **self.each_context(request),
            "title": f"Member health thresholds: {group.name}",
            "group": group,
            "form": form,
        }
        return TemplateResponse(
            request,
            "organise/thresholds.html",
            context,
            status=400 if request.method == "POST" else 200,
        )

    # --- Attendance ------------------------------------------------------------------------

    def attendance_view(self, request, meeting_id: int):
        meeting = self._meeting(request, meeting_id)
        if request.method == "POST" and request.POST.get("all") == "P":
            error = _attendance_error(meeting)
            if error:
                messages.error(request, error)
            else:
                marked = _mark_all_present(meeting, request.user)
                messages.success(request, f"Marked {marked} unmarked member(s) present.")
            return redirect("organise:attendance", meeting_id=meeting.pk)
        rows, error = _attendance_rows(meeting), _attendance_error(meeting)
        return TemplateResponse(
            request,
            "organise/attendance.html",
            {
                **self.each_context(request),
                "title": f"Attendance: {meeting}",
                "meeting": meeting,
                "rows": rows,
                "attendance_items": attendance_rows.render(
                    meeting.pk, rows, get_token(request), error=error
                ),
                "visitors": list(
                    Visitor.objects.filter(meeting=meeting).select_related("brought_by__user")
                ),
                "error": error,
                "codes": [(c, AttendanceCode(c).label) for c in ATTENDANCE_CYCLE],
            },
        )

    def attendance_mark(self, request, meeting_id: int, membership_id: int):
        """Set one member's code (or cycle it): one tap, saved without a page reload."""
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        meeting = self._meeting(request, meeting_id)
        membership = get_object_or_404(
            Membership.objects.select_related("user").filter(
                Q(left_on__isnull=True) | Q(left_on__gte=meeting.on), joined_on__lte=meeting.on
            ),
            pk=membership_id,
            group=meeting.group,
        )
        row = Attendance.objects.filter(meeting=meeting, membership=membership).first()
        error = _attendance_error(meeting)
        code = request.POST.get("code", "")
        substitute = " ".join(request.POST.get("substitute_name", "").split())
        if not error and request.POST.get("cycle"):
            current = row.code if row else ""
            code = ATTENDANCE_CYCLE[
                (ATTENDANCE_CYCLE.index(current) + 1) % len(ATTENDANCE_CYCLE)
                if current in ATTENDANCE_CYCLE
                else 0
            ]
        if not error and code not in ATTENDANCE_CYCLE:
            error = "Unknown attendance code: use P, A, L, M or S."
        if not error and len(substitute) > 120:
            error = "The substitute's name is at most 120 characters."
        if not error:
            values = {"code": code, "recorded_by": request.user, "recorded_at": timezone.now()}
            if code == AttendanceCode.SUBSTITUTE:
                if "substitute_name" in request.POST:
                    values["substitute_name"] = substitute
            else:
                values["substitute_name"] = ""
            row, _ = Attendance.objects.update_or_create(
                meeting=meeting, membership=membership, defaults=values
            )
        status = 422 if error else 200
        if request.htmx:
            mark_url = reverse("organise:attendance_mark", args=[meeting.pk, membership.pk])
            csrf = csrf_field(get_token(request))
            answer = attendance_rows.item(
                mark_url, membership, row, csrf, error=error, substitute_input=substitute
            )
            return HttpResponse(answer, status=status)
        if error:
            messages.error(request, error)
        return redirect(f"{reverse('organise:attendance', args=[meeting.pk])}#m-{membership.pk}")


def _current_members() -> Q:
    return Q(memberships__status__in=CURRENT_STATUSES)


def _attendance_error(meeting: GroupMeeting) -> str:
    """Attendance is taken at or after a meeting, never for one beyond the next."""
    today = timezone.localdate()
    next_one = (
        GroupMeeting.objects.filter(group=meeting.group)
        .upcoming(today)
        .values_list("on", flat=True)
        .first()
    )
    if meeting.on > today and meeting.on != next_one:
        return "This meeting is after the next one: take attendance on the day."
    return ""


def _attendance_rows(meeting: GroupMeeting) -> list[dict]:
    """Each current member's row: only what an item shows (name, seat, mark), as a group
    has hundreds and a full user row cost more to load than its item to write."""
    members = (
        Membership.objects.filter(group=meeting.group)
        .filter(status__in=CURRENT_STATUSES, joined_on__lte=meeting.on)
        .select_related("user")
        .only("pk", "seat", "user_id", "user__display_name", "user__email")
        .order_by("user__display_name", "user__email", "pk")
    )
    marks = {
        a.membership_id: a
        for a in Attendance.objects.filter(meeting=meeting).only(
            "pk", "membership_id", "code", "substitute_name"
        )
    }
    return [{"membership": m, "attendance": marks.get(m.pk)} for m in members]


@transaction.atomic
def _mark_all_present(meeting: GroupMeeting, user) -> int:
    rows = _attendance_rows(meeting)
    missing = [
        Attendance(meeting=meeting, membership=r["membership"], code="P", recorded_by=user)
        for r in rows
        if r["attendance"] is None
    ]
    Attendance.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


SORTABLE = [
    ("name", "Member"),
    ("seat", "Seat"),
    ("given", "Given"),
    ("received", "Received"),
    ("outside", "Outside"),
    ("closed_received", "Closed for them"),
    ("closed_given", "Closed from theirs"),
    ("one_to_ones", "1-2-1s"),
    ("attendance", "Attendance"),
    ("visitors", "Visitors"),
    ("score", "Health"),
]


class ReportForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.none(), empty_label=None)
    period = forms.ChoiceField(choices=report.PERIODS, required=False, initial="month")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.CharField(required=False, max_length=20)

    def __init__(self, data=None, *, groups: list[Group]):
        if data is not None and "group" not in data and groups:
            data = data.copy()
            data["group"] = str(groups[0].pk)
        if data is None and groups:
            data = {"group": str(groups[0].pk), "period": "month"}
        super().__init__(data)
        self.fields["group"].queryset = Group.objects.filter(pk__in=[g.pk for g in groups])
        self.fields["group"].error_messages["invalid_choice"] = (
            "Pick one of the groups you organise."
        )

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        period = data.get("period") or "month"
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("A custom period needs a start and an end date.")
            if end < start:
                raise forms.ValidationError("The period ends before it starts.")
            if (end - start).days > report.MAX_PERIOD_DAYS:
                raise forms.ValidationError("A period is at most three years long.")
            if end > today + timedelta(days=366):
                raise forms.ValidationError("The period ends more than a year from now.")
        else:
            start, end = report.period_bounds(period, today)
        data["start"], data["end"], data["period"] = start, end, period
        return data


class ThresholdsForm(forms.Form):
    """The traffic-light cut-offs, per group, shown on the report."""

    FIELDS = [
        ("referrals_per_month", "Referrals given a month", 100),
        ("one_to_ones_per_month", "One-to-ones a month", 100),
        ("attendance_pct", "Attendance %", 100),
        ("visitors_per_month", "Visitors brought a month", 100),
        ("points", "Health score (of 8 points)", 8),
    ]

    absence_limit = forms.IntegerField(
        label="Absences allowed in the window", min_value=1, max_value=52
    )
    absence_window_days = forms.IntegerField(
        label="Absence window (days)", min_value=7, max_value=730
    )

    def __init__(self, *args, group: Group, **kwargs):
        self.group = group
        thresholds = group.thresholds()
        initial = {
            "absence_limit": group.absence_limit,
            "absence_window_days": group.absence_window_days,
        }
        super().__init__(*args, initial=initial, **kwargs)
        for key, label, top in self.FIELDS:
            for level in ("green", "amber"):
                name = f"{key}__{level}"
                self.fields[name] = forms.DecimalField(
                    label=f"{label}: {level} from",
                    min_value=0,
                    max_value=top,
                    max_digits=6,
                    decimal_places=2,
                )
                self.initial[name] = thresholds[key][level]

    def rows(self):
        return [
            (label, self[f"{key}__green"], self[f"{key}__amber"]) for key, label, _ in self.FIELDS
        ]

    def clean(self):
        data = super().clean()
        for key, label, _ in self.FIELDS:
            green, amber = data.get(f"{key}__green"), data.get(f"{key}__amber")
            if green is not None and amber is not None and amber > green:
                self.add_error(f"{key}__amber", f"{label}: amber starts at or below green.")
        return data

    def save(self) -> None:
        data = self.cleaned_data
        self.group.health = {
            key: {level: float(data[f"{key}__{level}"]) for level in ("green", "amber")}
            for key, _, _ in self.FIELDS
        }
        self.group.absence_limit = data["absence_limit"]
        self.group.absence_window_days = data["absence_window_days"]
        self.group.save(update_fields=["health", "absence_limit", "absence_window_days"])


organise_site = OrganiserSite(name="organise")


# --- Model admins: the group's own tables, scoped to the organiser's groups ------------------


class OrganiserAdmin(admin.ModelAdmin):
    """Everything scoped to the organiser's groups through ``group_lookup``."""

    group_lookup = "group"
    view_on_site = False  # members' pages are theirs; organisers stay in /organise/

    class Media:
        # The organisers' styles (readable breadcrumbs, tables that fit a phone) on the lists
        # and forms too, which use Django's own templates rather than organise/base.html.
        css = {"all": ["css/organise.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(**{f"{self.group_lookup}__in": organised_ids(request)})
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:  # someone else's (or no) object: a 404, as anywhere else
            raise Http404("Nothing of your groups has that id.")
        return obj

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        ids = organised_ids(request)
        if db_field.related_model is Group:
            kwargs["queryset"] = Group.objects.filter(pk__in=ids)
        elif db_field.related_model is Membership:
            kwargs["queryset"] = (
                Membership.objects.filter(group__in=ids)
                .select_related("user", "group")
                .order_by("group__name", "user__display_name")
            )
        elif db_field.related_model is GroupMeeting:
            kwargs["queryset"] = GroupMeeting.objects.filter(group__in=ids).select_related("group")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Group, site=organise_site)
class GroupAdmin(OrganiserAdmin):
    group_lookup = "pk"
    list_display = ["name", "city", "meeting_weekday", "meeting_time", "links"]
    fields = [
        "name",
        "city",
        "meeting_weekday",
        "meeting_time",
        "meeting_place",
        "currency",
        "description",
        "absence_limit",
        "absence_window_days",
    ]
    actions = ["schedule_meetings"]

    def has_add_permission(self, request):
        return False  # groups are started from "My groups"

    @admin.display(description="")
    def links(self, group):
        return format_html(
            '<a href="{}?group={}">Member report</a> · <a href="{}">Thresholds</a>',
            reverse("organise:report"),
            group.pk,
            reverse("organise:thresholds", args=[group.pk]),
        )

    @admin.action(description=f"Schedule the next {SCHEDULE_WEEKS} weekly meetings")
    def schedule_meetings(self, request, queryset):
        made = 0
        for group in queryset:
            before = group.meetings.count()  # bulk_create returns the skipped dates too
            schedule_meetings(group, SCHEDULE_WEEKS)
            made += group.meetings.count() - before
        self.message_user(request, f"Scheduled {made} meeting(s); existing dates were kept.")


def schedule_meetings(group: Group, weeks: int, start: date | None = None) -> list[GroupMeeting]:
    """Meetings on the group's weekday for ``weeks`` weeks from the next one (skips dates
    that already have a meeting)."""
    first = group.next_meeting_date(start)
    wanted = [first + timedelta(weeks=i) for i in range(weeks)]
    rows = [
        GroupMeeting(group=group, on=day, starts_at=group.meeting_time, place=group.meeting_place)
        for day in wanted
    ]
    return GroupMeeting.objects.bulk_create(rows, ignore_conflicts=True)


@admin.register(Membership, site=organise_site)
class MembershipAdmin(OrganiserAdmin):
    list_display = ["name", "email", "seat", "role", "status", "joined_on", "group"]
    list_filter = [GROUP_FILTER, "status", "role"]
    search_fields = ["user__display_name", "user__email", "seat"]
    list_select_related = ["user", "group"]
    fields = ["group", "name", "email", "seat", "role", "status", "joined_on", "left_on"]
    readonly_fields = ["group", "name", "email"]
    actions = ["suspend", "reactivate", "remove"]
    ordering = ["group__name", "user__display_name", "user__email"]

    def has_add_permission(self, request):
        return False  # members join through an invitation

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_former:
            # The account is deleted: the row is history, it can't become a member again.
            return [*self.readonly_fields, "role", "status", "joined_on", "left_on"]
        if obj is not None and obj.user_id == request.user.pk:
            # As in the actions: an organiser can't remove, suspend or demote themselves.
            return [*self.readonly_fields, "role", "status", "left_on"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # As in the actions: "left" has a date (the report keeps leavers' rows by it).
        if obj.status == MembershipStatus.LEFT:
            obj.left_on = obj.left_on or timezone.localdate()
        else:
            obj.left_on = None
        super().save_model(request, obj, form, change)

    @admin.display(description="e-mail", ordering="user__email")
    def email(self, membership):
        return membership.user.email if membership.user else "—"

    @admin.display(description="member", ordering="user__display_name")
    def name(self, membership):
        return membership.name

    def _set_status(self, request, queryset, status: str, verb: str):
        mine = queryset.filter(user=request.user)
        if mine.exists():
            self.message_user(request, "You can't change your own membership here.", messages.ERROR)
            queryset = queryset.exclude(user=request.user)
        if queryset.filter(user__isnull=True).exists():
            self.message_user(
                request, "Former members (accounts deleted) stay as they are.", messages.WARNING
            )
            queryset = queryset.exclude(user__isnull=True)
        changes = {"status": status, "left_on": timezone.localdate() if status == "left" else None}
        count = queryset.update(**changes)
        self.message_user(request, f"{verb} {count} member(s).")

    @admin.action(description="Suspend the selected members")
    def suspend(self, request, queryset):
        self._set_status(request, queryset, MembershipStatus.SUSPENDED, "Suspended")

    @admin.action(description="Reactivate the selected members")
    def reactivate(self, request, queryset):
        self._set_status(request, queryset, MembershipStatus.ACTIVE, "Reactivated")

    @admin.action(description="Remove the selected members (they lose the roster)")
    def remove(self, request, queryset):
        self._set_status(request, queryset, MembershipStatus.LEFT, "Removed")


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["group", "email", "role", "seat"]

    def clean(self):
        data = super().clean()
        group, email = data.get("group"), (data.get("email") or "").lower()
        if group and email and (reason := invitations.refusal(group, email)):
            self.add_error("email", reason)
        return data


@admin.register(Invitation, site=organise_site)
class InvitationAdmin(OrganiserAdmin):
    form = InvitationForm
    list_display = ["email", "group", "role", "seat", "state", "created_at", "expires_at"]
    list_filter = [GROUP_FILTER]
    search_fields = ["email", "seat"]
    list_select_related = ["group"]
    actions = ["resend", "revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [
                "group",
                "email",
                "role",
                "seat",
                "state",
                "created_at",
                "expires_at",
                "sent_at",
                "accepted_at",
            ]
        return []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["group", "email", "role", "seat"]
        return self.get_readonly_fields(request, obj)

    @admin.display(description="state")
    def state(self, invitation):
        return invitation.get_state_display()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.invited_by = request.user
            obj.email = obj.email.lower()
        super().save_model(request, obj, form, change)
        if not change:
            invitations.enqueue(obj)
            self.message_user(request, f"The invitation is on its way to {obj.email}.")

    def message_user(self, request, message, *args, **kwargs):
        if "was added successfully" in str(message):
            return  # said above, in words
        super().message_user(request, message, *args, **kwargs)

    @admin.action(description="Send again (a new link; the old one stops working)")
    def resend(self, request, queryset):
        count = 0
        for invitation in queryset:
            if invitation.state != InvitationState.ACCEPTED:
                invitations.resend(invitation)
                count += 1
        self.message_user(request, f"Sent {count} invitation(s) again.")

    @admin.action(description="Withdraw the selected invitations")
    def revoke(self, request, queryset):
        count = queryset.filter(accepted_at=None, revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Withdrew {count} invitation(s).")


class MeetingForm(forms.ModelForm):
    class Meta:
        model = GroupMeeting
        fields = ["group", "on", "starts_at", "place"]

    def clean(self):
        data = super().clean()
        group, on = data.get("group"), data.get("on")
        if group and on:
            if on > timezone.localdate() + timedelta(days=2 * 366):
                self.add_error("on", "Schedule meetings at most two years ahead.")
            clash = GroupMeeting.objects.filter(group=group, on=on).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("on", f"{group} already meets on {on:%d %b %Y}.")
        return data


@admin.register(GroupMeeting, site=organise_site)
class GroupMeetingAdmin(OrganiserAdmin):
    form = MeetingForm
    list_display = ["on", "group", "starts_at", "place", "attendance_link"]
    list_filter = [GROUP_FILTER]
    date_hierarchy = "on"
    list_select_related = ["group"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(marked=Count("attendance"))

    @admin.display(description="attendance")
    def attendance_link(self, meeting):
        return format_html(
            '<a href="{}">Take attendance</a> ({} marked)',
            reverse("organise:attendance", args=[meeting.pk]),
            meeting.marked,
        )


class VisitorForm(forms.ModelForm):
    class Meta:
        model = Visitor
        fields = ["group", "meeting", "visited_on", "name", "profession", "email", "brought_by"]

    def clean(self):
        data = super().clean()
        group = data.get("group")
        if group and data.get("meeting") and data["meeting"].group_id != group.pk:
            self.add_error("meeting", "Pick a meeting of the same group.")
        if group and data.get("brought_by") and data["brought_by"].group_id != group.pk:
            self.add_error("brought_by", "Pick a member of the same group.")
        return data


@admin.register(Visitor, site=organise_site)
class VisitorAdmin(OrganiserAdmin):
    form = VisitorForm
    list_display = [
        "name",
        "profession",
        "email",
        "visited_on",
        "brought_by_name",
        "group",
        "invited",
    ]
    list_filter = [GROUP_FILTER, ("meeting", admin.RelatedOnlyFieldListFilter), "visited_on"]
    search_fields = ["name", "profession", "email"]
    list_select_related = ["group", "brought_by__user", "invitation"]
    fields = ["group", "meeting", "visited_on", "name", "profession", "email", "brought_by"]
    actions = ["invite"]

    @admin.display(description="brought by")
    def brought_by_name(self, visitor):
        return visitor.brought_by.name if visitor.brought_by else "—"

    @admin.display(description="invited")
    def invited(self, visitor):
        return visitor.invitation.get_state_display() if visitor.invitation else "—"

    @admin.action(description="Invite the selected visitors to join")
    def invite(self, request, queryset):
        sent, skipped = 0, 0
        for visitor in queryset.select_related("group"):
            if (
                not visitor.email
                or visitor.invitation_id
                or invitations.refusal(visitor.group, visitor.email)
            ):
                skipped += 1
                continue
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    group=visitor.group,
                    email=visitor.email.lower(),
                    seat=visitor.profession,
                    role=Role.MEMBER,
                    invited_by=request.user,
                )
                visitor.invitation = invitation
                visitor.save(update_fields=["invitation"])
                invitations.enqueue(invitation)
            sent += 1
        note = (
            f"; skipped {skipped} without an e-mail, already invited or already a member"
            if skipped
            else ""
        )
        self.message_user(request, f"Invited {sent} visitor(s){note}.")


class SlipChangeInline(admin.TabularInline):
    model = SlipChange
    fields = ["changed_at", "who", "label", "old", "new"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="who")
    def who(self, change):
        return change.changed_by or FORMER_MEMBER

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)


@admin.register(Slip, site=organise_site)
class SlipAdmin(OrganiserAdmin):
    """Read-only: slips belong to the two members; their corrections show in the trail."""

    list_display = [
        "referred_on",
        "giver_name",
        "receiver_name",
        "prospect_name",
        "status",
        "value_display",
        "closed_on",
    ]
    list_filter = [GROUP_FILTER, "status"]
    search_fields = ["prospect_name", "giver__user__display_name", "receiver__user__display_name"]
    list_select_related = ["giver__user", "receiver__user"]
    date_hierarchy = "referred_on"
    inlines = [SlipChangeInline]
    fields = [
        "group",
        "giver_name",
        "receiver_name",
        "prospect_name",
        "need",
        "referred_on",
        "temperature",
        "status",
        "value_display",
        "closed_on",
    ]
    readonly_fields = fields

    @admin.display(description="from", ordering="giver__user__display_name")
    def giver_name(self, slip):
        return slip.giver.name

    @admin.display(description="to", ordering="receiver__user__display_name")
    def receiver_name(self, slip):
        return slip.receiver.name

    @admin.display(description="value", ordering="value")
    def value_display(self, slip):
        return slip.value_display or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- The staff admin (/admin/): superusers see everything, for support --------------------


class StaffGroupAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


for model in (Group, Membership, Invitation, GroupMeeting, Visitor, Slip):
    admin.site.register(model, StaffGroupAdmin)
