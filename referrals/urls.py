from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("new/", views.referral_create, name="create"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/edit/", views.referral_edit, name="edit"),
    path("<int:pk>/advance/", views.referral_advance, name="advance"),
    path("<int:pk>/close/", views.referral_close, name="close"),
    path("<int:pk>/thanks/", views.referral_thanks, name="thanks"),
    path("<int:pk>/delete/", views.referral_delete, name="delete"),
    path("introductions/", views.intro_list, name="intros"),
    path("introductions/new/", views.intro_form, name="intro_create"),
    path("introductions/<int:pk>/edit/", views.intro_form, name="intro_edit"),
    path("introductions/<int:pk>/delete/", views.intro_delete, name="intro_delete"),
    path("spends/", views.spend_list, name="spends"),
    path("spends/new/", views.spend_create, name="spend_create"),
    path("spends/<int:pk>/delete/", views.spend_delete, name="spend_delete"),
    path("spends/import/", views.spend_import_upload, name="spend_import"),
    path("spends/import/confirm/", views.spend_import_confirm, name="spend_import_confirm"),
    path("who-to-ask/", views.who_to_ask, name="who_to_ask"),
]
