"""Issue 8, item 4: a failure in the middle of a service call leaves the store as it was.

For each multi-statement service, the store's connection is replaced (for the call only) by a
proxy that counts the SQL statements the call sends (execute, executemany, executescript) and
raises before the k-th one, i.e. just after statement k-1 ran. k goes 1, 2, 3, ... until the
call completes without reaching k. After every injected failure the whole database (its
``iterdump()``: every table, index, trigger and row, the search index's tables included) is
exactly as before the call, and no transaction is left open. After the final, complete call
verify_store passes.

A failure AT the outermost COMMIT is a different case (the statement that makes the change
durable); it is tested on its own at the end of this file.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from figures import record_figure

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import ActionInput, Role
from sefton_qa.services import audits as audit_service
from sefton_qa.services import moderation
from sefton_qa.services import organisation as org_service
from sefton_qa.services.import_export import import_audits
from sefton_qa.services.session import Session
from sefton_qa.services.verify import verify_store
from sefton_qa.store import loop as loop_store
from sefton_qa.store import staff as staff_store

from import_helpers import row, write_rows

pytestmark = pytest.mark.file_only  # about SQLite files themselves


TODAY = dt.date(2026, 11, 24)
I, RI, G = Grade.INADEQUATE, Grade.REQUIRES_IMPROVEMENT, Grade.GOOD
FIGURES: dict[str, tuple[int, int]] = {}


class InjectedFault(Exception):
    """The failure the proxy raises in the middle of a service call."""


class FaultyConnection:
    """Stands in for ``Store.conn``: passes everything through to the real connection, but
    raises InjectedFault instead of running statement number ``fail_before`` (once)."""

    def __init__(self, real: sqlite3.Connection, fail_before: int | None):
        self._real = real
        self.fail_before = fail_before
        self.count = 0
        self.fired = False
        self.statements: list[str] = []

    def _tick(self, sql: str) -> None:
        self.count += 1
        self.statements.append(" ".join(sql.split())[:60])
        if not self.fired and self.count == self.fail_before:
            self.fired = True
            raise InjectedFault(f"injected before statement {self.count}: {sql[:60]!r}")

    def execute(self, sql, *args, **kwargs):
        self._tick(sql)
        return self._real.execute(sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        self._tick(sql)
        return self._real.executemany(sql, *args, **kwargs)

    def executescript(self, sql):
        self._tick(sql)
        return self._real.executescript(sql)

    def __getattr__(self, name):
        return getattr(self._real, name)


def dump(conn: sqlite3.Connection) -> list[str]:
    return list(conn.iterdump())


def is_outer_commit(sql: str) -> bool:
    return sql.strip().upper() in ("COMMIT", "END")


class CommitPassing(FaultyConnection):
    """Like FaultyConnection, but never fails the outermost COMMIT (tested separately)."""

    def _tick(self, sql: str) -> None:
        if self.count + 1 == self.fail_before and is_outer_commit(sql):
            self.fail_before += 1  # let the COMMIT run; fail the next statement, if any
        super()._tick(sql)


@pytest.fixture
def loop(store, admin, org, auditor, manager, make_input):
    """The org with a moderator; sessions; helpers to make audits, moderations and
    conversations through the services."""
    moderator_id = org_service.add_staff(admin, "Mo Moderator", os_username="mo.moderator",
                                         roles=[Role.MODERATOR]).record_id

    def as_(staff_id):
        return Session(store=store, actor=staff_store.get(store.conn, staff_id),
                       os_user="pytest", today=lambda: TODAY)

    def submitted(grade=I, ref="LCS-200001"):
        return audit_service.create_audit(auditor, make_input(case_reference=ref,
                                                              overall_grade=grade),
                                          submit=True).record_ids[0]

    def pending(audit_id):
        (m,) = [m for m in loop_store.moderations_for_audit(store.conn, audit_id)
                if m.status.value == "pending"]
        return m

    return type("Loop", (), dict(
        store=store, admin=admin, org=org, auditor=auditor, manager=manager,
        moderator=as_(moderator_id), make_input=make_input, submitted=staticmethod(submitted),
        pending=staticmethod(pending)))


def check(name: str, store, call) -> None:
    faults, statements = run_with_faults(store, call)
    assert faults >= 3, f"{name}: only {faults} statements; is the proxy on the path?"
    report = verify_store(store)
    assert report.ok, "\n".join(report.lines())
    FIGURES[name] = (faults, statements)
    record_figure("faults", f"{name}: {faults} injected failures, store unchanged each time; "
                            f"complete call = {statements} statements")


def run_with_faults(store, call) -> tuple[int, int]:
    """Fail ``call`` before each of its statements in turn (its outermost COMMIT excepted),
    checking the whole store after each failure. Returns (failures injected, statements in
    the complete call)."""
    real = store.conn
    k = 1
    while True:
        before = dump(real)
        proxy = CommitPassing(real, fail_before=k)
        store.conn = proxy
        try:
            call()
        except InjectedFault:
            store.conn = real
            assert not real.in_transaction, f"a transaction was left open (fault {k})"
            after = dump(real)
            assert after == before, (
                f"the store changed after a failure before statement {k} "
                f"({proxy.statements[-1]!r}): {sorted(set(after) ^ set(before))[:5]}")
            k += 1
            continue
        finally:
            store.conn = real
        assert not proxy.fired, f"the call hid the failure before statement {k}"
        break
    return k - 1, proxy.count


# -- each multi-statement service ----------------------------------------------------------------
def test_create_audit_submitted(loop):
    check("create_audit(submit=True)", loop.store, lambda: audit_service.create_audit(
        loop.auditor, loop.make_input(case_reference="LCS-300001", overall_grade=I),
        submit=True))
    assert len(loop_store.moderations_for_audit(loop.store.conn, 1)) == 1


def test_submit_audit(loop):
    draft = audit_service.create_audit(
        loop.auditor, loop.make_input(case_reference="LCS-300002", overall_grade=I)
    ).record_ids[0]
    check("submit_audit", loop.store, lambda: audit_service.submit_audit(loop.auditor, draft))
    assert audit_service.get_audit(loop.auditor, draft).status.value == "submitted"


def test_moderate_confirming_inadequate(loop):
    audit_id = loop.submitted(I)
    m = loop.pending(audit_id)
    check("moderate (confirm inadequate: conversation due)", loop.store,
          lambda: moderation.moderate(loop.moderator, m.id, I))
    assert len(loop_store.conversations_for_audit(loop.store.conn, audit_id)) == 1


def test_moderate_changing_the_grade(loop):
    audit_id = loop.submitted(I)
    m = loop.pending(audit_id)
    check("moderate (regrade the audit)", loop.store,
          lambda: moderation.moderate(loop.moderator, m.id, RI,
                                      reason="The child's voice is recorded throughout."))
    assert audit_service.get_audit(loop.auditor, audit_id).overall_grade is RI


def test_hold_conversation_with_actions(loop):
    audit_id = loop.submitted(I)
    moderation.moderate(loop.moderator, loop.pending(audit_id).id, I)
    (conversation,) = loop_store.conversations_for_audit(loop.store.conn, audit_id)
    actions = [ActionInput("See the child alone.", loop.org.manager, dt.date(2026, 12, 10)),
               ActionInput("Update the plan.", loop.org.auditor, dt.date(2026, 12, 17),
                           reaudit_by=dt.date(2027, 1, 29))]
    check("hold_conversation (2 actions)", loop.store,
          lambda: moderation.hold_conversation(
              loop.manager, conversation.id, held_on=TODAY,
              participants=["worker", "team manager"], learning="Visits slipped.",
              actions=actions))
    assert len(loop_store.actions_for_audit(loop.store.conn, audit_id)) == 2


def test_add_audits(loop):
    inputs = [loop.make_input(case_reference=f"LCS-4000{n}", overall_grade=g)
              for n, g in enumerate((G, RI, I))]
    check("add_audits (3, submitted)", loop.store,
          lambda: audit_service.add_audits(loop.auditor, inputs))
    assert loop.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 3


def test_import_audits(loop, tmp_path):
    path = write_rows(tmp_path / "audits.csv",
                      [row(1), row(2, grade="Inadequate"), row(3, grade="Requires improvement")])
    reports = []
    check("import_audits (3 rows)", loop.store,
          lambda: reports.append(import_audits(loop.admin, path)))
    assert reports[-1].ok and reports[-1].added == 3


def test_import_audits_creating_a_missing_team(loop, tmp_path):
    path = write_rows(tmp_path / "audits.csv",
                      [row(1, team="CP Team 9"), row(2, team="CP Team 9", grade="Inadequate")])
    reports = []
    check("import_audits (2 rows, creates a team)", loop.store,
          lambda: reports.append(import_audits(loop.admin, path, create_missing=True)))
    assert reports[-1].ok, reports[-1].lines()


# -- a failure at the COMMIT itself ---------------------------------------------------------------
def test_a_failed_commit_leaves_no_transaction_open_and_the_store_unchanged(loop):
    store = loop.store
    real = store.conn
    before = dump(real)

    class FailAtCommit(FaultyConnection):
        def _tick(self, sql):
            if is_outer_commit(sql) and not self.fired:
                self.fail_before = self.count + 1
            super()._tick(sql)

    store.conn = FailAtCommit(real, fail_before=None)
    try:
        with pytest.raises(InjectedFault):
            audit_service.create_audit(
                loop.auditor, loop.make_input(case_reference="LCS-500001", overall_grade=I),
                submit=True)
    finally:
        store.conn = real
    try:
        assert not real.in_transaction, "the failed save's transaction is still open"
        assert dump(real) == before
    finally:
        if real.in_transaction:
            real.execute("ROLLBACK")  # so the fixture can close the store


def test_a_save_after_a_failed_commit_is_really_committed(loop):
    store = loop.store
    real = store.conn

    class FailAtCommit(FaultyConnection):
        def _tick(self, sql):
            if is_outer_commit(sql) and not self.fired:
                self.fail_before = self.count + 1
            super()._tick(sql)

    store.conn = FailAtCommit(real, fail_before=None)
    try:
        with pytest.raises(InjectedFault):
            audit_service.create_audit(
                loop.auditor, loop.make_input(case_reference="LCS-500001"), submit=True)
    finally:
        store.conn = real
    try:
        saved = audit_service.create_audit(  # the user saves again; the app says it worked
            loop.auditor, loop.make_input(case_reference="LCS-500002"), submit=True)
        other = sqlite3.connect(str(store.path), timeout=1)  # another window
        try:
            refs = {r[0] for r in other.execute("SELECT case_reference FROM audits")}
        finally:
            other.close()
        assert saved.record_ids and "LCS-500002" in refs
    finally:
        if real.in_transaction:
            real.execute("ROLLBACK")
