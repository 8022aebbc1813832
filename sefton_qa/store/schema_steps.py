"""The names of the schema's steps, and which a store has applied, without sqlite-utils.

Every start of the app checks a store's schema steps; importing sqlite-utils (and through it
click, pluggy and importlib.metadata) costs more than the rest of that check, so the check
reads the migrations table directly and ``migrations.py`` (the steps themselves, with
sqlite-utils) is imported only when a step is pending. ``migrations.py`` refuses to load if
its steps and :data:`KNOWN_MIGRATIONS` ever disagree.
"""

from __future__ import annotations

import sqlite3

from sefton_qa.store.records import LINKED_FIELDS, TRAILED_TABLES

MIGRATION_SET = "sefton_qa"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite_utils.migrations.Migrations.migrations_table
KNOWN_MIGRATIONS = (
    "0001_initial_schema",
    "0002_moderations_and_import",
    "0003_search_and_register_indexes",
    "0004_moderation_loop",
    "0005_faster_bulk_insert",
    "0006_store_identity",
    "0007_trail_login_and_server_guards",
    "0008_audit_selection",
    "0009_calibration_draw_method",
    "0010_caseload_and_plans",
)

#: The trailed tables each step that adds tables puts under the server's guards: step 0007
#: guarded every table there was then; a later step that adds trailed tables guards its own
#: (step 0007's list is fixed: a server store that applied it has exactly those triggers).
GUARDED_BY_STEP = {
    "0007_trail_login_and_server_guards": (
        "settings", "grades", "service_areas", "themes", "staff", "teams", "audit_templates",
        "audits", "moderations", "import_mappings", "file_transfers",
        "reflective_conversations", "remedial_actions"),
    "0010_caseload_and_plans": (
        "caseload_snapshots", "caseload_cases", "audit_plans", "plan_quotas", "draws",
        "drawn_cases", "allocations"),
}
#: The tables each step's guards hold to the trail, as (table, id column, the trailed table its
#: changes are trailed under): its trailed tables, and (step 0007) the link rows trailed as a
#: field of their parent (an audit's themes).
NOTED_BY_STEP = {
    step: tuple((t, "id", t) for t in tables) + (tuple(
        (link, parent_column, parent) for parent, fields in LINKED_FIELDS.items()
        for link, parent_column, _child in fields.values())
        if step == "0007_trail_login_and_server_guards" else ())
    for step, tables in GUARDED_BY_STEP.items()}
#: Every table the server's guards hold to the trail, after all the steps.
NOTED_TABLES = tuple(noted for step in NOTED_BY_STEP.values() for noted in step)
NOTED_OPERATIONS = ("insert", "update", "delete")
if {t for step in GUARDED_BY_STEP.values() for t in step} != set(TRAILED_TABLES):
    raise RuntimeError("every trailed table must be guarded on a server by exactly one step "
                       "(schema_steps.GUARDED_BY_STEP)")


def noted_triggers(step: str) -> frozenset[tuple[str, str]]:
    """The (table, trigger) pairs a step's server guards add."""
    return frozenset((table, f"{table}_noted_{op}") for table, _column, _as in NOTED_BY_STEP[step]
                     for op in NOTED_OPERATIONS)

_TRAIL_GUARDS = frozenset({("trail", "trail_is_append_only_update"),
                           ("trail", "trail_is_append_only_delete")})
#: The triggers each step adds and drops, per engine (a test holds this to the steps' SQL), so
#: the triggers a store should have follow from the steps it has applied, without importing
#: the steps themselves at every start.
TRIGGER_CHANGES = {
    "sqlite": {
        "0001_initial_schema": (_TRAIL_GUARDS, frozenset()),
        "0003_search_and_register_indexes": (frozenset({
            ("audits", "audits_fts_insert"), ("audits", "audits_fts_update"),
            ("audits", "audits_fts_delete")}), frozenset()),
        "0005_faster_bulk_insert": (frozenset(), frozenset({("audits", "audits_fts_insert")})),
    },
    "postgresql": {
        "0001_initial_schema": (_TRAIL_GUARDS | {("trail", "trail_is_append_only_truncate")},
                                frozenset()),
        "0007_trail_login_and_server_guards": (frozenset(
            {("trail", "trail_follows_the_chain"),
             ("sefton_unchecked_changes", "sefton_changes_are_trailed")}
            | noted_triggers("0007_trail_login_and_server_guards")), frozenset()),
        "0010_caseload_and_plans": (noted_triggers("0010_caseload_and_plans"), frozenset()),
    },
}


def expected_triggers(engine: str, applied) -> frozenset[tuple[str, str]]:
    """The (table, trigger) pairs a store of ``engine`` has after the ``applied`` steps."""
    out: set[tuple[str, str]] = set()
    for name in applied:
        added, dropped = TRIGGER_CHANGES[engine].get(name, (frozenset(), frozenset()))
        out = (out | added) - dropped
    return frozenset(out)


def applied_names(conn: sqlite3.Connection) -> list[str]:
    """The steps this store has applied, in the order they were applied (read-only)."""
    from sefton_qa.store import dialect

    d = dialect.of(conn)
    if MIGRATIONS_TABLE not in d.tables(conn):
        return []
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? "
        f"ORDER BY {d.migrations_order}", (MIGRATION_SET,))]
