import json
import re
import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.db.models import Count

from resources.models import (
    Address,
    Language,
    Need,
    Organization,
    Phone,
    Population,
    PublishedName,
    Schedule,
    Service,
    ServiceArea,
)
from resources.shipped import load_shipped
from tests.conftest import shared_path

FIXTURES = ["taxonomy", "directory"]


@pytest.fixture
def directory_data(directory_for_module):
    """The shipped directory, loaded once for the module's many checks."""


SEED_DOCUMENTS = {
    "000_ed6677506f415cb1.txt",
    "001_b34fbff69e675bed.txt",
    "002_4aaeb625b6a95cb9.txt",
    "003_cc35cbdc9dd13d08.txt",
    "004_bb7430ca3a33e6de.txt",
}

# slug: (organization slug, needs, populations), as the seed documents state them.
NAMED_PROGRAMS = {
    "national-human-trafficking-hotline": (
        "national-human-trafficking-hotline",
        {"crisis-hotlines", "victim-identification"},
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

# Free national services a caseworker anywhere in the US can send a client to today, for the
# kinds of help the seeds describe. slug: (organization slug, needs, populations, the seed
# document whose passage describes that kind of help, its web address, and its key phones
# as (type, number), or none for a web locator; a service with phones answers 24/7).
NATIONAL_SERVICES = {
    "988-suicide-crisis-lifeline": (
        "988-suicide-crisis-lifeline",
        {"crisis-hotlines", "counseling-mental-health"},
        {"all-survivors"},
        "002_4aaeb625b6a95cb9.txt",
        "https://988lifeline.org/",
        {("voice", "988"), ("text", "988")},
    ),
    "crisis-text-line": (
        "crisis-text-line",
        {"crisis-hotlines", "counseling-mental-health"},
        {"all-survivors"},
        "003_cc35cbdc9dd13d08.txt",
        "https://www.crisistextline.org/",
        {("text", "741741")},
    ),
    "samhsa-national-helpline": (
        "substance-abuse-and-mental-health-services-administration",
        {"substance-use-treatment", "counseling-mental-health"},
        {"all-survivors", "families"},
        "002_4aaeb625b6a95cb9.txt",
        "https://www.samhsa.gov/find-help/national-helpline",
        {("voice", "1-800-662-4357"), ("textphone", "1-800-487-4889")},
    ),
    "rainn-national-sexual-assault-hotline": (
        "rainn",
        {"crisis-hotlines", "counseling-mental-health"},
        {"sex-trafficking-survivors"},
        "002_4aaeb625b6a95cb9.txt",
        "https://rainn.org/",
        {("voice", "1-800-656-4673")},
    ),
    "national-domestic-violence-hotline": (
        "national-domestic-violence-hotline",
        {"crisis-hotlines", "emergency-shelter"},
        {"all-survivors"},
        "000_ed6677506f415cb1.txt",
        "https://www.thehotline.org/",
        {("voice", "1-800-799-7233"), ("text", "88788"), ("textphone", "1-800-787-3224")},
    ),
    "childhelp-national-child-abuse-hotline": (
        "childhelp",
        {"crisis-hotlines", "counseling-mental-health"},
        {"children", "youth", "families"},
        "003_cc35cbdc9dd13d08.txt",
        "https://www.childhelphotline.org/",
        {("voice", "1-800-422-4453"), ("text", "1-800-422-4453")},
    ),
    "national-runaway-safeline": (
        "national-runaway-safeline",
        {"crisis-hotlines", "emergency-shelter"},
        {"youth", "children", "families"},
        "003_cc35cbdc9dd13d08.txt",
        "https://www.1800runaway.org/",
        {("voice", "1-800-786-2929")},
    ),
    "trevor-project-crisis-support": (
        "the-trevor-project",
        {"crisis-hotlines", "counseling-mental-health"},
        {"lgbtq", "youth"},
        "002_4aaeb625b6a95cb9.txt",
        "https://www.thetrevorproject.org/get-help/",
        {("voice", "1-866-488-7386"), ("text", "678678")},
    ),
    "ncmec-cybertipline": (
        "national-center-for-missing-and-exploited-children",
        {"crisis-hotlines", "report-exploitation"},
        {"children", "youth", "families"},
        "004_bb7430ca3a33e6de.txt",
        "https://report.cybertip.org/",
        {("voice", "1-800-843-5678")},
    ),
    "immigration-law-help": (
        "immigration-advocates-network",
        {"legal-aid", "immigration-legal-help"},
        {"foreign-nationals"},
        "003_cc35cbdc9dd13d08.txt",
        "https://www.immigrationlawhelp.org/",
        set(),
    ),
    "lsc-find-legal-aid": (
        "legal-services-corporation",
        {"legal-aid"},
        {"all-survivors"},
        "003_cc35cbdc9dd13d08.txt",
        "https://www.lsc.gov/about-lsc/what-legal-aid/get-legal-help",
        set(),
    ),
    "hrsa-find-a-health-center": (
        "health-resources-and-services-administration",
        {"healthcare", "medical-care"},
        {"all-survivors", "families"},
        "003_cc35cbdc9dd13d08.txt",
        "https://findahealthcenter.hrsa.gov/",
        set(),
    ),
    "cdc-gettested": (
        "centers-for-disease-control-and-prevention",
        {"healthcare", "reproductive-sexual-health"},
        {"all-survivors"},
        "003_cc35cbdc9dd13d08.txt",
        "https://gettested.cdc.gov/",
        set(),
    ),
    "careeronestop": (
        "us-department-of-labor",
        {"employment-education", "vocational-training", "job-placement"},
        {"all-survivors"},
        "003_cc35cbdc9dd13d08.txt",
        "https://www.careeronestop.org/",
        set(),
    ),
    "ovc-vicarious-trauma-toolkit": (
        "office-for-victims-of-crime",
        {"professional-support", "vicarious-trauma-support"},
        {"professionals", "law-enforcement", "healthcare-providers", "social-service-providers"},
        "002_4aaeb625b6a95cb9.txt",
        "https://ovc.ojp.gov/program/vtt/introduction",
        set(),
    ),
    "nhttac-soar-training": (
        "office-on-trafficking-in-persons",
        {"professional-support", "professional-training"},
        {"professionals", "healthcare-providers", "social-service-providers", "counselors"},
        "000_ed6677506f415cb1.txt",
        "https://nhttac.acf.hhs.gov/soar",
        set(),
    ),
    "dhs-blue-campaign": (
        "us-department-of-homeland-security",
        {"learning-the-signs", "professional-training"},
        {"community-members", "professionals"},
        "004_bb7430ca3a33e6de.txt",
        "https://www.dhs.gov/blue-campaign",
        set(),
    ),
    "crisis-text-line-volunteer": (
        "crisis-text-line",
        {"volunteering"},
        {"community-members"},
        "004_bb7430ca3a33e6de.txt",
        "https://www.crisistextline.org/volunteer/",
        set(),
    ),
    "dial-211": (
        "united-way-worldwide",
        {"basic-needs", "food-clothing", "financial-assistance", "housing-shelter"},
        {"all-survivors", "families"},
        "003_cc35cbdc9dd13d08.txt",
        "https://www.211.org/",
        {("voice", "211")},
    ),
}
# 211 centres keep their own hours: no schedule is claimed for it.
NOT_24_7 = {"dial-211"}

# slug: (needs, populations, the published national services covering it meanwhile) of the
# kinds of help the seeds describe without a provider.
KINDS_OF_SERVICE = {
    "trauma-informed-counseling": (
        {"counseling-mental-health", "trauma-informed-counseling"},
        {"all-survivors"},
        {
            "samhsa-national-helpline",
            "rainn-national-sexual-assault-hotline",
            "988-suicide-crisis-lifeline",
        },
    ),
    "survivor-led-support-groups": (
        {"peer-support", "survivor-led-support-groups"},
        {"all-survivors"},
        {"national-human-trafficking-hotline"},
    ),
    "legal-aid-victim-status-records": (
        {"legal-aid", "immigration-legal-help", "criminal-record-relief"},
        {"all-survivors", "criminalized-survivors"},
        {"immigration-law-help", "lsc-find-legal-aid"},
    ),
    "survivor-health-care": (
        {"healthcare", "medical-care", "reproductive-sexual-health"},
        {"all-survivors"},
        {"hrsa-find-a-health-center", "cdc-gettested"},
    ),
    "nonprofit-housing-counseling": (
        {"housing-shelter", "counseling-mental-health"},
        {"all-survivors"},
        {"dial-211", "national-domestic-violence-hotline"},
    ),
    "substance-use-treatment": (
        {"substance-use-treatment"},
        {"all-survivors"},
        {"samhsa-national-helpline"},
    ),
    "vocational-training-employment": (
        {"employment-education", "vocational-training", "job-placement", "education"},
        {"all-survivors"},
        {"careeronestop"},
    ),
    "vicarious-trauma-support": (
        {"professional-support", "vicarious-trauma-support"},
        {"professionals", "law-enforcement", "healthcare-providers", "social-service-providers"},
        {"ovc-vicarious-trauma-toolkit"},
    ),
    "counselor-training": (
        {"professional-support", "professional-training"},
        {"professionals", "counselors"},
        {"nhttac-soar-training"},
    ),
    "trafficking-intervention-referral": (
        {"case-management", "victim-identification"},
        {"all-survivors"},
        {"national-human-trafficking-hotline"},
    ),
    "trafficking-awareness-education": (
        {"prevention-involvement", "learning-the-signs"},
        {"youth", "families", "community-members"},
        {"dhs-blue-campaign"},
    ),
    "community-anti-trafficking-volunteering": (
        {"prevention-involvement", "volunteering"},
        {"community-members"},
        {"crisis-text-line-volunteer"},
    ),
}

# No national service runs survivor-led groups: meanwhile the hotline refers survivors to
# the local programs that do. Every other cover offers the kind of help it covers.
COVERED_WITHOUT_THE_SAME_NEED = {
    ("survivor-led-support-groups", "national-human-trafficking-hotline")
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
    "prevention-involvement",
}

ORGANIZATIONS = {
    "national-human-trafficking-hotline",
    "office-on-trafficking-in-persons",
    "coalition-against-trafficking-in-women",
    "chicago-alliance-against-sexual-exploitation",
    "international-organization-for-migration",
    *(organization for organization, *_ in NATIONAL_SERVICES.values()),
}

# The passage the text line cited before it merged into the hotline: it must stay cited.
TEXT_LINE_PASSAGE = (
    "Apps and text lines provide essential access to support services while simultaneously "
    "enhancing their safety."
)

# How the seeds' authors quote the exploiters; a national service cites what is offered.
EXPLOITERS_WORDS = re.compile(r"pimp|bottoms|prostitut", re.IGNORECASE)


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
    assert slugs(service.needs) == needs
    assert slugs(service.populations) == populations
    assert service.description
    assert service.keywords


@pytest.mark.parametrize("slug", NATIONAL_SERVICES)
def test_it_publishes_each_national_service_with_its_contact_area_and_hours(directory_data, slug):
    organization, needs, populations, document, url, phones = NATIONAL_SERVICES[slug]
    service = Service.objects.published().get(slug=slug)

    assert service.organization.slug == organization
    assert service.organization.website.startswith("https://")
    assert service.status == Service.Status.ACTIVE
    assert slugs(service.needs) == needs
    assert slugs(service.populations) == populations
    assert (service.url, service.source_url) == (url, url)
    assert service.source_document == document
    assert {(p.type, p.number) for p in service.phones.all()} == phones
    assert [(a.extent, a.state, a.county, a.city) for a in service.service_areas.all()] == [
        ("nationwide", "", "", "")
    ]
    if phones and slug not in NOT_24_7:
        assert [(s.open_24_7, s.weekday) for s in service.schedules.all()] == [(True, None)]
    else:
        assert not service.schedules.exists()  # no hours are claimed for a locator
    assert service.fees_description.startswith("Free") or slug == "nhttac-soar-training"
    assert service.description
    assert service.keywords


def test_it_describes_text_lines_by_what_people_text(directory_data):
    expected = {
        ("crisis-text-line", "741741"): "Text HOME to 741741.",
        ("national-domestic-violence-hotline", "88788"): "Text START to 88788.",
        ("trevor-project-crisis-support", "678678"): "Text START to 678-678.",
    }
    for (slug, number), description in expected.items():
        phone = Phone.objects.get(service__slug=slug, type="text", number=number)
        assert phone.description == description


@pytest.mark.parametrize("slug", KINDS_OF_SERVICE)
def test_it_queues_each_kind_of_service_without_a_provider_for_review(directory_data, slug):
    needs, populations, _ = KINDS_OF_SERVICE[slug]
    service = Service.objects.get(slug=slug)

    assert service.publication_state == "in_review"
    assert service.organization is None
    assert slugs(service.needs) == needs
    assert slugs(service.populations) == populations
    assert service.description


@pytest.mark.parametrize("slug", KINDS_OF_SERVICE)
def test_each_kind_of_service_in_review_is_covered_by_a_published_national_service(
    directory_data, slug
):
    *_, covering = KINDS_OF_SERVICE[slug]
    service = Service.objects.get(slug=slug)
    covered_by = service.covered_by.all()

    assert slugs(covered_by) == covering
    for cover in covered_by:
        assert cover.publication_state == "published"
        assert cover.organization is not None
        assert [a.extent for a in cover.service_areas.all()] == ["nationwide"]
        # It offers the kind of help waiting for review: a need, or one of its sub-needs.
        offered = Need.objects.descendant_ids(cover.needs.all())
        wanted = Need.objects.descendant_ids(service.needs.all())
        if (slug, cover.slug) not in COVERED_WITHOUT_THE_SAME_NEED:
            assert offered & wanted, (slug, cover.slug)


def test_only_entries_in_review_are_covered_by_others(directory_data):
    assert not Service.objects.published().exclude(covered_by=None).exists()
    assert not Service.objects.filter(publication_state="in_review", covered_by=None).exists()


def test_it_holds_exactly_the_programs_and_kinds_of_service_of_the_seeds(directory_data):
    published = set(NAMED_PROGRAMS) | set(NATIONAL_SERVICES)

    assert slugs(Service.objects.all()) == published | set(KINDS_OF_SERVICE)
    assert slugs(Service.objects.published()) == published
    assert slugs(Organization.objects.all()) == ORGANIZATIONS


def test_it_lists_the_national_human_trafficking_hotline_once_with_its_24_7_numbers(
    directory_data,
):
    hotline = Service.objects.get(slug="national-human-trafficking-hotline")

    assert not Service.objects.filter(slug="human-trafficking-text-line").exists()
    assert Service.objects.filter(name__icontains="human trafficking hotline").count() == 1
    assert Phone.objects.filter(number__in=["1-888-373-7888", "233733"]).count() == 2
    assert {(p.type, p.number) for p in hotline.phones.all()} == {
        ("voice", "1-888-373-7888"),
        ("text", "233733"),
    }
    assert [s.open_24_7 for s in hotline.schedules.all()] == [True]
    assert [a.extent for a in hotline.service_areas.all()] == ["nationwide"]
    location = hotline.service_at_locations.get().location
    assert location.name == "Hotline (phone and text)"
    assert location.location_type == "virtual"
    assert location.organization == hotline.organization
    assert "text 233733" in hotline.keywords and "discreet" in hotline.keywords


def test_it_keeps_the_text_line_passage_cited_after_the_merge(directory_data):
    citing = Service.objects.published().filter(source_passage__contains=TEXT_LINE_PASSAGE)

    assert slugs(citing) == {"crisis-text-line"}


def test_it_limits_caase_legal_help_to_chicago(directory_data):
    area = ServiceArea.objects.get(service__slug="caase-legal-services")

    assert (area.extent, area.state, area.city) == ("city", "IL", "Chicago")


def test_it_invents_no_contact_details(directory_data):
    assert not Address.objects.exists()
    assert not Organization.objects.exclude(email="").exists()
    assert not Service.objects.exclude(email="").exists()
    national = {number for *_, phones in NATIONAL_SERVICES.values() for _, number in phones}
    assert set(Phone.objects.values_list("number", flat=True)) == national | {
        "1-888-373-7888",
        "233733",
    }
    # Hours only as a 24/7 row of a hotline, never invented opening times.
    assert not Schedule.objects.filter(open_24_7=False).exists()


def test_no_shipped_service_claims_a_curator_verified_it(directory_data):
    assert Service.objects.exists()
    assert not Service.objects.exclude(last_verified=None).exists()


def test_it_duplicates_nothing(directory_data):
    names = [name.lower() for name in Service.objects.values_list("name", flat=True)]
    assert len(names) == len(set(names))
    organizations = [n.lower() for n in Organization.objects.values_list("name", flat=True)]
    assert len(organizations) == len(set(organizations))
    websites = list(Organization.objects.exclude(website="").values_list("website", flat=True))
    assert len(websites) == len(set(websites))
    urls = list(Service.objects.exclude(url="").values_list("url", flat=True))
    assert len(urls) == len(set(urls))
    phones = list(Phone.objects.values_list("type", "number"))
    assert len(phones) == len(set(phones))
    assert not Service.objects.annotate(n=Count("schedules")).filter(n__gt=1).exists()
    assert not Service.objects.annotate(n=Count("service_areas")).filter(n__gt=1).exists()


def test_it_cites_a_seed_document_and_passage_for_every_entry(directory_data):
    for entry in [*Service.objects.all(), *Organization.objects.all()]:
        assert entry.source_document in SEED_DOCUMENTS, entry.slug
        assert entry.source_passage, entry.slug


def test_every_published_service_cites_its_official_web_page(directory_data):
    for service in Service.objects.published():
        assert service.source_url.startswith("https://"), service.slug


def test_it_cites_every_seed_document(directory_data):
    seeds = {path.name for path in shared_path("seeds").glob("*.txt")}

    assert seeds == SEED_DOCUMENTS
    cited = set(Service.objects.published().values_list("source_document", flat=True))
    assert cited == SEED_DOCUMENTS


def test_it_offers_the_kinds_of_help_of_the_fifth_document(directory_data):
    document = "004_bb7430ca3a33e6de.txt"
    citing = Service.objects.published().filter(source_document=document)
    passages = " ".join(citing.values_list("source_passage", flat=True))

    assert slugs(citing) == {
        "ncmec-cybertipline",
        "dhs-blue-campaign",
        "crisis-text-line-volunteer",
    }
    assert "justice systems" in passages  # child trafficking and the justice system
    assert "recognizing the signs" in passages
    assert "accept volunteers" in passages


def test_national_services_cite_what_is_offered_not_the_exploiters_words(directory_data):
    for service in Service.objects.filter(slug__in=NATIONAL_SERVICES):
        assert not EXPLOITERS_WORDS.search(service.source_passage), service.slug
        assert not EXPLOITERS_WORDS.search(service.organization.source_passage), service.slug


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


def test_it_derives_the_ids_of_phones_hours_and_areas_from_their_service(directory_data):
    def derived(*parts):
        return uuid.uuid5(
            uuid.NAMESPACE_URL, "https://survivor-directory.invalid/" + "/".join(parts)
        )

    for phone in Phone.objects.select_related("service"):
        assert phone.pk == derived("phone", phone.service.slug, phone.type)
    for schedule in Schedule.objects.select_related("service"):
        assert schedule.pk == derived("schedule", schedule.service.slug, "24-7")
    for area in ServiceArea.objects.select_related("service"):
        assert area.pk == derived("servicearea", area.service.slug, area.extent)


def test_it_changes_nothing_when_the_fixtures_are_loaded_again(directory_data):
    before = snapshot()

    load_shipped()

    assert snapshot() == before


def test_it_offers_the_top_level_need_categories(directory_data):
    top_level = slugs(Need.objects.filter(parent=None))

    assert top_level == TOP_LEVEL_NEEDS
    assert slugs(Need.objects.filter(parent__slug="prevention-involvement")) == {
        "learning-the-signs",
        "report-exploitation",
        "volunteering",
    }
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
        "community-members",
    } <= slugs(Population.objects.all())
    assert {"en", "es", "zh", "vi", "ko", "tl", "ar", "fr", "ru", "pt", "ht"} <= set(
        Language.objects.values_list("code", flat=True)
    )
