"""Sefton QA benchmarks: the store at scale, each figure set beside bare sqlite3.

Run from the repository root::

    .venv/bin/python -m tests.benchmarks [--audits N] [--data-dir DIR] [--quick] [--rebuild]

The first run builds a store of N audits (default 1,000,000) through the import path, and a
bare sqlite3 file with the same audit rows, under the data directory (default ./bench-data/,
which git ignores). Later runs with the same N reuse both. The results table is printed and
also written to ``<data dir>/results.md``.
"""
