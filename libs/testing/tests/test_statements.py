"""recorded_statements records only inside its block; counted names each statement "VERB table"."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from tillkey.testing.statements import counted, recorded_statements


def test_statements_are_recorded_in_the_block_and_counted_by_verb_and_table():
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)"))
        conn.execute(text("CREATE TABLE outbox (id INTEGER PRIMARY KEY)"))
        with recorded_statements(engine) as seen:
            conn.execute(text("INSERT INTO orders (id, status) VALUES (1, 'new')"))
            conn.execute(text("SELECT id,\n  status\nFROM orders WHERE id = 1"))
            conn.execute(text("UPDATE orders SET status = 'paid' WHERE id IN (SELECT id FROM outbox)"))
            conn.execute(text("INSERT INTO outbox (id) VALUES (1)"))
            conn.execute(text("SELECT 1"))  # no table: recorded, not counted
        conn.execute(text("SELECT status FROM orders"))  # after the block: not recorded
    assert seen[1] == "SELECT id, status FROM orders WHERE id = 1" and len(seen) == 5
    assert counted(seen) == {"INSERT orders": 1, "SELECT orders": 1, "UPDATE orders": 1, "INSERT outbox": 1}
    assert counted(seen, excluding=("outbox",)) == {"INSERT orders": 1, "SELECT orders": 1, "UPDATE orders": 1}
    assert counted(seen, tables={"outbox"}) == {"INSERT outbox": 1}
