"""Every line shows the figures it was paid on, in the user's language (万元, %, places), on the run
page, the statement page, the workbook, the CSV and the statement sheet."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from branches.models import Indicator, Measure
from rewards import exporters, services
from rewards.line_figures import FigureText, format_value
from rewards.models import LineKind, RewardRule
from tests.rewards.conftest import BASE_DAY, JAN_END, pay, put_facts


@pytest.fixture
def january(scheme, finance, small_bank):
    """B1's deposits (存款, an amount in yuan) rise by 3,000,000 in January: 1,000 per full 1,000,000."""
    put_facts("DEP", [(small_bank["b1"], BASE_DAY, 0), (small_bank["b1"], JAN_END, 3_000_000)])
    Indicator.objects.filter(code="DEP").update(name="存款", measure=Measure.AMOUNT)
    RewardRule.objects.create(
        scheme=scheme, code="P", name="存款计件", kind="piece_rate",
        params={"figure": {"indicator": "DEP", "measure": "increase"}, "rate": "1000", "per": "1000000"},
    )
    return pay(scheme, finance, JAN_END)


ZH = "存款：300.00万元 · 计奖部分：300.00万元"


def test_money_is_shown_in_wan_yuan_exactly_and_rates_as_percentages():
    with translation.override("zh-hans"):
        assert format_value("money", "8888884") == "888.8884万元"
        assert format_value("money", "3000000.0000") == "300.00万元"
        assert format_value("money", "1234567.89") == "123.456789万元"
        assert format_value("rate", "0.8888884") == "88.88884%"
        assert format_value("rate", "0.96") == "96.00%"
        assert format_value("place", 2) == "第2名"
        assert format_value("count", "12") == "12"
    with translation.override("en"):
        assert format_value("money", "3000000") == "300.00 (10,000 yuan)"
        assert format_value("place", 2) == "no. 2"


def test_the_line_describes_the_figures_of_its_rule(january):
    line = january.lines.get()
    assert line.figures == {"figure": "3000000.0000", "above": "0", "counted": "3000000.0000"}
    with translation.override("zh-hans"):
        assert FigureText()(rule_id=line.rule_id, kind=line.kind, figures=line.figures) == ZH
    with translation.override("en"):
        assert FigureText()(rule_id=line.rule_id, kind=line.kind, figures=line.figures) == (
            "存款: 300.00 (10,000 yuan) · counted: 300.00 (10,000 yuan)"
        )


def test_a_manual_adjustment_shows_its_reason_and_who_entered_it(january, scheme, finance):
    from rewards.models import PeriodKind

    correction = services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.CORRECTION, period_start=JAN_END.replace(day=1), period_end=JAN_END,
        by=finance["maker"],
    )
    line = services.add_adjustment_line(
        correction, original=january.lines.get(), amount="-1000", reason="虚增存款", by=finance["maker"]
    )
    assert line.kind == LineKind.MANUAL
    with translation.override("zh-hans"):
        assert FigureText()(rule_id=line.rule_id, kind=line.kind, figures=line.figures) == "原因：虚增存款 · 录入人：finance"


def test_the_run_page_and_the_statement_page_show_the_figures(client, january, finance, small_bank):
    client.force_login(finance["maker"])
    with translation.override("zh-hans"):
        run_page = client.get(reverse("rewards:run", args=[january.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
        statement = client.get(reverse("rewards:unit_statement", args=["B1"]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    for page in (run_page, statement):
        assert [line.figures_text for line in page.context["lines"]] == [ZH]
        assert ZH in page.content.decode()


def test_the_workbook_the_csv_and_the_statement_sheet_carry_the_figures(client, january, finance, tmp_path):
    with translation.override("zh-hans"):
        exporters.get("payout_xlsx").render(january, str(tmp_path / "run.xlsx"))
        exporters.get("payout_csv").render(january, str(tmp_path / "run.csv"))
    sheet = list(openpyxl.load_workbook(tmp_path / "run.xlsx")["明细"].iter_rows(values_only=True))
    assert dict(zip(sheet[0], sheet[1], strict=True))["计算数据"] == ZH
    rows = list(csv.reader((tmp_path / "run.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert dict(zip(rows[0], rows[1], strict=True))["计算数据"] == ZH
    client.force_login(finance["maker"])
    response = client.get(reverse("rewards:unit_statement", args=["B1"]) + "?format=xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans")
    statement = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert dict(zip(statement[0], statement[1], strict=True))["计算数据"] == ZH


def test_an_export_is_written_in_the_requesters_language(january, finance, monkeypatch, django_capture_on_commit_callbacks):
    from rewards import tasks

    sent = []
    monkeypatch.setattr(tasks.render_payout_export, "delay", lambda *args: sent.append(args))
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        export = services.request_payout_export(january, exporter="payout_csv", by=finance["maker"])
    assert sent == [(export.pk, "en")]
    with translation.override("zh-hans"):  # the worker's own language is the site's
        tasks.render_payout_export(*sent[0])
    export.refresh_from_db()
    text = export.file.read().decode("utf-8-sig")
    assert "存款: 300.00 (10,000 yuan) · counted: 300.00 (10,000 yuan)" in text
    assert "Award (奖励)" in text  # the kind in English too
