from django.db.models import OuterRef, Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularJSONAPIView,
    SpectacularSwaggerSplitView,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from resources import sync
from resources.filters import ServiceFilter
from resources.models import (
    Language,
    Need,
    Organization,
    Population,
    Service,
    ServiceAtLocation,
)
from resources.search.facets import facet_counts

from . import serializers
from .mixins import GoneWhenRemovedMixin, PartnerAPIMixin, ServiceRevalidationMixin
from .pagination import PagePagination, SearchPagination
from .querysets import has_published_service, public_locations, published_services


class PartnerViewSet(PartnerAPIMixin, viewsets.ReadOnlyModelViewSet):
    pagination_class = PagePagination
    # Any character but a slash, so that a malformed id or slug is a JSON 404 from the view
    # rather than an HTML one from the URL resolver.
    lookup_value_regex = "[^/]+"


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "need",
                OpenApiTypes.STR,
                many=True,
                description="A need's slug (see /api/v1/needs/); its sub-needs are included. "
                "Repeat to match any of several.",
            ),
            OpenApiParameter(
                "population",
                OpenApiTypes.STR,
                many=True,
                description="A population's slug (see /api/v1/populations/). "
                "Repeat to match any of several.",
            ),
            OpenApiParameter(
                "language",
                OpenApiTypes.STR,
                many=True,
                description="A language code (see /api/v1/languages/). Repeat for any of several.",
            ),
            OpenApiParameter(
                "organization", OpenApiTypes.STR, description="An organization's slug."
            ),
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                pattern=r"^[A-Za-z]{2}$",
                description="Two-letter state code. Includes services that serve the whole "
                "country.",
            ),
            OpenApiParameter(
                "postal_code",
                OpenApiTypes.STR,
                pattern=r"^\d{5}$",
                description="A five-digit ZIP code: the services with a (non-confidential) "
                "address there, then those whose service area covers it (its city, county or "
                "state), then those serving the whole country.",
            ),
            OpenApiParameter(
                "city",
                OpenApiTypes.STR,
                description="A city, or a city with its state (Springfield, IL): as for a "
                "ZIP code, the services there, then by service area, then nationwide.",
            ),
            OpenApiParameter(
                "near",
                OpenApiTypes.STR,
                description="A ZIP code or a city with its state: the services with a "
                "public location within `radius` miles, nearest first (each with its "
                "`distance`), then those whose service area covers the place, then those "
                "serving the whole country.",
            ),
            OpenApiParameter(
                "radius",
                OpenApiTypes.NUMBER,
                description="Miles from `near`: more than 0, at most 500 (default 25).",
            ),
        ]
    )
)
class ServiceViewSet(ServiceRevalidationMixin, GoneWhenRemovedMixin, PartnerViewSet):
    """Published services. The list takes the search page's filters; `q` searches words,
    "quoted phrases" and -excluded words, and orders by relevance. List items summarize a
    service; its detail adds locations, hours, service areas and eligibility."""

    # The list finds its services with resources.search.results.find(), through the same
    # FilterSet, which also describes its parameters in the schema; the facets read it here.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ServiceFilter
    pagination_class = SearchPagination

    def get_queryset(self):
        if self.action == "list":
            return Service.objects.published().for_summary()
        return published_services()

    def get_serializer_class(self):
        return {
            "list": serializers.ServiceListItemSerializer,
            "facets": serializers.FacetsSerializer,
        }.get(self.action, serializers.ServiceSerializer)

    def listed_services(self):
        filters = ServiceFilter(
            self.request.query_params, queryset=Service.objects.published(), request=self.request
        )
        return filters.qs if filters.is_valid() else None

    def answer_list(self, request, *args, **kwargs):
        services = self.paginator.paginate_search(request, rows=self.get_queryset())
        return self.get_paginated_response(self.get_serializer(services, many=True).data)

    def filter_queryset(self, queryset):
        # The search filters choose which services are counted; one service is found by its
        # id alone.
        if self.action != "facets":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(filters=True)
    @action(detail=False, pagination_class=None)
    def facets(self, request, format=None):
        """How many services under the same filters as the list each need and population
        has: for showing counts beside a search's filters."""
        counts = facet_counts(
            self.filter_queryset(Service.objects.published()), kinds=("needs", "populations")
        )
        data = {
            "count": counts["count"],
            "needs": _counted(Need, counts["needs"]),
            "populations": _counted(Population, counts["populations"]),
        }
        return Response(self.get_serializer(data).data)


def _counted(model, counts):
    """The terms that `counts` (primary key to count) holds, each with its `count`, the
    most common first."""
    terms = list(model.objects.filter(pk__in=counts))
    for term in terms:
        term.count = counts[term.pk]
    return sorted(terms, key=lambda term: (-term.count, term.name))


class OrganizationViewSet(PartnerViewSet):
    """Organizations with at least one published service."""

    serializer_class = serializers.OrganizationSerializer

    def get_queryset(self):
        return (
            Organization.objects.filter(has_published_service(organization=OuterRef("pk")))
            .prefetch_related(
                "phones__languages",
                Prefetch(
                    "services",
                    queryset=Service.objects.published().order_by("name", "pk"),
                    to_attr="published_services",
                ),
            )
            .order_by("name", "pk")
        )


class LocationViewSet(PartnerViewSet):
    """Locations where a published service is offered. A confidential location (a shelter)
    shows how to make contact, never its address or coordinates."""

    serializer_class = serializers.LocationWithServicesSerializer

    def get_queryset(self):
        published_links = ServiceAtLocation.objects.filter(
            service__in=Service.objects.published()
        ).select_related("service")
        return public_locations().prefetch_related(
            Prefetch(
                "service_at_locations",
                queryset=published_links.order_by("service__name", "pk"),
                to_attr="published_links",
            )
        )


class TermViewSet(PartnerViewSet):
    lookup_field = "slug"

    def get_queryset(self):
        model = self.get_serializer_class().Meta.model
        return (
            model.objects.select_related("parent")
            .prefetch_related("children")
            .order_by("position", "name", "pk")
        )


class NeedViewSet(TermViewSet):
    """The needs taxonomy. Each need names its parent and children by slug, the values the
    services list's `need` filter takes."""

    serializer_class = serializers.NeedSerializer


class PopulationViewSet(TermViewSet):
    """The populations taxonomy: the groups of people services are meant for."""

    serializer_class = serializers.PopulationSerializer


class LanguageViewSet(PartnerViewSet):
    """The languages services are offered in, by ISO 639 code."""

    serializer_class = serializers.LanguageSerializer
    lookup_field = "code"
    queryset = Language.objects.order_by("name", "code")


class OneVersionMixin:
    # The API's version is in its paths (/api/v1/): a `version` parameter has nothing to
    # choose, and drf-spectacular would write it into the Content-Disposition header, where
    # a newline is a server error.
    def _get_version_parameter(self, request):
        return None


@extend_schema(
    parameters=[
        OpenApiParameter(
            "since",
            OpenApiTypes.STR,
            pattern=r"^\d+\.\d+$",
            description="A cursor: the `next` of an earlier answer. Left out, the answer "
            "lists nothing and gives the feed's current end as `next`: take it, copy the "
            "services, then replay from it.",
        )
    ],
)
class ChangeFeedView(PartnerAPIMixin, GenericAPIView):
    """The services that changed or left the public directory, in the order they did,
    with a cursor: replaying from it misses nothing and repeats nothing, however the
    directory changes meanwhile. A service's line is written when it, or anything it shows
    (organization, locations, addresses, phones, hours, areas, tags), changes."""

    serializer_class = serializers.ChangeFeedSerializer
    PAGE_SIZE = 1000

    def get(self, request, *args, **kwargs):
        since = request.query_params.get("since")
        if since is None:
            lines, end, more = [], sync.head(), False
        else:
            try:
                lines, end, more = sync.changes_since(sync.Cursor.parse(since), self.PAGE_SIZE)
            except sync.CursorError as error:
                raise ValidationError({"since": [str(error)]}) from None
        feed = {"changes": lines, "next": str(end), "more": more}
        return Response(self.get_serializer(feed).data)


class SchemaView(OneVersionMixin, SpectacularAPIView):
    pass


class JSONSchemaView(OneVersionMixin, SpectacularJSONAPIView):
    pass


class DocsView(SpectacularSwaggerSplitView):
    # Without metadata, OPTIONS is a 405: DRF's description of the view would go to the
    # page's HTML renderer, which has no template for it.
    metadata_class = None
