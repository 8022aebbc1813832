"""Anchors: copies of the trail's head kept outside the store, to hold the history to.

A hash chain on the same disk proves that a change made *by hand* is seen (the replay finds
it), but someone who rewrites a record and its trail rows and then recomputes every hash after
them leaves a chain that checks out. What such a rewrite cannot change is a copy of the chain's
head made before it: each backup's manifest, each committee pack (printed as ``SEQ:HASH``), and
the anchors file the app appends to beside the store and in its backups folder. ``verify``
holds the live chain to every anchor it can find: a hash that differs, or a chain shorter than
an anchor says, fails and names the anchor.

A restore takes the chain back to the backup's head on purpose: it writes a ``restore`` anchor,
and anchors made before it with a higher sequence number are superseded, not failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".anchors"
_TEXT = re.compile(r"^\s*(\d+)\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    kind: str  # "backup", "pack", "restore", "given" (typed in), ...
    source: str  # what made it: a file name, "verify --anchor", ...
    made_utc: str = ""

    @property
    def text(self) -> str:
        return f"{self.seq}:{self.hash}"

    def describe(self) -> str:
        when = f" made {self.made_utc[:16].replace('T', ' ')} UTC" if self.made_utc else ""
        return f"{self.kind} anchor {self.seq}:{self.hash[:12]}… ({self.source}{when})"


def parse(text: str, *, source: str = "verify --anchor") -> Anchor:
    """``SEQ:HASH`` as printed on a committee pack."""
    match = _TEXT.match(text or "")
    if not match:
        raise ValueError(f'"{text}" is not an anchor: give it as SEQ:HASH, the trail entry '
                         "number, a colon and the 64-character chain hash, as a pack prints it")
    return Anchor(int(match[1]), match[2].lower(), "given", source)


def files_for(store_path: Path, backups_folder: Path | None, stem: str) -> list[Path]:
    """The anchors files of a store file: beside it, and in its backups folder named with the
    store's backup stem (its file's stem and store id), so that stores sharing a backups folder
    never read each other's anchors."""
    store_path = Path(store_path)
    out = [store_path.with_name(store_path.name + SUFFIX)]
    if backups_folder is not None:
        out.append(Path(backups_folder) / (stem + SUFFIX))
    return out


def record(store_path: Path, backups_folder: Path | None, stem: str, anchor: Anchor) -> None:
    """Append ``anchor`` to both anchors files (each line one JSON object, flushed to disk).
    A file that cannot be written is passed over: the other copy, and the backups' own
    manifests, still hold the head."""
    line = json.dumps({"seq": anchor.seq, "hash": anchor.hash, "kind": anchor.kind,
                       "source": anchor.source, "made_utc": anchor.made_utc or _now()},
                      sort_keys=True) + "\n"
    for path in files_for(store_path, backups_folder, stem):
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def gather(store_path: Path | None, backups_folder: Path | None, stem: str) -> list[Anchor]:
    """Every anchor found for the store: its anchors files and its own backups' manifests
    (named with ``stem``; backups from before store ids cannot be shown to be this store's and
    are left out), oldest first (duplicates of one head from several places are kept once)."""
    from sefton_qa.store import backups

    found: dict[tuple, Anchor] = {}
    if store_path is None:
        return []
    for path in files_for(store_path, backups_folder, stem):
        with contextlib.suppress(OSError):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    value = json.loads(line)
                    anchor = Anchor(int(value["seq"]), str(value["hash"]).lower(),
                                    str(value["kind"]), str(value["source"]),
                                    str(value.get("made_utc", "")))
                    found.setdefault((anchor.seq, anchor.hash, anchor.kind, anchor.source),
                                     anchor)
    if backups_folder is not None:
        for backup in backups.list_backups(Path(backups_folder), stem):
            manifest = backup.manifest() or {}
            head = manifest.get("trail") or {}
            with contextlib.suppress(ValueError, TypeError, KeyError):
                anchor = Anchor(int(head["head_seq"]), str(head["head_hash"]).lower(),
                                "backup", backup.path.name, str(manifest.get("created_utc", "")))
                if anchor.seq > 0:
                    found.setdefault((anchor.seq, anchor.hash, "backup", anchor.source), anchor)
    return sorted(found.values(), key=lambda a: (a.made_utc, a.seq))


@dataclass(frozen=True)
class AnchorCheck:
    held: list[Anchor]
    broken: list[tuple[Anchor, str]]
    superseded: list[Anchor]


def check(conn, anchors: list[Anchor]) -> AnchorCheck:
    """Hold the live chain to each anchor. Anchors made before the latest restore with a
    higher sequence number than it restored to are superseded (that history was set aside on
    purpose), not failed."""
    from sefton_qa.store import trail

    last_restore = max((a for a in anchors if a.kind == "restore"),
                       key=lambda a: a.made_utc, default=None)
    held, broken, superseded = [], [], []
    length = conn.execute("SELECT coalesce(max(seq), 0) FROM trail").fetchone()[0]
    for anchor in anchors:
        if (last_restore is not None and anchor is not last_restore
                and anchor.made_utc and anchor.made_utc < last_restore.made_utc
                and anchor.seq > last_restore.seq):
            superseded.append(anchor)
            continue
        if anchor.seq > length:
            broken.append((anchor, f"the trail has {length:,} rows but {anchor.describe()} "
                                   f"says it had {anchor.seq:,}: rows were removed"))
            continue
        if trail.hash_at(conn, anchor.seq) != anchor.hash:
            broken.append((anchor, f"trail row {anchor.seq:,} does not hash as "
                                   f"{anchor.describe()} says: the history up to it was "
                                   "rewritten after the anchor was made"))
        else:
            held.append(anchor)
    return AnchorCheck(held, broken, superseded)
