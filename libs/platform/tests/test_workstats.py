"""The bench's work counters are written only when they changed: an idle process writes nothing."""
from __future__ import annotations

import json
import os

from tillkey.platform import workstats


def test_counts_are_written_when_they_change_and_not_otherwise(tmp_path, monkeypatch):
    monkeypatch.setattr(workstats, "_counts", workstats.Counter({"sql_statements": 3}))
    path = tmp_path / f"{os.getpid()}.json"
    written = workstats.write_if_changed(tmp_path, None)
    assert json.loads(path.read_text()) == {"sql_statements": 3}
    path.unlink()
    written = workstats.write_if_changed(tmp_path, written)
    assert not path.exists()  # nothing counted since: nothing written
    workstats._counts["amqp_delivered"] += 2
    workstats.write_if_changed(tmp_path, written)
    assert json.loads(path.read_text()) == {"sql_statements": 3, "amqp_delivered": 2}
