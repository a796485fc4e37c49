"""`tillkey-admin webhook-endpoints …` (a tillkey.admin entry point): list disabled endpoints and
re-enable one once its merchant fixed it, through the same use case as the merchant's PATCH."""
from __future__ import annotations

import json
import os

from tillkey.webhooks.bootstrap import bootstrap
from tillkey.webhooks.config import Settings
from tillkey.webhooks.service_layer.endpoints import EnableEndpoint
from tillkey.webhooks.service_layer.views import ListDisabledEndpoints


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
            for row in service.handle(ListDisabledEndpoints()):
                print(json.dumps(row))
            return 0
        endpoint = service.handle(EnableEndpoint(args.endpoint_id))
        if endpoint is None:
            print(f"no endpoint {args.endpoint_id}")
            return 1
        print(json.dumps({"endpoint_id": endpoint["endpoint_id"], "enabled": endpoint["enabled"]}))
        return 0
    finally:
        service.engine.dispose()
