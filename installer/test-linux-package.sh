#!/usr/bin/env bash
# Install the .deb that installer/build-linux.sh made, run the INSTALLED app's self-test, time
# its start-up, and remove the package again. Needs root (apt-get/dpkg).
#
#   bash installer/test-linux-package.sh [dist/sefton-qa_VERSION_ARCH.deb]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf 'test-linux-package: %s\n' "$*" >&2; }

deb=${1:-}
if [ -z "$deb" ]; then
    debs=(dist/sefton-qa_*.deb)
    [ -f "${debs[0]}" ] || { say "ERROR: no dist/sefton-qa_*.deb: run installer/build-linux.sh"; exit 1; }
    deb=${debs[-1]}
fi
[ "$(id -u)" -eq 0 ] || { say "ERROR: installing a .deb needs root"; exit 1; }
if dpkg-query -W -f='${Status}' sefton-qa 2>/dev/null | grep -q "install ok installed"; then
    say "ERROR: sefton-qa is already installed here; remove it first (apt-get remove sefton-qa)"
    exit 1
fi

cleanup() {
    if dpkg-query -W -f='${Status}' sefton-qa 2>/dev/null | grep -q installed; then
        say "removing sefton-qa"
        DEBIAN_FRONTEND=noninteractive apt-get remove -y -q sefton-qa >/dev/null 2>&1 ||
            dpkg --remove sefton-qa >/dev/null
    fi
}
trap cleanup EXIT

say "installing $deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "./${deb#./}" >/dev/null ||
    { say "apt-get install failed; trying dpkg -i"; dpkg -i "$deb"; }

for f in /usr/bin/sefton-qa /usr/lib/sefton-qa/sefton-qa /usr/share/applications/sefton-qa.desktop \
         /usr/share/icons/hicolor/256x256/apps/sefton-qa.png; do
    [ -e "$f" ] || { say "ERROR: the package installed no $f"; exit 1; }
done

# The installed command, by its full path: .venv/bin may come first on PATH.
work=$(mktemp -d)
export HOME="$work" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
unset SEFTON_QA_DB
out=$(cd "$work" && QT_QPA_PLATFORM=offscreen /usr/bin/sefton-qa --self-test 2>"$work/stderr") ||
    { echo "$out"; cat "$work/stderr"; say "ERROR: the installed self-test failed"; exit 1; }
echo "$out"
grep -q "(frozen bundle)" <<<"$out" || { say "ERROR: /usr/bin/sefton-qa is not the bundle"; exit 1; }
/usr/bin/sefton-qa --version

# Upgrades keep data: the installed build opens a store from the first release's schema
# (tests/fixtures, made by scripts/make_upgrade_fixture.py), backs it up, migrates it, and
# it still verifies.
fixture="$ROOT/tests/fixtures/store-schema-0003.sqlite3"
if [ -f "$fixture" ]; then
    cp "$fixture" "$work/old-store.sqlite3"
    /usr/bin/sefton-qa --db "$work/old-store.sqlite3" verify >/dev/null 2>&1 || true
    /usr/bin/sefton-qa --db "$work/old-store.sqlite3" summary --from 2025-05-01 --to 2025-07-31 \
        >/dev/null || { say "ERROR: the installed build could not open an older store"; exit 1; }
    /usr/bin/sefton-qa --db "$work/old-store.sqlite3" verify ||
        { say "ERROR: the upgraded store does not verify"; exit 1; }
    ls "$work"/backups/*before-migration.sqlite3 >/dev/null ||
        { say "ERROR: no backup was made before the upgrade"; exit 1; }
    say "an older store was upgraded by the installed build, backed up first, and verifies"
fi

python=python3
[ -x "$ROOT/.venv/bin/python" ] && python="$ROOT/.venv/bin/python"
best_ms() {
    "$python" - "$@" <<'PY'
import os, subprocess, sys, time
env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
best = None
for _ in range(5):
    t0 = time.perf_counter()
    subprocess.run(sys.argv[1:], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    best = min(best or 1e9, (time.perf_counter() - t0) * 1000)
print(f"{best:.0f}")
PY
}
printf '\n%-50s %s MB\n' "installed size (/usr/lib/sefton-qa):" "$(du -sm /usr/lib/sefton-qa | cut -f1)"
printf '%-50s %s ms\n' "start-up: installed sefton-qa --self-test (best of 5):" "$(cd "$work" && best_ms /usr/bin/sefton-qa --self-test)"
if [ -x "$ROOT/.venv/bin/python" ]; then
    printf '%-50s %s ms\n' "start-up: pip install form, python -m sefton_qa --self-test:" "$(cd "$work" && best_ms "$ROOT/.venv/bin/python" -m sefton_qa --self-test)"
fi
rm -rf "$work"

cleanup
trap - EXIT
[ ! -e /usr/lib/sefton-qa ] && [ ! -e /usr/bin/sefton-qa ] ||
    { say "ERROR: apt-get remove left /usr/lib/sefton-qa or /usr/bin/sefton-qa behind"; exit 1; }
say "installed, self-tested and removed $deb"
