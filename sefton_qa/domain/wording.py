"""How the app words records for people: field labels, what a change was, and times.

One place for these, so the history in the window, the packs and the messages say the same
thing (the database's column names and UTC timestamps are never shown to a user).
"""

from __future__ import annotations

import datetime as dt

#: An audit's fields as the audit form labels them, by the services' field names (a column
#: name such as ``service_area_id`` is looked up without its ``_id``).
AUDIT_FIELD_LABELS = {
    "case_reference": "Case reference",
    "audit_type": "Audit type",
    "audit_date": "Audit date",
    "selection": "How the case was chosen",
    "service_area": "Service area",
    "team": "Team",
    "auditor": "Auditor",
    "team_manager": "Team manager",
    "template": "Template",
    "sections": "Section grades",
    "overall_grade": "Overall grade",
    "findings": "Findings",
    "status": "Status",
    "themes": "Themes",
    "reason": "Reason",
}

#: What a trail row's kind means, in the past tense.
CHANGE_WORDS = {
    "create": "created",
    "update": "changed",
    "submit": "submitted",
    "withdraw": "withdrawn",
    "undo": "change undone",
    "redo": "change redone",
    "import": "imported",
    "demo": "created (demo data)",
    "regraded": "regraded by moderation",
    "reaudit-linked": "linked to its re-audit",
    "seed": "set up",
}

DATE_FORMAT = "%d/%m/%Y"


def date_text(day: dt.date | None, missing: str = "—") -> str:
    """A date as everyone in the app and the packs reads it, 24/11/2026: the one place the
    format is written."""
    return day.strftime(DATE_FORMAT) if day else missing


def field_label(field: str) -> str:
    name = field.removesuffix("_id")
    return AUDIT_FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def change_words(kind: str) -> str:
    return CHANGE_WORDS.get(kind, kind.replace("_", " ").replace("-", " "))


def local_time_text(at_utc: str) -> str:
    """A trail time (UTC, ISO) as this computer's local date and time, e.g. 04/12/2026 16:58."""
    try:
        moment = dt.datetime.strptime(at_utc[:26].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        try:
            moment = dt.datetime.strptime(at_utc[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return at_utc
    local = moment.replace(tzinfo=dt.timezone.utc).astimezone()
    return local.strftime(f"{DATE_FORMAT} %H:%M")


def problem_sentence(label: str | None, message: str, *, beside: bool = False,
                     capital: bool = True, full_stop: bool = False) -> str:
    """A service's problem as people read it, the one rule everywhere: a message that says
    what the field is ("is required", "must be…", "are…") follows the field's name; any other
    follows the name and a colon, or stands alone ``beside`` its field (or with no name).
    ``capital`` starts it with a capital; ``full_stop`` ends it with one."""
    if label is None:
        text = message
    elif message.startswith(("is ", "must ", "are ")):
        text = f"{label} {message}"
    else:
        text = message if beside else f"{label}: {message}"
    if capital:
        text = text[:1].upper() + text[1:]
    if full_stop and not text.endswith((".", "?", "!")):
        text += "."
    return text


def time_left_text(elapsed: float, done: int, total: int) -> str | None:
    """How long long work still needs, said roughly ("about 40 seconds left", "about 3
    minutes left"), from how long it has taken so far; None until there is enough to go on
    (under 2 seconds in, or nothing done yet) and once it is finished."""
    if done <= 0 or total <= done or elapsed < 2:
        return None
    left = elapsed * (total - done) / done
    if left < 10:
        return "a few seconds left"
    if left < 55:
        return f"about {max(10, round(left / 10) * 10)} seconds left"
    minutes = max(1, round(left / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''} left"
