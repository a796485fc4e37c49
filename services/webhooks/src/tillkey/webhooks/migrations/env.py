from tillkey.platform.alembic_env import run_migrations
from tillkey.webhooks.adapters.tables import metadata
from tillkey.webhooks.config import DEFAULT_DATABASE_URL

run_migrations(metadata, "WEBHOOKS_DATABASE_URL", DEFAULT_DATABASE_URL)
