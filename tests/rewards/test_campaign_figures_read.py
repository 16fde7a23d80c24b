"""Rewards read the campaign's own figure, not a month's, and only participants of the asked level."""

from decimal import Decimal

from branches.models import SubjectKind
from rewards.figures import FigureBook
from tests.rulebooks.test_rulebook_a_scoring import QUARTER_END, rulebook_a  # noqa: F401 - fixture


def test_a_metric_figure_is_the_quarters_not_januarys(rulebook_a):  # noqa: F811
    campaign, _result_set = rulebook_a
    book = FigureBook(start=campaign.start_date, as_of=QUARTER_END, campaign_code=campaign.code)
    rates = book.evaluate({"metric": "collection_rate", "field": "actual"})
    b02 = campaign.participants.get(unit__code="B02").subject_id
    # January alone was 96 %; the quarter's collected ÷ due is 293 ÷ 300.
    assert rates[b02].quantize(Decimal("0.0001")) == (Decimal(293) / Decimal(300)).quantize(Decimal("0.0001"))


def test_a_staff_level_expression_reads_no_unit_participants(rulebook_a):  # noqa: F811
    campaign, _result_set = rulebook_a
    book = FigureBook(start=campaign.start_date, as_of=QUARTER_END, campaign_code=campaign.code)
    assert book.evaluate({"metric": "deposits", "field": "actual", "level": "staff"}) == {}
    assert len(book.evaluate({"metric": "deposits", "field": "actual"})) == 12
    assert campaign.participants.filter(subject_kind=SubjectKind.UNIT).count() == 12


def test_a_staff_flag_reads_no_flagged_unit_participant(rulebook_a):  # noqa: F811
    """A flag held by a unit is not a staff figure (in a mixed campaign the two share the flag codes)."""
    from scoring.services import set_flag

    campaign, _result_set = rulebook_a
    set_flag(participant=campaign.participants.get(unit__code="B08"), code="falsified")
    book = FigureBook(start=campaign.start_date, as_of=QUARTER_END, campaign_code=campaign.code)
    assert book.evaluate({"flag": "falsified", "level": "staff"}) == {}
    b08 = campaign.participants.get(unit__code="B08").subject_id
    assert book.evaluate({"flag": "falsified"}) == {b08: Decimal(1)}
