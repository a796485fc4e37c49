"""Hot-path statements run on the driver's cursor, compiled once per database (issue 11).

`session.execute(statement, params)` spends more of this process's CPU around the driver call than
in it: a cache key worked out per call, an execution context, parameter and result processing
set up anew, a `CursorResult` and its metadata. Measured on this machine per one-row SELECT by key
(docs/architecture.md §7.8): PostgreSQL 240 → 160 µs, SQLite 100 → 35 µs. A `LeanStatement` does
that work once per database and per set of parameter names, then each call is the driver's
`cursor.execute` and a fetch:

    CLAIM = LeanStatement(select(orders.c.id, orders.c.status).where(orders.c.id == bindparam("id")))
    row = CLAIM.first(uow.session, {"id": order_id})     # row.status, row[1], row._asdict()
    INSERT_LINE.execute_many(uow.session, lines)         # none: nothing; one: as execute; more: one executemany

What stays exactly as with `session.execute`:
- the values bound and read are those SQLAlchemy's types make (the same bind and result
  processors, compiled for the engine's dialect);
- the statement runs in the Session's or Connection's transaction (its BEGIN, SQLite's BEGIN
  IMMEDIATE and gate included); like `session.execute` of a Core statement, it does not flush the
  Session's pending ORM changes first (only ORM-enabled statements autoflush);
- `before_cursor_execute` / `after_cursor_execute` listeners see the statement (the bench's
  counter, tracing, the tests that pin a hot path's statements);
- a driver error is raised as SQLAlchemy's (`IntegrityError`, `OperationalError`, …), and a lost
  connection is invalidated, by SQLAlchemy's own handling.

What it refuses, when the statement is first compiled, rather than run differently: a column
filled by a Python-side default or `onupdate` (SQLAlchemy computes those per execution), and
`IN` lists that expand per call. Several rows of one statement (`execute_many`) are one executemany
through `db.execute`, with SQLAlchemy's batching; a batch of many rows whose statement text should
not vary with their number goes through `tillkey.platform.sql.insert_rows`.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.dml import ValuesBase

_FORMS_PER_STATEMENT = 64  # dialects × parameter-name sets; tests make many engines, production one


class LeanStatement:
    """One statement, built once at module level, run with parameters on a Session or Connection."""

    __slots__ = ("statement", "_forms", "_keyed_by_names")

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._forms: dict[Any, _Form] = {}
        # An INSERT or UPDATE without explicit values takes its columns from the parameters' names.
        self._keyed_by_names = isinstance(statement, ValuesBase) and not statement._values  # noqa: SLF001

    def all(self, db: Session | Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row the statement returns: tuples with attribute access by column label, `_asdict()`
        and `_mapping` (a dict keyed by label; SQLAlchemy's RowMapping also takes Column objects)."""
        return self._run(db, params, _ALL)

    def first(self, db: Session | Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None."""
        rows = self._run(db, params, _FIRST)
        return rows[0] if rows else None

    def scalar(self, db: Session | Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        rows = self._run(db, params, _FIRST)
        return rows[0][0] if rows else None

    def scalars(self, db: Session | Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in self._run(db, params, _ALL)]

    def execute(self, db: Session | Connection, params: Mapping[str, Any] | None = None) -> int:
        """Runs a statement whose rows are not wanted; the driver's row count (-1 when unknown)."""
        return self._run(db, params, _COUNT)

    def execute_many(self, db: Session | Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Runs the statement once per row, the rows keyed alike (an INSERT or UPDATE without values
        takes its columns from the keys, as with one row): nothing for no rows (`db.execute` of an
        empty list would run it once, without parameters), one row on the driver's cursor as
        `execute`, several as one executemany through `db.execute`, which keeps SQLAlchemy's
        insertmanyvalues batching and the driver's executemany; rows go in the order given."""
        if len(rows) == 1:
            self.execute(db, rows[0])
        elif rows:
            db.execute(cast(Executable, self.statement), list(rows))

    def _run(self, db: Session | Connection, params: Mapping[str, Any] | None, want: int) -> Any:
        if isinstance(db, Session):
            connection = db.connection()
        else:
            connection = db
            # What Connection.execute does first: begin if nothing has (so commit() commits this
            # statement), refuse a transaction that failed and awaits its rollback.
            transaction = connection._transaction  # noqa: SLF001
            if transaction is None:
                connection._autobegin()  # noqa: SLF001
            elif not transaction.is_active or (connection._nested_transaction is not None  # noqa: SLF001
                                               and not connection._nested_transaction.is_active):  # noqa: SLF001
                connection._invalid_transaction()  # noqa: SLF001
        dialect = connection.dialect
        params = params or _NO_PARAMS
        key = (dialect, tuple(params)) if self._keyed_by_names else dialect
        form = self._forms.get(key)
        if form is None:
            form = self._compile(dialect, key, params)
        return _on_cursor(connection, form.sql, params, form, want)

    def _compile(self, dialect: Dialect, key: Any, params: Mapping[str, Any]) -> _Form:
        names = list(params) if self._keyed_by_names else None
        compiled: Any = self.statement.compile(dialect=dialect, column_keys=names)
        prefetch = list(getattr(compiled, "insert_prefetch", ())) + list(getattr(compiled, "update_prefetch", ()))
        if prefetch:
            raise TypeError(f"LeanStatement: {[c.name for c in prefetch]} take a Python-side default; "
                            "give their values, or use session.execute")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise TypeError("LeanStatement: an IN list that expands per call; bind one parameter per "
                            "value, or use session.execute")
        if len(self._forms) >= _FORMS_PER_STATEMENT:
            self._forms.clear()
        form = self._forms[key] = _Form(compiled, dialect)
        return form


_ALL, _FIRST, _COUNT = 0, 1, 2
_NO_PARAMS: Mapping[str, Any] = {}


def run_driver_sql(connection: Connection, sql: str) -> None:
    """A statement with no parameters and no rows (SQLite's `BEGIN IMMEDIATE`) on the driver's cursor,
    seen by the cursor events and failing as SQLAlchemy fails, as `exec_driver_sql` would run it but
    without its execution context; and without beginning a transaction (it may be the one beginning it)."""
    _on_cursor(connection, sql, _NO_PARAMS, None, _COUNT)


def _on_cursor(connection: Connection, sql: str, params: Mapping[str, Any], form: _Form | None, want: int) -> Any:
    arguments: Any = params if form is not None else ()
    cursor, kept = _cursor(connection)
    context = None
    try:
        if form is not None:
            arguments = form.arguments(params)  # a missing value is raised as execute raises it
        if connection._has_events or connection.engine._has_events:  # noqa: SLF001
            context = _Context()
            for listener in connection.dispatch.before_cursor_execute:
                sql, arguments = listener(connection, cursor, sql, arguments, context, False)
        cursor.execute(sql, arguments)
        if context is not None:
            for listener in connection.dispatch.after_cursor_execute:
                listener(connection, cursor, sql, arguments, context, False)
        if want == _COUNT or form is None:
            result: Any = cursor.rowcount
        elif form.shaped:
            # Rows seen before: the same SQL always answers with the same columns, so no
            # `cursor.description` (psycopg builds a Column object per column at each read).
            result = form.rows(cursor.fetchall() if want == _ALL else cursor.fetchmany(1))
        else:
            description = cursor.description
            if description is None:
                result = []
            else:
                form.shape(description, connection.dialect)
                result = form.rows(cursor.fetchall() if want == _ALL else cursor.fetchmany(1))
        if not kept:
            cursor.close()
        return result
    except BaseException as error:  # SQLAlchemy's handling: wrap, invalidate if lost, close, raise
        connection._handle_dbapi_exception(error, sql, arguments, cursor, context)  # type: ignore[arg-type]  # noqa: SLF001
        raise  # not reached: the call above always raises


_KEPT_CURSOR = "tillkey.lean_sql.cursor"


def _cursor(connection: Connection) -> tuple[Any, bool]:
    """The driver cursor to run on, and whether it stays open for the connection's next statements.

    On PostgreSQL one cursor serves every statement of a pooled connection: a psycopg cursor made
    anew sets up its adapters and loses their caches (~7 µs per statement here), and its rows are
    all in client memory once `execute` returns, so a cursor left as it is holds nothing on the
    server. It lives in the pool record's `info`, which SQLAlchemy clears when it closes or
    invalidates the driver's connection (and a cursor closed by SQLAlchemy's error handling is
    replaced). SQLite keeps a cursor per statement: one left on an unfinished SELECT would hold
    the statement open in the database."""
    fairy = connection.connection
    if connection.dialect.name != "postgresql":
        return fairy.cursor(), False
    info = fairy.info
    kept = info.get(_KEPT_CURSOR)
    if kept is None or kept.closed or kept.connection is not fairy.dbapi_connection:
        kept = info[_KEPT_CURSOR] = fairy.cursor()
    return kept, True


class _Context:
    """Stands for SQLAlchemy's execution context in the cursor and error events: listeners may keep
    their own attributes on it between before and after (tracing keeps its span, and ends it in
    `handle_error` when the statement fails), and read how it runs (one statement, not many)."""

    executemany = False
    execute_style = ExecuteStyle.EXECUTE

    def handle_dbapi_exception(self, error: BaseException) -> None:
        """SQLAlchemy's error handling calls this on the context; a dialect's own has nothing here."""


class _Form:
    """A statement compiled for one dialect: its SQL, how parameters become the driver's, and how
    rows come back (the row class and result processors are made at the first rows)."""

    __slots__ = ("sql", "_compiled", "_positions", "_escaped", "_processors", "_row", "_result_types",
                 "_result_processing")

    def __init__(self, compiled: Any, dialect: Dialect):
        self.sql: str = compiled.string
        self._compiled = compiled
        self._positions = tuple(compiled.positiontup) if compiled.positional else None
        self._escaped = dict(compiled.escaped_bind_names) if compiled.escaped_bind_names else None
        self._processors = dict(compiled._bind_processors)  # noqa: SLF001
        self._result_types = [column[3] for column in compiled._result_columns]  # noqa: SLF001
        self._row: Any = None
        self._result_processing: list[Any] | None = None

    def arguments(self, params: Mapping[str, Any]) -> Any:
        # construct_params fills in the values a statement carries itself (`col == "paid"`) and
        # refuses a missing required one, exactly as an execution through SQLAlchemy would.
        values = self._compiled.construct_params(params, escape_names=False)
        processors = self._processors
        if processors:
            for name, process in processors.items():
                if name in values:
                    values[name] = process(values[name])
        if self._positions is not None:
            return tuple(values[name] for name in self._positions)
        if self._escaped:
            return {self._escaped.get(name, name): value for name, value in values.items()}
        return values

    @property
    def shaped(self) -> bool:
        return self._row is not None

    def shape(self, description: Any, dialect: Dialect) -> None:
        """The row class and result processors, from the first answer's columns."""
        types = self._result_types
        processors = [types[i]._cached_result_processor(dialect, column[1]) if i < len(types) else None  # noqa: SLF001
                      for i, column in enumerate(description)]
        self._result_processing = processors if any(processors) else None  # before the row class:
        self._row = _row_class([column[0] for column in description])  # threads share it

    def rows(self, raw: Sequence[Any]) -> list[Any]:
        row_class = self._row
        processing = self._result_processing
        if processing is None:
            return [row_class._make(row) for row in raw]
        return [row_class._make([process(value) if process else value
                                 for process, value in zip(processing, row, strict=True)]) for row in raw]



def _row_class(names: list[str]) -> Any:
    """A tuple with attribute access by column label and `_mapping`, like SQLAlchemy's Row."""
    base = namedtuple("LeanRow", names, rename=True)  # type: ignore[misc]  # noqa: PYI024
    labels = tuple(names)

    class LeanRow(base):
        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(labels, self, strict=True))

    return LeanRow
