from django.urls import path
from rest_framework.routers import SimpleRouter

from resources.api.views import ChangeFeedView, JSONSchemaView

from . import views

app_name = "hsds"

# HSDS names its paths without a trailing slash: /services, /services/{id}.
router = SimpleRouter(trailing_slash=False)
router.register("services", views.ServiceViewSet, basename="service")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("service_at_locations", views.ServiceAtLocationViewSet, basename="sal")
router.register("taxonomies", views.TaxonomyViewSet, basename="taxonomy")
router.register("taxonomy_terms", views.TaxonomyTermViewSet, basename="taxonomy_term")

urlpatterns = [
    path("", views.HsdsRootView.as_view(), name="root"),
    # Not in HSDS 3.0: the same change feed as /api/v1/changes/, for mirrors of this profile.
    path("changes", ChangeFeedView.as_view(), name="changes"),
    path(
        "openapi.json",
        JSONSchemaView.as_view(
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
    *router.urls,
]
