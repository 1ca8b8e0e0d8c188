from allauth.account.signals import password_changed, password_reset, password_set
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="followups.digest_preference")
def keep_digest_scheduled(sender, instance: User, created: bool, update_fields=None, **kwargs):
    """Every user has digest settings; moving time zone moves their digest hour."""
    if update_fields is not None and "time_zone" not in update_fields:
        return
    from . import digest
    from .models import DigestPreference

    pref, _ = DigestPreference.objects.get_or_create(user=instance)
    pref.user = instance
    digest.schedule(pref)


@receiver(password_changed, dispatch_uid="followups.rotate_calendar_on_change")
@receiver(password_set, dispatch_uid="followups.rotate_calendar_on_set")
@receiver(password_reset, dispatch_uid="followups.rotate_calendar_on_reset")
def rotate_calendar_token(sender, request=None, user=None, **kwargs):
    """A new password ends the old secrets too: the calendar feed URL changes (whoever
    learned the old one, with the old password, loses it)."""
    from .models import DigestPreference, new_calendar_token

    if user is not None:
        DigestPreference.objects.filter(user=user).update(calendar_token=new_calendar_token())
