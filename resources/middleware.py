from django.middleware import csrf

# Everything the public pages need is served by this site: a survivor's browser makes
# no request to any other host, and an injected script or stylesheet could not load.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "script-src 'self'",
        "style-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), interest-cohort=()"


class SafetyHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/admin/"

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # The admin is for signed-in curators and relies on a few inline styles.
        if not request.path.startswith(self.admin_prefix):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class CsrfViewMiddleware(csrf.CsrfViewMiddleware):
    """Django's CSRF protection, made to work with `Referrer-Policy: no-referrer`.

    Under that policy browsers send `Origin: null` (and no Referer) with the site's own
    form posts, which Django would refuse. A browser also sends `Sec-Fetch-Site`, a
    header no page script can set; when it says the post came from this very origin,
    that is proof enough of origin. The CSRF token is still checked as always.
    """

    def _origin_verified(self, request):
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            return True
        return super()._origin_verified(request)
