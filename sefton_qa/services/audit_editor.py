"""One audit being edited, without widgets: the audit form's presenter.

:class:`AuditEditor` holds everything the form knows that is not a widget: which audit it is
(``audit_id``, ``version``, ``status``), what was last saved, which fields the user has been to,
the problems found, whether the form is read-only or stopped by someone else's change, the draft
kept on this computer while the server is away, and what Undo and Redo would do. It decides
what happens on each event (a field changed, autosave, Save, Submit, Undo, Redo, Reload, close)
and tells its view what to show through the small :class:`FormView` protocol.

The view (``sefton_qa.gui.audit_form.AuditForm``) only builds the widgets, reads them
(``current_input``) and shows what it is told. Timers are the view's: the editor asks for one
to start or stop by name (``"validate"``, ``"autosave"``, ``"retry"``). Service writes go
through ``run`` (the GUI passes its operations path, which runs them on a worker); the default
runs them here, which is what the tests without widgets use.

Qt-free: ``tests/test_audit_editor.py`` drives it with a recording view.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sefton_qa.domain.errors import (
    ConflictError, FieldProblem, SeftonError, ServerUnreachable, StoreError, ValidationError,
)
from sefton_qa.domain.grades import Grade, active_grades, suggest_overall
from sefton_qa.domain.models import (
    Audit, AuditInput, AuditStatus, Change, Role, TemplateSection,
)
from sefton_qa.domain.wording import AUDIT_FIELD_LABELS, local_time_text, problem_sentence
from sefton_qa.services import audits as audit_service
from sefton_qa.services import kept_drafts, organisation
from sefton_qa.services.session import Session
from sefton_qa.store import templates as template_store

#: Field names in sentences ("audit date is required"): the form's labels, in lower case.
FIELD_NAMES = {name: label.lower() for name, label in AUDIT_FIELD_LABELS.items()}

#: The timers a view keeps for its editor.
TIMERS = ("validate", "autosave", "retry")

_TYPED_DATE = (re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"),
               re.compile(r"(\d{2})(\d{2})(\d{4})"))


def impossible_date(typed: str) -> str | None:
    """What is wrong with a whole date typed as ``typed`` ("31/02/2024"), or None when it is a
    real date or not a whole date yet."""
    for pattern in _TYPED_DATE:
        match = pattern.fullmatch(typed)
        if match:
            day, month, year = (int(g) for g in match.groups())
            if not 1 <= month <= 12:
                return f"There is no month {month}: type the date as day/month/year"
            try:
                dt.date(year, month, day)
            except ValueError:
                name = dt.date(2000, month, 1).strftime("%B")
                return f"There is no {day} {name} {year}"
            return None
    return None


def whole_typed_date(typed: str) -> bool:
    """Whether ``typed`` is a whole date (day, month and year), real or not."""
    return any(p.fullmatch(typed) for p in _TYPED_DATE)


def _now_hhmm() -> str:
    return dt.datetime.now().strftime("%H:%M")


@dataclass(frozen=True)
class Mode:
    """What kind of form this is now."""

    read_only: bool
    draft: bool
    title: str
    #: Why it is read-only, in a sentence (None when it is not).
    why_read_only: str | None = None


@dataclass(frozen=True)
class Buttons:
    """What the form's buttons say and whether they can be pressed."""

    undo: str | None  #: what Undo would undo, in words; None when there is nothing
    redo: str | None
    submit: bool
    save: bool
    #: Why Submit or Save is (not) available, in a sentence; None for a read-only form.
    why: str | None


@dataclass(frozen=True)
class Suggestion:
    """The overall grade the section grades suggest."""

    grade: Grade | None
    graded: int  #: how many sections are graded
    offer: bool  #: whether "Use suggestion" can be pressed

    @property
    def text(self) -> str:
        if self.grade is None:
            return "Suggested: none yet (grade the sections first)"
        return (f"Suggested: {self.grade.label} (from {self.graded} graded section"
                f"{'s' if self.graded != 1 else ''})")


class FormView(Protocol):
    """What an :class:`AuditEditor` asks of the widgets showing it."""

    def current_input(self) -> AuditInput: ...
    def impossible_date(self) -> str | None: ...
    def show_values(self, values: Audit | AuditInput | None, *, auditor_id: int | None) -> None:
        ...
    def show_auditor(self, auditor_id: int) -> None: ...
    def show_save_state(self, text: str) -> None: ...
    def show_notice(self, text: str, *, offer_reload: bool = False, details: str = "") -> None:
        ...
    def hide_notice(self) -> None: ...
    def show_problems(self, beside: dict[str, list[str]], general: list[str]) -> None: ...
    def show_suggestion(self, suggestion: Suggestion) -> None: ...
    def show_mode(self, mode: Mode) -> None: ...
    def show_buttons(self, buttons: Buttons) -> None: ...
    def go_to_field(self, name: str) -> bool: ...
    def start_timer(self, which: str) -> None: ...
    def stop_timer(self, which: str) -> None: ...
    def announce(self, change: Change) -> None: ...
    def ask_reason(self, then: Callable[[str], Any]) -> None: ...
    def ask_discard(self, text: str) -> bool: ...
    def show_unexpected(self, exc: BaseException, title: str) -> None: ...
    def close_form(self, accepted: bool) -> None: ...


def run_here(session: Session) -> Callable[[Callable[[Session], Any]], Any]:
    """The plainest ``run``: the service call made at once, on this thread."""
    return lambda fn: fn(session)


@dataclass
class _Loaded:
    audit: Audit | None
    sections: list[TemplateSection]
    template_name: str | None
    template_id: int | None


class AuditEditor:
    """The state of the audit form and what it does on each event (see the module's text)."""

    def __init__(self, session: Session, view: FormView, audit_id: int | None = None, *,
                 kept: kept_drafts.KeptDraft | None = None,
                 run: Callable[[Callable[[Session], Any]], Any] | None = None,
                 beside: frozenset[str] | None = None):
        self.session = session
        self.view = view
        self.run = run or run_here(session)
        #: Fields whose problems the view shows beside them; the rest go in the notice.
        self.beside = beside
        self.audit_id: int | None = audit_id
        self.version: int | None = None
        self.status: AuditStatus | None = None
        self.problems: list[FieldProblem] = []
        self.read_only = False
        self.in_conflict = False
        self.loading = True
        self.writing = False
        self.touched: set[str] = set()
        self.show_all = False
        self.undo_words: str | None = None
        self.redo_words: str | None = None
        self.saved_input: AuditInput | None = None
        self.general_problems: list[str] = []
        self.suggestion = Suggestion(None, 0, False)
        self.can_log = any(session.actor.has_role(r) for r in audit_service.LOGGERS)
        #: The file this form's draft is kept in while the server cannot be reached (None when
        #: it is safely in the store); its name stays the same, so keeping replaces it.
        self.kept = kept
        self.kept_path: Path | None = kept.path if kept is not None else None
        self._kept_name = kept.path.name if kept is not None else \
            kept_drafts.new_name(session.store.location)

        if kept is not None:
            audit_id = kept.audit_id
        audit = audit_service.get_audit(session, audit_id) if audit_id is not None else None
        conn = session.store.conn
        if audit is not None and audit.template_id is not None:
            template = template_store.get(conn, audit.template_id)
        elif audit is None:
            template = template_store.current(conn)
        else:
            template = None
        sections = list(template.sections) if template else []
        if audit is not None:  # sections the audit has that its template does not name
            known = {s.key for s in sections}
            sections += [TemplateSection(k, k.replace("_", " ").capitalize())
                         for k in audit.sections if k not in known]
        self.sections = sections
        self.template_name = template.name if template else None
        # An audit keeps the template it was made with, even one no longer on file.
        self.template_id = audit.template_id if audit is not None else \
            (template.id if template else None)
        outstanding = bool(organisation.settings(session).get("outstanding_enabled", False))
        self.grades = active_grades(outstanding)
        self._first_audit = audit

    def start(self) -> None:
        """Show the audit (or a new one), then a kept draft over it. Call once the view is
        built."""
        if self._first_audit is not None:
            self.load(self._first_audit)
        else:
            self.load_new()
        self._first_audit = None
        if self.kept is not None:
            self._show_kept(self.kept)

    # == what the form is =========================================================================
    @property
    def is_draft(self) -> bool:
        return self.status in (None, AuditStatus.DRAFT)

    def is_dirty(self) -> bool:
        """Whether the form holds anything not yet saved."""
        return self.view.current_input() != self.saved_input

    def field_name(self, name: str) -> str:
        """A field's name in a sentence: "case reference", "section 2 (Voice of the child)"."""
        if name.startswith("section:"):
            for number, section in enumerate(self.sections, start=1):
                if section.key == name[8:]:
                    return f"section {number} ({section.title})"
            return name[8:]
        return FIELD_NAMES.get(name, name.replace("_", " "))

    def problem_phrase(self, problem: FieldProblem, *, named: bool = False) -> str:
        """The problem as a phrase: "case reference is required", or the message alone when it
        already says what it is about (``named`` prefixes the field's name to those too)."""
        return problem_sentence(self.field_name(problem.field), problem.message,
                                beside=not named, capital=False)

    @contextmanager
    def filling(self) -> Iterator[None]:
        """While the view fills its widgets: their change signals are not the user's."""
        before, self.loading = self.loading, True
        try:
            yield
        finally:
            self.loading = before

    # == loading ==================================================================================
    def load_new(self) -> None:
        actor = self.session.actor
        me = actor.id if actor.has_role(Role.QA_OFFICER) else None
        self.loading = True
        self.view.show_values(None, auditor_id=me)
        self._after_load()
        self.view.show_save_state("Not saved yet")

    def load(self, audit: Audit) -> None:
        """Show ``audit`` as it is saved: its values, version and status."""
        self.loading = True
        self.audit_id, self.version, self.status = audit.id, audit.version, audit.status
        self.view.show_values(audit, auditor_id=audit.auditor_id)
        self._after_load()
        self.view.show_save_state(
            f"{audit.status.label}, last saved {local_time_text(audit.updated_at)}")

    def _show_kept(self, kept: kept_drafts.KeptDraft) -> None:
        """A draft kept on this computer while the server was away: shown over the audit as
        saved (so it counts as unsaved typing), with the version it was typed on, and saved
        at once (by the view's zero timer: ``autosave``). If the audit changed on the server
        since, that save meets the conflict bar."""
        self.loading = True
        self.view.show_values(kept.input, auditor_id=kept.input.auditor_id)
        self.loading = False
        if kept.version is not None:
            self.version = kept.version
        self.validate_now()
        self.view.show_save_state("Kept on this computer; saving it to the store")

    def _after_load(self) -> None:
        self.touched.clear()
        self.show_all = False
        self.in_conflict = False
        self.saved_input = self.view.current_input()
        self.loading = False
        self.read_only = not self.can_log or self.status is AuditStatus.WITHDRAWN
        self._read_undo_redo()
        self._show_mode()
        self.validate_now()

    # == the user's typing ========================================================================
    def changed(self, name: str) -> None:
        """A field's value changed (``"case_reference"``, ``"section:voice"``, ``"themes"``)."""
        if self.loading:
            return
        self.touched.add(name)
        if name.startswith("section:") or name == "overall_grade":
            self._update_suggestion()
        self.view.start_timer("validate")
        if self.is_draft and not self.read_only and not self.in_conflict:
            self.view.start_timer("autosave")
        self._show_buttons()

    def left(self, name: str) -> None:
        """The user left a field: its "is required" may show from now on."""
        if not self.loading and name not in self.touched:
            self.touched.add(name)
            self._show_problems()

    def date_judged(self) -> None:
        """An impossible date typed (or a real one typed after it): say so at once."""
        self.touched.add("audit_date")
        self.validate_now()

    def validate_now(self) -> list[FieldProblem]:
        """Check the form as the services would for a submitted audit and show the messages."""
        self.view.stop_timer("validate")
        if self.read_only:
            self.problems = []
        else:
            try:
                self.problems = audit_service.check(self.session, self.view.current_input(),
                                                    complete=True)
            except StoreError:
                # The store cannot be read now (the server is away): the problems last found
                # stand; saving says what happened, and the draft is kept on this computer.
                pass
            impossible = self.view.impossible_date()
            if impossible:
                self.problems = [p for p in self.problems if p.field != "audit_date"] + [
                    FieldProblem("audit_date", impossible)]
        self._update_suggestion()
        self._show_problems()
        self._show_buttons()
        return self.problems

    def _visible(self, problem: FieldProblem) -> bool:
        """Say "is required" only about fields the user has been to, or after they tried to
        submit; any other problem is about something that is there, so it shows at once."""
        return (self.show_all or problem.field in self.touched
                or problem.message != "is required")

    def _show_problems(self) -> None:
        beside: dict[str, list[str]] = {}
        general: list[str] = []
        for problem in self.problems:
            if not self._visible(problem):
                continue
            if self.beside is None or problem.field in self.beside:
                # Beside its field the message need not name it, unless it reads as a sentence
                # about the field ("case reference is required").
                phrase = self.problem_phrase(problem)
                beside.setdefault(problem.field, []).append(
                    phrase if phrase.endswith((".", "?", "!")) else phrase + ".")
            else:
                name = self.field_name(problem.field)
                general.append(problem_sentence(name, problem.message, full_stop=True)
                               if problem.message else
                               problem_sentence(None, name, full_stop=True))
        self.general_problems = general
        self.view.show_problems(beside, general)
        if general and not self.in_conflict:
            self.view.show_notice("Problem: " + " ".join(general))
        elif not self.in_conflict and not self.read_only:
            self.view.hide_notice()

    def _update_suggestion(self) -> None:
        current = self.view.current_input()
        graded = [s.grade for s in current.sections.values() if s.grade]
        suggested = suggest_overall(graded)
        self.suggestion = Suggestion(
            suggested, len(graded),
            not self.read_only and suggested is not None
            and current.overall_grade != suggested)
        self.view.show_suggestion(self.suggestion)

    # == what the form shows ======================================================================
    def _show_mode(self) -> None:
        if self.audit_id is None:
            title = "New audit"
        else:
            case = self.view.current_input().case_reference.strip() or "a case not yet named"
            title = f"Audit of {case} ({self.status.label.lower()})"
        why = None
        if self.read_only:
            why = ("This audit was withdrawn, so it is shown read-only."
                   if self.status is AuditStatus.WITHDRAWN else
                   f"Only a QA officer or an administrator can log or edit audits; "
                   f"{self.session.actor.display_name} is not one, so this is read-only.")
        self.view.show_mode(Mode(self.read_only, self.is_draft, title, why))
        if why:
            self.view.show_notice(why)
        else:
            self.view.hide_notice()
        self._show_buttons()

    def _read_undo_redo(self) -> None:
        """What Undo and Redo would do now (after a load, a save, an undo or a redo)."""
        self.undo_words = self.redo_words = None
        if self.can_log and self.audit_id is not None:
            try:
                self.undo_words, self.redo_words = audit_service.undo_redo_offered(
                    self.session, self.audit_id)
            except SeftonError:
                pass

    def buttons(self) -> Buttons:
        offered = self.can_log and self.audit_id is not None
        undo = self.undo_words if offered and self.undo_words else None
        redo = self.redo_words if offered and self.redo_words else None
        if self.read_only:
            return Buttons(undo, redo, False, False, None)
        n = len(self.problems)
        blocked = n > 0 or self.in_conflict
        if self.in_conflict:
            why = "Saving is stopped: someone else changed this audit. Reload to go on."
        elif n:
            listed = [self.problem_phrase(p, named=True) for p in self.problems[:3]]
            more = f"; and {n - 3} more" if n > 3 else ""
            verb = "submit" if self.is_draft else "save"
            why = (f"Fix {n} problem{'s' if n != 1 else ''} to {verb}: "
                   f"{'; '.join(listed)}{more}.")
        elif not self.is_draft and not self.is_dirty():
            why = "No changes to save."
        else:
            why = "Ready to submit." if self.is_draft else "Ready to save."
        if self.is_draft:
            return Buttons(undo, redo, not blocked, not self.in_conflict, why)
        return Buttons(undo, redo, False, not blocked and self.is_dirty(), why)

    def _show_buttons(self) -> None:
        self.view.show_buttons(self.buttons())

    # == saving ===================================================================================
    def _write(self, fn: Callable[[Session], Change]) -> Change:
        self.writing = True
        self.view.show_save_state("Saving…")
        try:
            return self.run(fn)
        finally:
            self.writing = False

    def autosave(self) -> None:
        """The autosave timer fired (or a kept draft is being saved at once)."""
        if self.is_draft and not self.read_only and not self.in_conflict and self.is_dirty():
            self.save_draft()

    def save_draft(self) -> bool:
        """Create the draft the first time, update it afterwards. True when the form's contents
        are safely in the store."""
        self.view.stop_timer("autosave")
        if self.writing:  # a save is under way (a timer fired meanwhile): it comes again
            self.view.start_timer("autosave")
            return False
        if self.read_only or not self.is_draft:
            return False
        if self.in_conflict:
            return False
        if self.view.impossible_date():
            self.view.show_save_state("Draft not saved: the audit date does not exist")
            self.validate_now()
            return False
        if self.audit_id is not None and not self.is_dirty():
            return True
        inp = self.view.current_input()
        draft, audit_id, version = copy.deepcopy(inp), self.audit_id, self.version
        if audit_id is None:
            write = lambda s: audit_service.create_audit(s, draft, submit=False)  # noqa: E731
        else:
            write = lambda s: audit_service.update_audit(  # noqa: E731
                s, audit_id, draft, expected_version=version)
        change = self._attempt(
            write, refused="Draft not saved: fix the problems shown", not_done="Draft not saved",
            notice=lambda exc: f"The draft was not saved: {exc} What you typed is still here.",
            unreachable=lambda exc: self._keep_on_this_computer(inp, exc),
            unexpected="The draft was not saved")
        if change is None:
            return False
        if audit_id is None:
            self.audit_id = change.record_id
        self._after_save(inp)
        self.view.show_save_state(f"Draft saved {_now_hhmm()}")
        if self.kept_path is not None:  # in the store now: the copy here goes
            self._discard_kept()
            self.view.hide_notice()
        self.view.announce(change)
        return True

    def _attempt(self, write: Callable[[Session], Change], *, refused: str | None,
                 not_done: str, notice: Callable[[Exception], str],
                 unreachable: Callable[[ServerUnreachable], None] | None = None,
                 unexpected: str | None = None) -> Change | None:
        """Run one service write through the operations path; every way it can fail is said
        here, and the form keeps what was typed. Returns the change, or None when nothing was
        written (and the form says why).

        ``refused``: the save state when the services refuse the values (shown at the fields;
        None: said like any other refusal); ``not_done`` and ``notice``: the save state and
        the notice for any other refusal; ``unreachable``: what to do when the server cannot
        be reached; ``unexpected``: the title of an unexpected error's details (None: it is
        raised to the caller's error path)."""
        try:
            return self._write(write)
        except ConflictError as exc:
            self._conflict(exc)
        except ValidationError as exc:
            if refused is not None:
                self._refused(exc, refused)
            else:
                self._not_done(not_done, notice(exc))
        except ServerUnreachable as exc:
            if unreachable is not None:
                unreachable(exc)
            else:
                self._not_done(not_done, notice(exc))
        except SeftonError as exc:
            self._not_done(not_done, notice(exc))
        except Exception as exc:  # logged and shown with details; the text stays in the form
            if unexpected is None:
                raise
            self.view.show_save_state(not_done)
            self.view.show_unexpected(exc, unexpected)
        return None

    def _not_done(self, state: str, notice: str) -> None:
        self.view.show_save_state(state)
        self.view.show_notice(notice)

    def _keep_on_this_computer(self, inp: AuditInput, exc: ServerUnreachable) -> None:
        """The server cannot be reached: keep the draft in a file of this user's (deleted once
        it is saved) and try the store again every few seconds."""
        try:
            self.kept_path = kept_drafts.keep(self._kept_name, self.session.store.location,
                                              self.audit_id, self.version, inp)
        except OSError as err:
            self.view.show_save_state("Draft not saved")
            self.view.show_notice(
                f"The draft was not saved: {exc} It could not be kept on this computer either "
                f"({err.strerror}). What you typed is still here; do not close the form.")
            return
        self.view.show_save_state("Kept on this computer: the server cannot be reached")
        self.view.show_notice(
            "The server cannot be reached, so this draft is kept on this computer for now and "
            "saved to the store as soon as the server is back. You can go on typing, or close "
            "the form: it is offered again the next time this store is opened.",
            details=str(exc))
        self.view.start_timer("retry")

    def retry_kept(self) -> None:
        """The retry timer fired: try the store again with the kept draft."""
        if self.kept_path is None or self.in_conflict:
            self.view.stop_timer("retry")
            return
        self.save_draft()

    def _after_save(self, inp: AuditInput) -> None:
        audit = audit_service.get_audit(self.session, self.audit_id)
        self.version, self.status = audit.version, audit.status
        self._read_undo_redo()
        if inp.auditor_id is None and audit.auditor_id is not None:
            # The services made the signed-in user the auditor; show it.
            with self.filling():
                self.view.show_auditor(audit.auditor_id)
            inp.auditor_id = audit.auditor_id
        self.saved_input = inp
        self._show_mode()
        self._show_problems()

    def _refused(self, exc: ValidationError, state: str) -> None:
        """The services refused the save (a future date, an unknown team...): say so at the
        fields and keep everything in the form."""
        for problem in exc.problems:
            self.touched.add(problem.field)
        self.validate_now()
        self.problems = list({(p.field, p.message): p
                              for p in self.problems + exc.problems}.values())
        self._show_problems()
        self._show_buttons()
        self.view.show_save_state(state)

    def _conflict(self, exc: ConflictError) -> None:
        self.view.show_save_state("Not saved")
        self._stop_for_reload(
            "Someone else changed this audit since you opened it, so your changes were not "
            "saved. What you typed is still in the form: copy anything you need, then reload "
            "to see the audit as it is now saved.", details=str(exc))

    def _stop_for_reload(self, text: str, *, details: str = "") -> None:
        """Someone else's version is saved: no more saving until the user reloads it."""
        self.in_conflict = True
        self.view.stop_timer("autosave")
        self.view.show_notice(text, offer_reload=True, details=details)
        self._show_buttons()

    def check_changed_elsewhere(self) -> bool:
        """Other people's changes arrived (the window's live updates): if this audit was
        changed since the form read it, say so at once, with Reload, instead of at the next
        save. What was typed stays in the form until the user reloads."""
        if self.audit_id is None or self.version is None or self.in_conflict:
            return False
        try:
            audit = audit_service.get_audit(self.session, self.audit_id)
        except SeftonError:
            return False
        if audit.version == self.version:
            return False
        self._stop_for_reload(
            "Someone else has just changed this audit. Reload to see it as it is now saved; "
            "until then your changes cannot be saved (what you typed stays here).")
        return True

    def save_changes(self) -> None:
        """Ctrl+S: a draft is saved now; a submitted audit asks for a reason first."""
        if self.read_only:
            return
        if self.is_draft:
            self.save_draft()
            return
        if self.in_conflict:
            return
        self.validate_now()
        if self.problems:
            self._insist()
            return
        if not self.is_dirty():
            self.view.show_save_state("No changes to save")
            return
        self.view.ask_reason(self.save_submitted)

    def save_submitted(self, reason: str) -> bool:
        """Save the edits of a submitted audit, with the reason the user gave."""
        inp = self.view.current_input()
        edited, audit_id, version = copy.deepcopy(inp), self.audit_id, self.version
        change = self._attempt(
            lambda s: audit_service.update_audit(s, audit_id, edited, expected_version=version,
                                                 reason=reason),
            refused="Not saved: fix the problems shown", not_done="Not saved",
            notice=lambda exc: f"The changes were not saved: {exc}")
        if change is None:
            return False
        self._after_save(inp)
        self.view.show_save_state(f"Changes saved {_now_hhmm()}")
        self.view.announce(change)
        return True

    def _insist(self) -> None:
        """The user tried to submit or save with problems: show every message and go to the
        first field that needs fixing."""
        self.show_all = True
        self._show_problems()
        self._show_buttons()
        for problem in self.problems:
            if self.view.go_to_field(problem.field):
                break

    def submit(self) -> bool:
        """Ctrl+Enter: save, then submit. The form closes once the audit is submitted."""
        if self.read_only or not self.is_draft or self.in_conflict:
            return False
        self.validate_now()
        if self.problems:
            self._insist()
            return False
        if not self.save_draft():
            return False
        audit_id, version = self.audit_id, self.version
        change = self._attempt(
            lambda s: audit_service.submit_audit(s, audit_id, expected_version=version),
            refused="Draft saved; not submitted", not_done="Draft saved; not submitted",
            notice=lambda exc: f"The audit was not submitted: {exc}")
        if change is None:
            return False
        audit = audit_service.get_audit(self.session, self.audit_id)
        self.version, self.status = audit.version, audit.status
        self.saved_input = self.view.current_input()
        self.view.show_save_state(f"Submitted {_now_hhmm()}")
        self.view.announce(change)
        self._show_mode()
        self.close_now(accepted=True)
        return True

    # == undo, redo and reload ====================================================================
    def undo(self) -> bool:
        """Undo the audit's last saved change through the services, then show the result.

        A draft's unsaved typing is saved first (so it is what gets undone); a submitted
        audit's unsaved edits are discarded only if the user agrees."""
        if self.audit_id is None or not self.can_log:
            return False
        if self.is_dirty() and not self.read_only:
            if self.is_draft and not self.in_conflict:
                if not self.save_draft():
                    return False
            elif not self.view.ask_discard("Undoing the last saved change will discard the "
                                           "edits you have not saved. Go on?"):
                return False
        return self._through_history(redo=False)

    def redo(self) -> bool:
        """Make the change last undone again, then show the result. Unsaved typing stops it
        (a redo would overwrite it): the form says so and keeps it."""
        if self.audit_id is None or not self.can_log:
            return False
        if self.is_dirty() and not self.read_only:
            self.view.show_notice("Save or undo your typing first: Redo would overwrite it.")
            return False
        return self._through_history(redo=True)

    def _through_history(self, *, redo: bool) -> bool:
        """Undo or redo through the services, refusing to act over someone else's change
        the form has not seen; then show the audit as it now is."""
        verb = "redo" if redo else "undo"
        audit_id, version = self.audit_id, self.version
        step = audit_service.redo_last_undo if redo else audit_service.undo_last_change

        def write(s: Session) -> Change:
            if version is not None and audit_service.get_audit(s, audit_id).version != version:
                raise ConflictError("This audit was changed by someone else since you opened "
                                    f"it, so the form will not {verb} over their change "
                                    "unseen.")
            return step(s, audit_id)

        change = self._attempt(
            write, refused=None, not_done="Nothing changed",
            notice=lambda exc: f"Nothing was {'redone' if redo else 'undone'}: {exc}")
        if change is None:
            return False
        self.load(audit_service.get_audit(self.session, self.audit_id))
        self.view.show_save_state(f"Change redone {_now_hhmm()}" if redo else
                                  f"Last change undone {_now_hhmm()}")
        self.view.announce(change)
        return True

    def _discard_kept(self) -> None:
        kept_drafts.discard(self.kept_path)
        self.kept_path = None
        self.view.stop_timer("retry")

    def reload(self) -> None:
        """Show the audit as it is now saved, dropping unsaved edits (after a conflict). The
        copy kept on this computer goes too."""
        self.view.stop_timer("autosave")
        self._discard_kept()
        if self.audit_id is None:
            self.load_new()
        else:
            self.load(audit_service.get_audit(self.session, self.audit_id))
        self.view.show_save_state("Reloaded")

    # == closing ==================================================================================
    def ready_to_close(self) -> bool:
        """Whether the form may close now: a draft is saved first (or kept on this computer);
        anything else unsaved is thrown away only if the user agrees."""
        if self.read_only or not self.is_dirty():
            return True
        if self.is_draft and not self.in_conflict:
            if self.save_draft() or self.kept_path is not None:
                return True  # in the store, or kept on this computer until the server is back
            return self.view.ask_discard(
                "This draft could not be saved (the problems are shown in the form). Close it "
                "and lose what you typed since the last save?")
        if self.in_conflict:
            if self.view.ask_discard("Your changes could not be saved because someone else "
                                     "changed this audit. Close and lose them?"):
                self._discard_kept()
                return True
            return False
        return self.view.ask_discard(
            "You have changed this submitted audit but not saved it (Save changes asks for a "
            "reason). Close and lose the changes?")

    def close_now(self, *, accepted: bool) -> None:
        for which in TIMERS:
            self.view.stop_timer(which)
        self.view.close_form(accepted)

    def save_on_quit(self) -> None:
        """The application is quitting: save a draft without asking anything."""
        if self.is_draft and not self.read_only and self.is_dirty():
            self.save_draft()


@dataclass
class RecordingView:
    """A :class:`FormView` without widgets, for tests and for scripts: the form's values are
    ``values`` (set them as a user would type them), and what the editor showed is recorded."""

    values: AuditInput = field(default_factory=lambda: AuditInput(case_reference=""))
    impossible: str | None = None
    save_state: str = ""
    notice: str | None = None
    offer_reload: bool = False
    beside: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    mode: Mode | None = None
    buttons: Buttons | None = None
    suggestion: Suggestion | None = None
    timers: set[str] = field(default_factory=set)
    announced: list[Change] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  #: answers to give when asked for one
    discard_answer: bool = False
    asked: list[str] = field(default_factory=list)
    unexpected: list[BaseException] = field(default_factory=list)
    closed: bool | None = None
    went_to: str | None = None

    def current_input(self) -> AuditInput:
        return copy.deepcopy(self.values)

    def impossible_date(self) -> str | None:
        return self.impossible

    def show_values(self, values, *, auditor_id) -> None:
        if values is None:
            self.values = AuditInput(case_reference="", auditor_id=auditor_id)
        else:
            self.values = AuditInput(**{
                name: copy.deepcopy(getattr(values, name))
                for name in AuditInput.__dataclass_fields__})

    def show_auditor(self, auditor_id: int) -> None:
        self.values.auditor_id = auditor_id

    def show_save_state(self, text: str) -> None:
        self.save_state = text

    def show_notice(self, text: str, *, offer_reload: bool = False, details: str = "") -> None:
        self.notice, self.offer_reload = text, offer_reload

    def hide_notice(self) -> None:
        self.notice, self.offer_reload = None, False

    def show_problems(self, beside, general) -> None:
        self.beside, self.general = beside, general

    def show_suggestion(self, suggestion: Suggestion) -> None:
        self.suggestion = suggestion

    def show_mode(self, mode: Mode) -> None:
        self.mode = mode

    def show_buttons(self, buttons: Buttons) -> None:
        self.buttons = buttons

    def go_to_field(self, name: str) -> bool:
        self.went_to = name
        return True

    def start_timer(self, which: str) -> None:
        self.timers.add(which)

    def stop_timer(self, which: str) -> None:
        self.timers.discard(which)

    def announce(self, change: Change) -> None:
        self.announced.append(change)

    def ask_reason(self, then) -> None:
        if self.reasons:
            then(self.reasons.pop(0))

    def ask_discard(self, text: str) -> bool:
        self.asked.append(text)
        return self.discard_answer

    def show_unexpected(self, exc: BaseException, title: str) -> None:
        self.unexpected.append(exc)

    def close_form(self, accepted: bool) -> None:
        self.closed = accepted
