"""Moving a store between engines: a file to the team's server, or the server to a file (IT's
portable snapshot). The copy keeps every id and the trail row for row, so both sides verify,
hold the same counts and end on the same trail hash; the copy adds nothing to the trail.

Moving a team's file store to the server, each person's operating-system account becomes their
database login (``--map-logins FILE``, two columns ``account,login``): every staff record with
an account must be mapped, or nothing is copied; each change is a trailed update of the staff
record made after the copy, in the same transaction, so both sides still verify."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sefton_qa.domain.errors import StoreError
from sefton_qa.store import open_store, pending_migrations
from sefton_qa.store import copying, dialect, trail


@dataclass(frozen=True)
class StoreInfo:
    engine: str
    location: str
    schema_step: str | None
    schema_steps: int
    trail_seq: int
    trail_hash: str
    read_only: bool
    newer_version: bool


def info(store) -> StoreInfo:
    """What ``sefton-qa info`` prints: engine, where, schema version, the trail's head."""
    from sefton_qa.store.schema_steps import applied_names

    with store.snapshot() as conn:
        applied = applied_names(conn)
        seq, head_hash = trail.head(conn) if "trail" in store.dialect.tables(conn) \
            else (0, trail.GENESIS_HASH)
    return StoreInfo(engine="PostgreSQL server" if not store.dialect.is_file else "SQLite file",
                     location=store.describe(), schema_step=applied[-1] if applied else None,
                     schema_steps=len(applied), trail_seq=seq, trail_hash=head_hash,
                     read_only=store.read_only, newer_version=store.newer_version)


def read_login_map(path) -> dict[str, str]:
    """``account,login`` rows (a header row with those names first) from a CSV file, keyed by
    the account in lower case. Refused plainly if malformed."""
    import csv
    from pathlib import Path

    from sefton_qa.services.organisation import _USERNAME

    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"The login map {path} cannot be read: {exc}.") from exc
    if not rows or [c.strip().lower() for c in rows[0]] != ["account", "login"]:
        raise StoreError(f"The login map {path} must start with the header row "
                         "account,login (one person per row after it).")
    mapping: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != 2 or not all(c.strip() for c in row):
            raise StoreError(f"The login map {path}, row {number}: give an account and a login.")
        account, login = (c.strip() for c in row)
        if not _USERNAME.fullmatch(login):
            raise StoreError(f"The login map {path}, row {number}: \"{login}\" is not a valid "
                             "login name (letters, digits, . _ @ \\ -).")
        if account.lower() in mapping:
            raise StoreError(f"The login map {path}, row {number}: {account} is mapped twice.")
        mapping[account.lower()] = login
    if len({v.lower() for v in mapping.values()}) != len(mapping):
        raise StoreError(f"The login map {path} gives one login to two people.")
    return mapping


def unmapped_accounts(conn, mapping: dict[str, str]) -> list[str]:
    from sefton_qa.store import staff as staff_store

    return sorted(p.os_username for p in staff_store.list_all(conn)
                  if p.os_username and p.os_username.lower() not in mapping)


def apply_login_map(conn, mapping: dict[str, str], *, by: str) -> int:
    """Each staff record's account becomes its login (trailed updates). Returns how many."""
    from sefton_qa.store import records
    from sefton_qa.store import staff as staff_store

    changed = 0
    for person in staff_store.list_all(conn):
        login = mapping.get((person.os_username or "").lower())
        if login is not None and login != person.os_username:
            records.update_record(
                conn, "staff", person.id, {"os_username": login},
                who=records.Who(staff_id=None, os_user=by),
                reason=f"moved to the team's server: the account {person.os_username} signs "
                       f"in as the database login {login}")
            changed += 1
    return changed


@dataclass(frozen=True)
class CopyResult:
    source: str
    destination: str
    counts: dict[str, int]
    trail_seq: int
    trail_hash: str


def copy_store(source_location, destination_location,
               progress: Callable[[str, int], None] | None = None, *,
               login_map: dict[str, str] | None = None) -> CopyResult:
    """Copy the store at ``source_location`` into ``destination_location`` (a new file, or an
    empty database), then verify both. Refuses a destination that already holds work, and a
    source this version must first bring up to date. All or nothing: a failed copy leaves the
    destination as it was found."""
    from sefton_qa.services.verify import verify_store

    if str(source_location) == str(destination_location):
        raise StoreError("The source and the destination are the same store.")
    source = open_store(source_location, read_only=True, create=False, migrate=False)
    try:
        if source.newer_version or pending_migrations(source):
            raise StoreError(f"{source.describe()} is not at this version's schema: open it "
                             "with this version of Sefton QA first (or use the version that "
                             "wrote it). Nothing was copied.")
        if login_map is not None:
            with source.snapshot() as src:
                missing = unmapped_accounts(src, login_map)
            if missing:
                raise StoreError("The login map does not say which login these accounts sign "
                                 "in as: " + ", ".join(missing) + ". Nothing was copied.")
        destination = open_store(destination_location)
        try:
            if copying.holds_work(destination.conn):
                raise StoreError(f"{destination.describe()} already holds work; copy into a "
                                 "new file or an empty database. Nothing was copied.")
            try:
                # One snapshot of the source: a store others keep saving to is copied as it
                # was at one moment, and the copy is checked against that moment.
                with source.snapshot() as src, destination.transaction() as dest:
                    copying.copy_all(src, dest, progress)
                    source_counts, source_head = copying.counts(src), trail.head(src)
                    if login_map is not None:
                        mapped = apply_login_map(dest, login_map, by="sefton-qa copy-store")
                        source_counts = dict(source_counts,
                                             trail=source_counts.get("trail", 0) + mapped)
            except dialect.database_errors() as exc:
                raise StoreError(f"The copy failed and was undone ({exc}); "
                                 f"{destination.describe()} is as it was.") from exc
            copying.refresh_statistics(destination.conn)
            problems = []
            for side in (source, destination):
                report = verify_store(side)
                if not report.ok:
                    problems.append(f"{side.describe()}: " + "; ".join(
                        line for line in report.lines() if line.startswith("FAIL")))
            with destination.snapshot() as dest:
                dest_counts, dest_head = copying.counts(dest), trail.head(dest)
            if source_counts != dest_counts:
                problems.append(f"the counts differ: {source_counts} against {dest_counts}")
            if login_map is None and source_head != dest_head:
                problems.append(f"the trail heads differ: {source_head} against {dest_head}")
            if login_map is not None:
                with destination.snapshot() as dest:
                    continues = trail.hash_at(dest, source_head[0])
                if continues != source_head[1]:
                    problems.append("the copy's trail does not continue the source's")
            if problems:
                raise StoreError("The copy was made but does not check out: "
                                 + "; ".join(problems))
            return CopyResult(source.describe(), destination.describe(), dest_counts,
                              dest_head[0], dest_head[1])
        finally:
            destination.close()
    finally:
        source.close()
