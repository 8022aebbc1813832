"""Sefton QA: case-file audit, moderation and committee reporting for children's social care.

The core (``domain``, ``store``, ``services``, ``reports``) never imports Qt; ``gui`` sits on top.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("sefton-qa")
except _metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

APP_NAME = "Sefton QA"
APP_ID = "sefton-qa"
