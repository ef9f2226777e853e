"""Directory records in the shapes of the HSDS 3.0 schemas (schema/compiled/*.json).

HSDS types an optional value as a string or a number, never null: an optional value
that is empty is left out of the answer, while a required one is always sent.
"""

import functools
import itertools

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from resources.api.serializers import PublicCoordinateField
from resources.models import Address, Location, Phone, Service

from .taxonomies import derived_id, taxonomy_of

HSDS_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]  # index = ISO weekday - 1
LANGUAGE = "en"  # the language the directory is written in


class HsdsSerializer(serializers.Serializer):
    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {
            name: value
            for name, value in data.items()
            if self.fields[name].required or value not in (None, "")
        }


@functools.cache
def reused(serializer_class, *, many=False):
    """One serializer of the class for every record a method field represents with it
    (unbound, without context): a new one deep-copies all its fields, nested ones too."""
    return serializer_class(many=many)


def each_represented(serializer_class, queryset, *, chunk, context=None):
    """Each record of the queryset as the serializer represents it, read `chunk` records
    at a time (their related rows prefetched a chunk at a time) and represented by one
    serializer a chunk, so that its fields are built once a chunk, not once a record."""
    records = queryset.iterator(chunk_size=chunk)
    while some := list(itertools.islice(records, chunk)):
        yield from serializer_class(some, many=True, context=context).data


class Computed:
    """Mixed into a typed field: its value comes from the serializer's get_<field name>().

    Unlike SerializerMethodField it keeps its type and stays optional in the OpenAPI
    schema, like HSDS's own optional values.
    """

    def __init__(self, **kwargs):
        super().__init__(source="*", required=False, **kwargs)

    def to_representation(self, instance):
        value = getattr(self.parent, f"get_{self.field_name}")(instance)
        return None if value is None else super().to_representation(value)


class ComputedChar(Computed, serializers.CharField):
    pass


class ComputedInteger(Computed, serializers.IntegerField):
    pass


def optional(field_class, **kwargs):
    return field_class(required=False, **kwargs)


# Taxonomies and the attributes that attach their terms to services


class HsdsTaxonomySerializer(HsdsSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()


class HsdsTaxonomyTermSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    code = serializers.CharField(source="slug")
    name = serializers.CharField()
    description = serializers.CharField()
    parent_id = optional(serializers.UUIDField)
    taxonomy = serializers.SerializerMethodField()
    taxonomy_id = serializers.SerializerMethodField()
    taxonomy_detail = serializers.SerializerMethodField()
    language = serializers.SerializerMethodField()

    def get_taxonomy(self, term) -> str:
        return taxonomy_of(term).name

    @extend_schema_field(serializers.UUIDField())
    def get_taxonomy_id(self, term):
        return str(taxonomy_of(term).id)

    @extend_schema_field(HsdsTaxonomySerializer)
    def get_taxonomy_detail(self, term):
        return reused(HsdsTaxonomySerializer).to_representation(taxonomy_of(term))

    def get_language(self, term) -> str:
        return LANGUAGE


class HsdsAttributeSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    link_id = serializers.UUIDField()
    link_type = serializers.CharField()
    link_entity = serializers.CharField()
    taxonomy_term_id = serializers.UUIDField()
    taxonomy_term = HsdsTaxonomyTermSerializer()


def service_attributes(service):
    """The service's needs and populations as HSDS attributes, each embedding its term."""
    terms = [*service.needs.all(), *service.populations.all()]
    return [
        {
            "id": derived_id("attribute", service.pk, term.pk),
            "link_id": service.pk,
            "link_type": "service",
            "link_entity": "service",
            "taxonomy_term_id": term.pk,
            "taxonomy_term": term,
        }
        for term in terms
    ]


# Languages, phones, schedules


class HsdsLanguageSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    service_id = optional(serializers.UUIDField)
    location_id = optional(serializers.UUIDField)
    phone_id = optional(serializers.UUIDField)
    name = serializers.CharField()
    code = serializers.CharField()


def language_links(languages, *, link_field, link_id):
    """Languages as HSDS language records, which belong to one service, location or phone."""
    return reused(HsdsLanguageSerializer, many=True).to_representation(
        [
            {
                "id": derived_id("language", link_field, link_id, language.code),
                link_field: link_id,
                "name": language.name,
                "code": language.code,
            }
            for language in languages
        ]
    )


class HsdsPhoneSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    service_id = optional(serializers.UUIDField)
    location_id = optional(serializers.UUIDField)
    organization_id = optional(serializers.UUIDField)
    number = serializers.CharField()
    extension = ComputedInteger()
    type = serializers.ChoiceField(choices=Phone.Type.choices)
    description = optional(serializers.CharField)
    languages = serializers.SerializerMethodField()

    def get_extension(self, phone):
        return int(phone.extension) if phone.extension else None

    @extend_schema_field(HsdsLanguageSerializer(many=True))
    def get_languages(self, phone):
        return language_links(phone.languages.all(), link_field="phone_id", link_id=phone.pk)


class HsdsScheduleSerializer(HsdsSerializer):
    """Weekly hours in HSDS's iCalendar terms: one weekday span (freq WEEKLY, byday MO,
    opens_at, closes_at), every day around the clock for 24/7, or only a description."""

    id = serializers.UUIDField()
    service_id = optional(serializers.UUIDField)
    location_id = optional(serializers.UUIDField)
    freq = ComputedChar()
    byday = ComputedChar()
    opens_at = ComputedChar()
    closes_at = ComputedChar()
    description = ComputedChar()
    notes = optional(serializers.CharField)

    def get_freq(self, schedule):
        return "WEEKLY" if schedule.open_24_7 or schedule.weekday else None

    def get_byday(self, schedule):
        if schedule.open_24_7:
            return ",".join(HSDS_WEEKDAYS)
        return HSDS_WEEKDAYS[schedule.weekday - 1] if schedule.weekday else None

    def get_opens_at(self, schedule):
        if schedule.open_24_7:
            return "00:00:00"
        return schedule.opens_at.isoformat() if schedule.opens_at else None

    def get_closes_at(self, schedule):
        if schedule.open_24_7:
            return "23:59:59"
        return schedule.closes_at.isoformat() if schedule.closes_at else None

    def get_description(self, schedule):
        return "Open 24 hours a day, 7 days a week." if schedule.open_24_7 else schedule.notes


class HsdsServiceAreaSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    service_id = serializers.UUIDField()
    name = serializers.CharField(source="__str__")
    description = serializers.CharField(source="get_extent_display")


# Locations and their addresses


class HsdsAddressSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    location_id = serializers.UUIDField()
    attention = optional(serializers.CharField)
    address_1 = serializers.CharField()
    address_2 = optional(serializers.CharField)
    city = serializers.CharField()
    region = optional(serializers.CharField)
    state_province = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    address_type = serializers.ChoiceField(choices=Address.Type.choices)


class HsdsLocationListSerializer(HsdsSerializer):
    """A location's one-to-one fields. A confidential location has no coordinates here."""

    id = serializers.UUIDField()
    location_type = serializers.ChoiceField(choices=Location.Type.choices)
    url = optional(serializers.URLField)
    organization_id = optional(serializers.UUIDField)
    name = optional(serializers.CharField)
    description = optional(serializers.CharField)
    latitude = PublicCoordinateField(0, required=False)
    longitude = PublicCoordinateField(1, required=False)


class HsdsLocationSerializer(HsdsLocationListSerializer):
    """A location with its records. A confidential location has no address here."""

    languages = serializers.SerializerMethodField()
    addresses = HsdsAddressSerializer(source="public_addresses", many=True)
    phones = HsdsPhoneSerializer(many=True)
    schedules = HsdsScheduleSerializer(many=True)

    @extend_schema_field(HsdsLanguageSerializer(many=True))
    def get_languages(self, location):
        return language_links(
            location.languages.all(), link_field="location_id", link_id=location.pk
        )


# Organizations and services


class HsdsOrganizationListSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    alternate_name = optional(serializers.CharField)
    description = serializers.CharField()
    email = optional(serializers.EmailField)
    website = optional(serializers.URLField)


class HsdsServiceListSerializer(HsdsSerializer):
    """A service's one-to-one fields, as a /services page lists them."""

    id = serializers.UUIDField()
    organization_id = optional(serializers.UUIDField)
    name = serializers.CharField()
    alternate_name = optional(serializers.CharField)
    description = optional(serializers.CharField)
    url = optional(serializers.URLField)
    email = optional(serializers.EmailField)
    status = serializers.ChoiceField(choices=Service.Status.choices)
    interpretation_services = optional(serializers.CharField)
    application_process = optional(serializers.CharField)
    fees_description = optional(serializers.CharField)
    eligibility_description = optional(serializers.CharField)
    minimum_age = optional(serializers.IntegerField)
    maximum_age = optional(serializers.IntegerField)
    assured_date = optional(serializers.DateField, source="last_verified")
    last_modified = optional(serializers.DateTimeField, source="modified")
    organization = optional(HsdsOrganizationListSerializer)


class HsdsMinimalServiceSerializer(HsdsSerializer):
    """What /services?minimal=true lists: enough to see what changed, and still a valid
    HSDS service list item (which requires a name and a status)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Service.Status.choices)
    last_modified = serializers.DateTimeField(source="modified")


class HsdsServiceDetailsSerializer(HsdsServiceListSerializer):
    phones = HsdsPhoneSerializer(many=True)
    schedules = HsdsScheduleSerializer(many=True)
    service_areas = HsdsServiceAreaSerializer(many=True)
    languages = serializers.SerializerMethodField()
    attributes = serializers.SerializerMethodField()

    @extend_schema_field(HsdsLanguageSerializer(many=True))
    def get_languages(self, service):
        return language_links(service.languages.all(), link_field="service_id", link_id=service.pk)

    @extend_schema_field(HsdsAttributeSerializer(many=True))
    def get_attributes(self, service):
        attributes = service_attributes(service)
        return reused(HsdsAttributeSerializer, many=True).to_representation(attributes)


class HsdsServiceAtLocationInServiceSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    service_id = serializers.UUIDField()
    location_id = serializers.UUIDField()
    description = optional(serializers.CharField)
    location = HsdsLocationSerializer()


class HsdsServiceSerializer(HsdsServiceDetailsSerializer):
    """A fully nested service, as /services/{id} answers it."""

    service_at_locations = HsdsServiceAtLocationInServiceSerializer(many=True)


class HsdsOrganizationSerializer(HsdsOrganizationListSerializer):
    """A fully nested organization. Its services are summaries unless full_service=true."""

    phones = HsdsPhoneSerializer(many=True)
    locations = HsdsLocationSerializer(source="public_locations", many=True)
    services = serializers.SerializerMethodField()

    # Documented as summaries; with full_service=true each one is a whole HsdsService.
    @extend_schema_field(HsdsServiceListSerializer(many=True))
    def get_services(self, organization):
        services = organization.published_services
        if self.context.get("full_service"):
            return HsdsServiceSerializer(services, many=True).data
        return HsdsServiceListSerializer(services, many=True).data


# Services at locations


class HsdsServiceAtLocationListSerializer(HsdsSerializer):
    id = serializers.UUIDField()
    service_id = serializers.UUIDField()
    location_id = serializers.UUIDField()
    description = optional(serializers.CharField)
    location = HsdsLocationListSerializer()
    service = HsdsServiceListSerializer()


class HsdsServiceAtLocationSerializer(HsdsServiceAtLocationListSerializer):
    location = HsdsLocationSerializer()
    service = HsdsServiceDetailsSerializer()
