"""The one composition root: settings in, wired service out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Unpack

from tillkey.messaging import InboxDispatcher, QueueTopology
from tillkey.payments.adapters import tables
from tillkey.payments.adapters.sandbox_gateway import SandboxGateway
from tillkey.payments.adapters.uow import PaymentsUnitOfWork
from tillkey.payments.config import Settings
from tillkey.payments.domain.bank_transfer import BankAccount
from tillkey.payments.service_layer.deps import PaymentDeps
from tillkey.payments.service_layer.follow_ups import DispatchThenFollowUp
from tillkey.payments.service_layer.handlers import HANDLERS
from tillkey.payments.service_layer.refunding import AFTER_COMMIT
from tillkey.platform.clock import SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.overrides import CommonOverrides, refuse_unknown

SERVICE = "payments"


@dataclass
class Payments:
    settings: Settings
    engine: object
    session_factory: Callable
    uow_factory: Callable[..., PaymentsUnitOfWork]
    dispatcher: DispatchThenFollowUp
    topology: QueueTopology
    deps: PaymentDeps


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    handlers: dict
    gateways: dict
    card_gateway: str
    follow_ups: Any


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Payments:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    clock = overrides.get("clock") or SystemClock()
    uow_factory = overrides.get("uow_factory") or partial(
        PaymentsUnitOfWork, session_factory, tables.outbox, SERVICE, clock=clock)
    handlers = overrides.get("handlers") or HANDLERS
    inbox_dispatcher = InboxDispatcher(uow_factory, tables.inbox, handlers)
    topology = QueueTopology(SERVICE, tuple(inbox_dispatcher.event_types))
    gateways = overrides.get("gateways") or {
        "sandbox": SandboxGateway(settings.sandbox_gateway_url, settings.sandbox_gateway_secret)}
    deps = PaymentDeps(
        uow_factory=uow_factory, gateways=gateways, card_gateway=overrides.get("card_gateway", "sandbox"),
        bank_account=BankAccount(settings.bank_account_holder, settings.bank_name, settings.bank_iban,
                                 settings.bank_bic, timedelta(seconds=settings.bank_transfer_due)),
        public_url=settings.payments_public_url, resubmit_after=timedelta(seconds=settings.resubmit_after),
        give_up_after=timedelta(seconds=settings.give_up_after), clock=clock)
    dispatcher = DispatchThenFollowUp(inbox_dispatcher, overrides.get("follow_ups", AFTER_COMMIT), deps)
    return Payments(settings, engine, session_factory, uow_factory, dispatcher, topology, deps)
