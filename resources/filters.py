"""The one FilterSet behind the search page, the REST API and the HSDS profile.

Tags, states, nationwide and hours are answered from each service's filter tokens
(resources.search.index). A place (a city, a ZIP code, or near a point) means one thing
however it is given: the services there, then those whose service area covers it (its
city, county or state), then those that serve the whole country, in that order.
"""

import datetime
import json

import django_filters
from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import (
    BooleanField,
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
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
from .places import (
    DEFAULT_RADIUS_MILES,
    MAX_RADIUS_MILES,
    find_city,
    find_place,
    find_postal_code,
    services_near,
)
from .search.index import (
    NATIONWIDE,
    OPEN_24_7,
    HasAnyBit,
    HasAnyToken,
    filter_token,
    open_hour_token,
    place_mask,
)
from .search.matching import NAME_MATCHES, RELEVANCE, search_names, search_services
from .search.query import parse_query
from .search.synonyms import synonym_table

ORDERINGS = {
    "relevance": RELEVANCE,
    # Completed by the distance and the search's own order: see ServiceFilter.order_by.
    "distance": ["place_rank"],
    "name": ["name", "pk"],
    "-name": ["-name", "-pk"],
    "recently_verified": ["-last_verified", "name", "pk"],
    "recently_modified": ["-modified", "pk"],
}
ORDERING_CHOICES = [
    ("relevance", "Best match"),
    ("distance", "Nearest first"),
    ("name", "Name (A–Z)"),
    ("-name", "Name (Z–A)"),
    ("recently_verified", "Recently verified"),
    ("recently_modified", "Recently updated"),
]


def _union(*id_sets):
    first, *rest = [ids.order_by() for ids in id_sets]
    return first.union(*rest, all=True) if rest else first


def _either(*id_sets):
    """Services in any of the sets, as (a condition found by the primary key's index,
    which combines with the filter tokens' where `pk IN` would read every service; a
    test of each row found, which PostgreSQL hashes)."""
    ids = _union(*id_sets)
    return PkInArray(ids), Q(pk__in=ids)


def _with_public_address(*conditions, **lookups):
    """Ids of services offered at a public address matching `lookups`: searching ZIP code
    after ZIP code must not reveal where a shelter is."""
    return (
        Address.objects.public()
        .filter(*conditions, location__service_at_locations__service__isnull=False, **lookups)
        .values("location__service_at_locations__service")
    )


def _with_area(*conditions, **lookups):
    return ServiceArea.objects.filter(*conditions, **lookups).values("service")


def _with_schedule(**lookups):
    """Ids of services with a matching schedule of their own, and of services with one at
    one of their locations (two sets)."""
    own = Schedule.objects.filter(service__isnull=False, **lookups).values("service")
    at_locations = Schedule.objects.filter(
        location__service_at_locations__service__isnull=False, **lookups
    ).values("location__service_at_locations__service")
    return own, at_locations


def _covering(place, spelled=None):
    """Ids of services whose service area covers the place: its city (however `spelled`),
    county or state."""
    state = {"state": place.state}
    city = spelled if spelled is not None else Q(city__iexact=place.city)
    return (
        _with_area(city, extent=ServiceArea.Extent.CITY, **state),
        _with_area(extent=ServiceArea.Extent.COUNTY, county__in=place.county_names, **state),
        _with_area(extent=ServiceArea.Extent.STATE, **state),
    )


class PkAmong(Func):
    """`pk = ANY(%s)`, the ids sent as one array: PostgreSQL finds them by its index. The
    array goes as one text literal: thousands of ids near a city, each quoted on its own,
    cost more than the query."""

    template = "(%(expressions)s = ANY(%(ids)s))"
    output_field = BooleanField()

    def __init__(self, ids):
        super().__init__(F("pk"), ids=None)
        self.ids = "{" + ",".join(str(pk) for pk in ids) + "}"

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, ids="%s::uuid[]", **extra_context)
        return sql, (*params, self.ids)


class MilesAway(Func):
    """A service's distance in miles, looked up in {service id: miles} sent as one JSON
    object (a lookup by key, where an array would be searched for each service)."""

    template = "((%(miles)s::jsonb ->> (%(expressions)s)::text)::float8)"
    output_field = FloatField()

    def __init__(self, distances):
        super().__init__(F("pk"), miles=None)
        self.miles = json.dumps({str(pk): miles for pk, miles in distances.items()})

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, miles="%s", **extra_context)
        return sql, (self.miles, *params)


class PkInArray(Func):
    """`pk = ANY(ARRAY(subquery))`. Unlike `pk IN (subquery)`, PostgreSQL answers it from
    the primary key index as a bitmap, which it can OR and AND with the filter tokens'."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()

    def __init__(self, queryset):
        super().__init__(F("pk"), ArraySubquery(queryset))


def _open_now(day, time):
    """Services open 24/7 or during all of this hour (their filter tokens), and those with
    a schedule open now that opens or closes within this hour: few, found by the
    schedules' indexes, where the schedules open now can be most of the directory."""
    open_at = {"weekday": day, "opens_at__lte": time, "closes_at__gt": time}
    before_next_hour = {"closes_at__lt": datetime.time(time.hour + 1)} if time.hour < 23 else {}
    all_hour = HasAnyToken([OPEN_24_7, open_hour_token(day, time.hour)])
    within_hour = _union(
        *_with_schedule(opens_at__gt=datetime.time(time.hour), **open_at),
        *_with_schedule(**before_next_hour, **open_at),
    )
    return all_hour | PkInArray(within_hour)


def _chosen(value):
    """Whether a filter's cleaned value chooses anything. No choice of several arrives as
    queryset.none(), which `not value` would compile as a query to find out."""
    if isinstance(value, QuerySet):
        return not value.query.is_empty()
    return value not in (None, "", [], ())


class PlaceField(forms.CharField):
    """A ZIP code, or a city with its state, as a resources.places.Place."""

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        place = find_place(text)
        if place is None:
            raise ValidationError(
                "No US ZIP code or city with its state is called “%(text)s”. Give a "
                "five-digit ZIP code, or a city and its state such as Chicago, IL.",
                code="unknown_place",
                params={"text": text},
            )
        return place


class CityField(forms.CharField):
    """A city ("Springfield") or a city with its state ("Springfield, IL"), known to the
    ZIP codes or to the directory, as a resources.places.City."""

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        city = find_city(text)
        if city is None:
            raise ValidationError(
                "No US city is called “%(text)s”. Check the spelling, or give a ZIP code.",
                code="unknown_city",
                params={"text": text},
            )
        return city


class ZipCodeField(forms.CharField):
    """A five-digit ZIP code known to the ZIP codes or to the directory, as a
    resources.places.PostalCode."""

    default_validators = [RegexValidator(r"^\d{5}$", "Use a five-digit ZIP code.")]

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        found = find_postal_code(code)
        if found is None:
            raise ValidationError(
                "No US ZIP code is %(code)s. Check the five digits.",
                code="unknown_zip_code",
                params={"code": code},
            )
        return found


class RadiusField(forms.FloatField):
    def validate(self, value):
        super().validate(value)
        if value is not None and not 0 < value <= MAX_RADIUS_MILES:
            raise ValidationError(
                "Give a distance of more than 0 and at most %(most)s miles.",
                code="radius",
                params={"most": MAX_RADIUS_MILES},
            )


class InstantField(forms.DateTimeField):
    """A date-time, as the instant it names in the site's time zone. ISO 8601 allows UTC
    offsets up to ±23:59, but PostgreSQL refuses those beyond ±15:59."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return timezone.localtime(moment)
        except OverflowError:  # an offset carries it past year 1 or year 9999
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class ServiceFilterForm(forms.Form):
    PLACES = ("near", "city", "postal_code")

    def clean(self):
        cleaned = super().clean()
        places = [name for name in self.PLACES if cleaned.get(name)]
        if len(places) > 1:
            self.add_error(places[1], "Give one place: near, a city or a ZIP code.")
        if cleaned.get("radius") is not None and not cleaned.get("near"):
            self.add_error("radius", "Give the place to measure from, in “near”.")
        return cleaned


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


class InstantFilter(django_filters.DateTimeFilter):
    field_class = InstantField


class PlaceFilter(django_filters.CharFilter):
    field_class = PlaceField


class RadiusFilter(django_filters.NumberFilter):
    field_class = RadiusField


class CityFilter(django_filters.CharFilter):
    field_class = CityField


class ZipCodeFilter(django_filters.CharFilter):
    field_class = ZipCodeField


class AnyOfFilter(django_filters.ModelMultipleChoiceFilter):
    """Services tagged with any of the chosen values; for a taxonomy term, or any term
    below it. `token` names the values' kind in a service's filter tokens."""

    def __init__(self, *args, token, **kwargs):
        super().__init__(*args, **kwargs)
        self.token = token

    def filter(self, qs, value):
        if not _chosen(value):
            return qs
        if hasattr(self.queryset, "descendant_ids"):
            ids = self.queryset.descendant_ids(value)
        else:
            ids = [item.pk for item in value]
        return qs.filter(HasAnyToken([filter_token(self.token, pk) for pk in ids]))


class ServiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Keywords", method="filter_q", help_text="Words, a need, a name, a place…"
    )
    need = AnyOfFilter(
        field_name="needs",
        token="need",
        to_field_name="slug",
        queryset=Need.objects.all(),
        label="Need",
        help_text="Includes the need's sub-needs. Repeat to match any of several.",
    )
    population = AnyOfFilter(
        field_name="populations",
        token="population",
        to_field_name="slug",
        queryset=Population.objects.all(),
        label="Population served",
    )
    language = AnyOfFilter(
        field_name="languages",
        token="language",
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
    nationwide = StrictBooleanFilter(method="filter_nationwide", label="Nationwide services only")
    open_now = StrictBooleanFilter(method="filter_open_now", label="Open now")
    is_24_7 = StrictBooleanFilter(method="filter_is_24_7", label="Open 24/7")
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="slug", label="Organization"
    )
    modified_after = InstantFilter(
        field_name="modified",
        lookup_expr="gte",  # on or after, as HSDS says
        label="Modified on or after",
        help_text="ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z.",
    )
    # The places come last: each reads the queryset every other filter has narrowed
    # (see _placed).
    near = PlaceFilter(
        method="filter_near",
        label="Near",
        max_length=100,
        help_text="A ZIP code, or a city with its state: 60601, Chicago, IL.",
    )
    radius = RadiusFilter(
        method="filter_radius",
        label="Within (miles)",
        help_text=f"How far from “near”, in miles (default {DEFAULT_RADIUS_MILES}).",
    )
    city = CityFilter(
        method="filter_city",
        label="City",
        max_length=100,
        help_text="A city, or a city with its state: Springfield, IL.",
    )
    postal_code = ZipCodeFilter(method="filter_postal_code", label="ZIP code")
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method="filter_ordering",
        label="Sort by",
        empty_label=None,
    )

    class Meta:
        model = Service
        fields = []
        form = ServiceFilterForm

    distances = None  # {service id as text: miles} of a search near a place
    place_kinds = None  # (found, test) of the services there and of those covered

    def filter_q(self, queryset, name, value):
        self.parsed_query = parse_query(value, synonym_table())
        if not self.parsed_query:  # only punctuation or words like "the": nothing to find
            return queryset.none()
        return search_services(queryset, self.parsed_query)

    def filter_state(self, queryset, name, value):
        state = value.upper()
        mask = place_mask(state)
        # A state's listing by name reads the place bits from the listing index. With
        # other filters, the tokens let PostgreSQL intersect indexes instead, and it has
        # no statistics on bits to choose between the two itself.
        listing = self.chosen == {"state"} and self.ordering_key in {"name", "-name"}
        if mask is not None and listing:
            return queryset.filter(HasAnyBit(mask))
        return queryset.filter(HasAnyToken([filter_token("state", state), NATIONWIDE]))

    def filter_near(self, queryset, name, place):
        miles = self.form.cleaned_data.get("radius") or DEFAULT_RADIUS_MILES
        self.distances = services_near(place, miles)
        queryset = queryset.annotate(distance=MilesAway(self.distances))
        # Found by the primary key's index; ranked by the distance each row has.
        here = (PkAmong(self.distances), Q(distance__isnull=False)) if self.distances else None
        return self._placed(queryset, here, _covering(place))

    def filter_radius(self, queryset, name, value):
        return queryset  # read by filter_near

    def filter_city(self, queryset, name, city):
        state = {"state_province": city.state} if city.state else {}
        spelled = Q()
        for spelling in city.names:
            spelled |= Q(city__iexact=spelling)
        there = _with_public_address(spelled, **state)
        covering = [ids for place in city.places for ids in _covering(place, spelled)]
        if not city.places:  # a place only the directory knows: its city areas
            covering = [_with_area(spelled, extent=ServiceArea.Extent.CITY)]
        return self._placed(queryset, _either(there), covering)

    def filter_postal_code(self, queryset, name, postal):
        there = _with_public_address(postal_code__startswith=postal.code)
        covering = _covering(postal.place) if postal.place else []
        return self._placed(queryset, _either(there), covering)

    def _placed(self, queryset, there, covering):
        """Services there, or covered by an area, or nationwide, ranked in that order.
        `there` is a pair: a condition PostgreSQL answers from an index (to combine with
        the others), and the same test for each row it finds (to rank it)."""
        kinds = [kind for kind in (there, _either(*covering) if covering else None) if kind]
        self.place_kinds = kinds
        self.unplaced = queryset  # the other filters' results, for place_split
        wanted = HasAnyToken([NATIONWIDE])
        for found, _ in kinds:
            wanted |= found
        ranks = [When(test, then=Value(n)) for n, (_, test) in enumerate(kinds)]
        return queryset.filter(wanted).annotate(
            place_rank=Case(*ranks, default=Value(len(kinds)), output_field=IntegerField())
        )

    def filter_nationwide(self, queryset, name, value):
        nationwide = HasAnyToken([NATIONWIDE])
        return queryset.filter(nationwide if value else ~nationwide)

    def filter_is_24_7(self, queryset, name, value):
        always = HasAnyToken([OPEN_24_7])
        return queryset.filter(always if value else ~always)

    def filter_open_now(self, queryset, name, value):
        now = timezone.localtime()
        open_now = _open_now(now.isoweekday(), now.time())
        return queryset.filter(open_now if value else ~open_now)

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset, once every filter has run

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*self.order_by)

    @property
    def order_by(self):
        order = ORDERINGS[self.ordering_key]
        if self.ordering_key == "distance":
            if self.distances is not None:
                order = [*order, F("distance").asc(nulls_last=True)]
            # then, at the same distance, the best match
            order = [*order, *(RELEVANCE if self.searching else ORDERINGS["name"])]
        return order

    @property
    def searching(self):
        return bool(getattr(self, "parsed_query", None))

    @property
    def placed(self):
        """Whether a place (near, a city or a ZIP code) was chosen."""
        return bool(self.chosen & set(ServiceFilterForm.PLACES))

    @property
    def ordering_key(self):
        """The order chosen, where it applies, else the search's own: nearest first for a
        place, best match for words, by name otherwise."""
        chosen = self.form.cleaned_data.get("ordering")
        if (chosen == "relevance" and not self.searching) or (
            chosen == "distance" and not self.placed
        ):
            chosen = None
        if chosen:
            return chosen
        return "distance" if self.placed else "relevance" if self.searching else "name"

    @property
    def ranked(self):
        """Whether the order is computed (by relevance, or by place), for
        ResultWindowPaginator, which then finds the window's ids once. (Services that
        only lack excluded words have no rank to be ordered by.)"""
        if self.ordering_key == "distance":
            return self.place_kinds is not None
        return self.ordering_key == "relevance" and self.parsed_query.has_words

    @property
    def chosen(self):
        """The names of the filters chosen (the sort order is not a filter)."""
        filters = self.form.cleaned_data.items()
        return {name for name, value in filters if name != "ordering" and _chosen(value)}

    @property
    def split(self):
        """For ResultWindowPaginator: this search's results as querysets one after the
        other in order, when finding them part by part pays; else None. A place's results
        come in parts (place_split). A search's name matches lead its order, and looking
        for them on their own pays for words alone.

        It pays for words alone, which can match a quarter of the directory. With other
        filters too, fewer services match, and the filters would run twice whenever the
        name matches did not fill the window.
        """
        if self.ordering_key == "distance" and self.ranked:
            return self.place_split()
        if not self.ranked or self.chosen != {"q"}:
            return None
        order = ORDERINGS["relevance"]
        return (
            search_names(self.queryset, self.parsed_query).order_by(*order),
            self.qs.exclude(NAME_MATCHES),
        )

    def place_split(self):
        """A place's results in their three parts, each in its own order: the services
        there (nearest first), those its areas cover, the nationwide ones. Each part is
        found by index and read only as far as the window needs, where one query would
        rank every match, thousands near a city, to show twenty."""
        follow = RELEVANCE if self.searching else ORDERINGS["name"]
        parts, earlier = [], []
        for found, test in [*self.place_kinds, (HasAnyToken([NATIONWIDE]), None)]:
            part = self.unplaced.filter(found)
            for before in earlier:
                part = part.exclude(before)
            order = follow
            if not earlier and self.distances is not None:
                order = [F("distance").asc(nulls_last=True), *follow]
            parts.append(part.order_by(*order))
            earlier.append(test)
        return parts

    @property
    def query_truncated(self):
        parsed = getattr(self, "parsed_query", None)
        return bool(parsed and parsed.truncated)
