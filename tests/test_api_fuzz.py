"""Schemathesis sends requests generated from the OpenAPI schema (valid ones and
malformed ones) to the API, and checks that none gets a server error or an answer the
schema does not describe."""

import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from directory.wsgi import application
from resources.hsds.taxonomies import NEEDS
from resources.models import Service
from tests.factories import make_rich_service

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# The schema /api/schema/ serves, built without a request: schemathesis's lazy loader
# (schemathesis.pytest.from_fixture) does not run under pytest 9.
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
)
schema.app = application


@pytest.fixture
def wsgi_in_the_test_transaction():
    # Requests go straight to the WSGI application, whose request signals would close the
    # connection holding the test's transaction (on PostgreSQL): as Django's test client
    # does, keep it open.
    for signal in [request_started, request_finished]:
        signal.disconnect(close_old_connections)
    yield
    for signal in [request_started, request_finished]:
        signal.connect(close_old_connections)


@pytest.fixture
def fuzz_data(db, wsgi_in_the_test_transaction, unthrottled):
    # Hundreds of requests a minute are the point here, not a reason to throttle.
    cache.clear()
    return make_rich_service()


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure in CI reproduces locally
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_it_answers_every_request_as_the_schema_says(case, fuzz_data):
    case.call_and_validate(checks=CHECKS)


def real_requests(rich):
    """Requests for records that exist, which random ids and slugs would never hit."""
    services = [{"id": pk} for pk in Service.objects.published().values_list("pk", flat=True)]
    organizations = [{"id": rich.organization_id}]
    links = [{"id": pk} for pk in rich.service_at_locations.values_list("pk", flat=True)]
    terms = [{"id": rich.needs.get().pk}, {"id": rich.populations.get().pk}]
    return [
        ("/api/v1/services/", {}, {"page_size": 100}),
        *[("/api/v1/services/{id}/", ids, {}) for ids in services],
        ("/api/v1/organizations/{id}/", organizations[0], {}),
        *[
            ("/api/v1/locations/{id}/", {"id": link.location_id}, {})
            for link in rich.service_at_locations.all()
        ],
        ("/api/v1/needs/{slug}/", {"slug": rich.needs.get().slug}, {}),
        ("/api/v1/populations/{slug}/", {"slug": rich.populations.get().slug}, {}),
        ("/api/v1/languages/{code}/", {"code": "es"}, {}),
        ("/api/hsds/services", {}, {"per_page": 100}),
        ("/api/hsds/services", {}, {"minimal": "true"}),
        *[("/api/hsds/services/{id}", ids, {}) for ids in services],
        ("/api/hsds/organizations", {}, {"full_service": "true", "per_page": 100}),
        ("/api/hsds/organizations/{id}", organizations[0], {}),
        ("/api/hsds/organizations/{id}", organizations[0], {"full_service": "true"}),
        ("/api/hsds/service_at_locations", {}, {"per_page": 100}),
        *[("/api/hsds/service_at_locations/{id}", ids, {}) for ids in links],
        ("/api/hsds/taxonomies/{id}", {"id": NEEDS.id}, {}),
        ("/api/hsds/taxonomy_terms", {}, {"per_page": 100}),
        *[("/api/hsds/taxonomy_terms/{id}", ids, {}) for ids in terms],
    ]


def test_it_describes_real_records_as_the_schema_says(directory_data, fuzz_data):
    requests = real_requests(rich=fuzz_data)

    for path, path_parameters, query in requests:
        case = schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == 200, (path, path_parameters, query)
    assert len(requests) > 20
