"""A petition the public cannot see on its page is not in the API either: 404, in JSON."""

import pytest

from petitions.models import Petition
from tests.factories import make_petition, make_staff

pytestmark = pytest.mark.django_db

HIDDEN = [Petition.Status.DRAFT, Petition.Status.PENDING, Petition.Status.REJECTED]
ADDRESSES = ["", "/count", "/history", "/countries"]


@pytest.mark.parametrize("status", HIDDEN)
@pytest.mark.parametrize("tail", ADDRESSES)
def test_a_petition_that_is_not_public_is_not_found(client, status, tail):
    petition = make_petition(status=status)
    response = client.get(f"/api/v1/petitions/{petition.slug}{tail}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert client.get(f"/en/p/{petition.slug}/").status_code == 404  # like its page


@pytest.mark.parametrize("status", HIDDEN)
def test_a_petition_that_is_not_public_is_not_listed(client, status):
    make_petition(status=status)
    assert client.get("/api/v1/petitions").json()["total"] == 0


def test_staff_who_may_preview_still_get_404(client):
    """The page shows staff a draft; the API answers the same to everyone."""
    petition = make_petition(status=Petition.Status.PENDING)
    client.force_login(make_staff())
    assert client.get(f"/en/p/{petition.slug}/").status_code == 200
    assert client.get(f"/api/v1/petitions/{petition.slug}").status_code == 404


def test_an_unknown_address_under_the_api_is_json(client):
    response = client.get("/api/v1/nothing/here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}
