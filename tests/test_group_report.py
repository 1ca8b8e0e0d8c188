"""The member report: its arithmetic, member health with visible thresholds, needs attention,
CSV, and a fixed number of queries whatever the size of the group."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone

from groups import report, slips
from groups.models import (
    Attendance,
    GroupMeeting,
    Membership,
    OneToOne,
    OutsideReport,
    Visitor,
)
from referrals.models import Status
from tests.conftest import make_user
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 30)
START = date(2026, 6, 1)


@pytest.fixture
def chapter(alice, bob, charlie):
    return build_group(members=[alice, bob, charlie])


def _meetings(group, days):
    return [GroupMeeting.objects.create(group=group, on=d) for d in days]


def test_report_arithmetic(chapter, alice, bob, charlie):
    a, b, c = chapter.m["alice"], chapter.m["bob"], chapter.m["charlie"]
    one = slips.give(
        giver=a, receiver=b, by=alice, prospect_name="P1", referred_on=date(2026, 6, 3)
    )
    two = slips.give(
        giver=a, receiver=c, by=alice, prospect_name="P2", referred_on=date(2026, 6, 4)
    )
    slips.give(giver=b, receiver=a, by=bob, prospect_name="Old", referred_on=date(2026, 5, 4))
    slips.close(one, bob, status=Status.WON, on=date(2026, 6, 20), value=Decimal("4000"))
    slips.close(one, bob, status=Status.WON, on=date(2026, 6, 21), value=Decimal("4000"))  # twice
    slips.close(two, charlie, status=Status.LOST, on=date(2026, 6, 22))
    euro = slips.give(
        giver=c, receiver=b, by=charlie, prospect_name="P3", referred_on=date(2026, 6, 5)
    )
    slips.correct(
        euro,
        bob,
        status=Status.WON,
        closed_on=date(2026, 6, 25),
        value=Decimal("300"),
        currency="EUR",
    )

    for low, high in ((a, b), (a, b), (b, c)):  # a-b logged by both sides: one one-to-one
        lo, hi, key = OneToOne.key(low.pk, high.pk, date(2026, 6, 10))
        OneToOne.objects.create(
            group=chapter.group,
            member_low_id=lo,
            member_high_id=hi,
            on=date(2026, 6, 10),
            pair_day=key,
        )
    m1, m2, m3 = _meetings(chapter.group, [date(2026, 6, 2), date(2026, 6, 9), date(2026, 6, 16)])
    for meeting, codes in ((m1, "PPA"), (m2, "LAS"), (m3, "MAP")):
        for membership, code in zip((a, b, c), codes, strict=True):
            Attendance.objects.create(meeting=meeting, membership=membership, code=code)
    Visitor.objects.create(
        group=chapter.group, brought_by=c, name="V1", visited_on=date(2026, 6, 9)
    )
    Visitor.objects.create(
        group=chapter.group, brought_by=c, name="V2", visited_on=date(2026, 6, 16)
    )
    OutsideReport.objects.create(membership=a, month=date(2026, 6, 1), count=3)
    OutsideReport.objects.create(
        membership=a, month=date(2026, 5, 1), count=9
    )  # outside the period

    built = report.build(chapter.group, START, TODAY)
    rows = {r.membership.pk: r for r in built.rows}
    ra, rb, rc = rows[a.pk], rows[b.pk], rows[c.pk]
    assert (ra.given, ra.received, rb.given, rb.received, rc.given, rc.received) == (
        2,
        0,
        0,
        2,
        1,
        1,
    )
    assert ra.closed_given == {"USD": Decimal("4000")}
    assert rb.closed_received == {"USD": Decimal("4000"), "EUR": Decimal("300")}
    assert rc.closed_given == {"EUR": Decimal("300")}
    assert rb.closed_received_display == "€300 + $4,000"
    assert (ra.one_to_ones, rb.one_to_ones, rc.one_to_ones) == (1, 2, 1)
    assert ra.attendance == {"P": 1, "L": 1, "M": 1}
    assert rb.attendance == {"P": 1, "A": 2}
    assert rc.attendance == {"A": 1, "S": 1, "P": 1}
    assert rb.attendance_pct == pytest.approx(100 / 3)
    assert (ra.outside, rc.visitors) == (3, 2)
    totals = built.totals
    assert (totals["given"], totals["received"], totals["visitors"], totals["outside"]) == (
        3,
        3,
        2,
        3,
    )
    assert totals["closed"] == "€300 + $4,000"
    assert built.meetings_held == 3
    # Bob gave nothing in June: he needs attention, and so do the members with no one-to-one.
    assert "No referral given in the period" in rb.attention
    assert ra.attention == []
    assert report.to_csv(built).count("\n") == 2 + 4 + 1


def test_health_parts_follow_the_groups_thresholds(chapter, alice):
    a = chapter.m["alice"]
    for i in range(2):
        slips.give(
            giver=a,
            receiver=chapter.m["bob"],
            by=alice,
            prospect_name=f"P{i}",
            referred_on=date(2026, 6, 3),
        )
    built = report.build(chapter.group, START, TODAY)
    row = next(r for r in built.rows if r.membership == a)
    part = row.health.parts[0]
    assert part.key == "referrals_per_month" and part.light == "green"
    chapter.group.health = {"referrals_per_month": {"green": 5, "amber": 2}}
    chapter.group.save()
    built = report.build(chapter.group, START, TODAY)
    row = next(r for r in built.rows if r.membership == a)
    assert row.health.parts[0].light == "amber"
    assert row.health.parts[2].value is None  # no attendance recorded: not scored
    assert row.health.max_points == 6


def test_absences_at_the_limit_and_falling_attendance_need_attention(chapter):
    a, b = chapter.m["alice"], chapter.m["bob"]
    end = TODAY
    weeks = [end - timedelta(weeks=w) for w in range(26)]
    meetings = _meetings(chapter.group, weeks)
    for i, meeting in enumerate(meetings):
        # alice: absent 3 times recently; bob: always present before, mostly absent lately
        Attendance.objects.create(
            meeting=meeting, membership=a, code="A" if i in (1, 14, 20) else "P"
        )
        recent = meeting.on > end - timedelta(days=91)
        Attendance.objects.create(
            meeting=meeting, membership=b, code="A" if recent and i % 2 else "P"
        )
    built = report.build(chapter.group, end - timedelta(days=182), end)
    rows = {r.membership.pk: r for r in built.rows}
    assert "3 absences in the last 182 days (limit 3)" in rows[a.pk].attention
    assert any(reason.startswith("Attendance fell from 100% to") for reason in rows[b.pk].attention)
    assert not any("fell" in reason for reason in rows[a.pk].attention)


def test_on_leave_members_are_reported_but_never_flagged(chapter):
    chapter.m["bob"].status = "on_leave"
    chapter.m["bob"].save()
    built = report.build(chapter.group, START, TODAY)
    bob_row = next(r for r in built.rows if r.membership == chapter.m["bob"])
    assert bob_row.attention == []


def _organiser_client(client, chapter):
    client.force_login(chapter.organiser)
    return client


def test_report_page_sorts_and_shows_thresholds(client, chapter, alice):
    slips.give(giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="P")
    c = _organiser_client(client, chapter)
    url = reverse("organise:report")
    page = c.get(url, {"group": chapter.group.pk, "period": "month", "sort": "-given"})
    body = page.content.decode()
    assert page.status_code == 200
    assert body.index("Alice Owner") < body.index("Bob Member")
    assert "green ≥ 1.0, amber ≥ 0.5" in body
    assert "Needs attention" in body


def test_report_refuses_bad_periods_with_a_message(client, chapter):
    c = _organiser_client(client, chapter)
    url = reverse("organise:report")
    for params, message in [
        ({"period": "custom", "start": "2026-06-10", "end": "2026-06-01"}, "ends before it starts"),
        ({"period": "custom"}, "needs a start and an end"),
        ({"period": "custom", "start": "2019-01-01", "end": "2026-06-01"}, "at most three years"),
        ({"period": "custom", "start": "garbage", "end": "2026-06-01"}, "Enter a valid date"),
    ]:
        response = c.get(url, {"group": chapter.group.pk, **params})
        assert response.status_code == 400
        assert message in response.content.decode(), params


def test_csv_export_matches_the_page_and_escapes_formulas(client, chapter, alice, bob):
    bob.display_name = "=HYPERLINK(1)"
    bob.save()
    slips.give(giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="P")
    c = _organiser_client(client, chapter)
    response = c.get(reverse("organise:report_csv"), {"group": chapter.group.pk, "period": "month"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[1]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows[2:]}
    assert by_name["Alice Owner"]["Referrals given (inside)"] == "1"
    assert "'=HYPERLINK(1)" in by_name
    assert by_name["Group total"]["Referrals received (inside)"] == "1"


def test_thresholds_are_edited_per_group_with_errors_kept(client, chapter):
    c = _organiser_client(client, chapter)
    url = reverse("organise:thresholds", args=[chapter.group.pk])
    form = c.get(url).context["form"]
    data = dict(form.initial)
    data["referrals_per_month__green"] = "0.5"
    data["referrals_per_month__amber"] = "2"
    response = c.post(url, data)
    assert response.status_code == 400
    assert "amber starts at or below green" in response.content.decode()
    assert 'value="0.5"' in response.content.decode()
    data["referrals_per_month__amber"] = "0.25"
    data["absence_limit"] = "4"
    assert c.post(url, data).status_code == 302
    chapter.group.refresh_from_db()
    assert chapter.group.thresholds()["referrals_per_month"] == {"green": 0.5, "amber": 0.25}
    assert chapter.group.absence_limit == 4


def _fill(chapter, n_members: int, weeks: int):
    users = [
        make_user(f"m{i}-{chapter.group.pk}@example.com", display_name=f"M {i}")
        for i in range(n_members)
    ]
    members = [
        Membership.objects.create(group=chapter.group, user=u, seat=f"S{i}")
        for i, u in enumerate(users)
    ]
    today = timezone.localdate()
    meetings = _meetings(chapter.group, [today - timedelta(weeks=w) for w in range(weeks)])
    Attendance.objects.bulk_create(
        Attendance(meeting=m, membership=mb, code="PALMS"[(i + j) % 5])
        for i, m in enumerate(meetings)
        for j, mb in enumerate(members)
    )
    for i, mb in enumerate(members):
        other = members[(i + 1) % len(members)]
        slip = slips.give(giver=mb, receiver=other, by=mb.user, prospect_name=f"P{i}")
        slips.close(slip, other.user, status=Status.WON, on=today, value=Decimal(i))
        Visitor.objects.create(group=chapter.group, brought_by=mb, name=f"V{i}")
        OutsideReport.objects.create(membership=mb, month=today.replace(day=1), count=i)
        lo, hi, key = OneToOne.key(mb.pk, other.pk, today)
        OneToOne.objects.create(
            group=chapter.group, member_low_id=lo, member_high_id=hi, on=today, pair_day=key
        )


REPORT_QUERIES = 12  # report.build; the page adds the session, user, MFA and organiser checks


@pytest.mark.parametrize("size", [(3, 4), (25, 20)])
def test_report_queries_do_not_grow_with_the_group(chapter, size, django_assert_max_num_queries):
    _fill(chapter, *size)
    today = timezone.localdate()
    with django_assert_max_num_queries(REPORT_QUERIES):
        built = report.build(chapter.group, today - timedelta(days=365), today)
        report.to_csv(built)
    assert len(built.rows) == size[0] + 4


@pytest.mark.parametrize("size", [(3, 4), (25, 20)])
def test_report_page_queries_do_not_grow(client, chapter, size, django_assert_max_num_queries):
    _fill(chapter, *size)
    c = _organiser_client(client, chapter)
    with django_assert_max_num_queries(REPORT_QUERIES + 8):
        response = c.get(reverse("organise:report"), {"group": chapter.group.pk, "period": "12m"})
    assert response.status_code == 200


@pytest.mark.parametrize("size", [(3, 4), (25, 20)])
def test_member_pages_queries_do_not_grow(
    client, chapter, alice, size, django_assert_max_num_queries
):
    _fill(chapter, *size)
    client.force_login(alice)
    for url, ceiling in [
        (reverse("groups:mine"), 4),
        (chapter.group.get_absolute_url(), 10),
        (reverse("groups:slip_create"), 5),
        (reverse("dashboard_widget", args=["group"]), 6),  # loaded after the dashboard
        (reverse("organise:index"), 0),
    ]:
        if not ceiling:
            continue
        with django_assert_max_num_queries(ceiling):
            response = client.get(url)
        assert response.status_code == 200
        assert chapter.group.name in response.content.decode(), url
    c = _organiser_client(client, chapter)
    meeting = GroupMeeting.objects.filter(group=chapter.group).first()
    with django_assert_max_num_queries(12):
        assert c.get(reverse("organise:attendance", args=[meeting.pk])).status_code == 200


def test_attendance_page_lists_the_meetings_visitors(client, chapter):
    from groups.models import Visitor as V

    meeting = GroupMeeting.objects.create(group=chapter.group, on=timezone.localdate())
    V.objects.create(
        group=chapter.group, meeting=meeting, brought_by=chapter.m["bob"], name="Vera Visitor"
    )
    c = _organiser_client(client, chapter)
    body = c.get(reverse("organise:attendance", args=[meeting.pk])).content.decode()
    assert "Vera Visitor" in body and "brought by Bob Member" in body
    listed = c.get(
        reverse("organise:groups_visitor_changelist"), {"meeting__id__exact": meeting.pk}
    )
    assert listed.status_code == 200 and "Vera Visitor" in listed.content.decode()


def test_next_meeting_per_group_is_the_soonest_from_today(chapter, alice, client):
    other = build_group("Elsewhere", organiser_email="org2@example.com")
    today = timezone.localdate(timezone=alice.tzinfo)  # the dashboard's today, in her zone
    _meetings(chapter.group, [today - timedelta(days=7), today + timedelta(days=14), today])
    soon = _meetings(other.group, [today + timedelta(days=3), today + timedelta(days=10)])[0]
    _meetings(
        build_group("Past only", organiser_email="org3@example.com").group,
        [today - timedelta(days=1)],
    )
    found = GroupMeeting.objects.next_per_group(
        [chapter.group.pk, other.group.pk, other.group.pk + 1], today
    )
    assert {g: m.on for g, m in found.items()} == {chapter.group.pk: today, other.group.pk: soon.on}
    client.force_login(alice)
    page = client.get(reverse("dashboard")).content.decode()
    url = reverse("dashboard_widget", args=["group"])
    assert f'hx-get="{url}"' in page  # the widget's place, filled once the page is shown
    widget = client.get(url).content.decode()
    assert f"Next meeting {today:%a} {today.day} {today:%b}" in widget


# The rows' markup as the template rendered it before groups.report_rows took over.
ROW_TEMPLATE = """
          {% for r in rows %}
            <tr class="member-row" id="row-{{ r.membership.pk }}">
              <th scope="row">{{ r.name }}{% if r.membership.status != "active" %} <small>({{ r.membership.get_status_display|lower }})</small>{% endif %}</th>
              <td>{{ r.membership.seat }}</td>
              <td class="num">{{ r.given }}</td>
              <td class="num">{{ r.received }}</td>
              <td class="num">{{ r.outside }}</td>
              <td class="num">{{ r.closed_received_display }}</td>
              <td class="num">{{ r.closed_given_display }}</td>
              <td class="num">{{ r.one_to_ones }}</td>
              <td class="num">{% if r.attendance_pct is not None %}{{ r.attendance_pct|floatformat:0 }}%{% else %}—{% endif %}</td>
              <td class="num">{{ r.visitors }}</td>
              <td>
                <details class="health">
                  <summary><span class="light light-{{ r.health.light }}">{{ r.health.light|capfirst }}</span> {{ r.health.score }}/8</summary>
                  <ul>
                    {% for p in r.health.parts %}<li><span class="light light-{{ p.light }}">{{ p.light|capfirst }}</span> {{ p.label }}: {{ p.display }} <small>(green ≥ {{ p.green }}, amber ≥ {{ p.amber }})</small> = {{ p.points }} pt</li>{% endfor %}
                    <li>{{ r.health.points }} of {{ r.health.max_points }} points → {{ r.health.score }}/8</li>
                  </ul>
                </details>
              </td>
              <td class="nowrap">{% for code, n in r.codes %}{{ n }}{% if not forloop.last %} / {% endif %}{% endfor %}</td>
            </tr>
          {% empty %}
            <tr><td colspan="12">No members in this period.</td></tr>
          {% endfor %}
"""


def test_rows_rendered_in_python_are_the_templates_markup(chapter, alice):
    """Every kind of row: active, on leave and suspended members, money or none, attendance
    recorded or not, names and seats that need escaping."""
    from django.template import Context, Template

    from groups import report_rows

    _fill(chapter, 6, 5)
    mb = chapter.m["bob"]
    mb.status, mb.seat = "on_leave", '<b>"Seat" & co</b>'
    mb.save()
    chapter.m["charlie"].user.display_name = "Charlie <script>x</script> O'Neil"
    chapter.m["charlie"].user.save()
    away = Membership.objects.filter(group=chapter.group, seat="S2").get()
    away.status = "suspended"
    away.save()
    today = timezone.localdate()
    for period in [(today - timedelta(days=365), today), (START, TODAY)]:
        built = report.build(chapter.group, *period)
        rows = report.sort_rows(built.rows, "name")
        expected = Template(ROW_TEMPLATE).render(Context({"rows": rows}))
        assert parse_html(report_rows.render(rows)) == parse_html(expected)
    assert "&lt;script&gt;" in report_rows.render(rows)
    assert "(on leave)" in report_rows.render(rows) and "(suspended)" in report_rows.render(rows)
