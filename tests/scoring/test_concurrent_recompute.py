"""Two recomputes of the same day at once: serialised by the lock, one current board, no mixed rows."""

import datetime
import threading

import pytest
from django.db import connection, connections

from scoring.engine import recompute
from scoring.models import ParticipantResult, ResultSet
from tests.scoring.conftest import Builder

DAY = datetime.date(2027, 1, 10)


@pytest.mark.django_db(transaction=True)
def test_two_recomputes_of_one_day_do_not_interleave():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every write; the advisory lock is PostgreSQL's")
    build = Builder()
    build.branches(*[f"B{i}" for i in range(1, 13)])
    build.metric("dep", figure="value_at_date")
    build.facts("dep", DAY, **{f"B{i}": i * 100 for i in range(1, 13)})
    build.rule("dep", "threshold", "dep", 100, params={"bar": "500"})
    errors, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            recompute(build.campaign.pk, DAY)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sets = list(ResultSet.objects.order_by("version").values_list("version", "is_current"))
    assert sets == [(1, False), (2, True)]
    for version_id in ResultSet.objects.values_list("pk", flat=True):
        assert ParticipantResult.objects.filter(result_set_id=version_id).count() == 12
