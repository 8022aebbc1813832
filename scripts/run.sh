#!/usr/bin/env bash
# Run Sefton QA on its demo store, installing whatever is missing first.
#
#   scripts/run.sh [--offscreen | --xvfb] [sefton-qa gui options...]
#
#   (default)    a real window on this desktop (DISPLAY or WAYLAND_DISPLAY must be set)
#   --xvfb       a real window on a virtual screen (installs Xvfb; nothing is visible)
#   --offscreen  no display at all (QT_QPA_PLATFORM=offscreen), e.g. for smoke tests;
#                also chosen when QT_QPA_PLATFORM is already offscreen or minimal
#
# Everything else goes to `sefton-qa gui --demo`; `--db PATH` (or SEFTON_QA_DB=PATH) opens
# another store (run.sh passes it to sefton-qa before the `gui` command). The demo store
# lives in the user data dir and is filled with synthetic data the first time only.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

mode=window
while [ $# -gt 0 ]; do
    case "$1" in
        --offscreen) mode=offscreen; shift ;;
        --xvfb) mode=xvfb; shift ;;
        --) shift; break ;;
        *) break ;;
    esac
done
# `--db PATH` is an option of `sefton-qa` itself (before the command): move it there, so
# `scripts/run.sh --db PATH` works. Everything else stays after `gui --demo`.
global=()
rest=()
while [ $# -gt 0 ]; do
    case "$1" in
        --db)
            [ $# -ge 2 ] || { echo "run.sh: --db needs a PATH" >&2; exit 2; }
            global+=(--db "$2"); shift 2 ;;
        --db=*) global+=("$1"); shift ;;
        *) rest+=("$1"); shift ;;
    esac
done
set -- ${global[@]+"${global[@]}"} gui --demo ${rest[@]+"${rest[@]}"}

case "${QT_QPA_PLATFORM:-}" in
    offscreen* | minimal*) [ "$mode" = window ] && mode=offscreen ;;
esac

if [ "$mode" = window ] && [ "$(uname -s)" = Linux ] &&
    [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    cat >&2 <<'MSG'
run.sh: no display (neither DISPLAY nor WAYLAND_DISPLAY is set).
  Run it from a desktop session, or on a virtual screen:
      scripts/run.sh --xvfb          (installs Xvfb if needed; same as `xvfb-run -a scripts/run.sh`)
  or with no screen at all:
      scripts/run.sh --offscreen
MSG
    exit 2
fi

case "$mode" in
    window)
        sefton_bootstrap --window
        exec "$SEFTON_VENV_BIN/sefton-qa" "$@"
        ;;
    xvfb)
        sefton_bootstrap --xvfb
        command -v xvfb-run >/dev/null 2>&1 ||
            sefton__die 1 "xvfb-run not found: install Xvfb and xauth (Debian/Ubuntu: apt-get install xvfb xauth)"
        exec xvfb-run -a -s "-screen 0 1600x1000x24" \
            env QT_QPA_PLATFORM=xcb "$SEFTON_VENV_BIN/sefton-qa" "$@"
        ;;
    offscreen)
        sefton_bootstrap
        export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
        exec "$SEFTON_VENV_BIN/sefton-qa" "$@"
        ;;
esac
