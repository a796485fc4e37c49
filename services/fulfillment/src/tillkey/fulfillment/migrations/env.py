from tillkey.fulfillment.adapters.tables import metadata
from tillkey.fulfillment.config import DEFAULT_DATABASE_URL
from tillkey.platform.alembic_env import run_migrations

run_migrations(metadata, "FULFILLMENT_DATABASE_URL", DEFAULT_DATABASE_URL)
