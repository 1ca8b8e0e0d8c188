from django.contrib import admin

from referralcrm.admin_mixins import OwnedAdmin

from .models import Contact, GainsFact, Meeting, Tag


class GainsFactInline(admin.TabularInline):
    model = GainsFact
    extra = 0
    fields = ["kind", "text", "learned_on"]


@admin.register(Contact)
class ContactAdmin(OwnedAdmin):
    list_display = [
        "name",
        "company",
        "profession",
        "stage",
        "last_touched_at",
        "is_archived",
        "owner",
    ]
    list_filter = ["stage", "is_archived", "is_expert", "honours_referrals"]
    search_fields = ["name", "company", "profession", "owner__email"]
    readonly_fields = ["last_touched_at", "touch_due_at", "created_at", "updated_at"]
    filter_horizontal = ["tags"]
    inlines = [GainsFactInline]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            obj.owner = form.instance.owner
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Meeting)
class MeetingAdmin(OwnedAdmin):
    list_display = ["occurred_at", "kind", "place", "owner"]
    list_filter = ["kind"]
    search_fields = ["place", "notes", "attendees__name", "owner__email"]
    filter_horizontal = ["attendees"]
    date_hierarchy = "occurred_at"


@admin.register(GainsFact)
class GainsFactAdmin(OwnedAdmin):
    list_display = ["text", "kind", "contact", "learned_on", "owner"]
    list_filter = ["kind"]
    search_fields = ["text", "contact__name", "owner__email"]
    raw_id_fields = ["contact", "meeting"]


@admin.register(Tag)
class TagAdmin(OwnedAdmin):
    list_display = ["name", "owner"]
    search_fields = ["name", "owner__email"]
