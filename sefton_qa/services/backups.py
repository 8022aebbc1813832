"""Backups and restore: what the CLI and the GUI call.

* :func:`make_backup` backs up an open store now (kind ``manual`` unless told otherwise).
* :func:`backup_if_due` is for start-up: the first start of each (UTC) day makes a ``daily``
  backup when there is none for that day yet, then applies the rotation.
* :func:`list_backups` lists a store's backups (newest first) with their manifests, for a page
  that offers Restore.
* :func:`restore` replaces a store file with a backup, all or nothing. **The store must be
  closed by the caller first** (every Store on that file, in this process and others).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sefton_qa.domain.errors import StoreError
from sefton_qa.store import Store
from sefton_qa.store import backups as backup_store
from sefton_qa.store.backups import (  # noqa: F401  (re-exported for the CLI and GUI)
    BEFORE_MIGRATION,
    BEFORE_RESTORE,
    DAILY,
    MANUAL,
    BackupFile,
)
from sefton_qa.store.connection import connect

#: How long restore waits for other connections to let go of the store before refusing.
_QUIESCE_TIMEOUT_S = 2.0


def backup_folder(store: Store) -> Path:
    """Where ``store``'s backups go: the ``backup_dir`` setting, else beside the store."""
    return backup_store.folder_for(store.conn, store.path)


def make_backup(store: Store, folder: Path | None = None, kind: str = MANUAL, *,
                now: dt.datetime | None = None, rotate: bool = True,
                should_stop: backup_store.ShouldStop | None = None) -> Path:
    """Back up ``store`` with SQLite's backup API; returns the backup's path.

    The backup is checked with integrity_check (deleted, and StoreError raised, if unsound) and
    gets a manifest beside it. Old backups are then rotated away (7 daily, 4 weekly,
    12 monthly; the newest 10 manual/before-* backups).
    """
    if not store.dialect.is_file:
        raise StoreError("Backup files are for a store file. A server store is backed up by "
                         "IT with the server's own backups; for a portable copy use "
                         "sefton-qa copy-store.")
    folder = Path(folder) if folder else backup_folder(store)
    now = now or dt.datetime.now(dt.timezone.utc)
    with store._lock:
        stem = backup_stem_of(store)
        path = backup_store.backup_connection(store.conn, folder, stem, kind,
                                              now=now, source=store.path,
                                              should_stop=should_stop)
    _anchor_from_manifest(store.path, folder, stem, path, "backup")
    if rotate:
        backup_store.rotate(folder, stem, now.date())
    return path


def backup_stem_of(store: Store) -> str:
    """The stem of this store's backup names: its file's stem and its store id."""
    return backup_store.backup_stem(store.path, backup_store.store_id_of(store.conn))


def _anchor_from_manifest(store_path: Path, folder: Path, stem: str, backup: Path,
                          kind: str) -> None:
    """The backup's trail head, appended to the anchors files (the manifest holds it too, but
    rotation deletes old backups; the anchors files keep every head)."""
    from sefton_qa.store import anchors

    try:
        head = backup_store.read_manifest(backup)["trail"]
    except StoreError:  # just written and checked: only if someone removed it meanwhile
        return
    if head.get("head_seq"):
        anchors.record(store_path, folder, stem, anchors.Anchor(
            int(head["head_seq"]), str(head["head_hash"]), kind, backup.name))


def backup_if_due(store: Store, *, now: dt.datetime | None = None,
                  folder: Path | None = None,
                  should_stop: backup_store.ShouldStop | None = None) -> Path | None:
    """At start-up: make today's daily backup unless one exists. Returns its path, or None
    (also for a server store, which IT backs up)."""
    if not store.dialect.is_file:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    folder = Path(folder) if folder else backup_folder(store)
    today = now.astimezone(dt.timezone.utc).date()
    # What a backup killed part-way left goes; only a whole one (with its manifest) counts as
    # today's, so a killed daily backup is made again.
    stem = backup_stem_of(store)
    backup_store.clean_half_made(folder, stem)
    remove_stale_restore_copies(store.path)
    if any(b.kind == DAILY and b.day == today and b.manifest() is not None
           for b in backup_store.list_backups(folder, stem)):
        return None
    return make_backup(store, folder, DAILY, now=now, should_stop=should_stop)


def list_backups(store_path: Path, folder: Path | None = None,
                 conn: sqlite3.Connection | None = None) -> list[BackupFile]:
    """The backups of the store at ``store_path``, newest first: its own and those made before
    stores had ids (see :func:`why_not_this_stores`). Pass the open store's ``conn`` so a
    ``backup_dir`` setting and the store id are read from it (or ``folder`` directly; the id is
    then read from the file, read-only, when it can be)."""
    store_path = Path(store_path)
    folder = Path(folder) if folder else backup_store.folder_for(conn, store_path)
    store_id = backup_store.store_id_of(conn) if conn is not None else _store_id_at(store_path)
    return sorted(backup_store.list_for_store(folder, store_path, store_id), reverse=True)


def _store_id_at(store_path: Path) -> str | None:
    """The id of the store file at ``store_path``, read read-only (None when there is no
    store there, it is from before ids, or it cannot be read)."""
    store_path = Path(store_path)
    if not store_path.is_file() or store_path.stat().st_size == 0:
        return None
    try:
        conn = backup_store.open_read_only(store_path)
    except Exception:  # noqa: BLE001 - unreadable: no id
        return None
    try:
        return backup_store.store_id_of(conn)
    finally:
        with contextlib.suppress(Exception):
            conn.close()


class NotThisStoresBackup(StoreError):
    """The backup is not shown to be of the store it would replace; restoring it needs the
    administrator to say so (``--other-store`` and a confirmation; the window asks)."""


def why_not_this_stores(store_path: Path, manifest: dict,
                        backup_file: Path | None = None) -> str | None:
    """None when the backup (by its manifest, which is checked against the file) is shown to be
    of the store at ``store_path``; otherwise why not, in a sentence for the confirmation.

    When the current store is too damaged for its id to be read, a backup named for this store
    file and the id the backup itself carries (as its own backups are) is taken as its own: the
    store's administrators in the backup decide, as :func:`check_may_restore` says."""
    store_path = Path(store_path)
    backup_id = manifest.get("store_id")
    there = store_path.is_file() and store_path.stat().st_size > 0
    current_id = _store_id_at(store_path) if there else None
    if not there:
        return None  # nothing to replace: any sound backup may become the store
    if not backup_id:
        return ("the backup was made before stores had ids, so it cannot be shown to be a "
                "backup of this store")
    if current_id is None:
        named = backup_store.parse_name(Path(backup_file)) if backup_file is not None else None
        if named is not None and named.stem == backup_store.backup_stem(store_path, backup_id):
            return None
        return ("the current store's id cannot be read, so the backup cannot be shown to be "
                "one of its own")
    if backup_id != current_id:
        return (f"the backup is of another store (store id {backup_id[:12]}; this store's is "
                f"{current_id[:12]})")
    return None


def other_store_refusal(why_not: str, how_to_confirm: str) -> NotThisStoresBackup:
    """The refusal of a backup that is not shown to be this store's (the command line asks
    before copying anything, the service refuses again if it was not confirmed)."""
    return NotThisStoresBackup(
        f"{why_not[0].upper()}{why_not[1:]}. Restoring it would replace this store with that "
        f"one; if that is what you mean, {how_to_confirm}. Nothing was changed.")


def _newer_steps(backup_file: Path) -> list[str]:
    """Schema steps the backup has that this version does not know."""
    from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS, applied_names

    try:
        conn = backup_store.open_read_only(backup_file)
    except Exception:  # noqa: BLE001 - check_file says what is wrong with it
        return []
    try:
        return [n for n in applied_names(conn) if n not in KNOWN_MIGRATIONS]
    except Exception:  # noqa: BLE001
        return []
    finally:
        conn.close()


def remove_stale_restore_copies(store_path: Path) -> list[Path]:
    """The temporary copies a killed restore left beside the store (one per process, named
    after it): removed when that process is gone."""
    removed = []
    store_path = Path(store_path)
    prefix = f".{store_path.name}.restoring-"
    if not store_path.parent.is_dir():
        return removed
    for path in store_path.parent.iterdir():
        if not path.name.startswith(prefix):
            continue
        try:
            pid = int(path.name[len(prefix):])
        except ValueError:
            continue
        if pid != os.getpid() and _process_alive(pid):
            continue
        _remove_quietly(path)
        removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def check_backup(backup_file: Path) -> dict:
    """Check a backup before restoring it: its manifest, SHA-256, integrity_check, counts and
    trail head. Returns the manifest; StoreError (saying what is wrong) otherwise."""
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise StoreError(f"There is no backup at {backup_file}.")
    manifest = backup_store.read_manifest(backup_file)
    newer = _newer_steps(backup_file)
    if newer:
        raise StoreError(f"The backup {backup_file} was made by a newer version of Sefton QA "
                         f"(schema step {newer[-1]!r} is unknown to this one); install that "
                         "version to restore it. Nothing was changed.")
    described = backup_store.check_file(backup_file)
    problems = backup_store.differences(manifest, described)
    if problems:
        raise StoreError(f"The backup {backup_file} does not match its manifest "
                         f"({'; '.join(problems[:3])}); it will not be restored.")
    expected = manifest.get("sha256")
    if not expected:  # a manifest without one once skipped the check
        raise StoreError(f"The manifest of {backup_file} has no SHA-256, so the backup cannot "
                         "be shown to be the one that was made; it will not be restored.")
    if backup_store.sha256_of(backup_file) != expected:
        raise StoreError(f"The backup {backup_file} has changed since it was made (its SHA-256 "
                         "does not match the manifest); it will not be restored.")
    return manifest


@dataclass(frozen=True)
class RestoreResult:
    store_path: Path
    restored_from: Path
    #: The before-restore backup of the store as it was; for a damaged store, the damaged
    #: file itself, renamed to ``<name>.damaged-<timestamp>``; None if there was no store.
    before_restore: Path | None
    manifest: dict
    #: Who restored it, and whose administrators' list allowed it.
    authorised: str = ""


def _administrator_of(path: Path, account: str) -> bool | None:
    """Whether ``account`` is an active administrator of the store file at ``path``, read
    read-only (None when the file cannot be read as a store at all)."""
    import contextlib

    from sefton_qa.domain.models import Role
    from sefton_qa.store import staff as staff_store

    try:
        conn = backup_store.open_read_only(path)
    except Exception:  # noqa: BLE001 - not readable as a store: None
        return None
    try:
        if staff_store.count(conn) == 0:
            return None  # a new store with nobody in it yet: as good as unreadable here
        person = staff_store.find_by_os_username(conn, account)
        return bool(person and person.active and Role.ADMINISTRATOR in person.roles)
    except Exception:  # noqa: BLE001 - damaged: None
        return None
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def check_may_restore(store_path: Path, backup_file: Path, account: str) -> str:
    """Restoring replaces the whole store: only an administrator may, checked here (for the
    command line and the window alike), never only in the GUI. The current store's list of
    administrators decides; only when the current store cannot be read at all (or has nobody
    in it yet) does the backup's own list. Returns who restored it and which list allowed it."""
    from sefton_qa.domain.errors import PermissionDenied

    store_path = Path(store_path)
    if store_path.exists() and store_path.stat().st_size > 0:
        current = _administrator_of(store_path, account)
        if current:
            return f"{account}, an administrator of the current store"
        if current is not None:
            raise PermissionDenied(f"Only an administrator of this store can restore it; the "
                                   f"account '{account}' is not one. Nothing was changed.")
    if _administrator_of(backup_file, account):
        return (f"{account}, an administrator in the backup (the current store could not be "
                "read)")
    raise PermissionDenied(f"Only an administrator can restore a store; the account "
                           f"'{account}' is not one in the backup either. Nothing was changed.")


def restore(store_path: Path, backup_file: Path, *, folder: Path | None = None,
            now: dt.datetime | None = None, account: str | None = None,
            other_store: bool = False) -> RestoreResult:
    """Replace the store at ``store_path`` with ``backup_file``, all or nothing.

    The caller must have closed the store (every window and process on it); a store still in
    use is refused. Steps: check the backup (manifest, SHA-256, integrity_check, counts and
    trail head); copy it with the backup API into a temporary file beside the store and verify
    that (verify_store, counts and trail head against the manifest); back up the current store
    (kind ``before-restore``); make sure nothing else has the store open and fold its -wal into
    it; then swap the temporary file in with os.replace. Any failure before the swap leaves the
    current store exactly as it was. A current store that is damaged (not SQLite, or failing
    integrity_check) cannot be copied through SQLite: it is renamed aside instead (with its
    -wal and -shm), so restoring is the way out of a damaged store and nothing is deleted.

    A backup not shown to be of this store (another store's id, or made before ids) is refused
    with :class:`NotThisStoresBackup` unless ``other_store`` says the administrator confirmed it.
    """
    from sefton_qa.services.verify import verify_store

    store_path = Path(store_path).expanduser().absolute()
    backup_file = Path(backup_file).expanduser().absolute()
    if backup_file == store_path:
        raise StoreError("That file is the store itself, not a backup of it.")
    remove_stale_restore_copies(store_path)
    manifest = check_backup(backup_file)
    from sefton_qa import identity

    # ``account`` is a seam for tests, as sign_in's: no option or window passes it.
    authorised = check_may_restore(store_path, backup_file, account or identity.os_account())
    why_not = why_not_this_stores(store_path, manifest, backup_file)
    if why_not and not other_store:
        raise other_store_refusal(why_not, "confirm it (from the command line: --other-store)")
    if why_not:
        authorised += f"; confirmed although {why_not}"

    tmp = store_path.with_name(f".{store_path.name}.restoring-{os.getpid()}")
    _remove_quietly(tmp)
    try:
        store_path.parent.mkdir(parents=True, exist_ok=True)
        source = backup_store.open_read_only(backup_file)
        try:
            target = sqlite3.connect(str(tmp))
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
        finally:
            source.close()
        # Verify the copy exactly as it will become the store.
        copy = Store(tmp, connect(tmp, read_only=True), read_only=True)
        try:
            report = verify_store(copy)
            if not report.ok:
                failed = "; ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.ok)
                raise StoreError(f"The backup {backup_file} does not pass verification "
                                 f"({failed}); it will not be restored.")
            problems = backup_store.differences(manifest, backup_store.describe(copy.conn))
            if problems:
                raise StoreError(f"The restored copy does not match the manifest "
                                 f"({'; '.join(problems[:3])}); nothing was restored.")
        finally:
            copy.conn.close()

        before = None
        if store_path.exists() and store_path.stat().st_size > 0:
            if _is_sound(store_path):
                before = _backup_current(store_path, folder, now)
                _quiesce(store_path)
            else:
                # A damaged store cannot be copied through SQLite; keep it, moved aside
                # (renamed, never rewritten), so nothing is thrown away.
                before = _set_aside(store_path, now)
        os.replace(tmp, store_path)
    except BaseException as exc:
        _remove_quietly(tmp)
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise StoreError(f"Restoring {backup_file} failed: {exc}. The store at {store_path} "
                             "is as it was.") from exc
        raise
    for suffix in ("-wal", "-shm", "-journal"):
        _remove_quietly(Path(str(store_path) + suffix))

    # Check what is now in place.
    conn = backup_store.open_read_only(store_path)
    try:
        problems = backup_store.differences(manifest, backup_store.describe(conn))
        anchors_folder = Path(folder) if folder else backup_store.folder_for(conn, store_path)
        anchors_stem = backup_store.backup_stem(store_path, backup_store.store_id_of(conn))
    finally:
        conn.close()
    if problems:  # cannot happen unless something else wrote the file meanwhile
        raise StoreError(f"The store at {store_path} does not match the backup after restoring "
                         f"({'; '.join(problems[:3])}). Restore the before-restore backup "
                         f"{before} if needed.")
    from sefton_qa.store import anchors

    # The chain now ends at the backup's head on purpose: anchors made before this with a
    # higher sequence number are superseded from here on, not failed.
    head = manifest.get("trail") or {}
    if head.get("head_seq"):
        anchors.record(store_path, anchors_folder, anchors_stem, anchors.Anchor(
            int(head["head_seq"]), str(head["head_hash"]), "restore",
            f"{backup_file.name}, restored by {authorised}"))
    return RestoreResult(store_path, backup_file, before, manifest, authorised)


def _backup_current(store_path: Path, folder: Path | None,
                    now: dt.datetime | None) -> Path:
    """A before-restore backup of the store on disk (closed by the caller), via the backup API."""
    try:
        conn = sqlite3.connect(str(store_path), isolation_level=None, timeout=_QUIESCE_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StoreError(f"The current store {store_path} cannot be opened to back it up first "
                         f"({exc}); nothing was restored.") from exc
    try:
        target_folder = Path(folder) if folder else backup_store.folder_for(conn, store_path)
        stem = backup_store.backup_stem(store_path, backup_store.store_id_of(conn))
        path = backup_store.backup_connection(conn, target_folder, stem,
                                              BEFORE_RESTORE, now=now, source=store_path)
    except StoreError as exc:
        raise StoreError(f"The current store could not be backed up before restoring, so "
                         f"nothing was restored: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"The current store {store_path} could not be backed up before "
                         f"restoring ({exc}); nothing was restored.") from exc
    finally:
        conn.close()
    backup_store.rotate(target_folder, stem,
                        (now or dt.datetime.now(dt.timezone.utc)).date())
    return path


def _is_sound(store_path: Path) -> bool:
    """Whether the store on disk is an SQLite file that passes integrity_check."""
    try:
        with open(store_path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return False
        conn = sqlite3.connect(store_path.resolve().as_uri() + "?mode=ro", uri=True,
                               timeout=_QUIESCE_TIMEOUT_S)
    except (OSError, sqlite3.Error):
        return False
    try:
        return not backup_store.integrity_problems(conn)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(f"{store_path} is still open (in this or another window): {exc}. "
                             "Close Sefton QA everywhere before restoring. Nothing was "
                             "restored.") from exc
        return False
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def _set_aside(store_path: Path, now: dt.datetime | None) -> Path:
    """Rename a damaged store (and its -wal/-shm) to ``<name>.damaged-<timestamp>`` beside it."""
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    aside = store_path.with_name(f"{store_path.name}.damaged-{stamp}")
    for suffix in ("-wal", "-shm"):
        companion = Path(str(store_path) + suffix)
        if companion.exists():
            os.replace(companion, Path(str(aside) + suffix))
    os.replace(store_path, aside)
    return aside


def _quiesce(store_path: Path) -> None:
    """Fold the store's -wal into it and leave WAL mode, which SQLite only allows when no other
    connection has the file open: so a store still in use is refused, and no -wal or -shm
    belonging to the old store is left to be applied to the restored one."""
    conn = sqlite3.connect(str(store_path), isolation_level=None, timeout=_QUIESCE_TIMEOUT_S)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(_QUIESCE_TIMEOUT_S * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise StoreError(f"{store_path} is still open (in this or another window); close "
                             "Sefton QA everywhere before restoring. Nothing was restored.")
    except sqlite3.OperationalError as exc:
        raise StoreError(f"{store_path} is still open (in this or another window): {exc}. Close "
                         "Sefton QA everywhere before restoring. Nothing was restored.") from exc
    finally:
        conn.close()


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
