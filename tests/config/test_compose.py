import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_runs_web_worker_beat_postgres_and_redis_with_health_checks():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "postgres-data" in spec["volumes"]
    assert services["web"]["command"][0] == "gunicorn"
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_docker_compose_config_is_valid():
    command = compose_command()
    if command is None:
        pytest.skip("no docker compose CLI on this machine (the docker client here has no compose plugin)")
    env = {"SECRET_KEY": "compose-config-check", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
