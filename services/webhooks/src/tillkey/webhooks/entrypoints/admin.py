"""`tillkey-admin webhook-endpoints …` (a tillkey.admin entry point): list disabled endpoints and
re-enable one once its merchant fixed it, through the same use case as the merchant's PATCH."""
from __future__ import annotations

import json
import os

from sqlalchemy import select

from tillkey.webhooks.adapters import tables
from tillkey.webhooks.bootstrap import bootstrap
from tillkey.webhooks.config import Settings
from tillkey.webhooks.service_layer import endpoints as uc


def register(commands) -> None:
    group = commands.add_parser("webhook-endpoints", help="merchant webhook endpoints (WEBHOOKS_DATABASE_URL)")
    actions = group.add_subparsers(dest="action", required=True)
    actions.add_parser("disabled", help="endpoints disabled after failing too long, with the reason")
    enable = actions.add_parser("enable", help="re-enable a disabled endpoint (its merchant fixed it)")
    enable.add_argument("endpoint_id")
    group.set_defaults(run=run)


def run(args) -> int:
    service = bootstrap(Settings.from_env(os.environ))
    try:
        if args.action == "disabled":
            e = tables.endpoints
            with service.session_factory() as session:
                rows = session.execute(select(e.c.endpoint_id, e.c.merchant_id, e.c.disabled_reason)
                                       .where(e.c.enabled.is_(False), e.c.deleted_at.is_(None))
                                       .order_by(e.c.endpoint_id)).all()
            for row in rows:
                print(json.dumps(row._asdict()))
            return 0
        with service.session_factory() as session:
            merchant_id = session.execute(select(tables.endpoints.c.merchant_id).where(
                tables.endpoints.c.endpoint_id == args.endpoint_id)).scalar()
        if merchant_id is None:
            print(f"no endpoint {args.endpoint_id}")
            return 1
        endpoint = service.handle(uc.UpdateEndpoint(merchant_id, args.endpoint_id, enabled=True))
        print(json.dumps({"endpoint_id": endpoint["endpoint_id"], "enabled": endpoint["enabled"]}))
        return 0
    finally:
        service.engine.dispose()
