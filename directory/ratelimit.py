"""Requests per client and minute, for the API and the search page alike.

Each client has a count per window of time in the shared cache (directory/cache.py),
raised atomically, so that however many requests arrive at once no more than the limit
get through. The client is known by its address, kept only as a keyed hash and only for
the window.
"""

import hashlib
import hmac
import math
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate):
    """'300/min' → (300, 60)."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ImproperlyConfigured(
            f"A rate is a number of requests per s, min, hour or day (300/min), not {rate!r}."
        ) from None


def client_ip(request):
    """The client's address: the connection's, or with NUM_PROXIES proxies in front, the
    one the nearest of them added to X-Forwarded-For (any before it the client could
    have written itself)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.NUM_PROXIES and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(settings.NUM_PROXIES, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window ends


def hit(scope, request, rate, *, identity=None):
    """Count one request from `request`'s client (or from `identity`, an API key's say)
    against `rate`, and say if it may go on."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    retry_after = max(1, math.ceil((window + 1) * period - now))
    identity = identity or client_ip(request)
    client = hmac.new(settings.SECRET_KEY.encode(), identity.encode(), hashlib.sha256)
    key = f"rate:{scope}:{client.hexdigest()[:32]}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # gone between the two (a cache cleared or full)
        count = None
    if count is None:  # the cache cannot count now: let the request through
        return Verdict(True, limit, limit, retry_after)
    return Verdict(count <= limit, limit, max(0, limit - count), retry_after)


class APIRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        api_key = request.auth  # resources.api.keys: a known partner's own limit
        if api_key is not None:
            self.verdict = hit("api-key", request, api_key.rate, identity=api_key.digest)
        else:
            self.verdict = hit("api", request, settings.API_ANON_RATE)
        # For the answer's headers (resources.api.mixins.RateLimitHeadersMixin).
        request.rate_verdict = self.verdict
        return self.verdict.allowed

    def wait(self):
        return self.verdict.retry_after


def rate_limited(scope, setting):
    """A page view limited like the API: past the limit, a 429 page saying when to retry."""

    def decorator(view):
        @wraps(view)
        def limited(request, *args, **kwargs):
            verdict = hit(scope, request, getattr(settings, setting))
            if not verdict.allowed:
                response = render(
                    request, "429.html", {"retry_after": verdict.retry_after}, status=429
                )
                response["Retry-After"] = str(verdict.retry_after)
                return response
            return view(request, *args, **kwargs)

        return limited

    return decorator
