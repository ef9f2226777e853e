"""The places people search by (a ZIP code, a city with its state) and how far away
services are, from the US ZIP codes' centroids (ZipCode) and the public locations."""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Avg, Q

from .models import Address, PublicationState, ServiceArea, ZipCode

METERS_PER_MILE = 1609.344
DEFAULT_RADIUS_MILES = 25
MAX_RADIUS_MILES = 500

FIVE_DIGITS = re.compile(r"^\d{5}$")
CITY_AND_STATE = re.compile(r"^(?P<city>.+?)[\s,]+(?P<state>[A-Za-z]{2})$")
# How people shorten the first word of a place's name, as the ZIP codes spell it out.
SHORT_FORMS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}


@dataclass(frozen=True)
class Place:
    city: str
    state: str
    county: str
    latitude: float
    longitude: float
    zip_code: str = ""

    def __str__(self):
        where = f"{self.city}, {self.state}"
        return f"{self.zip_code} ({where})" if self.zip_code else where

    @property
    def county_names(self):
        """How a service area may name this place's county: "Cook County" or "Cook"."""
        return {self.county, self.county.removesuffix(" County")} - {""}


def find_place(text):
    """The place a ZIP code or a city with its state names, or None."""
    text = " ".join((text or "").split()).strip(" ,")
    if FIVE_DIGITS.match(text):
        return zip_place(text)
    found = CITY_AND_STATE.match(text)
    if found:
        return city_place(found["city"], found["state"].upper())
    return None


def zip_place(code):
    row = ZipCode.objects.filter(code=code).first()
    if row is None:
        return None
    return Place(row.city, row.state, row.county, row.latitude, row.longitude, zip_code=code)


def city_place(city, state):
    """A city of a state, at the middle of its ZIP codes' centroids."""
    for name in spellings(city):
        codes = ZipCode.objects.filter(state=state, city__iexact=name)
        if codes.filter(active=True).exists():
            codes = codes.filter(active=True)
        middle = codes.aggregate(latitude=Avg("latitude"), longitude=Avg("longitude"))
        if middle["latitude"] is not None:
            first = codes.order_by("code").first()
            return Place(first.city, state, first.county, middle["latitude"], middle["longitude"])
    return None


@dataclass(frozen=True)
class City:
    """A city as the city filter reads it: its name, its state when given, and the places
    of that name the ZIP codes know (one per state where no state is given)."""

    name: str
    state: str
    places: tuple
    typed: str = ""

    @property
    def names(self):
        """How addresses and areas may spell it: "St. Louis", "St Louis", "Saint Louis"."""
        spelled = {self.name, *spellings(self.typed or self.name)}
        for name in list(spelled):
            first, _, rest = name.partition(" ")
            for short, long_form in SHORT_FORMS.items():
                if rest and first.lower() == long_form:
                    spelled |= {f"{short.title()} {rest}", f"{short.title()}. {rest}"}
        return spelled


@dataclass(frozen=True)
class PostalCode:
    code: str
    place: Place | None  # None for a code only the directory's addresses know


def find_city(text):
    """The city "Springfield" or "Springfield, IL" names, known to the ZIP codes or to
    the directory, or None."""
    text = " ".join(text.split()).strip(" ,")
    given = CITY_AND_STATE.match(text)
    if given:
        place = city_place(given["city"], given["state"].upper())
        if place is not None:
            return City(place.city, place.state, (place,), typed=given["city"])
    named = Q()
    for spelling in spellings(text):
        named |= Q(city__iexact=spelling)
    states = ZipCode.objects.filter(named).order_by("state").values_list("state", flat=True)
    states = list(dict.fromkeys(states))
    places = tuple(place for state in states if (place := city_place(text, state)))
    if places:
        return City(places[0].city, "", places, typed=text)
    if known_city_here(text):
        return City(text, "", ())
    return None


def find_postal_code(code):
    place = zip_place(code)
    if place is None and not _published_addresses().filter(postal_code__startswith=code).exists():
        return None
    return PostalCode(code, place)


def spellings(city):
    city = " ".join(city.split())
    first, _, rest = city.partition(" ")
    long_form = SHORT_FORMS.get(first.lower().rstrip("."))
    return [city, f"{long_form} {rest}"] if long_form and rest else [city]


def _published_addresses():
    """The public addresses of published services."""
    return Address.objects.public().filter(
        location__service_at_locations__service__publication_state=PublicationState.PUBLISHED
    )


def known_city_here(city):
    """Whether a published service's public address or service area names this city."""
    areas = ServiceArea.objects.filter(service__publication_state=PublicationState.PUBLISHED)
    return (
        _published_addresses().filter(city__iexact=city).exists()
        or areas.filter(city__iexact=city).exists()
    )


def services_near(place, miles):
    """{service id (as text): miles} of the services with a public location within `miles`
    of the place: by the location's coordinates, or else its address's ZIP code's
    centroid. Confidential locations never count (resources.search.index, services_near).
    Thousands of services can be near a city: their ids stay text, as the filters send
    them back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT service_id::text, meters / %s FROM resources_services_near(%s, %s, %s)",
            [METERS_PER_MILE, place.latitude, place.longitude, miles * METERS_PER_MILE],
        )
        return dict(cursor.fetchall())
