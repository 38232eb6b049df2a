import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_url_is_a_json_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_an_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v1/no-such-resource/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_malformed_json_is_a_400_with_a_code(client):
    response = client.post("/api/v1/auth/token/", data=b'{"username": ', content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "malformed_json"
    assert body["message"]


def test_a_wrong_media_type_is_a_415(client):
    response = client.post("/api/v1/auth/token/", data=b"username=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_wrong_method_is_a_405(client):
    response = client.delete("/api/v1/status/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_the_openapi_schema_and_swagger_ui_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/auth/register/" in schema.content
    ui = client.get("/api/schema/swagger-ui/")
    assert ui.status_code == 200
    html = ui.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()  # the sidecar serves Swagger UI from our static files
