"""The frozen bundle's entry point: the same ``sefton-qa`` command as the pip install.

With no arguments it opens the GUI; with arguments (``--self-test``, ``verify``, ``report`` ...)
it is the command line. On Windows the exe is built windowed (no console flashes up when the
GUI starts from the Start menu), so when it is run from a Command Prompt or PowerShell it
attaches to that console for its output.
"""

from __future__ import annotations

import os
import sys


def _attach_console() -> None:
    if sys.platform != "win32" or (sys.stdout is not None and sys.stderr is not None):
        return
    try:
        import ctypes

        attached = ctypes.windll.kernel32.AttachConsole(-1)  # ATTACH_PARENT_PROCESS
    except Exception:  # noqa: BLE001
        attached = False
    if attached:
        sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace")
        sys.stderr = open("CONOUT$", "w", encoding="utf-8", errors="replace")
        sys.stdin = open("CONIN$", "r", encoding="utf-8", errors="replace")
    else:  # started from Explorer: nowhere to print, and print() must not fail
        sys.stdout = sys.stdout or open(os.devnull, "w")
        sys.stderr = sys.stderr or open(os.devnull, "w")


if __name__ == "__main__":
    _attach_console()
    from sefton_qa.cli import main

    raise SystemExit(main())
