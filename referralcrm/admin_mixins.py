"""Admin scoping: staff who are not superusers see and pick only their own rows."""

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id box whose label (the name next to the id) is looked up only among the rows
    the field may take: typing another user's id must not reveal their contact's name."""

    def __init__(self, rel, admin_site, queryset, **kwargs):
        super().__init__(rel, admin_site, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            allowed = self.queryset.filter(**{key: value}).exists()
        except (ValueError, TypeError):
            allowed = False
        if not allowed:
            return "", ""
        return super().label_and_url_for_value(value)


class OwnedAdmin(admin.ModelAdmin):
    owner_field = "owner"

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related(self.owner_field)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self.owner_field: request.user})

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append(self.owner_field)
        return fields

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            setattr(obj, self.owner_field, request.user)
        super().save_model(request, obj, form, change)

    def _scope_related(self, request, queryset):
        if request.user.is_superuser or not hasattr(queryset, "for_user"):
            return queryset
        return queryset.for_user(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name != self.owner_field:
            field.queryset = self._scope_related(request, field.queryset)
            if isinstance(field.widget, ForeignKeyRawIdWidget):
                field.widget = ScopedRawIdWidget(
                    field.widget.rel, field.widget.admin_site, field.queryset, using=field.widget.db
                )
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None:
            field.queryset = self._scope_related(request, field.queryset)
        return field
