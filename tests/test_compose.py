"""docker-compose.yml: no Docker engine runs here, so the file is checked against the
Compose Specification schema (vendored by check-jsonschema) and for its cross-references."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import ROOT

COMPOSE = ROOT / "docker-compose.yml"


def load():
    return yaml.safe_load(COMPOSE.read_text())


def test_it_matches_the_compose_specification():
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    done = subprocess.run(
        [tool, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_it_has_no_version_key_and_every_service():
    doc = load()
    assert "version" not in doc
    assert set(doc["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat"}


def test_every_dependency_exists_with_a_condition():
    services = load()["services"]
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"


def test_the_databases_have_the_expected_healthchecks():
    services = load()["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_application_services_share_one_image_built_once():
    services = load()["services"]
    app = ["migrate", "web", "worker", "beat"]
    assert len({services[name]["image"] for name in app}) == 1
    assert sum(1 for name in app if "build" in services[name]) == 1
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_postgres_data_lives_on_a_volume():
    doc = load()
    mounts = doc["services"]["postgres"]["volumes"]
    assert any(m.endswith(":/var/lib/postgresql/data") and m.split(":")[0] in doc["volumes"] for m in mounts)
