"""Valid HTML on every main page: no form inside a form, no block inside an inline element or
a paragraph, unique ids, labels pointing at a field that exists, tel: links without spaces.
The pages carry real data (a contact with GAINS, a meeting, referrals each way, a follow-up,
a group), so the rows rendered in Python are checked as well as the templates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from contacts.meetings import log_meeting
from contacts.models import Contact, GainsFact, Stage
from followups.models import FollowUp
from referrals.models import Referral
from tests.groups_fixtures import build_group

from .test_accessibility import PAGES

pytestmark = pytest.mark.django_db

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
# Elements whose end tag may be left out (the parser closes them): not tracked.
OPTIONAL_END = {"li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody"}
INLINE = {"a", "span", "small", "strong", "em", "b", "i", "label", "button", "abbr", "code"}
BLOCK = {
    "div", "p", "form", "ul", "ol", "dl", "table", "section", "article", "aside", "header",
    "footer", "nav", "h1", "h2", "h3", "h4", "h5", "h6", "fieldset", "details", "hgroup",
}  # fmt: skip


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.ids: dict[str, int] = {}
        self.label_for: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        where = "/".join(self.open[-4:])
        if tag == "form" and "form" in self.open:
            self.problems.append(f"a form inside a form ({where})")
        if tag in BLOCK and (inside := [t for t in self.open if t in INLINE or t == "p"]):
            self.problems.append(f"<{tag}> inside <{inside[-1]}> ({where})")
        if tag == "p" and "hgroup" in self.open:
            self.problems.append(f"<p> inside <hgroup> ({where})")
        if ident := attrs.get("id"):
            self.ids[ident] = self.ids.get(ident, 0) + 1
        if tag == "label" and attrs.get("for"):
            self.label_for.append(attrs["for"])
        href = attrs.get("href") or ""
        if href.startswith("tel:") and " " in href:
            self.problems.append(f"a tel: link with spaces: {href}")
        if tag not in VOID and tag not in OPTIONAL_END:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID or tag in OPTIONAL_END:
            return
        if tag not in self.open:
            self.problems.append(f"</{tag}> closes nothing ({'/'.join(self.open[-4:])})")
            return
        while self.open and self.open.pop() != tag:
            pass

    def report(self) -> list[str]:
        problems = list(self.problems)
        problems += [f"id {i!r} is used {n} times" for i, n in self.ids.items() if n > 1]
        problems += [f"<label for={f!r}> names no element" for f in self.label_for if f not in self]
        return problems

    def __contains__(self, ident):
        return ident in self.ids


def problems_of(html: str) -> list[str]:
    checker = Checker()
    checker.feed(html)
    checker.close()
    return checker.report()


def test_the_checker_finds_what_it_looks_for():
    bad = (
        "<form><span><form></form></span></form><p><div></div></p><hgroup><p>x</p></hgroup>"
        '<i id="a"></i><b id="a"></b><label for="nope">L</label><a href="tel:+44 1">c</a>'
    )
    found = " | ".join(problems_of(bad))
    for expected in (
        "a form inside a form",
        "<form> inside <span>",
        "<div> inside <p>",
        "<p> inside <hgroup>",
        "id 'a' is used 2 times",
        "<label for='nope'> names no element",
        "a tel: link with spaces",
    ):
        assert expected in found, expected
    assert problems_of('<form><label for="x">X</label><input id="x"></form>') == []


def test_the_main_pages_are_valid_html(alice, alice_client, bob):
    susan = Contact.objects.create(
        owner=alice,
        name="Susan Planner",
        company="Acme",
        phones=["+44 20 7946 0958", "(0113) 496-0000 ext. 12"],
        stage=Stage.CONNECTION,
    )
    raj = Contact.objects.create(owner=alice, name="Raj Realtor", stage=Stage.CONNECTION)
    GainsFact.objects.create(owner=alice, contact=susan, kind="goal", text="A second office")
    log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[susan])
    today = timezone.localdate()
    for direction, status in (("given", "passed"), ("received", "won")):
        Referral.objects.create(
            owner=alice,
            direction=direction,
            partner=susan if direction == "given" else raj,
            prospect_name=f"Prospect {direction}",
            status=status,
            referred_on=today - timedelta(days=10),
            closed_on=today if status == "won" else None,
            value=Decimal("900") if status == "won" else None,
        )
    FollowUp.objects.create(owner=alice, contact=susan, title="Call Susan", due_on=today)
    chapter = build_group(members=[alice, bob])

    found = {}
    paths = [p.format(contact=susan.pk) for p in PAGES]
    paths += [f"/groups/{chapter.group.pk}/", "/referrals/introductions/", "/referrals/spends/"]
    for path in paths:
        response = alice_client.get(path)
        assert response.status_code == 200, path
        if problems := problems_of(response.content.decode()):
            found[path] = problems
    assert found == {}
