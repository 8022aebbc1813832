"""Who is at the keyboard, as the operating system says: never an environment variable.

``LOGNAME``, ``USER`` and ``USERNAME`` are set by whoever starts a program, so anyone could
claim to be anyone with them. On POSIX the account is the effective user id's entry in the
password database; on Windows the logged-on account as ``DOMAIN\\user`` (SAM-compatible name)
from the security API. A store compares account names without regard to case.
"""

from __future__ import annotations

import os
import sys

#: GetUserNameExW's EXTENDED_NAME_FORMAT for "DOMAIN\\user".
_NAME_SAM_COMPATIBLE = 2


def os_account() -> str:
    """The signed-in operating-system account running this process."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows builds
        return _windows_account()
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no name (some containers): still the real uid, not a claim
        return f"uid-{os.geteuid()}"


def _windows_account() -> str:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    secur32 = ctypes.WinDLL("secur32")
    get_name = secur32.GetUserNameExW
    get_name.argtypes = [ctypes.c_int, wintypes.LPWSTR, ctypes.POINTER(wintypes.ULONG)]
    get_name.restype = wintypes.BOOLEAN
    size = wintypes.ULONG(0)
    get_name(_NAME_SAM_COMPATIBLE, None, ctypes.byref(size))
    buffer = ctypes.create_unicode_buffer(size.value or 256)
    if not get_name(_NAME_SAM_COMPATIBLE, buffer, ctypes.byref(size)):
        raise OSError(ctypes.get_last_error(), "GetUserNameExW failed")
    return buffer.value


def bare_name(account: str) -> str:
    """``DOMAIN\\user`` without the domain (how staff records held Windows accounts before)."""
    return account.rsplit("\\", 1)[-1]
