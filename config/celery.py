"""The Celery application. Tasks live in each app's tasks.py and take ids, not objects."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kaimenhong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="kaimenhong.ping")
def ping(payload: str = "pong") -> dict:
    """Round-trip check: proves a worker took the task through the broker."""
    import socket

    return {"payload": payload, "worker_host": socket.gethostname(), "pid": os.getpid()}
