"""Audit templates: versioned lists of sections, each graded."""

from __future__ import annotations

import json
import sqlite3

from sefton_qa.domain.models import AuditTemplate, TemplateSection
from sefton_qa.store import records

_COLS = "id, name, template_version, sections, active"


def _template(row) -> AuditTemplate:
    sections = tuple(TemplateSection(s["key"], s["title"], s.get("prompt", ""))
                     for s in json.loads(row[3]))
    return AuditTemplate(id=row[0], name=row[1], version=row[2], sections=sections,
                         active=bool(row[4]))


def list_all(conn: sqlite3.Connection, *, active_only: bool = False) -> list[AuditTemplate]:
    where = "WHERE active = 1" if active_only else ""
    return [_template(r) for r in conn.execute(
        f"SELECT {_COLS} FROM audit_templates {where} ORDER BY name, template_version")]


def get(conn: sqlite3.Connection, template_id: int) -> AuditTemplate | None:
    row = conn.execute(f"SELECT {_COLS} FROM audit_templates WHERE id = ?",
                       (template_id,)).fetchone()
    return None if row is None else _template(row)


def current(conn: sqlite3.Connection) -> AuditTemplate | None:
    row = conn.execute(f"SELECT {_COLS} FROM audit_templates WHERE active = 1 "
                       "ORDER BY template_version DESC, id DESC LIMIT 1").fetchone()
    return None if row is None else _template(row)


def latest_version(conn: sqlite3.Connection, name: str) -> int:
    """The highest version number a template of this name has (0 when there is none)."""
    row = conn.execute("SELECT max(template_version) FROM audit_templates WHERE name = ?",
                       (name,)).fetchone()
    return row[0] or 0


def encode_sections(sections) -> str:
    return json.dumps([{"key": s.key, "title": s.title, "prompt": s.prompt} for s in sections])


def insert(conn: sqlite3.Connection, name: str, version: int, sections, *,
           who: records.Who, reason: str | None = None) -> int:
    return records.insert_record(
        conn, "audit_templates",
        {"name": name, "template_version": version, "sections": encode_sections(sections),
         "active": 1}, who=who, reason=reason)


def set_active(conn: sqlite3.Connection, template_id: int, active: bool, *,
               who: records.Who, reason: str | None = None) -> dict:
    return records.update_record(conn, "audit_templates", template_id,
                                 {"active": int(active)}, who=who, reason=reason)
