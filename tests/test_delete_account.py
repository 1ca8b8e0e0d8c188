"""Delete my account: confirmed by password (and two-factor), everything owned goes, group
slips stay as "former member"."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact, GainsFact, Meeting, Occasion, Tag
from followups.models import FollowUp
from groups import slips
from groups.models import Group, Invitation, Membership, MembershipStatus, Role, Slip
from portability.models import ExportJob, ImportBatch, MergeRecord
from referrals.models import Introduction, Referral, Spend
from tests.conftest import PASSWORD, make_user
from tests.groups_fixtures import TOTP_SECRET, build_group, furnish, with_totp

pytestmark = pytest.mark.django_db

URL = "/profile/delete/"
PRIVATE_APPS = ("contacts", "referrals", "followups", "portability")
# Alice's traces: none may show on a group page once her account is deleted.
MARKERS = ("Quillfeather", "alice@example.com", "QUILLGOAL", "Quill Plumbing")


def _code(secret: str = TOTP_SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _markers_absent(body: str) -> None:
    for marker in MARKERS:
        assert marker not in body, marker


def _furnish_private(user: User, tag: str) -> dict:
    """A row of each private kind, owned by ``user``, each text carrying ``tag``."""
    a = Contact.objects.create(owner=user, name=f"{tag} Ada", emails=[f"{tag}@ex.com"])
    b = Contact.objects.create(owner=user, name=f"{tag} Ben")
    tag_row = Tag.objects.create(owner=user, name=f"{tag}-tag")
    a.tags.add(tag_row)
    meeting = Meeting.objects.create(owner=user, place=f"{tag} Café")
    meeting.attendees.add(a, b)
    GainsFact.objects.create(owner=user, contact=a, kind="goals", text=f"{tag} goal")
    Occasion.objects.create(owner=user, contact=a, kind="birthday", month=3, day=14)
    Referral.objects.create(owner=user, direction="given", partner=a, prospect_name=f"{tag} P")
    Introduction.objects.create(owner=user, contact_a=a, contact_b=b)
    Spend.objects.create(owner=user, contact=b, amount=Decimal("12.50"))
    FollowUp.objects.create(
        owner=user, contact=a, meeting=meeting, title=f"{tag} call", due_on=timezone.localdate()
    )
    ImportBatch.objects.create(owner=user, filename=f"{tag}.vcf")
    ExportJob.objects.create(owner=user, format="json")
    MergeRecord.objects.create(owner=user, survivor=a, merged_name=f"{tag} Old")
    return {"contact": a}


def _owned_rows(user_pk: int) -> dict[str, set]:
    """{model label: pks} of every row of the private apps pointing at the user by a
    foreign key other than ``linked_user`` (which is a link to someone, not ownership)."""
    user_model = get_user_model()
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label not in PRIVATE_APPS:
            continue
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is user_model and f.name != "linked_user":
                pks = set(model.objects.filter(**{f.attname: user_pk}).values_list("pk", flat=True))
                rows[f"{model._meta.label}.{f.name}"] = pks
    return rows


def _confirm(client, password=PASSWORD, **extra):
    return client.post(URL, {"password": password, **extra})


@pytest.fixture
def alice(db) -> User:
    return make_user(
        "alice@example.com",
        display_name="Zoe Quillfeather",
        business_name="Quill Plumbing",
        goals="QUILLGOAL: more referrals",
    )


# --- The page ---------------------------------------------------------------------------


def test_profile_links_to_the_page_and_get_changes_nothing(alice_client, alice):
    _furnish_private(alice, "Mine")
    profile = alice_client.get(reverse("profile")).content.decode()
    assert 'href="/profile/delete/"' in profile and "Danger zone" in profile
    response = alice_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>2</strong> contacts" in body
    assert "<strong>1</strong> meetings" in body
    assert "<strong>1</strong> follow-ups" in body
    assert "former member" in body
    assert 'name="password"' in body and 'name="code"' not in body
    assert User.objects.filter(pk=alice.pk).exists()
    assert Contact.objects.filter(owner=alice).count() == 2


def test_anonymous_is_sent_to_log_in(client, alice):
    for response in (client.get(URL), client.post(URL, {"password": PASSWORD})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert User.objects.filter(pk=alice.pk).exists()


@pytest.mark.parametrize("contacts", [1, 30])
def test_page_queries_do_not_grow(alice_client, alice, contacts, django_assert_max_num_queries):
    chapter = build_group("Q Chapter", members=[alice, make_user("q@example.com")])
    furnish(chapter, "Q")
    for i in range(contacts):
        _furnish_private(alice, f"n{i}")
    with django_assert_max_num_queries(12):
        assert alice_client.get(URL).status_code == 200


# --- Confirming --------------------------------------------------------------------------


def test_wrong_or_missing_password_deletes_nothing(alice_client, alice):
    _furnish_private(alice, "Mine")
    before = _owned_rows(alice.pk)
    wrong = _confirm(alice_client, "not-my-password")
    assert wrong.status_code == 400
    assert "That is not your current password. Nothing was deleted." in wrong.content.decode()
    missing = alice_client.post(URL, {})
    assert missing.status_code == 400
    assert "This field is required." in missing.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()
    assert _owned_rows(alice.pk) == before
    assert alice_client.get(reverse("dashboard")).status_code == 200  # still logged in


def test_failed_attempts_are_rate_limited(alice_client, alice):
    for _ in range(5):
        assert _confirm(alice_client, "guess").status_code == 400
    refused = _confirm(alice_client)  # even the right password, for now
    assert refused.status_code == 400
    assert "Too many attempts" in refused.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()


def test_with_two_factor_a_valid_code_is_needed(alice_client, alice):
    with_totp(alice)
    page = alice_client.get(URL).content.decode()
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    no_code = _confirm(alice_client)
    assert no_code.status_code == 400 and "This field is required." in no_code.content.decode()
    wrong = _confirm(alice_client, code="000000")
    assert wrong.status_code == 400
    body = wrong.content.decode()
    assert "Incorrect code" in body and 'value="000000"' in body  # the input is kept
    wrong_password = _confirm(alice_client, "guess", code=_code())
    assert wrong_password.status_code == 400
    assert User.objects.filter(pk=alice.pk).exists()
    done = _confirm(alice_client, code=_code())
    assert done.status_code == 302 and done.url == reverse("home")
    assert not User.objects.filter(pk=alice.pk).exists()


def test_a_recovery_code_works_too(alice_client, alice):
    with_totp(alice)
    code = RecoveryCodes.activate(alice).get_unused_codes()[0]
    assert _confirm(alice_client, code="deadbeef").status_code == 400
    assert _confirm(alice_client, code=code).status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()


# --- What goes -----------------------------------------------------------------------------


def test_everything_owned_goes_and_the_user_cannot_log_in(
    client, alice, bob, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EXPORT_ROOT = str(tmp_path)
    mine = _furnish_private(alice, "Mine")
    _furnish_private(bob, "Bobs")
    # Bob's contact for alice stays his, unlinked.
    bobs_alice = Contact.objects.create(owner=bob, name="Zoe Quillfeather", linked_user=alice)
    files = {}
    for user in (alice, bob):
        job = ExportJob.objects.filter(owner=user).get()
        files[user.pk] = tmp_path / "jobs" / f"{job.pk}.json"
        files[user.pk].parent.mkdir(exist_ok=True)
        files[user.pk].write_text("{}")
        job.path = f"jobs/{job.pk}.json"
        job.status = "ready"
        job.save()
    alice_rows, bob_rows = _owned_rows(alice.pk), _owned_rows(bob.pk)
    assert all(alice_rows[k] for k in ("contacts.Contact.owner", "referrals.Referral.owner"))
    assert sum(map(len, alice_rows.values())) >= 12

    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _confirm(client)
    assert response.status_code == 302 and response.url == reverse("home")
    assert len(callbacks) == 1  # the export files go once the deletion is committed
    home = client.get(response.url).content.decode()
    assert "Your account is deleted" in home

    assert not User.objects.filter(pk=alice.pk).exists()
    for label, pks in alice_rows.items():
        model = apps.get_model(label.rsplit(".", 1)[0])
        assert not model.objects.filter(pk__in=pks).exists(), label
    assert _owned_rows(bob.pk) == bob_rows
    assert not Contact.objects.filter(pk=mine["contact"].pk).exists()
    bobs_alice.refresh_from_db()
    assert bobs_alice.linked_user is None and bobs_alice.name == "Zoe Quillfeather"
    assert not files[alice.pk].exists() and files[bob.pk].exists()

    # Logged out; the same POST again finds nobody; the password opens nothing.
    assert client.get(reverse("dashboard")).status_code == 302
    again = _confirm(client)
    assert again.status_code == 302 and again.url.startswith(reverse("account_login"))
    assert not client.login(email="alice@example.com", password=PASSWORD)
    login = client.post(
        reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200 and "_auth_user_id" not in client.session


# --- What stays in the groups ---------------------------------------------------------------


@pytest.fixture
def chapter(alice, bob, charlie):
    chapter = build_group("Leeds Chapter", members=[alice, bob, charlie])
    chapter.life = furnish(chapter, "Zephyr")  # slips alice → bob and bob → alice (won)
    alice_m = chapter.m["alice"]
    alice_m.shared_gains = ["goals"]
    alice_m.save()
    Invitation.objects.create(
        group=chapter.group,
        email="alice@example.com",
        invited_by=chapter.organiser,
        accepted_at=timezone.now(),
        accepted_by=alice,
    )
    return chapter


def test_slips_stay_in_the_group_as_former_member(client, chapter, alice, bob):
    slip_ids = set(Slip.objects.filter(group=chapter.group).values_list("pk", flat=True))
    client.force_login(alice)
    summary = client.get(URL).content.decode()
    assert "The <strong>2</strong> slips you gave or received stay" in summary
    assert _confirm(client).status_code == 302

    former = Membership.objects.get(pk=chapter.m["alice"].pk)
    assert former.user is None and former.status == MembershipStatus.LEFT
    assert former.left_on == timezone.localdate() and former.name == "former member"
    assert former.shared_profile() == []
    assert set(Slip.objects.filter(group=chapter.group).values_list("pk", flat=True)) == slip_ids
    assert not Invitation.objects.filter(email="alice@example.com").exists()

    # Bob: his ledger keeps both slips; the slip pages name alice "former member".
    client.force_login(bob)
    ledger = client.get(reverse("referrals:ledger")).content.decode()
    assert "Zephyr Prospect" in ledger and "Zephyr Winner" in ledger
    for slip in (chapter.life.slip, chapter.life.won):
        page = client.get(reverse("groups:slip", args=[slip.pk]))
        assert page.status_code == 200
        body = page.content.decode()
        assert "former member" in body
        _markers_absent(body)
    group_page = client.get(chapter.group.get_absolute_url()).content.decode()
    assert "← from former member" in group_page
    _markers_absent(group_page)

    # The organiser: report, CSV, slips, memberships and the slip's history.
    client.force_login(chapter.organiser)
    query = {"group": chapter.group.pk, "period": "month"}
    pages = [
        client.get(reverse("organise:report"), query),
        client.get(reverse("organise:report_csv"), query),
        client.get(reverse("organise:groups_slip_changelist")),
        client.get(reverse("organise:groups_slip_change", args=[chapter.life.won.pk])),
        client.get(reverse("organise:groups_membership_changelist")),
        client.get(reverse("organise:groups_membership_change", args=[former.pk])),
        client.get(reverse("organise:groups_invitation_changelist")),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        _markers_absent(body)
    assert all("former member" in p.content.decode() for p in pages[:5])


def test_a_former_member_cannot_be_brought_back(client, chapter, alice):
    alice.delete()  # any way of deleting the account keeps the history
    former = Membership.objects.get(pk=chapter.m["alice"].pk)
    assert former.is_former and former.status == MembershipStatus.LEFT
    client.force_login(chapter.organiser)
    client.post(
        reverse("organise:groups_membership_changelist"),
        {"action": "reactivate", "_selected_action": [former.pk]},
    )
    former.refresh_from_db()
    assert former.status == MembershipStatus.LEFT and former.user is None
    client.post(
        reverse("organise:groups_membership_change", args=[former.pk]),
        {"seat": "Plumber", "role": "organiser", "status": "active", "joined_on": "2024-01-01"},
    )
    former.refresh_from_db()
    assert former.status == MembershipStatus.LEFT and former.role == Role.MEMBER


def test_an_earlier_leaving_date_is_kept(chapter, alice):
    earlier = timezone.localdate() - timedelta(days=40)
    Membership.objects.filter(pk=chapter.m["alice"].pk).update(status="left", left_on=earlier)
    alice.delete()
    assert Membership.objects.get(pk=chapter.m["alice"].pk).left_on == earlier


def test_the_only_organiser_hands_over_first(client, alice, bob):
    group = Group.objects.create(name="Quill Circle")
    Membership.objects.create(group=group, user=alice, role=Role.ORGANISER)
    bobs = Membership.objects.create(group=group, user=bob)
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert "Your groups need an organiser first" in page and "Quill Circle" in page
    assert 'name="password"' not in page
    refused = _confirm(client)
    assert refused.status_code == 400
    assert "Nothing was deleted: first make another member organiser of Quill Circle." in (
        refused.content.decode()
    )
    assert User.objects.filter(pk=alice.pk).exists()

    bobs.role = Role.ORGANISER
    bobs.save()
    assert "need an organiser" not in client.get(URL).content.decode()
    assert _confirm(client).status_code == 302
    assert Group.objects.filter(pk=group.pk).exists()
    assert list(Group.objects.organised_by(bob)) == [group]


def test_a_group_nobody_else_joined_goes_with_the_account(client, alice, bob):
    solo = Group.objects.create(name="Just Me Club")
    Membership.objects.create(group=solo, user=alice, role=Role.ORGANISER)
    shared = Group.objects.create(name="Shared Club")
    Membership.objects.create(group=shared, user=alice, role=Role.ORGANISER)
    Membership.objects.create(group=shared, user=bob, status=MembershipStatus.LEFT)
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert "1 group nobody else ever joined" in page and "Just Me Club" in page
    assert "Shared Club" not in page  # bob left: nobody to hand over to
    assert _confirm(client).status_code == 302
    assert not Group.objects.filter(pk=solo.pk).exists()
    assert Group.objects.filter(pk=shared.pk).exists()
    assert Membership.objects.filter(group=shared, user=None, status="left").count() == 1


def test_slips_a_former_member_received_are_still_correctable_by_the_giver(
    client, chapter, alice, bob
):
    open_slip = slips.give(
        giver=chapter.m["bob"], receiver=chapter.m["alice"], by=bob, prospect_name="Open one"
    )
    alice.delete()
    client.force_login(bob)
    page = client.get(reverse("groups:slip", args=[open_slip.pk])).content.decode()
    assert "You passed this to <strong>former member</strong>" in page
    response = client.post(
        reverse("groups:slip_correct", args=[open_slip.pk]),
        {
            "status": "lost",
            "currency": "USD",
            "referred_on": open_slip.referred_on.isoformat(),
            "closed_on": timezone.localdate().isoformat(),
            "value": "",
        },
    )
    assert response.status_code == 302
    open_slip.refresh_from_db()
    assert open_slip.status == "lost"
