#!/usr/bin/env bash
# Build the Linux packages of Sefton QA: the PyInstaller one-folder bundle, packed as a .deb
# and as a .tar.gz, in dist/.
#
#   bash installer/build-linux.sh
#
# Needs Python >= 3.11 with venv (SEFTON_QA_PYTHON picks one), dpkg-deb, and PyPI. It makes
# its own build venv in build/installer/venv (never the developer's .venv), installs the
# project (pip install .) and PyInstaller there, builds from installer/sefton-qa.spec, runs
# the bundle's own --self-test, then packs:
#   dist/sefton-qa_VERSION_ARCH.deb                 /usr/lib/sefton-qa/ (the bundle),
#                                                   /usr/bin/sefton-qa, a .desktop entry, an icon
#   dist/sefton-qa-VERSION-linux-ARCH.tar.gz        sefton-qa/ (the bundle, the .desktop, the icon)
# and prints the bundle's size and the self-test's start-up time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/build/installer"
DIST="$ROOT/dist"
say() { printf 'build-linux: %s\n' "$*" >&2; }

python=""
for cand in ${SEFTON_QA_PYTHON:-python3.13 python3.12 python3.11 python3}; do
    exe=$(command -v "$cand" 2>/dev/null) || continue
    if "$exe" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
        python=$exe
        break
    fi
done
[ -n "$python" ] || { say "ERROR: no Python >= 3.11 with venv found (set SEFTON_QA_PYTHON)"; exit 1; }
command -v dpkg-deb >/dev/null || { say "ERROR: dpkg-deb is needed (apt-get install dpkg)"; exit 1; }

# 1. The build venv: the project as users get it (not editable) plus PyInstaller.
venv="$BUILD/venv"
if [ ! -x "$venv/bin/python" ]; then
    say "making the build venv with $python"
    "$python" -m venv "$venv"
fi
say "installing the project and PyInstaller into the build venv"
# setuptools builds in the source tree's build/: stale files there (a module since deleted)
# would end up in the wheel.
rm -rf "$ROOT/build/lib" "$ROOT"/build/bdist.*
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade \
    "$ROOT" "pyinstaller>=6.10,<7"
version=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("sefton-qa"))')
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
say "Sefton QA $version for $arch"

# 2. The one-folder bundle.
rm -rf "$BUILD/pyinstaller" "$BUILD/dist"
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$BUILD/dist" --workpath "$BUILD/pyinstaller" installer/sefton-qa.spec
bundle="$BUILD/dist/sefton-qa"
[ -x "$bundle/sefton-qa" ] || { say "ERROR: PyInstaller made no $bundle/sefton-qa"; exit 1; }

say "self-test of the bundle as built"
QT_QPA_PLATFORM=offscreen "$bundle/sefton-qa" --self-test
[ "$("$bundle/sefton-qa" --version)" = "sefton-qa $version" ] ||
    { say "ERROR: the bundle's --version is not sefton-qa $version"; exit 1; }

desktop_entry() {  # $1: the Exec command
    cat <<DESKTOP
[Desktop Entry]
Type=Application
Name=Sefton QA
GenericName=Case-file audit
Comment=Case-file audits, moderation and committee reporting for children's social care
Exec=$1
Icon=sefton-qa
Terminal=false
Categories=Office;
StartupWMClass=sefton-qa
DESKTOP
}

# 3. The .deb.
pkg="$BUILD/deb/sefton-qa_${version}_${arch}"
rm -rf "$BUILD/deb"
mkdir -p "$pkg/DEBIAN" "$pkg/usr/lib" "$pkg/usr/bin" "$pkg/usr/share/applications" \
    "$pkg/usr/share/icons/hicolor/256x256/apps" "$pkg/usr/share/doc/sefton-qa"
cp -a "$bundle" "$pkg/usr/lib/sefton-qa"
ln -s ../lib/sefton-qa/sefton-qa "$pkg/usr/bin/sefton-qa"
desktop_entry "sefton-qa" > "$pkg/usr/share/applications/sefton-qa.desktop"
cp resources/sefton-qa.png "$pkg/usr/share/icons/hicolor/256x256/apps/sefton-qa.png"
printf 'Sefton QA %s\nLicense: MIT\n' "$version" > "$pkg/usr/share/doc/sefton-qa/copyright"
installed_kb=$(du -sk "$pkg/usr" | cut -f1)
# The bundle carries Qt, Python and most libraries; what it takes from the system is OpenGL/
# EGL (drivers), fontconfig's configuration and fonts, and (for a real display) Wayland.
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: sefton-qa
Version: $version
Architecture: $arch
Maintainer: Sefton QA <sefton-qa@localhost>
Installed-Size: $installed_kb
Section: misc
Priority: optional
Depends: libc6, libgl1, libegl1, libfontconfig1
Recommends: libwayland-client0, libwayland-cursor0, libwayland-egl1, xkb-data
Description: Case-file audit, moderation and committee reporting
 Sefton QA keeps children's social care case-file audits, their moderation and the
 committee packs in one local store. Self-contained: Python and Qt are bundled.
 Check an installation with: sefton-qa --self-test
CONTROL
# The store is the user's (in their data folder): removing or purging the package never
# touches it. Refresh the desktop's menus and icons when the tools are there.
for script in postinst postrm; do
    cat > "$pkg/DEBIAN/$script" <<'SCRIPT'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
exit 0
SCRIPT
    chmod 0755 "$pkg/DEBIAN/$script"
done
mkdir -p "$DIST"
deb="$DIST/sefton-qa_${version}_${arch}.deb"
rm -f "$deb"
dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$deb" >/dev/null
say "wrote $deb"

# 4. The .tar.gz: unpack anywhere and run sefton-qa/sefton-qa (no root needed).
tarroot="$BUILD/tar"
rm -rf "$tarroot"
mkdir -p "$tarroot"
cp -a "$bundle" "$tarroot/sefton-qa"
desktop_entry "sefton-qa" > "$tarroot/sefton-qa/sefton-qa.desktop"
cp resources/sefton-qa.png "$tarroot/sefton-qa/sefton-qa.png"
tgz="$DIST/sefton-qa-${version}-linux-${arch}.tar.gz"
tar -C "$tarroot" -czf "$tgz" sefton-qa
say "wrote $tgz"

# 5. The figures.
start_ms() {  # best of three wall-clock self-test runs, in ms
    "$venv/bin/python" - "$@" <<'PY'
import os, subprocess, sys, time
env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
best = None
for _ in range(3):
    t0 = time.perf_counter()
    subprocess.run(sys.argv[1:], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    ms = (time.perf_counter() - t0) * 1000
    best = ms if best is None else min(best, ms)
print(f"{best:.0f}")
PY
}
bundle_mb=$(du -sm "$bundle" | cut -f1)
files=$(find "$bundle" -type f | wc -l)
printf '\n%-44s %s\n' "bundle (build/installer/dist/sefton-qa):" "${bundle_mb} MB, ${files} files"
printf '%-44s %s\n' ".deb:" "$(du -h "$deb" | cut -f1)"
printf '%-44s %s\n' ".tar.gz:" "$(du -h "$tgz" | cut -f1)"
printf '%-44s %s ms\n' "self-test, bundle as built (best of 3):" "$(start_ms "$bundle/sefton-qa" --self-test)"
printf '%-44s %s ms\n' "self-test, python -m sefton_qa (best of 3):" "$(start_ms "$venv/bin/python" -m sefton_qa --self-test)"
