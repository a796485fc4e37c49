"""Each service's Alembic migrations: found as package data, applied, and checked for being current."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def migrations_home(package: str) -> Path:
    """The folder of `package` holding its `alembic.ini` and `migrations/`.

    They are package data, found through the import system rather than beside the source tree,
    so `migrate` works the same from a checkout, an editable install and an installed wheel.
    Alembic reads plain files: a package imported from a zip has no such folder, so it is refused.
    """
    home = resources.files(package)
    if not isinstance(home, Path) or not (home / "alembic.ini").is_file():
        raise RuntimeError(f"{package} has no alembic.ini beside it ({home}): install it from a wheel, unzipped")
    return home


def _config(home: Path, database_url: str):
    from alembic.config import Config

    from tillkey.platform.db import normalize_url

    config = Config(str(home / "alembic.ini"))
    config.set_main_option("script_location", str(home / "migrations"))
    config.attributes["database_url"] = normalize_url(database_url)
    return config


def migrate(home: Path, database_url: str) -> None:
    """Upgrade to head with the alembic.ini and migrations/ in `home` (see migrations_home)."""
    from alembic import command

    command.upgrade(_config(home, database_url), "head")


def pending(home: Path, database_url: str) -> set[str]:
    """The heads this code expects that the database does not have yet (empty: it is current).

    Why: a pod of a new release must not serve against the old schema. In Kubernetes the
    migration Job applies them once; every new pod waits for this to be empty (`migrate --check`
    in an init container) instead of migrating itself, so pods never race each other over DDL.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from tillkey.platform.db import make_engine

    config = _config(home, database_url)
    expected = set(ScriptDirectory.from_config(config).get_heads())
    engine = make_engine(config.attributes["database_url"])
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return expected - current
