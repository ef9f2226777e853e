from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from resources.models import (
    Address,
    Language,
    Location,
    Need,
    Organization,
    Phone,
    Population,
    Schedule,
    Service,
    ServiceArea,
)


class PublicCoordinateField(serializers.FloatField):
    """Latitude (index 0) or longitude (index 1) of a location, or None when the location is
    confidential or has no coordinates: read through Location.public_coordinates only."""

    def __init__(self, index, **kwargs):
        self.index = index
        super().__init__(source="*", **kwargs)

    def to_representation(self, location):
        coordinates = location.public_coordinates
        return None if coordinates is None else float(coordinates[self.index])


class BlankAsNull:
    """An empty URL or e-mail address is sent as null: "" is not a valid one."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(value) if value else None


class OptionalURLField(BlankAsNull, serializers.URLField):
    pass


class OptionalEmailField(BlankAsNull, serializers.EmailField):
    pass


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}:\d{2}$", "example": "09:00:00"},
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the directory's time zone, HH:MM:SS. (OpenAPI's "time" format
    would promise a UTC offset, which opening hours do not have.)"""


# Errors, as the documentation describes them


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# A 400 names each bad parameter with what is wrong with it:
# {"need": ["Select a valid choice. no-such-need is not one of the available choices."]}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Each rejected query parameter, with the reasons.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


class GoneSerializer(ErrorSerializer):
    removed = serializers.DateTimeField(help_text="When the service left the public directory.")


# Taxonomy


class LanguageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "name"]
        read_only_fields = fields


class TermSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)


class TermSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    children = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        fields = ["id", "slug", "name", "description", "parent", "children", "position"]
        read_only_fields = fields


class NeedSerializer(TermSerializer):
    class Meta(TermSerializer.Meta):
        model = Need


class PopulationSerializer(TermSerializer):
    class Meta(TermSerializer.Meta):
        model = Population


# What a service or location embeds


class OrganizationSummarySerializer(serializers.ModelSerializer):
    website = OptionalURLField()

    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "website"]
        read_only_fields = fields


class PhoneSerializer(serializers.ModelSerializer):
    languages = LanguageSerializer(many=True, read_only=True)

    class Meta:
        model = Phone
        fields = ["number", "extension", "type", "description", "languages"]
        read_only_fields = fields


class ScheduleSerializer(serializers.ModelSerializer):
    opens_at = LocalTimeField(read_only=True, allow_null=True)
    closes_at = LocalTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Schedule
        fields = ["weekday", "opens_at", "closes_at", "open_24_7", "notes"]
        read_only_fields = fields


class ServiceAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceArea
        fields = ["extent", "state", "county", "city"]
        read_only_fields = fields


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "address_type",
            "attention",
            "address_1",
            "address_2",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
        ]
        read_only_fields = fields


class LocationSerializer(serializers.ModelSerializer):
    addresses = AddressSerializer(source="public_addresses", many=True, read_only=True)
    url = OptionalURLField()
    latitude = PublicCoordinateField(0, read_only=True, allow_null=True)
    longitude = PublicCoordinateField(1, read_only=True, allow_null=True)
    phones = PhoneSerializer(many=True, read_only=True)
    schedules = ScheduleSerializer(many=True, read_only=True)
    languages = LanguageSerializer(many=True, read_only=True)

    class Meta:
        model = Location
        fields = [
            "id",
            "name",
            "location_type",
            "description",
            "url",
            "confidential",
            "addresses",
            "latitude",
            "longitude",
            "phones",
            "schedules",
            "languages",
        ]
        read_only_fields = fields


# Services


class ServiceListItemSerializer(serializers.ModelSerializer):
    """A service in a list: what it is, who runs it, whom it serves and how to call.
    Its detail (/api/v1/services/{id}/) adds locations, hours, areas and eligibility."""

    organization = OrganizationSummarySerializer(read_only=True)
    url = OptionalURLField()
    email = OptionalEmailField()
    chat_url = OptionalURLField(help_text="Where to chat with the service online.")
    # Lists for_summary() loads (see Listed): a detail reads them through the managers.
    needs = TermSummarySerializer(source="need_list", many=True, read_only=True)
    populations = TermSummarySerializer(source="population_list", many=True, read_only=True)
    languages = LanguageSerializer(source="language_list", many=True, read_only=True)
    phones = PhoneSerializer(source="phone_list", many=True, read_only=True)
    distance = serializers.FloatField(
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Miles from the place searched `near`, by the nearest public location; "
        "null for a service found by its service area, and without `near`.",
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "slug",
            "name",
            "alternate_name",
            "description",
            "status",
            "url",
            "email",
            "chat_url",
            "organization",
            "needs",
            "populations",
            "languages",
            "phones",
            "last_verified",
            "modified",
            "distance",
        ]
        read_only_fields = fields


class ServiceSerializer(ServiceListItemSerializer):
    """A service with everything a caseworker or partner needs to refer someone."""

    schedules = ScheduleSerializer(many=True, read_only=True)
    service_areas = ServiceAreaSerializer(many=True, read_only=True)
    locations = LocationSerializer(many=True, read_only=True)

    class Meta(ServiceListItemSerializer.Meta):
        fields = [
            *ServiceListItemSerializer.Meta.fields,
            "eligibility_description",
            "minimum_age",
            "maximum_age",
            "fees_description",
            "application_process",
            "interpretation_services",
            "schedules",
            "service_areas",
            "locations",
        ]
        read_only_fields = fields


# Organizations and locations as endpoints of their own


class ServiceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    email = OptionalEmailField()
    website = OptionalURLField()
    phones = PhoneSerializer(many=True, read_only=True)
    services = ServiceSummarySerializer(
        source="published_services", many=True, read_only=True, help_text="Published only."
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "slug",
            "name",
            "alternate_name",
            "description",
            "email",
            "website",
            "phones",
            "services",
            "modified",
        ]
        read_only_fields = fields


class LocationWithServicesSerializer(LocationSerializer):
    services = serializers.SerializerMethodField()

    class Meta(LocationSerializer.Meta):
        fields = [*LocationSerializer.Meta.fields, "organization", "services"]
        read_only_fields = fields

    @extend_schema_field(ServiceSummarySerializer(many=True))
    def get_services(self, location):
        services = [link.service for link in location.published_links]
        return ServiceSummarySerializer(services, many=True).data


class FacetSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    count = serializers.IntegerField(help_text="Services under the current filters with this term.")


class FacetsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Services under the current filters.")
    needs = FacetSerializer(many=True)
    populations = FacetSerializer(many=True)


class ChangeSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="service_id", help_text="The service's id.")
    change = serializers.SerializerMethodField(
        help_text="updated: fetch the service again; removed: it left the public directory."
    )
    at = serializers.DateTimeField()

    def get_change(self, line) -> str:
        return "updated" if line.published else "removed"


class ChangeFeedSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)
    next = serializers.CharField(help_text="The cursor to ask `since` next time.")
    more = serializers.BooleanField(help_text="true: more changes follow at once; ask again.")
