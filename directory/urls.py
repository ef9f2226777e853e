from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from directory.errors import DeadlineExceeded, server_error


@require_safe
def live(request):
    """Liveness: the process answers. No database, no templates (and the benchmark's floor)."""
    return JsonResponse({"ok": True})


@never_cache
@require_safe
def health(request):
    """Readiness, for load balancers: 503 while the database or the cache cannot answer."""
    checks = {"database": False, "cache": None}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = True
        # Redis answers as if empty when it cannot be reached (directory/cache.py); the
        # database's cache, by default, is asked only once the database has answered.
        cache.set("healthz", "ok", timeout=10)
        checks["cache"] = cache.get("healthz") == "ok"
    except (DatabaseError, DeadlineExceeded):
        pass
    ok = all(checks.values())
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)


def not_found(request, exception):
    """Partners get JSON for an unknown API address; people get the site's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


handler404 = not_found
handler500 = server_error

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/", include("resources.api.urls")),
    path("healthz", health, name="health"),
    path("livez", live, name="live"),
    path("", include("resources.urls")),
]
