"""gunicorn.conf.py: every way mudhub runs gunicorn (make serve, the image, compose) reads it,
and its request timeout, long enough for a slow gateway to read the export, is configurable."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.support import ROOT


def resolved(**env: str) -> dict[str, str]:
    """gunicorn's own view of its settings, started as the Makefile and the image start it."""
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", "aggregator.wsgi:application"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in done.stdout.splitlines())}


def test_the_timeout_defaults_to_five_minutes_and_follows_the_environment():
    assert resolved(MUDHUB_GUNICORN_TIMEOUT="")["timeout"] == "300"
    assert resolved(MUDHUB_GUNICORN_TIMEOUT="900")["timeout"] == "900"
    assert resolved(MUDHUB_GUNICORN_GRACEFUL_TIMEOUT="45")["graceful_timeout"] == "45"


def test_no_command_overrides_the_configured_timeout():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = [" ".join(compose["services"]["web"]["command"]), (ROOT / "Dockerfile").read_text(),
                (ROOT / "Makefile").read_text()]  # fmt: skip
    for text in commands:
        assert "gunicorn" in text and "--timeout" not in text and " -t " not in text
    assert compose["x-app"]["environment"]["MUDHUB_GUNICORN_TIMEOUT"] == "${MUDHUB_GUNICORN_TIMEOUT:-300}"
