"""The one way to load and fill the project's SQL files (``include/sql/**.sql``).

A SQL file is a Jinja template for the *shape* of a statement and a SQLAlchemy ``text()`` for its
*values*:

- Jinja fills identifiers and structure only — table and column names from the feed contract
  (``mfg_indicators.feeds``), a ``{% for %}`` over columns, a ``{% if dialect == "postgresql" %}``
  where the two engines need different plans, and shared fragments with
  ``{% include "rules/_roster_in_force.sql" %}`` (paths relative to ``include/sql/``). Undefined
  names are errors (``StrictUndefined``).
- Values are never put into the text: they are bind parameters (``:period``) passed to
  :func:`execute` / :func:`query`; a list or tuple value becomes an expanding ``IN :name`` list.
- Comments: ``{# … #}`` is removed by Jinja before the statement is sent — use it for the
  explanation a file starts with (it may contain colons). A ``-- …`` comment is sent as written,
  so it must not contain ``:word`` (SQLAlchemy would read a bind parameter). There is no comment
  stripper: nothing here cuts text, so a ``'--'`` inside a string literal is safe.

API (every reader of include/sql/ but the migration runner goes through it):

    render(name, **context) -> str                  the filled text of include/sql/<name>.sql
    statement(name, params, **context) -> TextClause   render + text() + expanding list parameters
    query(conn, name, params=None, **context) -> list[RowMapping]
    execute(conn, name, params=None, **context) -> CursorResult

``name`` is the path below ``include/sql/`` without ``.sql`` (``"rules/not_in_registry"``).
Jinja was chosen over a ``-- name:`` library (aiosql) because the files need identifiers from the
feed contract and per-dialect variants, which aiosql does not template; Jinja is already a
dependency (the bulletin's HTML template).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .paths import SQL_DIR

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy import Connection, TextClause


@functools.lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(SQL_DIR)), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def render(name: str, **context: Any) -> str:
    """The text of ``include/sql/<name>.sql`` with the Jinja ``context`` filled in."""
    return _env().get_template(f"{name}.sql").render(**context)


def statement(name: str, params: dict[str, Any] | None = None, **context: Any) -> TextClause:
    """A ``text()`` statement of the file; list/tuple values of ``params`` bind as expanding lists."""
    from sqlalchemy import bindparam, text

    stmt = text(render(name, **context))
    names = set(stmt._bindparams)  # noqa: SLF001 - SQLAlchemy's parsed :name list of the text
    expanding = [bindparam(k, expanding=True) for k, v in (params or {}).items()
                 if k in names and isinstance(v, (list, tuple))]
    return stmt.bindparams(*expanding) if expanding else stmt


def _used(stmt: TextClause, params: dict[str, Any] | None) -> dict[str, Any]:
    """The parameters the statement uses (callers may pass a shared dict with more)."""
    names = set(stmt._bindparams)  # noqa: SLF001 - SQLAlchemy's parsed :name list of the text
    missing = names - set(params or {})
    if missing:
        raise KeyError(f"no value for bind parameter(s) {sorted(missing)}")
    return {k: v for k, v in (params or {}).items() if k in names}


def execute(conn: Connection, name: str, params: dict[str, Any] | None = None, **context: Any):
    """Run the file on ``conn`` with ``params``; return the SQLAlchemy result."""
    stmt = statement(name, params, **context)
    return conn.execute(stmt, _used(stmt, params))


def query(conn: Connection, name: str, params: dict[str, Any] | None = None, **context: Any) -> list[Any]:
    """Rows (mappings) of the file run on ``conn`` with ``params``."""
    return list(execute(conn, name, params, **context).mappings())
