#!/usr/bin/env bash
# Sefton QA bootstrap: make this checkout runnable on a fresh machine.
#
#   scripts/bootstrap.sh [--test] [--window | --xvfb] [--no-system] [--print-packages]
#
#   (no flag)         runtime: Qt's offscreen libraries + .venv with `pip install -e .`
#   --test            also the test extras (`pip install -e ".[test]"`) and poppler-utils
#   --window          also the X11/xcb libraries a real window needs (and the Wayland
#                     ones when WAYLAND_DISPLAY is set)
#   --xvfb            --window plus Xvfb and xauth, for `xvfb-run` on a machine with no screen
#   --no-system       do not check or install system packages
#                     (same as SEFTON_QA_SKIP_SYSTEM_PACKAGES=1)
#   --print-packages  print the system packages the other flags would need, then stop
#
# What it does, in order:
#   1. finds Python >= 3.11 (SEFTON_QA_PYTHON, else python3.13, python3.12, python3.11, python3)
#      unless a working .venv already exists;
#   2. on Debian/Ubuntu installs the missing system packages (listed below, justified in
#      docs/INSTALL.md) with apt-get: directly as root, through `sudo -n` when that works,
#      otherwise it prints the exact command to run and exits 3. `apt-get update` only runs
#      when something is missing. Elsewhere it only reports what Qt needs;
#   3. creates .venv at the repository root (reused when its python works);
#   4. upgrades pip and runs `pip install -e .` / `-e ".[test]"`, skipped when
#      .venv/.bootstrap-stamp says pyproject.toml and the extras are unchanged.
#
# The other scripts source this file and call `sefton_bootstrap ARGS`; run directly, it runs
# `sefton_bootstrap "$@"`. Sourcing it sets `set -euo pipefail` in the caller.
set -euo pipefail

SEFTON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEFTON_VENV="$SEFTON_ROOT/.venv"
case "$(uname -s)" in
    MINGW* | MSYS* | CYGWIN*) SEFTON_VENV_BIN="$SEFTON_VENV/Scripts" ;;
    *) SEFTON_VENV_BIN="$SEFTON_VENV/bin" ;;
esac
SEFTON_VENV_PY="$SEFTON_VENV_BIN/python"
SEFTON_STAMP="$SEFTON_VENV/.bootstrap-stamp"

# --- Debian/Ubuntu packages ---------------------------------------------------------------
# Each entry owns a shared library that a Qt library or plugin of the PySide6-Essentials
# wheel (6.11.3 and 6.12.0 checked) links directly (readelf NEEDED) and that the wheel does
# not ship. "a|b" = either name (Ubuntu 24.04 / Debian 13 renamed libglib2.0-0 in the
# 64-bit time_t transition). libc6, libstdc++6, libgcc-s1, zlib1g and libzstd1 are also
# needed but are part of every Debian/Ubuntu base system (apt and dpkg depend on them).
#
# Qt itself, offscreen (tests, `--offscreen` runs): libQt6Core/Gui/Widgets/DBus, the
# offscreen and minimal platform plugins, the image-format and icon plugins.
OFFSCREEN_PKGS=(
    libgl1                          # libGL.so.1          libQt6Gui, libQt6Widgets, every plugin
    libegl1                         # libEGL.so.1         libQt6Gui
    libfontconfig1                  # libfontconfig.so.1  libQt6Gui (pulls fontconfig-config -> fonts-dejavu-core)
    libfreetype6                    # libfreetype.so.6    libQt6Gui, libqminimal.so
    libxkbcommon0                   # libxkbcommon.so.0   libQt6Gui, libQt6Widgets, plugins
    "libglib2.0-0t64|libglib2.0-0"  # libglib-2.0.so.0 libgthread-2.0.so.0  libQt6Core, libQt6Gui
    libdbus-1-3                     # libdbus-1.so.3      libQt6DBus (linked by libQt6Gui)
    libx11-6                        # libX11.so.6         libQt6Gui, libqoffscreen.so
)
# Tests also render the PDFs they check to PNG.
TEST_PKGS=(
    poppler-utils                   # pdftoppm, pdftotext
    # The team-store tests start a throwaway PostgreSQL server of their own (initdb in a
    # temporary folder; scripts/pg-test-server.sh). No cluster is created at install.
    postgresql                      # initdb, pg_ctl, the server
    postgresql-contrib              # unaccent, for the server's search index
    openssl                         # a test certificate authority for TLS logins (CI step 16)
)
# A real window through the xcb platform plugin (libqxcb.so -> libQt6XcbQpa.so.6, plus
# xcbglintegrations/libqxcb-glx-integration.so). Added on top of OFFSCREEN_PKGS.
WINDOW_PKGS=(
    libxcb1                         # libxcb.so.1
    libx11-xcb1                     # libX11-xcb.so.1
    libxkbcommon-x11-0              # libxkbcommon-x11.so.0
    libxcb-cursor0                  # libxcb-cursor.so.0
    libxcb-icccm4                   # libxcb-icccm.so.4
    libxcb-image0                   # libxcb-image.so.0
    libxcb-keysyms1                 # libxcb-keysyms.so.1
    libxcb-randr0                   # libxcb-randr.so.0
    libxcb-render0                  # libxcb-render.so.0
    libxcb-render-util0             # libxcb-render-util.so.0
    libxcb-shape0                   # libxcb-shape.so.0
    libxcb-shm0                     # libxcb-shm.so.0
    libxcb-sync1                    # libxcb-sync.so.1
    libxcb-util1                    # libxcb-util.so.1
    libxcb-xfixes0                  # libxcb-xfixes.so.0
    libxcb-xkb1                     # libxcb-xkb.so.1
    libxcb-glx0                     # libxcb-glx.so.0     (GLX integration plugin)
)
# A pure Wayland session (WAYLAND_DISPLAY set): libqwayland.so -> libQt6WaylandClient.so.6.
# Any Wayland desktop already has these; without them Qt falls back to xcb (XWayland).
WAYLAND_PKGS=(
    libwayland-client0              # libwayland-client.so.0
    libwayland-cursor0              # libwayland-cursor.so.0
    libwayland-egl1                 # libwayland-egl.so.1 (wayland-egl integration plugin)
)
# A virtual screen for machines without one (`xvfb-run`, which calls xauth).
XVFB_PKGS=(
    xvfb                            # Xvfb, xvfb-run
    xauth                           # xvfb-run refuses to start without it
)

# Shared libraries by group, for systems without dpkg (checked with ldconfig -p).
SEFTON_OFFSCREEN_SONAMES="libGL.so.1 libEGL.so.1 libfontconfig.so.1 libfreetype.so.6 libxkbcommon.so.0 libglib-2.0.so.0 libgthread-2.0.so.0 libdbus-1.so.3 libX11.so.6"
SEFTON_WINDOW_SONAMES="libxcb.so.1 libX11-xcb.so.1 libxkbcommon-x11.so.0 libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-image.so.0 libxcb-keysyms.so.1 libxcb-randr.so.0 libxcb-render.so.0 libxcb-render-util.so.0 libxcb-shape.so.0 libxcb-shm.so.0 libxcb-sync.so.1 libxcb-util.so.1 libxcb-xfixes.so.0 libxcb-xkb.so.1 libxcb-glx.so.0"
SEFTON_WAYLAND_SONAMES="libwayland-client.so.0 libwayland-cursor.so.0 libwayland-egl.so.1"

sefton__say() { printf 'bootstrap: %s\n' "$*" >&2; }
sefton__die() {
    local code=$1
    shift
    printf 'bootstrap: ERROR: %s\n' "$@" >&2
    exit "$code"
}

sefton__is_debian() {
    { [ -f /etc/debian_version ] || command -v apt-get >/dev/null 2>&1; } &&
        command -v dpkg-query >/dev/null 2>&1
}

# Sets SEFTON_PYTHON and SEFTON_PYTHON_VERSION, or explains how to get a Python and fails.
sefton__find_python() {
    local cand exe ver tried="" cands
    if [ -n "${SEFTON_QA_PYTHON:-}" ]; then
        cands="$SEFTON_QA_PYTHON"
    else
        cands="python3.13 python3.12 python3.11 python3"
    fi
    for cand in $cands; do
        exe=$(command -v "$cand" 2>/dev/null) || continue
        # pyenv shims exist for versions that are not selected and fail when run: skip them.
        if ! ver=$("$exe" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null); then
            tried="$tried $cand(does not run)"
            continue
        fi
        if "$exe" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            SEFTON_PYTHON=$("$exe" -c 'import sys; print(sys.executable)')
            SEFTON_PYTHON_VERSION=$ver
            return 0
        fi
        tried="$tried $cand($ver)"
    done
    {
        echo "bootstrap: ERROR: Sefton QA needs Python 3.11 or newer; none found."
        echo "  looked for: $cands${tried:+ — found:$tried}"
        echo "  Debian 12+/Ubuntu 23.04+:  sudo apt-get install python3 python3-venv"
        echo "  Ubuntu 22.04:              sudo apt-get install python3.11 python3.11-venv"
        echo "  Fedora:                    sudo dnf install python3.12"
        echo "  macOS:                     brew install python@3.12   (or the python.org installer)"
        echo "  Windows:                   winget install Python.Python.3.12   (or the python.org installer)"
        echo "  or point SEFTON_QA_PYTHON at a python3.11+ executable."
    } >&2
    return 1
}

sefton__venv_works() {
    [ -x "$SEFTON_VENV_PY" ] || [ -x "$SEFTON_VENV_PY.exe" ] || return 1
    "$SEFTON_VENV_PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1 &&
        "$SEFTON_VENV_PY" -m pip --version >/dev/null 2>&1
}

# Debian package that provides `python -m venv` for SEFTON_PYTHON, if it is dpkg's python.
sefton__venv_pkg() {
    local real mm
    real=$(readlink -f "$SEFTON_PYTHON" 2>/dev/null || echo "$SEFTON_PYTHON")
    dpkg -S "$real" >/dev/null 2>&1 || return 1
    mm=${SEFTON_PYTHON_VERSION%.*}
    echo "python$mm-venv|python3-venv"
}

# Prints the installable name for a spec "a|b": the first alternative apt has a candidate
# for, else the last one (apt resolves a virtual name when it has a single provider).
sefton__resolve_alt() {
    local spec=$1 alt cand last=""
    local IFS='|'
    for alt in $spec; do
        last=$alt
        cand=$(apt-cache policy "$alt" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
        if [ -n "$cand" ] && [ "$cand" != "(none)" ]; then
            echo "$alt"
            return 0
        fi
    done
    echo "$last"
}

# sefton__spec_installed "a|b" " installed names " : is any alternative installed?
sefton__spec_installed() {
    local alt IFS='|'
    for alt in $1; do
        case "$2" in *" $alt "*) return 0 ;; esac
    done
    return 1
}

# sefton__apt_ensure SPEC... : install the specs none of whose alternatives is installed.
sefton__apt_ensure() {
    local spec names="" installed missing="" resolved="" sudo=""
    for spec in "$@"; do names="$names ${spec//|/ }"; done
    # shellcheck disable=SC2086  # word splitting of the name list is intended
    installed=" $(dpkg-query -W -f='${Package} ${Status}\n' $names 2>/dev/null |
        awk '$NF == "installed" && $(NF-1) == "ok" {printf "%s ", $1}' || true) "
    for spec in "$@"; do
        sefton__spec_installed "$spec" "$installed" || missing="$missing $spec"
    done
    missing=${missing# }
    if [ -z "$missing" ]; then
        sefton__say "system packages: all present ($#)"
        return 0
    fi

    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        sudo="sudo -n"
    else
        for spec in $missing; do resolved="$resolved $(sefton__resolve_alt "$spec")"; done
        {
            echo "bootstrap: missing system packages:$resolved"
            echo "bootstrap: install them (needs root), then run this again:"
            echo
            echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends$resolved"
            echo
            echo "bootstrap: (why each is needed: docs/INSTALL.md; to skip this check: SEFTON_QA_SKIP_SYSTEM_PACKAGES=1)"
        } >&2
        exit 3
    fi

    sefton__say "missing system packages: $missing"
    sefton__say "running apt-get update"
    # shellcheck disable=SC2086  # $sudo is empty or "sudo -n"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        sefton__die 3 "apt-get update failed"
    for spec in $missing; do resolved="$resolved $(sefton__resolve_alt "$spec")"; done
    sefton__say "apt-get install --no-install-recommends$resolved"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=300 $resolved </dev/null ||
        sefton__die 3 "apt-get install failed for:$resolved"
}

# Non-Debian systems: report, never install.
sefton__report_other() {
    local want_test=$1 want_window=$2 want_xvfb=$3 sonames missing="" so ldc
    case "$(uname -s)" in
        Linux) ;;
        Darwin | MINGW* | MSYS* | CYGWIN*)
            sefton__say "$(uname -s): no system packages needed (the PySide6 wheel carries Qt)."
            [ "$want_test" = yes ] && ! command -v pdftoppm >/dev/null 2>&1 &&
                sefton__say "tests that look at PDFs need pdftoppm (poppler): brew install poppler / choco install poppler"
            return 0
            ;;
        *) sefton__say "$(uname -s): system packages not checked; see docs/INSTALL.md"; return 0 ;;
    esac
    sonames=$SEFTON_OFFSCREEN_SONAMES
    [ "$want_window" = yes ] && sonames="$sonames $SEFTON_WINDOW_SONAMES"
    [ "$want_window" = yes ] && [ -n "${WAYLAND_DISPLAY:-}" ] && sonames="$sonames $SEFTON_WAYLAND_SONAMES"
    ldc=$(command -v ldconfig 2>/dev/null || echo /sbin/ldconfig)
    sefton__say "not Debian/Ubuntu: system packages are not installed automatically."
    sefton__say "Qt (PySide6) needs these shared libraries: $sonames"
    if [ -x "$ldc" ]; then
        for so in $sonames; do
            "$ldc" -p 2>/dev/null | grep -q "^[[:space:]]*$so " || missing="$missing $so"
        done
        if [ -n "$missing" ]; then
            sefton__say "WARNING: not found by ldconfig:$missing"
            sefton__say "install your distribution's packages for them (docs/INSTALL.md has a Fedora list)"
        else
            sefton__say "all of them were found by ldconfig"
        fi
    fi
    [ "$want_test" = yes ] && ! command -v pdftoppm >/dev/null 2>&1 &&
        sefton__say "WARNING: pdftoppm not found: install poppler-utils (tests render PDFs with it)"
    [ "$want_xvfb" = yes ] && ! command -v xvfb-run >/dev/null 2>&1 &&
        sefton__say "WARNING: xvfb-run not found: install Xvfb and xauth"
    return 0
}

sefton__stamp_key() {
    "$SEFTON_VENV_PY" -c 'import hashlib, sys
with open(sys.argv[1], "rb") as f:
    print(hashlib.sha256(f.read()).hexdigest())' "$SEFTON_ROOT/pyproject.toml"
}

sefton_bootstrap() {
    local want_test=no want_window=no want_xvfb=no want_system=yes print_only=no arg
    for arg in "$@"; do
        case "$arg" in
            --test) want_test=yes ;;
            --window) want_window=yes ;;
            --xvfb) want_window=yes want_xvfb=yes ;;
            --no-system) want_system=no ;;
            --print-packages) print_only=yes ;;
            -h | --help)
                sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
                return 0
                ;;
            *) sefton__die 2 "unknown option: $arg (see --help)" ;;
        esac
    done
    [ "${SEFTON_QA_SKIP_SYSTEM_PACKAGES:-0}" = 1 ] && want_system=no

    local pkgs=("${OFFSCREEN_PKGS[@]}")
    if [ "$want_test" = yes ]; then
        pkgs+=("${TEST_PKGS[@]}")
        # Installing Debian's postgresql must not create (and start) a cluster of its own.
        if [ "$(id -u)" -eq 0 ] && [ ! -e /etc/postgresql-common/createcluster.d/no-main.conf ] \
            && ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "ok installed"; then
            mkdir -p /etc/postgresql-common/createcluster.d
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/no-main.conf
        fi
    fi
    [ "$want_window" = yes ] && pkgs+=("${WINDOW_PKGS[@]}")
    [ "$want_window" = yes ] && [ -n "${WAYLAND_DISPLAY:-}" ] && pkgs+=("${WAYLAND_PKGS[@]}")
    [ "$want_xvfb" = yes ] && pkgs+=("${XVFB_PKGS[@]}")

    if [ "$print_only" = yes ]; then
        local spec out=""
        for spec in "${pkgs[@]}"; do
            case "$spec" in
                *'|'*) command -v apt-cache >/dev/null 2>&1 && spec=$(sefton__resolve_alt "$spec") || spec=${spec##*|} ;;
            esac
            out="$out $spec"
        done
        echo "${out# }"
        return 0
    fi

    cd "$SEFTON_ROOT"

    # One bootstrap at a time per checkout (test.sh and run.sh may start together); the
    # lock is released before returning so the program the caller execs does not hold it.
    if command -v flock >/dev/null 2>&1; then
        local lock
        lock="${TMPDIR:-/tmp}/sefton-qa-bootstrap.$(id -u).$(printf '%s' "$SEFTON_ROOT" | cksum | cut -d' ' -f1).lock"
        exec 9>"$lock"
        flock 9
        sefton__bootstrap_locked "${pkgs[@]}"
        exec 9>&-
    else
        sefton__bootstrap_locked "${pkgs[@]}"
    fi
}

# sefton__bootstrap_locked PKG... (uses want_* from sefton_bootstrap)
sefton__bootstrap_locked() {
    local pkgs=("$@")

    # 1. Python (only needed when .venv has to be made).
    local need_venv=no
    if ! sefton__venv_works; then
        need_venv=yes
        sefton__find_python || exit 1
        sefton__say "using $SEFTON_PYTHON ($SEFTON_PYTHON_VERSION) for .venv"
        if ! "$SEFTON_PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            local vpkg
            if sefton__is_debian && vpkg=$(sefton__venv_pkg); then
                pkgs+=("$vpkg")
            elif [ "$want_system" = yes ] || ! sefton__is_debian; then
                sefton__die 1 "$SEFTON_PYTHON cannot create virtualenvs (no ensurepip module)." \
                    "install its venv support, or choose another Python with SEFTON_QA_PYTHON=/path/to/python3.x"
            fi
        fi
    fi

    # 2. System packages.
    if [ "$want_system" = yes ]; then
        if sefton__is_debian; then
            sefton__apt_ensure "${pkgs[@]}"
        else
            sefton__report_other "$want_test" "$want_window" "$want_xvfb"
        fi
    fi

    # 3. The virtualenv.
    if [ "$need_venv" = yes ]; then
        sefton__say "creating .venv"
        if ! "$SEFTON_PYTHON" -m venv --clear "$SEFTON_VENV"; then
            sefton__die 1 "'$SEFTON_PYTHON -m venv' failed." \
                "On Debian/Ubuntu: sudo apt-get install python${SEFTON_PYTHON_VERSION%.*}-venv"
        fi
        rm -f "$SEFTON_STAMP"
    fi

    # 4. Python packages, unless pyproject.toml and the extras are as last time.
    local key extras="" old_key="" old_extras="" need_pip=no
    key=$(sefton__stamp_key)
    if [ -f "$SEFTON_STAMP" ]; then
        old_key=$(sed -n 1p "$SEFTON_STAMP")
        old_extras=$(sed -n 2p "$SEFTON_STAMP")
    fi
    extras=$old_extras                        # keep what an earlier run installed
    if [ "$want_test" = yes ]; then
        case " $extras " in *" test "*) ;; *) extras="${extras:+$extras }test" ;; esac
    fi
    [ "$key" = "$old_key" ] && [ "$extras" = "$old_extras" ] || need_pip=yes
    "$SEFTON_VENV_PY" -c 'import importlib.metadata as m; m.version("sefton-qa")' >/dev/null 2>&1 || need_pip=yes
    if [ "$need_pip" = no ]; then
        sefton__say "python packages up to date (.venv/.bootstrap-stamp; extras: ${extras:-none})"
        return 0
    fi

    local spec="."
    [ -n "$extras" ] && spec=".[${extras// /,}]"
    sefton__say "upgrading pip"
    "$SEFTON_VENV_PY" -m pip install --progress-bar off --upgrade pip </dev/null
    sefton__say "pip install -e \"$spec\""
    "$SEFTON_VENV_PY" -m pip install --progress-bar off -e "$spec" </dev/null
    printf '%s\n%s\n' "$key" "$extras" >"$SEFTON_STAMP"
    sefton__say "done (.venv ready; extras: ${extras:-none})"
}

# Run when executed; only define the functions and lists when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    sefton_bootstrap "$@"
fi
