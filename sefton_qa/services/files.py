"""Files the app hands to people (exports, committee packs): written whole under a name nobody
can guess, never through a link someone placed, and put in place only once the trail records
them.

A :class:`PendingFile` is created exclusively (``tempfile.mkstemp``: ``O_CREAT | O_EXCL``, an
unpredictable name) in the destination's own folder, so the final rename is atomic and a
symlink planted at a predictable temporary name leads nowhere. An existing destination is
refused unless the caller says to replace it (the CLI's ``--overwrite``; the GUI asks).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sefton_qa.domain.errors import SeftonError, ValidationError


class PendingFile:
    def __init__(self, destination: str | Path, *, overwrite: bool = False):
        self.destination = Path(destination)
        folder = self.destination.parent
        if self.destination.is_dir():
            raise ValidationError.single("file", f"{self.destination} is a folder; give the "
                                                 "name of the file to write")
        if not folder.is_dir():
            what = "is a file, not a folder" if folder.exists() else "does not exist"
            raise ValidationError.single("file", f"{folder} {what}; choose a folder that "
                                                 "exists")
        if (self.destination.exists() or self.destination.is_symlink()) and not overwrite:
            raise ValidationError.single("file", f"{self.destination} already exists; choose "
                                                 "another name, or say to replace it "
                                                 "(--overwrite)")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.destination.name}.", suffix=".partial",
                                        dir=folder)
        except OSError as exc:
            raise SeftonError(f"Could not write in {folder}: {exc.strerror or exc}. Nothing "
                              "was written.") from exc
        os.close(fd)
        self.path = Path(name)

    def deliver(self) -> Path:
        """Put the finished file in place (atomically; a link at the destination is replaced,
        never followed)."""
        os.replace(self.path, self.destination)
        return self.destination

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def copy_into_place(source: str | Path, destination: str | Path, *,
                    overwrite: bool = False) -> Path:
    """Copy a finished file to where a person asked for it, by the same safe route."""
    pending = PendingFile(destination, overwrite=overwrite)
    try:
        shutil.copyfile(source, pending.path)
        return pending.deliver()
    except OSError as exc:
        raise SeftonError(f"Could not save {destination}: {exc.strerror or exc}. Nothing was "
                          "written.") from exc
    finally:
        pending.discard()
