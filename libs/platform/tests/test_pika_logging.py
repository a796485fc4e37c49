"""pika's lines about a refused broker connection are warnings without tracebacks (issue 18)."""
import logging

import pika
import pytest

from tillkey.platform.pika_logging import quiet_pika_reconnects


def test_a_refused_broker_connection_logs_no_error_and_no_traceback(caplog):
    quiet_pika_reconnects()
    params = pika.URLParameters("amqp://guest:guest@127.0.0.1:1/%2F")  # nothing listens on port 1
    params.connection_attempts, params.socket_timeout = 1, 2
    with caplog.at_level(logging.DEBUG, logger="pika"), pytest.raises(pika.exceptions.AMQPConnectionError):
        pika.BlockingConnection(params)
    pika_records = [r for r in caplog.records if r.name.startswith("pika")]
    assert any(r.levelno == logging.WARNING for r in pika_records), "pika said nothing about the failure"
    assert all(r.levelno < logging.ERROR for r in pika_records)
    assert all(r.exc_info is None for r in pika_records if r.levelno >= logging.WARNING)


def test_a_dropped_socket_warning_keeps_its_cause_in_one_line_without_traceback(caplog):
    # What pika 1.3 logs when a broker node is SIGKILLed under an open connection.
    quiet_pika_reconnects()
    logger = logging.getLogger("pika.adapters.utils.io_services_utils")
    try:
        raise ConnectionResetError(104, "Connection reset by peer")
    except ConnectionResetError:
        with caplog.at_level(logging.DEBUG, logger="pika"):
            logger.warning("Socket error on fd %d", 7, exc_info=True)
    (record,) = [r for r in caplog.records if r.name.startswith("pika")]
    assert record.exc_info is None and record.levelno == logging.WARNING
    assert "Socket error on fd 7" in record.getMessage() and "Connection reset by peer" in record.getMessage()
