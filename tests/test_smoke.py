"""The first path through the platform: pages answer, a member signs in with the second factor."""
from tests.conftest import submit


def test_landing_page_is_public(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Apply to join" in response.data


def test_member_signs_in_with_password_and_totp(client, auth, member):
    auth.sign_in(client, member)
    response = client.get("/")
    assert response.status_code == 200
    assert member.name.encode() in response.data


def test_wrong_password_is_refused(client, member):
    response = submit(client, "/sign-in", {"email": member.email, "password": "wrong password here"})
    assert response.status_code == 401
    assert b"not right" in response.data
