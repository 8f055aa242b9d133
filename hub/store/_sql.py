"""Set-membership conditions whose SQL text does not grow with the number of values.

`col IN (:p1, :p2, …)` is new SQL for every count, so PostgreSQL (and psycopg, which parses each new text)
pays again for every batch size. On PostgreSQL more than a few values go as one array parameter (`= ANY(:a)`, and
`(a, b) IN (SELECT unnest(:x), unnest(:y))` for keys of several columns); SQLite keeps `IN`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY

# Up to this many values stay literal `IN` lists: a handful of SQL texts, each cached, and plain equality
# conditions, which PostgreSQL puts into an index condition even before it has statistics for a new table.
_FEW = 8


def one_of(col: Any, values: Iterable[Any], postgres: bool) -> Any:
    """`col` is one of `values`."""
    ordered = sorted(set(values))
    if postgres and len(ordered) > _FEW:
        return col == any_(bindparam(None, ordered, type_=ARRAY(col.type)))
    return col.in_(ordered)


def keys_in(cols: Sequence[Any], keys: Iterable[tuple[Any, ...]], postgres: bool) -> Any:
    """The tuple of `cols` is one of `keys` (each a tuple of values, one per column)."""
    ordered = sorted(set(keys))
    if postgres and len(ordered) > _FEW:
        arrays = [bindparam(None, [k[i] for k in ordered], type_=ARRAY(col.type)) for i, col in enumerate(cols)]
        exact = tuple_(*cols).in_(select(*[func.unnest(a) for a in arrays]))
        # each column's own `= ANY` gives the planner index conditions; the pairs alone it may scan for
        per_column = [col == any_(bindparam(None, sorted({k[i] for k in ordered}), type_=ARRAY(col.type))) for i, col in enumerate(cols)]
        return and_(exact, *per_column)
    return tuple_(*cols).in_(ordered)
