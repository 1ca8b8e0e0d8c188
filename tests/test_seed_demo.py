"""manage.py seed_demo: synthetic users, contacts, meetings, tags and GAINS facts."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Min

from accounts.models import User
from contacts.models import Contact, GainsFact, Meeting, Stage, Tag

pytestmark = pytest.mark.django_db

CONTACTS, MEETINGS = 30, 100


def seed(**options) -> str:
    out = StringIO()
    options = {"contacts": CONTACTS, "meetings": MEETINGS, "seed": 1, **options}
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def contact_fingerprint(user: User) -> list[tuple]:
    return list(
        Contact.objects.filter(owner=user)
        .order_by("pk")
        .values_list("name", "company", "profession", "emails", "stage", "cadence_days")
    )


def test_counts_match_the_arguments_for_each_user():
    output = seed(users=2, password="pass-word-1")

    users = list(User.objects.filter(email__in=["user1@example.com", "user2@example.com"]))
    assert len(users) == 2
    assert not User.objects.filter(email="user3@example.com").exists()
    for user in users:
        assert Contact.objects.filter(owner=user).count() == CONTACTS
        assert Meeting.objects.filter(owner=user).count() == MEETINGS
        assert user.display_name and user.business_name and user.profession
        assert user.goals and user.networks
        # every meeting has 1-3 attendees, all the owner's own contacts
        per_meeting = Meeting.objects.filter(owner=user).annotate(n=Count("attendees"))
        assert set(per_meeting.values_list("n", flat=True)) <= {1, 2, 3}
        assert not Meeting.attendees.through.objects.filter(meeting__owner=user).exclude(
            contact__owner=user
        )
        assert Tag.objects.filter(owner=user).exists()
        assert Contact.tags.through.objects.filter(contact__owner=user, tag__owner=user).exists()
        assert not Contact.tags.through.objects.filter(contact__owner=user).exclude(tag__owner=user)
        facts = GainsFact.objects.filter(owner=user)
        assert facts.filter(meeting__isnull=False).exists()
        assert facts.filter(meeting__isnull=True).exists()
        assert not facts.exclude(contact__owner=user).exists()
        assert not facts.filter(meeting__isnull=False).exclude(meeting__owner=user).exists()
        assert set(Contact.objects.filter(owner=user).values_list("stage", flat=True)) <= set(
            Stage.values
        )

    assert f"{2 * CONTACTS} contacts" in output
    assert f"{2 * MEETINGS} meetings" in output
    assert "seed 1" in output


def test_users_can_log_in_with_a_verified_primary_address(client):
    seed(users=2, password="pass-word-1")

    for email in ["user1@example.com", "user2@example.com"]:
        user = User.objects.get(email=email)
        assert user.check_password("pass-word-1")
        assert EmailAddress.objects.filter(
            user=user, email=email, verified=True, primary=True
        ).exists()
    assert client.login(email="user2@example.com", password="pass-word-1")


def test_default_password():
    seed(users=1, contacts=1, meetings=1)

    assert User.objects.get(email="user1@example.com").check_password("password")


def test_last_touch_is_the_latest_meeting_and_touch_due_follows_the_cadence():
    seed(users=2)

    contacts = Contact.objects.annotate(
        first_meeting=Min("meetings__occurred_at"), last_meeting=Max("meetings__occurred_at")
    )
    assert contacts.count() == 2 * CONTACTS
    assert contacts.filter(last_meeting__isnull=False).exists()
    assert contacts.filter(cadence_days__isnull=True).exists()
    for contact in contacts:
        assert contact.last_touched_at == contact.last_meeting, contact
        assert contact.touch_due_at == contact.compute_touch_due_at(), contact
        if contact.first_meeting:
            assert contact.created_at < contact.first_meeting, contact
    # the touch due read by the stalled sweep matches the definition in SQL as well
    assert not Contact.objects.filter(last_touched_at__isnull=False, cadence_days=30).exclude(
        touch_due_at=F("last_touched_at") + timedelta(days=30)
    )


def test_same_seed_gives_the_same_contacts():
    seed(users=1, seed=7)
    user = User.objects.get(email="user1@example.com")
    first = contact_fingerprint(user)
    first_meetings = Meeting.objects.filter(owner=user).count()

    user.delete()
    seed(users=1, seed=7)
    user = User.objects.get(email="user1@example.com")
    assert contact_fingerprint(user) == first
    assert Meeting.objects.filter(owner=user).count() == first_meetings

    user.delete()
    seed(users=1, seed=8)
    assert contact_fingerprint(User.objects.get(email="user1@example.com")) != first


def test_seeding_again_reuses_users_and_tags():
    seed(users=2, password="pass-word-1")
    tags = Tag.objects.count()

    seed(users=2, seed=2)

    assert User.objects.filter(email__endswith="@example.com").count() == 2
    assert Contact.objects.count() == 4 * CONTACTS
    assert Meeting.objects.count() == 4 * MEETINGS
    assert Tag.objects.count() >= tags  # no duplicate names (a unique constraint)
    # no --password: an existing user's password is left alone
    assert User.objects.get(email="user1@example.com").check_password("pass-word-1")


def test_demo_seeds_the_existing_demo_user():
    call_command("demo_user", stdout=StringIO())

    seed(demo=True)

    demo = User.objects.get(email="demo@example.com")
    assert demo.display_name == "Dana Demo"
    assert demo.check_password("demo-password")  # untouched
    assert demo.goals  # blank GAINS filled in
    assert Contact.objects.filter(owner=demo).count() == CONTACTS
    assert Meeting.objects.filter(owner=demo).count() == MEETINGS
    assert User.objects.count() == 1


def test_demo_creates_the_demo_user_when_missing(client):
    seed(demo=True, password="demo-pass-2")

    demo = User.objects.get(email="demo@example.com")
    assert demo.business_name == "Demo Financial Planning"
    assert EmailAddress.objects.filter(user=demo, verified=True, primary=True).exists()
    assert client.login(email="demo@example.com", password="demo-pass-2")
    assert Contact.objects.filter(owner=demo).count() == CONTACTS


def test_no_contacts_means_no_meetings():
    output = seed(users=1, contacts=0)

    assert "0 contacts, 0 meetings" in output
    assert User.objects.filter(email="user1@example.com").exists()


def test_demo_and_users_do_not_mix():
    with pytest.raises(CommandError):
        seed(demo=True, users=2)


def test_first_user_seeds_users_of_another_size_beside_the_first():
    seed(users=1, seed=7)
    seed(users=1, first_user=2, contacts=5, meetings=20, seed=7)

    first, second = (
        User.objects.get(email="user1@example.com"),
        User.objects.get(email="user2@example.com"),
    )
    assert Contact.objects.filter(owner=first).count() == CONTACTS
    assert Contact.objects.filter(owner=second).count() == 5
    assert Meeting.objects.filter(owner=second).count() == 20
    assert User.objects.count() == 2
    # The same person as user2 of --users 2: profiles are drawn per e-mail address.
    second_profile = (second.display_name, second.profession)
    User.objects.all().delete()
    seed(users=2, contacts=5, meetings=20, seed=7)
    again = User.objects.get(email="user2@example.com")
    assert (again.display_name, again.profession) == second_profile


def test_first_user_must_be_a_user_number():
    with pytest.raises(CommandError):
        seed(first_user=0)
    with pytest.raises(CommandError):
        seed(demo=True, first_user=2)
