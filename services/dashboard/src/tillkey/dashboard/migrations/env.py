from tillkey.dashboard.adapters.tables import metadata
from tillkey.dashboard.config import DEFAULT_DATABASE_URL
from tillkey.platform.alembic_env import run_migrations

run_migrations(metadata, "DASHBOARD_DATABASE_URL", DEFAULT_DATABASE_URL)
