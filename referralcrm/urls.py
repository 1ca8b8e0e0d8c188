from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from groups.admin import organise_site

from . import views

# The admin login goes through allauth's rate-limited login (and its MFA step).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Referral CRM admin"
admin.site.site_title = "Referral CRM admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
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
