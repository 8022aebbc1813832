#!/usr/bin/env bash
# Run the benchmarks (tests/benchmarks), installing whatever is missing first.
#
#   scripts/bench.sh [benchmark options...]
#
# Same setup as scripts/test.sh, then `python -m tests.benchmarks "$@"` from the repository
# root, offscreen unless QT_QPA_PLATFORM is already set.
#
# PostgreSQL beside SQLite (a server where databases may be created; fresh ones are made and
# dropped there):
#   scripts/bench.sh --quick --engines sqlite,postgresql \
#       --pg-url "postgresql://postgres@/postgres?host=/tmp/pgdev"
# or set SEFTON_BENCH_PG_URL instead of --pg-url.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
sefton_bootstrap --test

cd "$SEFTON_ROOT"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec "$SEFTON_VENV_PY" -m tests.benchmarks "$@"
