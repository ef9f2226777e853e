"""Optional API keys: anonymous use stays open; a known partner sends X-API-Key and gets
the limit its key was given (models.ApiKey), counted per key rather than per address."""

import hashlib
import secrets

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from resources.models import ApiKey

HEADER = "X-API-Key"
PREFIX_LENGTH = 12  # what the admin shows, to tell keys apart


def new_key():
    return "dir_" + secrets.token_urlsafe(32)


def digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def make(name, rate="3000/min"):
    """A new key for name: (the ApiKey, the key itself, which is not kept)."""
    key = new_key()
    api_key = ApiKey.objects.create(
        name=name, rate=rate, prefix=key[:PREFIX_LENGTH], digest=digest(key)
    )
    return api_key, key


class ApiKeyAuthentication(BaseAuthentication):
    """No header: anonymous. A key that is unknown or switched off: a 401 saying so,
    rather than a partner silently falling back to the anonymous limit."""

    def authenticate(self, request):
        key = request.META.get("HTTP_X_API_KEY")
        if key is None:
            return None
        api_key = ApiKey.objects.filter(digest=digest(key), active=True).first()
        if api_key is None:
            raise AuthenticationFailed("This API key is unknown or no longer active.")
        return None, api_key

    def authenticate_header(self, request):
        return HEADER
