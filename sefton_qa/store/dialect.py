"""What differs between the two engines, in one place: SQLite (a local file) and PostgreSQL
(the team's server).

Store modules keep their hand-written SQL with ``?`` placeholders; the PostgreSQL connection
translates each statement once (:func:`translate`, cached). The few fragments that cannot be
written the same way on both engines are methods of :class:`Dialect`, found from a connection
with :func:`of`. Nothing above the store knows which engine it runs on; what only a file can do
(backup files, the network-drive refusal, opening read-only by file) is asked of the store's
:attr:`Dialect.is_file`.
"""

from __future__ import annotations

import functools
import sqlite3


class Dialect:
    name = "sqlite"
    #: A file on this computer's disk (backups are files, read-only opening by file, ...).
    is_file = True

    # -- fragments ------------------------------------------------------------------------------
    def indexed_by(self, index: str) -> str:
        """A planner hint naming the index to use (SQLite only; the server plans for itself)."""
        return f"INDEXED BY {index}"

    #: A join whose loop order is fixed as written (SQLite's CROSS JOIN); a plain join elsewhere.
    ordered_join = "CROSS JOIN"

    def group_concat(self, expr: str, separator_literal: str) -> str:
        return f"group_concat({expr}, {separator_literal})"

    def order_by(self, terms, descending: bool) -> str:
        """ORDER BY terms, NULLs sorted as the lowest value (SQLite's rule) on both engines."""
        return ", ".join(f"{t} DESC" if descending else t for t in terms)

    #: ORDER BY that keeps the insertion order of the schema-steps table.
    migrations_order = "rowid"

    # -- full-text search -----------------------------------------------------------------------
    def search_query(self, text: str) -> str | None:
        """The engine's query for what a person typed: every word must appear, as a prefix;
        the parts of one typed term (a case reference like LCS-123) side by side. None when
        nothing searchable was typed."""
        from sefton_qa.store.search import words_of

        phrases = [" ".join(parts) for parts in words_of(text)]
        return " ".join(f'"{p}"*' for p in phrases) if phrases else None

    def search_ids(self) -> str:
        """SQL selecting the ids of audits that match the query in one ``?``."""
        return "SELECT rowid FROM audits_fts WHERE audits_fts MATCH ?"

    def search_clause(self, alias: str) -> str:
        """A WHERE condition on audits ``alias`` with one ``?`` for the query."""
        return f"{alias}.id IN ({self.search_ids()})"

    def search_count(self) -> str:
        return "SELECT count(*) FROM audits_fts WHERE audits_fts MATCH ?"

    def stream(self, conn, sql: str, params=()):
        """A cursor that reads rows as they are fetched, not all at once (SQLite's always do)."""
        return conn.execute(sql, params)

    # -- bulk writes ----------------------------------------------------------------------------
    def insert_rows(self, conn, table: str, columns, rows: list) -> None:
        """Write many new rows (tuples in ``columns``' order) inside the caller's transaction:
        one prepared INSERT run over them all on a file."""
        if rows:
            conn.executemany(_insert_sql(table, tuple(columns)), rows)

    # -- introspection --------------------------------------------------------------------------
    def tables(self, conn) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}

    def triggers(self, conn, table: str) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,))}

    def expected_triggers_of(self, conn) -> frozenset[tuple[str, str]]:
        """The triggers the app's own schema has at the store's schema step: (table, trigger)."""
        from sefton_qa.store import schema_steps

        return schema_steps.expected_triggers(self.name, schema_steps.applied_names(conn))

    def all_triggers(self, conn) -> set[tuple[str, str]]:
        """Every trigger in the store, as (table, trigger)."""
        return {(r[0], r[1]) for r in conn.execute(
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")}


@functools.lru_cache(maxsize=32)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


class PostgresDialect(Dialect):
    name = "postgresql"
    is_file = False
    ordered_join = "JOIN"
    migrations_order = "id"

    def indexed_by(self, index: str) -> str:
        return ""

    def order_by(self, terms, descending: bool) -> str:
        return ", ".join(f"{t} DESC NULLS LAST" if descending else f"{t} NULLS FIRST"
                         for t in terms)

    def group_concat(self, expr: str, separator_literal: str) -> str:
        return f"string_agg({expr}, {separator_literal})"

    def search_query(self, text: str) -> str | None:
        from sefton_qa.store.search import words_of

        terms = []
        for parts in words_of(text):
            # The stored text has every run of non-alphanumerics replaced by a space, so
            # "LCS-123" is the words "lcs" then "123": a phrase, the last word a prefix.
            words = [p.lower() for p in parts]
            terms.append(" <-> ".join([*words[:-1], words[-1] + ":*"]))
        return " & ".join(f"({t})" for t in terms) if terms else None

    #: Fewer rows than this are sent with the next statement (one round trip saved);
    #: more are streamed with COPY.
    copy_from = 64

    def insert_rows(self, conn, table: str, columns, rows: list) -> None:
        """On a server: ``COPY … FROM STDIN`` streamed a row at a time (a few rows are sent
        with the next statement instead, as a multi-row INSERT)."""
        if not rows:
            return
        if len(rows) < self.copy_from:
            conn.defer(_insert_sql(table, tuple(columns)), rows)
        else:
            conn.copy_rows(table, columns, rows)

    def search_ids(self) -> str:
        return ("SELECT id FROM audits WHERE search_vector @@ "
                "to_tsquery('sefton_search', ?)")

    def search_clause(self, alias: str) -> str:
        return f"{alias}.search_vector @@ to_tsquery('sefton_search', ?)"

    def search_count(self) -> str:
        return f"SELECT count(*) FROM audits WHERE {self.search_clause('audits')}"

    def stream(self, conn, sql: str, params=()):
        # A server-side cursor (inside the caller's transaction): memory stays flat.
        return conn.stream(sql, params)

    def tables(self, conn) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")}

    def triggers(self, conn, table: str) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ? AND NOT t.tgisinternal "
            "AND t.tgenabled <> 'D'", (table,))}

    def all_triggers(self, conn) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in conn.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal")}


def database_errors() -> tuple[type[BaseException], ...]:
    """The exceptions either engine raises for a store it cannot read or write."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return (sqlite3.DatabaseError,)
    return (sqlite3.DatabaseError, psycopg.DatabaseError)


SQLITE = Dialect()
POSTGRESQL = PostgresDialect()


def of(conn) -> Dialect:
    """The dialect of a connection: the PostgreSQL connection says so; anything else is an
    sqlite3 connection (or a test's wrapper around one)."""
    return getattr(conn, "dialect", SQLITE)


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s``, and every literal ``%`` doubled, outside quoted
    literals, quoted identifiers and comments for ``?`` (``%`` is doubled everywhere: psycopg
    reads the whole text). Cached: statements are few and repeated."""
    out = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # '' inside a literal
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i:end + 1].replace("%", "%%"))
            i = end + 1
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "/" and sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
