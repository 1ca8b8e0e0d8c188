from django.urls import path

from . import views

app_name = "followups"

urlpatterns = [
    path("<int:pk>/done/", views.mark_done, name="done"),
]
