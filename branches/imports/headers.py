"""Finding the header row and mapping Chinese or English headers to the columns an import needs.

Bank spreadsheets often carry a title ("2027年1月各网点存款余额表"), merged over the columns, and a
"制表单位/日期" line above the real header: the header row is the first of the first
``HEADER_SCAN_ROWS`` rows that holds every required column. Headers match case-, space- and
width-insensitively; a unit in brackets is read and applied: "存款余额(万元)" is the deposit
balance indicator with its values multiplied by 10,000 (facts are stored in yuan).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from branches.imports.errors import ImportFileError
from branches.imports.reader import Table

HEADER_SCAN_ROWS = 20

# Units a header may carry in brackets, and the factor that turns the figure into the stored one.
UNIT_SCALES = {
    "万元": Decimal(10000),
    "亿元": Decimal(100000000),
    "千元": Decimal(1000),
    "元": Decimal(1),
    "%": Decimal("0.01"),
}
_BRACKETED_UNIT = re.compile(r"^(?P<name>.*?)[(\[](?P<unit>[^)\]]*)[)\]]$")


@dataclass(frozen=True)
class Column:
    """A column an import understands: a stable ``key``, the label errors show, accepted headers."""

    key: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False


@dataclass
class HeaderMap:
    """Where each known column is, which columns are indicators, and which were not understood."""

    header_row_no: int
    headers: list[str]
    index_of: dict[str, int]
    indicator_columns: dict[int, tuple[object, Decimal]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    skipped_title_rows: int = 0

    def label(self, index: int) -> str:
        return self.headers[index] if index < len(self.headers) else f"#{index + 1}"


@functools.lru_cache(maxsize=4096)
def normalise(header) -> tuple[str, Decimal]:
    """The comparable form of a header and the scale its bracketed unit implies (1 if none).

    Cached: a long file names the same few indicators in every row.
    """
    text = unicodedata.normalize("NFKC", str(header or "")).strip()
    scale = Decimal(1)
    match = _BRACKETED_UNIT.match(text)
    if match and match.group("unit").strip() in UNIT_SCALES:
        scale = UNIT_SCALES[match.group("unit").strip()]
        text = match.group("name")
    return re.sub(r"[\s_\-·.]+", "", text).lower(), scale


def locate_header(
    table: Table,
    columns: Iterable[Column],
    *,
    indicators: dict[str, object] | None = None,
    missing: Callable[[dict[str, int], dict[int, tuple[object, Decimal]]], list[str]] | None = None,
) -> HeaderMap:
    """Find the header row of ``table`` and map its cells to ``columns`` and ``indicators``.

    ``indicators`` maps normalised indicator names/codes to an indicator object (see
    :func:`indicator_lookup`). ``missing`` returns the labels of required columns still missing
    for a candidate row (default: every ``required`` column). Raises ImportFileError naming the
    missing columns when no row among the first HEADER_SCAN_ROWS qualifies.
    """
    columns = list(columns)
    alias_to_key = {}
    for column in columns:
        for alias in (column.key, *column.aliases):
            alias_to_key[normalise(alias)[0]] = column.key
    indicators = indicators or {}

    def default_missing(index_of, _indicator_columns):
        return [c.label for c in columns if c.required and c.key not in index_of]

    missing = missing or default_missing
    best: tuple[int, list[str]] | None = None
    for position, (row_no, cells) in enumerate(table.rows[:HEADER_SCAN_ROWS]):
        index_of: dict[str, int] = {}
        indicator_columns: dict[int, tuple[object, Decimal]] = {}
        ignored = []
        for index, cell in enumerate(cells):
            if cell is None:
                continue
            name, scale = normalise(cell)
            if name in alias_to_key and alias_to_key[name] not in index_of:
                index_of[alias_to_key[name]] = index
            elif name in indicators:
                indicator_columns[index] = (indicators[name], scale)
            else:
                ignored.append(str(cell))
        absent = missing(index_of, indicator_columns)
        recognised = len(index_of) + len(indicator_columns)
        if not absent and recognised:
            headers = ["" if cell is None else str(cell).strip() for cell in cells]
            return HeaderMap(
                header_row_no=row_no,
                headers=headers,
                index_of=index_of,
                indicator_columns=indicator_columns,
                ignored=ignored,
                skipped_title_rows=position,
            )
        if recognised and (best is None or len(absent) < len(best[1])):
            best = (row_no, absent)
    if best is None:
        raise ImportFileError(
            _("No header row found in the first %(count)s rows. Expected columns such as: %(columns)s.")
            % {"count": HEADER_SCAN_ROWS, "columns": ", ".join(c.label for c in columns if c.required) or "—"}
        )
    raise ImportFileError(
        _("Row %(row)s looks like the header but lacks the column(s): %(columns)s.")
        % {"row": best[0], "columns": ", ".join(best[1])}
    )


def indicator_lookup(indicators: Iterable) -> dict[str, object]:
    """Normalised code, name and English name of each indicator → the indicator."""
    lookup = {}
    for indicator in indicators:
        for word in (indicator.code, indicator.name, indicator.name_en):
            if word:
                lookup.setdefault(normalise(word)[0], indicator)
    return lookup


def cell(cells: list, index: int | None):
    """The cell at ``index`` (None when the column is absent or the row is short)."""
    if index is None or index >= len(cells):
        return None
    return cells[index]


def ignored_columns_note(header: HeaderMap) -> list[str]:
    """The note naming the columns of the header row that are not imported (a typo shows here)."""
    ignored = [name for name in header.ignored if name.strip()]
    if not ignored:
        return []
    return [_("Columns not imported: %(columns)s.") % {"columns": ", ".join(ignored)}]
