"""GET /api/v1/ lists the resources, and every link it gives answers."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_resources_that_answer(api):
    response = api.get("/api/v1/")
    assert response.status_code == 200
    resources = response.json()["resources"]
    assert {"device-models", "manufacturers", "submissions", "changes", "status"} <= set(resources)
    for name, item in resources.items():
        code = api.get(item["url"]).status_code
        assert code in (200, 401, 403, 405, 503), (name, code)


def test_the_web_pages_stay_out_of_the_openapi_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    # The API and the gateway files (documented with their headers), nothing of the web pages.
    assert all(path.startswith(("/api/", "/mud/")) for path in schema["paths"])
