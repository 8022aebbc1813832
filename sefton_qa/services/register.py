"""Reading the audit register: pages of rows for the GUI, filtered and sorted by SQL."""

from __future__ import annotations

from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store.audits import REGISTER_SORTS, RegisterFilter

__all__ = ["RegisterFilter", "REGISTER_SORTS", "count", "page", "case_history", "history", "names",
           "section_titles"]


def count(session: Session, f: RegisterFilter) -> int:
    return audit_store.register_count(session.store.conn, f)


def page(session: Session, f: RegisterFilter, *, offset: int, limit: int,
         sort: str = "audit_date", descending: bool = True) -> list[tuple]:
    return audit_store.register_page(session.store.conn, f, offset=offset, limit=limit,
                                     sort=sort, descending=descending)


def count_and_first_page(session: Session, f: RegisterFilter, *, limit: int,
                         sort: str = "audit_date", descending: bool = True
                         ) -> tuple[int, list[tuple]]:
    """The count and the first page read in one snapshot, so they agree even while others
    save (on a server, REPEATABLE READ)."""
    with session.store.snapshot():
        return (count(session, f),
                page(session, f, offset=0, limit=limit, sort=sort, descending=descending))


def case_history(session: Session, case_reference: str):
    """Every audit of one case, oldest first: the child's journey through the services."""
    return audit_store.for_case(session.store.conn, case_reference)


def history(session: Session, table: str, record_id: int):
    """The trail rows of one record, oldest first: who changed what, when and why."""
    from sefton_qa.store import trail

    return trail.entries_for(session.store.conn, table, record_id)


def names(session: Session) -> dict[str, dict[int, str]]:
    """Id → name for service areas, teams, staff and themes (for showing records)."""
    from sefton_qa.store import service_areas, staff, teams, themes

    conn = session.store.conn
    return {
        "service_areas": {a.id: a.name for a in service_areas.list_all(conn)},
        "teams": {t.id: t.name for t in teams.list_all(conn)},
        "staff": {s.id: s.display_name for s in staff.list_all(conn)},
        "themes": {t.id: t.name for t in themes.list_all(conn)},
    }


def section_titles(session: Session, template_id: int | None) -> dict[str, str]:
    """Section key → title, in the template's order ({} when the template is unknown)."""
    from sefton_qa.store import templates

    template = templates.get(session.store.conn, template_id) if template_id else None
    return {s.key: s.title for s in template.sections} if template else {}


def audit_story(session: Session, audit_id: int):
    """What followed the audit: its moderations, reflective conversations and remedial
    actions (each with the re-audit that answered it), for the detail pane."""
    from types import SimpleNamespace

    from sefton_qa.store import loop as loop_store

    conn = session.store.conn
    actions = loop_store.actions_for_audit(conn, audit_id)
    reaudits = {a.reaudit_audit_id: audit_store.get(conn, a.reaudit_audit_id)
                for a in actions if a.reaudit_audit_id}
    return SimpleNamespace(moderations=loop_store.moderations_for_audit(conn, audit_id),
                           conversations=loop_store.conversations_for_audit(conn, audit_id),
                           actions=actions, reaudits=reaudits)
