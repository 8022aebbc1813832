"""Print a code block of docs/SERVER.md marked ``<!-- ci: NAME -->`` (for the CI step that runs
the guide's own commands): ``python scripts/server_md.py NAME``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "SERVER.md"


def block(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- ci: {re.escape(name)} -->\s*```[a-z]*\n(.*?)```", text, re.S)
    if match is None:
        raise SystemExit(f"docs/SERVER.md has no block marked ci: {name}")
    return match.group(1)


if __name__ == "__main__":
    sys.stdout.write(block(sys.argv[1]))
