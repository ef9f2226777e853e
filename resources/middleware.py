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
