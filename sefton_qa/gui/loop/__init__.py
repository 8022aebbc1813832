"""The moderation loop in the main window, one module a page: the moderation queue
(moderation.py), reflective conversations (conversations.py) and remedial actions (actions.py),
all on the queue page of queue.py; the drift dashboard (drift.py) and calibration
(calibration.py), both on the period page of period.py; and what they share (common.py).

Every page is ``XPage(session, parent=None)`` with ``refresh()`` and a ``changed`` signal that
carries the service's Change after each write, so the window can refresh the other pages.
The services are the guard; the pages hide or disable what a person cannot do and say why.
The window imports the pages on first use (a quicker start), so this package imports none.
"""
