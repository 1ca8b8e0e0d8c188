from django.urls import path

from . import occasions, views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_create, name="create"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/panels/<slug:name>/", views.contact_panel, name="panel"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/archive/", views.contact_archive, name="archive"),
    path("<int:pk>/touch/", views.contact_touch, name="touch"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("<int:pk>/gains/<str:kind>/", views.gains_add, name="gains_add"),
    path("<int:pk>/facts/<int:fact_pk>/edit/", views.gains_edit, name="gains_edit"),
    path("<int:pk>/facts/<int:fact_pk>/delete/", views.gains_delete, name="gains_delete"),
    path("<int:pk>/occasions/", occasions.occasion_add, name="occasion_add"),
    path(
        "<int:pk>/occasions/<int:occasion_pk>/delete/",
        occasions.occasion_delete,
        name="occasion_delete",
    ),
    path("typeahead/", views.typeahead, name="typeahead"),
    path("pick/<int:pk>/", views.pick, name="pick"),
    path("pick/new/", views.pick_new, name="pick_new"),
    path("meetings/log/", views.meeting_log, name="meeting_log"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/delete/", views.meeting_delete, name="meeting_delete"),
]
