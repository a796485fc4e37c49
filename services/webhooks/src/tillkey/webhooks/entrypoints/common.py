"""What every blueprint of this service shares: the service, and running one use case."""
from __future__ import annotations

from typing import Any

from flask import current_app

from tillkey.platform.problems import refusals_as_problems


def run(command: Any) -> Any:
    """Run a command or query through the service's handler table; a refusal (tillkey.contracts.errors)
    becomes its problem+json answer."""
    with refusals_as_problems():
        return current_app.extensions["tillkey.webhooks"].handle(command)
