"""A repository registered with `writes_back` writes its locked aggregates inside the transaction,
just before it commits, and forgets them when it rolls back."""


class Recorder:
    """Writes one effect row per pending change at commit (as a repository's UPDATEs would)."""

    def __init__(self, uow, db):
        self.uow, self.db = uow, db
        self.pending: list[str] = []
        self.forgotten = 0

    def write_changes(self):
        for order_id in self.pending:
            self.uow.active_session().execute(self.db.effects.insert().values(event_id="e", order_id=order_id))
        self.pending = []

    def forget(self):
        self.pending = []
        self.forgotten += 1


def test_changes_are_written_in_the_committing_transaction(db):
    with db.uow() as uow:
        recorder = uow.writes_back(Recorder(uow, db))
        recorder.pending.append("ord_1")
        uow.commit()
    assert db.count(db.effects, db.effects.c.order_id == "ord_1") == 1


def test_a_rollback_forgets_them_and_the_next_transaction_does_not_write_them(db):
    with db.uow() as uow:
        recorder = uow.writes_back(Recorder(uow, db))
        recorder.pending.append("ord_2")
        uow.rollback()
        assert recorder.forgotten == 1
        uow.commit()
    assert db.count(db.effects, db.effects.c.order_id == "ord_2") == 0


def test_a_new_with_block_starts_with_no_registered_repository(db):
    uow = db.uow()
    with uow:
        uow.writes_back(Recorder(uow, db)).pending.append("ord_3")
    with uow:   # the first block's repository (and its uncommitted change) is gone
        uow.commit()
    assert db.count(db.effects, db.effects.c.order_id == "ord_3") == 0
