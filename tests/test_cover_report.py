"""Issue 16, finding 7: the committee conventions. A cover report (purpose, recommendations,
what is being done, contact officer, background papers) before the figures; the exempt-
information paragraph on the internal version, "For publication" on the public one; the
cover given as a TOML file (``report --cover``) or kept from last time, recorded in the trail.
"""

from __future__ import annotations

import subprocess

import pytest

from sefton_qa.cli import main
from sefton_qa.reports.cover import EXEMPT_INFORMATION, CoverReport, read_cover_file
from sefton_qa.domain.errors import ValidationError
from sefton_qa.services.reports import COVER_SETTING, stored_cover
from sefton_qa.store import settings as settings_store

COVER = '''
purpose = "To report the quarter's case-file audits to the Children's Services Overview and Scrutiny Committee."
recommendations = ["That the committee notes the findings.", "That the committee asks for a deep dive on care planning."]
contact_officer = "Head of Quality Assurance, qa@example.gov.uk"
background_papers = ["Quality Assurance Framework 2024"]
'''


def text_of(path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    return " ".join(out.split())


def test_a_cover_file_goes_into_the_pack_and_is_kept_for_the_next(demo_store, demo_admin,
                                                                   as_admin_user, tmp_path,
                                                                   monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    cover = tmp_path / "cover.toml"
    cover.write_text(COVER, encoding="utf-8")
    db = str(demo_store.location)
    period = ["--from", "2026-07-01", "--to", "2026-09-30"]
    assert main(["--db", db, "report", *period, "-o", str(tmp_path / "internal.pdf"),
                 "--cover", str(cover)]) == 0
    internal = text_of(tmp_path / "internal.pdf")
    assert "Report to committee" in internal
    assert " ".join(EXEMPT_INFORMATION.split()) in internal
    assert "asks for a deep dive on care planning." in internal
    assert "Head of Quality Assurance, qa@example.gov.uk" in internal
    assert "Quality Assurance Framework 2024" in internal
    assert "What is being done" in internal
    kept = settings_store.get(demo_store.conn, COVER_SETTING)
    assert kept["contact_officer"] == "Head of Quality Assurance, qa@example.gov.uk"
    assert demo_store.conn.execute(
        "SELECT count(*) FROM trail WHERE table_name = 'settings' AND reason = "
        "'The cover report of internal.pdf, kept for the next pack'").fetchone()[0] == 1
    # next quarter: no --cover, the same cover is offered again; the public one is headed so
    assert main(["--db", db, "report", *period, "-o", str(tmp_path / "public.pdf"),
                 "--public"]) == 0
    public = text_of(tmp_path / "public.pdf")
    assert "For publication." in public and "Schedule 12A" not in public
    assert "Head of Quality Assurance, qa@example.gov.uk" in public
    assert stored_cover(demo_admin).recommendations[1] == \
        "That the committee asks for a deep dive on care planning."


def test_a_bad_cover_file_is_refused_plainly_and_writes_nothing(demo_store, as_admin_user,
                                                                tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    before = demo_store.conn.execute("SELECT count(*) FROM trail").fetchone()[0]
    for body, said in (('purpose = "unclosed', "is not a valid TOML file"),
                       ("purpose = 3", '"purpose" must be text'),
                       ('agenda = "x"', 'unknown entry "agenda"')):
        cover = tmp_path / "cover.toml"
        cover.write_text(body, encoding="utf-8")
        out = tmp_path / "pack.pdf"
        rc = main(["--db", str(demo_store.location), "report", "--from", "2026-07-01",
                   "--to", "2026-09-30", "-o", str(out), "--cover", str(cover)])
        err = capsys.readouterr().err
        assert rc == 1 and said in err and "Traceback" not in err
        assert not out.exists()
    assert demo_store.conn.execute("SELECT count(*) FROM trail").fetchone()[0] == before


def test_cover_values_are_checked():
    with pytest.raises(ValidationError):
        CoverReport.from_setting({"purpose": "x" * 2_001})
    assert CoverReport.from_setting(None) == CoverReport()
    assert CoverReport.from_setting({"recommendations": "One only."}).recommendations == \
        ("One only.",)


def test_read_cover_file_says_which_file(tmp_path):
    with pytest.raises(ValidationError, match="could not be read"):
        read_cover_file(tmp_path / "missing.toml")
