"""Backups of the store: made with SQLite's online backup API (never a file copy), each checked
with ``PRAGMA integrity_check`` and described by a manifest JSON file beside it.

A backup is ``<folder>/<stem>-<UTC timestamp>-<kind>.sqlite3`` with its manifest
``<same name>.json``, where the stem is the store file's stem and the first 12 hex digits of its
store id (:func:`backup_stem`), so stores that share a folder, even with the same file name,
never list, rotate or delete each other's backups. Backups made before stores had ids carry the
file's stem alone: they are listed, never rotated. The timestamp is ``YYYYMMDDTHHMMSSffffffZ``
(UTC). Kinds: ``daily`` (counted by the rotation), ``manual``, ``before-restore`` and ``before-migration`` (kept, the newest
:data:`KEEP_OTHER` of them, but counting towards nothing).

All file and SQL work for backups lives here; :mod:`sefton_qa.services.backups` puts it together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from sefton_qa.domain.errors import StoreError
from sefton_qa.paths import backup_dir_for
from sefton_qa.store import records, settings, trail

DAILY = "daily"
MANUAL = "manual"
BEFORE_RESTORE = "before-restore"
BEFORE_MIGRATION = "before-migration"
KINDS = (DAILY, MANUAL, BEFORE_RESTORE, BEFORE_MIGRATION)
OTHER_KINDS = (MANUAL, BEFORE_RESTORE, BEFORE_MIGRATION)

KEEP_DAILY = 7
KEEP_WEEKLY = 4
KEEP_MONTHLY = 12
KEEP_OTHER = 10

SETTING_KEY = "backup_dir"
SUFFIX = ".sqlite3"
MANIFEST_SUFFIX = ".json"
_TS_FORMAT = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<ts>\d{8}T\d{6}(?:\d{6})?Z)-(?P<kind>"
                   + "|".join(re.escape(k) for k in KINDS) + r")\.sqlite3$")
#: The name open_store gives the backup it takes before a migration.
_MIGRATION_NAME = re.compile(r"^(?P<stem>.+)-(?P<kind>before-migration)-"
                             r"(?P<ts>\d{8}T\d{6}(?:\d{6})?Z)\.sqlite3$")


@dataclass(frozen=True, order=True)
class BackupFile:
    """One backup file found in a backup folder (ordered oldest first)."""

    created: dt.datetime  # UTC, from the file name
    path: Path = field(compare=False)
    kind: str = field(compare=False)
    stem: str = field(compare=False)

    @property
    def day(self) -> dt.date:
        return self.created.date()

    @property
    def manifest_path(self) -> Path:
        return manifest_path_for(self.path)

    def manifest(self) -> dict | None:
        """The manifest, or None when there is none (or it cannot be read)."""
        try:
            return read_manifest(self.path)
        except StoreError:
            return None


def manifest_path_for(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def _parse_ts(text: str) -> dt.datetime:
    fmt = _TS_FORMAT if len(text) > 16 else "%Y%m%dT%H%M%SZ"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)


def parse_name(path: Path) -> BackupFile | None:
    """The backup a file name describes, or None when it is not a backup's name."""
    match = _NAME.match(path.name) or _MIGRATION_NAME.match(path.name)
    if not match:
        return None
    try:
        created = _parse_ts(match["ts"])
    except ValueError:
        return None
    return BackupFile(created, path, match["kind"], match["stem"])


STORE_ID_KEY = "store_id"
_ID_STEM = re.compile(r"-[0-9a-f]{12}$")


def store_id_of(conn) -> str | None:
    """The store's id (a settings row made with the store), or None for a store from before
    ids (or one whose settings cannot be read)."""
    try:
        value = settings.get(conn, STORE_ID_KEY)
    except Exception:  # noqa: BLE001 - no settings table, damaged: no id to be had
        return None
    return str(value) if value else None


def backup_stem(store_path: Path, store_id: str | None) -> str:
    """The stem of the store's backup names (and of its anchors file in the backups folder)."""
    stem = Path(store_path).stem
    return f"{stem}-{store_id[:12]}" if store_id else stem


def list_for_store(folder: Path, store_path: Path, store_id: str | None) -> list[BackupFile]:
    """A store's backups in ``folder``, oldest first: its own (named with its id) and those
    made before ids under its file name. With no id (a store that cannot be read), every
    backup under its file name, whatever id it carries: a restore then checks which store
    each one is of."""
    stem = Path(store_path).stem
    out = []
    for backup in list_backups(folder):
        if backup.stem == stem:
            out.append(backup)
        elif store_id and backup.stem == backup_stem(store_path, store_id):
            out.append(backup)
        elif not store_id and backup.stem.startswith(stem) and \
                _ID_STEM.fullmatch(backup.stem[len(stem):]):
            out.append(backup)
    return sorted(out)


def backup_name(stem: str, kind: str, created: dt.datetime) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    return f"{stem}-{created.astimezone(dt.timezone.utc).strftime(_TS_FORMAT)}-{kind}{SUFFIX}"


def folder_for(conn: sqlite3.Connection | None, store_path: Path) -> Path:
    """The backup folder: the ``backup_dir`` setting when set, else beside the store."""
    configured = None
    if conn is not None:
        with contextlib.suppress(sqlite3.Error, ValueError):
            configured = settings.get(conn, SETTING_KEY)
    if configured:
        return Path(str(configured)).expanduser()
    return backup_dir_for(Path(store_path))


def list_backups(folder: Path, stem: str | None = None) -> list[BackupFile]:
    """The backups in ``folder`` (of the store named ``stem`` when given), oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        info = parse_name(path)
        if info is not None and path.is_file() and (stem is None or info.stem == stem):
            found.append(info)
    return sorted(found)


# -- reading a file ----------------------------------------------------------------------------
class BackupCancelled(StoreError):
    """The backup was stopped (the app is closing) before it was finished and checked."""

    def __init__(self) -> None:
        super().__init__("The backup was stopped before it was finished; nothing was kept. "
                         "The store itself is unchanged.")


ShouldStop = Callable[[], bool]


def sha256_of(path: Path, should_stop: ShouldStop | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            if should_stop is not None and should_stop():
                raise BackupCancelled()
            digest.update(block)
    return digest.hexdigest()


def open_read_only(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True,
                               isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be opened: {exc}.") from exc


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    return [] if rows == ["ok"] else rows


def describe(conn: sqlite3.Connection) -> dict:
    """Row counts of the trailed tables this store has, and the trail's count and head."""
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in records.existing_trailed_tables(conn)}
    has_trail = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                             "AND name = 'trail'").fetchone() is not None
    seq, head_hash = trail.head(conn) if has_trail else (0, trail.GENESIS_HASH)
    return {"counts": counts, "store_id": store_id_of(conn),
            "trail": {"count": trail.count(conn) if has_trail else 0,
                      "head_seq": seq, "head_hash": head_hash}}


def check_file(path: Path, should_stop: ShouldStop | None = None) -> dict:
    """Open ``path`` read-only, run integrity_check, and describe it. StoreError if unsound;
    BackupCancelled as soon as ``should_stop()`` says so (SQLite aborts the check)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise StoreError(f"The backup {path} cannot be read: {exc.strerror or exc}.") from exc
    if header != b"SQLite format 3\x00":
        raise StoreError(f"{path} is not a Sefton QA backup (it is not an SQLite database).")
    conn = open_read_only(path)
    if should_stop is not None:
        conn.set_progress_handler(lambda: 1 if should_stop() else 0, 100_000)
    try:
        problems = integrity_problems(conn)
        if problems:
            raise StoreError(f"The backup {path} is damaged (integrity_check: "
                             f"{'; '.join(problems[:3])}).")
        return describe(conn)
    except sqlite3.DatabaseError as exc:
        if should_stop is not None and should_stop():
            raise BackupCancelled() from exc
        raise StoreError(f"The backup {path} is damaged and cannot be read: {exc}.") from exc
    finally:
        conn.close()


def read_manifest(backup: Path) -> dict:
    path = manifest_path_for(Path(backup))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoreError(f"The backup {backup} has no manifest ({path.name} is missing), so "
                         "it cannot be checked before restoring.") from None
    except OSError as exc:
        raise StoreError(f"The manifest {path} cannot be read: {exc.strerror or exc}.") from exc
    try:
        manifest = json.loads(text)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("counts"), dict) \
                or not isinstance(manifest.get("trail"), dict):
            raise ValueError("missing counts or trail")
    except ValueError as exc:
        raise StoreError(f"The manifest {path} is not a valid backup manifest ({exc}).") from exc
    return manifest


def differences(manifest: dict, described: dict) -> list[str]:
    """How a file's description differs from its manifest (empty when they match)."""
    out = []
    want, have = manifest.get("counts", {}), described["counts"]
    for table in sorted(set(want) | set(have)):
        if want.get(table) != have.get(table):
            out.append(f"{table}: manifest {want.get(table)}, file {have.get(table)}")
    if manifest.get("store_id") != described.get("store_id"):
        out.append(f"store id: manifest {manifest.get('store_id')}, "
                   f"file {described.get('store_id')}")
    for key in ("count", "head_seq", "head_hash"):
        if manifest.get("trail", {}).get(key) != described["trail"][key]:
            out.append(f"trail {key}: manifest {manifest.get('trail', {}).get(key)}, "
                       f"file {described['trail'][key]}")
    return out


# -- writing a backup --------------------------------------------------------------------------
def backup_connection(conn: sqlite3.Connection, folder: Path, stem: str, kind: str, *,
                      now: dt.datetime | None = None, source: Path | None = None,
                      should_stop: ShouldStop | None = None) -> Path:
    """Back up ``conn`` with the backup API into ``folder``, check it, write its manifest.

    The copy is written under an unpredictable temporary name (created exclusively), checked
    and hashed there; its manifest is written next, and only then is the copy renamed to its
    backup name. So a file with a backup's name always has its manifest: a backup killed
    part-way leaves only a temporary file (or an orphan manifest), which
    :func:`clean_half_made` removes and rotation never counts. If the copy fails
    integrity_check it is deleted and StoreError raised.

    The copy is one backup step (copied in steps, a backup restarts whenever another window
    saves, and might never finish); the check and the checksum after it, most of the time on
    a big store, stop with BackupCancelled once ``should_stop()`` says so, keeping nothing.
    """
    from sefton_qa import __version__

    now = now or dt.datetime.now(dt.timezone.utc)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the backup folder {folder}: "
                         f"{exc.strerror or exc}.") from exc
    destination = folder / backup_name(stem, kind, now)
    while destination.exists():  # two backups in one microsecond: never overwrite
        now += dt.timedelta(microseconds=1)
        destination = folder / backup_name(stem, kind, now)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=PARTIAL,
                                        dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
    except OSError as exc:
        raise StoreError(f"The backup into {folder} failed: {exc.strerror or exc}. "
                         "The store itself is unchanged.") from exc
    try:
        target = sqlite3.connect(str(tmp))
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
    except (sqlite3.Error, OSError) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise StoreError(f"The backup into {folder} failed: {detail}. "
                         "The store itself is unchanged.") from exc
    try:
        described = check_file(tmp, should_stop)
        manifest = {
            "file": destination.name,
            "kind": kind,
            "created_utc": now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "app_version": __version__,
            "source": str(source) if source else None,
            "sha256": sha256_of(tmp, should_stop),
            "size_bytes": tmp.stat().st_size,
            **described,
        }
        _write_json(manifest_path_for(destination), manifest)
        try:
            os.replace(tmp, destination)
        except OSError as exc:
            with contextlib.suppress(OSError):
                manifest_path_for(destination).unlink()
            raise StoreError(f"The backup into {folder} failed: {exc.strerror or exc}. "
                             "The store itself is unchanged.") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return destination


PARTIAL = ".partial"


def clean_half_made(folder: Path, stem: str) -> list[Path]:
    """Remove what a backup killed part-way left in ``folder``: its temporary copy, and a
    manifest whose backup never arrived. Returns what was removed."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        half_made = path.name.startswith(".") and path.name.endswith(PARTIAL) and \
            path.name[1:].startswith(f"{stem}-")
        orphan = path.name.endswith(MANIFEST_SUFFIX) and path.name.startswith(f"{stem}-") \
            and not path.with_name(path.name[:-len(MANIFEST_SUFFIX)]).exists()
        if half_made or orphan:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_name(path.name + ".partial")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(value, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StoreError(f"Cannot write the backup manifest {path}: "
                         f"{exc.strerror or exc}.") from exc


def delete_backup(backup: BackupFile) -> None:
    for path in (backup.path, backup.manifest_path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# -- rotation (pure) ---------------------------------------------------------------------------
def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _newest_per(items: Iterable[BackupFile], key, limit: int) -> list[BackupFile]:
    """The newest backup of each group, for the ``limit`` newest groups (newest first)."""
    chosen: dict = {}
    for item in sorted(items, reverse=True):
        k = key(item)
        if k not in chosen:
            if len(chosen) == limit:
                break
            chosen[k] = item
    return list(chosen.values())


def to_keep(backups: Iterable[BackupFile], today: dt.date) -> set[Path]:
    """Which backups the rotation keeps (by path). Pure: no files are touched.

    Daily backups: the newest of each of the :data:`KEEP_DAILY` most recent days that have one;
    then, for the ISO weeks before the week of the oldest daily kept, the newest of each of the
    :data:`KEEP_WEEKLY` most recent such weeks; then, for the months before the month of the
    oldest backup kept so far, the newest of each of the :data:`KEEP_MONTHLY` most recent such
    months. Backups dated after ``today`` (a clock that went back) are all kept. Manual and
    before-* backups count towards none of this: the newest :data:`KEEP_OTHER` are kept.
    """
    backups = list(backups)
    keep: set[Path] = {b.path for b in backups if b.day > today}
    dailies = [b for b in backups if b.kind == DAILY and b.day <= today]
    kept_daily = _newest_per(dailies, lambda b: b.day, KEEP_DAILY)
    keep.update(b.path for b in kept_daily)
    oldest = min((b.day for b in kept_daily), default=None)
    if oldest is not None:
        floor = _monday(oldest)
        rest = [b for b in dailies if b.day < floor]
    else:
        rest = dailies
    kept_weekly = _newest_per(rest, lambda b: b.day.isocalendar()[:2], KEEP_WEEKLY)
    keep.update(b.path for b in kept_weekly)
    oldest = min((b.day for b in kept_daily + kept_weekly), default=None)
    if oldest is not None:
        floor = oldest.replace(day=1)
        rest = [b for b in rest if b.day < floor]
    kept_monthly = _newest_per(rest, lambda b: (b.day.year, b.day.month), KEEP_MONTHLY)
    keep.update(b.path for b in kept_monthly)
    others = sorted((b for b in backups if b.kind in OTHER_KINDS), reverse=True)
    keep.update(b.path for b in others[:KEEP_OTHER])
    return keep


def rotate(folder: Path, stem: str, today: dt.date) -> list[Path]:
    """Delete the backups (and manifests) of the store ``stem`` that the rotation drops. Only
    backups with a manifest that reads count (and may be dropped): a file without one is never
    taken for a good backup, so it can never push a good one out."""
    backups = [b for b in list_backups(folder, stem) if b.manifest() is not None]
    keep = to_keep(backups, today)
    removed = []
    for b in backups:
        if b.path not in keep:
            delete_backup(b)
            removed.append(b.path)
    return removed
