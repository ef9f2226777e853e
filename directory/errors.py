"""What the site answers when something fails: 503 while the database cannot answer,
500 otherwise, as JSON on the API and as a plain page elsewhere. Neither page needs the
database or a request context to render."""

import signal
import sys
import threading

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.urls import reverse
from django.views import defaults

RETRY_AFTER = 30  # seconds: a database restart or a failover


class DeadlineExceeded(Exception):
    """The request ran past REQUEST_TIMEOUT: the database (or the site) is too slow now."""


class RequestDeadlineMiddleware:
    """Ends a request that runs past REQUEST_TIMEOUT seconds with a 503 page.

    A database that is hung, not down, accepts connections and queries and never answers,
    and nothing in the client gives up on a query: the statement timeout is the server's
    own, and a stopped server never runs it. An alarm does give up, in the middle of
    whatever waits, and the connection it leaves is closed, not reused. Signals reach only
    a process's main thread: gunicorn's workers run requests there (directory/gunicorn.py),
    the development server's threads are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.REQUEST_TIMEOUT
        if seconds and request.path == reverse("admin:resources_service_import"):
            # Checking and applying an HSDS package takes longer: its own budget, within
            # gunicorn's worker timeout (the import says when a package needs the command).
            seconds = settings.HSDS_IMPORT_TIMEOUT
        if not seconds or threading.current_thread() is not threading.main_thread():
            return self.get_response(request)
        previous = signal.signal(signal.SIGALRM, self.expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return self.get_response(request)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    @staticmethod
    def expire(signum, frame):
        raise DeadlineExceeded(f"The request ran past {settings.REQUEST_TIMEOUT} seconds.")


def api_path(request):
    return request.path.startswith("/api/")


def server_error(request):
    """Django's handler500, called with the exception still being handled."""
    error = sys.exc_info()[1]
    # Refused, timed out (connecting, waiting for the pool, or a statement running past
    # DATABASE_STATEMENT_TIMEOUT), or cut off: the database, not the request, is at fault.
    if isinstance(error, OperationalError | InterfaceError | DeadlineExceeded):
        return service_unavailable(request)
    if api_path(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)


def service_unavailable(request):
    if api_path(request):
        response = JsonResponse(
            {"detail": "The directory is briefly unavailable. Please try again shortly."},
            status=503,
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response
