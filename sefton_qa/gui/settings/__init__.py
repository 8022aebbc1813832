"""Settings (administrators): the authority's name, the case-reference format, the grade scale,
service areas and teams, staff, themes and audit templates. One module a tab (general.py,
areas.py, staff.py, themes.py, templates.py), the dialog that holds them (dialog.py), and the
tabs' base and helpers (common.py).

Every change goes through an organisation service, which checks the role, validates and writes
the trail; the service's own message is shown next to the fields when it refuses. Others see
the same tabs read-only, with a note saying why.
"""
