import json

import reversion
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.db.models import Count, F, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from psycopg.errors import QueryCanceled

from directory.errors import DeadlineExceeded

from . import history, publishing, suggestions
from .api import keys
from .hsds import imports
from .models import (
    Address,
    ApiKey,
    Language,
    Location,
    Need,
    Organization,
    Phone,
    Population,
    PublicationState,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Suggestion,
    Synonym,
    Weekday,
    check_confidential_location_reachable,
    free_slug,
)

# What every curated record's admin shares: each save is a recorded version with who and
# what (resources.history), two curators saving at once are told, near-duplicate names are
# pointed out before saving, and nothing is deleted.


class CuratedForm(forms.ModelForm):
    """Remembers which version of the record the curator started from: a save on top of
    someone else's newer one is refused, with the form kept and the other's change linked."""

    edited_version = forms.CharField(widget=forms.HiddenInput, required=False)
    check_similar_names = False  # warn of near-duplicate names before saving

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["edited_version"].initial = self.instance.modified.isoformat()

    def clean(self):
        cleaned = super().clean()
        self._check_not_overtaken()
        self._check_name_is_new(cleaned.get("name"))
        return cleaned

    def _check_not_overtaken(self):
        if self.instance._state.adding:
            return
        started_from = self.cleaned_data.get("edited_version")
        model = type(self.instance)
        # Locked until this save ends, so two saves cannot both pass this check.
        now = model._default_manager.select_for_update().get(pk=self.instance.pk).modified
        if now.isoformat() == started_from:
            return
        latest = history.versions(self.instance).first()
        who = latest.revision.user if latest and latest.revision.user else "Someone"
        # Saving again, after reading theirs, is deliberate: let it through next time.
        self.data = self.data.copy()
        self.data[self.add_prefix("edited_version")] = now.isoformat()
        raise ValidationError(
            format_html(
                "{} saved this {} at {} while you were editing it. Nothing is lost: "
                'your changes are still below, and theirs are in <a href="{}">its '
                "history</a>. Check the two, then save again to keep yours.",
                who,
                model._meta.verbose_name,
                timezone.localtime(now).strftime("%H:%M:%S"),
                reverse(
                    f"admin:{model._meta.app_label}_{model._meta.model_name}_history",
                    args=[self.instance.pk],
                ),
            )
        )

    def _check_name_is_new(self, name):
        if self.check_similar_names and name and "name" in self.changed_data:
            self._check_similar(type(self.instance), name, "name")

    def _check_similar(self, model, name, field_name):
        if self.data.get("not_a_duplicate"):
            return
        similar = (
            model._default_manager.annotate(similarity=TrigramSimilarity("name", name))
            .filter(similarity__gte=0.45)
            .exclude(pk=self.instance.pk)
            .order_by("-similarity")[:5]
        )
        if not similar:
            return
        links = format_html_join(
            ", ",
            '<a href="{}" target="_blank">{}</a>',
            (
                (reverse(f"admin:resources_{model._meta.model_name}_change", args=[o.pk]), o)
                for o in similar
            ),
        )
        self.add_error(
            field_name,
            format_html(
                "Already here under a close name: {}. If this is one of them, change "
                "that one instead. "
                '<label><input type="checkbox" name="not_a_duplicate" value="1"> '
                "It is a different {}: save it anyway</label>",
                links,
                model._meta.verbose_name,
            ),
        )


class CuratedAdmin(admin.ModelAdmin):
    form = CuratedForm
    history_template = "admin/resources/history.html"
    HISTORY_SHOWN = 50  # the newest versions, each with what it changed

    class Media:
        css = {"all": ["css/admin.css"]}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id:
            obj = self.get_object(request, object_id)
            if obj is not None:
                history.ensure_baseline(obj)
        with reversion.create_revision():
            reversion.set_user(request.user)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(name, dict(opts)) for name, opts in super().get_fieldsets(request, obj)]
        fields = list(fieldsets[0][1]["fields"])
        if "edited_version" not in fields:
            fieldsets[0][1]["fields"] = [*fields, "edited_version"]
        return fieldsets

    def log_addition(self, request, obj, message):
        self._describe_revision(obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._describe_revision(obj, message)
        return super().log_change(request, obj, message)

    def _describe_revision(self, obj, message):
        # Taken again now that its rows are saved too, so the version holds them as saved.
        reversion.add_to_revision(obj)
        if isinstance(message, list):
            message = json.dumps(message)
        reversion.set_comment(LogEntry(change_message=message).get_change_message())

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or publishing.may_change(obj, request.user))

    def has_delete_permission(self, request, obj=None):
        # Services are archived, never deleted; organizations and locations stay for the
        # history of the services that pointed at them.
        return False

    # History: a readable difference for every version, and restoring one.

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        # Its own versions, and those of the records it shows that keep their own history
        # (a service's organization and places), newest first.
        entries = history.entries(obj, self.HISTORY_SHOWN)
        for record in self.shown_elsewhere(obj):
            meta = record._meta
            subject = {
                "kind": meta.verbose_name,
                "name": str(record),
                "url": reverse(
                    f"admin:{meta.app_label}_{meta.model_name}_history", args=[record.pk]
                ),
            }
            entries += history.entries(record, self.HISTORY_SHOWN, subject=subject)
        entries.sort(key=lambda entry: entry["version"].revision.date_created, reverse=True)
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "entries": entries[: self.HISTORY_SHOWN],
            "can_restore": self.may_restore(request, obj),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.history_template, context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/history/<int:version_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name=f"{info[0]}_{info[1]}_restore",
            ),
            *super().get_urls(),
        ]

    def shown_elsewhere(self, obj):
        """The records obj shows that keep their own history."""
        return []

    def may_restore(self, request, obj):
        # Undoing is a reviewer's, as publishing is.
        return self.has_change_permission(request, obj) and request.user.has_perm(
            publishing.PUBLISH
        )

    @method_decorator(require_POST)
    def restore_view(self, request, object_id, version_id):
        obj = self.get_object(request, object_id)
        if obj is None or not self.may_restore(request, obj):
            raise PermissionDenied
        version = get_object_or_404(history.versions(obj), pk=version_id)
        try:
            history.restore(version, request.user)
        except history.RestoreError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(
                reverse(f"admin:resources_{self.opts.model_name}_history", args=[obj.pk])
            )
        self.message_user(
            request,
            f"Restored {obj} as it was on "
            f"{timezone.localtime(version.revision.date_created):%d %b %Y at %H:%M}. "
            "The restore is in its history, and can be undone there too.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse(f"admin:resources_{self.opts.model_name}_change", args=[obj.pk])
        )


class ScheduleForm(forms.ModelForm):
    """One row of hours for one or several days: ticking Monday to Friday writes five
    rows (what "open now" and partners read), from a single entry."""

    weekday = forms.TypedMultipleChoiceField(
        label="Days",
        choices=[(day.value, day.label[:3]) for day in Weekday],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every day these hours apply to.",
    )

    class Meta:
        model = Schedule
        fields = ["weekday", "opens_at", "closes_at", "open_24_7", "notes"]
        # Opening hours are the service's own local times: a plain time input, without
        # the admin's note about the curator's time zone under every field.
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.weekday:
            self.initial["weekday"] = [self.instance.weekday]
        self.more_days = []

    def clean_weekday(self):
        days = sorted(set(self.cleaned_data["weekday"]))
        self.more_days = days[1:]
        return days[0] if days else None


class ScheduleFormSet(BaseInlineFormSet):
    def save(self, commit=True):
        saved = super().save(commit)
        for form in self.forms:
            if not form.more_days or form in self.deleted_forms or not form.instance.pk:
                continue
            owner = {
                "service_id": form.instance.service_id,
                "location_id": form.instance.location_id,
            }
            for day in form.more_days:
                same = {"opens_at": form.instance.opens_at, "closes_at": form.instance.closes_at}
                if Schedule.objects.filter(**owner, **same, weekday=day).exists():
                    continue  # that day already has these hours
                copy = Schedule(
                    **{
                        name: getattr(form.instance, name)
                        for name in [
                            "service_id",
                            "location_id",
                            "opens_at",
                            "closes_at",
                            "open_24_7",
                            "notes",
                        ]
                    },
                    weekday=day,
                )
                copy.save()
                saved.append(copy)
        return saved


class PhoneInline(admin.TabularInline):
    model = Phone
    fields = ["number", "extension", "type", "description", "languages", "position"]
    autocomplete_fields = ["languages"]
    extra = 0


class ScheduleInline(admin.TabularInline):
    model = Schedule
    form = ScheduleForm
    formset = ScheduleFormSet
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


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on another record's page to read, each linked to its own page."""

    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LocationServiceInline(ReadOnlyInline):
    """The services offered at a location, to read: a service's places are changed on the
    service's page, where that is recorded and reviewed with the rest of it."""

    model = ServiceAtLocation
    fields = ["service", "description"]
    readonly_fields = fields
    verbose_name_plural = "services offered here (change them on each service's page)"


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


class OrganizationForm(CuratedForm):
    check_similar_names = True


@admin.register(Organization)
class OrganizationAdmin(CuratedAdmin):
    form = OrganizationForm
    list_display = ["name", "website", "email", "modified"]
    search_fields = ["name", "alternate_name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PhoneInline, OrganizationLocationInline]


class ServiceForm(CuratedForm):
    """A service, and on the add page its organization and first place when they are new,
    so that one form adds all three."""

    check_similar_names = True
    new_organization = forms.CharField(
        required=False,
        max_length=200,
        label="Or a new organization",
        help_text="Its name, when it is not in the directory yet: it is created with the "
        "service (add its details on its own page later).",
    )
    place_name = forms.CharField(required=False, max_length=200, label="Place name")
    place_address = forms.CharField(required=False, max_length=200, label="Street address")
    place_city = forms.CharField(required=False, max_length=100, label="City")
    place_state = forms.CharField(required=False, max_length=2, label="State (e.g. IL)")
    place_zip = forms.CharField(required=False, max_length=10, label="ZIP code")
    PLACE_FIELDS = ["place_name", "place_address", "place_city", "place_state", "place_zip"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance._state.adding:
            return cleaned
        self.new_place = None
        name = (cleaned.get("new_organization") or "").strip()
        if name and cleaned.get("organization"):
            self.add_error(
                "new_organization", "Choose an organization or name a new one, not both."
            )
        elif name:
            self.new_organization_obj = Organization(
                name=name, slug=unique_slug(Organization, name)
            )
            self._validate_new(self.new_organization_obj, "new_organization", exclude=["slug"])
            if "new_organization" not in self.errors:
                self._check_similar(Organization, name, "new_organization")
        if any(cleaned.get(f) for f in self.PLACE_FIELDS):
            location = Location(name=cleaned.get("place_name") or cleaned.get("place_address", ""))
            address = Address(
                address_1=cleaned.get("place_address", ""),
                city=cleaned.get("place_city", ""),
                state_province=(cleaned.get("place_state") or "").upper(),
                postal_code=cleaned.get("place_zip", ""),
            )
            self._validate_new(location, "place_name", exclude=["organization"])
            fields = {
                "address_1": "place_address",
                "city": "place_city",
                "state_province": "place_state",
                "postal_code": "place_zip",
            }
            try:
                address.full_clean(exclude=["location"])
            except ValidationError as error:
                for name_, problems in error.message_dict.items():
                    self.add_error(fields.get(name_), problems)
            self.new_place = (location, address)
        return cleaned

    def _validate_new(self, obj, field_name, exclude):
        try:
            obj.full_clean(exclude=exclude)
        except ValidationError as error:
            self.add_error(field_name, error.messages)


def unique_slug(model, name):
    return free_slug(name, lambda slug: model._default_manager.filter(slug=slug).exists())


class SuggestionInline(ReadOnlyInline):
    """A service's suggestions on its page, open ones first, to read: each is resolved or
    dismissed in the queue, through its link."""

    model = Suggestion
    fields = ["message", "created", "state"]
    readonly_fields = fields
    ordering = suggestions.QUEUE_ORDER
    verbose_name_plural = "suggestions from the public"


class NeedsVerificationFilter(admin.SimpleListFilter):
    title = "verification"
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [("due", f"Not verified for {settings.VERIFY_AFTER_DAYS} days (oldest first)")]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return publishing.needing_verification(queryset, settings.VERIFY_AFTER_DAYS)
        return queryset


class ImportForm(forms.Form):
    package = forms.FileField(
        help_text="A .zip of an HSDS tabular package (CSV files), or a .ndjson or .json file "
        "of full services. Nothing is written until you have seen what it would do."
    )


@admin.register(Service)
class ServiceAdmin(CuratedAdmin):
    form = ServiceForm
    list_display = ["name", "organization", "state", "verified", "open_suggestions"]
    list_filter = [
        "publication_state",
        NeedsVerificationFilter,
        "status",
        "needs",
        "populations",
    ]
    list_select_related = ["organization"]
    search_fields = ["name", "alternate_name", "description", "keywords", "organization__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["organization", "needs", "populations", "languages", "covered_by"]
    readonly_fields = ["publication_state", "last_verified", "last_verified_by"]
    inlines = [
        ServiceAtLocationInline,
        PhoneInline,
        ScheduleInline,
        ServiceAreaInline,
        SuggestionInline,
    ]
    actions = ["submit", "publish", "send_back", "archive", "unarchive", "mark_verified_today"]
    change_form_template = "admin/resources/service/change_form.html"
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
            {
                "fields": [
                    "source_document",
                    "source_passage",
                    "source_url",
                    "last_verified",
                    "last_verified_by",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            first = dict(fieldsets[0][1])
            fields = list(first["fields"])
            fields.insert(fields.index("organization") + 1, "new_organization")
            first["fields"] = fields
            fieldsets = [(None, first), *fieldsets[1:]]
            fieldsets.insert(
                2,
                (
                    "Where it is offered (a new place, optional)",
                    {
                        "fields": ServiceForm.PLACE_FIELDS,
                        "description": "Fill these in to add the place with the service. "
                        "For a place already in the directory, or a confidential shelter, "
                        "use the locations below instead.",
                    },
                ),
            )
        return fieldsets

    def shown_elsewhere(self, obj):
        places = Location.objects.filter(service_at_locations__service=obj)
        return [record for record in [obj.organization, *places] if record is not None]

    def get_ordering(self, request):
        if request.GET.get(NeedsVerificationFilter.parameter_name) == "due":
            return [F("last_verified").asc(nulls_first=True), "name"]
        return super().get_ordering(request)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_suggestion_count=Count("suggestions", filter=Q(suggestions__state="open"))
            )
        )

    # Short headings, so the list fits a laptop's screen.
    @admin.display(description="state", ordering="publication_state")
    def state(self, obj):
        return obj.get_publication_state_display()

    @admin.display(description="verified", ordering="last_verified", empty_value="never")
    def verified(self, obj):
        return obj.last_verified

    @admin.display(description="suggestions", ordering="open_suggestion_count")
    def open_suggestions(self, obj):
        return obj.open_suggestion_count or ""

    def view_on_site(self, obj):
        if obj.publication_state == PublicationState.PUBLISHED:
            return obj.get_absolute_url()
        return reverse("resources:service_preview", kwargs={"slug": obj.slug})

    def save_model(self, request, obj, form, change):
        new_organization = getattr(form, "new_organization_obj", None)
        if new_organization is not None and obj.organization_id is None:
            new_organization.save()
            obj.organization = new_organization
            self.message_user(request, f"Added the organization {new_organization}.")
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if getattr(form, "new_place", None):
            location, address = form.new_place
            location.organization = form.instance.organization
            location.save()
            address.location = location
            address.save()
            ServiceAtLocation.objects.create(service=form.instance, location=location)
        # Its areas and locations are saved with it, so only now can it be told.
        for warning in publishing.placeless_warnings([form.instance]):
            self.message_user(request, warning, messages.WARNING)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["transitions"] = publishing.available(obj, request.user)
            if obj.publication_state == PublicationState.IN_REVIEW:
                context["since_published"] = history.changes_since_published(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # The workflow: buttons on a service's page, and the same steps for many at once.

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="resources_service_import",
            ),
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="resources_service_transition",
            ),
            *super().get_urls(),
        ]

    # Bringing an HSDS package in: upload, see the dry run, then apply it.

    def import_view(self, request):
        if not (request.user.has_perm(publishing.PUBLISH) and self.has_add_permission(request)):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form}
        context["title"] = "Import an HSDS package"
        try:
            if request.method == "POST" and "apply" in request.POST:
                context["form"] = ImportForm()
                return self._apply_import(request, context)
            if request.method == "POST" and form.is_valid():
                uploaded = form.cleaned_data["package"]
                name = imports.stage_upload(uploaded, request.user)
                report = self._run_import(
                    imports.staged(name, request.user), dry_run=True, source=uploaded.name
                )
                context.update(report=report, staged=name, source=uploaded.name[:100])
        except imports.PackageError as error:
            context["problem"] = str(error)
        return TemplateResponse(request, "admin/resources/service/import.html", context)

    def _apply_import(self, request, context):
        package = imports.staged(request.POST.get("staged"), request.user)
        if package is None:
            self.message_user(request, "That upload is gone: upload it again.", messages.ERROR)
            return HttpResponseRedirect(request.path)
        source = (request.POST.get("source") or package.name)[:100]
        publish = request.POST.get("publish") == "on"
        report = self._run_import(package, publish=publish, user=request.user, source=source)
        if not report.applied:
            context.update(report=report, staged=package.name, source=source)
            return TemplateResponse(request, "admin/resources/service/import.html", context)
        package.unlink()
        drafts = "" if publish else " New services are drafts."
        self.message_user(
            request, f"Imported {source}. {report.in_words(done=True)}{drafts}", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:resources_service_changelist"))

    def _run_import(self, path, **options):
        seconds = settings.HSDS_IMPORT_TIMEOUT
        try:
            return imports.import_package(path, seconds=seconds, **options)
        except (DeadlineExceeded, OperationalError) as error:
            if isinstance(error, OperationalError) and not isinstance(
                error.__cause__, QueryCanceled
            ):
                raise
            raise imports.PackageError(
                f"This package takes more than the {seconds} seconds an import may take here, "
                "so nothing was written: your deployer can import it with "
                "manage.py import_hsds."
            ) from error

    @method_decorator(require_POST)
    def transition_view(self, request, object_id, name):
        service = self.get_object(request, object_id)
        transition = publishing.TRANSITIONS.get(name)
        if service is None or transition is None:
            raise Http404
        if not request.user.has_perm(transition.permission):
            raise PermissionDenied
        if request.POST.get("edited_version") != service.modified.isoformat():
            self.message_user(
                request,
                f"{service} changed since you opened it: look again, then "
                f"{transition.label.lower()} it.",
                messages.ERROR,
            )
        else:
            self._report(request, transition, publishing.apply(transition, [service], request.user))
        return HttpResponseRedirect(reverse("admin:resources_service_change", args=[service.pk]))

    def _take(self, request, services, name):
        transition = publishing.TRANSITIONS[name]
        outcome = publishing.apply(transition, list(services), request.user)
        self._report(request, transition, outcome)

    def _report(self, request, transition, outcome):
        if outcome.done:
            self.message_user(
                request,
                f"{transition.done.rstrip('.')}: {len(outcome.done)} service(s).",
                messages.SUCCESS,
            )
        for service, reasons in outcome.refused.items():
            self.message_user(
                request,
                f"Not {transition.done.lower().rstrip('.')} — {service}: {reasons}",
                messages.ERROR,
            )
        if transition.name == "publish":
            for warning in publishing.placeless_warnings(outcome.done):
                self.message_user(request, warning, messages.WARNING)

    def has_edit_permission(self, request):
        return request.user.has_perm(publishing.EDIT)

    def has_publish_permission(self, request):
        return request.user.has_perm(publishing.PUBLISH)

    @admin.action(description="Submit the selected services for review", permissions=["edit"])
    def submit(self, request, queryset):
        self._take(request, queryset, "submit")

    @admin.action(description="Publish the selected services", permissions=["publish"])
    def publish(self, request, queryset):
        """Shows the reviewer what each service changed since it was last published,
        and publishes once they confirm."""
        services = list(queryset.select_related("organization"))
        if request.POST.get("confirmed") == "yes":
            # Only what the reviewer saw: a service changed since is left for another look.
            seen = [
                s for s in services if request.POST.get(f"seen-{s.pk}") == s.modified.isoformat()
            ]
            for service in set(services) - set(seen):
                self.message_user(
                    request,
                    f"Not published — {service}: it changed after you reviewed it; look again.",
                    messages.ERROR,
                )
            return self._take(request, seen, "publish")
        return TemplateResponse(
            request,
            "admin/resources/service/publish_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Publish these services?",
                "opts": self.opts,
                "reviews": [(s, *history.changes_since_published(s)) for s in services],
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Send the selected services back to draft", permissions=["publish"])
    def send_back(self, request, queryset):
        self._take(request, queryset, "send_back")

    @admin.action(description="Archive the selected services", permissions=["publish"])
    def archive(self, request, queryset):
        self._take(request, queryset, "archive")

    @admin.action(
        description="Return the selected archived services to draft", permissions=["publish"]
    )
    def unarchive(self, request, queryset):
        self._take(request, queryset, "unarchive")

    @admin.action(
        description="Mark the selected services' details verified today", permissions=["publish"]
    )
    def mark_verified_today(self, request, queryset):
        count = publishing.mark_verified(list(queryset), request.user)
        self.message_user(request, f"Marked {count} service(s) verified today.", messages.SUCCESS)


@admin.register(Location)
class LocationAdmin(CuratedAdmin):
    list_display = ["name", "organization", "location_type", "confidential"]
    list_filter = ["location_type", "confidential"]
    search_fields = ["name", "description", "addresses__city", "addresses__postal_code"]
    autocomplete_fields = ["organization", "languages"]
    inlines = [AddressInline, LocationPhoneInline, ScheduleInline, LocationServiceInline]


class OwnedRowAdmin(admin.ModelAdmin):
    """A row that a service, location or organization owns (an address, a place, a phone,
    hours, an area), on its own page: changed here, it is recorded in its owners'
    history under their rules (an editor cannot change a published service's phone here
    either). It is removed only from its owner's form, where that is recorded too."""

    OWNERS = ["service", "location", "organization"]

    def owners(self, obj):
        found = (getattr(obj, name, None) for name in self.OWNERS if hasattr(obj, name + "_id"))
        return [owner for owner in found if owner is not None]

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or publishing.may_change(obj, request.user))

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Added to, or moved onto, something this curator may not change: refused.
        for owner in {*request.row_owners, *self.owners(obj)}:
            if not publishing.may_change(owner, request.user):
                raise PermissionDenied
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Its owners before the change (it may be moved to another), each recorded as it
        # was if it never has been.
        request.row_owners = []
        if request.method == "POST" and object_id:
            obj = self.get_object(request, object_id)
            request.row_owners = self.owners(obj) if obj is not None else []
            for owner in request.row_owners:
                history.ensure_baseline(owner)
        with reversion.create_revision():
            reversion.set_user(request.user)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def log_addition(self, request, obj, message):
        self._record_in_owners(request, obj, "Added")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._record_in_owners(request, obj, "Changed")
        return super().log_change(request, obj, message)

    def _record_in_owners(self, request, obj, verb):
        for owner in {*request.row_owners, *self.owners(obj)}:
            # Its owner changed too: a curator's form open on it is now out of date.
            type(owner).objects.filter(pk=owner.pk).update(modified=timezone.now())
            reversion.add_to_revision(owner)
        reversion.set_comment(f"{verb} {obj._meta.verbose_name} “{obj}” on its own page.")


@admin.register(Address)
class AddressAdmin(OwnedRowAdmin):
    list_display = ["address_1", "city", "state_province", "postal_code", "location"]
    list_filter = ["state_province", "address_type"]
    search_fields = ["address_1", "city", "postal_code", "location__name"]
    autocomplete_fields = ["location"]


@admin.register(ServiceAtLocation)
class ServiceAtLocationAdmin(OwnedRowAdmin):
    list_display = ["service", "location"]
    search_fields = ["service__name", "location__name"]
    autocomplete_fields = ["service", "location"]
    list_select_related = ["service", "location"]


@admin.register(Phone)
class PhoneAdmin(OwnedRowAdmin):
    list_display = ["number", "extension", "type", "service", "location", "organization"]
    list_filter = ["type"]
    search_fields = ["number", "description", "service__name", "organization__name"]
    autocomplete_fields = ["service", "location", "organization", "languages"]
    list_select_related = ["service", "location", "organization"]


@admin.register(Schedule)
class ScheduleAdmin(OwnedRowAdmin):
    list_display = ["__str__", "service", "location", "open_24_7"]
    list_filter = ["open_24_7", "weekday"]
    search_fields = ["service__name", "location__name", "notes"]
    autocomplete_fields = ["service", "location"]
    list_select_related = ["service", "location"]


@admin.register(ServiceArea)
class ServiceAreaAdmin(OwnedRowAdmin):
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


# Suggestions from the public (resources.suggestions): a queue a curator works through.


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    """Suggestions come only from the public form, and none is deleted: a curator resolves
    or dismisses each, by the actions or by its state on its page."""

    list_display = ["created", "service_link", "short_message", "state"]
    list_filter = ["state"]
    list_select_related = ["service"]
    search_fields = ["message", "service__name"]
    ordering = suggestions.QUEUE_ORDER
    fields = ["service", "message", "created", "state", "note", "resolved_by", "resolved_at"]
    readonly_fields = ["service", "message", "created", "resolved_by", "resolved_at"]
    actions = ["mark_resolved", "dismiss"]

    @admin.display(description="service", ordering="service__name")
    def service_link(self, obj):
        url = reverse("admin:resources_service_change", args=[obj.service_id])
        return format_html('<a href="{}">{}</a>', url, obj.service.name)

    @admin.display(description="message")
    def short_message(self, obj):
        return obj.message if len(obj.message) <= 80 else obj.message[:79] + "…"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "state" in form.changed_data:
            suggestions.set_state(obj, obj.state, by=request.user)
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark the selected suggestions resolved", permissions=["change"])
    def mark_resolved(self, request, queryset):
        self._close(request, queryset, Suggestion.State.RESOLVED, "Resolved")

    @admin.action(description="Dismiss the selected suggestions", permissions=["change"])
    def dismiss(self, request, queryset):
        self._close(request, queryset, Suggestion.State.DISMISSED, "Dismissed")

    def _close(self, request, queryset, state, verb):
        changed = suggestions.close(queryset, state, by=request.user)
        for suggestion in changed:  # one log entry for each, as a form save writes
            self.log_change(request, suggestion, f"{verb}.")
        self.message_user(request, f"{verb} {len(changed)} suggestion(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys for known partners. The key is shown once, when made: only its digest is
    kept. A key is switched off (untick Active), not deleted, so its use stays explained."""

    list_display = ["name", "prefix", "rate", "active", "created"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    fields = ["name", "rate", "active", "prefix", "created"]
    readonly_fields = ["prefix", "created"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key = keys.new_key()
        obj.prefix, obj.digest = key[: keys.PREFIX_LENGTH], keys.digest(key)
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"The key for {obj.name} is {key} — copy it now and give it to them: it is "
            "not shown again. They send it in the X-API-Key header.",
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):
        return False
