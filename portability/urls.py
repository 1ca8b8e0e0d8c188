"""Import (``/import/``), export (``/export/``) and duplicates/merge (``/contacts/duplicates/``).

Each views module owns its routes; this file only joins them under one namespace.
"""

from .views import exports, imports, merge

app_name = "portability"

urlpatterns = [*imports.urlpatterns, *exports.urlpatterns, *merge.urlpatterns]
