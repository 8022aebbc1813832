"""Drafts kept on this computer while the team's server cannot be reached.

When a draft cannot be saved because the server is out of reach (the network dropped, the
server restarted), the audit form keeps what was typed in a file in the user's data folder,
readable by that user only, and saves it to the store when the server is back; the file is
deleted once the draft is saved. A draft kept when the app was closed is offered again the
next time the same store is opened. If the audit was changed on the server meanwhile, saving
the kept draft meets the usual conflict (its version no longer matches), never a silent
overwrite.

Each file is written under an unpredictable temporary name and renamed into place, so a crash
leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, SectionGrade, Selection

FORMAT = 1


@dataclass(frozen=True)
class KeptDraft:
    path: Path
    location: str
    audit_id: int | None
    version: int | None
    kept_at: str
    input: AuditInput

    @property
    def label(self) -> str:
        case = self.input.case_reference or "no case reference yet"
        which = f"audit {self.audit_id}" if self.audit_id else "a new audit"
        return f"{case} ({which}), kept {self.kept_at[:16].replace('T', ' ')} UTC"


def folder() -> Path:
    from sefton_qa import paths

    return paths.data_dir() / "kept-drafts"


def _store_key(location: str) -> str:
    return hashlib.sha256(location.encode()).hexdigest()[:16]


def new_name(location: str) -> str:
    """A file name for one form's kept draft (the form keeps it, so keeping again replaces it)."""
    return f"{_store_key(location)}-{secrets.token_hex(8)}.json"


def input_to_json(inp: AuditInput) -> dict:
    return {
        "case_reference": inp.case_reference,
        "audit_type": AuditType(inp.audit_type).value,
        "audit_date": inp.audit_date.isoformat() if inp.audit_date else None,
        "service_area_id": inp.service_area_id, "team_id": inp.team_id,
        "auditor_id": inp.auditor_id, "team_manager_id": inp.team_manager_id,
        "template_id": inp.template_id,
        "sections": {k: [s.grade.value if s.grade else None, s.notes]
                     for k, s in inp.sections.items()},
        "overall_grade": inp.overall_grade.value if inp.overall_grade else None,
        "theme_ids": list(inp.theme_ids), "findings": inp.findings,
        "selection": Selection(inp.selection).value if inp.selection else None,
    }


def input_from_json(data: dict) -> AuditInput:
    return AuditInput(
        case_reference=str(data.get("case_reference") or ""),
        audit_type=AuditType(data.get("audit_type") or AuditType.DEEP_DIVE.value),
        audit_date=dt.date.fromisoformat(data["audit_date"]) if data.get("audit_date") else None,
        service_area_id=data.get("service_area_id"), team_id=data.get("team_id"),
        auditor_id=data.get("auditor_id"), team_manager_id=data.get("team_manager_id"),
        template_id=data.get("template_id"),
        sections={k: SectionGrade(Grade(g) if g else None, notes or "")
                  for k, (g, notes) in (data.get("sections") or {}).items()},
        overall_grade=Grade(data["overall_grade"]) if data.get("overall_grade") else None,
        theme_ids=[int(t) for t in data.get("theme_ids") or []],
        findings=str(data.get("findings") or ""),
        selection=Selection(data["selection"]) if data.get("selection") else None,
    )


def keep(name: str, location: str, audit_id: int | None, version: int | None,
         inp: AuditInput) -> Path:
    """Write the draft to ``folder()/name`` (user-only permissions), replacing what this form
    kept before. Returns the file's path."""
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(where, 0o700)
    body = json.dumps({
        "format": FORMAT, "location": location, "audit_id": audit_id, "version": version,
        "kept_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input": input_to_json(inp)}, ensure_ascii=False, sort_keys=True)
    handle, temp = tempfile.mkstemp(dir=where, prefix=".kept-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, where / name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return where / name


def discard(path: Path | None) -> None:
    if path is not None:
        Path(path).unlink(missing_ok=True)


def kept_for(location: str) -> list[KeptDraft]:
    """The drafts kept for the store at ``location``, oldest first. A file that cannot be read
    is left where it is (and not offered)."""
    where = folder()
    if not where.is_dir():
        return []
    found = []
    for path in sorted(where.glob(f"{_store_key(location)}-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or data.get("location") != location:
                continue
            found.append(KeptDraft(path, location, data.get("audit_id"), data.get("version"),
                                   str(data.get("kept_at") or ""),
                                   input_from_json(data["input"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda k: k.kept_at)
