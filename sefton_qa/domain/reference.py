"""Reference data from the domain: default themes, service areas, audit template sections."""

from __future__ import annotations

import functools

import regex

from sefton_qa.domain.errors import SeftonError

#: Themes inspectors keep naming (see shared/DOMAIN.md). Seeded into every new store.
DEFAULT_THEMES: tuple[str, ...] = (
    "Drift and delay",
    "Permanence planning",
    "Care planning",
    "Weak assessments",
    "Child's voice",
    "Management oversight",
    "Contact with family",
    "Kinship carer assessments",
    "Mental and emotional health",
    "Domestic abuse",
    "Neglect",
    "Exploitation",
    "Unsuitable accommodation",
    "Support ended prematurely",
    "Case recording",
    "Overly optimistic auditing",
)

#: Service areas seen in this work; offered when setting up a store for real.
DEFAULT_SERVICE_AREAS: tuple[str, ...] = (
    "Front Door / MASH",
    "Assessment",
    "Children in Need",
    "Child Protection",
    "Children in Care",
    "Permanence and Fostering",
    "Care Leavers",
    "Children with Disabilities",
    "Exploitation and Adolescent Services",
    "Early Help",
)

#: The default deep-dive template: (key, title, prompt).
DEFAULT_TEMPLATE_NAME = "Deep-dive case audit"
DEFAULT_TEMPLATE_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("voice", "The child's voice and lived experience",
     "Is the child seen, heard and understood? Is their daily life clear from the record?"),
    ("assessment", "Assessment", "Is the assessment timely, analytical and up to date?"),
    ("planning", "Planning",
     "Is the plan child-centred and purposeful, with clear actions and timescales?"),
    ("oversight", "Management oversight and supervision",
     "Is there regular, reflective supervision that drives the plan?"),
    ("multi_agency", "Multi-agency working", "Do partners share information and act together?"),
    ("impact", "Impact and outcomes", "Is the child's situation better because of our work?"),
    ("permanence", "Permanence", "For children in care: is permanence planned without delay?"),
    ("recording", "Recording", "Is the record accurate, timely and written for the child?"),
)

DEFAULT_CASE_REFERENCE_PATTERN = r"^[A-Za-z0-9-]{3,20}$"
DEFAULT_CASE_REFERENCE_HINT = "3 to 20 letters, digits or hyphens"


#: How long one case reference may take to match the format. A reference that takes longer
#: is refused (and an import stops), never left to spin: some patterns backtrack for ever on a
#: crafted reference (``(a|aa)+`` on forty a's and a !). The ``regex`` package enforces it.
MATCH_TIMEOUT_S = 0.05
#: References tried against a format when an administrator saves it; a format that takes
#: longer than MATCH_TIMEOUT_S on any of them is refused.
_PROBE_UNITS = ("a", "A", "0", "-", "/", " ", "aA0", "a-", "0/", "A0-")
_PROBES = tuple(unit * n + end for unit in _PROBE_UNITS for n in (25, 120)
                for end in ("!", "\u00ff", ""))


class PatternTooSlow(SeftonError):
    """Matching a case reference against the store's format did not finish in time."""

    def __init__(self, value: str) -> None:
        shown = value if len(value) <= 40 else value[:37] + "..."
        super().__init__(
            f'The case reference "{shown}" could not be checked against this store\'s '
            f"case-reference format within {MATCH_TIMEOUT_S * 1000:.0f} ms: the format can "
            "take for ever on some references. Ask an administrator to simplify it in "
            "Settings (a repeat of alternatives that overlap, such as (a|aa)+, is the usual "
            "cause). Nothing "
            "was saved.")


@functools.lru_cache(maxsize=32)
def compile_pattern(pattern: str) -> "regex.Pattern[str]":
    """The format compiled (``regex``, in its ``re``-compatible mode); ``regex.error`` if the
    pattern is not valid."""
    return regex.compile(pattern, regex.VERSION0)


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with a case-reference format an administrator wants to save: not a valid
    pattern, or one that takes too long on some reference. None when it is fine."""
    try:
        compiled = compile_pattern(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        return f"is not a valid pattern: {exc}"
    for probe in _PROBES:
        try:
            compiled.fullmatch(probe, timeout=MATCH_TIMEOUT_S)
        except TimeoutError:
            return ("takes too long to check some references (it can backtrack for ever, "
                    "usually a repeat of alternatives that overlap, such as (a|aa)+); write it "
                    "so that each character can be matched one way only")
    return None


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches the format, within MATCH_TIMEOUT_S (else PatternTooSlow)."""
    try:
        return compile_pattern(pattern).fullmatch(value, timeout=MATCH_TIMEOUT_S) is not None
    except TimeoutError:
        raise PatternTooSlow(value) from None


def case_reference_problem(value: str, pattern: str = DEFAULT_CASE_REFERENCE_PATTERN,
                           hint: str = DEFAULT_CASE_REFERENCE_HINT) -> str | None:
    """Return what is wrong with a case reference, or None when it is acceptable. Raises
    PatternTooSlow when the format cannot decide in time."""
    if not value or not value.strip():
        return "is required"
    if value != value.strip():
        return "must not start or end with spaces"
    if not matches(pattern, value):
        return f'"{value}" is not a valid case reference ({hint})'
    return None
