from django.contrib import admin

from referralcrm.admin_mixins import OwnedAdmin

from .models import Introduction, Referral, Spend, StatusChange


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    readonly_fields = ["status", "changed_on", "note", "created_at"]
    can_delete = False


@admin.register(Referral)
class ReferralAdmin(OwnedAdmin):
    list_display = [
        "prospect_name",
        "direction",
        "partner_shown",
        "status",
        "value",
        "currency",
        "referred_on",
        "owner",
    ]
    list_filter = ["direction", "status", "temperature", "currency"]
    search_fields = ["prospect_name", "partner__name", "need", "owner__email"]
    raw_id_fields = ["partner", "prospect_contact"]
    list_select_related = ["owner", "partner"]
    date_hierarchy = "referred_on"
    inlines = [StatusChangeInline]

    @admin.display(description="partner", ordering="partner__name")
    def partner_shown(self, referral: Referral) -> str:
        return referral.partner_label


@admin.register(Introduction)
class IntroductionAdmin(OwnedAdmin):
    list_display = ["contact_a", "contact_b", "introduced_on", "method", "outcome", "owner"]
    list_filter = ["method", "outcome"]
    search_fields = ["contact_a__name", "contact_b__name", "owner__email"]
    raw_id_fields = ["contact_a", "contact_b"]


@admin.register(Spend)
class SpendAdmin(OwnedAdmin):
    list_display = ["contact", "amount", "currency", "spent_on", "description", "owner"]
    list_filter = ["currency", "imported"]
    search_fields = ["contact__name", "description", "owner__email"]
    raw_id_fields = ["contact"]
    date_hierarchy = "spent_on"
