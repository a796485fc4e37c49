"""Units of work inside a request transaction: one commit for all, nothing without it (issue 18)."""
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, select

from tillkey.platform import request_tx
from tillkey.platform.db import make_engine, make_session_factory

pytestmark = pytest.mark.integration
metadata = MetaData()
rows = Table("rows", metadata, Column("n", Integer, primary_key=True))


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(rows)).scalar_one()


def test_joined_commits_land_with_the_request_and_after_commit_waits(engine):
    sessions, ran = make_session_factory(engine), []
    with request_tx.request_transaction(engine) as tx:
        for n in (1, 2):
            with sessions() as s:
                s.execute(rows.insert().values(n=n))
                s.commit()  # a savepoint: nobody else sees it yet
        request_tx.after_commit(lambda: ran.append(count(engine)))
        assert ran == []
        request_tx.commit(tx)
    assert ran == [2] and count(engine) == 2


def test_a_request_that_never_commits_leaves_nothing(engine):
    sessions, ran = make_session_factory(engine), []
    with request_tx.request_transaction(engine):
        with sessions() as s:
            s.execute(rows.insert().values(n=1))
            s.commit()
        request_tx.after_commit(lambda: ran.append(True))
    assert count(engine) == 0 and ran == []


def test_a_rolled_back_unit_of_work_undoes_only_its_own_writes(engine):
    sessions = make_session_factory(engine)
    with request_tx.request_transaction(engine) as tx:
        with sessions() as s:
            s.execute(rows.insert().values(n=1))
            s.commit()
        with sessions() as s:
            s.execute(rows.insert().values(n=2))  # closed without commit
        request_tx.commit(tx)
    with engine.connect() as conn:
        assert list(conn.execute(select(rows.c.n)).scalars()) == [1]


def test_without_a_request_transaction_sessions_and_callbacks_are_as_before(engine):
    ran = []
    with make_session_factory(engine)() as s:
        s.execute(rows.insert().values(n=1))
        s.commit()
    request_tx.after_commit(lambda: ran.append(True))
    assert ran == [True] and count(engine) == 1
