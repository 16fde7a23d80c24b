"""Changes a planner makes to a loaded template before importing it, shared by the open-point tests.

Each returns the edited part of the document so a test can change it further.
"""


def _named(items: list[dict], code: str, section: str) -> dict:
    for item in items:
        if item["code"] == code:
            return item
    raise KeyError(f"{section}: no {code}")


def rule(doc: dict, code: str) -> dict:
    """The rule ``code`` of the document's ``rules`` (its dict, to edit in place)."""
    return _named(doc["rules"], code, "rules")


def ranking(doc: dict, code: str) -> dict:
    """The ranking ``code`` of the document's ``rankings``."""
    return _named(doc["rankings"], code, "rankings")


def choose(doc: dict, **options) -> dict:
    """Record the planner's choice for open points in ``campaign.options``."""
    doc["campaign"]["options"].update(options)
    return doc["campaign"]["options"]
