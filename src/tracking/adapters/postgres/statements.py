"""SQLAlchemy Core statements, compiled once for asyncpg and run on the driver's connection.

Core keeps the SQL tied to the tables' single definition; running the compiled text on
asyncpg directly skips SQLAlchemy's per-execution work, which measured 3x the cost of the
query itself on the hot paths (authentication, ingest, listing)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_DIALECT = dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, clause: ClauseElement) -> "Statement":
        compiled = clause.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - statements compile to SQL
        return cls(compiled.string, tuple(compiled.positiontup or ()))

    def args(self, **values: Any) -> list[Any]:
        return [values[name] for name in self.names]


class Parameters:
    """Numbered parameters for SQL built from fixed fragments: `p(value)` gives `$n`."""

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


@dataclass(frozen=True, slots=True)
class Keyset:
    """One listing's SQL: a page of `table` in the order of two key columns, after a position.
    Built from fixed fragments, every value a parameter; its shapes are few, so each is
    prepared once per connection and then reused."""

    columns: str
    table: str
    keys: tuple[str, str]

    def page(
        self,
        where: Sequence[tuple[str, Any]],
        *,
        after: tuple[Any, Any] | None,
        descending: bool,
        limit: int,
    ) -> tuple[str, list[Any]]:
        """`where` holds conditions such as `("user_id = {}", value)`; one whose value is
        None is left out."""
        parameter = Parameters()
        conditions = [text.format(parameter(value)) for text, value in where if value is not None]
        first, second = self.keys
        if after is not None:
            beyond = "<" if descending else ">"
            position = f"{parameter(after[0])}, {parameter(after[1])}"
            conditions.append(f"({first}, {second}) {beyond} ({position})")
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT {self.columns} FROM {self.table} "  # noqa: S608 - fixed fragments only
            f"WHERE {' AND '.join(conditions)} "
            f"ORDER BY {first} {direction}, {second} {direction} LIMIT {parameter(limit)}"
        )
        return sql, parameter.values
