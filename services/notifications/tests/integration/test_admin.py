"""`tillkey-admin emails` against a real database (SQLite and PostgreSQL): failed emails are listed
without their addresses and queued again, due at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from tillkey.notifications.adapters import tables

pytestmark = pytest.mark.integration
ADMIN = os.path.join(os.path.dirname(sys.executable), "tillkey-admin")
m = tables.messages


def admin(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ADMIN, "emails", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NOTIFICATIONS_DATABASE_URL": database_url})


def email(service, message_id: str, status: str) -> None:
    with service.engine.begin() as conn:
        conn.execute(insert(m).values(
            message_id=message_id, cause=f"license_delivery:{message_id}", template="license_delivery", locale="en",
            to_address="ada@example.com", subject="Your licenses", text_body="…", order_id="ord_1",
            merchant_id="mer_1", status=status, attempts=3, last_error="550 mailbox unavailable",
            created_at=datetime.now(UTC), next_attempt_at=None))


def test_failed_emails_are_listed_and_requeued(service, settings):
    email(service, "msg_failed1", "failed")
    email(service, "msg_failed2", "failed")
    email(service, "msg_sent1", "sent")

    listed = admin(settings.database_url, "failed")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["message_id"] for r in rows) == ["msg_failed1", "msg_failed2"]
    assert rows[0]["last_error"] == "550 mailbox unavailable" and "ada@example.com" not in listed.stdout

    assert admin(settings.database_url, "requeue", "msg_failed1").stdout.strip() == "requeued 1 email(s)"
    assert admin(settings.database_url, "requeue", "msg_sent1").returncode == 1  # only failed ones
    with service.engine.connect() as conn:
        status = dict(conn.execute(select(m.c.message_id, m.c.status)).all())
        due = conn.execute(select(m.c.next_attempt_at).where(m.c.message_id == "msg_failed1")).scalar_one()
    assert status == {"msg_failed1": "queued", "msg_failed2": "failed", "msg_sent1": "sent"} and due is not None
    assert admin(settings.database_url, "requeue", "--all").stdout.strip() == "requeued 1 email(s)"
