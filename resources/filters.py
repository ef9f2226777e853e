"""The one FilterSet behind the search page and the REST API's services list."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import (
    Address,
    Language,
    Need,
    Organization,
    Population,
    Schedule,
    Service,
    ServiceArea,
)
from .search import parse_query, search_services

ORDERINGS = {
    "relevance": ["-rank", "name", "pk"],
    "name": ["name", "pk"],
    "-name": ["-name", "-pk"],
    "recently_verified": ["-last_verified", "name", "pk"],
    "recently_modified": ["-modified", "pk"],
}
ORDERING_CHOICES = [
    ("relevance", "Best match"),
    ("name", "Name (A–Z)"),
    ("-name", "Name (Z–A)"),
    ("recently_verified", "Recently verified"),
    ("recently_modified", "Recently updated"),
]


def _public_address_exists(**lookups):
    """A non-confidential location of the service has an address matching `lookups`.

    Confidential locations never answer place filters: searching ZIP code after ZIP
    code must not reveal where a shelter is.
    """
    return Exists(
        Address.objects.filter(
            location__service_at_locations__service=OuterRef("pk"),
            location__confidential=False,
            **lookups,
        )
    )


def _area_exists(**lookups):
    return Exists(ServiceArea.objects.filter(service=OuterRef("pk"), **lookups))


class StrictBooleanField(forms.NullBooleanField):
    """true/false (also 1/0, on/off); anything else is an error, never a silent "no filter"."""

    widget = forms.TextInput
    VALUES = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise ValidationError("Use true or false.", code="invalid") from None

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class AnyOfFilter(django_filters.ModelMultipleChoiceFilter):
    """Services tagged with any of the chosen values; for a taxonomy term, or any term below it."""

    def filter(self, qs, value):
        if not value:
            return qs
        if hasattr(self.queryset, "descendant_ids"):
            ids = self.queryset.descendant_ids(value)
        else:
            ids = [item.pk for item in value]
        m2m = Service._meta.get_field(self.field_name)
        tagged = m2m.remote_field.through.objects.filter(
            **{m2m.m2m_field_name(): OuterRef("pk"), f"{m2m.m2m_reverse_field_name()}__in": ids}
        )
        return qs.filter(Exists(tagged))


class ServiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Keywords", method="filter_q", help_text="Words, a need, a name, a place…"
    )
    need = AnyOfFilter(
        field_name="needs",
        to_field_name="slug",
        queryset=Need.objects.all(),
        label="Need",
        help_text="Includes the need's sub-needs. Repeat to match any of several.",
    )
    population = AnyOfFilter(
        field_name="populations",
        to_field_name="slug",
        queryset=Population.objects.all(),
        label="Population served",
    )
    language = AnyOfFilter(
        field_name="languages",
        to_field_name="code",
        queryset=Language.objects.all(),
        label="Language",
    )
    state = django_filters.CharFilter(
        method="filter_state",
        label="State",
        max_length=2,
        validators=[RegexValidator(r"^[A-Za-z]{2}$", "Use a two-letter state code, e.g. IL.")],
        help_text="Two-letter code. Includes services that serve the whole country.",
    )
    city = django_filters.CharFilter(method="filter_city", label="City", max_length=100)
    postal_code = django_filters.CharFilter(
        method="filter_postal_code",
        label="ZIP code",
        validators=[RegexValidator(r"^\d{5}$", "Use a five-digit ZIP code.")],
    )
    nationwide = StrictBooleanFilter(method="filter_nationwide", label="Nationwide services only")
    open_now = StrictBooleanFilter(method="filter_open_now", label="Open now")
    is_24_7 = StrictBooleanFilter(method="filter_is_24_7", label="Open 24/7")
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="slug", label="Organization"
    )
    modified_after = django_filters.DateTimeFilter(
        field_name="modified",
        lookup_expr="gt",
        label="Modified after",
        help_text="ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z.",
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method="filter_ordering",
        label="Sort by",
        empty_label=None,
    )

    class Meta:
        model = Service
        fields = []

    def filter_q(self, queryset, name, value):
        self.parsed_query = parse_query(value)
        return search_services(queryset, self.parsed_query)

    def filter_state(self, queryset, name, value):
        state = value.upper()
        return queryset.filter(
            _area_exists(extent=ServiceArea.Extent.NATIONWIDE)
            | _area_exists(state=state)
            | _public_address_exists(state_province=state)
        )

    def filter_city(self, queryset, name, value):
        city = value.strip()
        return queryset.filter(
            _area_exists(extent=ServiceArea.Extent.CITY, city__iexact=city)
            | _public_address_exists(city__iexact=city)
        )

    def filter_postal_code(self, queryset, name, value):
        return queryset.filter(_public_address_exists(postal_code__startswith=value))

    def filter_nationwide(self, queryset, name, value):
        nationwide = _area_exists(extent=ServiceArea.Extent.NATIONWIDE)
        return queryset.filter(nationwide if value else ~nationwide)

    def filter_is_24_7(self, queryset, name, value):
        always = self._schedule_exists(open_24_7=True)
        return queryset.filter(always if value else ~always)

    def filter_open_now(self, queryset, name, value):
        now = timezone.localtime()
        open_now = self._schedule_exists(open_24_7=True) | self._schedule_exists(
            weekday=now.isoweekday(), opens_at__lte=now.time(), closes_at__gt=now.time()
        )
        return queryset.filter(open_now if value else ~open_now)

    @staticmethod
    def _schedule_exists(**lookups):
        """A schedule of the service itself, or of one of its locations, matches."""
        return Exists(
            Schedule.objects.filter(
                Q(service=OuterRef("pk"))
                | Q(location__service_at_locations__service=OuterRef("pk")),
                **lookups,
            )
        )

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset, once every filter has run

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*ORDERINGS[self.ordering_key])

    @property
    def ordering_key(self):
        chosen = self.form.cleaned_data.get("ordering")
        searching = bool(getattr(self, "parsed_query", None))
        if chosen == "relevance" and not searching:
            return "name"
        return chosen or ("relevance" if searching else "name")

    @property
    def query_truncated(self):
        parsed = getattr(self, "parsed_query", None)
        return bool(parsed and parsed.truncated)
