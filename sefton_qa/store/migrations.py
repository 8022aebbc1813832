"""The schema, as numbered sqlite-utils migrations. Applied at open, after a backup when pending.

Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import json

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from sefton_qa.domain.grades import ALL_GRADES
from sefton_qa.domain.reference import (
    DEFAULT_CASE_REFERENCE_HINT,
    DEFAULT_CASE_REFERENCE_PATTERN,
    DEFAULT_TEMPLATE_NAME,
    DEFAULT_TEMPLATE_SECTIONS,
    DEFAULT_THEMES,
)
from sefton_qa.store import records, schema_steps
from sefton_qa.store.schema_steps import MIGRATION_SET

migrations = Migrations(MIGRATION_SET)

SETUP = records.Who(staff_id=None, os_user="sefton-qa setup")

_BOOKKEEPING_COLUMNS = """
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL"""

SCHEMA_0001 = [
    f"""CREATE TABLE settings (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    value TEXT NOT NULL,{_BOOKKEEPING_COLUMNS})""",
    f"""CREATE TABLE grades (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    rank INTEGER NOT NULL UNIQUE,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),{_BOOKKEEPING_COLUMNS})""",
    f"""CREATE TABLE service_areas (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),{_BOOKKEEPING_COLUMNS})""",
    f"""CREATE TABLE themes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),{_BOOKKEEPING_COLUMNS})""",
    f"""CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL,
    os_username TEXT UNIQUE COLLATE NOCASE,
    roles TEXT NOT NULL DEFAULT '[]',
    team_id INTEGER REFERENCES teams(id),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),{_BOOKKEEPING_COLUMNS})""",
    f"""CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    service_area_id INTEGER NOT NULL REFERENCES service_areas(id),
    service_manager_id INTEGER REFERENCES staff(id),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),{_BOOKKEEPING_COLUMNS},
    UNIQUE (service_area_id, name))""",
    f"""CREATE TABLE audit_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    sections TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),{_BOOKKEEPING_COLUMNS},
    UNIQUE (name, template_version))""",
    f"""CREATE TABLE audits (
    id INTEGER PRIMARY KEY,
    case_reference TEXT,
    audit_type TEXT NOT NULL CHECK (audit_type IN ('deep_dive', 'themed', 'dip_sample')),
    audit_date TEXT CHECK (audit_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    audit_quarter TEXT GENERATED ALWAYS AS (
        substr(audit_date, 1, 4) || '-Q' || ((CAST(substr(audit_date, 6, 2) AS INTEGER) + 2) / 3)
    ) STORED,
    service_area_id INTEGER REFERENCES service_areas(id),
    team_id INTEGER REFERENCES teams(id),
    auditor_id INTEGER NOT NULL REFERENCES staff(id),
    team_manager_id INTEGER REFERENCES staff(id),
    template_id INTEGER REFERENCES audit_templates(id),
    sections TEXT NOT NULL DEFAULT '{{}}',
    overall_grade TEXT REFERENCES grades(key),
    findings TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'withdrawn')),
    {_BOOKKEEPING_COLUMNS.strip()})""",
    """CREATE TABLE audit_themes (
    audit_id INTEGER NOT NULL REFERENCES audits(id),
    theme_id INTEGER NOT NULL REFERENCES themes(id),
    PRIMARY KEY (audit_id, theme_id)) WITHOUT ROWID""",
    "CREATE INDEX audit_themes_by_theme ON audit_themes (theme_id, audit_id)",
    # Period summaries: a covering index over what a summary groups by.
    "CREATE INDEX audits_for_summary ON audits "
    "(status, audit_date, service_area_id, team_id, overall_grade)",
    # The register's common filters: area + grade + date range, newest first.
    "CREATE INDEX audits_by_area_grade_date ON audits (service_area_id, overall_grade, audit_date)",
    "CREATE INDEX audits_by_date ON audits (audit_date)",
    "CREATE INDEX audits_by_case ON audits (case_reference, audit_date)",
    "CREATE INDEX audits_by_quarter ON audits (audit_quarter, overall_grade)",
    """CREATE TABLE trail (
    seq INTEGER PRIMARY KEY,
    at_utc TEXT NOT NULL,
    staff_id INTEGER,
    os_user TEXT NOT NULL,
    table_name TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    changes TEXT NOT NULL,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL)""",
    "CREATE INDEX trail_by_record ON trail (table_name, record_id, seq)",
    """CREATE TRIGGER trail_is_append_only_update BEFORE UPDATE ON trail
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be changed'); END""",
    """CREATE TRIGGER trail_is_append_only_delete BEFORE DELETE ON trail
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be deleted'); END""",
]

DEFAULT_SETTINGS = {
    "authority_name": "Example Borough Council",
    "case_reference_pattern": DEFAULT_CASE_REFERENCE_PATTERN,
    "case_reference_hint": DEFAULT_CASE_REFERENCE_HINT,
    "outstanding_enabled": False,
    "protective_marking": "OFFICIAL-SENSITIVE",
}


@migrations(name="0001_initial_schema")
def m0001_initial_schema(db: Database) -> None:
    conn = db.conn
    for statement in SCHEMA_0001:
        conn.execute(statement)
    seed_0001(conn)


def seed_0001(conn) -> None:
    """The first step's records (settings, grades, themes, template), on either engine."""
    at = records.trail.now(conn)
    for key, value in DEFAULT_SETTINGS.items():
        records.insert_record(conn, "settings", {"key": key, "value": json.dumps(value)},
                              who=SETUP, kind="seed", at_utc=at)
    for grade in ALL_GRADES:
        records.insert_record(
            conn, "grades",
            {"key": grade.value, "label": grade.label, "rank": grade.rank,
             "active": 0 if grade.value == "outstanding" else 1},
            who=SETUP, kind="seed", at_utc=at)
    for theme in DEFAULT_THEMES:
        records.insert_record(conn, "themes", {"name": theme, "active": 1}, who=SETUP,
                              kind="seed", at_utc=at)
    sections = [{"key": k, "title": t, "prompt": p} for k, t, p in DEFAULT_TEMPLATE_SECTIONS]
    records.insert_record(
        conn, "audit_templates",
        {"name": DEFAULT_TEMPLATE_NAME, "template_version": 1,
         "sections": json.dumps(sections), "active": 1},
        who=SETUP, kind="seed", at_utc=at)


SCHEMA_0002 = [
    f"""CREATE TABLE moderations (
    id INTEGER PRIMARY KEY,
    audit_id INTEGER NOT NULL REFERENCES audits(id),
    flagged_because TEXT NOT NULL
        CHECK (flagged_because IN ('inadequate', 'calibration', 'imported', 'requested')),
    due_date TEXT,
    moderator_id INTEGER REFERENCES staff(id),
    original_grade TEXT REFERENCES grades(key),
    moderated_grade TEXT REFERENCES grades(key),
    moderation_date TEXT,
    reason TEXT,
    section_comments TEXT NOT NULL DEFAULT '{{}}',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled')),
    {_BOOKKEEPING_COLUMNS.strip()})""",
    "CREATE INDEX moderations_by_audit ON moderations (audit_id)",
    "CREATE INDEX moderations_by_status ON moderations (status, due_date)",
    # Duplicate detection on import: case reference + date + auditor.
    "CREATE INDEX audits_by_case_date_auditor ON audits (case_reference, audit_date, auditor_id)",
    f"""CREATE TABLE file_transfers (
    id INTEGER PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('import', 'export')),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    date_from TEXT,
    date_to TEXT,
    rows_written INTEGER NOT NULL,
    rows_skipped INTEGER NOT NULL DEFAULT 0,{_BOOKKEEPING_COLUMNS})""",
    f"""CREATE TABLE import_mappings (
    id INTEGER PRIMARY KEY,
    source_header TEXT NOT NULL UNIQUE COLLATE NOCASE,
    field TEXT NOT NULL,{_BOOKKEEPING_COLUMNS})""",
]


@migrations(name="0002_moderations_and_import")
def m0002_moderations_and_import(db: Database) -> None:
    for statement in SCHEMA_0002:
        db.conn.execute(statement)


SCHEMA_0003 = [
    # Full-text search over case reference and findings, kept in step by triggers so every
    # write path (service, bulk insert, undo) updates it in the same transaction.
    "CREATE VIRTUAL TABLE audits_fts USING fts5(case_reference, findings, content='audits', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER audits_fts_insert AFTER INSERT ON audits BEGIN
    INSERT INTO audits_fts (rowid, case_reference, findings)
    VALUES (new.id, new.case_reference, new.findings); END""",
    """CREATE TRIGGER audits_fts_update AFTER UPDATE OF case_reference, findings ON audits BEGIN
    INSERT INTO audits_fts (audits_fts, rowid, case_reference, findings)
    VALUES ('delete', old.id, old.case_reference, old.findings);
    INSERT INTO audits_fts (rowid, case_reference, findings)
    VALUES (new.id, new.case_reference, new.findings); END""",
    """CREATE TRIGGER audits_fts_delete AFTER DELETE ON audits BEGIN
    INSERT INTO audits_fts (audits_fts, rowid, case_reference, findings)
    VALUES ('delete', old.id, old.case_reference, old.findings); END""",
    "INSERT INTO audits_fts (audits_fts) VALUES ('rebuild')",
    # The register sorts by names through these (service areas, teams and staff as the outer
    # loop), so a sorted first screen needs no sort of the whole table.
    # Grade as a number (best highest; 0 when not graded), so the register sorts by grade
    # through an index.
    "ALTER TABLE audits ADD COLUMN grade_rank INTEGER GENERATED ALWAYS AS (CASE overall_grade "
    "WHEN 'outstanding' THEN 4 WHEN 'good' THEN 3 WHEN 'requires_improvement' THEN 2 "
    "WHEN 'inadequate' THEN 1 ELSE 0 END) VIRTUAL",
    "CREATE INDEX audits_by_grade_rank_date ON audits (grade_rank, audit_date)",
    "CREATE INDEX audits_by_area_date ON audits (service_area_id, audit_date)",
    "CREATE INDEX teams_by_name ON teams (name)",
    "CREATE INDEX staff_by_name ON staff (display_name COLLATE NOCASE)",
    "CREATE INDEX audits_by_team_date ON audits (team_id, audit_date)",
    "CREATE INDEX audits_by_auditor_date ON audits (auditor_id, audit_date)",
    "CREATE INDEX audits_by_status_date ON audits (status, audit_date)",
]


@migrations(name="0003_search_and_register_indexes")
def m0003_search_and_register_indexes(db: Database) -> None:
    for statement in SCHEMA_0003:
        db.conn.execute(statement)


SCHEMA_0004 = [
    "ALTER TABLE moderations ADD COLUMN flagged_on TEXT",
    "ALTER TABLE moderations ADD COLUMN selection TEXT",
    f"""CREATE TABLE reflective_conversations (
    id INTEGER PRIMARY KEY,
    audit_id INTEGER NOT NULL REFERENCES audits(id),
    moderation_id INTEGER REFERENCES moderations(id),
    service_manager_id INTEGER REFERENCES staff(id),
    due_date TEXT,
    held_on TEXT,
    facilitator_id INTEGER REFERENCES staff(id),
    participants TEXT NOT NULL DEFAULT '[]',
    learning TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'held', 'cancelled')),
    {_BOOKKEEPING_COLUMNS.strip()})""",
    "CREATE INDEX conversations_by_status ON reflective_conversations (status, due_date)",
    "CREATE INDEX conversations_by_audit ON reflective_conversations (audit_id)",
    f"""CREATE TABLE remedial_actions (
    id INTEGER PRIMARY KEY,
    audit_id INTEGER NOT NULL REFERENCES audits(id),
    conversation_id INTEGER REFERENCES reflective_conversations(id),
    description TEXT NOT NULL,
    owner_id INTEGER REFERENCES staff(id),
    due_date TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'not_needed')),
    status_reason TEXT,
    evidence TEXT NOT NULL DEFAULT '',
    completed_on TEXT,
    reaudit_by TEXT,
    reaudit_audit_id INTEGER REFERENCES audits(id),
    {_BOOKKEEPING_COLUMNS.strip()})""",
    "CREATE INDEX actions_by_status ON remedial_actions (status, due_date)",
    "CREATE INDEX actions_by_audit ON remedial_actions (audit_id)",
    "CREATE INDEX actions_by_owner ON remedial_actions (owner_id, status)",
    "CREATE INDEX moderations_by_moderator ON moderations (moderator_id, status)",
]

MODERATION_SETTINGS = {
    "calibration_rate": 0.10,
    "moderation_working_days": 5,
    "conversation_working_days": 10,
    "closure_days": [],
}


@migrations(name="0004_moderation_loop")
def m0004_moderation_loop(db: Database) -> None:
    for statement in SCHEMA_0004:
        db.conn.execute(statement)
    seed_0004(db.conn)


def seed_0004(conn) -> None:
    """The moderation loop's settings, with the store's own secret calibration seed."""
    import secrets

    at = records.trail.now(conn)
    values = dict(MODERATION_SETTINGS, calibration_seed=secrets.randbits(48))
    for key, value in values.items():
        records.insert_record(conn, "settings", {"key": key, "value": json.dumps(value)},
                              who=SETUP, kind="seed", at_utc=at)


SCHEMA_0005 = [
    # Bulk inserts (import, demo) write the search index once per batch themselves, which is
    # about twice as fast as a trigger firing per audit; updates and deletes keep theirs.
    "DROP TRIGGER IF EXISTS audits_fts_insert",
    # Prefixes of other indexes, or unused: each one slowed every insert.
    "DROP INDEX IF EXISTS audits_by_case",
    "DROP INDEX IF EXISTS audits_by_status_date",
    "DROP INDEX IF EXISTS audits_by_quarter",
]


@migrations(name="0005_faster_bulk_insert")
def m0005_faster_bulk_insert(db: Database) -> None:
    for statement in SCHEMA_0005:
        db.conn.execute(statement)


#: Settings every store gets at this step. ``store_id`` names the store for good (backups and
#: anchors carry it, so two stores sharing a backup folder never touch each other's, and a
#: backup of another store is not restored over this one unasked); ``copy-store`` keeps it,
#: as the copy is the same store moved. ``earliest_audit_date`` is the floor for audit dates.
IDENTITY_SETTINGS = {
    "earliest_audit_date": "2000-01-01",
}
SCHEMA_0006: list[str] = []


@migrations(name="0006_store_identity")
def m0006_store_identity(db: Database) -> None:
    seed_0006(db.conn)


def seed_0006(conn) -> None:
    """A new random store id (never reused) and the audit-date floor."""
    import uuid

    at = records.trail.now(conn)
    values = dict(IDENTITY_SETTINGS, store_id=uuid.uuid4().hex)
    for key, value in values.items():
        records.insert_record(conn, "settings", {"key": key, "value": json.dumps(value)},
                              who=SETUP, kind="seed", at_utc=at)


SCHEMA_0007 = [
    # Who wrote each trail row, as the store knows it: on a server the authenticated login,
    # stamped by the server itself (see pg_schema.SERVER_GUARDS); outside the hash. A file
    # store leaves it empty: its os_user column, in the hash, is the OS account.
    "ALTER TABLE trail ADD COLUMN login TEXT",
]


@migrations(name="0007_trail_login_and_server_guards")
def m0007_trail_login_and_server_guards(db: Database) -> None:
    for statement in SCHEMA_0007:
        db.conn.execute(statement)


SCHEMA_0008 = [
    # How the audited case was chosen (domain.models.Selection). Audits logged before this
    # step say nothing about it, so they are "unknown"; the pack says what that means.
    "ALTER TABLE audits ADD COLUMN selection TEXT NOT NULL DEFAULT 'unknown' "
    "CHECK (selection IN ('random_draw', 'chosen', 'referred', 'unknown'))",
]


@migrations(name="0008_audit_selection")
def m0008_audit_selection(db: Database) -> None:
    for statement in SCHEMA_0008:
        db.conn.execute(statement)


SCHEMA_0009 = [
    # Which method drew each calibration sample (services.moderation.calibration_draw): 1,
    # random.Random seeded per audit (every draw before this step), 2, a keyed BLAKE2b of the
    # audit id. Empty on a moderation that no draw chose (inadequate, imported, requested).
    "ALTER TABLE moderations ADD COLUMN draw_method INTEGER",
]


@migrations(name="0009_calibration_draw_method")
def m0009_calibration_draw_method(db: Database) -> None:
    for statement in SCHEMA_0009:
        db.conn.execute(statement)
    seed_0009(db.conn)


def seed_0009(conn) -> None:
    """The draws already recorded were made by method 1: each such moderation says so, with
    a trail row (so the records still rebuild exactly from the trail)."""
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM moderations WHERE selection IS NOT NULL AND draw_method IS NULL "
        "ORDER BY id")]
    if not ids:
        return
    at = records.trail.now(conn)
    conn.execute("UPDATE moderations SET draw_method = 1, version = version + 1, "
                 "updated_at = ? WHERE selection IS NOT NULL AND draw_method IS NULL", (at,))
    reason = "Schema step 0009: this calibration draw was made by method 1"
    records.trail.append_many(
        conn, [records.trail.EncodedChange("moderations", i, "migrate",
                                           '{"draw_method":[null,1]}', reason) for i in ids],
        staff_id=SETUP.staff_id, os_user=SETUP.os_user, at_utc=at)


SCHEMA_0010 = [
    # A caseload snapshot: the case list exported from the case-management system on a day.
    f"""CREATE TABLE caseload_snapshots (
    id INTEGER PRIMARY KEY,
    taken_on TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    case_count INTEGER NOT NULL,{_BOOKKEEPING_COLUMNS})""",
    # Its open cases, one row each (the case reference trimmed and upper-cased).
    f"""CREATE TABLE caseload_cases (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES caseload_snapshots(id),
    case_reference TEXT NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    case_type TEXT NOT NULL,
    opened_on TEXT,
    team_manager_id INTEGER REFERENCES staff(id),{_BOOKKEEPING_COLUMNS},
    UNIQUE (snapshot_id, case_reference))""",
    "CREATE INDEX caseload_cases_by_team ON caseload_cases (snapshot_id, team_id)",
    # A period's audit plan: which snapshot it samples, how quotas were set, what is left out.
    f"""CREATE TABLE audit_plans (
    id INTEGER PRIMARY KEY,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES caseload_snapshots(id),
    stratify_by TEXT NOT NULL CHECK (stratify_by IN ('team', 'service_area')),
    quota_rule TEXT NOT NULL CHECK (quota_rule IN ('proportional', 'per_stratum', 'by_hand')),
    exclude_months INTEGER NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),{_BOOKKEEPING_COLUMNS})""",
    "CREATE INDEX audit_plans_by_period ON audit_plans (period_start, period_end)",
    # Its quotas: one row per stratum (a team, or a service area), deep dives and dip samples.
    f"""CREATE TABLE plan_quotas (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES audit_plans(id),
    stratum TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    service_area_id INTEGER REFERENCES service_areas(id),
    deep_dives INTEGER NOT NULL CHECK (deep_dives >= 0),
    dip_samples INTEGER NOT NULL CHECK (dip_samples >= 0),{_BOOKKEEPING_COLUMNS},
    UNIQUE (plan_id, stratum))""",
    # Every draw made, kept or discarded (with who and why): nobody redraws until it suits.
    f"""CREATE TABLE draws (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES audit_plans(id),
    snapshot_id INTEGER NOT NULL REFERENCES caseload_snapshots(id),
    method TEXT NOT NULL,
    seed TEXT NOT NULL,
    seed_source TEXT NOT NULL CHECK (seed_source IN ('secrets', 'given')),
    drawn_by INTEGER REFERENCES staff(id),
    drawn_at TEXT NOT NULL,
    strata TEXT NOT NULL,
    excluded TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'kept' CHECK (status IN ('kept', 'discarded')),
    discarded_by INTEGER REFERENCES staff(id),
    discarded_at TEXT,
    discard_reason TEXT,{_BOOKKEEPING_COLUMNS})""",
    "CREATE INDEX draws_by_plan ON draws (plan_id, status)",
    # The cases a draw chose, in order within their stratum: the sample, then the reserves.
    f"""CREATE TABLE drawn_cases (
    id INTEGER PRIMARY KEY,
    draw_id INTEGER NOT NULL REFERENCES draws(id),
    case_id INTEGER NOT NULL REFERENCES caseload_cases(id),
    case_reference TEXT NOT NULL,
    stratum TEXT NOT NULL,
    rank INTEGER NOT NULL,
    audit_type TEXT CHECK (audit_type IN ('deep_dive', 'dip_sample')),
    is_reserve INTEGER NOT NULL CHECK (is_reserve IN (0, 1)),{_BOOKKEEPING_COLUMNS},
    UNIQUE (draw_id, stratum, rank))""",
    # Who audits each drawn case, by when, and the audit that did it.
    f"""CREATE TABLE allocations (
    id INTEGER PRIMARY KEY,
    drawn_case_id INTEGER NOT NULL REFERENCES drawn_cases(id),
    audit_type TEXT NOT NULL CHECK (audit_type IN ('deep_dive', 'dip_sample')),
    auditor_id INTEGER REFERENCES staff(id),
    due_date TEXT NOT NULL,
    audit_id INTEGER REFERENCES audits(id),
    status TEXT NOT NULL DEFAULT 'allocated'
        CHECK (status IN ('allocated', 'replaced', 'cancelled')),
    replaces_id INTEGER REFERENCES allocations(id),
    reserve_reason TEXT,{_BOOKKEEPING_COLUMNS})""",
    "CREATE INDEX allocations_by_auditor ON allocations (auditor_id, status, due_date)",
    "CREATE INDEX allocations_by_case ON allocations (drawn_case_id)",
    "CREATE INDEX allocations_by_audit ON allocations (audit_id)",
]


@migrations(name="0010_caseload_and_plans")
def m0010_caseload_and_plans(db: Database) -> None:
    for statement in SCHEMA_0010:
        db.conn.execute(statement)


KNOWN_MIGRATIONS = tuple(m.name for m in migrations._migrations)
if KNOWN_MIGRATIONS != schema_steps.KNOWN_MIGRATIONS or \
        Migrations.migrations_table != schema_steps.MIGRATIONS_TABLE:
    raise RuntimeError("sefton_qa/store/schema_steps.py must list exactly the migrations "
                       "defined here, in order, and sqlite-utils' migrations table")
