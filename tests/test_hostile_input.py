"""Hostile input to every route by every method: never a server error, never an echo a
browser would run.

Each kind of hostile input is a row of a table, sent to every route the URL configuration
holds (a route added later is sent it too). Every answer must be a normal one (2xx, 3xx)
or a refusal (4xx): a 5xx means the site failed on what a stranger typed. Each test
gathers every bad answer before failing, so that one run lists them all.
"""

import datetime
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from resources.filters import ServiceFilter
from resources.hsds.taxonomies import NEEDS
from resources.models import Location, Service
from tests.conftest import FormClient
from tests.factories import make_need, make_rich_service
from tests.test_safety import FORM_ROUTES, POST_ROUTES, routes

# These tests ask thousands of questions, past the limit for one client.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled")]

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE")
REFUSED_METHODS = ("PUT", "PATCH", "DELETE", "TRACE")  # no route takes these
CLIENT_ERRORS = frozenset(range(400, 500))
NORMAL_OR_CLIENT_ERROR = frozenset(range(200, 500))

SCRIPT = "<script>alert(1)</script>"
MARKUP = SCRIPT + "\" autofocus onfocus=\"alert(1)' autofocus onfocus='alert(1)"
# What an HTML answer holds where it echoes MARKUP unescaped.
UNESCAPED = ["<script>alert(1)", 'onfocus="alert(1)', "onfocus='alert(1)"]


@pytest.fixture(scope="module", autouse=True)
def schema_built_once():
    """The API's description comes from the code alone, the same for every request: it is
    built once here, not for each of the hundreds of requests below, the slowest the site
    answers. The views' own handling of their parameters still runs for every request."""
    built = {}
    build = SchemaGenerator.get_schema

    def get_schema(self, request=None, public=False):
        key = (self.urlconf, public)
        if key not in built:
            built[key] = build(self, request=request, public=public)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SchemaGenerator, "get_schema", get_schema)
        yield


@pytest.fixture
def client():
    # A server error is an answer to assert on, not an exception raised into the test.
    return FormClient(raise_request_exception=False)


# The routes, and the parameters each reads


FILTERS = [*ServiceFilter.base_filters]
HSDS_SERVICE_FILTERS = [
    "search",
    "postcode",
    "proximity",
    "modified_after",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "minimal",
]
V1_PAGES = ["page", "page_size"]
HSDS_PAGES = ["page", "per_page"]
SCHEMA = ["version", "lang", "format"]
PARAMETERS = {
    "resources:search": [*FILTERS, "page"],
    "resources:referral_add": ["service", "next"],
    "resources:referral_remove": ["service", "next"],
    "resources:referral_clear": ["next"],
    "resources:suggest": ["message", "website"],
    "admin:login": ["next", "username", "password"],
    "api:service-list": [*FILTERS, *V1_PAGES],
    "api:service-facets": FILTERS,
    "api:organization-list": V1_PAGES,
    "api:location-list": V1_PAGES,
    "api:need-list": V1_PAGES,
    "api:population-list": V1_PAGES,
    "api:language-list": V1_PAGES,
    "api:schema": SCHEMA,
    "api:docs": ["script", "version", "lang"],
    "api:hsds:openapi": SCHEMA,
    "api:hsds:service-list": [*HSDS_SERVICE_FILTERS, *HSDS_PAGES],
    "api:hsds:sal-list": [*HSDS_SERVICE_FILTERS, *HSDS_PAGES],
    "api:hsds:organization-list": ["search", "full", "full_service", *HSDS_PAGES],
    "api:hsds:organization-detail": ["full_service"],
    "api:hsds:taxonomy-list": ["search", *HSDS_PAGES],
    "api:hsds:taxonomy_term-list": ["search", "taxonomy_id", "parent_id", "top_only", *HSDS_PAGES],
}
# The admin's own, sent to every admin route (a visitor not signed in is sent to the login).
ADMIN_PARAMETERS = ["next", "q", "o", "p", "e", "_popup", "_to_field", "_changelist_filters"]
# The numbers each kind of list reads (the other lists page as these do).
NUMBERS = {
    "resources:search": ["page", "radius"],
    "api:service-list": ["page", "page_size", "radius"],
    "api:service-facets": ["radius"],
    "api:organization-list": V1_PAGES,
    "api:hsds:service-list": ["page", "per_page", "proximity"],
    "api:hsds:taxonomy_term-list": HSDS_PAGES,
}
# What a number needs beside it to be read at all.
NUMBER_NEEDS = {"radius": "&near=60601", "proximity": "&postcode=60601"}
# Where modified_after is read.
MODIFIED_AFTER = [
    "/",
    "/api/v1/services/",
    "/api/v1/services/facets/",
    "/api/hsds/services",
    "/api/hsds/service_at_locations",
]


@dataclass(frozen=True)
class Url:
    path: str
    name: str
    pattern: str

    @property
    def admin(self):
        # The staff's pages: the admin, and a draft's preview (a 404 to anyone else).
        return self.name.startswith("admin:") or self.name == "resources:service_preview"

    @property
    def api(self):
        return self.name.startswith("api:")

    @property
    def takes_post(self):
        return self.name in POST_ROUTES | FORM_ROUTES or self.name == "admin:login"

    @property
    def format_suffix(self):
        return "(?P<format>" in self.pattern or "<drf_format_suffix:" in self.pattern

    @property
    def parameters(self):
        """The parameters the route reads (every API route reads DRF's `format`)."""
        return [*PARAMETERS.get(self.name, []), *(["format"] if self.api else [])]

    @property
    def every_parameter(self):
        """…and the admin's, and one no route reads."""
        return [*self.parameters, *(ADMIN_PARAMETERS if self.admin else []), "unknown"]


def concrete(pattern, kwargs):
    """A path matching a route's pattern (of path() or re_path() syntax) with these kwargs."""
    pattern = pattern.replace("<drf_format_suffix:format>", ".<format>")  # it holds the dot
    pattern = pattern.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")
    kwarg = r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>"
    return "/" + re.sub(kwarg, lambda m: kwargs[m.group(1) or m.group(2)], pattern)


class Site:
    """A published service with one of everything, and a URL for every route that names
    its records, so that each view reads its parameters rather than answering 404 first."""

    def __init__(self):
        self.service = make_rich_service(name="Legal clinic", slug="legal-clinic")
        need = self.service.needs.get()
        make_need(name="Housing", slug="housing", parent=need)
        office = Location.objects.get(
            service_at_locations__service=self.service, confidential=False
        )
        self.by_route = {
            "api:organization-detail": self.service.organization_id,
            "api:location-detail": office.pk,
            "api:hsds:organization-detail": self.service.organization_id,
            "api:hsds:sal-detail": self.service.service_at_locations.first().pk,
            "api:hsds:taxonomy-detail": NEEDS.id,
            "api:hsds:taxonomy_term-detail": need.pk,
            "api:population-detail": self.service.populations.get().slug,
            "resources:organization": self.service.organization.slug,
            "resources:service": self.service.slug,
            "resources:suggest": self.service.slug,
            "resources:suggest_thanks": self.service.slug,
            "resources:service_preview": self.service.slug,
        }
        self.by_name = {
            "pk": self.service.pk,
            "id": self.service.pk,
            "object_id": self.service.pk,
            "slug": need.slug,
            "code": "en",
            "format": "json",
            "app_label": "resources",
            "content_type_id": "1",
            "url": "nowhere/",
            "version_id": "1",
            "name": "publish",
        }
        self.urls = [
            Url(concrete(route.pattern, self.kwargs(route)), route.name, route.pattern)
            for route in routes()
        ]
        for url in self.urls:
            resolve(url.path)  # a path its route really matches
        assert len(self.urls) > 150, len(self.urls)

    def kwargs(self, route):
        def value(name):
            if name == "format":
                return self.by_name[name]
            return self.by_route.get(route.name, self.by_name[name])

        return {name: str(value(name)) for name in route.kwargs}

    @property
    def views(self):
        """A URL for every view: not the format suffixes (services.json), and of the admin's
        pages for each model, only those for services. Each stands for others that run the
        same code, which the sweeps of every route by every method reach."""
        return [url for url in self.urls if not url.format_suffix and not other_models(url)]


def other_models(url):
    model = re.match(r"admin/(\w+)/(\w+)/", url.pattern)
    return bool(model) and model.groups() != ("resources", "service")


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """Made once for the module; each test runs in a savepoint of this transaction."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield Site()
        transaction.set_rollback(True)


# Asking, and judging the answers


def ask(client, method, path, query="", body=b"", content_type="application/octet-stream", **kw):
    """`query` goes into the request as it is: raw bytes and broken escapes included."""
    extra = {"QUERY_STRING": query} if query else {}
    return client.generic(method, path, body, content_type=content_type, **kw, **extra)


def is_html(response):
    return response.get("Content-Type", "").startswith("text/html")


def off_site(location):
    parts = urlsplit(location)
    return (
        parts.scheme not in ("", "http", "https")
        or parts.netloc not in ("", "testserver")
        or parts.path.startswith(("//", "/\\"))  # which browsers read as another host
    )


class Answers:
    """The bad answers seen, to fail once with all of them."""

    def __init__(self):
        self.bad = []

    def check(self, response, where, expect=NORMAL_OR_CLIENT_ERROR):
        status = response.status_code
        if status not in expect:
            self.bad.append(f"{status} {where}")
            return
        if is_html(response):
            body = response.content.decode(errors="replace")
            for marker in UNESCAPED:
                if marker in body:
                    self.bad.append(f"{status} echoes {marker!r} unescaped: {where}")
        location = response.get("Location", "")
        if off_site(location):
            self.bad.append(f"{status} sends the visitor off-site to {location!r}: {where}")

    def assert_all_good(self):
        shown = "\n".join(self.bad[:80])
        more = f"\n… and {len(self.bad) - 80} more" if len(self.bad) > 80 else ""
        assert not self.bad, f"{len(self.bad)} bad answers:\n{shown}{more}"


@pytest.fixture
def answers():
    return Answers()


def encoded(text):
    return quote(text, safe="")


def test_every_address_asked_names_a_real_record(client, site, answers):
    # Else the sweeps below would stop at a 404, short of the code they mean to reach.
    for url in site.views:
        if not url.admin and not url.takes_post:
            answers.check(client.get(url.path), f"GET {url.path}", expect={200})
    answers.assert_all_good()


# Hostile values in parameters


# As they are sent in a query string or a form: percent-encoded, but for the encoding
# that is itself the attack.
BROKEN_ENCODINGS = (
    "%ff%fe"  # not UTF-8
    "%c0%af%e0%80%af"  # overlong UTF-8
    "%ed%a0%80%f4%90%80%80"  # a surrogate, and past the last code point
    "%zz%"  # broken percent-encoding
    "\xff\xfe"  # raw bytes on the wire, not percent-encoded (latin-1 text stands for them)
)
HOSTILE_VALUES = {
    "NUL": "a%00b",
    "markup and CR LF": encoded(MARKUP) + "%0d%0aSet-Cookie:%20hostile=1",
    "SQL, search operators, broken encodings and odd Unicode": encoded(
        "' OR '1'='1' -- ; SELECT pg_sleep(10); !(a & b) | c:* <-> %_\\ "
        "\u202egnp.exe \ufeff" + "a" + "\u0301" * 2000 + "\U0001f600"
    )
    + BROKEN_ENCODINGS,
    "oversized (100 KB)": "a" * 100_000,
}
# For the sweep of every route by every method, each in every parameter at once.
METHOD_SWEEP = {
    "NUL": "a%00b",
    "markup, CR LF and broken encodings": encoded(MARKUP) + "%0d%0a" + BROKEN_ENCODINGS,
}


@pytest.mark.parametrize("case", HOSTILE_VALUES)
def test_every_parameter_of_every_route_takes_a_hostile_value(client, site, answers, case):
    value = HOSTILE_VALUES[case]
    form = {"service": str(site.service.pk), "next": "/"}
    for url in site.views:
        for name in url.parameters:
            method = "POST" if url.takes_post and not url.admin else "GET"
            response = ask(client, method, url.path, f"{name}={value}")
            answers.check(response, f"{method} {url.path}?{name}={case}")
            if url.takes_post:  # in the form too, beside values that are right
                body = "&".join(f"{key}={v}" for key, v in {**form, name: value}.items())
                response = ask(
                    client,
                    "POST",
                    url.path,
                    body=body.encode("latin-1"),
                    content_type="application/x-www-form-urlencoded",
                )
                answers.check(response, f"POST {url.path} form {name}={case}")
    answers.assert_all_good()


@pytest.mark.parametrize("case", METHOD_SWEEP)
def test_every_method_on_every_route_takes_a_hostile_query_string(client, site, answers, case):
    value = METHOD_SWEEP[case]
    for url in site.views:
        query = "&".join(f"{name}={value}" for name in url.every_parameter)
        for method in METHODS:
            answers.check(ask(client, method, url.path, query), f"{method} {url.path}?…={case}")
    answers.assert_all_good()


PATH_VALUES = {
    "NUL": "\x00",
    "CR LF": "a\r\nb",
    "markup and SQL": MARKUP.replace("/", "") + "' OR '1'='1",
    "non-UTF-8": "\udcff\udcfe..",  # sent as the raw bytes 0xFF 0xFE
    "oversized (10 KB)": "a" * 10_000,
}


@pytest.mark.parametrize("case", PATH_VALUES)
def test_every_route_takes_a_hostile_value_in_its_address(client, site, answers, case):
    views = {url.pattern for url in site.views}
    for route in routes():
        if route.pattern not in views:
            continue
        for name in route.kwargs:
            kwargs = {**site.kwargs(route), name: PATH_VALUES[case]}
            path = concrete(route.pattern, kwargs).encode("utf-8", "surrogateescape")
            path = quote(path, safe="/")
            answers.check(ask(client, "GET", path), f"GET {path[:100]} ({name}={case})")
    answers.assert_all_good()


def test_too_many_parameters_are_refused_or_ignored(client, site, answers):
    query = "&".join(f"p{n}=1" for n in range(5000))
    for url in site.views:
        method = "POST" if url.takes_post else "GET"
        answers.check(ask(client, method, url.path, query), f"{method} {url.path}?p0..p4999")
    answers.assert_all_good()


# Numbers: pages, page sizes and distances


NUMBER_VALUES = [
    str(10**30),
    "-1",
    "0",
    "abc",
    "NaN",
    "1e309",
    "9" * 5000,  # more digits than Python's int() reads
    "",
]


@pytest.mark.parametrize("value", NUMBER_VALUES, ids=lambda value: value[:12])
def test_a_number_out_of_range_or_malformed_is_a_page_or_a_refusal(client, site, answers, value):
    for url in site.views:
        for name in NUMBERS.get(url.name, []):
            query = f"{name}={encoded(value)}{NUMBER_NEEDS.get(name, '')}"
            # The search page shows the nearest page, and says why.
            expect = {200} if name == "page" and not url.api else NORMAL_OR_CLIENT_ERROR
            answers.check(ask(client, "GET", url.path, query), f"GET {url.path}?{query}", expect)
    answers.assert_all_good()


# modified_after: any offset ISO 8601 allows, up to a day either way


OFFSETS = ["Z", "+05:30", "-15:59", "+16:00", "-16:00", "+23:59", "-23:59", "+2359", "-23"]


def test_modified_after_takes_any_utc_offset_iso_8601_allows(client, site, answers):
    for offset in OFFSETS:
        for path in MODIFIED_AFTER:
            response = client.get(path, {"modified_after": f"2026-01-01T00:00:00{offset}"})
            answers.check(response, f"GET {path}?modified_after=2026-01-01T00:00:00{offset}", {200})
    answers.assert_all_good()


@pytest.mark.parametrize("offset", ["+16:00", "+23:59", "-23:59"])
def test_modified_after_is_the_instant_its_offset_names(client, site, offset):
    changed = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    Service.objects.filter(pk=site.service.pk).update(modified=changed)
    sign = 1 if offset[0] == "+" else -1
    zone = datetime.timezone(
        sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    )
    lists = [path for path in MODIFIED_AFTER if "facets" not in path]

    def listed(instant):
        since = instant.astimezone(zone).isoformat()
        assert since.endswith(offset)
        return [
            path
            for path in lists
            if site.service.name in client.get(path, {"modified_after": since}).content.decode()
        ]

    assert listed(changed - datetime.timedelta(minutes=1)) == lists
    assert listed(changed + datetime.timedelta(minutes=1)) == []


NOT_AN_INSTANT = [
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00-24:00",
    "2026-01-01T00:00:00+23:60",
    "2026-01-01T00:00:00+99:99",
    "2026-01-01T24:00:01",
    "2026-02-30",
    "2026-03-08T02:30:00",  # an hour the clocks skip in the site's time zone
    "0000-01-01",
    "10000-01-01",
    "0001-01-01T00:00:00+23:59",  # before year 1 in the site's time zone
    "9999-12-31T23:59:59-23:59",  # after year 9999 there
]


def test_modified_after_refuses_what_names_no_instant_and_says_so(client, site, answers):
    for value in NOT_AN_INSTANT:
        for path in MODIFIED_AFTER:
            response = client.get(path, {"modified_after": value})
            answers.check(response, f"GET {path}?modified_after={value}", expect={400})
            if response.status_code == 400 and "modified_after" not in response.text:
                answers.bad.append(f"400 not naming modified_after: {path}?modified_after={value}")
    answers.assert_all_good()


def test_modified_after_takes_the_ends_of_the_calendar(client, site, answers):
    for value in ["0001-01-01", "0001-01-03T00:00:00+23:59", "9999-12-29T23:59:59-23:59"]:
        for path in MODIFIED_AFTER:
            response = client.get(path, {"modified_after": value})
            answers.check(response, f"GET {path}?modified_after={value}", expect={200})
    answers.assert_all_good()


# The API's description and documentation


DESCRIPTIONS = ["/api/schema/", "/api/hsds/openapi.json", "/api/docs/"]
DESCRIPTION_QUERIES = [
    "version=%0d%0a",
    "version=a%0d%0aSet-Cookie:%20x=1%00" + encoded(MARKUP),
    "format=%0d%0a",
    "format=xml",
    "format=" + encoded(MARKUP),
    "lang=%0d%0a",
    "lang=%00",
    "lang=" + encoded(MARKUP),
    "lang=" + "a" * 10_000,
]


def test_the_api_description_takes_junk_versions_formats_and_languages(client, answers):
    for query in DESCRIPTION_QUERIES:
        for path in DESCRIPTIONS:
            answers.check(ask(client, "GET", path, query), f"GET {path}?{query[:60]}")
        docs_script = f"script=&{query}"  # the documentation's start-up script
        answers.check(ask(client, "GET", "/api/docs/", docs_script), f"GET /api/docs/?{query[:60]}")
    answers.assert_all_good()


def test_options_on_every_api_route_is_an_answer(client, site, answers):
    for url in site.urls:
        if url.api:
            answers.check(ask(client, "OPTIONS", url.path), f"OPTIONS {url.path}", {200, 405})
    answers.assert_all_good()


# Conditional requests


IF_NONE_MATCH = [
    "garbage",
    '"unbalanced',
    "*",
    'W/"',
    'W/W/"x"',
    '"a", ,, "b" "c"',
    '*, "a"',
    ", ".join(f'W/"{n}"' for n in range(2_000)),
    '"\x7f\x80\xff"',
]
HUGE_ETAG = '"' + "x" * 100_000 + '"'
# The API's answers all pass through one conditional-request mixin: these stand for all.
CONDITIONAL = ["/api/v1/services/", "/api/v1/needs/", "/api/hsds/services", "/api/hsds/"]


def test_a_malformed_if_none_match_is_an_answer(client, site, answers):
    for header in IF_NONE_MATCH:
        for path in CONDITIONAL:
            response = client.get(path, headers={"If-None-Match": header})
            answers.check(response, f"GET {path} If-None-Match: {header[:30]!r}")
    for url in site.views:
        response = ask(client, "GET", url.path, headers={"If-None-Match": HUGE_ETAG})
        answers.check(response, f"GET {url.path} with an If-None-Match of 100 KB")
    answers.assert_all_good()


def test_a_malformed_if_none_match_is_no_match(client, site):
    for header in [*IF_NONE_MATCH, HUGE_ETAG]:
        if not header.startswith("*"):
            response = client.get("/api/v1/services/", headers={"If-None-Match": header})
            assert response.status_code == 200, header[:30]


# Bodies: the site takes no uploads


def multipart(size):
    boundary = "hostileboundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="service"\r\n\r\n'
        "{service}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="../../x.html"\r\n'
        "Content-Type: text/html\r\n\r\n"
        f"{'a' * size}{SCRIPT}\r\n"
        f"--{boundary}--\r\n"
    )
    return body, f"multipart/form-data; boundary={boundary}"


TEN_MB = 10 * 1024 * 1024
BODIES = {
    "small multipart form": multipart(10),
    "10 MB multipart upload": multipart(TEN_MB),
    "10 MB form": (
        f"service={{service}}&next=/&pad={'a' * TEN_MB}",
        "application/x-www-form-urlencoded",
    ),
    "10 MB of JSON": (f'{{"service": "{{service}}", "pad": "{"a" * TEN_MB}"}}', "application/json"),
}


@pytest.mark.parametrize("case", BODIES)
def test_every_route_refuses_an_upload_by_every_method(client, site, answers, case):
    template, content_type = BODIES[case]
    body = template.replace("{service}", str(site.service.pk)).encode()
    for url in site.views:
        for method in METHODS:
            response = ask(client, method, url.path, body=body, content_type=content_type)
            answers.check(response, f"{method} {url.path} with a {case}", CLIENT_ERRORS)
    answers.assert_all_good()


# Methods


def test_every_route_refuses_the_methods_it_does_not_take(client, site, answers):
    # As a browser's request would, without the admin's CSRF token: its login would
    # otherwise take PUT for POST.
    admin_client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    for url in site.urls:
        for method in REFUSED_METHODS:
            if url.admin:  # a visitor not signed in is sent to the login first
                response = ask(admin_client, method, url.path)
                answers.check(response, f"{method} {url.path}", {302, 403, 405})
            else:
                answers.check(ask(client, method, url.path), f"{method} {url.path}", {405})
        if not url.takes_post and not url.admin:
            answers.check(ask(client, "POST", url.path), f"POST {url.path}", {405})
    answers.assert_all_good()


# The list's buttons send a visitor back to `next`


OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:%20x=1",
    "/\r\nSet-Cookie: x=1",
    " https://evil.example/",
    "\x00/",
    "http:evil.example",
    "https:/evil.example",
]


def test_a_next_address_never_sends_the_visitor_off_site(client, site, answers):
    for next_url in OFF_SITE:
        for url in site.views:
            if url.name in POST_ROUTES:
                response = client.post(url.path, {"service": site.service.pk, "next": next_url})
                answers.check(response, f"POST {url.path} next={next_url!r}", expect={302})
    answers.assert_all_good()


# The admin, for a signed-in curator


def filter_parameter(model, name):
    """The parameter of the admin's list filter on this field."""
    field = model._meta.get_field(name)
    return f"{name}__{field.target_field.name}__exact" if field.is_relation else f"{name}__exact"


def test_the_admin_lists_take_hostile_searches_filters_and_orders(
    client, site, admin_user, answers
):
    client.force_login(admin_user)
    for model, model_admin in admin.site._registry.items():
        path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        filters = [
            filter_parameter(model, name)
            for name in model_admin.list_filter
            if isinstance(name, str)
        ]
        for name in ["q", "o", *filters]:
            response = ask(client, "GET", path, f"{name}={HOSTILE_VALUES['NUL']}")
            answers.check(response, f"GET {path}?{name}=NUL (signed in)")
        response = ask(client, "GET", path, f"q={HOSTILE_VALUES['markup and CR LF']}")
        answers.check(response, f"GET {path}?q=markup (signed in)")
    answers.assert_all_good()
