"""Issue 8, item 8: the clock and time zones.

The trail's order is its sequence number, never the wall clock. ``trail.utc_now`` (the one
clock every write uses) is replaced by a scripted clock: one that jumps back an hour, and one
that walks through the UK's March and October clock changes. Timestamps are UTC, so the two
"01:30 local" moments of the October change are two different, increasing times; and a clock
going backwards changes nothing about the order, the chain or the replay.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from figures import record_figure

from sefton_qa.domain.grades import Grade
from sefton_qa.services import audits as audit_service
from sefton_qa.services.verify import verify_store
from sefton_qa.store import trail

LONDON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local(y, m, d, hh, mm, *, fold=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LONDON, fold=fold)


class SetClock:
    """The wall clock, as the test sets it: every write reads ``now`` until it is set again."""

    def __init__(self, now: str):
        self.now = now
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.now


def trail_rows(conn) -> list[tuple[int, str, str, int]]:
    return conn.execute("SELECT seq, at_utc, table_name, record_id FROM trail ORDER BY seq"
                        ).fetchall()


def assert_sound(store) -> None:
    report = verify_store(store)  # integrity, chain, and every record rebuilt from the trail
    assert report.ok, report.lines()
    seqs = [r[0] for r in trail_rows(store.conn)]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.file_only  # on a server the trail's time is the server's clock
def test_a_clock_jumping_back_an_hour_leaves_the_trail_in_seq_order(store, auditor,
                                                                    make_input, monkeypatch):
    start = dt.datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clock = SetClock(stamp(start))
    monkeypatch.setattr(trail, "utc_now", clock)
    first_seq = trail.count(store.conn)
    minute = 0

    def tick() -> None:  # a minute passes between two saves
        nonlocal minute
        minute += 1
        clock.now = stamp(start + dt.timedelta(minutes=minute))

    ids = []
    for i in range(6):
        ref = f"LCS-81{i:04d}"
        ids.append(audit_service.create_audit(auditor, make_input(case_reference=ref)).record_id)
        tick()
        for n in (1, 2):
            if i == 2 and n == 2:
                minute -= 60  # the system clock is set back an hour, mid-way through audit 3
            version = audit_service.get_audit(auditor, ids[-1]).version
            audit_service.update_audit(auditor, ids[-1],
                                       make_input(case_reference=ref, findings=f"Edit {n}.",
                                                  overall_grade=Grade.INADEQUATE),
                                       expected_version=version)
            tick()
        audit_service.submit_audit(auditor, ids[-1])
        tick()

    rows = trail_rows(store.conn)[first_seq:]
    at = [r[1] for r in rows]
    went_back = sum(b < a for a, b in zip(at, at[1:]))
    assert went_back >= 1, "the clock never went back in this test"
    assert [r[0] for r in rows] == list(range(first_seq + 1, first_seq + len(rows) + 1))
    assert_sound(store)

    # Each audit's history is in the order the changes were made, whatever the clock said.
    for audit_id in ids:
        kinds = [e.kind for e in trail.entries_for(store.conn, "audits", audit_id)]
        assert kinds == ["create", "update", "update", "submit"]
        audit = audit_service.get_audit(auditor, audit_id)
        assert audit.version == 4 and audit.findings == "Edit 2."
    # Replay rebuilds records exactly, including an updated_at earlier than created_at.
    rebuilt = trail.replay(store.conn)
    backwards = 0
    for audit_id in ids:
        rec = rebuilt[("audits", audit_id)]
        row = store.conn.execute("SELECT version, created_at, updated_at FROM audits WHERE id=?",
                                 (audit_id,)).fetchone()
        assert (rec["_version"], rec["_created_at"], rec["_updated_at"]) == tuple(row)
        backwards += row[2] < row[1]
    assert backwards >= 1
    record_figure("clock back 1 h",
                  f"{len(rows)} trail rows, {went_back} written with an earlier time than the "
                  f"row before; seq {rows[0][0]}..{rows[-1][0]} unbroken; {backwards} audit(s) "
                  "with updated_at < created_at; verify + replay ok")


@pytest.mark.file_only  # on a server the trail's time is the server's clock
def test_the_uk_clock_changes_keep_distinct_increasing_utc_times(store, auditor, make_input,
                                                                monkeypatch):
    # March 29 2026: 00:59 GMT then 02:00 BST (01:xx local never happens).
    # October 25 2026: 01:30 BST, then 01:30 GMT an hour later (01:30 local happens twice).
    moments = [local(2026, 3, 29, 0, 59), local(2026, 3, 29, 2, 0), local(2026, 3, 29, 2, 1),
               local(2026, 10, 25, 0, 59), local(2026, 10, 25, 1, 30, fold=0),
               local(2026, 10, 25, 1, 45, fold=0), local(2026, 10, 25, 1, 30, fold=1),
               local(2026, 10, 25, 1, 45, fold=1), local(2026, 10, 25, 2, 5)]
    times = [stamp(m) for m in moments]
    assert times[4] == "2026-10-25T00:30:00.000000Z"   # 01:30 BST
    assert times[6] == "2026-10-25T01:30:00.000000Z"   # 01:30 GMT, an hour later
    assert times[1] == "2026-03-29T01:00:00.000000Z"   # 02:00 BST is one minute after 00:59 GMT
    assert times == sorted(times) and len(set(times)) == len(times)
    # One save per moment.
    clock = SetClock(times[0])
    first_seq = trail.count(store.conn)
    monkeypatch.setattr(trail, "utc_now", clock)
    for i, moment in enumerate(times):
        clock.now = moment
        audit_service.create_audit(auditor, make_input(case_reference=f"LCS-82{i:04d}",
                                                       overall_grade=Grade.INADEQUATE),
                                   submit=True)
    rows = trail_rows(store.conn)[first_seq:]
    creates = [(seq, at) for seq, at, table, _ in rows if table == "audits"]
    assert [at for _seq, at in creates] == times       # each save kept its own UTC time
    assert [s for s, _ in creates] == sorted(s for s, _ in creates)
    twice = [r for r in creates if r[1] in (times[4], times[6])]
    assert len(twice) == 2 and twice[0][0] < twice[1][0] and twice[0][1] < twice[1][1]
    # Both show as 01:30 on a London clock, and are still told apart by seq and UTC time.
    shown = {dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
             .astimezone(LONDON).strftime("%H:%M") for _s, at in twice}
    assert shown == {"01:30"}
    assert_sound(store)
    record_figure("UK clock changes",
                  f"{len(moments)} saves across 29/03 and 25/10/2026, {len(rows)} trail rows; "
                  f"the two 01:30 local saves are seq {twice[0][0]} ({twice[0][1]}) and seq "
                  f"{twice[1][0]} ({twice[1][1]}); verify + replay ok")


@pytest.fixture
def time_zone(monkeypatch):
    """Set the process's local time zone (TZ + time.tzset), restored after the test."""

    def set_(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_
    monkeypatch.undo()  # TZ back as it was
    time.tzset()


ZONES = ("UTC", "Europe/London", "Pacific/Kiritimati", "America/Los_Angeles")


def test_dates_and_trail_times_do_not_depend_on_the_local_time_zone(store, auditor, make_input,
                                                                   time_zone, today):
    outcomes = {}
    offsets = set()
    for i, zone in enumerate(ZONES):
        time_zone(zone)
        offsets.add(time.strftime("%z", time.localtime(time.time())))
        before = dt.datetime.now(UTC) - dt.timedelta(seconds=1)
        audit_id = audit_service.create_audit(
            auditor, make_input(case_reference=f"LCS-83{i:04d}", audit_date=today,
                                overall_grade=Grade.INADEQUATE), submit=True).record_id
        after = dt.datetime.now(UTC) + dt.timedelta(seconds=1)
        audit = audit_service.get_audit(auditor, audit_id)
        flags = store.conn.execute(
            "SELECT due_date, status FROM moderations WHERE audit_id = ? AND "
            "flagged_because = 'inadequate'", (audit_id,)).fetchall()
        at = store.conn.execute("SELECT at_utc FROM trail WHERE table_name = 'audits' AND "
                                "record_id = ? ORDER BY seq", (audit_id,)).fetchone()[0]
        assert at.endswith("Z")
        written = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert before <= written <= after, (zone, at)  # UTC, whatever the local zone
        outcomes[zone] = (audit.audit_date, audit.status, tuple(flags))
        # A future date is judged against the session's today, not the local calendar.
        with pytest.raises(Exception, match="in the future"):
            audit_service.create_audit(auditor, make_input(
                case_reference=f"LCS-84{i:04d}", audit_date=today + dt.timedelta(days=1)))
    assert len(offsets) == 3, offsets  # the zone really changed (London is +0000 in November)
    assert len(set(outcomes.values())) == 1, outcomes
    assert outcomes["UTC"][2], "an inadequate audit is flagged for moderation"
    assert_sound(store)
