"""The schema on PostgreSQL: the same steps, under the same names, as ``migrations.py``.

Each step is the SQLite step's own statements, carried over by :func:`to_postgres` (integer
columns become BIGINT, a GLOB check a regular expression, SQLite's full-text index a generated
``tsvector`` column with a GIN index, the trail's RAISE triggers plpgsql ones), and then the same
seeding code. A test reads both schemas after migrating and fails if they differ.
"""

from __future__ import annotations

import re

from sefton_qa.store import migrations as sqlite_steps
from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS, MIGRATION_SET, MIGRATIONS_TABLE

#: Once per database, before the first step: what the SQL of both engines relies on.
PRELUDE = [
    # COLLATE NOCASE in the shared SQL: a case-insensitive ICU collation of that name.
    "CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', "
    "deterministic = false)",
    # Search: `simple` (no stemming, no stop words, as SQLite's unicode61) plus unaccent.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'sefton_search') THEN
            CREATE TEXT SEARCH CONFIGURATION sefton_search (COPY = simple);
            ALTER TEXT SEARCH CONFIGURATION sefton_search
                ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword,
                                  hword_asciipart, hword_part, hword_numpart
                WITH unaccent, simple;
        END IF;
    END $$""",
    f"""CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
        migration_set TEXT,
        name TEXT,
        applied_at TEXT)""",
]

_TRAIL_GUARD = """CREATE OR REPLACE FUNCTION sefton_trail_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'the audit trail is append-only: rows cannot be changed'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RAISE EXCEPTION 'the audit trail is append-only: rows cannot be deleted'
            USING ERRCODE = 'restrict_violation';
    END $$"""

#: SQLite statements replaced whole on PostgreSQL (matched by their start).
_REPLACED = {
    "CREATE TRIGGER trail_is_append_only_update": [
        _TRAIL_GUARD,
        "CREATE TRIGGER trail_is_append_only_update BEFORE UPDATE ON trail "
        "FOR EACH ROW EXECUTE FUNCTION sefton_trail_is_append_only()",
        "ALTER TABLE trail ENABLE ALWAYS TRIGGER trail_is_append_only_update",
    ],
    "CREATE TRIGGER trail_is_append_only_delete": [
        "CREATE TRIGGER trail_is_append_only_delete BEFORE DELETE ON trail "
        "FOR EACH ROW EXECUTE FUNCTION sefton_trail_is_append_only()",
        "CREATE TRIGGER trail_is_append_only_truncate BEFORE TRUNCATE ON trail "
        "FOR EACH STATEMENT EXECUTE FUNCTION sefton_trail_is_append_only()",
        "ALTER TABLE trail ENABLE ALWAYS TRIGGER trail_is_append_only_delete",
        "ALTER TABLE trail ENABLE ALWAYS TRIGGER trail_is_append_only_truncate",
    ],
    # SQLite's FTS5 table and the triggers that feed it: one generated column, which cannot
    # drift from the audits it indexes, and a GIN index.
    "CREATE VIRTUAL TABLE audits_fts": [
        "ALTER TABLE audits ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "to_tsvector('sefton_search'::regconfig, regexp_replace("
        "coalesce(case_reference, '') || ' ' || coalesce(findings, ''), "
        "'[^[:alnum:]]+', ' ', 'g'))) STORED",
        "CREATE INDEX audits_search ON audits USING gin (search_vector)",
    ],
    "CREATE TRIGGER audits_fts_": [],
    "INSERT INTO audits_fts": [],
    "DROP TRIGGER IF EXISTS audits_fts_insert": [],
}


def to_postgres(statement: str) -> list[str]:
    """One SQLite schema statement as the PostgreSQL statements that do the same."""
    for start, replacement in _REPLACED.items():
        if statement.lstrip().startswith(start):
            return list(replacement)
    sql = statement
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = sql.replace(") WITHOUT ROWID", ")")
    sql = sql.replace("audit_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'",
                      "audit_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'")
    # text || integer is only STABLE on PostgreSQL; a generated column needs IMMUTABLE.
    sql = sql.replace("|| ((CAST(substr(audit_date, 6, 2) AS BIGINT) + 2) / 3)",
                      "|| CAST((CAST(substr(audit_date, 6, 2) AS BIGINT) + 2) / 3 AS TEXT)")
    sql = re.sub(r"\)\s*VIRTUAL$", ") STORED", sql)
    out = [sql]
    if sql.startswith("CREATE TABLE staff ("):
        # teams does not exist yet: the key is added once it does.
        out = [sql.replace("team_id BIGINT REFERENCES teams(id)", "team_id BIGINT")]
    if sql.startswith("CREATE TABLE teams ("):
        out.append("ALTER TABLE staff ADD CONSTRAINT staff_team_id_fkey "
                   "FOREIGN KEY (team_id) REFERENCES teams(id)")
    return out


#: Each step's SQLite statements (the seeds that follow them are shared Python).
_STATEMENTS = {
    "0001_initial_schema": sqlite_steps.SCHEMA_0001,
    "0002_moderations_and_import": sqlite_steps.SCHEMA_0002,
    "0003_search_and_register_indexes": sqlite_steps.SCHEMA_0003,
    "0004_moderation_loop": sqlite_steps.SCHEMA_0004,
    "0005_faster_bulk_insert": sqlite_steps.SCHEMA_0005,
}
_SEEDS = {
    "0001_initial_schema": sqlite_steps.seed_0001,
    "0004_moderation_loop": sqlite_steps.seed_0004,
}
if tuple(_STATEMENTS) != KNOWN_MIGRATIONS:
    raise RuntimeError("pg_schema.py must carry every schema step, in order")


def statements(name: str) -> list[str]:
    return [pg for statement in _STATEMENTS[name] for pg in to_postgres(statement)]


def apply(conn, pending: list[str], *, calibration_seed: int | None = None) -> None:
    """Apply the pending steps inside the caller's transaction (the migrations table first)."""
    from sefton_qa.store import trail

    for statement in PRELUDE:
        conn.execute(statement)
    for name in KNOWN_MIGRATIONS:
        if name not in pending:
            continue
        for statement in statements(name):
            conn.execute(statement)
        seed = _SEEDS.get(name)
        if seed is not None:
            seed(conn)
        conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at) "
                     "VALUES (?, ?, ?)", (MIGRATION_SET, name, trail.utc_now()))
