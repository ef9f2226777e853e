"""The public's "something wrong or out of date?" form, and the curators' queue it feeds."""

import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.urls import reverse

from resources.models import PublicationState, Suggestion
from tests.factories import make_service

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled")]

QUEUE = reverse("admin:resources_suggestion_changelist")
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def suggest_url(service):
    return reverse("resources:suggest", args=[service.slug])


def thanks_url(service):
    return reverse("resources:suggest_thanks", args=[service.slug])


def send(client, service, message="The phone number has changed.", website="", **extra):
    return client.post(suggest_url(service), {"message": message, "website": website}, **extra)


def staff(username, *codenames):
    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


# The public form


def test_every_service_page_offers_the_form(client):
    service = make_service(name="Legal clinic")

    response = client.get(service.get_absolute_url())

    page = response.content.decode()
    assert "<summary>Something wrong or out of date?</summary>" in page
    assert f'action="{suggest_url(service)}"' in page
    assert f'maxlength="{Suggestion.MAX_LENGTH}" required' in page
    assert '<label for="id_message">' in page
    assert '<div class="honeypot" aria-hidden="true">' in page
    assert 'name="website" id="id_website" tabindex="-1" autocomplete="off"' in page
    assert not response.cookies


def test_the_form_has_a_page_of_its_own_that_any_site_may_link_to(client):
    service = make_service(name="Legal clinic")

    response = client.get(suggest_url(service), headers={"Sec-Fetch-Site": "cross-site"})

    assert response.status_code == 200
    assert 'name="message"' in response.content.decode()
    assert not response.cookies


def test_it_stores_only_the_service_and_the_words_and_sets_no_cookie(client):
    service = make_service(name="Legal clinic")

    response = send(
        client,
        service,
        "  The phone number has changed.\n",
        headers={"Sec-Fetch-Site": "same-origin", "User-Agent": "Tell-tale/1.0"},
        REMOTE_ADDR="203.0.113.7",
    )

    assert response.status_code == 303
    assert response["Location"] == thanks_url(service)
    assert not response.cookies and not client.cookies
    suggestion = Suggestion.objects.get()
    assert (suggestion.service, suggestion.message) == (service, "The phone number has changed.")
    assert suggestion.state == Suggestion.State.OPEN
    assert {field.name for field in Suggestion._meta.get_fields()} == {
        "id",
        "service",
        "message",
        "created",
        "state",
        "resolved_by",
        "resolved_at",
        "note",
    }
    stored = " ".join(str(value) for value in Suggestion.objects.values().get().values())
    assert "203.0.113.7" not in stored and "Tell-tale" not in stored


def test_the_thanks_page_says_what_happens_next_and_leads_back(client):
    service = make_service(name="Legal clinic")

    response = send(client, service, follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "A curator will check your suggestion" in page
    assert f'href="{service.get_absolute_url()}"' in page
    assert not client.cookies


@pytest.mark.parametrize("message", ["", "   ", " \n\t\u00a0 "], ids=["empty", "spaces", "mixed"])
def test_a_suggestion_of_only_whitespace_is_refused_and_says_why(client, message):
    response = send(client, make_service(), message)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Say what is wrong or out of date." in page
    assert 'aria-invalid="true"' in page
    assert not Suggestion.objects.exists()


@pytest.mark.parametrize("length", [Suggestion.MAX_LENGTH + 1, 100_000], ids=["2001", "100KB"])
def test_a_suggestion_too_long_is_refused_with_the_limit(client, length):
    response = send(client, make_service(), "a" * length)

    assert response.status_code == 400
    assert f"Keep it to {Suggestion.MAX_LENGTH} characters or fewer" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_a_suggestion_at_the_limit_is_stored(client):
    response = send(client, make_service(), "a" * Suggestion.MAX_LENGTH)

    assert response.status_code == 303
    assert len(Suggestion.objects.get().message) == Suggestion.MAX_LENGTH


def test_a_refused_suggestion_is_shown_back_escaped(client):
    response = send(client, make_service(), SCRIPT + "a" * Suggestion.MAX_LENGTH)

    assert response.status_code == 400
    page = response.content.decode()
    assert SCRIPT not in page
    assert ESCAPED_SCRIPT in page


def test_a_null_character_is_refused_not_a_server_error(client):
    response = send(client, make_service(), "a\x00b")

    assert response.status_code == 400
    assert not Suggestion.objects.exists()


def test_a_robot_filling_the_honeypot_is_thanked_and_nothing_is_stored(client):
    service = make_service()

    response = send(client, service, "Buy cheap watches", website="https://spam.example/")

    assert response.status_code == 303
    assert response["Location"] == thanks_url(service)
    assert not Suggestion.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}],
    ids=["sec-fetch-site", "origin"],
)
def test_a_post_from_another_site_is_refused(client, headers):
    response = send(client, make_service(), headers=headers)

    assert response.status_code == 403
    assert not Suggestion.objects.exists()


def test_too_many_suggestions_from_one_client_get_a_429_page(client, settings, still_clock):
    settings.SUGGESTION_RATE = "2/hour"
    cache.clear()
    service = make_service()

    statuses = [send(client, service).status_code for _ in range(3)]
    response = send(client, service)

    assert statuses == [303, 303, 429]
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "Too many suggestions at once" in response.content.decode()
    assert Suggestion.objects.count() == 2
    # Reading the form is not counted.
    assert client.get(suggest_url(service)).status_code == 200


@pytest.mark.parametrize(
    "state",
    [PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.ARCHIVED],
)
def test_a_service_not_published_takes_no_suggestion(client, state):
    service = make_service(publication_state=state)

    assert client.get(suggest_url(service)).status_code == 404
    assert send(client, service).status_code == 404
    assert client.get(thanks_url(service)).status_code == 404
    assert not Suggestion.objects.exists()


def test_the_form_takes_only_get_and_post(client):
    url = suggest_url(make_service())
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405
    assert client.post(thanks_url(make_service())).status_code == 405


# The curators' queue


@pytest.fixture
def suggestions():
    service = make_service(name="Legal clinic")
    return [
        Suggestion.objects.create(service=service, message=f"Change number {n}") for n in (1, 2)
    ]


def listed(page):
    """The messages in the queue, in its order."""
    return re.findall(r'<td class="field-short_message">([^<]*)</td>', page)


def run_action(client, action, suggestions):
    return client.post(
        QUEUE, {"action": action, "_selected_action": [str(s.pk) for s in suggestions]}
    )


def test_a_suggestion_with_a_script_is_shown_escaped_in_the_queue(client, admin_user):
    service = make_service(name="Legal clinic")
    send(client, service, SCRIPT)
    suggestion = Suggestion.objects.get()
    assert suggestion.message == SCRIPT
    client.force_login(admin_user)

    for url in (QUEUE, reverse("admin:resources_suggestion_change", args=[suggestion.pk])):
        page = client.get(url).content.decode()
        assert SCRIPT not in page, url
        assert ESCAPED_SCRIPT in page, url


def test_the_queue_lists_open_suggestions_first_linked_to_their_service(
    client, admin_user, suggestions
):
    older, newer = suggestions
    newer.state, newer.resolved_at = Suggestion.State.RESOLVED, newer.created
    newer.save()
    client.force_login(admin_user)

    page = client.get(QUEUE).content.decode()

    assert listed(page) == ["Change number 1", "Change number 2"]
    service_admin = reverse("admin:resources_service_change", args=[older.service_id])
    assert f'<a href="{service_admin}">Legal clinic</a>' in page
    assert listed(client.get(QUEUE, {"q": "number 2"}).content.decode()) == ["Change number 2"]
    assert listed(client.get(QUEUE, {"q": "legal clinic"}).content.decode()) == [
        "Change number 1",
        "Change number 2",
    ]


@pytest.mark.parametrize(
    ("action", "state"),
    [("mark_resolved", Suggestion.State.RESOLVED), ("dismiss", Suggestion.State.DISMISSED)],
)
def test_resolving_or_dismissing_says_who_and_when_and_logs_each(
    client, suggestions, action, state
):
    curator = staff("curator", "view_suggestion", "change_suggestion")
    client.force_login(curator)

    response = run_action(client, action, suggestions)

    assert response.status_code == 302
    for suggestion in Suggestion.objects.all():
        assert suggestion.state == state
        assert suggestion.resolved_by == curator
        assert suggestion.resolved_at is not None
    entries = LogEntry.objects.filter(user=curator, action_flag=CHANGE)
    assert sorted(entry.object_id for entry in entries) == sorted(str(s.pk) for s in suggestions)


def test_a_curator_who_may_only_view_cannot_close_suggestions_by_a_crafted_post(
    client, suggestions
):
    client.force_login(staff("reader", "view_suggestion"))

    for action in ("mark_resolved", "dismiss"):
        run_action(client, action, suggestions)

    assert set(Suggestion.objects.values_list("state", "resolved_by", "resolved_at")) == {
        (Suggestion.State.OPEN, None, None)
    }
    assert not LogEntry.objects.exists()


def test_changing_the_state_on_its_page_says_who_and_when_and_reopening_clears_it(
    client, suggestions
):
    curator = staff("curator", "view_suggestion", "change_suggestion")
    client.force_login(curator)
    suggestion = suggestions[0]
    url = reverse("admin:resources_suggestion_change", args=[suggestion.pk])

    response = client.post(url, {"state": "resolved", "note": "Number updated."})

    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert (suggestion.state, suggestion.note) == (Suggestion.State.RESOLVED, "Number updated.")
    assert suggestion.resolved_by == curator and suggestion.resolved_at is not None

    client.post(url, {"state": "open", "note": "Number updated."})
    suggestion.refresh_from_db()
    assert (suggestion.state, suggestion.resolved_by, suggestion.resolved_at) == (
        "open",
        None,
        None,
    )


def test_the_words_and_the_service_cannot_be_changed_in_the_admin(client, suggestions):
    client.force_login(staff("curator", "view_suggestion", "change_suggestion"))
    suggestion = suggestions[0]
    other = make_service()

    client.post(
        reverse("admin:resources_suggestion_change", args=[suggestion.pk]),
        {"state": "open", "message": "Rewritten", "service": str(other.pk), "note": ""},
    )

    suggestion.refresh_from_db()
    assert (suggestion.message, suggestion.service_id) == (
        "Change number 1",
        suggestions[0].service_id,
    )


def test_suggestions_are_neither_added_nor_deleted_in_the_admin(client, admin_user, suggestions):
    client.force_login(admin_user)
    suggestion = suggestions[0]

    assert client.get(reverse("admin:resources_suggestion_add")).status_code == 403
    delete = reverse("admin:resources_suggestion_delete", args=[suggestion.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    run_action(client, "delete_selected", suggestions)
    assert Suggestion.objects.count() == 2
