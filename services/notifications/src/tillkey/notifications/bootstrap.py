"""The one composition root: settings in, wired service out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Unpack

from sqlalchemy.engine import Engine

from tillkey.messaging import Consumer, InboxDispatcher, OutboxRelay, QueueTopology
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.messaging.handling import bind_deps
from tillkey.notifications.adapters import gauges, tables
from tillkey.notifications.adapters.mail_sender import MailSender
from tillkey.notifications.adapters.rendering import JinjaRenderer
from tillkey.notifications.adapters.smtp import SmtpMailer
from tillkey.notifications.adapters.uow import NotificationsUnitOfWork
from tillkey.notifications.config import Settings
from tillkey.notifications.service_layer.handlers import EVENT_HANDLERS, HANDLERS
from tillkey.notifications.service_layer.ports import Deps, Mailer, Renderer
from tillkey.platform.clock import SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.ids import new_id
from tillkey.platform.overrides import CommonOverrides, refuse_unknown
from tillkey.platform.polling import Handoff

SERVICE = "notifications"
# An email about an order or merchant not seen yet waits for it on these delays (seconds).
# Longer than the library default: order.created may sit behind a backlog or a stopped relay.
WAIT_FOR_ORDER_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


@dataclass
class Notifications:
    settings: Settings
    engine: Engine
    session_factory: Callable
    uow_factory: Callable[..., NotificationsUnitOfWork]
    deps: Deps
    handlers: dict
    dispatcher: InboxDispatcher     # the consumer's: event type → handlers, each once (inbox)
    topology: QueueTopology
    mailer: Mailer
    handoff: Handoff                # the consumer's queued emails go straight to this process's sender

    def handle(self, command) -> Any:
        """Run one command or query in its own unit of work (committed by the handler, if it writes)."""
        handler = self.handlers[type(command)]
        with self.uow_factory() as uow:
            return handler(command, uow, self.deps)


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    new_id: Callable[[str], str]
    renderer: Renderer
    handlers: dict
    event_handlers: dict
    retry_delays: tuple
    mailer: Mailer


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Notifications:
    refuse_unknown(overrides, Overrides)
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    handoff = Handoff()
    uow_factory = overrides.get("uow_factory") or partial(
        NotificationsUnitOfWork, session_factory, tables.outbox, SERVICE, handoff=handoff, existing_products=set())
    deps = Deps(clock=overrides.get("clock") or SystemClock(), new_id=overrides.get("new_id") or new_id,
                renderer=overrides.get("renderer") or JinjaRenderer(), platform_secret=settings.platform_secret,
                orders_public_url=settings.orders_public_url.rstrip("/"),
                payments_public_url=settings.payments_public_url.rstrip("/"))
    event_handlers = bind_deps(overrides.get("event_handlers") or EVENT_HANDLERS, deps)
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, event_handlers)
    topology = QueueTopology(SERVICE, tuple(dispatcher.event_types),
                             retry_delays=overrides.get("retry_delays", WAIT_FOR_ORDER_DELAYS))
    mailer = overrides.get("mailer") or SmtpMailer(
        settings.smtp_host, settings.smtp_port, settings.smtp_from, starttls=settings.smtp_starttls,
        user=settings.smtp_user, password=settings.smtp_password, timeout=settings.smtp_timeout)
    return Notifications(settings, engine, session_factory, uow_factory, deps, overrides.get("handlers") or HANDLERS,
                         dispatcher, topology, mailer, handoff)


def build_mail_sender(service: Notifications, *, sleep_until_due: bool = False) -> MailSender:
    """The sender loop (adapters/mail_sender.py): the service's commands, its mailer."""
    settings = service.settings
    longest = getattr(service.mailer, "longest_send", 2 * settings.smtp_timeout + 1)
    return MailSender(service.handle, service.mailer, schedule=settings.retry_schedule,
                      give_up_after=settings.give_up_after, longest_send=longest,
                      poll_interval=settings.sender_poll_interval, sleep_until_due=sleep_until_due)


def build_workers(settings: Settings, **overrides: Unpack[Overrides]) -> dict[str, Any]:
    """The worker process's loops: the consumer, the outbox relay, the mail sender and the
    dead-letter care (`tillkey-notifications worker`, entrypoints/cli.py)."""
    service = bootstrap(settings, **overrides)
    mail = build_mail_sender(service, sleep_until_due=True)
    service.handoff.connect(mail.take_leased, mail.lease)  # emails the consumer queues skip the claim
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE,
                        retention=settings.outbox_retention)
    relay.metrics_collectors.extend(gauges.collectors(service.session_factory))  # read when scraped
    return {
        # The consumer hands the emails it queues to the sender (service.handoff): no wake-up needed.
        "consumer": Consumer(settings.amqp_url, service.topology, service.dispatcher),
        "relay": relay,
        "mail": mail,
        **dead_letter_care(settings.amqp_url, service.topology, service.dispatcher),
    }
