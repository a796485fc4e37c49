"""pika's own log lines about a lost or refused broker connection, as warnings without tracebacks.

pika logs every failed connection attempt and every dropped socket at ERROR, often with a
traceback ("Connection workflow failed", "Socket failed", "Unexpected connection close detected").
While the broker restarts those are expected: our consumer and relay catch them, say so at
WARNING and reconnect with backoff. Errors that matter reach our code as exceptions and are
logged there, at the level they deserve; pika's own line about them adds nothing but noise
(issue 18: reconnects must not page anybody).
"""
from __future__ import annotations

import logging


class _ReconnectsAreWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            # A killed node's dropped socket comes at WARNING with a traceback (ConnectionResetError):
            # the same one line as the errors.
            if record.exc_info and record.exc_info[1] is not None:
                # Keep the cause in one line, drop the traceback.
                record.msg = f"{record.getMessage()} ({record.exc_info[1]!r})"
                record.args = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_FILTER = _ReconnectsAreWarnings()
# A logger's filters see only its own records, not its children's: every pika module that logs
# at ERROR (pika 1.3, `logging.getLogger(__name__)` each).
_PIKA_LOGGERS = ("pika.connection", "pika.channel", "pika.callback", "pika.adapters.blocking_connection",
                 "pika.adapters.base_connection", "pika.adapters.select_connection",
                 "pika.adapters.utils.io_services_utils", "pika.adapters.utils.connection_workflow",
                 "pika.adapters.utils.selector_ioloop_adapter")


def quiet_pika_reconnects() -> None:
    """Install once per process (idempotent), after logging is configured."""
    for name in _PIKA_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
