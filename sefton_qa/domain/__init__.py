"""The domain: grades, audits, staff, reference data and statistics. Pure Python, no Qt, no SQL."""
