from django.db.models import OuterRef, Prefetch, Q
from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings

from resources.api.mixins import GoneWhenRemovedMixin, PartnerAPIMixin, ServiceRevalidationMixin
from resources.api.querysets import has_published_service, public_locations, published_services
from resources.models import Need, Organization, Population, Service, ServiceAtLocation

from . import serializers as hsds
from .pagination import HsdsPagination
from .params import filter_services, read_flag, read_uuid
from .renderers import NDJSONRenderer
from .taxonomies import TAXONOMIES, find_taxonomy

HSDS_VERSION = "3.0"


def query(name, type_, description):
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description)


ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
SEARCH = query("search", OpenApiTypes.STR, "Words to look for, as on the search page.")
SERVICE_FILTERS = [
    SEARCH,
    query(
        "taxonomy_term_id",
        OpenApiTypes.UUID,
        "Services with this taxonomy term (a need includes its sub-needs).",
    ),
    query("taxonomy_id", OpenApiTypes.UUID, "Services with any term of this taxonomy."),
    query("organization_id", OpenApiTypes.UUID, "Services of this organization."),
    query(
        "modified_after",
        OpenApiTypes.DATETIME,
        "Services changed after this ISO 8601 date or date-time.",
    ),
    OpenApiParameter(
        "postcode",
        OpenApiTypes.STR,
        pattern=r"^\d{5}$",
        description="A five-digit ZIP code: the services with a (non-confidential) address "
        "there, then those whose service area covers it (its city, county or state), then "
        "those serving the whole country. With proximity, those within that distance of its "
        "centroid, nearest first, then the others.",
    ),
    OpenApiParameter(
        "proximity",
        OpenApiTypes.NUMBER,
        description="Meters from the postcode's centroid (up to about 800 km).",
    ),
]
FULL = query("full", OpenApiTypes.BOOL, "true: each service fully nested, as one by one.")
FULL_SERVICE = query(
    "full_service", OpenApiTypes.BOOL, "true: each service fully nested, not only its own fields."
)


class HsdsRootSerializer(serializers.Serializer):
    version = serializers.CharField()
    profile = serializers.URLField()
    openapi_url = serializers.URLField()


class HsdsRootView(PartnerAPIMixin, GenericAPIView):
    """Which HSDS version this profile follows, and where its description lives."""

    serializer_class = HsdsRootSerializer

    @extend_schema(operation_id="hsds_root")
    def get(self, request):
        return Response(
            {
                "version": HSDS_VERSION,
                "profile": request.build_absolute_uri(reverse("api:docs")),
                "openapi_url": request.build_absolute_uri(reverse("api:hsds:openapi")),
            }
        )


class HsdsViewSet(PartnerAPIMixin, viewsets.ReadOnlyModelViewSet):
    pagination_class = HsdsPagination
    lookup_url_kwarg = "id"
    # Any character but a slash: a malformed id is the view's JSON 404, not the resolver's.
    lookup_value_regex = "[^/]+"


@extend_schema_view(
    list=extend_schema(
        parameters=[
            *SERVICE_FILTERS,
            query(
                "minimal",
                OpenApiTypes.BOOL,
                "true: only each service's id, name, status and last_modified.",
            ),
            FULL,
        ]
    ),
    retrieve=extend_schema(parameters=[ID]),
)
class ServiceViewSet(ServiceRevalidationMixin, GoneWhenRemovedMixin, HsdsViewSet):
    """Published services: one-to-one fields in the list, fully nested one by one.
    `format=ndjson` streams every matching service, a JSON document a line, unpaged."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, NDJSONRenderer]
    STREAM_CHUNK = 500  # services read (and their rows prefetched) at a time
    # The list's items: (full=true) nested, or one-to-one fields, or (minimal=true) brief;
    # the fullest first, so that a generated client tries it first.
    list_shapes = (
        "HsdsServiceListItem",
        [
            hsds.HsdsServiceSerializer,
            hsds.HsdsServiceListSerializer,
            hsds.HsdsMinimalServiceSerializer,
        ],
    )

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format != NDJSONRenderer.format:
            return super().list(request, *args, **kwargs)
        services = self.filter_queryset(self.get_queryset())
        serializer_class, context = self.get_serializer_class(), self.get_serializer_context()
        renderer = request.accepted_renderer
        each = hsds.each_represented(
            serializer_class, services, chunk=self.STREAM_CHUNK, context=context
        )
        lines = (renderer.render(data) for data in each)
        return StreamingHttpResponse(lines, content_type=renderer.media_type)

    def get_queryset(self):
        if self.action == "list" and not read_flag(self.request.query_params, "full"):
            return Service.objects.published().select_related("organization")
        return published_services()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return filter_services(self.request, queryset)

    def get_serializer_class(self):
        params = self.request.query_params
        if self.action != "list" or read_flag(params, "full"):
            if read_flag(params, "minimal"):
                raise ValidationError({"minimal": ["Ask for full or minimal, not both."]})
            return hsds.HsdsServiceSerializer
        if read_flag(params, "minimal"):
            return hsds.HsdsMinimalServiceSerializer
        return hsds.HsdsServiceListSerializer


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SEARCH,
            FULL_SERVICE,
            query("full", OpenApiTypes.BOOL, "true: each organization fully nested."),
        ]
    ),
    retrieve=extend_schema(parameters=[ID, FULL_SERVICE]),
)
class OrganizationViewSet(HsdsViewSet):
    """Organizations with at least one published service."""

    def get_queryset(self):
        organizations = Organization.objects.filter(
            has_published_service(organization=OuterRef("pk"))
        ).order_by("name", "pk")
        if self.action == "list":
            search = self.request.query_params.get("search", "").strip()
            if search:
                organizations = organizations.filter(
                    Q(name__icontains=search) | Q(alternate_name__icontains=search)
                )
            if not self._nested():
                return organizations
        services = Service.objects.published().select_related("organization")
        if self._full_service():
            services = published_services()
        return organizations.prefetch_related(
            "phones__languages",
            Prefetch("services", services.order_by("name", "pk"), to_attr="published_services"),
            Prefetch("locations", public_locations(), to_attr="public_locations"),
        )

    def get_serializer_class(self):
        if self._nested():
            return hsds.HsdsOrganizationSerializer
        return hsds.HsdsOrganizationListSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "full_service": self._full_service()}

    def _full_service(self):
        return read_flag(self.request.query_params, "full_service")

    def _nested(self):
        if self.action != "list":
            return True
        return read_flag(self.request.query_params, "full") or self._full_service()


@extend_schema_view(
    list=extend_schema(parameters=[*SERVICE_FILTERS, FULL]),
    retrieve=extend_schema(parameters=[ID]),
)
class ServiceAtLocationViewSet(HsdsViewSet):
    """Where each published service is offered. A confidential location (a shelter) has
    neither address nor coordinates here."""

    def get_queryset(self):
        links = ServiceAtLocation.objects.filter(service__in=Service.objects.published())
        if self.action == "list" and not self._full():
            return links.select_related("service__organization", "location").order_by(
                "service__name", "location__name", "pk"
            )
        return links.prefetch_related(
            Prefetch("service", published_services()), Prefetch("location", public_locations())
        ).order_by("service__name", "location__name", "pk")

    def _full(self):
        return read_flag(self.request.query_params, "full")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        services = filter_services(self.request, Service.objects.published())
        return queryset.filter(service__in=services.values("pk"))

    def get_serializer_class(self):
        if self.action == "list" and not self._full():
            return hsds.HsdsServiceAtLocationListSerializer
        return hsds.HsdsServiceAtLocationSerializer


# The two taxonomies are fixed; their terms are the directory's needs and populations.


@extend_schema_view(
    list=extend_schema(parameters=[SEARCH]), retrieve=extend_schema(parameters=[ID])
)
class TaxonomyViewSet(HsdsViewSet):
    """The directory's two taxonomies: needs and populations."""

    serializer_class = hsds.HsdsTaxonomySerializer

    def get_queryset(self):
        search = self.request.query_params.get("search", "").strip().lower()
        return [t for t in TAXONOMIES if search in t.name.lower()]

    def get_object(self):
        taxonomy_id = read_uuid(self.kwargs, "id", {})
        taxonomy = find_taxonomy(taxonomy_id)
        if taxonomy is None:
            raise Http404
        return taxonomy


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SEARCH,
            query("taxonomy_id", OpenApiTypes.UUID, "Only the terms of this taxonomy."),
            query("parent_id", OpenApiTypes.UUID, "Only the terms directly under this one."),
            query("top_only", OpenApiTypes.BOOL, "true: only top-level terms."),
        ]
    ),
    retrieve=extend_schema(parameters=[ID]),
)
class TaxonomyTermViewSet(HsdsViewSet):
    """Needs and populations, each a term of its taxonomy."""

    serializer_class = hsds.HsdsTaxonomyTermSerializer

    def get_queryset(self):
        # Both taxonomies are small, curated lists: read whole, then paginated as one list.
        return [
            *Need.objects.order_by("position", "name", "pk"),
            *Population.objects.order_by("position", "name", "pk"),
        ]

    def filter_queryset(self, terms):
        if self.action != "list":
            return terms
        params = self.request.query_params
        errors = {}
        taxonomy_id = read_uuid(params, "taxonomy_id", errors)
        parent_id = read_uuid(params, "parent_id", errors)
        top_only = read_flag(params, "top_only")
        taxonomy = taxonomy_id and find_taxonomy(taxonomy_id)
        if taxonomy_id and not taxonomy:
            errors["taxonomy_id"] = [f"No taxonomy has the id {taxonomy_id}."]
        if errors:
            raise serializers.ValidationError(errors)
        if taxonomy:
            terms = [t for t in terms if isinstance(t, taxonomy.model)]
        if parent_id:
            terms = [t for t in terms if t.parent_id == parent_id]
        if top_only:
            terms = [t for t in terms if t.parent_id is None]
        search = params.get("search", "").strip().lower()
        if search:
            terms = [t for t in terms if search in t.name.lower()]
        return terms

    def get_object(self):
        term_id = read_uuid(self.kwargs, "id", {})
        term = term_id and (
            Need.objects.filter(pk=term_id).first() or Population.objects.filter(pk=term_id).first()
        )
        if not term:
            raise Http404
        return term
