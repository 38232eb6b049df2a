"""The OpenAPI document describes what the API answers: errors, security, the feed, the gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from tests.factories import ContributorFactory

METHODS = {"get", "post", "put", "patch", "delete", "head"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op) for path, ops in document["paths"].items() for method, op in ops.items() if method in METHODS
    ]


def error_ref(response: dict[str, Any]) -> str | None:
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")


def test_the_document_is_valid_openapi(document):
    validate_schema(document)


def test_the_document_is_generated_without_a_warning(tmp_path):
    # A warning means drf-spectacular guessed (a field's type, an enum's name): the guess is
    # not what the API promises. --fail-on-warn turns any such guess into an error.
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_every_error_an_operation_can_give_is_documented_in_the_shared_shape(document):
    for path, method, op in operations(document):
        responses = op["responses"]
        where = f"{method.upper()} {path}"
        assert "503" in responses, where
        if "requestBody" in op:
            assert {"400", "413", "415"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
        if not path.startswith("/mud/") and path != "/api/v1/status/":
            assert "429" in responses, where
        for code, response in responses.items():
            if code >= "400" and method != "head" and path != "/api/v1/status/":  # its 503 is the readiness report
                ref = error_ref(response)  # the shared shape, or a shape that extends it (the feed's 410)
                assert ref is not None, f"{where} {code}"
                shape = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
                assert {"code", "message", "errors"} <= set(shape["properties"]), f"{where} {code}"
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "errors"}
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"code", "path", "message"}


def test_throttled_and_unavailable_answers_document_retry_after(document):
    for path, method, op in operations(document):
        for code in ("429", "503"):
            if code in op["responses"] and path != "/api/v1/status/" and method != "head":
                assert "Retry-After" in op["responses"][code]["headers"], f"{method} {path} {code}"


def test_public_operations_take_the_token_as_optional_and_the_others_require_it(document):
    def security(path: str, method: str) -> list[dict[str, Any]]:
        return document["paths"][path][method]["security"]

    assert {} in security("/api/v1/moderation/decisions/", "get")  # public for transparency
    assert {} in security("/api/v1/device-models/", "get")
    assert {} not in security("/api/v1/moderation/decisions/", "post")
    assert {} not in security("/api/v1/moderation/queue/", "get")  # moderators only
    assert {} not in security("/api/v1/submissions/", "post")
    assert security("/api/v1/status/", "get") == [{}]
    assert security("/api/v1/auth/token/", "post") == [{}]
    assert "401" in document["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert "403" in document["paths"]["/api/v1/moderation/queue/"]["get"]["responses"]
    assert "403" not in document["paths"]["/api/v1/device-models/"]["get"]["responses"]


@pytest.mark.django_db
def test_the_change_feed_is_documented_as_the_page_it_answers(document, api):
    schema = document["paths"]["/api/v1/changes/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    body = api.get("/api/v1/changes/").json()
    assert set(page["properties"]) == set(body)
    assert {"since", "last_seq", "more", "results"} <= set(body)
    assert page["properties"]["results"]["type"] == "array"


@pytest.mark.django_db
def test_hand_built_bodies_are_documented_member_for_member(document, api):
    person = ContributorFactory()
    body = api.get(f"/api/v1/contributors/{person.user.username}/").json()
    standing = document["components"]["schemas"]["ContributorStanding"]
    assert set(standing["properties"]) == set(body)
    assert set(document["components"]["schemas"]["ContributorCounts"]["properties"]) == set(body["counts"])
    status = api.get("/api/v1/status/").json()
    assert set(document["components"]["schemas"]["Status"]["properties"]) == set(status)


def test_the_gateway_files_are_documented_with_their_headers(document):
    for path in ("/mud/{manufacturer}/{model}.json", "/mud/{manufacturer}/{model}/{firmware}.json"):
        get = document["paths"][path]["get"]
        assert set(get["responses"]) == {"200", "304", "400", "404", "410", "503"}
        assert any(p["name"] == "region" and p["in"] == "query" for p in get["parameters"])
    for path in (
        "/mud/{manufacturer}/{model}.json",
        "/mud/{manufacturer}/{model}/{firmware}.json",
        "/mud/{manufacturer}/{model}@{region}.json",
    ):
        get = document["paths"][path]["get"]
        assert {"200", "304", "404", "410", "503"} <= set(get["responses"])
        assert "application/mud+json" in get["responses"]["200"]["content"]
        for code in ("200", "304"):
            assert {"ETag", "Cache-Control"} <= set(get["responses"][code]["headers"])
        assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in get["parameters"])
        assert get["security"] == [{}]
        assert "content" not in document["paths"][path]["head"]["responses"]["200"]


def test_created_and_listed_objects_link_to_the_operations_on_them(document):
    created = document["paths"]["/api/v1/submissions/"]["post"]["responses"]["201"]["links"]
    assert created["v1_submissions_retrieve"]["parameters"] == {"id": "$response.body#/id"}
    assert "v1_submissions_report_create" in created
    listed = document["paths"]["/api/v1/votes/"]["get"]["responses"]["200"]["links"]
    assert listed["v1_votes_destroy"]["parameters"] == {"id": "$response.body#/results/0/id"}


def test_the_schema_is_served_as_json_on_request(client):
    for response in (
        client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"),
        client.get("/api/schema/?format=json"),
    ):
        assert response.status_code == 200
        assert json.loads(response.content)["openapi"].startswith("3.")


@pytest.mark.django_db
def test_format_is_a_filter_of_submissions_not_a_choice_of_renderer(api):
    response = api.get("/api/v1/submissions/?format=flows")
    assert response.status_code == 200
    assert response.json()["results"] == []
