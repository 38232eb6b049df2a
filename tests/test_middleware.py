"""Every error a gateway or an API client can meet is JSON in the documented shape."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

MUD_URLS = ["/mud/acme/cam-1.json", "/mud/acme/cam-1/1.0.json"]


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert body["errors"] == []
    return body


@pytest.mark.parametrize("url", MUD_URLS)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "trace"])
def test_writing_to_a_gateway_file_is_a_json_405_not_a_csrf_page(url, method):
    client = Client(enforce_csrf_checks=True)
    response = client.generic(method.upper(), url, b"{}", content_type="application/json")
    assert_json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


def test_an_unknown_method_on_a_gateway_file_is_a_json_405():
    response = Client().generic("PROPFIND", MUD_URLS[0])
    assert_json_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND"])
def test_unknown_methods_on_the_api_are_a_json_405(method):
    response = Client().generic(method, "/api/v1/status/")
    assert_json_error(response, 405, "method_not_allowed")


def test_a_csrf_failure_is_json_for_clients_and_a_page_for_browsers():
    client = Client(enforce_csrf_checks=True)
    body = assert_json_error(client.post("/admin/login/", {"username": "x"}), 403, "csrf_failed")
    assert "CSRF" in body["message"]
    page = client.post("/admin/login/", {"username": "x"}, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")


def test_an_unknown_url_is_json_even_with_the_debug_page_on(settings):
    settings.DEBUG = True
    response = Client().get("/mud/no/such/path/at/all", HTTP_ACCEPT="text/html")
    assert_json_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "url",
    ["/api/v1/contributors/%00/", "/mud/acme/cam-1/%00.json", "/mud/acme/cam-1/1.0%1b.json", "/api/v1/x%7f/"],
)
def test_a_control_character_in_the_path_is_a_json_404(url):
    assert_json_error(Client().get(url), 404, "not_found")


def test_a_control_character_in_a_query_parameter_is_a_400_naming_it():
    response = Client().get("/api/v1/device-models/?q=ok&firmware=1%00&ordering=%C2%85")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert sorted(p["path"] for p in body["errors"]) == ["/firmware", "/ordering"]
    assert {p["code"] for p in body["errors"]} == {"control_character"}


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_write_to_a_url_without_its_slash_is_a_json_404(settings, debug, method):
    settings.DEBUG = debug
    response = Client().generic(method, "/api/v1/votes", b"{}", content_type="application/json")
    assert_json_error(response, 404, "not_found")


def test_a_read_without_the_slash_is_still_redirected():
    response = Client().get("/api/v1/votes")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/votes/"
