"""Keep credentials out of everything printed or stored (spec §9.5: "credentials not in DB").

* :func:`register_url` - remember the password of a connection URL (called by
  :func:`statarb.storage.database.resolve_db_url`, so every URL the project resolves is covered).
  The first registration installs a log-record factory that masks every registered secret, and
  any ``scheme://user:password@`` form, in each log message (and pre-formatted traceback), so a
  secret never reaches a log handler, whatever logger or format is used.
* :func:`mask` - the same replacement for text the code prints or stores itself (command output,
  error messages, backup manifests, ``config_json``).
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any
from urllib.parse import quote, unquote

import sqlalchemy as sa

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s'\"]*):(?P<pw>[^@\s'\"]+)@")
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Mask ``value`` (and its URL-quoted form) from now on; short values (< 3 chars) are
    ignored, they would garble ordinary text."""
    if not value or len(value) < 3:
        return
    with _lock:
        _secrets.update({value, quote(value, safe=""), unquote(value)})
    _install_log_masking()


def register_url(url: str | None) -> None:
    """Register the password of ``url`` (a SQLAlchemy/libpq URL), if it has one."""
    if not url:
        return
    try:
        password = sa.make_url(url).password
    except Exception:  # not a URL: nothing to learn from it
        return
    if password:
        register_secret(str(password))


def mask(text: Any) -> str:
    """``text`` with URL passwords and every registered secret replaced by ``***``."""
    out = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", str(text))
    for secret in sorted(_secrets, key=len, reverse=True):
        out = out.replace(secret, MASK)
    return out


def _install_log_masking() -> None:
    """Wrap the log-record factory once: each record's message is formatted and masked."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a broken format string is the caller's problem, not ours
                return record
            masked = mask(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info and record.exc_info[0] is not None:
                text = "".join(traceback.format_exception(*record.exc_info))
                if mask(text) != text:
                    record.exc_text = mask(text)
                    record.exc_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
