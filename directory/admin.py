"""The admin site curators work in: its index opens on the work waiting for them."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse
from django.utils.http import urlencode


class CurationSite(admin.AdminSite):
    site_header = "Survivor support directory"
    site_title = "Directory admin"
    index_title = "Curation"

    def index(self, request, extra_context=None):
        return super().index(request, {"work": work_waiting(request.user), **(extra_context or {})})


class CurationAdminConfig(AdminConfig):
    default_site = "directory.admin.CurationSite"


def work_waiting(user):
    """What needs a curator now, counted, each with the list that shows it."""
    from resources import publishing
    from resources.models import PublicationState, Service, Suggestion

    work = []

    def add(count, text, url, query):
        if count:
            work.append({"count": count, "text": text, "url": f"{reverse(url)}?{urlencode(query)}"})

    if user.has_perm("resources.view_service"):
        services = Service.objects.all()
        add(
            services.filter(publication_state=PublicationState.IN_REVIEW).count(),
            "waiting for review",
            "admin:resources_service_changelist",
            {"publication_state__exact": PublicationState.IN_REVIEW},
        )
        due = publishing.needing_verification(
            services.filter(publication_state=PublicationState.PUBLISHED),
            settings.VERIFY_AFTER_DAYS,
        )
        add(
            due.count(),
            f"published, not verified for {settings.VERIFY_AFTER_DAYS} days",
            "admin:resources_service_changelist",
            {"verification": "due", "publication_state__exact": PublicationState.PUBLISHED},
        )
    if user.has_perm("resources.view_suggestion"):
        add(
            Suggestion.objects.filter(state=Suggestion.State.OPEN).count(),
            "open suggestions from the public",
            "admin:resources_suggestion_changelist",
            {"state__exact": Suggestion.State.OPEN},
        )
    return work
