from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults
from django.views.decorators.http import require_safe


@require_safe
def health(request):
    """For load balancers and as the benchmark's floor: no database, no templates."""
    return JsonResponse({"ok": True})


def not_found(request, exception):
    """Partners get JSON for an unknown API address; people get the site's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


handler404 = not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("resources.api.urls")),
    path("healthz", health, name="health"),
    path("", include("resources.urls")),
]
