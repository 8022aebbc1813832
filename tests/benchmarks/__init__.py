"""Sefton QA benchmarks: the store at scale, each figure set beside a bare equivalent.

Run from the repository root::

    .venv/bin/python -m tests.benchmarks [--audits N] [--data-dir DIR] [--quick] [--rebuild]

The first run builds a store of N audits (default 1,000,000) through the import path, and a
bare sqlite3 file with the same audit rows, under the data directory (default ./bench-data/,
which git ignores). Later runs with the same N reuse both, and the import files (a CSV and an
XLSX of 100,000 rows, made the first time). The results table is printed and also written to
``<data dir>/results.md``.

Modules: ``build`` (the stores), ``workload`` (the audits), ``bare`` (the plain sqlite3
side), ``register`` (the register's first screens), ``importing`` (the import rate), ``pack``
(the committee pack), ``startup`` (cold start, also run as the child process it times),
``timing`` and ``report`` (the clock and the table).

PostgreSQL beside SQLite::

    .venv/bin/python -m tests.benchmarks --quick --engines sqlite,postgresql \
        --pg-url "postgresql://postgres@/postgres?host=/tmp/pgdev"

copies the built store into a fresh database on that server and times the same operations on
both engines in turn, as ratios (``engines``; ``--engines postgresql`` for that table alone).
``bare_pg`` is the plain psycopg side, ``pgserver`` makes and drops the databases (and starts a
throwaway TCP server when the given one has no TCP listener), ``proxy`` adds round-trip time.
"""
