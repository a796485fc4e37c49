"""An email the mail server accepted is recorded as sent even when PostgreSQL restarts (`-m immediate`)
right then, and never goes a second time (issue 18: the same confirmation, twice, 52 s apart).

The restart is of a PostgreSQL server of this test's own, never the shared one other suites use."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from tillkey.notifications.adapters import tables
from tillkey.notifications.bootstrap import build_mail_sender
from tillkey.testing.messaging import running, wait_until

from .helpers import feed, known_customer

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(private_postgres_server):
    """This module's services run on the private server (the conftest migrates it)."""
    return private_postgres_server.url


def test_an_accepted_email_is_recorded_as_sent_across_a_postgres_restart(service, smtp_sink, private_postgres_server):
    known_customer(service)
    feed(service, "payment.succeeded")
    restart = threading.Thread(target=private_postgres_server.restart_immediate, daemon=True)
    receive = smtp_sink._receive

    def accept_while_the_database_goes_down(envelope, peer=None):
        # The server takes the email; the database is going away at the moment the sender records it.
        if not restart.is_alive() and not restart.ident:
            restart.start()
            time.sleep(0.3)
        return receive(envelope, peer)

    smtp_sink._receive = accept_while_the_database_goes_down
    try:
        with running(mail=build_mail_sender(service)):
            smtp_sink.wait_for(1, timeout=20)
            restart.join(60)
            assert private_postgres_server.is_up()
            wait_until(lambda: _status(service) == "sent", timeout=30, what="the accepted email recorded as sent")
    finally:
        smtp_sink._receive = receive
    assert len(smtp_sink.received()) == 1
    assert restart.ident is not None  # the restart really happened mid-send


def _status(service) -> str | None:
    try:
        with service.session_factory() as session:
            return session.execute(select(tables.messages.c.status)).scalar_one()
    except Exception:  # noqa: BLE001 — the database may still be starting
        return None
