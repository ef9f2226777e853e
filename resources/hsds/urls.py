from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from . import views

app_name = "hsds"

# HSDS names its paths without a trailing slash: /services, /services/{id}.
urlpatterns = [
    path("", views.HsdsRootView.as_view(), name="root"),
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(
            urlconf="resources.hsds.urls",
            custom_settings={
                "TITLE": "Survivor support directory: HSDS 3.0 profile",
                "DESCRIPTION": "Published services in the shapes of the Open Referral Human "
                "Services Data Specification 3.0 (https://openreferral.org/).",
                "SERVERS": [{"url": "/api/hsds"}],
            },
        ),
        name="openapi",
    ),
    path("services", views.ServiceViewSet.as_view({"get": "list"}), name="services"),
    path("services/<str:id>", views.ServiceViewSet.as_view({"get": "retrieve"}), name="service"),
    path(
        "organizations",
        views.OrganizationViewSet.as_view({"get": "list"}),
        name="organizations",
    ),
    path(
        "organizations/<str:id>",
        views.OrganizationViewSet.as_view({"get": "retrieve"}),
        name="organization",
    ),
    path(
        "service_at_locations",
        views.ServiceAtLocationViewSet.as_view({"get": "list"}),
        name="service_at_locations",
    ),
    path(
        "service_at_locations/<str:id>",
        views.ServiceAtLocationViewSet.as_view({"get": "retrieve"}),
        name="service_at_location",
    ),
    path("taxonomies", views.TaxonomyViewSet.as_view({"get": "list"}), name="taxonomies"),
    path(
        "taxonomies/<str:id>",
        views.TaxonomyViewSet.as_view({"get": "retrieve"}),
        name="taxonomy",
    ),
    path(
        "taxonomy_terms",
        views.TaxonomyTermViewSet.as_view({"get": "list"}),
        name="taxonomy_terms",
    ),
    path(
        "taxonomy_terms/<str:id>",
        views.TaxonomyTermViewSet.as_view({"get": "retrieve"}),
        name="taxonomy_term",
    ),
]
