"""Is the store's schema the one its schema steps make? Anything added or changed outside the
app (a table, a column, an index, a view, a trigger, a trigger's body) is found and named.

On SQLite every object's SQL is compared with that of a store migrated from nothing in memory,
to the same steps. On a server the tables, columns, keys and indexes are compared with the same
expected schema through the engines' common description (the one the lockstep test uses), and
the trail's guard function with the text the app installs.
"""

from __future__ import annotations

import functools
import re
import sqlite3

from sefton_qa.store import dialect

#: SQLite's search index is its own tables; the server's is a column and a GIN index.
SEARCH_TABLES_ON_SQLITE = frozenset({"audits_fts", "audits_fts_config", "audits_fts_data",
                                     "audits_fts_docsize", "audits_fts_idx"})
SEARCH_ON_SERVER = {"columns": {("audits", "search_vector")}, "indexes": {"audits_search"}}


def _squeeze(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").strip()


@functools.lru_cache(maxsize=8)
def _expected_conn(steps: tuple[str, ...]):
    """An in-memory SQLite store migrated to exactly ``steps`` (a prefix of the known steps),
    made once and only read from then on."""
    import sqlite_utils

    from sefton_qa.store import migrations
    from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS

    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN")
    following = KNOWN_MIGRATIONS[len(steps):]
    migrations.migrations.apply(sqlite_utils.Database(conn),
                                stop_before=following[0] if following else None)
    conn.execute("COMMIT")
    return conn


@functools.lru_cache(maxsize=8)
def _expected_sqlite_objects(steps: tuple[str, ...]) -> dict[tuple[str, str], str]:
    return _sqlite_objects(_expected_conn(steps))


def _sqlite_objects(conn) -> dict[tuple[str, str], str]:
    return {(kind, name): _squeeze(sql) for kind, name, sql in conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}


def comparable(conn) -> bool:
    """True when this version knows every schema step the store has applied (in order)."""
    from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS, applied_names

    applied = tuple(applied_names(conn))
    return applied == KNOWN_MIGRATIONS[:len(applied)]


def problems(conn) -> list[str]:
    """What differs from the schema the store's steps make, in words (empty when it is as the
    app made it). Only for a store whose steps this version knows (see :func:`comparable`)."""
    from sefton_qa.store.schema_steps import applied_names

    steps = tuple(applied_names(conn))
    if dialect.of(conn).is_file:
        return _sqlite_problems(conn, steps)
    return _server_problems(conn, steps)


def _sqlite_problems(conn, steps) -> list[str]:
    expected = _expected_sqlite_objects(steps)
    actual = _sqlite_objects(conn)
    out = []
    # Triggers added or removed are verify's "triggers" and "trail protection" lines; here
    # only a trigger whose SQL was changed.
    for kind, name in sorted(set(actual) - set(expected)):
        if kind != "trigger":
            out.append(f"the {kind} {name} was added outside the app")
    for kind, name in sorted(set(expected) - set(actual)):
        if kind != "trigger":
            out.append(f"the {kind} {name} is missing")
    changed_tables = []
    for key in sorted(set(expected) & set(actual)):
        if expected[key] != actual[key]:
            if key[0] == "table":
                changed_tables.append(key[1])
            else:
                out.append(f"the {key[0]} {key[1]} was changed outside the app")
    if changed_tables:
        wanted, found = describe_sqlite(_expected_conn(steps)), describe_sqlite(conn)
        for table in changed_tables:
            what = [f"{part}: {_difference(wanted[table][part], found[table][part])}"
                    for part in ("columns", "pk", "fks", "uniques")
                    if wanted.get(table, {}).get(part) != found.get(table, {}).get(part)]
            out.append(f"the table {table} was changed outside the app"
                       + (f" ({'; '.join(what)})" if what else ""))
    return out


def _server_problems(conn, steps) -> list[str]:
    from sefton_qa.store import pg_schema

    expected = describe_sqlite(_expected_conn(steps))
    actual = describe_server(conn)
    out = []
    for table in sorted(set(actual) - set(expected)):
        out.append(f"the table {table} was added outside the app")
    for table in sorted(set(expected) - set(actual)):
        out.append(f"the table {table} is missing")
    for table in sorted(set(expected) & set(actual)):
        for part in ("columns", "pk", "fks", "indexes", "uniques"):
            if expected[table][part] != actual[table][part]:
                out.append(f"the {part} of {table} differ from the app's "
                           f"({_difference(expected[table][part], actual[table][part])})")
    views = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()")]
    out.extend(f"the view {v} was added outside the app" for v in sorted(views))
    bodies = dict(conn.execute(
        "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = "
        "p.pronamespace WHERE n.nspname = current_schema() AND p.proname LIKE 'sefton%'"))
    for name, wanted in pg_schema.guard_bodies(steps).items():
        if name not in bodies:
            out.append(f"the trail's guard function {name} is missing")
        elif _squeeze(bodies[name]) != _squeeze(wanted):
            out.append(f"the trail's guard function {name} was changed outside the app")
    return out


def _difference(expected, actual) -> str:
    if isinstance(expected, dict):
        extra = sorted(set(actual) - set(expected))
        missing = sorted(set(expected) - set(actual))
        changed = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
    elif isinstance(expected, set):
        extra, missing, changed = sorted(map(str, actual - expected)), \
            sorted(map(str, expected - actual)), []
    else:
        return f"{actual} instead of {expected}"
    words = [f"added {', '.join(map(str, extra))}" if extra else "",
             f"missing {', '.join(map(str, missing))}" if missing else "",
             f"changed {', '.join(map(str, changed))}" if changed else ""]
    return "; ".join(w for w in words if w)


# -- one description for both engines ----------------------------------------------------------
def _kind(declared: str) -> str:
    declared = (declared or "").lower()
    if "int" in declared:
        return "integer"
    return "text" if "text" in declared else declared


def describe_sqlite(conn) -> dict:
    """table → columns (kind, not null), primary key, foreign keys, indexes, unique keys."""
    out = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall():
        if table in SEARCH_TABLES_ON_SQLITE:
            continue
        columns, pk = {}, []
        for _cid, name, kind, notnull, _default, pk_pos, _hidden in conn.execute(
                f"PRAGMA table_xinfo({table})").fetchall():
            integer_key = pk_pos == 1 and kind.upper() == "INTEGER"
            columns[name] = (_kind(kind), bool(notnull) or integer_key)
            if pk_pos:
                pk.append((pk_pos, name))
        fks = {(row[3], row[2], row[4]) for row in conn.execute(
            f"PRAGMA foreign_key_list({table})").fetchall()}
        indexes, uniques = set(), set()
        for _seq, name, _unique, origin, _partial in conn.execute(
                f"PRAGMA index_list({table})").fetchall():
            cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})").fetchall())
            if origin == "c":
                indexes.add(name)
            elif origin == "u":
                uniques.add(cols)
        out[table] = {"columns": columns, "pk": tuple(n for _p, n in sorted(pk)), "fks": fks,
                      "indexes": indexes, "uniques": uniques}
    return out


def describe_server(conn) -> dict:
    """The same description, read from PostgreSQL's catalogue."""
    from sefton_qa.store.pg_schema import SERVER_ONLY_TABLES

    out = {}
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
        if r[0] not in SERVER_ONLY_TABLES]
    for table in tables:
        columns = {}
        for name, kind, nullable in conn.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ?", (table,)).fetchall():
            if (table, name) in SEARCH_ON_SERVER["columns"]:
                continue
            columns[name] = (_kind(kind), nullable == "NO")
        constraint_columns: dict = {}
        for name, kind, column, _position, parent, parent_column in conn.execute(
                "SELECT c.conname, c.contype, a.attname, k.n, pc.relname, pa.attname "
                "FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid "
                "JOIN pg_namespace ns ON ns.oid = cl.relnamespace "
                "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
                "LEFT JOIN pg_class pc ON pc.oid = c.confrelid "
                "LEFT JOIN pg_attribute pa ON pa.attrelid = c.confrelid "
                "AND pa.attnum = c.confkey[k.n] "
                "WHERE ns.nspname = current_schema() AND cl.relname = ? "
                "ORDER BY c.conname, k.n", (table,)).fetchall():
            constraint_columns.setdefault((name, kind), []).append((column, parent,
                                                                    parent_column))
        pk, fks, uniques = (), set(), set()
        for (_name, kind), cols in constraint_columns.items():
            if kind == "p":
                pk = tuple(c for c, _p, _pc in cols)
            elif kind == "f":
                fks |= {(c, p, pc) for c, p, pc in cols}
            elif kind == "u":
                uniques.add(tuple(c for c, _p, _pc in cols))
        indexes = {r[0] for r in conn.execute(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND t.relname = ? "
            "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = x.indexrelid)", (table,)).fetchall()}
        out[table] = {"columns": columns, "pk": pk, "fks": fks,
                      "indexes": indexes - SEARCH_ON_SERVER["indexes"], "uniques": uniques}
    return out
