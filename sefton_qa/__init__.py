"""Sefton QA: case-file audit, moderation and committee reporting for children's social care.

The core (``domain``, ``store``, ``services``, ``reports``) never imports Qt; ``gui`` sits on top.
"""

#: The one place the version is written: pyproject.toml reads it from here (setuptools'
#: dynamic version), and the app does not pay for importlib.metadata at every start.
__version__ = "0.1.0"

APP_NAME = "Sefton QA"
APP_ID = "sefton-qa"
