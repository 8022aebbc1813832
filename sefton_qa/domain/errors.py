"""Errors the core raises. Every message is written for the person using the app."""

from __future__ import annotations

from dataclasses import dataclass


class SeftonError(Exception):
    """Base class: an error with a plain message that can be shown as it is."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(SeftonError):
    """One or more fields are wrong. ``problems`` names each field and what is wrong with it."""

    def __init__(self, problems: list[FieldProblem] | FieldProblem):
        if isinstance(problems, FieldProblem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationError":
        return cls([FieldProblem(field, message)])

    def for_field(self, field: str) -> list[str]:
        return [p.message for p in self.problems if p.field == field]


class NotFound(SeftonError):
    pass


class PermissionDenied(SeftonError):
    pass


class ConflictError(SeftonError):
    """The record changed since it was read (optimistic locking)."""


class StoreError(SeftonError):
    """The store cannot be opened or used (wrong file, network drive, newer version...)."""


class ServerUnreachable(StoreError):
    """The team's server cannot be reached, or the connection to it was lost mid-way: nothing
    was written, and the app reconnects by itself when the server is back."""


class StoreDamaged(StoreError):
    """The store opens, but its quick check at opening failed (the trail was changed outside the
    app, or the file is damaged). It can still be opened read-only, or restored from a backup."""


class StoreFromNewerVersion(StoreError):
    """The store was written by a newer version of the app. It can be opened read-only."""


class ServerStoreNeedsMigration(StoreFromNewerVersion):
    """A server store from an older version, opened by a login that may not migrate it (only
    its owner may, with ``server migrate``). Like a newer version's store, it opens read-only."""


class TrailBroken(SeftonError):
    pass
