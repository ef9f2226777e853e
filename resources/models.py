"""The directory's data, shaped after Open Referral HSDS 3 (https://openreferral.org/).

Every HSDS entity keeps a UUID primary key so that the ids partners see are stable;
services and organizations add a slug for readable page URLs.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Left, Lower, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify

from .validators import validate_phone_number


class TermQuerySet(models.QuerySet):
    def descendant_ids(self, roots):
        """The ids of `roots` and of every term below them, in one query of the taxonomy."""
        children = {}
        for pk, parent_id in self.values_list("pk", "parent_id"):
            children.setdefault(parent_id, []).append(pk)
        found, frontier = set(), [root.pk for root in roots]
        while frontier:
            pk = frontier.pop()
            if pk not in found:
                found.add(pk)
                frontier.extend(children.get(pk, []))
        return found


class Term(models.Model):
    """A node of one of the directory's two taxonomies (needs, populations)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(
        unique=True, help_text="Used in search URLs and the API, e.g. legal-aid. Keep it stable."
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The broader term this one belongs to. A search for the parent finds it too.",
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order among its siblings in menus; lower comes first."
    )

    objects = TermQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": "A term cannot be placed under itself."})
            ancestor = ancestor.parent


class Need(Term):
    """A kind of help a survivor may need: counseling, legal aid, housing..."""

    class Meta(Term.Meta):
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="need_not_own_parent")
        ]


class Population(Term):
    """A group of people a service is meant for: women, youth, foreign nationals..."""

    class Meta(Term.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="population_not_own_parent"
            )
        ]


class Language(models.Model):
    code = models.CharField(
        primary_key=True,
        max_length=3,
        validators=[RegexValidator(r"^[a-z]{2,3}$", "Use an ISO 639 code such as en or spa.")],
        help_text="ISO 639-1 code (two letters, e.g. es) or ISO 639-3 when there is none.",
    )
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


def free_slug(name, taken):
    """A slug for name that taken(slug) says is free: slugify(name), then -2, -3..."""
    base = slugify(name)[:100] or "entry"
    slug, n = base, 1
    while taken(slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


class PublicationState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    alternate_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    source_document = models.CharField(
        max_length=200,
        blank=True,
        help_text="The file or publication this organization's information came from.",
    )
    source_passage = models.TextField(
        blank=True, help_text="The sentence(s) in the source that describe the organization."
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Two entries for one organization split its services between two pages.
            models.UniqueConstraint(
                Lower("name"),
                name="organization_name_unique",
                violation_error_message="An organization with this name is already here.",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("resources:organization", kwargs={"slug": self.slug})


class ServiceQuerySet(models.QuerySet):
    def published(self):
        return self.filter(publication_state=PublicationState.PUBLISHED)

    def for_summary(self):
        """What the API's list of services shows of each (no locations), in a fixed number
        of queries, as plain lists (see Listed)."""
        phones = Phone.objects.prefetch_related("languages")
        return self.select_related("organization").prefetch_related(
            models.Prefetch("needs", to_attr="need_list"),
            models.Prefetch("populations", to_attr="population_list"),
            models.Prefetch("languages", to_attr="language_list"),
            models.Prefetch("phones", queryset=phones, to_attr="phone_list"),
        )

    def for_results(self):
        """What a card in a list of search results shows (phones, today's hours, where,
        needs and populations), in a fixed number of queries whatever the number of
        services, as plain lists (see Listed).

        The addresses of confidential locations are never loaded, so no template or
        serializer can show them by mistake.
        """
        public_addresses = Address.objects.public()
        links = ServiceAtLocation.objects.select_related("location").prefetch_related(
            models.Prefetch("location__addresses", public_addresses, to_attr="address_list"),
            models.Prefetch("location__phones", to_attr="phone_list"),
            models.Prefetch("location__schedules", to_attr="schedule_list"),
        )
        return self.select_related("organization").prefetch_related(
            models.Prefetch("needs", to_attr="need_list"),
            models.Prefetch("populations", to_attr="population_list"),
            models.Prefetch("phones", to_attr="phone_list"),
            models.Prefetch("schedules", to_attr="schedule_list"),
            models.Prefetch("service_areas", to_attr="area_list"),
            models.Prefetch("service_at_locations", links, to_attr="link_list"),
        )

    def for_display(self):
        """Everything a service page, the printed list or an API response shows: a result
        card's data plus the languages of the service, its locations and its phones,
        through the related managers, as the service page's templates and the HSDS
        serializers read them. As in for_results(), no confidential address is loaded."""
        public_addresses = models.Prefetch("location__addresses", queryset=Address.objects.public())
        links = ServiceAtLocation.objects.select_related("location").prefetch_related(
            public_addresses,
            "location__phones__languages",
            "location__schedules",
            "location__languages",
        )
        return self.select_related("organization").prefetch_related(
            "needs",
            "populations",
            "languages",
            "phones__languages",
            "schedules",
            "service_areas",
            models.Prefetch("service_at_locations", queryset=links),
        )


class Listed(cached_property):
    """A relation's objects as a list, for display: `need_list = Listed("needs")`.

    Lists of services load it under its name (to_attr; for_results(), for_summary()):
    a related manager, made anew for each service and each relation it is read through,
    cost a sixth of a list's time. Any other instance reads it once through the manager
    (and its prefetched objects). A snapshot: it does not follow later edits.
    """

    def __init__(self, relation):
        super().__init__(lambda instance: list(getattr(instance, relation).all()))


class Service(models.Model):
    class Status(models.TextChoices):
        # HSDS 3 service.status values, spelled as HSDS spells them.
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        DEFUNCT = "defunct", "Defunct"
        TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
        help_text=(
            "Who delivers the service. May stay empty only while a source describes a kind of "
            "help without naming a provider; such an entry cannot be published."
        ),
    )
    name = models.CharField(max_length=200)
    alternate_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="What the service offers, in plain words.")
    keywords = models.CharField(
        max_length=500,
        blank=True,
        help_text="Extra words people search with (comma separated), e.g. T visa, expungement.",
    )
    url = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    chat_url = models.URLField(
        "chat", blank=True, help_text="The page where people can chat with the service online."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    eligibility_description = models.TextField(
        blank=True, help_text="Who qualifies, in the words a client would understand."
    )
    minimum_age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    maximum_age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    fees_description = models.TextField(
        blank=True, help_text="What it costs. Write 'Free' when it is free."
    )
    application_process = models.TextField(
        blank=True, help_text="How to get the service: walk in, call first, referral needed..."
    )
    interpretation_services = models.TextField(
        blank=True, help_text="Interpreters or language lines available, if any."
    )
    needs = models.ManyToManyField(Need, blank=True, related_name="services")
    populations = models.ManyToManyField(Population, blank=True, related_name="services")
    languages = models.ManyToManyField(Language, blank=True, related_name="services")
    covered_by = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="covers",
        help_text=(
            "Published services that offer this kind of help everywhere (a national hotline, "
            "a locator) while this entry waits for a local provider."
        ),
    )

    publication_state = models.CharField(
        max_length=10,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        help_text="Only published services are shown on the public site and in the API.",
    )
    source_document = models.CharField(
        max_length=200,
        blank=True,
        help_text="The file or publication this entry came from (e.g. a seed document's name).",
    )
    source_passage = models.TextField(
        blank=True, help_text="The passage of the source that describes this service."
    )
    source_url = models.URLField(blank=True, help_text="A web page the information came from.")
    last_verified = models.DateField(
        null=True,
        blank=True,
        help_text="When a curator last confirmed this information with the provider or source.",
    )
    last_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The curator who last confirmed it.",
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)
    # Derived from the rest by the database (resources.search.index), for search and filters.
    search_vector = SearchVectorField(null=True, editable=False)
    filter_vector = SearchVectorField(null=True, editable=False)
    place_bits = models.BigIntegerField(default=0, editable=False)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("publish_service", "Can publish, send back, archive, restore and verify services")
        ]
        indexes = [
            # Full-text search of the search page and the API's q parameter.
            GinIndex(fields=["search_vector"], name="service_search_vector_gin"),
            GinIndex(fields=["filter_vector"], name="service_filter_vector_gin"),
            # The default listing, published services by name, also by state: the place
            # bits are read from the index, not from each service's row.
            models.Index(
                fields=["publication_state", "name"],
                include=["id", "place_bits"],
                name="service_listing_idx",
            ),
            # The city and ZIP filters find services by id through joins and then sort them
            # by name: each match is read from this narrow index, not the wide row.
            models.Index(
                fields=["id", "name"],
                condition=Q(publication_state=PublicationState.PUBLISHED),
                name="published_service_name_idx",
            ),
            # Partners polling for changes: modified_after.
            models.Index(fields=["modified"], name="service_modified_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True)
                | Q(maximum_age__isnull=True)
                | Q(minimum_age__lte=models.F("maximum_age")),
                name="service_minimum_age_not_above_maximum",
                violation_error_message="The minimum age cannot be above the maximum age.",
            ),
            models.CheckConstraint(
                condition=~Q(publication_state=PublicationState.PUBLISHED)
                | Q(organization__isnull=False),
                name="published_service_has_organization",
                violation_error_message="A service needs an organization before it is published.",
            ),
            models.CheckConstraint(
                condition=~Q(publication_state=PublicationState.PUBLISHED)
                | ~Q(source_document="")
                | ~Q(source_url=""),
                name="published_service_cites_source",
                violation_error_message=(
                    "Say where the information came from (a source document or URL) "
                    "before publishing."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("resources:service", kwargs={"slug": self.slug})

    need_list = Listed("needs")
    population_list = Listed("populations")
    language_list = Listed("languages")
    phone_list = Listed("phones")
    schedule_list = Listed("schedules")
    area_list = Listed("service_areas")
    link_list = Listed("service_at_locations")

    @property
    def locations(self):
        """Where the service is offered (through the prefetched service_at_locations)."""
        return [link.location for link in self.link_list]

    def clean(self):
        errors = {}
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.minimum_age > self.maximum_age
        ):
            errors["minimum_age"] = "The minimum age cannot be above the maximum age."
        if self.publication_state == PublicationState.PUBLISHED:
            if self.organization_id is None:
                errors["organization"] = "Choose the organization before publishing."
            if not (self.source_document or self.source_url):
                errors["source_document"] = "Give a source document or URL before publishing."
        if errors:
            raise ValidationError(errors)


class LocationQuerySet(models.QuerySet):
    def public(self):
        """The locations whose place the public may know: not a confidential one (a
        shelter), whose address and coordinates are never shown nor searched by place."""
        return self.filter(confidential=False)


class Location(models.Model):
    class Type(models.TextChoices):
        PHYSICAL = "physical", "Physical (people visit)"
        POSTAL = "postal", "Postal only"
        VIRTUAL = "virtual", "Virtual (online or by phone)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="locations"
    )
    location_type = models.CharField(max_length=10, choices=Type.choices, default=Type.PHYSICAL)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True, help_text="For a virtual location: where to reach it.")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    confidential = models.BooleanField(
        default=False,
        help_text=(
            "Tick for a safe house or shelter whose address must never be shown. The public site "
            "and API then show only how to make contact, never the address or coordinates."
        ),
    )
    languages = models.ManyToManyField(Language, blank=True, related_name="locations")
    modified = models.DateTimeField(auto_now=True)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="location_coordinates_valid",
                violation_error_message="Latitude must be within ±90 and longitude within ±180.",
            ),
        ]
        indexes = [
            # The few public locations placed by their ZIP code's centroid, for "near"
            # (the search index's services_near): found at once, however many others.
            models.Index(
                fields=["id"],
                condition=Q(latitude__isnull=True, confidential=False),
                name="location_without_point_idx",
            ),
        ]

    def __str__(self):
        return self.name

    address_list = Listed("addresses")
    phone_list = Listed("phones")
    schedule_list = Listed("schedules")

    @property
    def public_addresses(self):
        """Its addresses, or none at all for a confidential location.

        for_results() and for_display() never even load a confidential location's
        addresses; this is the second lock, for any queryset without that prefetch.
        """
        return [] if self.confidential else self.address_list

    @property
    def public_coordinates(self):
        """(latitude, longitude), or None: a confidential location's are never shown."""
        if self.confidential or self.latitude is None:
            return None
        return (self.latitude, self.longitude)

    def clean(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": "Give both latitude and longitude, or neither."})
        if self.confidential and not self._state.adding:
            check_confidential_location_reachable(self, phone_count=self.phones.count())


def check_confidential_location_reachable(location, *, phone_count):
    """A confidential location hides its address, so people need another way in.

    That way is a phone of the location's own, or a non-confidential contact of its
    organization (its phone, e-mail or website).
    """
    if phone_count:
        return
    org = location.organization
    if org is not None and (org.email or org.website or org.phones.exists()):
        return
    raise ValidationError(
        "A confidential location needs a way to reach the service without its address: "
        "add a phone to it, or give its organization a phone, e-mail or website."
    )


class AddressQuerySet(models.QuerySet):
    def public(self):
        """The addresses the public may see: those of public locations (see
        LocationQuerySet.public). Every page, API answer, place filter and the search
        index read addresses through this."""
        return self.filter(location__confidential=False)


class Address(models.Model):
    class Type(models.TextChoices):
        PHYSICAL = "physical", "Physical"
        POSTAL = "postal", "Postal"
        VIRTUAL = "virtual", "Virtual"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    address_type = models.CharField(max_length=10, choices=Type.choices, default=Type.PHYSICAL)
    attention = models.CharField(max_length=200, blank=True)
    address_1 = models.CharField(max_length=200)
    address_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True, help_text="County or district.")
    state_province = models.CharField(
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use the two-letter state code, e.g. IL.")],
        help_text="Two-letter state or territory code, e.g. IL.",
    )
    postal_code = models.CharField(
        max_length=10,
        validators=[RegexValidator(r"^\d{5}(-\d{4})?$", "Use a ZIP code: 12345 or 12345-6789.")],
    )
    country = models.CharField(
        max_length=2,
        default="US",
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use the ISO 3166 country code, e.g. US.")],
    )

    objects = AddressQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "addresses"
        # The place filters (resources.filters) look addresses up by these.
        indexes = [
            models.Index(fields=["state_province"], name="address_state_idx"),
            models.Index(Upper("city"), name="address_city_idx"),
            models.Index(
                fields=["postal_code"],
                opclasses=["varchar_pattern_ops"],  # for "starts with" (ZIP+4 codes)
                name="address_postal_code_idx",
            ),
            # An address's five-digit ZIP code, matched to ZipCode for its centroid.
            models.Index(Left("postal_code", 5), name="address_zip5_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "address_type"], name="one_address_of_each_type_per_location"
            )
        ]

    def __str__(self):
        return f"{self.address_1}, {self.city}, {self.state_province}"


class ServiceAtLocation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = "service at location"
        verbose_name_plural = "services at locations"
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="service_at_location_once")
        ]

    def __str__(self):
        return f"{self.service} at {self.location}"


class Phone(models.Model):
    class Type(models.TextChoices):
        # HSDS 3 phone.type values.
        VOICE = "voice", "Voice"
        TEXT = "text", "Text / SMS"
        CELL = "cell", "Cell"
        FAX = "fax", "Fax"
        VIDEO = "video", "Video"
        PAGER = "pager", "Pager"
        TEXTPHONE = "textphone", "Textphone (TTY)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(
        max_length=30,
        validators=[validate_phone_number],
        help_text="As people dial it: 1-888-373-7888, (312) 555-0100 or a short code like 233733.",
    )
    extension = models.CharField(
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{1,10}$", "An extension is digits only.")],
    )
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.VOICE)
    description = models.CharField(
        max_length=300, blank=True, help_text="E.g. 'Text HELP to reach an advocate'."
    )
    languages = models.ManyToManyField(Language, blank=True, related_name="phones")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(organization__isnull=False),
                name="phone_belongs_to_something",
                violation_error_message="A phone belongs to a service, location or organization.",
            )
        ]

    def __str__(self):
        return f"{self.number} x{self.extension}" if self.extension else self.number

    @property
    def tel_uri(self):
        digits = "".join(ch for ch in self.number if ch.isdigit())
        if self.number.strip().startswith("+"):
            digits = "+" + digits
        return f"tel:{digits}" + (f";ext={self.extension}" if self.extension else "")


class Weekday(models.IntegerChoices):
    # ISO 8601 numbering, as date.isoweekday() returns it.
    MONDAY = 1, "Monday"
    TUESDAY = 2, "Tuesday"
    WEDNESDAY = 3, "Wednesday"
    THURSDAY = 4, "Thursday"
    FRIDAY = 5, "Friday"
    SATURDAY = 6, "Saturday"
    SUNDAY = 7, "Sunday"


class Schedule(models.Model):
    """Opening hours: one row per weekday span, or one row saying it is open 24/7."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    open_24_7 = models.BooleanField(
        "open 24/7", default=False, help_text="Tick when it never closes; leave the hours empty."
    )
    notes = models.CharField(
        max_length=300, blank=True, help_text="E.g. 'Closed on federal holidays'."
    )

    class Meta:
        # Hour-less rows (24/7, notes) first.
        ordering = [
            models.F("weekday").asc(nulls_first=True),
            models.F("opens_at").asc(nulls_first=True),
        ]
        # For "open now": the schedules that open or close within the current hour
        # (resources.filters._open_now).
        indexes = [
            models.Index(fields=["weekday", "opens_at", "closes_at"], name="schedule_hours_idx"),
            models.Index(fields=["weekday", "closes_at"], name="schedule_closing_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="schedule_closes_after_opening",
                violation_error_message="The closing time must be after the opening time.",
            ),
            models.CheckConstraint(
                condition=Q(
                    open_24_7=True,
                    weekday__isnull=True,
                    opens_at__isnull=True,
                    closes_at__isnull=True,
                )
                | Q(
                    open_24_7=False,
                    weekday__isnull=False,
                    opens_at__isnull=False,
                    closes_at__isnull=False,
                )
                | Q(
                    open_24_7=False,
                    weekday__isnull=True,
                    opens_at__isnull=True,
                    closes_at__isnull=True,
                ),
                name="schedule_is_24_7_or_weekday_hours_or_note",
                violation_error_message=(
                    "Either tick 24/7, or give a weekday with opening and closing times, "
                    "or leave all of them empty and write a note."
                ),
            ),
            models.CheckConstraint(
                condition=Q(service__isnull=False) | Q(location__isnull=False),
                name="schedule_belongs_to_service_or_location",
            ),
        ]

    def __str__(self):
        if self.open_24_7:
            return "Open 24/7"
        if self.weekday:
            return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"
        return self.notes or "Hours by note"

    def clean(self):
        errors = {}
        if self.open_24_7:
            if self.weekday or self.opens_at or self.closes_at:
                errors["open_24_7"] = "A 24/7 schedule has no weekday or hours."
        elif self.weekday or self.opens_at or self.closes_at:
            for field in ("weekday", "opens_at", "closes_at"):
                if getattr(self, field) in (None, ""):
                    errors[field] = "Give the weekday, opening and closing time together."
        elif not self.notes:
            errors["notes"] = "Give hours, tick 24/7, or describe the hours in a note."
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = (
                "The closing time must be after the opening time. For hours past midnight, "
                "add a second row for the next day."
            )
        if errors:
            raise ValidationError(errors)


class ServiceArea(models.Model):
    class Extent(models.TextChoices):
        NATIONWIDE = "nationwide", "Nationwide"
        STATE = "state", "State"
        COUNTY = "county", "County"
        CITY = "city", "City"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_areas")
    extent = models.CharField(max_length=10, choices=Extent.choices)
    state = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use the two-letter state code, e.g. IL.")],
    )
    county = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)

    class Meta:
        # The place filters (resources.filters) look areas up by these.
        indexes = [
            models.Index(fields=["extent"], name="service_area_extent_idx"),
            models.Index(fields=["state"], name="service_area_state_idx"),
            models.Index(Upper("city"), name="service_area_city_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(extent="nationwide", state="", county="", city="")
                | (Q(extent="state") & ~Q(state=""))
                | (Q(extent="county") & ~Q(state="") & ~Q(county=""))
                | (Q(extent="city") & ~Q(state="") & ~Q(city="")),
                name="service_area_names_its_place",
                violation_error_message=(
                    "A nationwide area names no place; a state area needs its state; "
                    "a county or city area needs its state and its county or city."
                ),
            )
        ]

    def __str__(self):
        if self.extent == self.Extent.NATIONWIDE:
            return "Nationwide"
        place = self.city or self.county
        return f"{place}, {self.state}" if place else self.state

    def clean(self):
        required = {
            self.Extent.STATE: ["state"],
            self.Extent.COUNTY: ["state", "county"],
            self.Extent.CITY: ["state", "city"],
        }.get(self.extent, [])
        errors = {f: "Required for this kind of area." for f in required if not getattr(self, f)}
        if self.extent == self.Extent.NATIONWIDE and (self.state or self.county or self.city):
            errors["extent"] = "A nationwide area names no state, county or city."
        if errors:
            raise ValidationError(errors)


class ZipCode(models.Model):
    """A US ZIP code: its city, state, county and centroid, for place searches.

    Reference data from the zipcodes package, filled once by migration 0014 (which
    creates the table). Unmanaged, so that neither a test database's flush nor
    reset_directory empties it.
    """

    code = models.CharField(max_length=5, primary_key=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    county = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    active = models.BooleanField(default=True)

    class Meta:
        managed = False
        db_table = "resources_zipcode"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.city}, {self.state}"


class Synonym(models.Model):
    """An everyday word or phrase mapped to the needs and terms the directory uses.

    A search for "lawyer" then also finds services filed under Legal aid.
    """

    phrase = models.CharField(
        max_length=100,
        unique=True,
        help_text="What people type, in lower case: lawyer, a place to stay, t visa.",
    )
    needs = models.ManyToManyField(
        Need,
        blank=True,
        related_name="synonyms",
        help_text="Services filed under these needs (or their sub-needs) match the phrase.",
    )
    terms = models.CharField(
        max_length=300,
        blank=True,
        help_text="Other words that mean the same, comma separated: attorney, legal help.",
    )

    class Meta:
        ordering = ["phrase"]
        constraints = [
            models.CheckConstraint(
                condition=Q(phrase=Lower("phrase")), name="synonym_phrase_lower_case"
            )
        ]

    def __str__(self):
        return self.phrase

    def clean(self):
        self.phrase = " ".join(self.phrase.lower().split())

    @property
    def term_list(self):
        return [term.strip().lower() for term in self.terms.split(",") if term.strip()]


class PublishedName(models.Model):
    """A published service's names (its name and alternate name) as searched.

    Kept by the database (resources.search.index). A broad word ("shelter") is in
    thousands of names, and a search lists those services first: finding and ranking them
    here reads about a tenth of the bytes the services' own rows hold
    (resources.search.matching.search_names). Its row goes with its service (migration
    0011 made the foreign key cascade in the database).
    """

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    vector = SearchVectorField()

    class Meta:
        indexes = [GinIndex(fields=["vector"], name="published_name_vector_gin")]

    def __str__(self):
        return self.name


class SearchWord(models.Model):
    """A word the directory contains, for correcting typos in searches.

    Kept by the database (resources.search.index); a trigram index (migration 0003) finds
    the known words nearest to one a caseworker mistyped.
    """

    word = models.CharField(max_length=100, primary_key=True)

    def __str__(self):
        return self.word


class ShippedRow(models.Model):
    """A row of the shipped directory (fixtures/) that load_directory has written, or
    found already here (resources.shipped). A curator's edit or deletion always stays."""

    model = models.CharField(max_length=100, help_text="app_label.model_name")
    object_pk = models.CharField(max_length=64)
    loaded = models.DateTimeField(default=timezone.now, editable=False)
    shipped = models.CharField(
        max_length=64, blank=True, help_text="Digest of the shipped version last written."
    )
    written = models.CharField(
        max_length=64,
        blank=True,
        help_text="Digest of the row as written; empty where it was not this loader's to write.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "object_pk"], name="shipped_row_once")
        ]

    def __str__(self):
        return f"{self.model} {self.object_pk}"


class Suggestion(models.Model):
    """A member of the public's note that a service's entry is wrong or out of date.

    It holds the words and the service, nothing about who sent it (no address, cookie or
    contact), and waits in the admin's queue until a curator resolves or dismisses it.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    MAX_LENGTH = 2000

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="suggestions")
    message = models.TextField(max_length=MAX_LENGTH)
    created = models.DateTimeField(default=timezone.now, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="What was done about it, for other curators.")

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["state", "created"], name="suggestion_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(message=""), name="suggestion_has_message"),
            models.CheckConstraint(
                condition=Q(state="open", resolved_at__isnull=True)
                | (~Q(state="open") & Q(resolved_at__isnull=False)),
                name="suggestion_resolved_when_closed",
            ),
        ]

    def __str__(self):
        return f"Suggestion for {self.service}: {self.message[:60]}"


class ServiceChange(models.Model):
    """One line of the change feed partners mirror the directory by: a service became
    (or stayed) public with new content, or left the public directory.

    Written by the database itself (resources.sync), whatever wrote the service or a
    record it shows, so no change can bypass it. Read in the order of `transaction`, then
    `id` (see resources.sync.changes_since).
    """

    id = models.BigAutoField(primary_key=True)
    service_id = models.UUIDField()
    published = models.BooleanField(help_text="Public after the change; false: it left.")
    at = models.DateTimeField()
    transaction = models.BigIntegerField(help_text="The writing transaction's id (xid8).")

    class Meta:
        indexes = [
            models.Index(fields=["transaction", "id"], name="service_change_feed_idx"),
            models.Index(fields=["service_id", "-id"], name="service_change_latest_idx"),
        ]

    def __str__(self):
        return f"{self.service_id} {'updated' if self.published else 'removed'} at {self.at}"


class ChangeFeedStart(models.Model):
    """Where the change feed now starts: lines up to here were pruned (resources.sync.prune),
    so a cursor before it is too old to replay from. One row, or none before any pruning."""

    transaction = models.BigIntegerField()
    line = models.BigIntegerField()
    pruned = models.DateTimeField()

    def __str__(self):
        return f"after {self.transaction}.{self.line} (pruned {self.pruned})"


def validate_rate(value):
    from directory.ratelimit import parse_rate

    try:
        parse_rate(value)
    except ImproperlyConfigured:
        raise ValidationError("Write a rate such as 3000/min, 100/s or 50000/hour.") from None


class ApiKey(models.Model):
    """A known partner's key to the API (sent in the X-API-Key header), with a limit of its
    own. The key itself is shown once, when made; only its digest is kept."""

    name = models.CharField(max_length=200, help_text="The partner, and a way to reach them.")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    rate = models.CharField(
        max_length=20,
        default="3000/min",
        validators=[validate_rate],
        help_text="Requests this key may make, e.g. 3000/min (anonymous clients: API_ANON_RATE).",
    )
    active = models.BooleanField(default=True, help_text="Untick to stop the key working.")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
