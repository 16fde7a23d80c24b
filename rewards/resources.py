"""django-import-export resource for payout lines: the admin's export and small exports.

import-export's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` only strips a leading ``=``; text
fields here go through ``rewards.exporters.neutralise`` as well, so ``+``, ``-``, ``@``, tab and CR
are neutralised too, the same as on the streaming path.
"""

from __future__ import annotations

import tablib
from import_export import fields, resources, widgets

from rewards.exporters import neutralise
from rewards.models import PayoutLine

TEXT_FIELDS = (
    "figures_text",
    "payee_name",
    "employee_no",
    "unit_code",
    "unit_name",
    "rule_name",
    "non_cash_award",
    "formula",
)


class PayoutLineResource(resources.ModelResource):
    run_id = fields.Field(attribute="run_id", column_name="批次号", widget=widgets.IntegerWidget())
    # The kind in the bank's words (奖励, 扣回 …), not its code.
    kind = fields.Field(attribute="get_kind_display", column_name="类别")
    # The figures the line was paid on, in words (万元, %, places: rewards.line_figures).
    figures_text = fields.Field(column_name="计算数据")

    class Meta:
        model = PayoutLine
        fields = (
            "payee_name",
            "employee_no",
            "unit_code",
            "unit_name",
            "rule_name",
            "kind",
            "period_start",
            "period_end",
            "amount",
            "non_cash_award",
            "formula",
            "figures_text",
            "run_id",
        )
        export_order = fields

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from rewards.line_figures import FigureText

        self._figure_text = FigureText()

    def dehydrate_figures_text(self, line):
        return self._figure_text(rule_id=line.rule_id, kind=line.kind, figures=line.figures)

    def get_export_headers(self, selected_fields=None):
        headers = {
            "payee_name": "收款人",
            "employee_no": "员工号",
            "unit_code": "机构号",
            "unit_name": "机构名称",
            "rule_name": "奖励规则",
            "get_kind_display": "类别",
            "period_start": "期间起",
            "period_end": "期间止",
            "amount": "金额(元)",
            "non_cash_award": "实物/荣誉",
            "formula": "计算公式",
            "figures_text": "计算数据",
            "run_id": "批次号",
        }
        return [
            headers.get(field.attribute or field.column_name, field.column_name)
            for field in self.get_export_fields(selected_fields)
        ]

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return neutralise(value) if field.attribute in TEXT_FIELDS else value


# The columns in yuan of a statement's sheets: numbers shown with the payout workbook's ¥ format.
YUAN_HEADERS = {"金额(元)", "机构奖励(元)"}

SPONSORED_HEADERS = ("奖励方案", "承包社机构号", "机构名称", "分管主任员工号", "截至", "总得分", "完成全部任务", "机构奖励(元)")


def statement_sheet(lines, sponsored=()) -> bytes:
    """A person's or unit's statement as .xlsx: the lines (明细) and, for a person whose pay is tied
    to sponsored institutions (承包社, ``rewards.sponsorship``), a second sheet of those institutions."""
    # Native types in a workbook: amounts and run ids as numbers, dates as dates (else text).
    details = PayoutLineResource().export(queryset=lines, force_native_type=True)
    details.title = "明细"
    if not sponsored:
        return _as_finance_reads_it(details.xlsx)
    linked = tablib.Dataset(headers=SPONSORED_HEADERS, title="承包社")
    for row in sponsored:
        linked.append(
            (
                neutralise(row.scheme_name),
                neutralise(row.unit_code),
                neutralise(row.unit_name),
                neutralise(row.through),
                row.as_of,
                row.total_points,
                {True: "是", False: "否", None: ""}[row.met_all_targets],
                row.paid,
            )
        )
    return _as_finance_reads_it(tablib.Databook([details, linked]).export("xlsx"))


def _as_finance_reads_it(workbook: bytes) -> bytes:
    """The header row frozen, amounts in ¥ with two decimals, as in the payout workbook (a
    statement is a few hundred lines at most: rewritten in memory)."""
    from io import BytesIO

    from openpyxl import load_workbook

    from rewards.exporters import YUAN_FORMAT

    book = load_workbook(BytesIO(workbook))
    for sheet in book.worksheets:
        sheet.freeze_panes = "A2"
        for heading in sheet[1]:
            if heading.value in YUAN_HEADERS:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=heading.column, max_col=heading.column):
                    cell.number_format = YUAN_FORMAT
    out = BytesIO()
    book.save(out)
    return out.getvalue()
