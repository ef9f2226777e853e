import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control


def _policy(**directives):
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


# Everything the public pages need is served by this site: a survivor's browser makes
# no request to any other host, and an injected script or stylesheet could not load.
CONTENT_SECURITY_POLICY = _policy(
    default_src="'self'",
    img_src="'self' data:",
    script_src="'self'",
    style_src="'self'",
    font_src="'self'",
    connect_src="'self'",
    object_src="'none'",
    base_uri="'none'",
    form_action="'self'",
    frame_ancestors="'none'",
)
# The admin's own pages set a few inline styles (style="..."); its scripts are files.
ADMIN_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"


def admin_path(request):
    return request.path.startswith("/" + settings.ADMIN_URL)


class SafetyHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault(
            "Content-Security-Policy",
            ADMIN_CONTENT_SECURITY_POLICY if admin_path(request) else CONTENT_SECURITY_POLICY,
        )
        # A page seen with a session shows that visitor's referral list (or a curator's
        # admin): no browser or proxy may keep a copy for the next person at the device.
        if settings.SESSION_COOKIE_NAME in request.COOKIES or response.cookies:
            patch_cache_control(response, no_store=True, private=True)
        return response


class RefuseUploadsMiddleware:
    """The site takes no uploads but one (a reviewer's HSDS package on the admin's import
    page, up to HSDS_UPLOAD_MAX_BYTES), and its forms post a few short fields: another
    file or a large body is refused before anything reads it. (And the admin's list
    filters, which pass their values to the database as they come, are refused a NUL
    character, which PostgreSQL cannot compare; the public pages and the API name the
    field instead.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if admin_path(request) and any(
            "\x00" in text for key, values in request.GET.lists() for text in (key, *values)
        ):
            return HttpResponse(
                "Null characters are not allowed.", status=400, content_type="text/plain"
            )
        upload = request.path == reverse(
            "admin:resources_service_import"
        ) and request.user.has_perm("resources.publish_service")
        if request.content_type == "multipart/form-data" and not upload:
            return HttpResponse(
                "This site takes no file uploads.", status=415, content_type="text/plain"
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        limit = settings.HSDS_UPLOAD_MAX_BYTES if upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return HttpResponse("Request body too large.", status=413, content_type="text/plain")
        return self.get_response(request)


class StaffIdleTimeoutMiddleware:
    """A curator's session ends after ADMIN_IDLE_MINUTES without a request, so an admin
    left open on a shared computer does not stay signed in."""

    KEY = "_last_request"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only a visitor with a session can be signed in: no other pays a session read.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            now = time.time()
            last = request.session.get(self.KEY, now)
            if now - last > settings.ADMIN_IDLE_MINUTES * 60:
                logout(request)
            else:
                request.session[self.KEY] = now
        return self.get_response(request)
