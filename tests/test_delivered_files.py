"""Files handed to people (exports, committee packs) are written safely (issue 15, item 6).

The attacks found: a symlink planted at the predictable ``<name>.partial`` made an export
overwrite another file (once the store itself); an export whose trail row could not be written
said nothing was saved yet left the file on disk; an export to a path under a file ended in a
traceback. Each now fails for the attacker, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from sefton_qa.domain.errors import SeftonError, ValidationError
from sefton_qa.services import files
from sefton_qa.services.import_export import export_audits
from sefton_qa.services.reports import committee_pack
from sefton_qa.store import trail

from pg_server import another_users_long_write

TODAY = dt.date(2026, 11, 24)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def transfers(store):
    return store.conn.execute("SELECT file_name FROM file_transfers ORDER BY id").fetchall()


@pytest.mark.parametrize("make", ["export", "pack"])
def test_a_link_planted_at_the_old_temporary_name_leads_nowhere(demo_admin, demo_store, out,
                                                                 tmp_path, make):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    name = "audits.csv" if make == "export" else "pack.pdf"
    (out / f"{name}.partial").symlink_to(victim)
    if make == "export":
        export_audits(demo_admin, out / name)
    else:
        committee_pack(demo_admin, dt.date(2026, 7, 1), dt.date(2026, 9, 30), out / name)
    assert victim.read_text() == "precious"
    assert (out / name).is_file() and not (out / name).is_symlink()


def test_an_existing_file_or_link_is_replaced_only_when_asked(demo_admin, demo_store, out,
                                                              tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "audits.csv").symlink_to(victim)
    before = transfers(demo_store)
    with pytest.raises(ValidationError, match="already exists"):
        export_audits(demo_admin, out / "audits.csv")
    assert transfers(demo_store) == before and leftovers(out) == []
    export_audits(demo_admin, out / "audits.csv", overwrite=True)
    assert victim.read_text() == "precious"  # the link was replaced, never followed
    assert not (out / "audits.csv").is_symlink()
    assert (out / "audits.csv").read_text(encoding="utf-8-sig").startswith("case_reference")


def test_a_file_the_store_cannot_record_is_not_left_behind(engine, demo_admin, demo_store, out):
    """The store is busy (another user's long write) past the wait: nothing recorded, and so
    no file either; the message says both."""
    demo_store.conn.execute("PRAGMA busy_timeout = 200" if engine == "sqlite"
                            else "SET lock_timeout = 200")
    before = trail.count(demo_store.conn)
    with another_users_long_write(demo_store.location):
        with pytest.raises(SeftonError, match="The file was not written"):
            export_audits(demo_admin, out / "audits.xlsx")
        with pytest.raises(SeftonError, match="The file was not written"):
            committee_pack(demo_admin, dt.date(2026, 7, 1), dt.date(2026, 9, 30),
                           out / "pack.pdf")
    assert list(out.iterdir()) == []
    assert trail.count(demo_store.conn) == before


def test_a_file_that_cannot_be_put_in_place_is_recorded_as_not_delivered(
        demo_admin, demo_store, out, monkeypatch):
    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.PendingFile, "deliver", refuse)
    with pytest.raises(SeftonError, match="trail records that it was not delivered"):
        export_audits(demo_admin, out / "audits.csv")
    assert list(out.iterdir()) == []
    last = trail.entries_for(demo_store.conn, "file_transfers",
                             demo_store.conn.execute("SELECT max(id) FROM file_transfers")
                             .fetchone()[0])
    assert [e.kind for e in last] == ["export", "not_delivered"]
    assert last[1].changes["file_name"][1] == "audits.csv (not delivered)"
    assert "Permission denied" in last[1].reason


@pytest.mark.parametrize("where, words", [
    ("a-file.txt/audits.csv", "is a file, not a folder"),
    ("missing/audits.csv", "does not exist"),
    ("a-folder.csv", "is a folder"),
])
def test_a_destination_that_cannot_be_is_refused_plainly(demo_admin, out, where, words):
    (out / "a-file.txt").write_text("x")
    (out / "a-folder.csv").mkdir()
    with pytest.raises(ValidationError, match=words):
        export_audits(demo_admin, out / where)
    assert leftovers(out) == []


def test_cli_export_and_report_refuse_to_replace_without_overwrite(demo_path, out, capsys,
                                                                   monkeypatch):
    from sefton_qa import identity
    from sefton_qa.cli import main

    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    (out / "a.csv").write_text("mine")
    (out / "p.pdf").write_text("mine")
    base = ["--db", str(demo_path)]
    pack = ["report", "--from", "2026-07-01", "--to", "2026-09-30", "-o", str(out / "p.pdf")]
    assert main([*base, "export", str(out / "a.csv")]) == 1
    assert main([*base, *pack]) == 1
    err = capsys.readouterr().err
    assert err.count("already exists") == 2 and "--overwrite" in err and "Traceback" not in err
    assert (out / "a.csv").read_text() == "mine" and (out / "p.pdf").read_text() == "mine"
    assert main([*base, "export", str(out / "a.csv"), "--overwrite"]) == 0
    assert main([*base, *pack, "--overwrite"]) == 0
    assert (out / "p.pdf").read_bytes().startswith(b"%PDF") and leftovers(out) == []
