"""`tillkey-admin`: dead letters (list, show, replay, purge) and outbox backlogs, against the same
configuration the services read (AMQP_URL, <SERVICE>_DATABASE_URL). docs/operations.md has the
when and why of each command."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from importlib.metadata import entry_points

from pika.exceptions import AMQPConnectionError, ChannelClosedByBroker
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tillkey.messaging.admin.dead_letters import DeadLetters
from tillkey.platform.config import DEFAULT_AMQP_URL
from tillkey.platform.db import make_engine

SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")


def _service(name: str) -> str:
    if name not in SERVICES:
        raise argparse.ArgumentTypeError(f"{name!r} is none of {', '.join(SERVICES)}")
    return name


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tillkey-admin", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dead = commands.add_parser("dead-letters", help="messages in <service>.events.dead").add_subparsers(
        dest="action", required=True)
    listing = dead.add_parser("list", help="count and list dead letters (nothing is removed)")
    listing.add_argument("services", nargs="*", type=_service, metavar="SERVICE", help="default: all five")
    listing.add_argument("--limit", type=int, default=20, help="messages listed per service (default 20)")
    show = dead.add_parser("show", help="one dead letter with its whole body")
    show.add_argument("service", choices=SERVICES)
    show.add_argument("message_id")
    replay = dead.add_parser("replay", help="send dead letters back to the service's queue (after fixing the cause)")
    replay.add_argument("service", choices=SERVICES)
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("message_id", nargs="?")
    which.add_argument("--all", action="store_true", help="every dead letter of the service")
    purge = dead.add_parser("purge", help="delete every dead letter of a service for good")
    purge.add_argument("service", choices=SERVICES)
    purge.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    outbox = commands.add_parser("outbox", help="events committed but not yet published, per service")
    outbox.add_argument("services", nargs="*", type=_service, metavar="SERVICE", help="default: all five")
    # A service's own commands (webhook endpoints, emails) come with it as a `tillkey.admin` entry
    # point: this library never imports a service, and an image without that service lacks them.
    for plugin in sorted(entry_points(group="tillkey.admin"), key=lambda p: p.name):
        plugin.load()(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "services", None) == []:
        args.services = list(SERVICES)
    try:
        return _run(args)
    except ChannelClosedByBroker as exc:
        print(f"the broker refused: {exc.reply_text} (a worker declares its queues when it starts)", file=sys.stderr)
    except (AMQPConnectionError, OSError) as exc:  # OSError: no address's name resolved (socket.gaierror)
        print(f"cannot reach the broker at AMQP_URL: {exc!r}", file=sys.stderr)
    return 2


def _run(args) -> int:
    if getattr(args, "run", None) is not None:
        return args.run(args)
    if args.command == "outbox":
        return _outbox(args.services)
    amqp_url = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
    if args.action == "list":
        for service in args.services:
            letters = DeadLetters(amqp_url, service)
            print(json.dumps({"service": service, "dead_letters": letters.count(),
                              "first": [d.summary() for d in letters.list(args.limit)]}))
        return 0
    letters = DeadLetters(amqp_url, args.service)
    if args.action == "show":
        letter = letters.show(args.message_id)
        if letter is None:
            print(f"no dead letter {args.message_id} in {letters.dead_queue}", file=sys.stderr)
            return 1
        print(json.dumps({**letter.summary(), "body": _body(letter.body)}, indent=2))
        return 0
    if args.action == "replay":
        count = letters.replay(None if args.all else args.message_id)
        print(f"replayed {count} message(s) to {letters.queue}")
        return 0 if count or args.all else 1
    if not args.yes:
        answer = input(f"Delete every message in {letters.dead_queue} ({letters.count()} now) for good? "
                       f"Type the service name to confirm: ")
        if answer.strip() != args.service:
            print("nothing deleted", file=sys.stderr)
            return 1
    print(f"purged {letters.purge()} message(s) from {letters.dead_queue}")
    return 0


def _body(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def _outbox(services: list[str]) -> int:
    failed = False
    for service in services:
        url = os.environ.get(f"{service.upper()}_DATABASE_URL") or f"sqlite:///var/{service}.db"
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                count, oldest = conn.execute(text(
                    "SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL")).one()
        except SQLAlchemyError as exc:  # one unreachable database must not hide the others
            original = (exc.orig if isinstance(exc, DBAPIError) else None) or exc  # the driver's error
            print(json.dumps({"service": service, "error": type(original).__name__ + ": " +
                              str(original).splitlines()[0]}))
            failed = True
            continue
        finally:
            engine.dispose()
        if isinstance(oldest, str):  # SQLite returns the stored text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        print(json.dumps({"service": service, "unpublished": count, "oldest_age_seconds": round(age, 1)}))
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
