"""free_port never hands the same port out twice in one process, even when nothing binds it between picks."""
from __future__ import annotations

from tillkey.testing import ports


def test_ports_picked_in_a_row_are_all_different(monkeypatch):
    # A narrow range makes a repeat near certain without the guard: 300 picks among 400 ports.
    monkeypatch.setattr(ports, "_ephemeral_low", lambda: ports._FLOOR + 400)
    high = ports._FLOOR + 1_000  # free_port's floor for the range's top
    picked = [ports.free_port() for _ in range(300)]
    assert len(set(picked)) == 300
    assert all(ports._FLOOR <= p < high for p in picked)
