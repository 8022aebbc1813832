"""The first-run page, shown while the store holds no audits (page.py): load demo data to try the
app, or start for real with the set-up wizard (wizard.py: the authority's name, service areas,
their teams and staff, set up in one go).

Everything is written through the organisation services; the real set-up is a single
transaction (``organisation.set_up``), so a problem leaves nothing half set up.
"""
