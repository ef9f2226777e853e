"""Caseworker queries over the real directory: the right service must come in the top three."""

import pytest

from resources.filters import ServiceFilter
from resources.models import Service

pytestmark = pytest.mark.django_db

HOTLINE = "national-human-trafficking-hotline"
TEXT_LINE = "human-trafficking-text-line"
CAASE = "caase-legal-services"
CATW = "catw-survivor-assistance"
IOM = "iom-victim-identification"
RESCUE = "rescue-restore-victim-assistance"
TRAINING = "rescue-restore-training"

# (what a caseworker types, services any one of which must be in the top three)
QUERIES = [
    ("hotline", {HOTLINE}),
    ("someone to talk to", {HOTLINE, TEXT_LINE}),
    ("text for help", {TEXT_LINE}),
    ("discreet help by text", {TEXT_LINE}),
    ("lawyer", {CAASE, CATW}),
    ("attorney", {CAASE, CATW}),
    ("lawyers", {CAASE, CATW}),
    ("legal help", {CAASE, CATW}),
    ("expungement", {CAASE}),
    ("clear my record", {CAASE}),
    ("arrested survivors", {CAASE}),
    ("a place to stay", {CATW}),
    ("shelter for women", {CATW}),
    ("doctor", {CATW}),
    ("money", {CATW}),
    ("immigrants", {IOM}),
    ("migrant", {IOM}),
    ("identify victims", {RESCUE, IOM}),
    ("training for police", {TRAINING}),
    ("health care providers training", {TRAINING}),
    ("Chicago", {CAASE}),
    ("Rescue and Restore", {RESCUE, TRAINING}),
    ("24/7 hotline", {HOTLINE, TEXT_LINE}),
    ('"sex trafficking" women', {CATW, CAASE}),
]
TYPOS = [
    ("leagal", {CAASE, CATW}),
    ("hotlne", {HOTLINE, TEXT_LINE}),
    ("imigrants", {IOM}),
    ("expungment", {CAASE}),
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


def test_unpublished_entries_never_rank(directory_data):
    assert "trauma-informed-counseling" not in top_three("counseling")
