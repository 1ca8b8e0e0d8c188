"""One-to-ones between members, recorded from the meetings members log.

A meeting of a one-to-one kind with a contact linked to a fellow member adds a row per
group they share; if both members log it, the report counts it once (``pair_day``).
And when an account is deleted, its memberships stay in their groups' history
(``members.forget``).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from contacts.models import Contact, Meeting, MeetingKind

from .members import forget, shared_groups
from .models import OneToOne

ONE_TO_ONE_KINDS = {MeetingKind.ONE_TO_ONE, MeetingKind.COFFEE, MeetingKind.VIDEO}


def record_one_to_ones(meeting: Meeting, contact_ids) -> list[OneToOne]:
    if meeting.kind not in ONE_TO_ONE_KINDS:
        return []
    linked = (
        Contact.objects.filter(pk__in=contact_ids, owner_id=meeting.owner_id)
        .exclude(linked_user=None)
        .values_list("linked_user_id", flat=True)
    )
    on = timezone.localdate(meeting.occurred_at)
    rows = []
    for member_user_id in set(linked):
        for group_id, (mine, theirs) in shared_groups(meeting.owner_id, member_user_id).items():
            low, high, pair_day = OneToOne.key(mine, theirs, on)
            rows.append(
                OneToOne(
                    group_id=group_id,
                    member_low_id=low,
                    member_high_id=high,
                    on=on,
                    pair_day=pair_day,
                    meeting=meeting,
                )
            )
    return OneToOne.objects.bulk_create(rows, ignore_conflicts=True)


@receiver(m2m_changed, sender=Meeting.attendees.through)
def attendees_added(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "post_add" and not reverse and pk_set:
        record_one_to_ones(instance, pk_set)


@receiver(post_save, sender=Meeting)
def meeting_edited(sender, instance: Meeting, created: bool, raw: bool = False, **kwargs):
    """An edited meeting moves (or, no longer a one-to-one, drops) its one-to-ones."""
    if created or raw:
        return
    rows = list(OneToOne.objects.filter(meeting=instance))
    if not rows:
        return
    if instance.kind not in ONE_TO_ONE_KINDS:
        OneToOne.objects.filter(meeting=instance).delete()
        return
    on = timezone.localdate(instance.occurred_at)
    for row in rows:
        row.on = on
        row.pair_day = OneToOne.key(row.member_low_id, row.member_high_id, on)[2]
    OneToOne.objects.bulk_update(rows, ["on", "pair_day"])


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="groups.forget_member")
def user_deleted(sender, instance, **kwargs):
    """However an account is deleted, its group history stays, as "former member"."""
    forget(instance)
