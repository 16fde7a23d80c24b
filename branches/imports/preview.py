"""What a dry run tells the user: every row's fate, and the file-level facts about the read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from branches.imports.errors import RowError

NEW = "new"
CHANGED = "changed"
UNCHANGED = "unchanged"
ERROR = "error"
FATE_LABELS = {NEW: _("new"), CHANGED: _("changed"), UNCHANGED: _("unchanged"), ERROR: _("error")}


@dataclass
class RowFate:
    """One row of the file (or one figure of a wide row): what confirming would do with it."""

    row_no: int
    fate: str
    key: str
    old: str = ""
    new: str = ""
    errors: list[RowError] = field(default_factory=list)

    @property
    def fate_label(self) -> str:
        return str(FATE_LABELS[self.fate])


@dataclass
class Preview:
    """The dry run of one file. ``ok`` when nothing is in error: only then may it be confirmed."""

    kind: str
    filename: str
    file_format: str = ""
    encoding: str | None = None
    header_row_no: int | None = None
    notes: list[str] = field(default_factory=list)
    fates: list[RowFate] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(fate.fate for fate in self.fates)
        return {key: counted.get(key, 0) for key in (NEW, CHANGED, UNCHANGED, ERROR)}

    @property
    def errors(self) -> list[RowError]:
        return [error for fate in self.fates for error in fate.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(fate.fate == ERROR for fate in self.fates)

    @property
    def changes_nothing(self) -> bool:
        counts = self.counts
        return self.ok and counts[NEW] == 0 and counts[CHANGED] == 0


@dataclass
class ImportResult:
    """What a confirmed import wrote."""

    kind: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    batch_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.new or self.changed)
