from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Area
from epigrid.people.models import Tag


class GrantInline(admin.TabularInline):
    model = Grant
    extra = 1
    autocomplete_fields = ["area"]


@admin.register(User)
class EpigridUserAdmin(UserAdmin):
    inlines = [GrantInline]
    list_display = ["username", "first_name", "last_name", "is_active", "roles_display"]

    @admin.display(description="roles")
    def roles_display(self, obj):
        return ", ".join(obj.roles)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


# Areas are edited through epigrid's scoped pages; the admin only needs them for autocomplete.
@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    search_fields = ["code", "name"]
    list_display = ["code", "name", "level"]
    readonly_fields = ["path"]
