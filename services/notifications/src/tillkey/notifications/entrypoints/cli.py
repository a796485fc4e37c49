"""`tillkey-notifications api | worker | migrate`."""
from __future__ import annotations

from tillkey.messaging import Consumer, OutboxRelay
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.notifications.adapters import tables
from tillkey.notifications.bootstrap import SERVICE, bootstrap
from tillkey.notifications.config import Settings
from tillkey.notifications.entrypoints import gauges
from tillkey.notifications.entrypoints.mail_sender import MailSender
from tillkey.platform.runner import migrations_home, service_main

MIGRATIONS_HOME = migrations_home("tillkey.notifications")  # alembic.ini + migrations/, package data


def build_mail_sender(service, *, sleep_until_due: bool = False) -> MailSender:
    settings = service.settings
    longest = getattr(service.mailer, "longest_send", 2 * settings.smtp_timeout + 1)
    return MailSender(service.uow_factory, service.mailer, clock=service.deps.clock, schedule=settings.retry_schedule,
                      give_up_after=settings.give_up_after, longest_send=longest,
                      poll_interval=settings.sender_poll_interval, sleep_until_due=sleep_until_due)


def build_workers(settings: Settings, **overrides) -> dict:
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


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.notifications.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
