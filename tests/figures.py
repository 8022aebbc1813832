"""The figures the reliability tests measure (issue 8): printed, and collected for CI.

``record_figure(key, text)`` prints the figure (seen with ``pytest -s``) and, when the
environment variable ``SEFTON_QA_FIGURES`` names a file, appends it there as one JSON line.
``.ci/run`` sets it and prints every figure after the tests, so RELIABILITY.md can quote the
figures of the last CI run (``python tests/figures.py FILE`` prints them as a list).
"""

from __future__ import annotations

import json
import os
import sys

FIGURES_ENV = "SEFTON_QA_FIGURES"


def record_figure(key: str, text: str, *, test: str | None = None) -> None:
    """``test`` names where the figure comes from when it is not the running test (a
    module-scoped fixture's teardown, which runs during the module's last test)."""
    print(f"\n[{key}] {text}")
    target = os.environ.get(FIGURES_ENV)
    if not target:
        return
    test = test or os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"key": key, "test": test, "text": text}, ensure_ascii=False) + "\n")


def main(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    except FileNotFoundError:
        print(f"no figures were recorded ({path} does not exist)")
        return 1
    for row in rows:
        print(f"- {row['key']} ({row['test']}): {row['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
