"""Invitations: an organiser invites by e-mail, the invitee follows the link, logs in, joins.

The organiser adds the invitation on the organisers' site; ``groups.invitations.send``
writes the e-mail (read from the locmem outbox). The link shows the group to anyone, keeps
the token in the session through the log-in, and joins only on a POST, once. Expired,
used, tampered, withdrawn, replaced and wrong-account links each say what happened and
change nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.adapter import PENDING_INVITE
from groups import invitations
from groups.models import Invitation, Membership, MembershipStatus, Role, Visitor
from tests.conftest import PASSWORD, make_user
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db

LINK = re.compile(re.escape(settings.SITE_URL) + r"(/groups/join/[^/\s]+/)")


@pytest.fixture
def chapter(alice, bob):
    return build_group("Leeds Chapter", members=[alice, bob], organiser_email="org@example.com")


@pytest.fixture
def dave(db):
    return make_user("dave@example.com", display_name="Dave Invitee")


@pytest.fixture
def org_client(client, chapter):
    client.force_login(chapter.organiser)
    return client


def _add_invitation(org_client, chapter, email: str, seat: str = "Plumber"):
    return org_client.post(
        reverse("organise:groups_invitation_add"),
        {"group": chapter.group.pk, "email": email, "role": Role.MEMBER, "seat": seat},
    )


def _send_and_read_link(invitation: Invitation) -> str:
    """Send the invitation's e-mail and return the path of the link in it."""
    before = len(mail.outbox)
    assert invitations.send(invitation.pk) == "sent"
    assert len(mail.outbox) == before + 1
    message = mail.outbox[-1]
    assert message.to == [invitation.email]
    links = LINK.findall(message.body)
    assert len(links) == 1
    html = message.alternatives[0][0]
    assert links[0] in html
    # The e-mail stylesheet, inlined for mail clients.
    assert re.search(r'<a [^>]*class="button-large"[^>]*style="[^"]*background: ?#1f6f5c', html)
    return links[0]


@pytest.fixture
def invited(org_client, chapter, dave, django_capture_on_commit_callbacks):
    """Dave invited through the organisers' site, and the link from the e-mail."""
    with django_capture_on_commit_callbacks() as callbacks:
        response = _add_invitation(org_client, chapter, "Dave@Example.com")
    assert response.status_code == 302
    assert len(callbacks) == 1  # the e-mail is queued once the row is committed
    invitation = Invitation.objects.get(group=chapter.group)
    org_client.logout()
    return invitation, _send_and_read_link(invitation)


def _login(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def _memberships(user) -> list:
    return list(Membership.objects.filter(user=user).values("group", "status", "role", "seat"))


# --- The happy path ---------------------------------------------------------------------------


def test_organiser_adds_an_invitation_that_is_e_mailed(org_client, chapter, dave):
    response = _add_invitation(org_client, chapter, "Dave@Example.com", seat="Plumber")

    assert response.status_code == 302
    invitation = Invitation.objects.get(group=chapter.group)
    assert (invitation.email, invitation.seat, invitation.role) == (
        "dave@example.com",
        "Plumber",
        Role.MEMBER,
    )
    assert invitation.invited_by == chapter.organiser
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    assert "The invitation is on its way to dave@example.com." in (
        org_client.get(response.url).content.decode()
    )
    link = _send_and_read_link(invitation)
    message = mail.outbox[-1]
    assert "Leeds Chapter" in message.subject
    assert "Plumber" in message.body
    assert link.startswith("/groups/join/")


def test_anonymous_visitor_sees_the_group_and_the_token_is_kept(client, invited):
    invitation, link = invited

    response = client.get(link)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Join Leeds Chapter" in html
    assert "dave@example.com" in html
    assert f'href="{reverse("account_signup")}?next=' in html
    assert f'href="{reverse("account_login")}?next=' in html
    assert '<form method="post">' not in html  # no join button before logging in
    assert client.session[PENDING_INVITE] == link.split("/")[-2]
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_invitee_logs_in_comes_back_and_joins_once(client, invited, chapter, dave):
    invitation, link = invited
    client.get(link)

    login = _login(client, dave)

    assert login.status_code == 302
    assert login.url == link  # the adapter brings them back to the invitation
    page = client.get(link)
    assert page.status_code == 200
    assert '<button type="submit">Join Leeds Chapter</button>' in page.content.decode()
    assert not Membership.objects.filter(user=dave).exists()  # GET never joins

    joined = client.post(link)

    assert joined.status_code == 302
    assert joined.url == chapter.group.get_absolute_url()
    membership = Membership.objects.get(group=chapter.group, user=dave)
    assert (membership.status, membership.role, membership.seat) == (
        MembershipStatus.ACTIVE,
        Role.MEMBER,
        "Plumber",
    )
    invitation.refresh_from_db()
    assert invitation.accepted_by == dave and invitation.accepted_at is not None
    assert PENDING_INVITE not in client.session
    assert client.get(joined.url).status_code == 200  # the roster is open to dave

    # A double click: nothing more, and it says so.
    again = client.post(link)
    assert again.status_code == 200
    assert "You have already joined Leeds Chapter." in again.content.decode()
    assert Membership.objects.filter(user=dave).count() == 1
    assert _memberships(dave) == [
        {"group": chapter.group.pk, "status": "active", "role": "member", "seat": "Plumber"}
    ]


def test_after_login_without_an_invitation_the_dashboard_is_the_landing(client, dave):
    response = _login(client, dave)

    assert response.status_code == 302
    assert response.url == reverse("dashboard")


def test_get_never_joins_even_logged_in(client, invited, dave):
    invitation, link = invited
    client.force_login(dave)

    for _ in range(3):  # a mail scanner, a preview, a reload
        assert client.get(link).status_code == 200

    assert not Membership.objects.filter(user=dave).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


# --- Links that can't be used -----------------------------------------------------------------


def _assert_refused(response, status: int, words: str) -> None:
    assert response.status_code == status
    html = response.content.decode()
    assert words in html
    assert "This invitation can't be used" in html
    assert '<button type="submit">Join' not in html


def test_an_expired_link_says_so_and_changes_nothing(client, invited, dave):
    invitation, link = invited
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save(update_fields=["expires_at"])

    anonymous = client.get(link)
    client.force_login(dave)
    get = client.get(link)
    post = client.post(link)

    for response in (anonymous, get, post):
        _assert_refused(response, 400, "This invitation has expired.")
    assert PENDING_INVITE not in client.session
    assert not Membership.objects.filter(user=dave).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_used_link_refuses_another_account(client, invited, chapter, dave, charlie):
    invitation, link = invited
    client.force_login(dave)
    assert client.post(link).status_code == 302
    client.force_login(charlie)

    get = client.get(link)
    post = client.post(link)

    for response in (get, post):
        _assert_refused(response, 400, "This invitation has already been used.")
    assert not Membership.objects.filter(user=charlie).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == dave


def test_a_tampered_link_says_so(client, invited, dave):
    invitation, link = invited
    token = link.split("/")[-2]
    middle = len(token) // 3
    swapped = "A" if token[middle] != "A" else "B"
    tampered = reverse("groups:join", args=[token[:middle] + swapped + token[middle + 1 :]])
    client.force_login(dave)

    get = client.get(tampered)
    post = client.post(tampered)
    cut = client.post(reverse("groups:join", args=[token[:-5]]))

    for response in (get, post, cut):
        _assert_refused(response, 400, "This invitation link is not valid")
    assert not Membership.objects.filter(user=dave).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_withdrawn_invitation_says_so(client, org_client, chapter, dave):
    _add_invitation(org_client, chapter, "dave@example.com")
    invitation = Invitation.objects.get(group=chapter.group)
    link = _send_and_read_link(invitation)

    withdrawn = org_client.post(
        reverse("organise:groups_invitation_changelist"),
        {"action": "revoke", "index": "0", "_selected_action": [str(invitation.pk)]},
    )
    assert withdrawn.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    client.force_login(dave)

    for response in (client.get(link), client.post(link)):
        _assert_refused(response, 400, "This invitation was withdrawn by the organiser.")
    assert not Membership.objects.filter(user=dave).exists()


def test_the_wrong_account_is_told_whose_invitation_it_is(client, invited, charlie):
    invitation, link = invited
    client.force_login(charlie)

    get = client.get(link)
    post = client.post(link)

    for response in (get, post):
        _assert_refused(
            response,
            403,
            "This invitation was sent to dave@example.com, but you are logged in as "
            "charlie@example.com.",
        )
        assert "Log out, then use the link again" in response.content.decode()
    assert not Membership.objects.filter(user=charlie).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


# --- The organiser's side ---------------------------------------------------------------------


def test_inviting_a_current_member_is_refused(org_client, chapter, alice):
    before = Invitation.objects.count()

    response = _add_invitation(org_client, chapter, "ALICE@example.com")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["email"]
    assert errors == ["alice@example.com is already a member of Leeds Chapter."]
    assert Invitation.objects.count() == before


def test_inviting_an_e_mail_with_a_waiting_invitation_is_refused(org_client, chapter, dave):
    assert _add_invitation(org_client, chapter, "dave@example.com").status_code == 302

    response = _add_invitation(org_client, chapter, "Dave@example.com")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["email"]
    assert errors == ["dave@example.com already has a waiting invitation: resend it from the list."]
    assert Invitation.objects.filter(group=chapter.group).count() == 1


def test_a_former_member_and_an_expired_invitee_can_be_invited_again(org_client, chapter, dave):
    chapter.m["bob"].leave()
    old = Invitation.objects.create(
        group=chapter.group,
        email="dave@example.com",
        expires_at=timezone.now() - timedelta(days=1),
    )

    for email in ("bob@example.com", "dave@example.com"):
        assert _add_invitation(org_client, chapter, email).status_code == 302

    assert Invitation.objects.filter(group=chapter.group).exclude(pk=old.pk).count() == 2


def test_resend_makes_a_new_link_and_the_old_one_stops_working(
    client, org_client, chapter, dave, django_capture_on_commit_callbacks
):
    _add_invitation(org_client, chapter, "dave@example.com")
    invitation = Invitation.objects.get(group=chapter.group)
    old_link = _send_and_read_link(invitation)

    with django_capture_on_commit_callbacks() as callbacks:
        response = org_client.post(
            reverse("organise:groups_invitation_changelist"),
            {"action": "resend", "index": "0", "_selected_action": [str(invitation.pk)]},
        )

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert "Sent 1 invitation(s) again." in org_client.get(response.url).content.decode()
    new_link = _send_and_read_link(invitation)
    assert new_link != old_link
    client.force_login(dave)

    for stale in (client.get(old_link), client.post(old_link)):
        _assert_refused(stale, 400, "This invitation link was replaced by a newer one")
    assert not Membership.objects.filter(user=dave).exists()
    assert client.post(new_link).status_code == 302
    assert Membership.objects.filter(user=dave, group=chapter.group).exists()


def test_resend_leaves_an_accepted_invitation_alone(client, org_client, invited, dave):
    invitation, link = invited
    client.force_login(dave)
    client.post(link)
    invitation.refresh_from_db()
    nonce = invitation.nonce
    org_client.force_login(invitation.invited_by)

    org_client.post(
        reverse("organise:groups_invitation_changelist"),
        {"action": "resend", "index": "0", "_selected_action": [str(invitation.pk)]},
    )

    invitation.refresh_from_db()
    assert invitation.nonce == nonce
    assert invitations.send(invitation.pk) == "skipped"


def test_send_twice_sends_one_e_mail(chapter):
    invitation = Invitation.objects.create(group=chapter.group, email="erin@example.com")
    mail.outbox.clear()

    results = [invitations.send(invitation.pk), invitations.send(invitation.pk)]

    assert results == ["sent", "skipped"]
    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_a_withdrawn_invitation_is_not_sent(chapter):
    invitation = Invitation.objects.create(
        group=chapter.group, email="erin@example.com", revoked_at=timezone.now()
    )
    mail.outbox.clear()

    assert invitations.send(invitation.pk) == "skipped"
    assert mail.outbox == []


@pytest.mark.parametrize("status", [MembershipStatus.LEFT, MembershipStatus.SUSPENDED])
def test_a_former_organiser_invited_as_a_member_comes_back_as_a_member(client, chapter, status):
    former = make_user("olive@example.com", display_name="Olive Former")
    Membership.objects.create(group=chapter.group, user=former, role=Role.ORGANISER, status=status)
    invitation = Invitation.objects.create(
        group=chapter.group, email=former.email, role=Role.MEMBER, seat="Florist"
    )
    client.force_login(former)

    response = client.post(reverse("groups:join", args=[invitations.token_for(invitation)]))

    assert response.status_code == 302
    membership = Membership.objects.get(group=chapter.group, user=former)
    assert (membership.status, membership.role, membership.seat) == (
        MembershipStatus.ACTIVE,
        Role.MEMBER,
        "Florist",
    )
    assert membership.left_on is None


def test_inviting_visitors_skips_members_and_waiting_invitations(
    org_client, chapter, django_capture_on_commit_callbacks
):
    Invitation.objects.create(group=chapter.group, email="wendy@example.com")
    visitors = [
        Visitor.objects.create(group=chapter.group, name=name, email=email)
        for name, email in (
            ("Alice again", "Alice@example.com"),  # a current member
            ("Wendy Waiting", "wendy@example.com"),  # already has a waiting invitation
            ("Nora New", "nora@example.com"),
            ("No Mail", ""),
        )
    ]

    with django_capture_on_commit_callbacks() as callbacks:
        response = org_client.post(
            reverse("organise:groups_visitor_changelist"),
            {"action": "invite", "index": "0", "_selected_action": [str(v.pk) for v in visitors]},
        )

    assert response.status_code == 302
    assert len(callbacks) == 1
    emails = Invitation.objects.filter(group=chapter.group).values_list("email", flat=True)
    assert sorted(emails) == ["nora@example.com", "wendy@example.com"]
    assert "Invited 1 visitor(s); skipped 3" in org_client.get(response.url).content.decode()


def test_a_current_organiser_accepting_an_old_member_invitation_stays_organiser(client, chapter):
    invitation = Invitation.objects.create(
        group=chapter.group, email=chapter.organiser.email, role=Role.MEMBER
    )
    client.force_login(chapter.organiser)

    response = client.post(reverse("groups:join", args=[invitations.token_for(invitation)]))

    assert response.status_code == 302
    chapter.org_membership.refresh_from_db()
    assert chapter.org_membership.role == Role.ORGANISER
