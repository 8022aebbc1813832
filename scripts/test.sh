#!/usr/bin/env bash
# Run the test suite, installing whatever is missing first.
#
#   scripts/test.sh [pytest options...]     e.g. scripts/test.sh -x -k reports
#
# Installs the system packages Qt needs offscreen plus poppler-utils, makes .venv with
# `pip install -e ".[test]"`, then runs pytest from the repository root with
# QT_QPA_PLATFORM=offscreen (no display needed). Exits with pytest's exit code
# (5 = no tests were collected).
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
sefton_bootstrap --test

cd "$SEFTON_ROOT"
export QT_QPA_PLATFORM=offscreen
exec "$SEFTON_VENV_PY" -m pytest "$@"
