"""Reading spreadsheets and importing them: the shared machinery of every import.

Public entry points: ``kinds.preview_file`` / ``kinds.apply_file`` for the browser imports (each a
django-import-export Resource, see ``resources``),
``reader.read_table`` and ``headers.locate_header`` for any other loader, and
``figures.validate_records`` for figures arriving by other routes (the REST API).
"""
