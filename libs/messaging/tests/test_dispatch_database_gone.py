"""A batch whose database is gone (a restart) before the inbox is even read: `BatchFailed(None)`,
so the consumer retries each message on its own instead of ending (make chaos found the worker
exiting on a PostgreSQL restart: the inbox read raised past the consumer)."""
from __future__ import annotations

import pytest
from sqlalchemy import MetaData

from tillkey.messaging import InboxDispatcher, InboxHandler, SqlAlchemyUnitOfWork, define_inbox, define_outbox
from tillkey.messaging.dispatch import BatchFailed
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.smtp import free_port


def test_the_inbox_read_failing_names_no_message():
    metadata = MetaData()
    outbox, inbox = define_outbox(metadata), define_inbox(metadata)
    # Nothing listens on this port: every connection attempt fails as during a restart.
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/gone")
    sessions = make_session_factory(engine)
    handled = []
    record = InboxHandler("record", lambda env, _uow: handled.append(env))
    dispatcher = InboxDispatcher(lambda cause=None: SqlAlchemyUnitOfWork(sessions, outbox, "tests", cause=cause),
                                 inbox, {"order.created": [record]})
    batch = [sample_envelope("order.created", new_id=True) for _ in range(3)]
    with pytest.raises(BatchFailed) as failed:
        dispatcher.handle_batch(batch)
    assert failed.value.index is None and not handled
    engine.dispose()
