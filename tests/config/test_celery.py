"""Celery for real: a worker process takes a task through Redis; without Redis, tasks run in-process."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**overrides: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **overrides})
    return env


@pytest.mark.services
def test_a_real_worker_runs_a_task_sent_through_redis(redis_url, tmp_path):
    from config.celery import app, ping

    queue = f"test-{uuid.uuid4().hex[:10]}"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
            "-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=clean_env(REDIS_URL=redis_url, KMH_VAR_DIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert app.conf.task_always_eager is False
        result = ping.apply_async(args=["through-the-broker"], queue=queue)
        reply = result.get(timeout=90)
        assert reply["payload"] == "through-the-broker"
        assert reply["pid"] == worker.pid  # solo pool: the worker process itself ran it
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_without_redis_tasks_run_in_process(tmp_path):
    script = (
        "import django, os; django.setup();"
        "from config.celery import app, ping;"
        "r = ping.delay('eager');"
        "assert app.conf.task_always_eager;"
        "print(r.get()['payload'], r.get()['pid'] == os.getpid())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean_env(KMH_VAR_DIR=str(tmp_path)),
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["eager", "True"]
