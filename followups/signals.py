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
