"""Verify a store: SQLite integrity, foreign keys, the trail's hash chain, and that every record
is exactly what its trail rebuilds (so an edit made outside the app is found)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sefton_qa.store import Store, dialect, records, trail
from sefton_qa.store.integrity import (
    SERVER_KEEPS_ITS_FILES,
    foreign_key_problems,
    integrity_problems,
    search_index_problems,
)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    #: Passed, but with something the reader must know (say: nothing to hold the history to).
    warning: bool = False

    @property
    def status(self) -> str:
        return "FAIL" if not self.ok else "WARN" if self.warning else "ok"


@dataclass
class VerifyReport:
    checks: list[Check] = field(default_factory=list)
    #: True when the caller's progress callback stopped the checks early.
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        return [f"{c.status:<4}  {c.name}: {c.detail}" for c in self.checks]

    def as_json(self) -> dict:
        return {"ok": self.ok, "cancelled": self.cancelled,
                "checks": [{"name": c.name, "status": c.status, "ok": c.ok,
                            "warning": c.warning, "detail": c.detail} for c in self.checks]}


CHECKS = ("integrity_check", "foreign_key_check", "search index", "trail protection",
          "triggers", "schema", "trail chain", "records match trail", "calibration draws",
          "anchors")


def verify_store(store: Store, progress=None, *, anchors=()) -> VerifyReport:
    """Every check in turn; a check that the damaged file itself stops is a FAIL line naming
    the damage, never an exception.

    ``progress(done, total, message)`` is called before each check; when it returns False the
    remaining checks are skipped and the report is marked ``cancelled``.
    """
    report = VerifyReport()
    errors = dialect.database_errors()
    found = _anchors_of(store) + list(anchors)
    checks = list(zip(CHECKS, (_integrity, _foreign_keys, _search_index, _protection,
                               _triggers, _schema, _chain, _replay_check, _draws,
                               lambda conn: _anchor_check(conn, found, store))))
    try:
        with store.snapshot() as conn:
            for done, (name, check) in enumerate(checks):
                if progress is not None and progress(done, len(checks), name) is False:
                    report.cancelled = True
                    return report
                try:
                    result = check(conn)
                except errors as exc:
                    result = Check(name, False, f"the store is damaged and could not be read "
                                                f"({exc}); restore it from a backup")
                except (TypeError, ValueError, KeyError) as exc:  # values no app writes
                    result = Check(name, False, f"the store holds values Sefton QA never "
                                                f"writes ({type(exc).__name__}: {exc}); it was "
                                                "changed outside the app: restore it from a "
                                                "backup")
                if result is not None:
                    report.checks.append(result)
    except errors as exc:
        report.checks.append(Check("reading the store", False,
                                   f"the store is damaged ({exc}); restore it from a backup"))
    return report


def _integrity(conn) -> Check:
    if not dialect.of(conn).is_file:
        return Check("integrity_check", True, SERVER_KEEPS_ITS_FILES)
    problems = integrity_problems(conn)
    return Check("integrity_check", not problems,
                 "the database file is sound" if not problems else "; ".join(problems))


def _foreign_keys(conn) -> Check:
    problems = foreign_key_problems(conn)
    return Check("foreign_key_check", not problems,
                 "every reference points to a record" if not problems else "; ".join(problems))


def _search_index(conn) -> Check | None:
    if dialect.of(conn).is_file and "audits_fts" not in dialect.of(conn).tables(conn):
        return None
    problems = search_index_problems(conn)
    return Check("search index", not problems,
                 "matches every audit" if not problems else "; ".join(problems))


def _protection(conn) -> Check:
    missing = trail.missing_protection(conn)
    return Check("trail protection", not missing,
                 "the trail refuses edits and deletions" if not missing
                 else f"the trigger(s) {', '.join(missing)} were removed outside the app")


def _triggers(conn) -> Check:
    """Only the app's own triggers: one added outside the app could quietly change what is
    saved (say, every new inadequate grade into another) without touching the trail."""
    d = dialect.of(conn)
    extra = sorted(d.all_triggers(conn) - d.expected_triggers_of(conn))
    if extra:
        names = ", ".join(f"{name} on {table}" for table, name in extra)
        return Check("triggers", False, f"the trigger(s) {names} were added outside the app; "
                                        "they may change what is saved")
    return Check("triggers", True, "only the app's own")


def _schema(conn) -> Check:
    """Every table, column, key, index, view and trigger is as the store's schema steps make
    it: one added or changed outside the app is named."""
    from sefton_qa.store import schema_check

    if not schema_check.comparable(conn):
        return Check("schema", True, "not compared: the store has schema steps this version "
                                     "does not know (a newer version's)")
    found = schema_check.problems(conn)
    if found:
        return Check("schema", False, "; ".join(found))
    return Check("schema", True, "as the app's schema steps make it")


#: The schema step from which each recorded draw names its method.
DRAW_METHOD_STEP = "0009_calibration_draw_method"


def _draws(conn) -> Check | None:
    """Each moderation chosen for the calibration sample was chosen fairly: its recorded draw
    is what its recorded seed gives for its audit by its recorded method (1 or 2), and under
    its recorded rate. Not shown for a store from before the method was recorded."""
    import json

    from sefton_qa.services.moderation import draw_is_sound
    from sefton_qa.store import moderations, schema_steps

    if DRAW_METHOD_STEP not in schema_steps.applied_names(conn):
        return None
    by_method: dict = {}
    for moderation_id, audit_id, selection, method in moderations.recorded_draws(conn):
        try:
            chosen = json.loads(selection)
        except ValueError:
            chosen = None
        if not draw_is_sound(audit_id, chosen, method):
            return Check("calibration draws", False,
                         f"moderation {moderation_id} (audit {audit_id}) is not what its "
                         f"recorded calibration draw gives (method {method}): the sample was "
                         "not drawn fairly, or was changed")
        by_method[method] = by_method.get(method, 0) + 1
    total = sum(by_method.values())
    methods = ", ".join(f"method {m}: {n:,}" for m, n in sorted(by_method.items()))
    return Check("calibration draws", True,
                 f"{total:,} recorded draw(s), each recomputed by its own method"
                 + (f" ({methods})" if methods else ""))


def _anchors_of(store: Store) -> list:
    """The anchors kept outside a store file (none for a server store: the server itself
    refuses a rewrite of the trail)."""
    from sefton_qa.services.backups import backup_folder, backup_stem_of
    from sefton_qa.store import anchors

    if not store.dialect.is_file or store.path is None:
        return []
    try:
        folder = backup_folder(store)
    except Exception:  # noqa: BLE001 - an unreadable setting: the folder beside the store
        folder = store.path.parent / "backups"
    return anchors.gather(store.path, folder, backup_stem_of(store))


def anchors_report(store: Store) -> list[str]:
    """``sefton-qa anchors``: each anchor kept outside the store, oldest first, and whether the
    trail holds to it."""
    from sefton_qa.store import anchors

    found = _anchors_of(store)
    if not found:
        return ["No anchors yet: each backup and committee pack leaves one."]
    with store.snapshot() as conn:
        result = anchors.check(conn, found)
    state = {id(a): "holds" for a in result.held}
    state.update({id(a): "BROKEN" for a, _why in result.broken})
    state.update({id(a): "superseded by a restore" for a in result.superseded})
    return [f"{a.made_utc[:19].replace('T', ' ')}  {a.kind:<8} {a.text}  {a.source}  "
            f"{state[id(a)]}" for a in found]


def _anchor_check(conn, found: list, store: Store) -> Check:
    from sefton_qa.store import anchors

    if not found:
        if not store.dialect.is_file:
            return Check("anchors", True, "none given; on a server the trail's protection is "
                                          "the server's own")
        return Check("anchors", True, "no anchor found outside the store (no backup, pack or "
                                      "anchors file): a history rewritten with its hashes "
                                      "recomputed could not be told from the real one; each "
                                      "backup and committee pack leaves one", warning=True)
    result = anchors.check(conn, found)
    if result.broken:
        return Check("anchors", False, "; ".join(why for _a, why in result.broken))
    superseded = (f"; {len(result.superseded)} made before the last restore superseded"
                  if result.superseded else "")
    return Check("anchors", True, f"the trail matches {len(result.held)} anchor(s) kept "
                                  f"outside the store{superseded}")


def _chain(conn) -> Check:
    checked, broken = trail.check_chain(conn)
    if broken:
        return Check("trail chain", False, f"breaks at trail row {broken.seq}: {broken.problem}")
    return Check("trail chain", True, f"{checked:,} rows, every hash matches")


def _replay_check(conn) -> Check:
    """Each trailed table and its rebuild from the trail, merged in id order (both streams
    are read once, a record at a time, so memory stays flat at any size)."""
    tables = records.existing_trailed_tables(conn)
    present = dialect.of(conn).tables(conn)
    for table in trail.trail_tables(conn):
        if table not in tables:
            return Check("records match trail", False,
                         f"the trail has rows for {table}, a table this version of Sefton QA "
                         "does not know (a newer version's?)" if table in present else
                         f"the trail has rows for {table}, which this store does not have "
                         "(deleted outside the app)")
    seen = 0
    for table in tables:
        rebuilt = trail.replay_table(conn, table)
        expected_next = next(rebuilt, None)
        for (_table, record_id), record in records.canonical_records(conn, table):
            seen += 1
            if expected_next is not None and expected_next[0] < record_id:
                return Check("records match trail", False,
                             f"{table} record {expected_next[0]} is in the trail but missing "
                             "from the store (deleted outside the app)")
            if expected_next is None or expected_next[0] != record_id:
                return Check("records match trail", False,
                             f"{table} record {record_id} has no trail rows (added outside "
                             "the app)")
            expected = expected_next[1]
            if expected != record:
                fields = sorted(k.lstrip("_") for k in set(expected) | set(record)
                                if expected.get(k) != record.get(k))
                return Check("records match trail", False,
                             f"{table} record {record_id} differs from its trail in "
                             f"{', '.join(fields)} (changed outside the app)")
            expected_next = next(rebuilt, None)
        if expected_next is not None:
            return Check("records match trail", False,
                         f"{table} record {expected_next[0]} is in the trail but missing from "
                         "the store (deleted outside the app)")
    return Check("records match trail", True, f"{seen:,} records rebuilt exactly from the trail")
