from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from . import publishing
from .models import (
    Address,
    Language,
    Location,
    Need,
    Organization,
    Phone,
    Population,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Synonym,
    check_confidential_location_reachable,
)


class PhoneInline(admin.TabularInline):
    model = Phone
    fields = ["number", "extension", "type", "description", "languages", "position"]
    autocomplete_fields = ["languages"]
    extra = 0


class ScheduleInline(admin.TabularInline):
    model = Schedule
    fields = ["weekday", "opens_at", "closes_at", "open_24_7", "notes"]
    extra = 0


class ServiceAreaInline(admin.TabularInline):
    model = ServiceArea
    fields = ["extent", "state", "county", "city"]
    extra = 0


class ServiceAtLocationInline(admin.TabularInline):
    model = ServiceAtLocation
    fields = ["location", "description"]
    autocomplete_fields = ["location"]
    extra = 0


class LocationServiceInline(ServiceAtLocationInline):
    fields = ["service", "description"]
    autocomplete_fields = ["service"]


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


class OrganizationLocationInline(admin.TabularInline):
    """The organization's locations at a glance; each is edited on its own page, where
    its address, phones and hours are (and where a confidential one is checked)."""

    model = Location
    fields = ["name", "location_type", "confidential"]
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


class LocationPhoneFormSet(BaseInlineFormSet):
    """Checks, with the phones as submitted, that a confidential location stays reachable."""

    def clean(self):
        super().clean()
        if not self.instance.confidential:
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data.get("number") and not form.cleaned_data.get("DELETE")
        ]
        try:
            check_confidential_location_reachable(self.instance, phone_count=len(kept))
        except ValidationError as error:
            raise ValidationError(error.messages) from None


class LocationPhoneInline(PhoneInline):
    formset = LocationPhoneFormSet


class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position", "service_count"]
    list_filter = ["parent"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]

    @admin.display(description="services")
    def service_count(self, obj):
        return obj.services.count()


@admin.register(Need)
class NeedAdmin(TermAdmin):
    pass


@admin.register(Population)
class PopulationAdmin(TermAdmin):
    pass


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "website", "email", "modified"]
    search_fields = ["name", "alternate_name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PhoneInline, OrganizationLocationInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "publication_state",
        "status",
        "last_verified",
        "modified",
    ]
    list_filter = ["publication_state", "status", "needs", "populations", "last_verified"]
    list_select_related = ["organization"]
    search_fields = ["name", "alternate_name", "description", "keywords", "organization__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["organization", "needs", "populations", "languages", "covered_by"]
    date_hierarchy = "modified"
    inlines = [ServiceAtLocationInline, PhoneInline, ScheduleInline, ServiceAreaInline]
    actions = ["publish", "archive", "mark_verified_today"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "organization", "status", "publication_state"]}),
        (
            "What it offers",
            {"fields": ["alternate_name", "description", "keywords", "url", "email", "chat_url"]},
        ),
        (
            "Who it serves",
            {
                "fields": [
                    "needs",
                    "populations",
                    "languages",
                    "covered_by",
                    "eligibility_description",
                    "minimum_age",
                    "maximum_age",
                ]
            },
        ),
        (
            "How to get it",
            {"fields": ["application_process", "fees_description", "interpretation_services"]},
        ),
        (
            "Where the information came from",
            {"fields": ["source_document", "source_passage", "source_url", "last_verified"]},
        ),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Its areas and locations are saved with it, so only now can it be told.
        for warning in publishing.placeless_warnings([form.instance]):
            self.message_user(request, warning, messages.WARNING)

    def get_readonly_fields(self, request, obj=None):
        # Publishing and archiving are a reviewer's (the publish permission): an editor's
        # form shows the state but cannot change it.
        fields = super().get_readonly_fields(request, obj)
        if not self.has_publish_permission(request):
            fields = [*fields, "publication_state"]
        return fields

    def has_publish_permission(self, request):
        return request.user.has_perm("resources.publish_service")

    def _log(self, request, services, message):
        """One admin log entry per service an action changed, as a form save writes."""
        LogEntry.objects.log_actions(request.user.pk, services, CHANGE, message)

    @admin.action(description="Publish the selected services", permissions=["publish"])
    def publish(self, request, queryset):
        outcome = publishing.publish(queryset)
        if outcome.done:
            self._log(request, outcome.done, "Published.")
            self.message_user(
                request, f"Published {len(outcome.done)} service(s).", messages.SUCCESS
            )
        for service, reasons in outcome.refused.items():
            self.message_user(request, f"Not published — {service}: {reasons}", messages.ERROR)
        for warning in publishing.placeless_warnings(outcome.done):
            self.message_user(request, warning, messages.WARNING)

    @admin.action(description="Archive the selected services", permissions=["publish"])
    def archive(self, request, queryset):
        services = list(queryset)
        count = publishing.archive(queryset)
        self._log(request, services, "Archived.")
        self.message_user(request, f"Archived {count} service(s).", messages.SUCCESS)

    @admin.action(
        description="Mark the selected services as verified today", permissions=["change"]
    )
    def mark_verified_today(self, request, queryset):
        services = list(queryset)
        count = publishing.mark_verified(queryset)
        self._log(request, services, "Marked verified today.")
        self.message_user(request, f"Marked {count} service(s) verified today.", messages.SUCCESS)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "location_type", "confidential"]
    list_filter = ["location_type", "confidential"]
    search_fields = ["name", "description", "addresses__city", "addresses__postal_code"]
    autocomplete_fields = ["organization", "languages"]
    inlines = [AddressInline, LocationPhoneInline, ScheduleInline, LocationServiceInline]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["address_1", "city", "state_province", "postal_code", "location"]
    list_filter = ["state_province", "address_type"]
    search_fields = ["address_1", "city", "postal_code", "location__name"]
    autocomplete_fields = ["location"]


@admin.register(ServiceAtLocation)
class ServiceAtLocationAdmin(admin.ModelAdmin):
    list_display = ["service", "location"]
    search_fields = ["service__name", "location__name"]
    autocomplete_fields = ["service", "location"]
    list_select_related = ["service", "location"]


@admin.register(Phone)
class PhoneAdmin(admin.ModelAdmin):
    list_display = ["number", "extension", "type", "service", "location", "organization"]
    list_filter = ["type"]
    search_fields = ["number", "description", "service__name", "organization__name"]
    autocomplete_fields = ["service", "location", "organization", "languages"]
    list_select_related = ["service", "location", "organization"]


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "service", "location", "open_24_7"]
    list_filter = ["open_24_7", "weekday"]
    search_fields = ["service__name", "location__name", "notes"]
    autocomplete_fields = ["service", "location"]
    list_select_related = ["service", "location"]


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "extent", "service"]
    list_filter = ["extent", "state"]
    search_fields = ["service__name", "state", "county", "city"]
    autocomplete_fields = ["service"]
    list_select_related = ["service"]


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ["phrase", "terms", "need_list"]
    search_fields = ["phrase", "terms", "needs__name"]
    list_filter = ["needs"]
    autocomplete_fields = ["needs"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("needs")

    @admin.display(description="needs")
    def need_list(self, obj):
        return ", ".join(need.name for need in obj.needs.all())
