"""Services: every change to data goes through here. They validate, write in one transaction,
and record the change in the audit trail. Qt-free; the GUI and the CLI call the same functions."""

from sefton_qa.services.session import Session, sign_in

__all__ = ["Session", "sign_in"]
