"""The cover report committees expect before the figures: purpose, recommendations, what is
being done, contact officer and background papers; on the internal version, the paragraph
that exempts it from publication, and on the public one, that it is for publication.

Kept per store (a setting, trailed) so that next quarter's pack offers the same text again;
given on the command line as a TOML file (``report --cover FILE``) or edited in the report
dialog before a pack is built."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from sefton_qa.domain.errors import ValidationError

#: The internal version's exempt-information paragraph (Schedule 12A to the Local Government
#: Act 1972, paragraphs 1 and 2); a store may set its own (setting ``exempt_information``).
EXEMPT_INFORMATION = (
    "Not for publication: this report contains exempt information as described in paragraphs "
    "1 and 2 of Part 1 of Schedule 12A to the Local Government Act 1972 (information relating "
    "to any individual, and information likely to reveal the identity of an individual).")
FOR_PUBLICATION = "For publication."
#: The setting holding a store's own exempt-information paragraph.
EXEMPT_SETTING = "exempt_information"

DEFAULT_PURPOSE = (
    "To inform the committee of what the quality assurance team's case-file audits of "
    "children's social care found in the period, how the grades were checked (moderation), and "
    "what is being done about the findings.")
DEFAULT_RECOMMENDATIONS = (
    "That the committee notes the findings of the audits and the change since the previous "
    "period.",
    "That the committee notes the actions under way and asks for a further report next "
    "quarter.")

#: Longest text accepted in any one field (a page of the pack, not a document).
MAX_TEXT = 2_000


@dataclass(frozen=True)
class CoverReport:
    purpose: str = DEFAULT_PURPOSE
    recommendations: tuple[str, ...] = DEFAULT_RECOMMENDATIONS
    contact_officer: str = ""
    background_papers: tuple[str, ...] = ()

    def as_setting(self) -> dict:
        return {"purpose": self.purpose, "recommendations": list(self.recommendations),
                "contact_officer": self.contact_officer,
                "background_papers": list(self.background_papers)}

    @classmethod
    def from_setting(cls, value) -> "CoverReport":
        if not isinstance(value, dict):
            return cls()
        return checked(value, where="the stored cover report")


def checked(values: dict, *, where: str) -> CoverReport:
    """A cover report from plain values, or a ValidationError naming what is wrong."""
    known = {f.name for f in fields(CoverReport)}
    problems = [f"{where}: unknown entry \"{k}\" (known: {', '.join(sorted(known))})"
                for k in values if k not in known]
    out = {}
    for name in known & set(values):
        value = values[name]
        many = name in ("recommendations", "background_papers")
        items = value if many and isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(v, str) for v in items):
            problems.append(f"{where}: \"{name}\" must be text" + (" or a list of texts"
                                                                     if many else ""))
            continue
        items = [" ".join(v.split()) for v in items]
        if any(len(v) > MAX_TEXT for v in items):
            problems.append(f"{where}: \"{name}\" is longer than {MAX_TEXT:,} characters")
            continue
        out[name] = tuple(v for v in items if v) if many else items[0]
    if problems:
        raise ValidationError.single("cover", "; ".join(problems))
    return CoverReport(**out)


def read_cover_file(path: str | Path) -> CoverReport:
    """A TOML file such as::

        purpose = "To inform the committee of ..."
        recommendations = ["That the committee notes ...", "That ..."]
        contact_officer = "Head of Quality Assurance, qa@example.gov.uk"
        background_papers = ["Quality Assurance Framework 2024"]
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except OSError as exc:
        raise ValidationError.single("--cover", f"{path} could not be read: "
                                                f"{exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError.single("--cover", f"{path} is not a valid TOML file: {exc}") \
            from exc
    return checked(values, where=path.name)


__all__ = ["CoverReport", "read_cover_file", "checked", "EXEMPT_INFORMATION",
           "FOR_PUBLICATION"]
