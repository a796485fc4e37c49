"""Test support: the real RabbitMQ, PostgreSQL and SMTP the tests run against, and small helpers."""
