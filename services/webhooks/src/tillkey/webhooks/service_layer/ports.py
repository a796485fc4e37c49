"""Ports the service layer needs; adapters implement them."""
from __future__ import annotations

from typing import Protocol

from tillkey.webhooks.domain.policy import SendResult


class Sender(Protocol):
    def send(self, url: str, body: str, headers: dict[str, str]) -> SendResult:
        """POST `body` once; never raises for anything the receiver or the network does."""
