"""``/plan/``: the networking plan, introduction suggestions, event prep and capture;
``/plan/prep/<contact>/``: a one-to-one brief. Each views module owns its routes."""

from .views import introductions, plan_pages, prep

app_name = "plan"

urlpatterns = [*plan_pages.urlpatterns, *introductions.urlpatterns, *prep.urlpatterns]
