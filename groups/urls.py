from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    path("", views.my_groups, name="mine"),
    path("new/", views.group_create, name="create"),
    path("<int:pk>/", views.group_detail, name="detail"),
    path("<int:pk>/members/<int:member_pk>/contact/", views.member_contact, name="member_contact"),
    path("<int:pk>/sharing/", views.sharing, name="sharing"),
    path("<int:pk>/outside/", views.outside, name="outside"),
    path("<int:pk>/visitors/", views.visitor_create, name="visitor_create"),
    path("<int:pk>/leave/", views.leave, name="leave"),
    path("slips/new/", views.slip_create, name="slip_create"),
    path("slips/<int:pk>/", views.slip_detail, name="slip"),
    path("slips/<int:pk>/advance/", views.slip_advance, name="slip_advance"),
    path("slips/<int:pk>/close/", views.slip_close, name="slip_close"),
    path("slips/<int:pk>/correct/", views.slip_correct, name="slip_correct"),
    path("slips/<int:pk>/note/", views.slip_note, name="slip_note"),
    path("members/<int:member_pk>/pick/", views.pick_member, name="pick_member"),
    path("join/<str:token>/", views.join, name="join"),
]
