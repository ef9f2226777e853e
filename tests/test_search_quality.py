"""Caseworker queries over the shipped directory: in the words clients use, what they need
must come in the top three."""

import pytest

from resources.filters import ServiceFilter
from resources.models import Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory_data(directory_for_module):
    """The shipped directory, loaded once for the module's many queries."""


HOTLINE = "national-human-trafficking-hotline"
LIFELINE = "988-suicide-crisis-lifeline"
TEXT_LINE = "crisis-text-line"
SAMHSA = "samhsa-national-helpline"
RAINN = "rainn-national-sexual-assault-hotline"
DOMESTIC_VIOLENCE = "national-domestic-violence-hotline"
CHILDHELP = "childhelp-national-child-abuse-hotline"
RUNAWAY = "national-runaway-safeline"
TREVOR = "trevor-project-crisis-support"
DIAL_211 = "dial-211"
IMMIGRATION_LAW = "immigration-law-help"
LEGAL_AID = "lsc-find-legal-aid"
HEALTH_CENTER = "hrsa-find-a-health-center"
GET_TESTED = "cdc-gettested"
CAREERS = "careeronestop"
VICARIOUS_TRAUMA = "ovc-vicarious-trauma-toolkit"
NHTTAC = "nhttac-soar-training"
CYBERTIPLINE = "ncmec-cybertipline"
BLUE_CAMPAIGN = "dhs-blue-campaign"
VOLUNTEER = "crisis-text-line-volunteer"
CAASE = "caase-legal-services"
CATW = "catw-survivor-assistance"
IOM = "iom-victim-identification"
RESCUE = "rescue-restore-victim-assistance"
TRAINING = "rescue-restore-training"

TALK = {HOTLINE, LIFELINE, TEXT_LINE, CHILDHELP, TREVOR, RAINN}
COUNSELING = {LIFELINE, TEXT_LINE, SAMHSA, RAINN, CHILDHELP, TREVOR}
LEGAL = {CAASE, LEGAL_AID, IMMIGRATION_LAW, CATW}
SHELTER = {DOMESTIC_VIOLENCE, RUNAWAY, DIAL_211, CATW}

# (what a caseworker types, services any one of which must be in the top three)
QUERIES = [
    # Someone to talk to, now
    ("hotline", {HOTLINE, LIFELINE, DOMESTIC_VIOLENCE}),
    ("someone to talk to", TALK),
    ("talk to someone", TALK),
    ("24/7 hotline", {HOTLINE, LIFELINE, DOMESTIC_VIOLENCE}),
    ("text for help", {TEXT_LINE, HOTLINE}),
    ("discreet help by text", {TEXT_LINE, HOTLINE}),
    ("suicidal", {LIFELINE, TEXT_LINE, TREVOR}),
    # Counseling
    ("counseling", COUNSELING),
    ("therapy", COUNSELING),
    ("therapist", COUNSELING),
    ("depression", COUNSELING),
    ("support group", {HOTLINE, RAINN} | COUNSELING),
    # Language
    ("Spanish", {HOTLINE, SAMHSA, NHTTAC}),
    ("en español", {HOTLINE, SAMHSA, NHTTAC}),
    # Legal help
    ("lawyer", LEGAL),
    ("attorney", LEGAL),
    ("lawyers", LEGAL),
    ("legal help", LEGAL),
    ("T visa lawyer", {IMMIGRATION_LAW}),
    ("t visa", {IMMIGRATION_LAW}),
    ("visa", {IMMIGRATION_LAW}),
    ("immigration", {IMMIGRATION_LAW, IOM}),
    ("being deported", {IMMIGRATION_LAW}),
    ("deport", {IMMIGRATION_LAW}),
    ("clear my record", {CAASE}),
    ("expunge", {CAASE}),
    ("vacate conviction", {CAASE}),
    ("criminal record", {CAASE}),
    ("record", {CAASE}),
    ("arrested survivors", {CAASE}),
    # Somewhere to sleep
    ("somewhere safe to sleep", SHELTER),
    ("somewhere to sleep", SHELTER),
    ("sleep", SHELTER),
    ("bed", SHELTER),
    ("safe place", SHELTER),
    ("a place to stay", SHELTER),
    ("shelter for women", {CATW, DOMESTIC_VIOLENCE}),
    ("runaway teen", {RUNAWAY}),
    # Health
    ("doctor", {HEALTH_CENTER, CATW}),
    ("clinic", {HEALTH_CENTER, GET_TESTED}),
    ("STD testing", {GET_TESTED}),
    ("STI", {GET_TESTED}),
    ("HIV test", {GET_TESTED}),
    ("pregnancy", {GET_TESTED, HEALTH_CENTER}),
    ("rehab", {SAMHSA}),
    ("drugs", {SAMHSA}),
    ("alcohol", {SAMHSA}),
    # Work and money
    ("job", {CAREERS}),
    ("work", {CAREERS}),
    ("job training", {CAREERS}),
    ("food", {DIAL_211}),
    ("money", {DIAL_211, CATW}),
    ("help with rent", {DIAL_211}),
    # Who it is for
    ("gay teen", {TREVOR}),
    ("sexual assault", {RAINN}),
    ("domestic violence", {DOMESTIC_VIOLENCE}),
    ("child abuse", {CHILDHELP}),
    ("immigrants", {IOM, IMMIGRATION_LAW}),
    ("migrant", {IOM, IMMIGRATION_LAW}),
    ("Chicago", {CAASE}),
    # Professionals and the public
    ("burnout", {VICARIOUS_TRAUMA}),
    ("vicarious trauma", {VICARIOUS_TRAUMA}),
    ("training for police", {TRAINING, NHTTAC, BLUE_CAMPAIGN}),
    ("health care providers training", {TRAINING, NHTTAC}),
    ("identify victims", {RESCUE, IOM, HOTLINE}),
    ("report child exploitation", {CYBERTIPLINE}),
    ("signs of trafficking", {BLUE_CAMPAIGN}),
    ("volunteer", {VOLUNTEER}),
    ("Rescue and Restore", {RESCUE, TRAINING}),
    ('"sex trafficking" women', {CATW, CAASE}),
]
TYPOS = [
    ("leagal", LEGAL),
    ("hotlne", {HOTLINE, LIFELINE, DOMESTIC_VIOLENCE}),
    ("imigrants", {IOM, IMMIGRATION_LAW}),
    ("expungment", {CAASE}),
    ("counceling", COUNSELING),
    ("theraphy", COUNSELING),
]


def top_three(query):
    filterset = ServiceFilter({"q": query}, queryset=Service.objects.published())
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("slug", flat=True)[:3])


@pytest.mark.parametrize("query, expected", QUERIES, ids=[q for q, _ in QUERIES])
def test_caseworker_query_finds_the_right_service(directory_data, query, expected):
    found = top_three(query)
    assert expected & set(found), f"{query!r} gave {found}"


@pytest.mark.parametrize("query, expected", TYPOS, ids=[q for q, _ in TYPOS])
def test_a_mistyped_query_still_finds_the_right_service(directory_data, query, expected):
    found = top_three(query)
    assert expected & set(found), f"{query!r} gave {found}"


def test_the_table_asks_for_every_need_in_everyday_words():
    assert len(QUERIES) >= 40


def test_unpublished_entries_never_rank(directory_data):
    assert "trauma-informed-counseling" not in top_three("counseling")
