"""`tillkey-admin emails …` (a tillkey.admin entry point): list failed emails and queue them again,
e.g. after the mail server was fixed. Addresses are not printed (personal data); order ids are."""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from sqlalchemy import select, update

from tillkey.notifications.adapters import tables
from tillkey.notifications.config import Settings
from tillkey.notifications.domain.messages import FAILED, QUEUED
from tillkey.platform.db import make_engine

m = tables.messages


def register(commands) -> None:
    group = commands.add_parser("emails", help="emails given up on (NOTIFICATIONS_DATABASE_URL)")
    actions = group.add_subparsers(dest="action", required=True)
    failed = actions.add_parser("failed", help="failed emails, newest first: id, template, order, attempts, error")
    failed.add_argument("--limit", type=int, default=50)
    requeue = actions.add_parser("requeue", help="queue failed emails again: the sender tries each once more now")
    which = requeue.add_mutually_exclusive_group(required=True)
    which.add_argument("message_ids", nargs="*", default=[])
    which.add_argument("--all", action="store_true")
    group.set_defaults(run=run)


def run(args) -> int:
    engine = make_engine(Settings.from_env(os.environ).database_url)
    try:
        with engine.begin() as conn:
            if args.action == "failed":
                rows = conn.execute(select(m.c.message_id, m.c.template, m.c.order_id, m.c.attempts, m.c.last_error,
                                           m.c.created_at).where(m.c.status == FAILED)
                                    .order_by(m.c.created_at.desc()).limit(args.limit)).all()
                for row in rows:
                    print(json.dumps(row._asdict(), default=str))
                return 0
            # Queued and due now: the sender's next poll takes them. A try that fails again past the
            # give-up window marks them failed again (one more try, not a new life).
            stmt = update(m).where(m.c.status == FAILED).values(status=QUEUED, next_attempt_at=datetime.now(UTC))
            if not args.all:
                stmt = stmt.where(m.c.message_id.in_(args.message_ids))
            count = conn.execute(stmt).rowcount
        print(f"requeued {count} email(s)")
        return 0 if count or args.all else 1
    finally:
        engine.dispose()
