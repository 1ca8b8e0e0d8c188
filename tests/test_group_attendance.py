"""The organisers' attendance list: its items rendered in Python (groups.attendance_rows)
are the markup the template partial had, on the page and as the htmx answer to a tap."""

# ruff: noqa: RUF001 - the template below shows an en dash for "not marked"
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone

from groups import attendance_rows
from groups.admin import _attendance_rows
from groups.models import Attendance, GroupMeeting
from tests.conftest import make_user
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db

# The list's items as the template rendered them before groups.attendance_rows took over.
PARTIAL = """{% load partials %}<ul>
    {% for r in rows %}
      {% partialdef member inline %}
        <li id="m-{{ r.membership.pk }}" class="attendance-item">
          {# The button shows the name alone, so its spoken name contains what it shows (WCAG 2.5.3); it covers the whole row (organise.css). #}
          <form method="post" class="mark-row mark-{{ r.attendance.code|default:'none' }}" action="{% url 'organise:attendance_mark' meeting.pk r.membership.pk %}"
                hx-post="{% url 'organise:attendance_mark' meeting.pk r.membership.pk %}" hx-target="#m-{{ r.membership.pk }}" hx-swap="outerHTML">
            {% csrf_token %}
            <input type="hidden" name="cycle" value="1">
            <span class="mark-code" aria-hidden="true">{{ r.attendance.code|default:"–" }}</span>
            <button type="submit" class="mark mark-{{ r.attendance.code|default:'none' }}" aria-label="{{ r.membership.name }}: {% if r.attendance %}{{ r.attendance.get_code_display }}{% else %}not marked{% endif %}. Tap to change.">
              <span class="mark-name">{{ r.membership.name }}</span>
            </button>
            {% if r.membership.seat %}<small class="mark-seat">{{ r.membership.seat }}</small>{% endif %}
          </form>
          {% if r.attendance.code == "S" %}
            <form method="post" class="substitute" action="{% url 'organise:attendance_mark' meeting.pk r.membership.pk %}"
                  hx-post="{% url 'organise:attendance_mark' meeting.pk r.membership.pk %}" hx-target="#m-{{ r.membership.pk }}" hx-swap="outerHTML" hx-trigger="change, submit">
              {% csrf_token %}
              <input type="hidden" name="code" value="S">
              <label for="sub-{{ r.membership.pk }}">Substitute for {{ r.membership.name }}</label>
              <input id="sub-{{ r.membership.pk }}" name="substitute_name" maxlength="120" value="{% if error %}{{ substitute_input }}{% else %}{{ r.attendance.substitute_name }}{% endif %}" autocomplete="off">
              <button type="submit" class="button">Save</button>
            </form>
          {% endif %}
          {% if error %}<p class="errornote" role="alert">{{ error }}</p>{% endif %}
        </li>
      {% endpartialdef %}
    {% empty %}
      <li>No current members joined before this meeting.</li>
    {% endfor %}
</ul>"""


@pytest.fixture
def chapter(alice, bob, charlie):
    odd = make_user("odd@example.com", display_name='Dana <script>x</script> "Q" & O\'Neil')
    built = build_group(members=[alice, bob, charlie, odd])
    built.m["bob"].seat = ""
    built.m["bob"].save()
    meeting = GroupMeeting.objects.create(group=built.group, on=timezone.localdate())
    Attendance.objects.create(meeting=meeting, membership=built.m["alice"], code="P")
    Attendance.objects.create(meeting=meeting, membership=built.m["charlie"], code="A")
    Attendance.objects.create(
        meeting=meeting, membership=built.m["odd"], code="S", substitute_name='Sub <b>"S"</b>'
    )
    built.meeting = meeting
    return built


def _expected(meeting, rows, error="", **extra) -> str:
    context = {"rows": rows, "meeting": meeting, "error": error, "csrf_token": "tok3n", **extra}
    return Template(PARTIAL).render(Context(context))


@pytest.mark.parametrize("error", ["", "This meeting is after the next one: take it <then>."])
def test_the_items_are_the_templates_markup(chapter, error):
    rows = _attendance_rows(chapter.meeting)
    assert {r["attendance"].code if r["attendance"] else "" for r in rows} == {"", "P", "A", "S"}
    rendered = attendance_rows.render(chapter.meeting.pk, rows, "tok3n", error=error)
    assert parse_html(f"<ul>{rendered}</ul>") == parse_html(_expected(chapter.meeting, rows, error))
    assert "&lt;script&gt;" in rendered and "<script>" not in rendered


def test_a_taps_answer_is_the_templates_item(client, chapter):
    client.force_login(chapter.organiser)
    url = reverse("organise:attendance_mark", args=[chapter.meeting.pk, chapter.m["bob"].pk])
    for data, status in [
        ({"cycle": "1"}, 200),
        ({"code": "S", "substitute_name": 'Sam <i>"Sub"</i>'}, 200),
        ({"code": "S", "substitute_name": "x" * 121}, 422),
        ({"code": "Z"}, 422),
    ]:
        response = client.post(url, data, headers={"HX-Request": "true"})
        assert response.status_code == status
        row = Attendance.objects.filter(meeting=chapter.meeting, membership=chapter.m["bob"])
        r = {"membership": chapter.m["bob"], "attendance": row.first()}
        error = (
            ""
            if status == 200
            else html.unescape(re.search(r'role="alert">(.*?)</p>', response.text)[1])
        )
        substitute = " ".join(data.get("substitute_name", "").split())
        expected = _expected(chapter.meeting, [r], error, substitute_input=substitute).replace(
            "tok3n", re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)[1]
        )
        assert parse_html(f"<ul>{response.text}</ul>") == parse_html(expected)


def test_the_page_lists_every_current_member_once(client, chapter):
    client.force_login(chapter.organiser)
    page = client.get(reverse("organise:attendance", args=[chapter.meeting.pk])).text
    assert page.count('class="attendance-item"') == 5  # the organiser and four members
    later = GroupMeeting.objects.create(
        group=chapter.group, on=timezone.localdate() - timedelta(days=3650)
    )
    page = client.get(reverse("organise:attendance", args=[later.pk])).text
    assert "No current members joined before this meeting." in page
