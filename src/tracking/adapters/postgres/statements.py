"""SQLAlchemy Core statements, compiled once for asyncpg and run on the driver's connection.

Core keeps the SQL tied to the tables' single definition; running the compiled text on
asyncpg directly skips SQLAlchemy's per-execution work, which measured 3x the cost of the
query itself on the hot paths (authentication, ingest, listing)."""

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
