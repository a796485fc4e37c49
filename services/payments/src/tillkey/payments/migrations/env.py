from tillkey.payments.adapters.tables import metadata
from tillkey.payments.config import DEFAULT_DATABASE_URL
from tillkey.platform.alembic_env import run_migrations

run_migrations(metadata, "PAYMENTS_DATABASE_URL", DEFAULT_DATABASE_URL)
