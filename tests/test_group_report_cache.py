"""The member report page is cached under the group's ``report_version``: every write the
report reads moves the version on (PostgreSQL triggers, migration groups/0003), so a cached
page is never stale."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from groups import report_page, slips
from groups.models import (
    Attendance,
    Group,
    GroupMeeting,
    Membership,
    OneToOne,
    OutsideReport,
    Slip,
    Visitor,
)
from referrals.models import Status
from tests.conftest import make_user
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def chapter(alice, bob, charlie):
    return build_group(members=[alice, bob, charlie])


@pytest.fixture
def elsewhere():
    """Another group: its writes must leave the chapter's version alone."""
    return build_group("York Chapter", members=[make_user("dora@example.com")])


def _version(group: Group) -> int:
    return Group.objects.values_list("report_version", flat=True).get(pk=group.pk)


def _meeting(chapter, days_ago: int = 0) -> GroupMeeting:
    return GroupMeeting.objects.create(
        group=chapter.group, on=timezone.localdate() - timedelta(days=days_ago)
    )


def _one_to_one(chapter) -> OneToOne:
    a, b = chapter.m["alice"], chapter.m["bob"]
    lo, hi, key = OneToOne.key(a.pk, b.pk, timezone.localdate())
    return OneToOne.objects.create(
        group=chapter.group,
        member_low_id=lo,
        member_high_id=hi,
        on=timezone.localdate(),
        pair_day=key,
    )


def _slip(chapter) -> Slip:
    a = chapter.m["alice"]
    return slips.give(giver=a, receiver=chapter.m["bob"], by=a.user, prospect_name="P")


def _attendance(chapter) -> GroupMeeting:
    meeting = _meeting(chapter)
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, membership=m, code="P") for m in chapter.m.values()
    )
    return meeting


# Each write the report reads, done after whatever it needs exists (the setup).
WRITES = {
    "slip given": (lambda c: None, lambda c, _: _slip(c)),
    "slip closed": (
        _slip,
        lambda c, s: slips.close(s, s.receiver.user, status=Status.LOST, on=timezone.localdate()),
    ),
    "slip moved by a bulk update": (
        _slip,
        lambda c, s: Slip.objects.filter(pk=s.pk).update(referred_on=s.referred_on - timedelta(1)),
    ),
    "slip deleted": (_slip, lambda c, s: s.delete()),
    "one-to-one logged": (lambda c: None, lambda c, _: _one_to_one(c)),
    "one-to-one deleted": (_one_to_one, lambda c, o: o.delete()),
    "meeting held": (lambda c: None, lambda c, _: _meeting(c)),
    "meeting moved to another day": (
        _meeting,
        lambda c, m: GroupMeeting.objects.filter(pk=m.pk).update(on=m.on - timedelta(days=7)),
    ),
    "attendance recorded": (
        _meeting,
        lambda c, m: Attendance.objects.create(meeting=m, membership=c.m["bob"], code="P"),
    ),
    "attendance corrected": (
        _attendance,
        lambda c, m: Attendance.objects.filter(meeting=m).update(code="A"),
    ),
    "attendance deleted": (_attendance, lambda c, m: Attendance.objects.filter(meeting=m).delete()),
    "visitor brought": (
        lambda c: None,
        lambda c, _: Visitor.objects.create(group=c.group, brought_by=c.m["alice"], name="V"),
    ),
    "outside number reported": (
        lambda c: None,
        lambda c, _: OutsideReport.objects.create(
            membership=c.m["alice"], month=timezone.localdate().replace(day=1), count=3
        ),
    ),
    "outside number corrected": (
        lambda c: OutsideReport.objects.create(
            membership=c.m["alice"], month=timezone.localdate().replace(day=1), count=3
        ),
        lambda c, r: OutsideReport.objects.filter(pk=r.pk).update(count=5),
    ),
    "member joined": (
        lambda c: None,
        lambda c, _: Membership.objects.create(group=c.group, user=make_user("eve@example.com")),
    ),
    "member's seat changed": (
        lambda c: None,
        lambda c, _: Membership.objects.filter(pk=c.m["bob"].pk).update(seat="Plumber"),
    ),
    "member left": (
        lambda c: None,
        lambda c, _: Membership.objects.filter(pk=c.m["bob"].pk).update(status="left"),
    ),
    "member renamed": (
        lambda c: None,
        lambda c, _: type(c.organiser)
        .objects.filter(pk=c.m["bob"].user_id)
        .update(display_name="Robert"),
    ),
    "member's e-mail changed": (
        lambda c: None,
        lambda c, _: type(c.organiser)
        .objects.filter(pk=c.m["bob"].user_id)
        .update(email="robert@example.com"),
    ),
    "thresholds edited": (
        lambda c: None,
        lambda c, _: Group.objects.filter(pk=c.group.pk).update(absence_limit=5),
    ),
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_the_report_reads_moves_the_version(chapter, elsewhere, write):
    setup, change = WRITES[write]
    done = setup(chapter)
    other = _version(elsewhere.group)
    before = _version(chapter.group)
    change(chapter, done)
    assert _version(chapter.group) > before
    assert _version(elsewhere.group) == other


def test_a_statement_moves_the_version_once_however_many_rows(chapter):
    meeting = _meeting(chapter)
    before = _version(chapter.group)
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, membership=m, code="P") for m in chapter.m.values()
    )
    assert _version(chapter.group) == before + 1


def test_writes_the_report_does_not_read_leave_the_version(chapter):
    before = _version(chapter.group)
    bob = chapter.m["bob"].user
    type(bob).objects.filter(pk=bob.pk).update(last_login=timezone.now())
    assert _version(chapter.group) == before


def test_a_save_from_a_stale_copy_never_moves_the_version_back(chapter):
    stale = Group.objects.get(pk=chapter.group.pk)
    _slip(chapter)
    _slip(chapter)
    bumped = _version(chapter.group)
    assert stale.report_version < bumped
    stale.name = "Leeds Central"
    stale.save()
    assert _version(chapter.group) > bumped


def _report(client, chapter, **params):
    response = client.get(
        reverse("organise:report"), {"group": chapter.group.pk, "period": "12m", **params}
    )
    assert response.status_code == 200
    # Each response masks its CSRF token anew (the header's log-out form).
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_the_page_shows_each_change_at_once(client, chapter, django_assert_max_num_queries):
    client.force_login(chapter.organiser)
    assert "MARKER-PROSPECT" not in _report(client, chapter)
    first = _report(client, chapter)
    # Served from the cache: none of the report's own queries.
    with django_assert_max_num_queries(8):
        assert _report(client, chapter) == first

    a, b = chapter.m["alice"], chapter.m["bob"]
    slips.give(giver=a, receiver=b, by=a.user, prospect_name="P")
    body = _report(client, chapter)
    assert "<strong>1</strong> referral inside" in body

    b.user.display_name = "Roberta Renamed"
    b.user.save()
    assert "Roberta Renamed" in _report(client, chapter)

    Membership.objects.filter(pk=b.pk).update(seat="Seat-MARKER")
    assert "Seat-MARKER" in _report(client, chapter)

    meeting = _meeting(chapter)
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, membership=m, code="A") for m in chapter.m.values()
    )
    assert "<strong>1</strong> meeting with attendance" in _report(client, chapter)


def test_each_sort_is_cached_apart_and_sorted(client, chapter):
    a, b = chapter.m["alice"], chapter.m["bob"]
    for _ in range(2):
        slips.give(giver=b, receiver=a, by=b.user, prospect_name="P")
    slips.give(giver=a, receiver=b, by=a.user, prospect_name="P")
    client.force_login(chapter.organiser)
    for _ in range(2):  # built, then cached
        most = _report(client, chapter, sort="-given").split("<tbody>")[1]
        least = _report(client, chapter, sort="given").split("<tbody>")[1]
        assert most.index("Bob Member") < most.index("Alice Owner")
        assert least.index("Alice Owner") < least.index("Bob Member")


def test_a_cached_page_is_the_page_built(chapter):
    a, b = chapter.m["alice"], chapter.m["bob"]
    slip = slips.give(giver=a, receiver=b, by=a.user, prospect_name="P")
    slips.close(slip, b.user, status=Status.WON, on=timezone.localdate(), value=Decimal("120"))
    today = timezone.localdate()
    start = today - timedelta(days=365)
    group = Group.objects.get(pk=chapter.group.pk)
    built = report_page.page(group, start, today, "-score")
    cached = report_page.page(group, start, today, "-score")
    assert cached.state() == built.state()
    assert cached.rows == built.rows and "member-row" in cached.rows
    assert cached.needs_attention and cached.needs_attention == built.needs_attention


def test_an_unknown_sort_is_the_name_sort(chapter):
    assert report_page.normal_sort("-bogus") == "name"
    assert report_page.normal_sort(None) == "name"
    assert report_page.normal_sort("-given") == "-given"
