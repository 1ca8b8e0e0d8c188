from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import include, path

from groups.admin import organise_site

from . import views

# The admin login goes through allauth's rate-limited login (and its MFA step).
_admin_login = secure_admin_login(admin.site.login)
_staff_permission = admin.site.has_permission


def _staff_has_permission(request) -> bool:
    """Staff, and with REQUIRE_MFA_FOR_STAFF, with two-factor authentication set up."""
    if not _staff_permission(request):
        return False
    return not settings.REQUIRE_MFA_FOR_STAFF or is_mfa_enabled(request.user)


def _admin_login_or_enrol(request, extra_context=None):
    user = request.user
    staff = user.is_authenticated and user.is_staff and _staff_permission(request)
    if staff and not _staff_has_permission(request):
        messages.warning(
            request, "The admin site needs two-factor authentication: set it up first."
        )
        return redirect("mfa_activate_totp")
    return _admin_login(request, extra_context)


admin.site.has_permission = _staff_has_permission
admin.site.login = _admin_login_or_enrol
admin.site.site_header = "Referral CRM admin"
admin.site.site_title = "Referral CRM admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/widgets/<slug:name>/", views.dashboard_widget, name="dashboard_widget"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("accounts.urls")),
    path("contacts/", include("contacts.urls")),
    path("followups/", include("followups.urls")),
    path("referrals/", include("referrals.urls")),
    path("groups/", include("groups.urls")),
    path("", include("portability.urls")),
    path("api/v1/", include("api.urls")),
    path("plan/", include("plan.urls")),
    path("settings/", include("api.page_urls")),
    path("organise/", organise_site.urls),
    path("admin/", admin.site.urls),
]

handler404 = "referralcrm.views.page_not_found"
handler500 = "referralcrm.views.server_error"
