"""Who may do what in the admin, what it records, and how sign-in resists guessing."""

import time

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from resources.models import PublicationState, Service
from tests.factories import make_organization, make_service

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/resources/service/"
LOGIN = "/admin/login/"
PASSWORD = "a long enough passphrase"


def staff(username, *codenames):
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def services():
    organization = make_organization()
    return {
        "draft": make_service(
            name="Draft clinic",
            organization=organization,
            publication_state=PublicationState.DRAFT,
            source_url="https://example.org/clinic",
        ),
        "published": make_service(name="Open clinic", organization=organization),
    }


def run_action(client, action, services):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(s.pk) for s in services.values()]},
    )


def states(services):
    return {
        key: (s.publication_state, s.last_verified)
        for key, s in ((key, Service.objects.get(pk=s.pk)) for key, s in services.items())
    }


def sign_in(client, username, password, address="203.0.113.9"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


@pytest.fixture
def count_hashing(monkeypatch):
    calls = []
    check = User.check_password
    monkeypatch.setattr(
        User, "check_password", lambda self, raw: calls.append(1) or check(self, raw)
    )
    return calls


def test_five_wrong_passwords_lock_the_account_before_any_password_is_hashed(client, count_hashing):
    staff("curator")
    statuses = [
        sign_in(client, "curator", "wrong", address=f"198.51.100.{n}").status_code for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    hashed = len(count_hashing)

    # From anywhere, even with the right password: refused, and no password is hashed.
    response = sign_in(client, "curator", PASSWORD, address="192.0.2.1")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert len(count_hashing) == hashed
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_from_one_client_lock_that_client_out(client):
    staff("curator")
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong")
    assert sign_in(client, "curator", PASSWORD).status_code == 429
    # Another client signs in to the same account.
    assert sign_in(client, "curator", PASSWORD, address="192.0.2.1").status_code == 302


def test_a_curator_idle_too_long_is_signed_out(client, settings):
    settings.ADMIN_IDLE_MINUTES = 30
    client.force_login(staff("curator", "view_service"))
    assert client.get(CHANGELIST).status_code == 200

    session = client.session
    session["_last_request"] = time.time() - 31 * 60
    session.save()
    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_admin_session_ends_with_the_browser(client):
    staff("curator")
    sign_in(client, "curator", PASSWORD)
    cookie = client.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Tr4ff1ck!ng")
    validate_password("a long enough passphrase")


def test_the_admin_has_a_content_security_policy_of_its_own(client):
    policy = client.get(LOGIN)["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "frame-ancestors 'none'" in policy
