"""Admin scoping: staff who are not superusers see and pick only their own rows."""

from django.contrib import admin


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
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None:
            field.queryset = self._scope_related(request, field.queryset)
        return field
