"""The body of every service's migrations/env.py."""
from __future__ import annotations

import os

from alembic import context
from sqlalchemy import MetaData

from tillkey.platform.db import make_engine, normalize_url


def _render_item(type_, obj, autogen_context):
    # Keep migrations free of our own types: UtcDateTime is a plain timezone-aware DateTime on disk.
    from tillkey.platform.db import UtcDateTime

    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(target_metadata: MetaData, url_env_var: str, default_url: str) -> None:
    config = context.config
    url = config.attributes.get("database_url") or normalize_url(os.environ.get(url_env_var) or default_url)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                          render_as_batch=url.startswith("sqlite"), render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        # batch mode lets ALTER TABLE work on SQLite too
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=engine.dialect.name == "sqlite", render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
