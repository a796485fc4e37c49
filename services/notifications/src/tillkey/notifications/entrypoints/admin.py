"""`tillkey-admin emails …` (a tillkey.admin entry point): list failed emails and queue them again,
e.g. after the mail server was fixed. Addresses are not printed (personal data); order ids are."""
from __future__ import annotations

import json
import os

from tillkey.notifications.bootstrap import bootstrap
from tillkey.notifications.config import Settings
from tillkey.notifications.service_layer.sending import RequeueFailedEmails
from tillkey.notifications.service_layer.views import ListFailedEmails


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
    service = bootstrap(Settings.from_env(os.environ))
    try:
        if args.action == "failed":
            for row in service.handle(ListFailedEmails(args.limit)):
                print(json.dumps(row, default=str))
            return 0
        count = service.handle(RequeueFailedEmails(tuple(args.message_ids), every=args.all))
        print(f"requeued {count} email(s)")
        return 0 if count or args.all else 1
    finally:
        service.engine.dispose()
