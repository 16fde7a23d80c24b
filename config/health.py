"""Liveness and readiness for the load balancer and docker-compose health checks."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    status = {"database": "ok", "cache": "ok"}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # report, never raise: this is the health page
        status["database"] = f"error: {type(exc).__name__}"
        code = 503
    try:
        cache.set("healthz", "1", 5)
    except Exception as exc:
        status["cache"] = f"error: {type(exc).__name__}"
    return JsonResponse(status, status=code)
