#!/usr/bin/env bash
# The "done when" of the foundation, through the installed command: demo, summary, verify,
# and verify failing on a store whose trail was edited by hand.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SEFTON_QA_DB="$work/smoke.sqlite3"
sefton-qa --version
sefton-qa demo --seed 11
sefton-qa summary --from 2025-05-01 --to 2025-07-31 --json > "$work/summary.json"
python - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["total"] > 0, s
assert sum(g["count"] for g in s["grades"].values()) == s["total"], s
assert set(s["grades"]) == {"good", "requires_improvement", "inadequate"}, s
print(f"summary: {s['total']} audits, {s['grades']['good']['percent']}% good")
PY
sefton-qa verify
sefton-qa sample --check  # the demo's draw recomputes to the same cases
if sefton-qa demo 2>/dev/null; then echo "demo over a store with audits must be refused" >&2; exit 1; fi
python - "$SEFTON_QA_DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DROP TRIGGER trail_is_append_only_update")
c.execute("UPDATE trail SET reason = 'edited by hand' WHERE seq = 40")
c.commit()
PY
if sefton-qa verify > "$work/verify.txt"; then
    echo "verify passed on a tampered store" >&2; cat "$work/verify.txt"; exit 1
fi
grep -q "breaks at trail row 40" "$work/verify.txt"
echo "verify caught the hand-edited trail row 40"
