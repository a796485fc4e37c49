"""The one composition root: settings in, wired service out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Unpack, cast

from tillkey.messaging import Consumer, InboxDispatcher, OutboxRelay, QueueTopology
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.messaging.handling import bind_deps
from tillkey.payments.adapters import tables
from tillkey.payments.adapters.sandbox_gateway import SandboxGateway
from tillkey.payments.adapters.sweeper import GatewaySweeper
from tillkey.payments.adapters.uow import PaymentsUnitOfWork
from tillkey.payments.config import Settings
from tillkey.payments.domain.bank_transfer import BankAccount
from tillkey.payments.service_layer.follow_ups import DispatchThenFollowUp
from tillkey.payments.service_layer.handlers import EVENT_HANDLERS, FOLLOW_UPS, HANDLERS
from tillkey.payments.service_layer.ports import Deps, UnitOfWork
from tillkey.platform.clock import SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.gauges import schedule_lag
from tillkey.platform.ids import new_id
from tillkey.platform.overrides import CommonOverrides, refuse_unknown
from tillkey.platform.request_tx import after_commit

SERVICE = "payments"


@dataclass
class Payments:
    settings: Settings
    engine: object
    session_factory: Callable
    uow_factory: Callable[..., PaymentsUnitOfWork]
    dispatcher: DispatchThenFollowUp
    topology: QueueTopology
    deps: Deps
    handlers: dict

    def handle(self, command: Any) -> Any:
        """Run one command or query in its own unit of work (committed by the handler, if it writes)."""
        handler = self.handlers[type(command)]
        with self.uow_factory() as uow:
            return handler(command, uow, self.deps)


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    new_id: Callable[[str], str]
    handlers: dict
    event_handlers: dict
    gateways: dict
    card_gateway: str
    follow_ups: Any


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Payments:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    clock = overrides.get("clock") or SystemClock()
    uow_factory: Callable[..., PaymentsUnitOfWork] = overrides.get("uow_factory") or partial(
        PaymentsUnitOfWork, session_factory, tables.outbox, SERVICE)
    gateways = overrides.get("gateways") or {
        "sandbox": SandboxGateway(settings.sandbox_gateway_url, settings.sandbox_gateway_secret)}
    deps = Deps(
        clock=clock, new_id=overrides.get("new_id") or new_id, uow_factory=cast(Callable[[], UnitOfWork], uow_factory),
        gateways=gateways,
        card_gateway=overrides.get("card_gateway", "sandbox"),
        bank_account=BankAccount(settings.bank_account_holder, settings.bank_name, settings.bank_iban,
                                 settings.bank_bic, timedelta(seconds=settings.bank_transfer_due)),
        public_url=settings.payments_public_url, resubmit_after=timedelta(seconds=settings.resubmit_after),
        give_up_after=timedelta(seconds=settings.give_up_after), after_commit=after_commit)
    event_handlers = bind_deps(overrides.get("event_handlers") or EVENT_HANDLERS, deps)
    inbox_dispatcher = InboxDispatcher(uow_factory, tables.inbox, event_handlers)
    topology = QueueTopology(SERVICE, tuple(inbox_dispatcher.event_types))
    dispatcher = DispatchThenFollowUp(inbox_dispatcher, overrides.get("follow_ups", FOLLOW_UPS), deps)
    return Payments(settings, engine, session_factory, uow_factory, dispatcher, topology, deps,
                    overrides.get("handlers") or HANDLERS)


def build_workers(settings: Settings) -> dict[str, object]:
    """The worker process's loops: the consumer, the outbox relay, the gateway sweeper and the
    dead-letter care."""
    service = bootstrap(settings)
    consumer = Consumer(settings.amqp_url, service.topology, service.dispatcher)
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE,
                        retention=settings.outbox_retention)
    sweeper = GatewaySweeper(service.deps, settings.scheduler_interval)
    loops: dict[str, object] = {"consumer": consumer, "relay": relay, "gateway-sweeper": sweeper}
    relay.metrics_collectors.append(schedule_lag(SERVICE, {"gateway-sweeper": sweeper}))
    loops.update(dead_letter_care(settings.amqp_url, service.topology, service.dispatcher))
    return loops
