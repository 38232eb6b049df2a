"""Rendering an answer never fails, even on a string UTF-8 cannot encode."""

from __future__ import annotations

import json

from profiles.api.renderers import JSONRenderer


def test_a_lone_surrogate_is_written_as_an_ascii_escape() -> None:
    body = JSONRenderer().render({"message": "bad \ud800 value", "ok": "é"})
    assert json.loads(body) == {"message": "bad \ud800 value", "ok": "é"}
    assert body.isascii()


def test_ordinary_answers_stay_utf8() -> None:
    assert JSONRenderer().render({"name": "Café"}) == '{"name":"Café"}'.encode()
