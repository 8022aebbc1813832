"""Audit templates: versioned lists of sections, each graded."""

from __future__ import annotations

import json
import sqlite3

from sefton_qa.domain.models import AuditTemplate, TemplateSection

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
