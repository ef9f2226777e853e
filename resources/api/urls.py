from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter()
router.register("services", views.ServiceViewSet, basename="service")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("locations", views.LocationViewSet, basename="location")
router.register("needs", views.NeedViewSet, basename="need")
router.register("populations", views.PopulationViewSet, basename="population")
router.register("languages", views.LanguageViewSet, basename="language")

urlpatterns = [
    path("v1/changes/", views.ChangeFeedView.as_view(), name="changes"),
    path("v1/", include(router.urls)),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script from a URL of its own: the site's
    # Content-Security-Policy refuses inline scripts.
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    path("hsds/", include("resources.hsds.urls")),
]
