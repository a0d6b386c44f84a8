"""The admin's webhook endpoints and delivery log, in both languages."""

import re

import pytest
from django.contrib.auth.models import Permission

from integrations.models import Delivery, Endpoint, Event
from tests.factories import make_endpoint, make_petition, make_staff
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


def form(petition=None, **overrides) -> dict:
    data = {
        "description": "Our CRM",
        "petition": petition.pk if petition else "",
        "url": "https://93.184.215.14/hooks",
        "events": [Event.SIGNATURE_COUNTED, Event.SIGNATURE_ERASED],
        "active": "on",
        "owner_email": "crm@example.org",
        "owner_language": "fa",
    }
    return data | overrides


def test_an_endpoint_is_made_with_a_secret_shown_to_copy(admin_client):
    petition = make_petition()
    response = admin_client.post("/admin/integrations/endpoint/add/", form(petition))
    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = Endpoint.objects.get()
    assert endpoint.events == [Event.SIGNATURE_COUNTED, Event.SIGNATURE_ERASED]
    assert endpoint.secret.startswith("whsec_")
    page = admin_client.get(f"/admin/integrations/endpoint/{endpoint.pk}/change/")
    html = page.content.decode()
    assert f'value="{endpoint.secret}"' in html
    assert "readonly" in html
    assert f"/admin/integrations/endpoint/{endpoint.pk}/ping/" in html


def test_a_new_endpoint_starts_with_every_event_ticked(admin_client):
    html = admin_client.get("/admin/integrations/endpoint/add/").content.decode()
    for event in Event.values:
        assert re.search(rf'value="{re.escape(event)}" id="id_events_\d+" checked', html), event


def test_the_form_refuses_a_private_address(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = admin_client.post(
        "/admin/integrations/endpoint/add/", form(make_petition(), url="https://10.0.0.1/")
    )
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not Endpoint.objects.exists()


def staff_with(*codenames):
    user = make_staff(username="exporter", superuser=False)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=codenames, content_type__app_label__in=[
            "integrations", "signatures",
        ])
    )  # fmt: skip
    return user


def test_only_staff_with_the_right_may_add_an_endpoint_for_every_petition(client):
    client.force_login(
        staff_with("add_endpoint", "change_endpoint", "view_endpoint", "export_signature")
    )
    response = client.post("/admin/integrations/endpoint/add/", form(None))
    assert response.status_code == 200
    assert "petition" in response.context["adminform"].form.errors
    response = client.post("/admin/integrations/endpoint/add/", form(make_petition()))
    assert response.status_code == 302


def test_managing_endpoints_needs_the_right_to_export_signers(client):
    client.force_login(staff_with("add_endpoint", "change_endpoint", "view_endpoint"))
    assert client.get("/admin/integrations/endpoint/add/").status_code == 403


def test_the_test_button_sends_a_ping_and_shows_its_result(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver(answers=[200]) as receiver:
        endpoint = make_endpoint(url=receiver.url)
        response = admin_client.post(
            f"/admin/integrations/endpoint/{endpoint.pk}/ping/", follow=True
        )
    delivery = Delivery.objects.get(event="ping")
    assert delivery.state == Delivery.State.DELIVERED
    assert response.redirect_chain[-1][0] == f"/admin/integrations/delivery/{delivery.pk}/change/"
    html = response.content.decode()
    assert "The test event was delivered: the receiver answered 200." in html
    assert delivery.webhook_id in html
    assert receiver.received[0].headers["webhook-id"] == delivery.webhook_id


def test_a_failed_ping_says_why(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver(answers=[500]) as receiver:
        endpoint = make_endpoint(url=receiver.url)
        response = admin_client.post(
            f"/admin/integrations/endpoint/{endpoint.pk}/ping/", follow=True
        )
    assert "The test event failed: 500" in response.content.decode()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_endpoint_pages_and_the_delivery_log_render_in_both_languages(admin_client, language):
    admin_client.cookies["django_language"] = language
    endpoint = make_endpoint(make_petition(), description='"><script>alert(1)</script>')
    Delivery.objects.create(
        endpoint=endpoint, event="signature.counted", key="k", subject_id=1,
        occurred_at=endpoint.created_at, attempts=3, status_code=500, error="500 Server Error",
    )  # fmt: skip
    pages = [
        "/admin/integrations/endpoint/",
        "/admin/integrations/endpoint/add/",
        f"/admin/integrations/endpoint/{endpoint.pk}/change/",
        "/admin/integrations/delivery/",
        f"/admin/integrations/delivery/{Delivery.objects.get().pk}/change/",
    ]
    for page in pages:
        response = admin_client.get(page, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert "<script>alert(1)" not in html
        assert f'lang="{language}"' in html
    assert admin_client.get("/admin/integrations/delivery/add/").status_code == 403
