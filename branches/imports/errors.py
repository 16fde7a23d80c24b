"""The two kinds of import error: the whole file is unusable, or one cell of one row is wrong."""

from __future__ import annotations

from dataclasses import dataclass


class ImportFileError(Exception):
    """The file cannot be read at all (empty, too big, not a spreadsheet, no header row …).

    ``message`` is already translated into the user's language.
    """

    def __init__(self, message: str):
        self.message = str(message)
        super().__init__(self.message)


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: ``row_no`` as the spreadsheet shows it, ``column`` as headed."""

    row_no: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row_no, "column": self.column, "message": str(self.message)}


class ImportAborted(Exception):
    """Confirming found errors (the data changed since the preview): nothing was written.

    ``preview`` holds the errors, as a :class:`branches.imports.preview.Preview`.
    """

    def __init__(self, preview):
        from django.utils.translation import gettext as _

        self.preview = preview
        super().__init__(_("The file has errors; nothing was written."))
