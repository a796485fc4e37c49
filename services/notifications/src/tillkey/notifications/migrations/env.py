from tillkey.notifications.adapters.tables import metadata
from tillkey.notifications.config import DEFAULT_DATABASE_URL
from tillkey.platform.alembic_env import run_migrations

run_migrations(metadata, "NOTIFICATIONS_DATABASE_URL", DEFAULT_DATABASE_URL)
