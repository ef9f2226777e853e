"""HSDS query parameters, read as the directory reads its own.

/services and /service_at_locations filter services through the search page's own
FilterSet (resources.filters.ServiceFilter): each HSDS parameter becomes the
ServiceFilter value that asks the same question, and a rejected value is reported
under the HSDS name the partner sent.
"""

import uuid

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from resources.filters import ServiceFilter
from resources.models import Need, Organization, Population
from resources.places import FIVE_DIGITS, MAX_RADIUS_MILES, METERS_PER_MILE

from .taxonomies import find_taxonomy, taxonomy_of

# HSDS parameter: ServiceFilter field, where only the name differs.
RENAMED = {"search": "q", "postcode": "postal_code", "modified_after": "modified_after"}
HSDS_NAMES = {
    **{name: hsds_name for hsds_name, name in RENAMED.items()},
    "near": "postcode",
    "radius": "proximity",
    "need": "taxonomy_term_id",
    "population": "taxonomy_term_id",
    "organization": "organization_id",
}


def filter_services(request, queryset):
    """`queryset` narrowed to what the request's HSDS parameters ask for."""
    data = service_filter_data(request.query_params)
    filterset = ServiceFilter(data, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError(
            {HSDS_NAMES.get(name, name): errors for name, errors in filterset.errors.items()}
        )
    return filterset.qs


def service_filter_data(params):
    data = QueryDict(mutable=True)
    for hsds_name, name in RENAMED.items():
        if hsds_name in params:
            data[name] = params[hsds_name]
    errors = {}

    # proximity: meters from the postcode's centroid (HSDS), a search near it.
    proximity = params.get("proximity", "")
    if proximity:
        most = round(MAX_RADIUS_MILES * METERS_PER_MILE)
        try:
            meters = float(proximity)
        except ValueError:
            meters = None
        if meters is None or not 0 < meters <= most:  # NaN too
            errors["proximity"] = [f"Give a distance of more than 0 and at most {most} meters."]
        elif not FIVE_DIGITS.match(params.get("postcode", "")):
            errors["postcode"] = ["Give the five-digit ZIP code to measure proximity from."]
        else:
            data["radius"] = str(meters / METERS_PER_MILE)
            data["near"] = data.pop("postal_code")[0]

    term_id = read_uuid(params, "taxonomy_term_id", errors)
    if term_id:
        term = (
            Need.objects.filter(pk=term_id).first() or Population.objects.filter(pk=term_id).first()
        )
        if term is None:
            errors["taxonomy_term_id"] = [f"No taxonomy term has the id {term_id}."]
        else:
            data[taxonomy_of(term).filter_name] = term.slug

    taxonomy_id = read_uuid(params, "taxonomy_id", errors)
    if taxonomy_id:
        taxonomy = find_taxonomy(taxonomy_id)
        if taxonomy is None:
            errors["taxonomy_id"] = [f"No taxonomy has the id {taxonomy_id}."]
        elif taxonomy.filter_name not in data:  # a term of the taxonomy already implies it
            # Any term of the taxonomy: its top-level terms, whose filter includes the rest.
            roots = taxonomy.model.objects.filter(parent=None).values_list("slug", flat=True)
            data.setlist(taxonomy.filter_name, list(roots))

    organization_id = read_uuid(params, "organization_id", errors)
    if organization_id:
        slug = Organization.objects.filter(pk=organization_id).values_list("slug", flat=True)
        if not slug:
            errors["organization_id"] = [f"No organization has the id {organization_id}."]
        else:
            data["organization"] = slug[0]

    if errors:
        raise ValidationError(errors)
    return data


def read_uuid(params, name, errors):
    raw = params.get(name, "")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        errors[name] = [f"“{raw}” is not a valid UUID."]
        return None


def read_flag(params, name):
    """A true/false parameter: true, false, 1, 0 (absent is false)."""
    raw = params.get(name, "")
    if not raw:
        return False
    try:
        return serializers.BooleanField().run_validation(raw)
    except ValidationError as error:
        raise ValidationError({name: error.detail}) from None
