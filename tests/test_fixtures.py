import json
import re
import uuid

import pytest
from django.apps import apps
from django.conf import settings

from resources.models import (
    Address,
    Language,
    Need,
    Organization,
    Phone,
    Population,
    PublishedName,
    Service,
    ServiceArea,
)
from resources.shipped import load_shipped
from tests.conftest import shared_path

FIXTURES = ["taxonomy", "directory"]

# slug: (organization slug, needs, populations), as the seed documents state them.
NAMED_PROGRAMS = {
    "national-human-trafficking-hotline": (
        "national-human-trafficking-hotline",
        {"crisis-hotlines"},
        {"all-survivors"},
    ),
    "human-trafficking-text-line": (
        "national-human-trafficking-hotline",
        {"crisis-hotlines"},
        {"all-survivors"},
    ),
    "rescue-restore-victim-assistance": (
        "office-on-trafficking-in-persons",
        {"case-management", "victim-identification"},
        {"women", "children"},
    ),
    "rescue-restore-training": (
        "office-on-trafficking-in-persons",
        {"professional-support", "professional-training"},
        {"professionals", "law-enforcement", "healthcare-providers", "social-service-providers"},
    ),
    "catw-survivor-assistance": (
        "coalition-against-trafficking-in-women",
        {"financial-assistance", "healthcare", "housing-shelter", "legal-aid"},
        {"women", "children", "sex-trafficking-survivors"},
    ),
    "caase-legal-services": (
        "chicago-alliance-against-sexual-exploitation",
        {"legal-aid", "criminal-record-relief", "legal-advocacy"},
        {"women", "criminalized-survivors", "sex-trafficking-survivors"},
    ),
    "iom-victim-identification": (
        "international-organization-for-migration",
        {"case-management", "victim-identification"},
        {"foreign-nationals"},
    ),
}

# slug: (needs, populations) of the kinds of help the seeds describe without a provider.
KINDS_OF_SERVICE = {
    "trauma-informed-counseling": (
        {"counseling-mental-health", "trauma-informed-counseling"},
        {"all-survivors"},
    ),
    "survivor-led-support-groups": (
        {"peer-support", "survivor-led-support-groups"},
        {"all-survivors"},
    ),
    "legal-aid-victim-status-records": (
        {"legal-aid", "immigration-legal-help", "criminal-record-relief"},
        {"all-survivors", "criminalized-survivors"},
    ),
    "survivor-health-care": (
        {"healthcare", "medical-care", "reproductive-sexual-health"},
        {"all-survivors"},
    ),
    "nonprofit-housing-counseling": (
        {"housing-shelter", "counseling-mental-health"},
        {"all-survivors"},
    ),
    "substance-use-treatment": ({"substance-use-treatment"}, {"all-survivors"}),
    "vocational-training-employment": (
        {"employment-education", "vocational-training", "job-placement", "education"},
        {"all-survivors"},
    ),
    "vicarious-trauma-support": (
        {"professional-support", "vicarious-trauma-support"},
        {"professionals", "law-enforcement", "healthcare-providers", "social-service-providers"},
    ),
    "counselor-training": (
        {"professional-support", "professional-training"},
        {"professionals", "counselors"},
    ),
    "trafficking-intervention-referral": (
        {"case-management", "victim-identification"},
        {"all-survivors"},
    ),
}

TOP_LEVEL_NEEDS = {
    "crisis-hotlines",
    "counseling-mental-health",
    "legal-aid",
    "housing-shelter",
    "healthcare",
    "substance-use-treatment",
    "case-management",
    "employment-education",
    "peer-support",
    "basic-needs",
    "professional-support",
}


def fixture_rows():
    for name in FIXTURES:
        path = settings.BASE_DIR / "fixtures" / f"{name}.json"
        yield from json.loads(path.read_text(encoding="utf-8"))


def slugs(queryset):
    return set(queryset.values_list("slug", flat=True))


def collapse_whitespace(text):
    return re.sub(r"\s+", " ", text).strip()


def snapshot():
    """Every row of every table the fixtures touch, m2m tables included.

    Leaves out Service.search_vector and filter_vector, and PublishedName: the search
    index derives them from the other tables; the fixtures do not load them.
    """
    derived = {"search_vector", "filter_vector"}
    tables = {}
    for model in apps.get_app_config("resources").get_models(include_auto_created=True):
        if model is PublishedName:
            continue
        columns = [f.attname for f in model._meta.concrete_fields if f.name not in derived]
        tables[model._meta.label] = list(model.objects.order_by("pk").values(*columns))
    return tables


@pytest.mark.parametrize("slug", NAMED_PROGRAMS)
def test_it_publishes_each_named_program_with_the_needs_and_populations_its_source_states(
    directory_data, slug
):
    organization, needs, populations = NAMED_PROGRAMS[slug]
    service = Service.objects.published().get(slug=slug)

    assert service.organization.slug == organization
    assert service.status == Service.Status.ACTIVE
    assert service.last_verified.isoformat() == "2026-11-21"
    assert slugs(service.needs) == needs
    assert slugs(service.populations) == populations
    assert service.description
    assert service.keywords


@pytest.mark.parametrize("slug", KINDS_OF_SERVICE)
def test_it_queues_each_kind_of_service_without_a_provider_for_review(directory_data, slug):
    needs, populations = KINDS_OF_SERVICE[slug]
    service = Service.objects.get(slug=slug)

    assert service.publication_state == "in_review"
    assert service.organization is None
    assert slugs(service.needs) == needs
    assert slugs(service.populations) == populations
    assert service.description


def test_it_holds_exactly_the_programs_and_kinds_of_service_of_the_seeds(directory_data):
    assert slugs(Service.objects.all()) == set(NAMED_PROGRAMS) | set(KINDS_OF_SERVICE)
    assert slugs(Service.objects.published()) == set(NAMED_PROGRAMS)
    assert slugs(Organization.objects.all()) == {
        "national-human-trafficking-hotline",
        "office-on-trafficking-in-persons",
        "coalition-against-trafficking-in-women",
        "chicago-alliance-against-sexual-exploitation",
        "international-organization-for-migration",
    }


def test_it_lists_the_national_human_trafficking_hotline_with_its_24_7_numbers(directory_data):
    hotline = Service.objects.get(slug="national-human-trafficking-hotline")
    text_line = Service.objects.get(slug="human-trafficking-text-line")

    assert {(p.type, p.number) for p in hotline.phones.all()} == {
        ("voice", "1-888-373-7888"),
        ("text", "233733"),
    }
    assert {(p.type, p.number) for p in text_line.phones.all()} == {("text", "233733")}
    for service in (hotline, text_line):
        assert [s.open_24_7 for s in service.schedules.all()] == [True]
        assert [a.extent for a in service.service_areas.all()] == ["nationwide"]
        location = service.service_at_locations.get().location
        assert location.name == "Hotline (phone and text)"
        assert location.location_type == "virtual"
        assert location.organization == hotline.organization


def test_it_limits_caase_legal_help_to_chicago(directory_data):
    area = ServiceArea.objects.get(service__slug="caase-legal-services")

    assert (area.extent, area.state, area.city) == ("city", "IL", "Chicago")


def test_it_invents_no_contact_details(directory_data):
    assert not Address.objects.exists()
    assert not Organization.objects.exclude(email="").exists()
    assert not Service.objects.exclude(email="").exists()
    assert set(Phone.objects.values_list("number", flat=True)) == {"1-888-373-7888", "233733"}


def test_it_cites_a_seed_document_and_passage_for_every_entry(directory_data):
    for entry in [*Service.objects.all(), *Organization.objects.all()]:
        assert entry.source_document, entry.slug
        assert entry.source_passage, entry.slug


def test_it_quotes_every_passage_verbatim_from_its_seed_document(directory_data):
    misquoted = []
    for entry in [*Service.objects.all(), *Organization.objects.all()]:
        seed = shared_path("seeds", entry.source_document).read_text(encoding="utf-8")
        if collapse_whitespace(entry.source_passage) not in collapse_whitespace(seed):
            misquoted.append(entry.slug)

    assert misquoted == []


def test_it_loads_only_objects_that_pass_full_clean(directory_data):
    for row in fixture_rows():
        model = apps.get_model(row["model"])
        model.objects.get(pk=row["pk"]).full_clean()


def test_it_keeps_the_ids_partners_see_stable(directory_data):
    for model in (Need, Population, Organization, Service):
        name = model._meta.model_name
        for pk, slug in model.objects.values_list("pk", "slug"):
            url = f"https://survivor-directory.invalid/{name}/{slug}"
            assert pk == uuid.uuid5(uuid.NAMESPACE_URL, url), url


def test_it_changes_nothing_when_the_fixtures_are_loaded_again(directory_data):
    before = snapshot()

    load_shipped()

    assert snapshot() == before


def test_it_offers_the_top_level_need_categories(directory_data):
    top_level = slugs(Need.objects.filter(parent=None))

    assert top_level == TOP_LEVEL_NEEDS
    assert not Need.objects.filter(description="").exists()
    assert not Population.objects.filter(description="").exists()


def test_it_publishes_no_service_without_needs_or_populations(directory_data):
    published = Service.objects.published()

    assert published.exists()
    assert not published.filter(needs=None).exists()
    assert not published.filter(populations=None).exists()


def test_it_offers_the_populations_and_languages_caseworkers_search_for(directory_data):
    assert {
        "women",
        "men",
        "transgender-nonbinary",
        "children",
        "youth",
        "families",
        "lgbtq",
        "foreign-nationals",
        "criminalized-survivors",
        "professionals",
        "all-survivors",
    } <= slugs(Population.objects.all())
    assert {"en", "es", "zh", "vi", "ko", "tl", "ar", "fr", "ru", "pt", "ht"} <= set(
        Language.objects.values_list("code", flat=True)
    )
