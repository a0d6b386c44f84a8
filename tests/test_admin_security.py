import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from tests.factories import make_staff
from tests.test_scale_out import Browser, behind_nginx  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def login(client, password, ip="192.0.2.10", username="organiser"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def assert_login_form_with_error(response):
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()


def test_admin_locks_out_after_repeated_failed_logins(client):
    make_staff(username="organiser")
    for _ in range(4):
        assert login(client, "wrong").status_code == 200  # the form again, with an error
    assert login(client, "wrong").status_code == 429  # the fifth failure locks
    locked = login(client, "a-long-test-password")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_for_that_address_only(client):
    make_staff(username="organiser")
    for _ in range(5):
        login(client, "wrong", ip="192.0.2.10")
    assert login(client, "a-long-test-password", ip="192.0.2.99").status_code == 302


def test_a_correct_password_before_the_limit_still_works(client):
    make_staff(username="organiser")
    for _ in range(3):
        login(client, "wrong")
    assert login(client, "a-long-test-password").status_code == 302


def test_admin_lives_where_the_setting_says(settings):
    assert reverse("admin:index") == "/" + settings.ADMIN_URL


def test_staff_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_an_overlong_username_gets_the_login_form_back_with_an_error(client):
    assert_login_form_with_error(login(client, "wrong", username="a" * 300))
    # axes keeps the username in a 255-character column; SQLite would take a longer one, so check
    # what was recorded.
    recorded = AccessAttempt.objects.values_list("username", flat=True)
    assert recorded and all(len(username) <= 255 for username in recorded)


@pytest.mark.postgres
def test_an_overlong_username_gets_the_login_form_back_on_postgresql(client):
    # PostgreSQL refuses a value longer than its column: this was a 500.
    assert_login_form_with_error(login(client, "wrong", username="a" * 300))


def test_overlong_usernames_are_still_locked_out(client):
    for _ in range(4):
        assert_login_form_with_error(login(client, "wrong", username="a" * 300))
    assert login(client, "wrong", username="a" * 300).status_code == 429


def test_a_stranger_behind_the_proxy_cannot_lock_a_moderator_out(client, settings):
    """Behind nginx every request comes from nginx's address: the lockout must count the client's
    own address, as nginx reports it in X-Forwarded-For."""
    settings.NUM_PROXIES = 1
    make_staff(username="organiser")
    for _ in range(5):
        client.post(
            "/admin/login/?next=/admin/",
            {"username": "organiser", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.5",
        )
    moderator = client.post(
        "/admin/login/?next=/admin/",
        {"username": "organiser", "password": "a-long-test-password"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert moderator.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def sign_in_through(browser, username: str, password: str) -> int:
    page = browser.get(f"/{settings.ADMIN_URL}login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body.decode()).group(1)
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    return browser.request("POST", f"/{settings.ADMIN_URL}login/", form).status


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.system
def test_a_stranger_cannot_lock_a_moderator_out_through_the_shipped_nginx(behind_nginx):  # noqa: F811
    port, _ = behind_nginx
    make_staff(username="moderator")
    stranger, moderator = Browser(port, "127.0.0.66"), Browser(port, "127.0.0.77")
    assert [sign_in_through(stranger, "moderator", "wrong") for _ in range(5)] == [200] * 4 + [429]
    assert sign_in_through(moderator, "moderator", "a-long-test-password") == 302
    # The stranger stays locked out, from their own address.
    assert sign_in_through(stranger, "moderator", "a-long-test-password") == 429
