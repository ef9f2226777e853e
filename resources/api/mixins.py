import hashlib
from pathlib import Path

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Max
from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.http import quote_etag
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response

from resources import sync
from resources.hsds import serializers as hsds_serializers
from resources.models import Service

from . import parameters
from . import serializers as v1_serializers

# Short enough that a curator's correction reaches partners within a minute.
MAX_AGE = 60


class ConditionalGetMixin:
    # Lets partners poll cheaply: a short public cache lifetime, and an ETag over the body,
    # so asking again about an unchanged resource costs a 304 and no download. Only
    # successful answers are cacheable; errors and throttled requests are not.

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if not isinstance(response, Response):  # a stream: no body to tag in advance
            return response
        response.render()
        patch_cache_control(response, public=True, max_age=MAX_AGE)
        if not response.has_header("ETag"):  # a view may tag its answer cheaper
            set_response_etag(response)
        return get_conditional_response(request, etag=response["ETag"], response=response)


# The code that shapes a service's answer: a deploy that changes it changes every ETag.
SHAPES = hashlib.sha256(
    b"".join(Path(module.__file__).read_bytes() for module in (v1_serializers, hsds_serializers))
).hexdigest()[:16]


class ServiceRevalidationMixin:
    # A published service's answer changes only when the service does: its `modified`
    # moves with anything it shows (resources.sync). So its ETag is made from that, and a
    # partner asking again about an unchanged service gets its 304 after one narrow
    # query, without the full one. A list's is made from how many services match and the
    # latest `modified` among them: a service that joins, leaves or changes moves one of
    # the two. (Not a keyword search's, whose matches also depend on the synonyms, nor
    # "open now", which depends on the clock: their ETags stay over the body.)
    BODY_TAGGED = ("q", "search", "open_now")

    def list(self, request, *args, **kwargs):
        matching = self.listed_services()
        if matching is None or any(request.query_params.get(n) for n in self.BODY_TAGGED):
            return self.answer_list(request, *args, **kwargs)
        summary = matching.order_by().aggregate(count=Count("pk"), latest=Max("modified"))
        latest = summary["latest"].isoformat() if summary["latest"] else ""
        return self._revalidated(
            request,
            f"{request.get_full_path()}|{summary['count']}|{latest}|{SHAPES}",
            lambda: self.answer_list(request, *args, **kwargs),
        )

    def answer_list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def listed_services(self):
        """All the services the list answers with, or None when its filters are invalid
        (the list then answers the 400)."""
        return self.filter_queryset(self.get_queryset())

    def _revalidated(self, request, version, answer):
        etag = quote_etag(hashlib.sha256(version.encode()).hexdigest()[:32])
        probe = HttpResponse()
        probe["ETag"] = etag
        patch_cache_control(probe, public=True, max_age=MAX_AGE)
        not_modified = get_conditional_response(request, etag=etag, response=probe)
        if not_modified is not probe:
            return not_modified
        response = answer()
        response["ETag"] = etag
        return response

    def retrieve(self, request, *args, **kwargs):
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            modified = (
                Service.objects.published().filter(pk=lookup).values_list("modified", flat=True)
            ).first()
        except (ValueError, DjangoValidationError):
            modified = None  # not an id: the full path answers the 404
        if modified is None:
            return super().retrieve(request, *args, **kwargs)
        return self._revalidated(
            request,
            f"{request.get_full_path()}|{modified.isoformat()}|{SHAPES}",
            lambda: super(ServiceRevalidationMixin, self).retrieve(request, *args, **kwargs),
        )


class RateLimitHeadersMixin:
    # Every answer, a 429 and a 304 included, says how many requests the client has left
    # in the current window and when it ends (the IETF RateLimit header fields).

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        verdict = getattr(request, "rate_verdict", None)
        if verdict is not None:
            response["RateLimit-Limit"] = str(verdict.limit)
            response["RateLimit-Remaining"] = str(verdict.remaining)
            response["RateLimit-Reset"] = str(verdict.retry_after)
        return response


class NoNullCharactersMixin:
    # PostgreSQL cannot compare text holding a NUL character (it raises, and the client
    # would get a 500): such a parameter is refused and such an id or slug not found, before
    # any query runs.

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refused = {
            name: ["Null characters are not allowed."]
            for name, values in request.query_params.lists()
            if any("\x00" in value for value in values)
        }
        if refused:
            raise ValidationError(refused)
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound()


class KnownParametersMixin:
    # A parameter the endpoint's OpenAPI description does not list is a 400 naming it
    # (resources.api.parameters), not silently ignored.

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = parameters.unknown(request.path_info, request.query_params)
        if unknown:
            message = "This endpoint takes no such parameter (see /api/schema/)."
            raise ValidationError({name: [message] for name in unknown})


class Gone(APIException):
    status_code = 410
    default_code = "gone"


class GoneWhenRemovedMixin:
    # A service that was public and no longer is answers 410 Gone with the date it left,
    # so that a mirror drops it; an id that was never public stays a 404.

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            removed = sync.removed_at(lookup)
            if removed is None:
                raise
            raise Gone(
                {
                    "detail": f"This service left the public directory on {removed:%Y-%m-%d}.",
                    "removed": removed.isoformat(),
                }
            ) from None


# What every partner-facing view shares. (Comments, not docstrings: a view's docstring
# becomes its description in the API documentation.)
class PartnerAPIMixin(
    NoNullCharactersMixin, KnownParametersMixin, RateLimitHeadersMixin, ConditionalGetMixin
):
    pass
