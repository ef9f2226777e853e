"""What partners may see, loaded in a fixed number of queries: shared by the v1 API and
the HSDS profile."""

from django.db.models import Exists, OuterRef, Prefetch

from resources.models import Address, Location, Service


def published_services():
    """Published services with everything an answer embeds."""
    return Service.objects.published().for_display()


def has_published_service(**link):
    return Exists(Service.objects.published().filter(**link))


def public_locations():
    """Locations where a published service is offered, without a confidential one's address."""
    return (
        Location.objects.filter(
            has_published_service(service_at_locations__location=OuterRef("pk"))
        )
        .prefetch_related(
            Prefetch("addresses", queryset=Address.objects.public()),
            "phones__languages",
            "schedules",
            "languages",
        )
        .order_by("name", "pk")
    )
