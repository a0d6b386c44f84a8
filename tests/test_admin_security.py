import pytest
from django.urls import reverse

from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def login(client, password, ip="192.0.2.10"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "organiser", "password": password},
        REMOTE_ADDR=ip,
    )


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
