from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def health(request):
    """For load balancers and as the benchmark's floor: no database, no templates."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("resources.api.urls")),
    path("healthz", health, name="health"),
    path("", include("resources.urls")),
]
