from django.urls import path

from . import views

app_name = "followups"

urlpatterns = [
    path("", views.followup_list, name="list"),
    path("new/", views.followup_form, name="create"),
    path("<int:pk>/edit/", views.followup_form, name="edit"),
    path("<int:pk>/done/", views.mark_done, name="done"),
    path("<int:pk>/snooze/", views.snooze, name="snooze"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("settings/", views.digest_settings, name="settings"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar"),
    path("act/<str:token>/", views.act, name="act"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
