import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.management import call_command

from resources.filters import ServiceFilter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle_counts(db):
    cache.clear()


@pytest.fixture
def api_schema(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.parametrize("urlconf", [[], ["--urlconf", "resources.hsds.urls"]])
def test_it_generates_a_valid_schema_without_warnings(tmp_path, urlconf):
    path = tmp_path / "schema.yaml"

    # Raises (and fails the test) on any warning or validation error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path), *urlconf)

    assert path.read_text().startswith("openapi: 3.0.3")


def test_it_serves_the_schema(api_schema):
    assert api_schema["openapi"] == "3.0.3"
    assert {"/api/v1/services/", "/api/v1/services/{id}/", "/api/hsds/services"} <= set(
        api_schema["paths"]
    )
    assert all(list(operations) == ["get"] for operations in api_schema["paths"].values())


def test_it_describes_every_error_a_partner_may_get(api_schema):
    for path, operations in api_schema["paths"].items():
        responses = operations["get"]["responses"]
        assert {"200", "304", "405", "429"} <= set(responses), path
        assert responses["429"]["headers"]["Retry-After"]["required"] is True
        assert set(responses["200"]["headers"]) == {
            "ETag",
            "Cache-Control",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        }
        for code in ["404", "405", "429"]:
            if code in responses:
                assert responses[code]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
        # The change feed is no paged list: it has a cursor, and no page to miss.
        is_list = not path.endswith(("}/", "}", "/facets/")) and path not in (
            "/api/hsds/",
            "/api/v1/changes/",
            "/api/hsds/changes",
        )
        if is_list:
            assert {"400", "404"} <= set(responses), path
    assert "400" in api_schema["paths"]["/api/v1/services/facets/"]["get"]["responses"]
    assert "400" in api_schema["paths"]["/api/v1/changes/"]["get"]["responses"]
    assert "410" in api_schema["paths"]["/api/v1/services/{id}/"]["get"]["responses"]


def test_it_documents_the_search_filters_and_page_limits(api_schema):
    parameters = {
        p["name"]: p for p in api_schema["paths"]["/api/v1/services/"]["get"]["parameters"]
    }

    assert set(ServiceFilter.base_filters) <= set(parameters)
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert parameters["need"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert parameters["postal_code"]["schema"]["pattern"] == r"^\d{5}$"
    assert set(parameters["ordering"]["schema"]["enum"]) == {
        "relevance",
        "distance",
        "name",
        "-name",
        "recently_verified",
        "recently_modified",
    }


def test_it_serves_the_docs_without_inline_scripts(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts
    assert all('src="' in tag for tag in scripts)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    start_up = client.get("/api/docs/", {"script": ""})
    assert start_up.status_code == 200
    assert start_up["Content-Type"] == "application/javascript"
    assert "/api/schema/" in start_up.content.decode()


def test_it_serves_the_docs_assets_itself(client):
    html = client.get("/api/docs/").content.decode()

    assets = re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset  # never another host
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset


def test_anonymous_use_needs_no_security_so_generated_clients_are_plain(api_schema):
    assert "security" not in api_schema
    for path, operations in api_schema["paths"].items():
        assert "security" not in operations["get"], path
    assert not api_schema.get("components", {}).get("securitySchemes")


def test_the_list_shapes_are_typed_and_every_error_is_one_schema(api_schema):
    schemas = api_schema["components"]["schemas"]

    def resolve(schema):
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    listed = api_schema["paths"]["/api/hsds/services"]["get"]["responses"]["200"]
    page = resolve(listed["content"]["application/json"]["schema"])
    item = resolve(page["properties"]["contents"]["items"])
    shapes = {ref["$ref"].rsplit("/", 1)[1] for ref in item["anyOf"]}
    assert shapes == {"HsdsServiceList", "HsdsService", "HsdsMinimalService"}

    errors = set()
    for operations in api_schema["paths"].values():
        for code, response in operations["get"]["responses"].items():
            if code.startswith("4"):
                errors.add(response["content"]["application/json"]["schema"]["$ref"])
    assert errors == {"#/components/schemas/Error"}
    assert schemas["Error"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }
