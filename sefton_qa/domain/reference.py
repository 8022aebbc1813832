"""Reference data from the domain: default themes, service areas, audit template sections."""

from __future__ import annotations

import re

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


def case_reference_problem(value: str, pattern: str = DEFAULT_CASE_REFERENCE_PATTERN,
                           hint: str = DEFAULT_CASE_REFERENCE_HINT) -> str | None:
    """Return what is wrong with a case reference, or None when it is acceptable."""
    if not value or not value.strip():
        return "is required"
    if value != value.strip():
        return "must not start or end with spaces"
    if not re.fullmatch(pattern, value):
        return f'"{value}" is not a valid case reference ({hint})'
    return None
