"""The settings module, loaded in fresh processes with different environments."""

import json
import os
import subprocess
import sys

from tests.support import ROOT

PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'],"
    "'cache': s.CACHES['default']['BACKEND'], 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    "'secure': getattr(s, 'SESSION_COOKIE_SECURE', False),"
    "'options': s.DATABASES['default'].get('OPTIONS', {})}))"
)
VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MUDHUB_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")


def load(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "aggregator.settings", "MUDHUB_VAR_DIR": str(tmp_path)}, **overrides)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_with_no_variables_it_is_embedded(tmp_path):
    done = load(tmp_path)
    assert done.returncode == 0, done.stderr
    s = json.loads(done.stdout)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert s["cache"].endswith("FileBasedCache")
    assert s["eager"] is True
    assert s["debug"] is True  # bound to loopback by default


def test_debug_is_off_by_default_when_bound_beyond_loopback(tmp_path):
    s = json.loads(load(tmp_path, MUDHUB_BIND="0.0.0.0:8000").stdout)
    assert s["debug"] is False


def test_database_and_redis_urls_switch_backends(tmp_path):
    done = load(tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0")
    assert done.returncode == 0, done.stderr
    s = json.loads(done.stdout)
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["cache"].endswith("RedisCache")
    assert s["eager"] is False


def test_production_requires_a_secret_key(tmp_path):
    done = load(tmp_path, MUDHUB_ENV="production", ALLOWED_HOSTS="mudhub.example", REDIS_URL="redis://127.0.0.1:6379/0")
    assert done.returncode != 0
    assert "requires the environment variable SECRET_KEY" in done.stderr


def test_production_requires_allowed_hosts(tmp_path):
    done = load(tmp_path, MUDHUB_ENV="production", SECRET_KEY="x" * 50, REDIS_URL="redis://127.0.0.1:6379/0")
    assert done.returncode != 0
    assert "requires the environment variable ALLOWED_HOSTS" in done.stderr


def test_production_refuses_inline_tasks(tmp_path):
    done = load(tmp_path, MUDHUB_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="mudhub.example")
    assert done.returncode != 0
    assert "requires REDIS_URL" in done.stderr


def test_production_with_everything_set_is_hardened(tmp_path):
    done = load(
        tmp_path,
        MUDHUB_ENV="production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="mudhub.example",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert done.returncode == 0, done.stderr
    s = json.loads(done.stdout)
    assert s["debug"] is False
    assert s["secure"] is True
    assert s["eager"] is False


def test_an_unknown_environment_name_is_refused(tmp_path):
    done = load(tmp_path, MUDHUB_ENV="prod")
    assert done.returncode != 0
    assert "MUDHUB_ENV must be" in done.stderr


def test_every_scheduled_task_exists():
    """A misspelt task name in the beat schedule would be sent and never run."""
    from django.conf import settings

    from aggregator.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "profiles.tasks.expired_tokens_delete" in names
    assert names <= set(app.tasks), names - set(app.tasks)
