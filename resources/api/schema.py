import uritemplate
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer

from .mixins import MAX_AGE, GoneWhenRemovedMixin
from .serializers import VALIDATION_ERROR_SCHEMA, ErrorSerializer, GoneSerializer

NOT_MODIFIED = OpenApiResponse(
    description="Not modified: the ETag sent in If-None-Match still matches. No body."
)
BAD_REQUEST = OpenApiResponse(
    VALIDATION_ERROR_SCHEMA,
    description="A query parameter was rejected; the body names each one and why.",
)
LIST_NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="The page asked for is beyond the last page."
)
DETAIL_NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="Nothing published has this id (or it is not a valid id)."
)
METHOD_NOT_ALLOWED = OpenApiResponse(
    ErrorSerializer,
    description="The API is read-only: POST, PUT, PATCH and DELETE are refused.",
)
UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer,
    description="The X-API-Key sent is unknown or no longer active (send none to ask anonymously).",
)
GONE = OpenApiResponse(
    GoneSerializer,
    description="The service was public and has left the directory (archived or "
    "unpublished) on the date `removed` gives: a mirror drops it.",
)
THROTTLED = OpenApiResponse(
    ErrorSerializer,
    description="Too many requests from this client; wait the seconds Retry-After gives.",
)

CACHE_HEADERS = [
    OpenApiParameter(
        "X-API-Key",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="Optional: a partner's key, for a higher limit of its own. Without it, "
        "the anonymous limit per address applies. An unknown or inactive key is a 401.",
    ),
    OpenApiParameter(
        "If-None-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="An ETag from an earlier answer: when nothing changed, the answer is 304.",
    ),
    OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        required=True,
        description="Changes whenever the body changes.",
    ),
    OpenApiParameter(
        "Cache-Control",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        required=True,
        description=f"public, max-age={MAX_AGE}",
    ),
    *[
        OpenApiParameter(
            name,
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            response=[200, 304, 429],
            required=True,
            description=description,
        )
        for name, description in [
            ("RateLimit-Limit", "Requests this client may make in the current window."),
            ("RateLimit-Remaining", "Requests left in the current window."),
            ("RateLimit-Reset", "Seconds until the current window ends."),
        ]
    ],
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[429],
        required=True,
        description="Seconds to wait before asking again.",
    ),
]


class PartnerAutoSchema(AutoSchema):
    """Describes on every operation the answers a partner may get besides the data:
    304 for a conditional request, 400 for a bad parameter, 401 for a bad key, 404, 405,
    410 for a service that left, and 429."""

    def get_override_parameters(self):
        return [*super().get_override_parameters(), *CACHE_HEADERS]

    def get_auth(self):
        # Open to anyone: no security requirement at all, rather than drf-spectacular's
        # `security: [{}]`, which makes generated clients demand an authenticated client.
        auths = super().get_auth()
        return [] if auths == [{}] else auths

    def get_response_serializers(self):
        described = super().get_response_serializers()
        # A list whose items take several shapes (HSDS /services: list, full or minimal)
        # says so, so that a generated client types each one.
        shapes = getattr(self.view, "list_shapes", None)
        if shapes and getattr(self.view, "action", None) == "list":
            described = PolymorphicProxySerializer(
                component_name=shapes[0],
                serializers=shapes[1],
                resource_type_field_name=None,
            )
        is_list = self._is_list_view(described)
        if not isinstance(described, dict):
            described = {200: described}
        errors = {304: NOT_MODIFIED, 401: UNAUTHORIZED, 405: METHOD_NOT_ALLOWED, 429: THROTTLED}
        if is_list:
            errors[404] = LIST_NOT_FOUND
        elif uritemplate.variables(self.path):
            errors[404] = DETAIL_NOT_FOUND
            if isinstance(self.view, GoneWhenRemovedMixin):
                errors[410] = GONE
        # Any endpoint refuses a parameter it does not take (resources.api.parameters).
        errors[400] = BAD_REQUEST
        return {**described, **{code: r for code, r in errors.items() if code not in described}}


def one_error_schema(result, generator, request, public):
    """Every error a partner may get (400, 404, 405, 410, 429) is one `Error` object: its
    `detail`, or for a 400 each rejected parameter with its reasons, and for a 410 the
    date the service was `removed`."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "removed": {"type": "string", "format": "date-time"},
        },
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": "What went wrong: `detail`; for a 400 each rejected parameter, named, "
        "with its reasons; for a 410 the date the service was `removed`.",
    }
    schemas.pop("Gone", None)
    # The list's shapes overlap (a full service has every field a brief one has): each item
    # is any of them, which `oneOf` (exactly one) would deny.
    for schema in schemas.values():
        if "oneOf" in schema and "discriminator" not in schema:
            schema["anyOf"] = schema.pop("oneOf")
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if code.startswith(("4", "5")) and "content" in response:
                    response["content"] = {
                        media_type: {"schema": reference} for media_type in response["content"]
                    }
    return result
