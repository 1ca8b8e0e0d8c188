from django.contrib import admin

from referralcrm.admin_mixins import OwnedAdmin

from .models import FollowUp


@admin.register(FollowUp)
class FollowUpAdmin(OwnedAdmin):
    list_display = ["title", "contact", "due_on", "status", "owner"]
    list_filter = ["status"]
    search_fields = ["title", "contact__name", "owner__email"]
    raw_id_fields = ["contact", "meeting"]
    date_hierarchy = "due_on"
