from tillkey.orders.adapters.tables import metadata
from tillkey.orders.config import DEFAULT_DATABASE_URL
from tillkey.platform.alembic_env import run_migrations

run_migrations(metadata, "ORDERS_DATABASE_URL", DEFAULT_DATABASE_URL)
